"""Energy and carbon of AI jobs before they run, from first principles.

``train(...)`` estimates a training run, ``infer(...)`` a served model; both
return frozen results in which every figure carries a low/high range and the
inputs it was derived from, and ``assumptions`` lists each default used.
"""

from __future__ import annotations

from wattwise.estimate._figures import Figure
from wattwise.estimate.infer import InferenceEstimate, infer
from wattwise.estimate.quantities import parse_quantity
from wattwise.estimate.train import TrainingEstimate, train

__all__ = [
    "Figure",
    "InferenceEstimate",
    "TrainingEstimate",
    "infer",
    "parse_quantity",
    "train",
]
