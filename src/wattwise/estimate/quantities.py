"""Parse the quantities people write for model and data sizes: "175B", "1.5M", "3.14e23".

Suffixes are the ones ML papers use for counts (k, M, B, T; G as a synonym of
B, P for 1e15), case-insensitive, because "1.5m tokens" means a million and
nobody counts milli-tokens. Commas group thousands ("10,000", "1,082,990") and
nothing else: "1,5" is refused, since half of Europe writes 1.5 that way and
reading it as 15 would be a silent factor of ten. Underscores are refused too:
"1_000" is Python's syntax, not a number people write, and "1_5" would read as
15.

Every quantity lies within ``MAX_QUANTITY`` (1e30, four orders of magnitude
above the largest training run's FLOPs) and every positive one is at least
``MIN_POSITIVE`` (1e-12), so products and quotients of them stay finite.
"""

from __future__ import annotations

import math
import re

from wattwise.errors import BadInput

SUFFIXES: dict[str, float] = {
    "k": 1e3,
    "m": 1e6,
    "b": 1e9,
    "g": 1e9,
    "t": 1e12,
    "p": 1e15,
}

#: Largest magnitude accepted for any quantity.
MAX_QUANTITY = 1e30
#: Smallest positive value accepted (a smaller one is a typo or a unit mistake).
MIN_POSITIVE = 1e-12
#: Longest text read as a number.
_MAX_TEXT = 100

_PATTERN = re.compile(
    r"""^\s*
    (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)
    \s*(?P<suffix>[kmbgtp]?)\s*$""",
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
#: Digits grouped by commas in thousands: "1,000", "1,082,990.5".
_GROUPED = re.compile(r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:e[+-]?\d+)?\s*[kmbgtp]?\s*$",
                      re.IGNORECASE | re.ASCII)


def parse_quantity(text: str | float | int, what: str = "value") -> float:
    """``text`` as a float; BadInput naming ``what`` if it is not a finite number."""
    if isinstance(text, bool):
        raise BadInput(f"{what}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        try:
            value = float(text)
        except OverflowError:  # an int beyond any float
            raise BadInput(
                f"{what}: {_shown(text)} is larger than {MAX_QUANTITY:g}; check its unit"
            ) from None
    elif isinstance(text, str):
        if "_" in text:
            raise BadInput(
                f"{what}: cannot read {_shown(text)}: write 1000 or 1,000, not 1_000"
            )
        if not text.isascii():  # \d and float() read other scripts' digits: ٧٠B as 70B
            raise BadInput(
                f"{what}: cannot read {_shown(text)}: write it with the digits 0-9 only"
            )
        if "," in text and (len(text) > _MAX_TEXT or not _GROUPED.match(text)):
            raise BadInput(
                f"{what}: cannot read {_shown(text)}: a comma groups thousands (1,000); "
                "write a decimal with a point (1.5)"
            )
        cleaned = text.replace(",", "")
        match = _PATTERN.match(cleaned) if len(cleaned) <= _MAX_TEXT else None
        if match is None:
            raise BadInput(
                f"{what}: cannot read {_shown(text)} as a number (examples: 175B, 1.5M, "
                "3.14e23, 300k)"
            )
        value = float(match["number"]) * SUFFIXES.get(match["suffix"].lower(), 1.0)
    else:
        raise BadInput(f"{what}: expected a number, got {_shown(text)}")
    if not math.isfinite(value):
        raise BadInput(f"{what}: {_shown(text)} is not a finite number")
    if abs(value) > MAX_QUANTITY:
        raise BadInput(f"{what}: {_shown(text)} is larger than {MAX_QUANTITY:g}; check its unit")
    return value


def _shown(text: object) -> str:
    """The user's value for an error line: text quoted and cut, a number as a number."""
    if isinstance(text, bool) or not isinstance(text, (int, float)):
        from wattwise._userinput import shown

        return shown(text)
    if isinstance(text, int):
        digits = len(str(abs(text)))
        return str(text) if digits <= 24 else f"an integer of {digits:,} digits"
    return repr(text)


def parse_positive(text: str | float | int, what: str = "value") -> float:
    """Like ``parse_quantity`` but refuses zero and negative values."""
    value = parse_quantity(text, what)
    if value <= 0:
        raise BadInput(f"{what} must be positive, got {_shown(text)}")
    if value < MIN_POSITIVE:
        raise BadInput(f"{what}: {_shown(text)} is smaller than {MIN_POSITIVE:g}; check its unit")
    return value


def parse_count(text: str | float | int, what: str = "count") -> int:
    """A positive whole number ("8", "1k", "10,000")."""
    value = parse_positive(text, what)
    if value != int(value):
        raise BadInput(f"{what} must be a whole number, got {_shown(text)}")
    return int(value)
