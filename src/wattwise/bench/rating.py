"""Energy rating: 1 to 5 stars within a task, from J/sample among comparable results.

Like the AI Energy Score (which rates models of one task against each other,
on one GPU type, by GPU energy per 1,000 queries), a rating only means
something among peers: results of the same task, on the same machine, measured
the same way (``measured`` counters are never ranked against ``estimated``
power models). The bands are the quintiles of the peers' mean J/sample, and
there are no stars at all below ``MIN_PEERS`` comparable results; see
docs/rating.md for the exact rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.bench.harness import SUMMARY_WINDOW, BenchResult
from wattwise.errors import BadInput

#: Smallest reference population that earns stars: the rated result and at least
#: four other comparable results, one per quintile band. Below it there are no stars.
MIN_PEERS = 5


@dataclass(frozen=True)
class Rating:
    """Stars (5 = least energy per sample), or None, and the population they rest on.

    ``stars`` is None when the reference population (``n_peers`` comparable
    results, the rated one included) is smaller than ``min_peers``: a rating
    against too few results says nothing, so none is given.
    """

    stars: int | None
    task: str
    j_per_sample: float
    #: Comparable results the rating rests on, the rated one included.
    n_peers: int
    #: Upper J/sample edges of the 5-, 4-, 3- and 2-star bands (20/40/60/80 % quantiles);
    #: None when there are too few results to rate.
    edges_j_per_sample: tuple[float, float, float, float] | None
    basis: str
    min_peers: int = MIN_PEERS

    @property
    def n_others(self) -> int:
        """Comparable results other than the rated one."""
        return self.n_peers - 1

    @property
    def rated(self) -> bool:
        return self.stars is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stars": self.stars,
            "task": self.task,
            "j_per_sample": self.j_per_sample,
            "n_peers": self.n_peers,
            "n_others": self.n_others,
            "min_peers": self.min_peers,
            "rated": self.rated,
            "edges_j_per_sample": (None if self.edges_j_per_sample is None
                                   else list(self.edges_j_per_sample)),
            "basis": self.basis,
        }

    def __str__(self) -> str:
        if self.stars is None:
            return f"no stars: {self.basis}"
        stars = "★" * self.stars + "☆" * (5 - self.stars)
        return f"{stars} {self.stars}/5: {self.basis}"


def _kind_class(kind: str) -> str:
    return "measured" if kind == "measured" else "estimated"


def comparable(a: BenchResult, b: BenchResult) -> bool:
    """Same task, same machine and same kind of measurement: only these are ranked together."""
    return (a.task == b.task and a.machine == b.machine
            and _kind_class(a.kind) == _kind_class(b.kind))


def stars_for(value: float, peers: Sequence[float]) -> tuple[int, tuple[float, ...]]:
    """Stars of ``value`` among ``peers`` (which should include it), and the band edges.

    5 stars at or below the 20 % quantile of the peers' J/sample, 4 up to the
    40 % quantile, 3 up to 60 %, 2 up to 80 %, 1 above. Quantiles use linear
    interpolation between order statistics (numpy's default).
    """
    import numpy as np

    if not peers:
        raise BadInput("no results to rate against")
    edges = tuple(float(e) for e in np.quantile(np.asarray(peers, float), [0.2, 0.4, 0.6, 0.8]))
    above = sum(1 for e in edges if value > e)
    return 5 - above, edges


def _latest_per_name(results: Sequence[BenchResult]) -> list[BenchResult]:
    latest: dict[str, BenchResult] = {}
    for r in results:
        cur = latest.get(r.name)
        if cur is None or (r.started_unix_s or 0) >= (cur.started_unix_s or 0):
            latest[r.name] = r
    return list(latest.values())


def rate(
    result: BenchResult,
    peers: Sequence[BenchResult] | None = None,
    *,
    db: str | Path | None = None,
    min_peers: int = MIN_PEERS,
) -> Rating:
    """Rate ``result`` against ``peers`` (default: every stored result in ``db``).

    Only comparable peers count, and each workload name counts once (its
    latest result, with ``result`` itself standing for its own name), so
    benchmarking one model ten times does not crowd the bands. With fewer than
    ``min_peers`` comparable results (``result`` included) there are no stars:
    ``Rating.stars`` is None and ``basis`` says how many results there were.
    """
    if not result.task:
        raise BadInput(f"{result.name}: a rating needs a task (benchmark with task=...)")
    if isinstance(min_peers, bool) or not isinstance(min_peers, int) or min_peers < 2:
        raise BadInput(f"min_peers must be a whole number >= 2, got {min_peers!r}")
    pool = stored_results(db) if peers is None else list(peers)
    others = _latest_per_name(
        [p for p in pool if comparable(p, result) and p.name != result.name])
    group = [*others, result]
    n_others = len(others)
    population = (
        f"rated against {n_others} other {'stored ' if peers is None else ''}"
        f"result{'s' if n_others != 1 else ''} of task {result.task!r} "
        f"on {result.machine or 'this machine'} ({_kind_class(result.kind)} energy)"
    )
    if len(group) < min_peers:
        need = min_peers - 1
        return Rating(None, result.task, result.energy_j_per_sample.mean, len(group), None,
                      f"{population}: too few to rate (need at least {need} "
                      f"other{'s' if need != 1 else ''})", min_peers)
    values = [p.energy_j_per_sample.mean for p in group]
    stars, edges = stars_for(result.energy_j_per_sample.mean, values)
    basis = f"J/sample band among {len(group)} results ({population})"
    return Rating(stars, result.task, result.energy_j_per_sample.mean, len(group),
                  edges, basis, min_peers)  # type: ignore[arg-type]


def stored_results(db: str | Path | None = None, *, task: str | None = None,
                   limit: int = 10_000) -> list[BenchResult]:
    """Every benchmark result kept in the run-record database (optionally of one task)."""
    from wattwise.records.store import Store

    store = Store(db)
    out: list[BenchResult] = []
    for run in store.list_runs(limit):
        if "bench" not in (run.tags or {}):
            continue
        if task is not None and run.tags.get("task") != task:
            continue
        for w in store.windows(run.id):
            if w.get("name") == SUMMARY_WINDOW and isinstance(w.get("bench"), dict):
                out.append(BenchResult.from_dict(w["bench"]))
    return out
