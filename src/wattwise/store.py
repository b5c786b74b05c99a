"""Deprecated: run records in SQLite moved to ``wattwise.records.store`` and
``wattwise.records.queries``; this path goes in the next release.

Importing it warns with ``DeprecationWarning`` and gives the same objects.
"""
# move_imports: skip (this module is the old path)

from __future__ import annotations

from wattwise._moved import moved

__getattr__ = moved(
    "wattwise.store",
    [
        'wattwise.records.store',
        'wattwise.records.queries',
        'wattwise.records.liveness',
    ],
)
