"""``wattwise report`` of a run with a summary prices it from sums taken inside SQLite
(``carbon.summary_sums.summary_intervals``), reading one by one only the samples its measured
window's edges cut: a finished run of a million samples took 25 s and a gigabyte.

Every figure and note must be the one the samples priced one by one give (the path
``report`` took before, restored here by patching): a yearly average, a trace of
15-minute steps, a clean-supply profile, market-based instruments, damaged samples
named by their place among all samples (gaps too), gaps with energy, a domain not
counted, and windows whose edges fall between samples, on them, and cut samples whose
energy over power reaches far back.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise.carbon.partial as partial_module
import wattwise.carbon.summary_sums as summary_module
from tests.carbon.test_partial_sql import START, _lost_run, _same
from wattwise.carbon.repricing import reprice_options
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _finished(tmp: Path, *, t0: float, t1: float, energy_j: Any = 5000.0,
              **kw: Any) -> tuple[Path, int]:
    """``_lost_run``'s run given a summary whose measured window is ``[t0, t1]``, with a
    gap that holds energy and samples whose energy over power reaches far back."""
    db, rid = _lost_run(tmp, **kw)
    with sqlite3.connect(db) as conn:
        (raw,) = conn.execute("SELECT host_json FROM runs WHERE id = ?", (rid,)).fetchone()
        started = json.loads(raw)["carbon_options"]
        rows = [  # run, t, domain, energy, power, low, high, gap
            (rid, START + 400.5, "gpu:0", 30.0, 6.0, 25.0, 35.0, 1),  # a gap with energy
            (rid, START + 700.25, "cpu:package-0", 50.0, 0.01, 40.0, 60.0, 0),  # reaches back
            (rid, t1 + 3.0, "gpu:0", 70.0, 0.001, 60.0, 80.0, 0),  # after t1, reaches back
            (rid, t0 + 0.0004, "gpu:0", 1.0, 2000.0, 0.9, 1.1, 0),  # just after t0
            # at t0 without power: it begins at the domain's read before it, so on a read
            # at t0 it is kept whole (a point at t0), else left out
            (rid, t0, "gpu:0", 5.0, 0.0, 4.0, 6.0, 0),
        ]
        conn.executemany("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w,"
                         " low_j, high_j, gap) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        summary = {"kind": "estimated", "energy_j": energy_j, "low_j": 4000.0,
                   "high_j": 6500.0, "start_unix_s": t0, "end_unix_s": t1,
                   "duration_s": t1 - t0, "carbon_options": started}
        conn.execute("UPDATE runs SET summary_json = ?, status = 'finished', ended_unix_s = ?"
                     " WHERE id = ?", (json.dumps(summary), t1, rid))
    return db, rid


def _report(db: Path, rid: int, *args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json", *args])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def _both(db: Path, rid: int, monkeypatch: pytest.MonkeyPatch, *args: str
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report from every sample (as before) and from sums, which must not read the
    samples one by one."""
    real = summary_module.summary_intervals
    with monkeypatch.context() as m:
        m.setattr(summary_module, "summary_intervals", lambda *a, **k: None)
        slow = _report(db, rid, *args)
    taken: list[Any] = []

    def spy(*a: Any, **k: Any) -> Any:
        taken.append(real(*a, **k))
        return taken[-1]

    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    with monkeypatch.context() as m:
        m.setattr(summary_module, "summary_intervals", spy)
        m.setattr(Store, "samples", refused)
        fast = _report(db, rid, *args)
    assert taken and taken[0] is not None  # the sums priced it
    return slow, fast


CASES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "yearly": ({}, ()),
    "trace": ({"trace": True}, ()),
    "trace-and-profile": ({"trace": True, "profile": True}, ()),
    "clean-profile-given": ({"trace": True}, ("--clean-profile", "PROFILE")),
    "market": ({}, ("--renewable-share", "0.4", "--contract-intensity", "35")),
    "damaged": ({"trace": True, "profile": True, "damaged": True}, ()),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("edges", ["between", "on-samples"])
def test_sums_price_a_finished_run_as_its_samples_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, edges: str
) -> None:
    kw, args = CASES[case]
    # between samples, or on a counted domain's read times (gpu:0 reads every 7.3 s
    # from START - 2): a sample at t0 is left out, one at t1 kept whole
    t0, t1 = ((START + 1.0, START + 1500.0) if edges == "between"
              else (START - 2.0 + 7.3 * 3, START - 2.0 + 7.3 * 200))
    db, rid = _finished(tmp_path, t0=t0, t1=t1, **kw)
    if "PROFILE" in args:
        path = tmp_path / "given.csv"
        hour = int(START // 3600) * 3600
        path.write_text("time,clean_kwh\n" + "".join(
            f"{_iso(hour + 1800 * i)},0.0001\n" for i in range(-2, 8)), encoding="utf-8")
        args = tuple(str(path) if a == "PROFILE" else a for a in args)
    slow, fast = _both(db, rid, monkeypatch, *args)
    _same(slow, fast)
    em = fast["emissions"]
    assert em["emissions_g"] > 0 and fast["energy_j"] == pytest.approx(5000.0, rel=1e-9)
    if case == "damaged":
        said = [n for n in em["notes"] if "stored value(s) are not usable" in n]
        assert said and "samples[" in said[0]
    if case == "trace":
        assert em["source"].startswith("trace:")
    if case in ("trace-and-profile", "clean-profile-given"):
        assert fast["hourly_matching"]["steps"] >= 2


def _iso(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_a_stored_total_that_is_not_a_number_is_said_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, rid = _finished(tmp_path, t0=START + 1.0, t1=START + 1500.0, energy_j="lots",
                        trace=True, damaged=True)
    slow, fast = _both(db, rid, monkeypatch)
    _same(slow, fast)
    assert any("not" in n for n in fast["emissions"]["notes"])


def test_the_first_sample_after_t0_without_energy_begins_at_the_one_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sample with no energy covers the time since its domain's previous read, which
    lies before t0: it is cut there, and the next one's interval begins at it."""
    t0, t1 = START + 1.0, START + 1500.0
    db, rid = _finished(tmp_path, t0=t0, t1=t1, trace=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE samples SET energy_j = 0.0, power_w = 0.0 WHERE rowid = (SELECT"
                     " rowid FROM samples WHERE run_id = ? AND domain = 'cpu:package-0' AND"
                     " t_unix_s > ? ORDER BY t_unix_s LIMIT 1)", (rid, t0))
    slow, fast = _both(db, rid, monkeypatch)
    _same(slow, fast)


def test_many_damaged_times_at_an_edge_are_priced_from_every_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More samples at an edge than are read one by one: the samples price it, the same."""
    t0, t1 = START + 1.0, START + 1500.0
    db, rid = _finished(tmp_path, t0=t0, t1=t1)
    monkeypatch.setattr(summary_module, "EDGE_READ_LIMIT", 3)
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        pricing = reprice_options(rec.summary)
        got = summary_module.summary_intervals(store, rec, {"gpu:0", "cpu:package-0"}, t0, t1,
                                               5000.0, pricing)
    assert got is None  # gpu:0 has more than 3 samples after t1
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output


def test_a_run_without_a_window_is_priced_from_its_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, rid = _finished(tmp_path, t0=START + 1.0, t1=START + 1500.0)
    with sqlite3.connect(db) as conn:  # a damaged end: no window to clip to
        (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
        summary = json.loads(raw)
        summary["end_unix_s"] = "later"
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    called: list[Any] = []
    monkeypatch.setattr(summary_module, "summary_intervals",
                        lambda *a, **k: called.append(1))
    assert _report(db, rid)["emissions"]["emissions_g"] > 0
    assert not called


@pytest.mark.parametrize("kw", [{}, {"trace": True}, {"trace": True, "profile": True,
                                                      "damaged": True}])
def test_the_page_of_a_run_without_a_summary_draws_what_its_samples_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any]
) -> None:
    """``report --html`` of a lost run prices it from sums too; the page's figures and its
    intensity curve (time-weighted per bucket, ``server.timeline.intensity_buckets``) are
    those of its samples priced one by one."""
    import wattwise.server.report as report_module
    from wattwise.carbon.sample_energy import partial_intervals
    from wattwise.server.timeline import intensity_buckets

    db, rid = _lost_run(tmp_path, **kw)
    seen: list[dict[str, Any]] = []
    real = report_module.run_report_html

    def page(store: Any, ref: Any, *a: Any, emissions: Any = None, **k: Any) -> str:
        seen.append(emissions)
        return str(real(store, ref, *a, emissions=emissions, **k))

    monkeypatch.setattr(report_module, "run_report_html", page)

    def one_by_one(store: Any, record: Any, part: Any, pricing: Any,
                   notes: list[str] | None = None, profile: Any = None, **_: Any) -> Any:
        return partial_intervals(record, store.samples(record.id), part, notes=notes)

    with monkeypatch.context() as m:
        m.setattr(partial_module, "stored_intervals", one_by_one)
        slow = _report(db, rid, "--html", str(tmp_path / "slow.html"))

    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    with monkeypatch.context() as m:
        m.setattr(Store, "samples", refused)
        fast = _report(db, rid, "--html", str(tmp_path / "fast.html"))
    slow.pop("html"), fast.pop("html")
    _same(slow, fast)
    old, new = seen
    assert len(new["intensity_used"]) < len(old["intensity_used"])  # cells, not samples
    _same({k: v for k, v in old.items() if k != "intensity_used"},
          {k: v for k, v in new.items() if k != "intensity_used"})
    start = min(x[0] for x in old["intensity_used"])
    span = max(x[1] for x in old["intensity_used"]) - start
    for count in (7, 600, 5000):
        want = intensity_buckets(old["intensity_used"], start, span / count, count)
        got = intensity_buckets(new["intensity_used"], start, span / count, count)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert (g is None) == (w is None)
            if w is not None:
                assert g == pytest.approx(w, rel=1e-9)
