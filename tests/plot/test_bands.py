"""``fit_note`` says what ``fit_bands`` did in the words the report's figure writes, so
the run page (which sends it) and ``wattwise report`` say the same of the same bands."""

from __future__ import annotations

import html
import random
import re

from wattwise.plot.bands import bands_of, fit_bands, fit_note
from wattwise.plot.render import to_svg
from wattwise.plot.run import ML, MR, W, layout

START = 1_700_000_000.0


def _run() -> dict[str, object]:
    return {"id": 1, "name": "nested", "started_unix_s": START, "duration_s": 100.0,
            "summary": {"energy_j": 10.0, "low_j": 9.0, "high_j": 11.0, "kind": "measured"}}


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_the_note_is_the_figures_for_nested_and_for_side_by_side_windows() -> None:
    nested = [{"name": f"level-{k}", "start_unix_s": START + k * 0.001,
               "end_unix_s": START + 100.0 - k * 0.001} for k in range(1500)]
    side = [{"name": f"batch-{k}", "start_unix_s": START + k * 0.01,
             "end_unix_s": START + k * 0.01 + 0.008} for k in range(5000)]
    for windows in (nested, side):
        bands = bands_of(windows, START)
        note = fit_note(len(bands), fit_bands(bands, 100.0 / (W - ML - MR), plot_w=W))
        assert note.startswith(f"{len(windows):,} windows drawn as ")
        svg = to_svg(layout(_run(), {"end_s": 100.0, "domains": {}}, windows))
        said = " ".join(re.findall(r'<text[^>]*class="note"[^>]*>([^<]*)</text>', svg))
        assert _squeezed(note) in _squeezed(html.unescape(said))


def test_no_note_where_every_window_is_its_own_band() -> None:
    r = random.Random(5)
    windows = [{"name": f"w{k}", "start_unix_s": START + (a := r.uniform(0, 90)),
                "end_unix_s": START + a + 5.0} for k in range(40)]
    bands = bands_of(windows, START)
    fit = fit_bands(bands, 0.1)
    assert fit.bands == bands and fit_note(len(bands), fit) == ""
