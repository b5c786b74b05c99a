"""Energy and carbon of AI jobs before they run, from first principles.

``train(...)`` estimates a training run, ``infer(...)`` a served model; both
return frozen results in which every figure carries a low/high range and the
inputs it was derived from, and ``assumptions`` lists each default used.
``estimate_layout(...)`` splits a training step over a parallel layout (data,
tensor, pipeline) and ``rank_layouts(...)`` orders a job's layouts by energy.
"""

from __future__ import annotations

from wattwise.estimate._figures import Figure
from wattwise.estimate.infer import InferenceEstimate, infer
from wattwise.estimate.layout import (
    Layout,
    LayoutEstimate,
    estimate_layout,
    parse_layout,
    rank_layouts,
)
from wattwise.estimate.quantities import parse_quantity
from wattwise.estimate.train import TrainingEstimate, train

__all__ = [
    "Figure",
    "InferenceEstimate",
    "Layout",
    "LayoutEstimate",
    "TrainingEstimate",
    "estimate_layout",
    "infer",
    "parse_layout",
    "parse_quantity",
    "rank_layouts",
    "train",
]
