"""Deprecated: `track` and `Run` moved to ``wattwise.measure.tracking``,
``wattwise.measure.host``; this path goes in the next release.

Importing it warns with ``DeprecationWarning`` and gives the same objects.
"""
# move_imports: skip (this module is the old path)

from __future__ import annotations

from wattwise._moved import moved

__getattr__ = moved(
    "wattwise.tracking",
    [
        'wattwise.measure.tracking',
        'wattwise.measure.host',
        'wattwise.measure.run_options',
        'wattwise.measure.run_steps',
        'wattwise.measure.meter',
        'wattwise.carbon.accounting',
        'wattwise.carbon.repricing',
    ],
)
