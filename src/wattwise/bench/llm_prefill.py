"""Prefill energy where one prefill is shorter than its sensor can resolve.

NVML's energy counter moves every 100 ms (the H200 and H100 recordings in the
test data show it): a prefill of 30 ms reads 0 J, or one whole update (~70 J at
700 W), depending on where the update falls. A real H200 running
``smollm2-135m`` gave "prefill J per batch 0 (0-0)" that way. So where a batch
size's prefill windows last under ``LOOP_RESOLUTIONS`` times the coarsest
sensor's resolution, the prompts' forward pass (with its first token, synced, as
in a generation) is run again back to back in one window per repetition, enough
times to fill that span; the window's power times each prefill's own duration is
the prefill figure, within about one counter step in ``LOOP_RESOLUTIONS`` (5 %). The
generation's own energy (its windows, together, long enough to read) is kept as
it was: its decode figure is that energy less the looped prefill, so prefill +
decode + drain still add up to each response's energy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wattwise.bench._deps import need

__all__ = ["LOOP_RESOLUTIONS", "MAX_LOOP", "loop_count", "prefill_loop"]

#: A looped prefill window spans this many of its sensor's resolution steps.
LOOP_RESOLUTIONS = 20
#: The most prefills in one loop (a prefill of 0.1 ms on a 100 ms sensor needs 20,000).
MAX_LOOP = 5000
#: Name of the loop's window within a repetition (``b8/rep-0/prefill-loop``).
LOOP_PHASE = "prefill-loop"


def loop_count(mean_prefill_s: float, resolution_s: float) -> int:
    """Prefills to run back to back, or 0 where one prefill is long enough to read alone."""
    if resolution_s <= 0 or mean_prefill_s >= 10 * resolution_s:
        return 0
    span = LOOP_RESOLUTIONS * resolution_s
    if mean_prefill_s <= 0:
        return MAX_LOOP
    return max(2, min(MAX_LOOP, math.ceil(span / mean_prefill_s)))


def prefill_loop(model: Any, ids: Any, count: int, windows: Any, sync: Callable[[], object],
                 forward: Callable[[Any, Any], Any]) -> Any:
    """``count`` prefills of ``ids`` in one window (``windows.begin/end(LOOP_PHASE)``),
    which it returns (its duration is the window's). ``forward(model, ids)`` is one
    prefill up to its first token; each is synced, as a generation syncs to read it."""
    torch = need("torch")
    with torch.inference_mode():
        windows.begin(LOOP_PHASE)
        for _ in range(count):
            forward(model, ids)
            sync()
        return windows.end(LOOP_PHASE)
