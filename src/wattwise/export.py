"""Deprecated: the exports (JSON, CSV, CodeCarbon) moved to
``wattwise.records.export_json``, ``wattwise.records.export_csv``,
``wattwise.records.export_codecarbon``, ``wattwise.records.export_values``; this path
goes in the next release.

Importing it warns with ``DeprecationWarning`` and gives the same objects.
"""
# move_imports: skip (this module is the old path)

from __future__ import annotations

from wattwise._moved import moved

__getattr__ = moved(
    "wattwise.export",
    [
        'wattwise.records.export_json',
        'wattwise.records.export_csv',
        'wattwise.records.export_codecarbon',
        'wattwise.records.export_values',
    ],
)
