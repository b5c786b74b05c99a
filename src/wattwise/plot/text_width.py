"""How wide a figure's text is drawn, so that labels placed apart stay apart.

Both back-ends draw 12 px text in the fonts measured here: the SVG names DejaVu
Sans, then Liberation Sans and Arial (which share their widths), then the generic
``sans-serif`` (``plot.render.SVG_FONTS``), and the PNG is drawn by matplotlib in
DejaVu Sans by name (``plot.render.PNG_FONT``; matplotlib ships it). A width
counted from one average per character is too narrow for capitals (``A`` is
8.2 px in DejaVu Sans, ``W`` 11.9 px), so each character here counts the advance
of its glyph:

- U+0020 to U+00FF: per character, the largest of its advance in DejaVu Sans
  and Liberation Sans (read from the fonts' ``hmtx`` tables, regular or bold)
  and its width as matplotlib draws it (advances rounded to whole pixels),
  plus the pairs the fonts kern apart (``_KERN``);
- an accented letter (``é``, ``ł``, ``ơ``): its letter and ``ACCENT_EM``;
- the rest of Latin, IPA, Greek and Cyrillic, punctuation and arrows: the
  widest glyph of its block;
- a combining accent (U+0300 to U+034F) after a letter: nothing; any other
  combining mark: the width of the box a font draws for a glyph it lacks
  (0.6 em in DejaVu Sans), or a wide glyph where it has nothing to sit on;
- a zero-width character kept in names (``ZERO_WIDTH``: the joiner of an emoji
  sequence, variation selectors, zero-width space): nothing, as
  DejaVu Sans advances it and as browsers draw it (they never show it);
- a character written as ``?`` (``tame``: a control character, a line separator): ``?``;
- anything else (CJK, emoji, other scripts, symbols): ``WIDE_EM``, more than
  a CJK ideograph (1 em) or a colour emoji (about 1.25 em) takes, and more for
  the few glyphs known to be wider (``_EXTRA``).

Every estimate is at least the real advance in those fonts (tests check it
against the font files where they are installed), so a box may be wider than
its text but never narrower. ``tame`` makes a name drawable: letters of every
script kept (Arabic and Hebrew are drawn in their logical order by the PNG, in
their reading order by a browser, the same width either way), bidi controls that
would reorder the text (direction marks included) dropped, control characters
written ``?``, and runs of more than ``MARKS_MAX`` combining marks on one letter
cut: stacked marks would climb into the line above.
"""

from __future__ import annotations

import functools
import unicodedata

#: Width of a character this module knows nothing about, in em: every glyph of the
#: fonts above not listed in ``_EXTRA`` (up to 1.45 em) with whole-pixel rounding and kerning.
WIDE_EM = 1.6
#: Width of the box drawn for a glyph the font lacks (DejaVu Sans' ``.notdef``, 0.6 em,
#: as 8 whole pixels at 12 px), in em.
MISSING_EM = 0.667
#: The most combining marks kept on one letter (``tame``).
MARKS_MAX = 2
#: Every bidi formatting character (Unicode's Bidi_Control property): the Arabic letter
#: mark (U+061C), the left-to-right and right-to-left marks (U+200E, U+200F), embeddings
#: and overrides (U+202A-U+202E) and isolates (U+2066-U+2069). Dropped from every text
#: drawn (``tame``), so that no name reorders the text around it.
BIDI_CONTROLS = frozenset(map(chr, [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                    *range(0x2066, 0x206A)]))
#: Zero-width characters kept in drawn text: zero-width space, non-joiner and joiner (which
#: joins an emoji sequence such as a family), word joiner, byte order mark, variation
#: selectors 1-16. DejaVu Sans (regular and bold) has each with advance 0, and browsers
#: never draw them: each counts nothing.
ZERO_WIDTH = frozenset(map(chr, [*range(0x200B, 0x200E), 0x2060, 0xFEFF,
                                 *range(0xFE00, 0xFE10)]))
#: Categories written as ``?``: control characters, lone surrogates (which XML cannot hold
#: and matplotlib cannot draw), line and paragraph separators (a figure's text is one line).
_AS_QUESTION = frozenset(("Cc", "Cs", "Zl", "Zp"))


def _table(text: str) -> tuple[float, ...]:
    return tuple(int(v) / 1000 for v in text.split(","))


# Advances in thousandths of an em for U+0020-U+007E then U+00A0-U+00FF, rounded up:
# per character the largest of its advance in DejaVu Sans 2.37 (as matplotlib ships
# it) and Liberation Sans 2.1, and of its width as matplotlib draws it at 12 px
# (which rounds each advance to whole pixels).
_REGULAR = _table(
    "334,417,500,838,667,951,780,275,417,417,500,838,334,361,334,337,667,667,667,667,667,667,"
    "667,667,667,667,337,337,838,838,838,557,1016,695,687,723,771,667,611,778,752,334,500,667"
    ",584,863,750,788,667,788,723,667,611,750,685,1000,686,667,686,417,337,417,838,557,500,61"
    "3,667,584,667,616,353,667,667,278,278,584,278,1000,667,612,667,667,417,521,417,667,592,8"
    "34,592,592,525,667,337,667,838,318,417,667,667,667,667,337,557,500,1000,500,612,838,361,"
    "1000,553,500,838,417,417,500,667,667,334,500,417,500,612,1000,1000,1000,611,695,695,695,"
    "695,695,685,1000,723,667,667,667,667,334,334,334,334,775,750,788,788,788,788,788,838,788"
    ",750,750,750,750,667,667,667,613,613,613,613,613,613,1000,584,616,616,616,616,278,278,27"
    "8,278,612,667,612,612,612,612,612,838,612,667,667,667,667,592,667,592")
_BOLD = _table(
    "349,457,521,838,696,1002,873,334,458,458,523,838,417,417,417,366,696,696,696,696,696,696"
    ",696,696,696,696,417,417,838,838,838,611,1000,774,763,750,834,684,684,834,837,373,557,77"
    "5,667,1000,837,851,750,851,771,750,691,834,774,1104,771,750,750,458,366,458,838,557,500,"
    "675,750,593,750,679,436,750,750,343,343,667,343,1084,750,688,750,750,500,596,500,750,667"
    ",924,667,667,584,750,366,750,838,349,457,696,696,667,696,366,557,500,1000,584,667,838,41"
    "6,1000,553,500,838,438,438,500,750,667,417,500,438,584,667,1036,1036,1036,611,774,774,77"
    "4,774,774,774,1085,750,684,684,684,684,373,373,373,373,838,837,851,851,851,851,851,838,8"
    "51,834,834,834,834,750,750,750,675,675,675,675,675,675,1084,593,679,679,679,679,343,343,"
    "343,343,688,750,688,688,688,688,688,838,688,750,750,750,750,667,750,667")
#: Pairs the fonts set further apart than their advances (positive kerning), by how
#: far in thousandths of an em: each entry a run of two-character pairs.
_KERN_PAIRS = (
    (19, "-o-ò-ó-ô-õ-öA,A.A:A;CSD-PyPýPÿR,R.SASÀSÁSÂSÃSÄo-À,À.À:À;Á,Á.Á:Á;Â,Â.Â:Â;Ã,Ã.Ã:Ã;"
     "Ä,Ä.Ä:Ä;ÇSÐ-Ø-ß-ò-ó-ô-õ-ö-"),
    (23, "C-LALÀLÁLÂLÃLÄTTÇ-"),
    (28, "-O-Ò-Ó-Ô-Õ-ÖAAAÀAÁAÂAÃAÄO-Q-ÀAÀÀÀÁÀÂÀÃÀÄÁAÁÀÁÁÁÂÁÃÁÄÂAÂÀÂÁÂÂÂÃÂÄÃAÃÀÃÁÃÂÃÃÃÄÄAÄÀ"
     "ÄÁÄÂÄÃÄÄÒ-Ó-Ô-Õ-Ö-"),
    (37, "-G-Q"),
    (56, "-J"),
    (74, "«Æ"),
)
_KERN = {run[i:i + 2]: em / 1000 for em, run in _KERN_PAIRS for i in range(0, len(run), 2)}
_KERNED = frozenset(pair[0] for pair in _KERN)
#: (first, last, regular em, bold em): the widest glyph of a block in either font,
#: rounded up to whole pixels at 12 px, plus ``KERN_EM`` for its neighbours.
_BLOCKS = (
    (0x0100, 0x024F, 1.58, 1.67),  # Latin Extended-A and -B (the digraph DZ is widest)
    (0x0250, 0x02FF, 1.17, 1.33),  # IPA, spacing modifiers
    (0x0370, 0x03FF, 1.08, 1.25),  # Greek and Coptic
    (0x0400, 0x052F, 1.33, 1.50),  # Cyrillic
    (0x1E00, 0x1FFF, 1.25, 1.42),  # Latin Extended Additional, Greek Extended
    (0x2010, 0x2027, 1.08, 1.08),  # dashes, quotes, bullet, ellipsis
    (0x2190, 0x21FF, 1.08, 1.08),  # arrows
)
#: The most the fonts set two characters further apart than their advances.
KERN_EM = 0.08
#: How much wider than its letter an accented letter (``é`` = ``e`` and a combining
#: accent) may be: an accent drawn beside the letter (``ľ``, ``ď``, ``Ơ``) adds up to 0.14 em.
ACCENT_EM = 0.15
#: (first, last, em): glyphs wider than ``WIDE_EM``: those of DejaVu Sans (bold
#: included), and a few drawn wide in every font that has them (two- and three-em
#: dashes, the Arabic ligatures of whole phrases, cuneiform).
_EXTRA = (
    (0x1400, 0x169F, 2.1),  # Canadian syllabics, Ogham
    (0x2030, 0x2031, 2.0),  # per mille, per ten thousand
    (0x2160, 0x2188, 1.7),  # Roman numerals
    (0x2A0C, 0x2A0C, 1.7),  # quadruple integral
    (0x2E3A, 0x2E3A, 2.1),  # two-em dash
    (0x2E3B, 0x2E3B, 3.1),  # three-em dash
    (0xFB00, 0xFB4F, 1.8),  # ligatures (ff, ffi... and Armenian)
    (0xFDF0, 0xFDFF, 8.0),  # Arabic ligatures of words and phrases
    (0x12000, 0x1254F, 3.0),  # cuneiform
    (0x13000, 0x1345F, 2.0),  # Egyptian hieroglyphs
    (0x1F000, 0x1FAFF, 1.7),  # symbols and emoji
)


def is_mark(ch: str) -> bool:
    """Whether ``ch`` is a combining mark, drawn on the character before it."""
    return unicodedata.category(ch) in ("Mn", "Me")


def char_em(ch: str, bold: bool = False, after_letter: bool = True) -> float:
    """The width ``ch`` takes in em, at least its advance in the fonts named above;
    ``after_letter``: whether a combining mark has a letter to sit on."""
    cp = ord(ch)
    if 0x20 <= cp <= 0x7E:
        return (_BOLD if bold else _REGULAR)[cp - 0x20]
    if 0xA0 <= cp <= 0xFF:
        return (_BOLD if bold else _REGULAR)[cp - 0x20 - 33]
    if ch in ZERO_WIDTH:
        return 0.0
    if is_mark(ch):
        if not after_letter:
            return WIDE_EM
        return 0.0 if 0x300 <= cp <= 0x34F else MISSING_EM
    if unicodedata.category(ch) in _AS_QUESTION or cp in (0xFFFE, 0xFFFF):  # drawn as ``?``
        return (_BOLD if bold else _REGULAR)[ord("?") - 0x20]
    base = unicodedata.normalize("NFD", ch)
    if len(base) > 1 and ord(base[0]) <= 0xFF and all(map(is_mark, base[1:])):
        return char_em(base[0], bold) + ACCENT_EM + KERN_EM
    for lo, hi, regular, heavy in _BLOCKS:
        if lo <= cp <= hi:
            return heavy if bold else regular
    for lo, hi, em in _EXTRA:
        if lo <= cp <= hi:
            return em
    return WIDE_EM


@functools.lru_cache(maxsize=4096)
def text_width(text: str, px: float, bold: bool = False) -> float:
    """How wide ``text`` is drawn at ``px`` pixels a line (12 for the figures), in px."""
    total = 0.0
    after_letter = False
    for ch in text:
        total += char_em(ch, bold, after_letter)
        after_letter = after_letter or _is_base(ch)
    if not text.isascii() or any(c in _KERNED for c in text):
        total += sum(_KERN.get(text[i:i + 2], 0.0) for i in range(len(text) - 1))
    return total * px


def _is_base(ch: str) -> bool:
    """Whether a combining mark after ``ch`` has something drawn to sit on."""
    return not (is_mark(ch) or ch in ZERO_WIDTH or ch in BIDI_CONTROLS)


def _drawn_as_question(ch: str) -> bool:
    return unicodedata.category(ch) in _AS_QUESTION or ch in "\ufffe\uffff"


@functools.lru_cache(maxsize=4096)
def tame(text: str) -> str:
    """``text`` as a figure draws it: every letter kept, whatever its script, and the
    joiners and variation selectors of emoji sequences; bidi controls dropped (a name
    never reorders the text around it); a control character, lone surrogate, line
    separator or U+FFFE/U+FFFF (which XML cannot hold) as ``?``; at most ``MARKS_MAX``
    combining marks on any one letter."""
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    run = 0
    for ch in text:
        if ch in BIDI_CONTROLS:
            continue
        if ch in ZERO_WIDTH:  # drawn as nothing: neither a letter nor a mark
            out.append(ch)
            continue
        if _drawn_as_question(ch):
            ch = "?"
        if is_mark(ch):
            run += 1
            if run > MARKS_MAX:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)


def fit_width(text: str, room_px: float, px: float, bold: bool = False) -> str:
    """``text`` cut so that it fits ``room_px`` wide at ``px``, the last character
    an ellipsis where it was cut; "" if not even the ellipsis fits."""
    if text_width(text, px, bold) <= room_px:
        return text
    room = room_px - char_em("\u2026", bold) * px
    kept = 0.0
    after_letter = False
    for i, ch in enumerate(text):
        kept += char_em(ch, bold, after_letter)
        after_letter = after_letter or _is_base(ch)
        if kept * px > room:
            return text[:i] + "\u2026" if room >= 0 else ""
    return text
