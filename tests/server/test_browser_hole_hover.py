"""Hovering inside a hole in a run's sampling, in a real browser: the power chart and the
emissions chart read the same time (the cursor's, not each a point on either side: the
power's next sample, the emissions' own point) and both say the hole, where they showed
a bare "—" or another time's value; outside it both show their values. Driven through
uPlot's cursor, which the pointer and the keyboard move; needs what ``test_browser``
needs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.test_browser import _HOW, _MISSING, _open
from tests.server.test_browser import browser as browser  # the fixture
from tests.server.test_browser_hole_marks import _carbon
from tests.server.test_browser_hole_marks import served as served  # the fixture

pytestmark = pytest.mark.skipif(_MISSING, reason=_HOW)

#: The legends' rows of both charts (power, then carbon) with the cursor at arguments[0]
#: seconds on the power chart, published to the other as the pointer's move is.
HOVER = """
const [p, c] = [charts[0], charts[1]];
p.setCursor({left: p.valToPos(arguments[0], "x"), top: 40}, true, true);
const rows = u => [...u.root.querySelectorAll(".u-legend tr")].map(
  r => [...r.querySelectorAll("th, td")].map(x => x.innerText.trim()).join(": "));
return [rows(p), rows(c)];
"""
HOLE = "no samples from 3.6 s to 43.6 s"


@pytest.mark.parametrize("t, said", [(5.0, "5.0 s"), (20.0, "20.0 s"), (43.5, "43.5 s")])
def test_inside_a_hole_both_charts_read_the_cursor_s_time_and_say_the_hole(
        browser: Any, served: dict[str, Any], t: float, said: str) -> None:
    _open(browser, f"{served['base']}/#/run/{served['resumed']}", "#chart-carbon canvas")
    _carbon(browser)
    power, carbon = browser.execute_script(HOVER, t)
    assert power == [f"time: {said}", f"cpu:0: {HOLE}"], power
    assert carbon[0] == f"time: {said}" and carbon[2] == f"emissions so far: {HOLE}", carbon
    assert carbon[1].startswith("grid intensity: ") and carbon[1].endswith(" g/kWh"), carbon


@pytest.mark.parametrize("t", [2.0, 44.0])
def test_outside_a_hole_both_charts_show_their_values(
        browser: Any, served: dict[str, Any], t: float) -> None:
    _open(browser, f"{served['base']}/#/run/{served['resumed']}", "#chart-carbon canvas")
    _carbon(browser)
    power, carbon = browser.execute_script(HOVER, t)
    assert power == [f"time: {t:.1f} s", "cpu:0: 4 W"], power
    assert carbon[0] == f"time: {t:.1f} s" and carbon[2].endswith(" gCO2eq"), carbon
