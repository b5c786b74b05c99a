"""A figure with a range and its derivation, and the interval arithmetic behind it.

Every estimate input is either *given* (one value, low == high), a *default*
(a published range stands in for what the user did not say), or *derived*
from others. Outputs carry the derivation text, so ``to_dict()`` shows how
each number was reached. All quantities here are positive, so the low end of
a product is the product of the low ends, and of a quotient low / high.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from wattwise.errors import BadInput

FigureKind = Literal["given", "default", "derived"]


@dataclass(frozen=True)
class Range:
    """A positive central value with low/high bounds (low <= value <= high)."""

    low: float
    value: float
    high: float

    @classmethod
    def exact(cls, value: float) -> Range:
        return cls(value, value, value)

    def __mul__(self, other: Range | float) -> Range:
        o = other if isinstance(other, Range) else Range.exact(float(other))
        return Range(self.low * o.low, self.value * o.value, self.high * o.high)

    __rmul__ = __mul__

    def __truediv__(self, other: Range | float) -> Range:
        o = other if isinstance(other, Range) else Range.exact(float(other))
        return Range(self.low / o.high, self.value / o.value, self.high / o.low)

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.value + other.value, self.high + other.high)

    def maximum(self, other: Range) -> Range:
        """Element-wise max: the slower of two bounds at each end of the range."""
        return Range(
            max(self.low, other.low), max(self.value, other.value), max(self.high, other.high)
        )

    @property
    def is_exact(self) -> bool:
        return self.low == self.value == self.high


@dataclass(frozen=True)
class Figure:
    """One output or input of an estimate: value, range, unit, and how it was reached."""

    value: float
    low: float
    high: float
    unit: str
    kind: FigureKind
    derivation: str

    def __post_init__(self) -> None:
        # Inputs are bounded (see ``quantities``), so this guards the arithmetic:
        # a non-finite figure is never shown or stored as if it were a number.
        if not all(math.isfinite(x) for x in (self.value, self.low, self.high)):
            raise BadInput(f"the inputs give a {self.unit} figure that is not a finite number "
                           f"({self.derivation}); check their units and sizes")

    @classmethod
    def of(cls, r: Range, unit: str, kind: FigureKind, derivation: str) -> Figure:
        return cls(r.value, r.low, r.high, unit, kind, derivation)

    @classmethod
    def given(cls, value: float, unit: str, what: str = "given") -> Figure:
        return cls(value, value, value, unit, "given", what)

    @property
    def range(self) -> Range:
        return Range(self.low, self.value, self.high)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AppliedDefault:
    """A default that stood in for an input the user did not give, and what it does.

    Listed so that no default changes a result unseen. ``affects`` names the
    field it scales (the energy, hence J/token and carbon; or embodied carbon).
    ``effect_pct`` is the change of that field's central value against not
    applying the factor at all, for factors with a neutral value (PUE and
    goodput: 1); None where there is none (MFU, power). ``at_low_pct`` and
    ``at_high_pct`` are the change with this default at its low and high end,
    the others held: its share of the result's range.
    """

    name: str
    value: float
    low: float
    high: float
    unit: str
    affects: str
    effect_pct: float | None
    at_low_pct: float
    at_high_pct: float
    why: str

    @classmethod
    def of(
        cls,
        name: str,
        r: Range,
        unit: str,
        why: str,
        *,
        affects: str = "energy_mwh",
        inverse: bool = False,
        neutral: float | None = None,
    ) -> AppliedDefault:
        """``inverse``: the result is proportional to 1 / this factor (MFU, goodput, lifetime)."""
        v = r.value
        if inverse:
            at_low, at_high = v / r.low - 1, v / r.high - 1
            effect = None if neutral is None else neutral / v - 1
        else:
            at_low, at_high = r.low / v - 1, r.high / v - 1
            effect = None if neutral is None else v / neutral - 1
        return cls(
            name, v, r.low, r.high, unit, affects,
            None if effect is None else 100 * effect, 100 * at_low, 100 * at_high, why,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fmt(x: float) -> str:
    """Compact human form for derivation texts (3 significant digits)."""
    return f"{x:.3g}"


def fmt_n(x: float) -> str:
    """A figure for an error line: 5,000 rather than 5e+03 up to a billion, else 3 digits."""
    return f"{x:,.0f}" if 1e3 <= abs(x) < 1e9 else fmt(x)


def within(a: float, b: float, tolerance: float) -> bool:
    """True when ``a`` and ``b`` differ by at most ``tolerance`` relative to the larger."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b))
