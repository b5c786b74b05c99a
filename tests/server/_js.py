"""How the pages write numbers, for tests that look for a figure in a page's text."""

from __future__ import annotations


def page_figure(x: float, digits: int = 3) -> str:
    """A figure as the page's ``p3`` writes it: ``digits`` significant digits with
    trailing zeros kept ("0.00130"); below 1e-4 in exponent form as Python writes it
    ("9.71e-05", "1.00e-05"); never an exponent from 10**digits up ("4340") to 1e21,
    where JavaScript's ``String`` writes one ("2.5e+21", as Python's ``repr``); 0 as "0"."""
    mantissa, exp = f"{x:.{digits - 1}e}".split("e")
    e, rounded = int(exp), float(f"{x:.{digits - 1}e}")
    if rounded == 0:
        return "0"
    if abs(rounded) < 1e-4:
        return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e):02d}"
    if e >= 21:
        return repr(rounded)
    if e >= digits:
        return str(int(rounded))
    return f"{x:.{max(0, digits - 1 - e)}f}"
