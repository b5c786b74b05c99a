"""``wattwise report RUN --html`` of a run with a summary prices it from sums taken inside
SQLite (``carbon.summary_sums.summary_intervals``), as ``report`` without ``--html`` does:
reading every sample to draw each one's intensity took a minute and a gigabyte at a
million samples.

The figures and notes are those ``report`` prints without ``--html``, and the page (its
figures, its power chart, its intensity and emissions curves) is the one the samples
priced one by one draw, to rounding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise.carbon.summary_sums as summary_module
from tests.carbon.test_partial_sql import START, _same
from tests.cli.test_report_sums import _finished
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server.timeline import intensity_buckets

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _run(db: Path, rid: int, *args: str) -> str:
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), *args])
    assert res.exit_code == 0, res.output
    return str(res.stdout)


def _page_data(path: Path) -> dict[str, Any]:
    """The data block of a written page, less the time it was written."""
    found = re.search(r'id="wattwise-data">(.*?)</script>', path.read_text("utf-8"), re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    data.pop("written_unix_s")
    return data


def _close(old: Any, new: Any, where: str = "") -> None:
    """Equal, numbers to 1e-9 of each other (sums taken in another order), lists too."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and set(old) == set(new), (where, old, new)
        for k in old:
            _close(old[k], new[k], f"{where}.{k}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), (where, old, new)
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(old, float):
        assert new == pytest.approx(old, rel=1e-9, abs=1e-12), where
    else:
        assert new == old, where


def _refuse_samples(m: pytest.MonkeyPatch) -> None:
    def refused(self: Any, run_id: int) -> Any:
        raise AssertionError("read the run's samples one by one")

    m.setattr(Store, "samples", refused)


CASES: dict[str, dict[str, Any]] = {
    "yearly": {},
    "trace": {"trace": True},
    "trace-and-profile": {"trace": True, "profile": True},
    "damaged": {"trace": True, "profile": True, "damaged": True},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("edges", ["between", "on-samples"])
def test_the_page_of_a_run_with_a_summary_is_priced_from_sums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, edges: str
) -> None:
    t0, t1 = ((START + 1.0, START + 1500.0) if edges == "between"
              else (START - 2.0 + 7.3 * 3, START - 2.0 + 7.3 * 200))
    db, rid = _finished(tmp_path, t0=t0, t1=t1, **CASES[case])
    slow_page, fast_page = tmp_path / "slow.html", tmp_path / "fast.html"
    with monkeypatch.context() as m:  # every sample priced one by one, as before
        m.setattr(summary_module, "summary_intervals", lambda *a, **k: None)
        slow = json.loads(_run(db, rid, "--json", "--html", str(slow_page)))
    with monkeypatch.context() as m:
        _refuse_samples(m)
        fast = json.loads(_run(db, rid, "--json", "--html", str(fast_page)))
        fast_text = _run(db, rid, "--html", str(tmp_path / "text.html"))
        plain = json.loads(_run(db, rid, "--json"))
        plain_text = _run(db, rid)
    assert fast.pop("html") == str(fast_page) and slow.pop("html") == str(slow_page)
    # the figures and notes printed are report's without --html, to the digit
    assert fast == plain
    wrote, *rest = fast_text.splitlines()
    assert wrote.startswith("wrote ") and rest == plain_text.splitlines()
    _same(slow, fast)
    # the page: the same figures, power chart and curves as the samples' intervals draw
    old, new = _page_data(slow_page), _page_data(fast_page)
    drawn = [d["data"][f"/api/runs/{rid}"]["run"]["summary"]["emissions"].pop("intensity_used")
             for d in (old, new)]
    _close(old, new)
    # the intensities it was priced at: one per cell, not per sample, drawn the same
    assert len(drawn[1]) < len(drawn[0])
    start = min(x[0] for x in drawn[0])
    span = max(x[1] for x in drawn[0]) - start
    for count in (7, 600, 5000):
        want, got = (intensity_buckets(d, start, span / count, count) for d in drawn)
        _close(want, got)
    line = new["data"][f"/api/runs/{rid}/timeline"]
    assert line["intensity"] is not None and any(
        g is not None for g in line["intensity"]["g_per_kwh"])
    if case == "damaged":
        notes = new["data"][f"/api/runs/{rid}"]["run"]["summary"]["emissions"]["notes"]
        assert any("stored value(s) are not usable" in n for n in notes)


def test_a_page_the_sums_cannot_price_draws_every_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More samples at an edge than are read one by one: the samples price the page, and
    each one's intensity is drawn over its own interval, as before."""
    db, rid = _finished(tmp_path, t0=START + 1.0, t1=START + 1500.0, trace=True)
    monkeypatch.setattr(summary_module, "EDGE_READ_LIMIT", 3)
    slow_page, fast_page = tmp_path / "slow.html", tmp_path / "fast.html"
    with monkeypatch.context() as m:
        m.setattr(summary_module, "summary_intervals", lambda *a, **k: None)
        slow = json.loads(_run(db, rid, "--json", "--html", str(slow_page)))
    fast = json.loads(_run(db, rid, "--json", "--html", str(fast_page)))
    slow.pop("html"), fast.pop("html")
    assert fast == slow
    assert _page_data(fast_page) == _page_data(slow_page)
