"""Energy rating: 1 to 5 stars within a task, from J/sample among comparable results.

Like the AI Energy Score (which rates models of one task against each other,
on one GPU type, by GPU energy per 1,000 queries), a rating only means
something among peers: results of the same task, on the same machine, measured
the same way (``measured`` counters are never ranked against ``estimated``
power models). The bands are the quintiles of the peers' mean J/sample, and
there are no stars at all below ``MIN_PEERS`` comparable results.

A result whose 95 % interval of J/sample is too wide to rank is not rated and
counts in no one's bands (``interval_problem``): its interval's high is more
than ``MAX_INTERVAL_RATIO`` (10) times its low, or reaches 0, or is missing or
does not hold its mean. Such an interval spans more than a decade, wider than
the quintile bands of most tasks, so its stars would be chance (a stored
result with 3e-28 to 8e27 J/sample, from a few noisy repetitions or a damaged
record, would otherwise get some). A result of one repetition has no interval
and is rated on its mean.

``compress`` and ``tune`` once filed the built-ins' variants under the
built-in's name (task ``digits-mlp``) instead of its suite task
(``image-classification/digits``); ``filed_task`` reads those records under
the suite task, so a model's plain result and its variants are rated together.
Stored records are never rewritten. See docs/rating.md for the exact rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wattwise.bench.harness import BenchResult
from wattwise.errors import BadInput

#: Smallest reference population that earns stars: the rated result and at least
#: four other comparable results, one per quintile band. Below it there are no stars.
MIN_PEERS = 5

#: Widest 95 % interval of J/sample (its high over its low) a rated result may have: a
#: result whose interval spans more than this factor (a decade) is not rated, and is
#: left out of the bands of the results it is compared with.
MAX_INTERVAL_RATIO = 10.0

#: The suite task of each built-in, for results that ``compress`` and ``tune`` stored
#: under the built-in's name (``digits-mlp:int8-dynamic``, ``tune-digits-mlp:...``)
#: before they were filed under the suite task. Read only: records keep what they hold.
LEGACY_TASKS = {"digits-mlp": "image-classification/digits",
                "minilm-embed": "sentence-embedding"}


@dataclass(frozen=True)
class Rating:
    """Stars (5 = least energy per sample), or None, and the population they rest on.

    ``stars`` is None when the reference population (``n_peers`` comparable
    results, the rated one included) is smaller than ``min_peers``: a rating
    against too few results says nothing, so none is given. It is None too when
    the rated result's 95 % interval is too wide to rank: ``too_wide`` says why.
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
    #: Why the rated result's interval is too wide to rank (``interval_problem``), if it is.
    too_wide: str | None = None
    #: Comparable results left out of the bands because their intervals are too wide.
    n_too_wide: int = 0

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
            "too_wide": self.too_wide,
            "n_too_wide": self.n_too_wide,
            "max_interval_ratio": MAX_INTERVAL_RATIO,
        }

    def __str__(self) -> str:
        if self.stars is None:
            return f"no stars: {self.basis}"
        stars = "★" * self.stars + "☆" * (5 - self.stars)
        return f"{stars} {self.stars}/5: {self.basis}"


def _kind_class(kind: str) -> str:
    return "measured" if kind == "measured" else "estimated"


def filed_task(task: str | None, name: str) -> str | None:
    """The task a result of ``name`` stored under ``task`` is rated in.

    A built-in's compression variant or tuning point stored under the built-in's
    name (``digits-mlp:int8-dynamic`` with task ``digits-mlp``) is read under the
    built-in's suite task (``LEGACY_TASKS``); any other task is its own.
    """
    if not isinstance(task, str) or task not in LEGACY_TASKS or not isinstance(name, str):
        return task
    if name.startswith((f"{task}:", f"tune-{task}:")):
        return LEGACY_TASKS[task]
    return task


def asked_task(task: str, filed: Iterable[str | None]) -> str:
    """The task a filter for ``task`` means: itself where a result is filed under it
    (a user's own benchmark stored with ``--task digits-mlp``), else the suite task of
    the built-in it names (``LEGACY_TASKS``). Mapped always, such a result was listed
    under its task and never found by its filter."""
    return task if task in set(filed) else LEGACY_TASKS.get(task, task)


def as_filed(result: BenchResult) -> BenchResult:
    """``result`` under the task it is rated in (``filed_task``); the record is unchanged."""
    task = filed_task(result.task, result.name)
    return result if task == result.task else replace(result, task=task)


def interval_problem(energy: Any) -> str | None:
    """Why the 95 % interval of J/sample ``energy`` (a ``Stat``) is too wide to rank, or None.

    Too wide: its high is more than ``MAX_INTERVAL_RATIO`` times its low, or its low
    is 0 or less (the ratio is unbounded), or it is missing or does not hold its mean
    (a damaged record). One repetition (``n`` < 2) has no interval and passes.
    """
    def num(x: Any) -> float | None:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            return None
        try:
            v = float(x)
        except OverflowError:
            return None
        return v if math.isfinite(v) else None

    mean, low, high = (num(getattr(energy, k, None)) for k in ("mean", "low", "high"))
    n = getattr(energy, "n", None)
    if mean is None:
        return "its J/sample is not a number"
    if isinstance(n, int) and not isinstance(n, bool) and n < 2:
        return None
    if low is None or high is None:
        return "its 95 % interval of J/sample is missing: too wide to rank"
    slack = 1e-9 * max(abs(mean), 1e-300)
    if low > mean + slack or high < mean - slack:
        return (f"its 95 % interval of J/sample ({low:.3g} to {high:.3g}) does not hold "
                f"its mean {mean:.3g}")
    if low <= 0:
        return (f"its 95 % interval of J/sample ({low:.3g} to {high:.3g}) reaches 0: "
                f"too wide to rank (at most {MAX_INTERVAL_RATIO:g}x from low to high)")
    ratio = high / low
    if ratio > MAX_INTERVAL_RATIO:
        return (f"its 95 % interval of J/sample ({low:.3g} to {high:.3g}) spans "
                f"{ratio:.3g}x: too wide to rank (at most {MAX_INTERVAL_RATIO:g}x "
                "from low to high)")
    return None


def comparable(a: BenchResult, b: BenchResult) -> bool:
    """Same task, same machine and same kind of measurement: only these are ranked together.

    Tasks are compared as filed (``filed_task``).
    """
    return (filed_task(a.task, a.name) == filed_task(b.task, b.name)
            and a.machine == b.machine and _kind_class(a.kind) == _kind_class(b.kind))


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
    """Each name's latest result; of two started at once, the first given (stored
    results come newest first by their run's start, then the one stored last: the
    leaderboard takes the same)."""
    latest: dict[str, BenchResult] = {}
    for r in results:
        cur = latest.get(r.name)
        if cur is None or (r.started_unix_s or 0) > (cur.started_unix_s or 0):
            latest[r.name] = r
    return list(latest.values())


def shown_instead(result: BenchResult, pool: Sequence[BenchResult]) -> BenchResult | None:
    """The stored result of ``result``'s name (``pool``: stored results) that a name's
    latest is taken to be in ``result``'s place (the leaderboard shows it, and ``rate``
    counts it for that name): a comparable one of another run whose start is later (a
    clock set back, or results merged from another database), else None."""
    result = as_filed(result)
    mine = result.started_unix_s or 0
    later = [p for p in pool if p.name == result.name and comparable(p, result)
             and p.run_id != result.run_id and (p.started_unix_s or 0) > mine]
    return _latest_per_name(later)[0] if later else None


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
    benchmarking one model ten times does not crowd the bands. A peer whose
    interval is too wide to rank (``interval_problem``) is left out, and
    ``result`` itself, if its interval is too wide, gets no stars
    (``Rating.too_wide`` and ``basis`` say why). With fewer than ``min_peers``
    comparable results (``result`` included) there are no stars:
    ``Rating.stars`` is None and ``basis`` says how many results there were.
    """
    result = as_filed(result)
    if not result.task:
        raise BadInput(f"{result.name}: a rating needs a task (benchmark with task=...)")
    if isinstance(min_peers, bool) or not isinstance(min_peers, int) or min_peers < 2:
        raise BadInput(f"min_peers must be a whole number >= 2, got {min_peers!r}")
    pool = stored_results(db) if peers is None else list(peers)
    latest = _latest_per_name(
        [p for p in pool if comparable(p, result) and p.name != result.name])
    others = [p for p in latest if interval_problem(p.energy_j_per_sample) is None]
    n_wide = len(latest) - len(others)
    group = [*others, result]
    n_others = len(others)
    population = (
        f"rated against {n_others} other {'stored ' if peers is None else ''}"
        f"result{'s' if n_others != 1 else ''} of task {result.task!r} "
        f"on {result.machine or 'this machine'} ({_kind_class(result.kind)} energy)"
        + (f"; {n_wide} left out, their 95 % intervals too wide to rank" if n_wide else "")
    )
    mean = result.energy_j_per_sample.mean
    wide = interval_problem(result.energy_j_per_sample)
    need = min_peers - 1
    few = (f"{population}: too few to rate (need at least {need} "
           f"other{'s' if need != 1 else ''})") if len(group) < min_peers else None
    if wide is not None or few is not None:
        basis = "; ".join(x for x in (wide, few) if x is not None)
        return Rating(None, result.task, mean, len(group), None, basis, min_peers, wide,
                      n_wide)
    values = [p.energy_j_per_sample.mean for p in group]
    stars, edges = stars_for(mean, values)
    basis = f"J/sample band among {len(group)} results ({population})"
    return Rating(stars, result.task, mean, len(group),
                  edges, basis, min_peers, None, n_wide)  # type: ignore[arg-type]


def stored_results(db: str | Path | None = None, *, task: str | None = None,
                   limit: int = 10_000) -> list[BenchResult]:
    """The ``limit`` newest benchmark results kept in the run-record database (optionally
    of one task), each under the task it is rated in (``as_filed``; a task in
    ``LEGACY_TASKS`` given as ``task`` means its suite task), newest first: those the
    dashboard's leaderboard ranks (``stored.result_of`` leaves out a damaged record)."""
    from wattwise.bench.stored import result_of, stored_rows
    from wattwise.records.store import Store, default_db_path

    # read only: a reader never creates, migrates or changes the file; none yet, none kept
    path = Path(db).expanduser() if db is not None else default_db_path()
    if not path.exists():
        return []
    with Store(path, readonly=True) as store:
        rows = stored_rows(store._read, limit)
    found = [as_filed(r) for r in map(result_of, rows) if r is not None]
    want = None if task is None else asked_task(task, (r.task for r in found))
    return [r for r in found if want is None or r.task == want]
