"""Plausibility bounds on the estimate's inputs, each with the reason it sits where it does.

The quantity parser keeps every number finite and within 1e30; these bounds
keep each input within what the thing it measures can be, so that a typo
(1e29 for 1.29, kW for W, a node's power for one device's) is refused with
one line instead of printed as a result. Each bound is generous: an order of
magnitude or more beyond the largest real value, except where physics or a
published survey sets a tighter one (PUE, grid intensity, a board's TDP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
from wattwise.errors import BadInput
from wattwise.estimate._figures import fmt_n


@dataclass(frozen=True)
class Bound:
    """An input's largest accepted value and why (and, where one is set, its smallest)."""

    high: float
    why: str
    low: float = -math.inf  # most inputs are only bounded above (the parser keeps them > 0)
    low_why: str = ""


#: Grid intensity, gCO2eq/kWh.
INTENSITY = Bound(
    MAX_INTENSITY_G_PER_KWH,
    "lignite and coal plants emit about 1,000-1,200 gCO2eq/kWh and no grid averages "
    "more; 2,000 leaves room for any single plant",
)
#: Sequences decoded together.
BATCH = Bound(65_536, "serving engines schedule a few thousand sequences per step at most")
#: Accelerators in one run, or holding one model copy.
DEVICES = Bound(
    1_000_000, "the largest training clusters hold a few hundred thousand accelerators"
)
#: Model parameters (dense or total).
PARAMS = Bound(1e15, "the largest published models have a few trillion parameters")
#: Training tokens (and samples).
TRAIN_TOKENS = Bound(1e16, "the largest published training runs used a few tens of trillions")
#: Tokens of one request (prompt or output) or one training sample.
REQUEST_TOKENS = Bound(
    10_000_000, "the longest published context window is 10 million tokens (Llama 4 Scout)"
)
#: Decoder layers.
LAYERS = Bound(10_000, "the deepest published language models have a few hundred layers")
#: Requests a service answers per day.
REQUESTS_PER_DAY = Bound(
    1e12, "a hundred times the roughly ten billion searches a day of the largest search engine"
)
#: Days a service runs, or a training run's wall-clock days.
DAYS = Bound(36_525, "a century")
#: Accelerator-hours of one training run.
GPU_HOURS = Bound(1e12, "a million devices busy for a century")
#: Service life of a device (whole, or what is left of it). The floor, 0.1 years
#: (about five weeks), is far below any hardware refresh cycle: a smaller value is a
#: unit slip (months or days given as years). A remaining life of 0 (retiring now) is
#: checked against the high end only.
LIFETIME_YEARS = Bound(
    30.0, "accelerators are retired within a decade of their release", low=0.1,
    low_why="no device is bought to serve under about five weeks; less is likely months "
    "or days given as years",
)
#: Embodied carbon of one device, kgCO2eq.
EMBODIED_KG = Bound(
    1e6,
    "a thousand times the largest device figure in wattwise's data, a rack server's "
    "1,000 kgCO2eq; more is likely grams given as kg, or a fleet's figure for one device",
)
#: Embodied energy of one device, kWh: the embodied-carbon bound above made with
#: energy cleaner than any grid's: at 1 gCO2eq/kWh, below the cleanest yearly figure
#: in wattwise's data (CA-MB, 1.3 g/kWh), 1,000,000 kgCO2eq is 1e9 kWh. A larger
#: figure would need more carbon than EMBODIED_KG allows on any grid.
EMBODIED_KWH = Bound(
    EMBODIED_KG.high * 1000.0 / 1.0,
    "the embodied-carbon bound, 1,000,000 kgCO2eq, made at 1 gCO2eq/kWh, below the "
    "cleanest grid in wattwise's data, CA-MB's 1.3 g/kWh; more is likely Wh given as kWh, "
    "or a fleet's figure for one device",
)
#: Power per device, when nothing narrower (a TDP, a server rating) is known.
POWER_W = Bound(
    10_000.0,
    "ten times the largest TDP in wattwise's data (B200, 1,000 W), host share included",
)
#: Memory bandwidth per device, GB/s. The floor is far below any device the
#: estimate models: the slowest in wattwise's data (Apple M1, 68.25 GB/s) has 68
#: times more, so a smaller value is a unit slip (MB/s for GB/s) and would make a
#: decode step take hours.
MEMORY_BW_GB_S = Bound(
    100_000.0, "more than ten times a B200's 8,000 GB/s", low=1.0,
    low_why="the slowest device in wattwise's data, Apple M1, has 68.25 GB/s; less is "
    "likely MB/s given as GB/s",
)
#: Peak TFLOP/s per device (and a training run's achieved TFLOP/s). The floor,
#: 10 GFLOP/s, is 260 times below the slowest device in wattwise's data (Apple M1,
#: 2.6 TFLOP/s fp32): a smaller value is a unit slip (GFLOP/s for TFLOP/s).
PEAK_TFLOPS = Bound(
    100_000.0, "more than ten times a B200's dense fp8 peak", low=0.01,
    low_why="the slowest device in wattwise's data, Apple M1, peaks at 2.6 TFLOP/s fp32; "
    "less is likely GFLOP/s given as TFLOP/s",
)
#: Bytes per weight or per KV-cache element.
BYTES_PER_PARAM = Bound(8.0, "fp64 is 8 bytes")
#: KV cache bytes per token.
KV_BYTES_PER_TOKEN = Bound(
    1e8, "Llama 3.1 405B without grouped-query attention would hold about 8 MB per token"
)


def _past(value: float, bound: float) -> str:
    """``value`` for a line refusing it past ``bound``: as ``fmt_n`` writes it, unless
    that reads as the bound itself (5.0001 is no "5"): then in full."""
    short = fmt_n(value)
    return repr(float(value)) if short == fmt_n(bound) else short


def check(value: float, bound: Bound, what: str, unit: str = "") -> float:
    """``value`` if it is from ``bound.low`` to ``bound.high``; one BadInput line saying why not."""
    u = f" {unit}" if unit else ""
    if value > bound.high:
        raise BadInput(
            f"{what} {_past(value, bound.high)}{u} is more than wattwise accepts: at most "
            f"{fmt_n(bound.high)}{u} ({bound.why})"
        )
    if value < bound.low:
        raise BadInput(
            f"{what} {_past(value, bound.low)}{u} is less than wattwise accepts: at least "
            f"{fmt_n(bound.low)}{u} ({bound.low_why})"
        )
    return value


def check_optional(value: float | None, bound: Bound, what: str, unit: str = "") -> float | None:
    return None if value is None else check(value, bound, what, unit)
