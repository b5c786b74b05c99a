"""How the pages write numbers, for tests that look for a figure in a page's text."""

from __future__ import annotations


def to_precision(x: float, digits: int) -> str:
    """JavaScript's ``x.toPrecision(digits)``: trailing zeros kept ("0.00130"), where
    Python's ``:.3g`` drops them ("0.0013"); exponent form below 1e-6 or from 10**digits."""
    mantissa, exp = f"{x:.{digits - 1}e}".split("e")
    e = int(exp)
    if e < -6 or e >= digits:
        return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return f"{x:.{max(0, digits - 1 - e)}f}"
