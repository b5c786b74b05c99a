"""Power over time per domain, from stored samples, thinned for a chart.

A run sampled at 1 Hz for a day has 86,400 samples per domain; a chart needs
a few hundred points. Thinning merges neighbouring samples into buckets and
takes each bucket's power as its energy over its duration, so the area under
the thinned curve is still the run's energy (a mean of powers would not be,
where intervals differ in length).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattwise.store import SampleRow


def timeline(
    samples: Sequence[SampleRow], start_unix_s: float, max_points: int = 600
) -> dict[str, dict[str, list[Any]]]:
    """``{domain: {"t_s": [...], "power_w": [...], "gap": [...]}}``, t from the run's start.

    Each sample's interval runs from the previous sample of its domain (or the
    run's start) to its own time.
    """
    by_domain: dict[str, list[SampleRow]] = {}
    for s in samples:
        by_domain.setdefault(s.domain, []).append(s)
    out: dict[str, dict[str, list[Any]]] = {}
    for domain, rows in by_domain.items():
        size = max(1, -(-len(rows) // max(1, max_points)))  # ceil division
        t_s: list[float] = []
        power: list[float | None] = []
        gap: list[bool] = []
        prev_t = start_unix_s
        for i in range(0, len(rows), size):
            bucket = rows[i : i + size]
            t0, t1 = prev_t, bucket[-1].t_unix_s
            prev_t = t1
            has_gap = any(r.gap for r in bucket)
            dt = t1 - t0
            energy = sum(r.energy_j for r in bucket if not r.gap)
            t_s.append(round(t1 - start_unix_s, 3))
            power.append(None if has_gap or dt <= 0 else energy / dt)
            gap.append(has_gap)
        out[domain] = {"t_s": t_s, "power_w": power, "gap": gap}
    return out
