"""Advisor: among candidate models for one task, the least energy per sample above a quality floor.

Each candidate is benchmarked with the same harness settings (or brings a
result it already has); the answer comes with the table that supports it and
says when the winner is not distinguishable from the runner-up at 95 %: a
ratio to the runner-up is stated only when the two intervals separate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise.bench.harness import BenchFailed, BenchResult, benchmark
from wattwise.bench.stats import NO_DIFFERENCE, separated_ratio
from wattwise.errors import BadInput, WattwiseError


@dataclass(frozen=True)
class Candidate:
    """One option: a step (or a model with ``inputs``), or an existing ``BenchResult``.

    ``quality`` is a number (higher is better) or a callable returning one.
    With ``inputs``, ``model_or_step`` is called as ``model(inputs)`` (or
    ``model(**inputs)`` for a dict) and each call counts ``samples`` samples
    (default: the length of ``inputs``' first dimension).
    """

    name: str
    model_or_step: Any
    quality: float | Callable[[], float] | None
    inputs: Any = None
    samples: int | None = None


@dataclass(frozen=True)
class Verdict:
    """A candidate's row in the evidence table."""

    name: str
    quality: float | None
    result: BenchResult | None
    eligible: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "quality": self.quality, "eligible": self.eligible,
                "reason": self.reason,
                "result": self.result.to_dict() if self.result else None}


@dataclass(frozen=True)
class Advice:
    """The recommended candidate (``None`` if none clears the floor) and the evidence."""

    choice: str | None
    quality_floor: float
    rows: tuple[Verdict, ...]
    summary: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "quality_floor": self.quality_floor,
                "summary": self.summary, "notes": list(self.notes),
                "rows": [r.to_dict() for r in self.rows]}

    def __str__(self) -> str:
        lines = [f"{'candidate':<24} {'quality':>9} {'J/sample (95% CI)':>32} "
                 f"{'samples/s':>11}  verdict"]
        for r in self.rows:
            q = "-" if r.quality is None else f"{r.quality:.4g}"
            if r.result is not None:
                e = r.result.energy_j_per_sample
                ej = f"{e.mean:.4g} ({e.low:.4g}-{e.high:.4g}) {r.result.kind[:4]}"
                tp = f"{r.result.throughput.mean:.4g}"
            else:
                ej, tp = "-", "-"
            lines.append(f"{r.name:<24} {q:>9} {ej:>32} {tp:>11}  {r.reason}")
        return "\n".join([*lines, self.summary, *self.notes])


def _quality(c: Candidate) -> float | None:
    q = c.quality
    if q is None:
        return None
    value = q() if callable(q) else q
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"quality must be a finite number, got {value!r}")
    return float(value)


def _step(c: Candidate) -> Callable[[], int]:
    if c.inputs is None:
        if not callable(c.model_or_step):
            raise BadInput(f"{c.name}: model_or_step must be a step, a model with inputs, "
                           "or a BenchResult")
        return c.model_or_step  # type: ignore[no-any-return]
    model, inputs = c.model_or_step, c.inputs
    n = c.samples
    if n is None:
        first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        try:
            n = len(first)
        except TypeError as exc:
            raise BadInput(f"{c.name}: give samples= (inputs have no length)") from exc

    def step() -> int:
        try:
            import torch

            ctx: Any = torch.inference_mode()
        except ImportError:
            import contextlib

            ctx = contextlib.nullcontext()
        with ctx:
            model(**inputs) if isinstance(inputs, dict) else model(inputs)
        return int(n)

    return step


def advise(
    candidates: Sequence[Candidate],
    quality_floor: float,
    *,
    task: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **bench_kwargs: Any,
) -> Advice:
    """Benchmark each candidate and name the least J/sample among those at or above the floor.

    A candidate that fails (its step, its quality metric) is a row with the
    reason; the others go on. ``bench_kwargs`` go to :func:`benchmark` for
    every candidate alike (repetitions, calls_per_rep, sensors, db...).
    """
    if not candidates:
        raise BadInput("no candidates to compare")
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise BadInput(f"candidate names must be unique, got {names}")
    if not math.isfinite(quality_floor):
        raise BadInput(f"quality floor must be a finite number, got {quality_floor!r}")
    rows: list[Verdict] = []
    for i, c in enumerate(candidates):
        if progress is not None:
            progress(c.name, i, len(candidates))
        try:
            q = _quality(c)
        except Exception as exc:  # noqa: BLE001 - one candidate's fault is its own row
            rows.append(Verdict(c.name, None, None, False,
                                f"failed: quality metric: {type(exc).__name__}: {exc}"))
            continue
        if isinstance(c.model_or_step, BenchResult):
            res: BenchResult | None = c.model_or_step
        else:
            try:
                res = benchmark(_step(c), name=c.name, task=task, **bench_kwargs)
            except (BenchFailed, BadInput) as exc:
                rows.append(Verdict(c.name, q, None, False, f"failed: {exc}"))
                continue
            except WattwiseError as exc:
                rows.append(Verdict(c.name, q, None, False, f"failed: {exc}"))
                continue
        if q is None:
            rows.append(Verdict(c.name, q, res, False, "no quality figure"))
        elif q < quality_floor:
            rows.append(Verdict(c.name, q, res, False, f"below floor {quality_floor:g}"))
        else:
            rows.append(Verdict(c.name, q, res, True, "meets floor"))
    return _decide(rows, quality_floor)


def _decide(rows: list[Verdict], floor: float) -> Advice:
    ok = sorted((r for r in rows if r.eligible and r.result is not None),
                key=lambda r: r.result.energy_j_per_sample.mean)  # type: ignore[union-attr]
    notes: list[str] = []
    results = [r.result for r in rows if r.result is not None]
    if len({r.machine for r in results}) > 1:
        notes.append("results come from different machines: energy figures are not comparable")
    kinds = {r.kind for r in results}
    if kinds - {"measured"}:
        notes.append(f"energy kinds: {', '.join(sorted(kinds))} "
                     "(estimated figures come from a power model)")
    if not ok:
        return Advice(None, floor, tuple(rows),
                      f"no candidate reaches the quality floor {floor:g}", tuple(notes))
    best = ok[0]
    e = best.result.energy_j_per_sample  # type: ignore[union-attr]
    summary = (f"choose {best.name}: {e.mean:.4g} J/sample "
               f"({best.result.kind}), quality {best.quality:.4g} >= {floor:g}")  # type: ignore[union-attr]
    final = []
    for r in rows:
        if r is best:
            r = Verdict(r.name, r.quality, r.result, True, "chosen: least J/sample above floor")
        final.append(r)
    if len(ok) > 1:
        nxt = ok[1]
        e2 = nxt.result.energy_j_per_sample  # type: ignore[union-attr]
        ratio = separated_ratio(e2, e)
        if ratio is not None:
            summary += f"; {ratio:.2f}x less than the next, {nxt.name}"
        else:
            summary += f"; against the next, {nxt.name}: {NO_DIFFERENCE}"
            notes.append(f"the 95 % intervals of {best.name} and {nxt.name} overlap (or a "
                         "side has one repetition): the difference may be noise")
    return Advice(best.name, floor, tuple(final), summary, tuple(notes))
