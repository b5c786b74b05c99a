"""The run page's power scale reaches the highest bar in view, and its hover gives a
bucket's peak beside its mean: a 1000 W sample among 100 W ones, downsampled into a point
whose mean is 190 W, drew its bar off the top of the plot and no figure said 1000 W.
Needs what ``test_browser`` needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open, _serve
from tests.server.test_browser import browser as browser  # the fixture
from wattwise.records.store import SampleRow, Store

#: The power legend's first domain value, as the page shows it.
VALUE = "document.querySelectorAll('#chart-power .u-legend .u-series .u-value')[1].textContent"

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

START = 1.8e9
STEP = 0.01
PEAK_AT = 3000  # the sample at 30.00 s


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("peaks") / "runs.db"
    with Store(db) as store:
        rid = store.create_run(
            name="peaky", started_unix_s=START, host={"hostname": "lab-01"}, hardware={},
            sensors=[{"name": "nvml", "domains": [
                {"name": "gpu:0", "kind": "measured", "source": "nvml:energy-counter",
                 "in_total": True}]}], versions={})
        rows = []
        for k in range(1, 6001):
            watts = 1000.0 if k == PEAK_AT else 100.0
            e = watts * STEP
            rows.append(SampleRow(START + k * STEP, "gpu:0", e, watts, e, e))
        store.add_samples(rid, rows)
        total = sum(r.energy_j for r in rows)
        store.finish_run(rid, ended_unix_s=START + 60.0, status="finished", summary={
            "energy_j": total, "low_j": total, "high_j": total, "kind": "measured",
            "duration_s": 60.0, "domains": [], "notes": []})
    pages = _serve(db)
    yield next(pages)
    next(pages, None)


def test_the_scale_and_the_hover_reach_a_bucket_s_peak(browser: Any, served: str) -> None:
    _open(browser, f"{served}/#/run/1", "#chart-power canvas")
    top = browser.execute_script("return charts[0].scales.W.max")
    assert top >= 1000.0, top
    got = browser.execute_script(
        """const u = charts[0], xs = u.data[0], ys = u.data[1];
           let k = 0;  // the point whose bucket holds the peak: the highest mean
           for (let i = 0; i < ys.length; i++) if (ys[i] > ys[k]) k = i;
           u.setCursor({left: u.valToPos(xs[k], 'x'), top: 20});
           return [ys[k], """ + VALUE + "];")
    mean, text = got
    assert 100.0 < mean < 1000.0, got  # the bucket's mean, above the others
    assert text.endswith(", peak 1000 W"), got
    # a point without a peak above its mean gives its mean alone
    plain = browser.execute_script(
        """const u = charts[0];
           u.setCursor({left: u.valToPos(5, 'x'), top: 20});
           return """ + VALUE + ";")
    assert plain == "100 W", plain
