"""Text is measured glyph by glyph, never narrower than the fonts draw it, so labels the
layout places apart do not overlap, whatever a run or window is named."""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from wattwise.plot.figure import FONT_PX, Figure, Key, Text, legend, note_lines, wrap
from wattwise.plot.labels import label_points
from wattwise.plot.run import layout
from wattwise.plot.text_width import char_em, fit_width, is_mark, tame, text_width

#: Advances in DejaVu Sans (units of 1/2048 em, its ``hmtx`` table): the font matplotlib
#: draws the PNG with and most Linux browsers draw ``sans-serif`` with.
DEJAVU_ADVANCE = {"A": 1401, "W": 2025, "M": 1767, "a": 1255, " ": 651}

HOSTILE = [
    "A" * 31, "W" * 40, "M" * 25, "%@" * 20, "neg-energy",
    "中文名字的训练运行" * 3, "😀🚀🔥💡🎉" * 4, "👨\u200d👩\u200d👧\u200d👦🇩🇪",
    "a\u0301\u0302\u0303\u0304\u0305\u0306" * 6, "\u0301mark first", "ÆŒÐÞßÅÄÖÜ" * 4,
    "ЖШЩЮЫ" * 6, "Łódź Świętokrzyskie", "ǄǅǆǄǅǆ", "x\u202eevil\u202c", "tab\there",
    "\x00nul", "ⅧⅧⅧ", "﷽﷽", "⸻⸻", "«Æ" * 10, "-J" * 10, "AAAA" * 20,
]


def _true_width(text: str) -> float:
    """A lower bound of the width any common font draws: DejaVu Sans' advances for the
    characters above, and 1 em for a CJK ideograph (full width in every font)."""
    em = 0.0
    for ch in text:
        if ch in DEJAVU_ADVANCE:
            em += DEJAVU_ADVANCE[ch] / 2048
        elif "\u4e00" <= ch <= "\u9fff":
            em += 1.0
    return em * FONT_PX


def _true_box(t: Text) -> tuple[float, float, float, float]:
    w = _true_width(t.text)
    left = {"start": t.x, "middle": t.x - w / 2, "end": t.x - w}[t.anchor]
    return (left, t.y - 11, left + w, t.y + 3)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def test_capitals_and_cjk_are_measured_at_least_as_wide_as_the_font_draws_them() -> None:
    assert text_width("A" * 31, FONT_PX) >= 31 * 1401 / 2048 * FONT_PX
    assert text_width("W" * 40, FONT_PX) >= 40 * 2025 / 2048 * FONT_PX
    assert text_width("中文" * 10, FONT_PX) >= 20 * FONT_PX
    assert text_width("😀" * 10, FONT_PX) >= 10 * 1.25 * FONT_PX  # a colour emoji's advance
    assert text_width("⸻", FONT_PX) >= 3 * FONT_PX  # the three-em dash
    # Text's box is that width: capitals and CJK are no longer counted as an average.
    assert Text(0, 0, "A" * 31).box()[2] >= 31 * 1401 / 2048 * FONT_PX


def test_all_capital_and_cjk_labels_placed_side_by_side_do_not_overlap() -> None:
    names = ["A" * 31, "W" * 18, "中文名字的训练运行", "neg-energy", "MMMMMMMMMMMMMMMMMMM",
             "AAAAAAAAAAAAAAAA", "中文" * 6, "W" * 12]
    points = [(120.0 + 26 * i, 140.0 + 9 * (i % 3), n) for i, n in enumerate(names)]
    items, _ = label_points(points, (0, 0, 900, 400), [])
    texts = [t for t in items if isinstance(t, Text)]
    assert len(texts) == len(names)
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(_true_box(a), _true_box(b)), (a.text, b.text)


def test_legend_keys_with_capitals_do_not_run_into_each_other() -> None:
    keys = [Key("A" * 20, "red"), Key("W" * 15, "blue"), Key("MMMM", "green")]
    texts = [t for t in legend(keys, 10, 20, 890) if isinstance(t, Text)]
    assert len({t.y for t in texts}) == 1  # one row: all fit
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(_true_box(a), _true_box(b)), (a.text, b.text)


def test_note_lines_and_wrapped_lines_fit_the_figure_by_width_not_by_count() -> None:
    fig = Figure(300, 100, "t")
    note_lines(fig, ["W" * 40, "中文" * 30], 10, 50)
    for t in fig.items:
        assert isinstance(t, Text)
        assert t.text.endswith("\u2026")
        assert _true_box(t)[2] <= 296 and t.width() <= 286
    lines = wrap(["W" * 60, "中文" * 40, "a b c"], 280)
    assert len(lines) >= 4 and all(text_width(line, FONT_PX) <= 280 for line in lines)
    assert "".join(lines).count("W") == 60  # broken between characters, nothing lost


def test_fit_width_cuts_to_the_room_with_an_ellipsis() -> None:
    assert fit_width("short", 100, FONT_PX) == "short"
    cut = fit_width("W" * 40, 100, FONT_PX)
    assert cut.endswith("\u2026") and text_width(cut, FONT_PX) <= 100
    assert fit_width("W" * 40, 5, FONT_PX) == ""


def test_marks_stacked_on_one_letter_are_cut_to_a_few() -> None:
    zalgo = "a" + "\u0301" * 40 + "b"
    assert tame(zalgo) == "a\u0301\u0301b"
    assert Text(0, 0, zalgo).text == "a\u0301\u0301b"
    assert tame("Vi\u1ec7t") == "Vi\u1ec7t" and tame("e\u0323\u0302") == "e\u0323\u0302"
    # a mark with no letter before it may be drawn on a placeholder: counted wide
    assert char_em("\u0301", after_letter=False) >= 1.0
    assert text_width("a\u0301", FONT_PX) == text_width("a", FONT_PX)


def test_a_run_figure_with_hostile_window_names_has_no_overlapping_text() -> None:
    start = 1_700_000_000.0
    run = {"id": 1, "name": "A" * 60, "started_unix_s": start, "duration_s": 100.0,
           "summary": {"energy_j": 100.0, "kind": "measured"}}
    tl = {"end_s": 100.0, "samples": 10, "domains": {"cpu": {
        "t_s": [10.0 * k for k in range(11)], "power_w": [50.0] * 11,
        "gap": [False] * 11, "begin_s": 0.0}},
        "provenance": {"cpu": {"kind": "measured", "source": "rapl", "in_total": True}}}
    windows = [{"name": n, "start_unix_s": start + 3 * i, "end_unix_s": start + 3 * i + 40}
               for i, n in enumerate(HOSTILE)]
    fig = layout(run, tl, windows)
    texts = [t for t in fig.items if isinstance(t, Text) and not t.rotate]
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(_true_box(a), _true_box(b)), (a.text, b.text)
        assert not _overlap(a.box(), b.box()), (a.text, b.text)
    for t in texts:
        assert t.box()[2] <= fig.width + 0.5, t.text


# -- against the fonts themselves, where they are installed ---------------------------


def _fonts() -> list[tuple[bool, Path]]:
    mpl = pytest.importorskip("matplotlib")
    pytest.importorskip("fontTools")
    ttf = Path(mpl.__file__).parent / "mpl-data" / "fonts" / "ttf"
    lib = Path("/usr/share/fonts/truetype/liberation")
    found = [(False, ttf / "DejaVuSans.ttf"), (True, ttf / "DejaVuSans-Bold.ttf"),
             (False, lib / "LiberationSans-Regular.ttf"), (True, lib / "LiberationSans-Bold.ttf")]
    return [(bold, p) for bold, p in found if p.is_file()]


def _advances(path: Path) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
    """Each character's advance and each positively kerned pair's extra, in em."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path))
    upm = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"].metrics
    adv = {cp: hmtx[g][0] / upm for cp, g in cmap.items()}
    by_glyph: dict[str, list[int]] = {}
    for cp, g in cmap.items():
        by_glyph.setdefault(g, []).append(cp)
    kern: dict[tuple[int, int], float] = {}
    if "kern" in font:
        for table in font["kern"].kernTables:
            for (ga, gb), v in table.kernTable.items():
                if v > 0:
                    for a, b in itertools.product(by_glyph.get(ga, []), by_glyph.get(gb, [])):
                        kern[a, b] = v / upm
    return adv, kern


def test_no_glyph_of_the_fonts_is_wider_than_its_estimate() -> None:
    """Every character of DejaVu Sans (and Liberation Sans where installed), regular
    and bold, as the font advances it (and, for matplotlib's own DejaVu Sans, as it
    rounds the advance to whole pixels)."""
    fonts = _fonts()
    assert fonts
    for bold, path in fonts:
        adv, kern = _advances(path)
        rounds = "mpl-data" in path.parts
        for cp, em in adv.items():
            ch = chr(cp)
            if cp < 0x20 or not (ch.isprintable() or is_mark(ch)):
                continue
            need = max(em * FONT_PX, round(em * FONT_PX) if rounds else 0)
            got = char_em(ch, bold) * FONT_PX
            assert got >= need - 1e-9, (path.name, hex(cp), got, need)
        for (a, b), extra in kern.items():
            pair = chr(a) + chr(b)
            if not all(c.isprintable() for c in pair) or any(map(is_mark, pair)):
                continue
            need = (adv[a] + adv[b] + extra) * FONT_PX
            assert text_width(pair, FONT_PX, bold) >= need - 1e-9, (path.name, pair)


def _matplotlib_widths(texts: list[Text]) -> list[float]:
    """How wide matplotlib draws each text, as ``render.png_bytes`` draws it."""
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(20, 2), dpi=100)
    out: list[float] = []
    try:
        renderer: Any = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for t in texts:
                drawn = fig.text(0, 0.5, t.text, fontsize=FONT_PX * 72 / 100,
                                 fontweight="bold" if t.bold else "normal",
                                 family="DejaVu Sans", parse_math=False)
                out.append(drawn.get_window_extent(renderer).width)
                drawn.remove()
    finally:
        plt.close(fig)
    return out


@pytest.mark.skipif(os.environ.get("MPLBACKEND", "") not in ("", "Agg", "agg"),
                    reason="measured with matplotlib's Agg renderer")
def test_the_png_draws_no_text_wider_than_the_layout_measured() -> None:
    texts = [Text(0, 0, s, bold=bold) for s in HOSTILE for bold in (False, True)]
    for t, drawn in zip(texts, _matplotlib_widths(texts), strict=True):
        assert drawn <= t.width() + 1e-6, (t.text, t.bold, drawn, t.width())
