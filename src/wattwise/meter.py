"""Deprecated: the meter moved to ``wattwise.measure.meter``; this path goes in the next
release.

Importing it warns with ``DeprecationWarning`` and gives the same objects.
"""
# move_imports: skip (this module is the old path)

from __future__ import annotations

from wattwise._moved import moved

__getattr__ = moved(
    "wattwise.meter",
    [
        'wattwise.measure.meter',
        'wattwise.measure.results',
        'wattwise.measure.readings',
        'wattwise.sensors.nvml_share',
    ],
)
