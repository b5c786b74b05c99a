"""Energies and durations as the CLI, ``report`` and the static figure write them: a real
run of 22.4 mJ over 1.7 ms (a function decorated with ``wattwise.track``) was "0.0 J
(0.0-0.0)" over "0.00 s", where the page said 22.4 mJ and the emissions line under it
2.987e-06 g."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("args", "said"), [
    ((0.0224, 0.0206, 0.0249), "22.4 mJ (20.6-24.9)"),  # a 1.7 ms decorated function's
    ((3.78e-3, 3.78e-3, 3.78e-3), "3.8 mJ"),
    ((3.78e-5, 3.0e-5, 4.0e-5), "37.8 µJ (30.0-40.0)"),
    ((4.0e-10, 4.0e-10, 4.0e-10), "0.4 nJ"),
    ((0.0, 0.0, 0.0), "0.0 J"),
    ((0.0945, 0.0873, 0.107), "94.5 mJ (87.3-107.0)"),
    ((12.34, 9.1, 15.0), "12.3 J (9.1-15.0)"),
    ((0.9, 0.8, 1.2), "0.9 J (0.8-1.2)"),  # a range past 1 J: one unit for all three
])
def test_an_energy_under_a_joule_is_never_written_as_zero(args: tuple[float, float, float],
                                                          said: str) -> None:
    from wattwise.measure.results import fmt_energy

    assert fmt_energy(*args) == said


@pytest.mark.parametrize(("seconds", "said"), [
    (0.00179, "1.79 ms"), (0.0999, "99.90 ms"), (0.1, "0.10 s"), (12.345, "12.35 s"),
    (None, "-"), (float("nan"), "-"), ("x", "-"), (True, "-")])
def test_a_short_duration_is_written_in_ms(seconds: object, said: str) -> None:
    from wattwise.measure.results import fmt_seconds

    assert fmt_seconds(seconds) == said
