"""Sampling intervals wattwise accepts, in one light module the CLI reads without
loading the meter."""

from __future__ import annotations

#: Sampling intervals a meter accepts, seconds. The shortest is ``wattwise bench
#: --interval``'s (benchmarks sample 1 ms steps); the longest is ``wattwise run
#: --interval``'s: totals are exact whatever the interval, and an hour is already far
#: coarser than any grid-intensity series.
MIN_INTERVAL_S = 0.001
MAX_INTERVAL_S = 3600.0
#: The shortest interval of a run whose samples are recorded (``wattwise run
#: --interval`` and ``track()``): below 10 ms wattwise's own reads and writes would
#: cost more than they show (NVML's power reading updates every 20-100 ms).
MIN_RECORDED_INTERVAL_S = 0.01
