"""``fit_note`` says what ``fit_bands`` did in the words the report's figure writes, so
the run page (which sends it) and ``wattwise report`` say the same of the same bands."""

from __future__ import annotations

import html
import random
import re

from wattwise.plot.bands import bands_of, drawable, fit_bands, fit_note
from wattwise.plot.figure import Rect
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


#: windows of a 100 s run that cannot be drawn, by why: the figure's notes count each
DAMAGED_WINDOWS = [
    {"name": "inf-end", "start_unix_s": START + 5.0, "end_unix_s": float("inf")},
    {"name": "text-start", "start_unix_s": "abc", "end_unix_s": START + 6.0},
    {"name": "backwards", "start_unix_s": START + 9.0, "end_unix_s": START + 8.0},
    {"name": "before-run", "start_unix_s": START - 1000.0, "end_unix_s": START - 999.0},
    {"name": "far-future", "start_unix_s": START + 1e9, "end_unix_s": START + 1e9 + 1.0},
]
NOT_DRAWN = ["2 windows with an unreadable start or end not drawn",
             "1 window with an end before its start not drawn",
             "2 windows outside the run's span not drawn"]


def test_every_window_not_drawn_is_counted_in_the_notes() -> None:
    drawn = [{"name": f"w{k}", "start_unix_s": START + 10.0 * k,
              "end_unix_s": START + 10.0 * k + 5.0} for k in range(3)]
    drawn.append({"name": "past-the-end", "start_unix_s": START + 95.0,
                  "end_unix_s": START + 150.0})  # partly inside: drawn, cut at the edge
    kept, notes = drawable(drawn + DAMAGED_WINDOWS, START, 0.0, 100.0)
    assert [w["name"] for w in kept] == ["w0", "w1", "w2", "past-the-end"]
    assert notes == NOT_DRAWN
    fig = layout(_run(), {"end_s": 100.0, "domains": {}}, drawn + DAMAGED_WINDOWS)
    labels = [it.label for it in fig.of("band") if isinstance(it, Rect)]
    assert labels == ["w0", "w1", "w2", "past-the-end"]
    svg = html.unescape(to_svg(fig))
    assert "window (4)" in svg  # the legend counts those drawn; the notes the other 5
    said = _squeezed(" ".join(re.findall(r'<text[^>]*class="note"[^>]*>([^<]*)</text>',
                                         svg)))
    for note in NOT_DRAWN:
        assert _squeezed(note) in said


def test_one_window_not_named_is_said_in_the_singular() -> None:
    windows = [{"name": "outer", "start_unix_s": START, "end_unix_s": START + 100.0},
               {"name": "tiny", "start_unix_s": START + 50.0, "end_unix_s": START + 50.01}]
    svg = html.unescape(to_svg(layout(_run(), {"end_s": 100.0, "domains": {}}, windows)))
    assert "1 window not named here (too many, too close or too narrow)" in svg
    assert "1 windows" not in svg


def test_a_band_label_keeps_every_script_and_escapes_controls_as_show_prints_them() -> None:
    """Labels keep letters of every script; a bidi control, a control character and an
    emoji joiner read as ``wattwise show`` and the pages print them (escaped), never
    dropped and never as ``?``."""
    from wattwise.plot.bands import cut

    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    assert cut(family, 64) == "\U0001f469\\u200d\U0001f469\\u200d\U0001f467\\u200d\U0001f466"
    assert cut("\u0627" * 30 + "WWW", 32) == "\u0627" * 30 + "W…"
    assert cut("\u202eevil\u2066", 32) == "\\u202eevil\\u2066"
    assert cut("x\x00y", 32) == "x\\x00y"
    assert cut("a" * 40, 32) == "a" * 31 + "…"
