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
    ((0.0, 0.0, 0.0), "0.0 J"),
    ((0.0945, 0.0873, 0.107), "94.5 mJ (87.3-107.0)"),
    ((12.34, 9.1, 15.0), "12.3 J (9.1-15.0)"),
    # the unit the largest takes, as the dashboard's; 3 significant digits below 1 of it
    ((0.9, 0.8, 1.2), "0.9 J (0.8-1.2)"),
    ((0.9448, 0.873, 1.066), "0.945 J (0.873-1.07)"),  # was "0.9 J (0.9-1.1)"
    ((0.000945, 0.000873, 0.001066), "0.945 mJ (0.873-1.07)"),
    ((0.99996, 0.99996, 0.99996), "1.0 J"),  # was "1000.0 mJ"
    ((9.99996e-7, 9e-7, 1e-6), "1.0 µJ (0.9-1.0)"),
    # below 1 µJ in J with an exponent, as the pages (was "0.0 nJ (0.0-0.0)")
    ((5e-10, 4.62e-10, 5.64e-10), "5e-10 J (4.62e-10-5.64e-10)"),
    ((4.0e-10, 4.0e-10, 4.0e-10), "4e-10 J"),
    ((0.5, 0.5, 0.5000000001), "500.0 mJ"),  # a range that reads as the figure
    ((12.34, 12.31, 12.34), "12.3 J"),
    ((float("nan"), 0.0, 1.0), "-"),  # was "nan nJ (0.0-1000000000.0)"
    ((1.0, float("nan"), 2.0), "1.0 J"),  # no range that is not two numbers
    ((2.0, 0.00012, 2.5), "2.0 J (0.00012-2.5)"),  # a low was written "0.0"
    ((1.5, 0.924, 2.0), "1.5 J (0.924-2.0)"),
    # a range past what one run may hold: said not usable, as the pages say it
    # from 3600 J in Wh and kWh, as the pages (a 2.16 MJ run was "2160000.0 J")
    ((3.046e4, 2.7414e4, 3.3506e4), "8.46 Wh (7.62-9.31)"),
    ((2.16e6, 1.944e6, 2.376e6), "600.0 Wh (540.0-660.0)"),
    ((3599.6, 3599.6, 3599.6), "1.00 Wh"),  # 3600 J at 3 significant digits, as the pages
    ((5.4e8, 5.04e8, 5.76e8), "150.0 kWh (140.0-160.0)"),
    ((9e14, 8.3e14, 1.0157e15), "250000000.0 kWh (range not usable: its high is "
     "implausibly large (1.0157e+15 J, more than 1e+15 J): a damaged record)"),
    ((9e14, 8.3e14, 1e15 + 1), "250000000.0 kWh (range not usable: its high is "
     "implausibly large (1000000000000001 J, more than 1e+15 J): a damaged record)"),
    ((3.78e-5, -3.78e-5, 4.27e-5), "37.8 µJ (range not usable: its low is negative "
     "(-37.8 µJ): a damaged record)"),  # was "37.8 µJ (-37.8-42.7)"
    ((3.78e-5, -2e15, 4.27e-5), "37.8 µJ (range not usable: its low is negative "
     "(-555555555.6 kWh): a damaged record)"),  # was said of its high
    ((0.0, -0.0, -0.0), "0.0 J"),  # was "0.0 J (-0.0--0.0)"
    # a figure past what one run may hold is written as it is (it recursed for ever),
    # its range judged as any other's (it was written as a reading)
    ((2e15, 2e15, 2e15), "555555555.6 kWh"),
    ((3e15, 2e15, 4e15), "833333333.3 kWh (range not usable: its high is implausibly "
     "large (4e+15 J, more than 1e+15 J): a damaged record)"),
    # past it by far: as the pages write it (it was written in 301 digits)
    ((5.41, 5.41, 1e300), "5.4 J (range not usable: its high is implausibly large (1e+300 J, "
     "more than 1e+15 J): a damaged record)"),
    ((-1.0, -2.0, 5.0), "-1.0 J (range not usable: its low is negative (-2.0 J): a damaged "
     "record)"),  # was "-1.0 J (-2.0-5.0)"
    ((-5.0, -5.0, -5.0), "-5.0 J"),
    # a range that does not hold its figure (was "-2000000000000000.0 J (3e-05-4e-05)")
    ((-2e15, 3e-5, 4e-5), "-555555555.6 kWh (range not usable: it does not hold its "
     "figure (30.0 µJ to 40.0 µJ): a damaged record)"),
    ((5.0, 6.0, 4.0), "5.0 J (range not usable: it does not hold its figure (6.0 J to 4.0 J): "
     "a damaged record)"),
    # its bounds in the figure's unit, and a negative low too, as the pages write them
    # (they were "1000.0 J to 2000.0 J" and "(-3.6 J)" beside "1.39 Wh", and the range's
    # Wh and J beside figures of 3000 J and 500 mJ)
    ((3000.0, -1.0, 4000.0), "3000.0 J (range not usable: its low is negative (-1.0 J): a "
     "damaged record)"),
    ((0.5, -0.001, 2.0), "500.0 mJ (range not usable: its low is negative (-1.0 mJ): a "
     "damaged record)"),
    ((0.5, 1.0, 2.0), "500.0 mJ (range not usable: it does not hold its figure (1000.0 mJ "
     "to 2000.0 mJ): a damaged record)"),
    ((5000.0, 1000.0, 2000.0), "1.39 Wh (range not usable: it does not hold its figure "
     "(0.278 Wh to 0.556 Wh): a damaged record)"),
    ((5004.0, -3.6, 6000.0), "1.39 Wh (range not usable: its low is negative (-0.00100 Wh): "
     "a damaged record)"),
    ((1.0, 1.0000001, 1.1), "1.0 J (1.0-1.1)"),  # within a record's rounding
    # a wide range's high gave its low a slack that held the figure (was "(12.5-1e8)")
    # (its bounds in its figure's unit: it read "12.5 J to 27.8 kWh")
    ((1.0, 12.5, 1e8), "1.0 J (range not usable: it does not hold its figure (12.5 J to "
     "100000000.0 J): a damaged record)"),
    ((1.0, 0.9999995, 1e8), "2.78e-07 kWh (2.78e-07-27.8)"),  # the unit the largest takes
    # a figure and the bound it passes that read alike, rounded, told apart (it read
    # "13.7 J (... (13.7 J to 16.4 J) ...)")
    ((13.680419633609818, 13.68043331405681, 16.41650356033178), "13.7 J (range not usable: "
     "it does not hold its figure (13.68042 J; range 13.68043 J to 16.4 J): a damaged "
     "record)"),
    ((1e-09, 1e-10, 9.99998e-10), "1e-09 J (range not usable: it does not hold its figure "
     "(1e-09 J; range 1e-10 J to 9.99998e-10 J): a damaged record)"),
    ((1e15, 1.0000001e15, 1e15), "277777777.8 kWh (range not usable: its low is "
     "implausibly large (1.0000001e+15 J, more than 1e+15 J): a damaged record)"),
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


@pytest.mark.parametrize(("watts", "said"), [
    (12.345, "12.35 W"), (0.1, "0.10 W"), (0.05, "0.05 W"), (5.45e-6, "5.45e-06 W"),
    (1e-16, "1e-16 W"), (0.0, "0.00 W"), (None, "-"), (float("inf"), "-")])
def test_a_small_power_is_written_to_3_significant_digits(watts: object, said: str) -> None:
    from wattwise.measure.results import fmt_watts

    assert fmt_watts(watts) == said  # a run of 5.45 µW was "0.00 W"; in W, as the pages


def test_a_short_window_says_its_duration_and_power_in_their_units() -> None:
    from wattwise.measure.results import DomainResult, EnergyResult

    d = DomainResult(domain="cpu:model", component="cpu", source="a model",
                     kind="estimated", in_total=True, energy_j=0.0224, low_j=0.0206,
                     high_j=0.0249, avg_power_w=13.18)
    r = EnergyResult(name="tiny", start_unix_s=1.0, end_unix_s=1.0017, duration_s=0.0017,
                     domains=(d,))
    first = str(r).splitlines()[0]  # was "tiny: 22.4 mJ (20.6-24.9) in 0.00 s"
    assert first.startswith("tiny: 22.4 mJ (20.6-24.9) in 1.70 ms, avg 13.18 W")


def test_a_figure_past_what_one_run_may_hold_is_written_not_a_crash() -> None:
    """fmt_joules(2e15) recursed until RecursionError: `show` and `report` of a run with
    a stored CPU energy or step mark past 1e15 J crashed, and /api/runs answered 500."""
    from wattwise.measure.results import fmt_joules

    assert fmt_joules(2e15) == "555555555.6 kWh"


@pytest.mark.parametrize(("values", "said"), [
    # a step's energy against its run's total: each alone read "1.00 Wh"
    ((3600.0, 3599.4), ("1 Wh", "0.9998 Wh")),
    # one unit, the largest's: it read "1.03 Wh" beside "3587.4 J"
    ((3700.0, 3587.4), ("1.03 Wh", "0.997 Wh")),
    ((9202.3, 2300.575, 6901.725), ("2.56 Wh", "0.639 Wh", "1.92 Wh")),
    ((5e-3, 4e-3), ("5.0 mJ", "4.0 mJ")),
    ((1.5, 1.5), ("1.5 J", "1.5 J")),  # alike where they are one value
    ((1.0, 1.0 + 2**-52), ("1 J", "1.0000000000000002 J")),
    ((None, "x", 3.0, float("nan")), ("-", "-", "3.0 J", "-")),
    ((0.0, -0.0), ("0.0 J", "0.0 J")),
])
def test_energies_read_side_by_side_share_a_unit_and_differ(
        values: tuple[object, ...], said: tuple[str, ...]) -> None:
    from wattwise.measure.results import fmt_energies

    assert fmt_energies(*values) == said
