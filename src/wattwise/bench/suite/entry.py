"""What one suite workload is: how to build it, run a batch of it and judge its output.

Its own module so the workloads (``digits``, ``minilm``, ``hf``, ``user``) can name it
without importing the suite's registry, which imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
