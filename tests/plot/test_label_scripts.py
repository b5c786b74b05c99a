"""A figure's text keeps the letters of every script and the joiners of emoji sequences,
in the SVG and in the PNG; only bidi controls (which would reorder the text around a
name) are dropped and control characters written ``?``. Where the PNG's font has no
glyph for a character, the PNG says so under the figure instead of drawing boxes
silently."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wattwise.plot.figure import FONT_PX, Figure, Rect, Text
from wattwise.plot.render import png_bytes, png_note, to_svg
from wattwise.plot.text_width import BIDI_CONTROLS, ZERO_WIDTH, tame, text_width

ARABIC = "\u0627" * 30 + "WWW"
HEBREW = "\u05e9\u05dc\u05d5\u05dd-run"
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
HEART = "\u2764\ufe0f"  # a red heart: the heart and variation selector 16 (emoji style)


def _svg_texts(fig: Figure) -> list[str]:
    root = ET.fromstring(to_svg(fig))
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def _png_texts(fig: Figure, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The strings ``png_bytes`` hands to matplotlib, as it draws them."""
    pytest.importorskip("matplotlib", reason="PNG plots need the optional matplotlib")
    from matplotlib.axes import Axes

    seen: list[str] = []
    drawn = Axes.text

    def text(self: Axes, x: float, y: float, s: str, *args: object, **kwargs: object) -> object:
        assert kwargs.get("parse_math") is False  # '$x$' in a name is text, not math
        seen.append(s)
        return drawn(self, x, y, s, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Axes, "text", text)
    png_bytes(fig)
    return seen


def _figure(*names: str) -> Figure:
    fig = Figure(900, 20 * len(names) + 10, "scripts")  # no room to spare below
    fig.items += [Text(10, 20 + 20 * k, name, cls="label") for k, name in enumerate(names)]
    return fig


def test_arabic_hebrew_and_emoji_sequences_keep_every_character_in_svg_and_png(
        monkeypatch: pytest.MonkeyPatch) -> None:
    names = (ARABIC, HEBREW, FAMILY * 3, HEART)
    fig = _figure(*names)
    assert _svg_texts(fig) == list(names)
    # DejaVu Sans draws Arabic and Hebrew letters and the joiners (as nothing); the
    # emoji it lacks are drawn as boxes, which the note under the PNG says
    assert _png_texts(fig, monkeypatch)[:len(names)] == list(names)


def test_bidi_controls_are_dropped_and_control_characters_shown_as_question_marks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = "x\u202eevil\u202c \u2067iso\u2069 tab\there \u2028line \x00nul"
    assert tame(hostile) == "xevil iso tab?here ?line ?nul"
    fig = _figure(hostile)
    fig.items.append(Rect(0, 0, 5, 5, "red", label="\u202egnp.exe"))
    svg = to_svg(fig)
    assert not any(ch in svg for ch in BIDI_CONTROLS)
    assert _svg_texts(fig) == ["xevil iso tab?here ?line ?nul"]
    assert 'data-label="gnp.exe"' in svg
    assert _png_texts(fig, monkeypatch) == ["xevil iso tab?here ?line ?nul"]


def test_zero_width_joiners_and_selectors_count_nothing_and_letters_count_fully() -> None:
    one = text_width("\U0001f469", FONT_PX)
    assert text_width(FAMILY, FONT_PX) == 4 * one
    assert text_width(HEART, FONT_PX) == text_width("\u2764", FONT_PX)
    assert text_width("\u200b" * 50 + "x", FONT_PX) == text_width("x", FONT_PX)
    # a combining mark after only zero-width characters has no letter to sit on: wide
    assert text_width("\u200d\u0301", FONT_PX) >= FONT_PX
    # every Arabic and Hebrew letter is counted at least one em: wider than drawn
    assert text_width(ARABIC, FONT_PX) >= 30 * FONT_PX + text_width("WWW", FONT_PX)
    assert text_width(HEBREW, FONT_PX) >= 4 * FONT_PX + text_width("-run", FONT_PX)


def test_zero_width_characters_have_no_advance_in_the_png_font() -> None:
    mpl = pytest.importorskip("matplotlib")
    pytest.importorskip("fontTools")
    from fontTools.ttLib import TTFont

    ttf = Path(mpl.__file__).parent / "mpl-data" / "fonts" / "ttf"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font = TTFont(str(ttf / name))
        cmap, hmtx = font.getBestCmap(), font["hmtx"].metrics
        for ch in ZERO_WIDTH:
            assert ord(ch) in cmap, (name, hex(ord(ch)))
            assert hmtx[cmap[ord(ch)]][0] == 0, (name, hex(ord(ch)))


def test_rtl_and_joined_labels_are_no_narrower_than_matplotlib_draws_them() -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import warnings

    import matplotlib.pyplot as plt

    texts = [Text(0, 0, s, bold=b) for s in (ARABIC, HEBREW, FAMILY * 3, HEART * 5,
                                              "\u05d0\u200d\u05d1" * 8)
             for b in (False, True)]
    fig = plt.figure(figsize=(20, 2), dpi=100)
    try:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for t in texts:
                drawn = fig.text(0, 0.5, t.text, fontsize=FONT_PX * 72 / 100,
                                 fontweight="bold" if t.bold else "normal",
                                 family="DejaVu Sans", parse_math=False)
                assert drawn.get_window_extent(renderer).width <= t.width() + 1e-6, t.text
                drawn.remove()
    finally:
        plt.close(fig)


def test_the_png_says_how_many_texts_its_font_cannot_draw() -> None:
    pytest.importorskip("matplotlib", reason="PNG plots need the optional matplotlib")
    names = ("\u6df1\u5ea6\u5b66\u4e60", "\U0001f525" * 5, "\ufdfd", "\U0001242b" * 3,
             FAMILY, ARABIC, HEBREW, "plain")
    fig = _figure(*names)
    drawn = png_note(fig)
    notes = [t for t in drawn.items if isinstance(t, Text) and t.cls == "png-note"]
    assert [t.text for t in notes] == [
        "5 texts hold characters this PNG's font (DejaVu Sans) has no glyph for, drawn as "
        "boxes; the SVG shows them"]
    # under everything else, inside the grown figure, and the figure itself unchanged
    others = [t.box() for t in fig.items if isinstance(t, Text)]
    note = notes[0].box()
    assert all(note[1] > box[3] for box in others)
    assert note[3] <= drawn.height and note[2] <= drawn.width
    assert drawn.height > fig.height and len(fig.items) == len(names)
    assert "png-note" not in to_svg(fig)
    # Arabic, Hebrew and Latin are all in DejaVu Sans: nothing to say
    assert png_note(_figure(ARABIC, HEBREW, "plain")).items == _figure(
        ARABIC, HEBREW, "plain").items


def test_a_name_that_looks_like_matplotlib_math_is_drawn_as_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = "$\\frac{$ and $x^2$"
    assert _png_texts(_figure(name), monkeypatch) == [name]



def test_direction_marks_are_dropped_like_every_other_bidi_control(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Unicode's Bidi_Control: every explicit embedding, override and isolate, and the
    # three marks (whose bidi classes are those of letters, so named here)
    explicit = {chr(cp) for cp in range(0x110000) if unicodedata.bidirectional(chr(cp))
                in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")}
    assert explicit | {"\u061c", "\u200e", "\u200f"} == BIDI_CONTROLS
    assert not BIDI_CONTROLS & ZERO_WIDTH
    name = "\u202eevil\u202c\u2066x\u2069\u200f"
    marked = "a\u200eb\u200fc\u061cd"
    assert tame(name) == "evilx"
    assert tame(marked) == "abcd"
    fig = _figure(name, marked)
    fig.items.append(Rect(0, 0, 5, 5, "red", label="\u200fgnp.exe"))
    svg = to_svg(fig)
    assert not any(ch in svg for ch in BIDI_CONTROLS)
    assert _svg_texts(fig) == ["evilx", "abcd"]
    assert 'data-label="gnp.exe"' in svg
    assert _png_texts(fig, monkeypatch)[:2] == ["evilx", "abcd"]
