"""Tick labels thinned to what fits the axis: one rule for log and linear axes, so an
axis spanning 80 decades gets a label every few decades, never 80 labels in a smear."""

from __future__ import annotations

import itertools

from wattwise.plot.figure import Text, fit_ticks, linear, nice_ticks, x_axis, y_axis


def _labels(items: list) -> list[Text]:  # type: ignore[type-arg]
    return [t for t in items if isinstance(t, Text)]


def _apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_eighty_decades_on_a_short_axis_get_labels_that_do_not_overlap() -> None:
    import math

    lo, hi = 1e-41, 1e38
    ticks = nice_ticks(lo, hi, True)
    assert len(ticks) >= 79  # one per decade before thinning

    def fx(v: float) -> float:
        return 80 + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * 470

    labels = _labels(x_axis(ticks, fx, 400.0, lambda t: f"{t:.3g}"))
    assert 3 <= len(labels) <= 12
    for a, b in itertools.combinations(labels, 2):
        assert _apart(a.box(), b.box()), (a.text, b.text)
    exps = [round(math.log10(float(t.text))) for t in labels]
    (step,) = {b - a for a, b in itertools.pairwise(exps)}
    assert step > 1 and all(e % step == 0 for e in exps)  # round decades, evenly thinned


def test_linear_ticks_too_dense_for_the_axis_keep_round_ones() -> None:
    ticks = [float(v) for v in range(0, 101)]  # 101 labels on 200 px
    fx = linear(0.0, 100.0, 0.0, 200.0)
    labels = _labels(x_axis(ticks, fx, 300.0, lambda v: f"{v:g} s"))
    assert 2 <= len(labels) < 20
    assert all(float(t.text.split()[0]) % 10 == 0 for t in labels)
    for a, b in itertools.combinations(labels, 2):
        assert _apart(a.box(), b.box())
    ys = _labels(y_axis(ticks, linear(0.0, 100.0, 300.0, 100.0), 80.0, None,
                        lambda v: f"{v:g} W"))
    assert 2 <= len(ys) < 20
    for a, b in itertools.combinations(ys, 2):
        assert _apart(a.box(), b.box())


def test_ticks_that_fit_are_all_kept() -> None:
    ticks = nice_ticks(1.0, 30.0, True)
    assert fit_ticks(ticks, linear(0, 30, 0, 6000), lambda t: 20) == ticks
    assert fit_ticks([5.0], lambda t: t, lambda t: 100) == [5.0]


def test_a_linear_axis_gets_four_to_seven_round_ticks_whatever_its_range() -> None:
    import random

    # the Pareto front's energy axis once ran 3.1e-6 to 5.37e-5 J and got two ticks
    assert nice_ticks(3.1e-6, 5.37e-5, False) == [1e-05, 2e-05, 3e-05, 4e-05, 5e-05]
    assert nice_ticks(0.25, 54.4, False) == [10.0, 20.0, 30.0, 40.0, 50.0]
    rng = random.Random(7)
    for _ in range(20000):
        lo = rng.uniform(-100.0, 100.0)
        hi = lo + 10.0 ** rng.uniform(-8.0, 8.0)
        ticks = nice_ticks(lo, hi, False)
        assert 4 <= len(ticks) <= 7, (lo, hi, ticks)
        assert all(lo - 1e-9 * abs(hi - lo) <= t <= hi + 1e-9 * abs(hi - lo) for t in ticks)


def test_a_log_axis_over_fewer_than_three_decades_gets_2_and_5_between() -> None:
    # a real Pareto front from 5e-6 to 1.04e-4 J was labelled "10 µJ" and "100 µJ" alone
    assert nice_ticks(5e-6, 1.04e-4, True) == [5e-06, 1e-05, 2e-05, 5e-05, 1e-04]
    assert nice_ticks(1e-6, 1e-3, True) == [1e-6, 1e-5, 1e-4, 1e-3]  # decades where 3 fit


def test_ticks_of_a_tiny_span_stay_apart() -> None:
    # rounded to 12 decimals, 1e-13 to 1e-12 gave [0.0, 0.0, 1e-12, 1e-12, 1e-12]
    ticks = nice_ticks(1e-13, 1e-12, False)
    assert len(set(ticks)) == len(ticks) >= 4
    assert all(1e-13 <= t <= 1e-12 * (1 + 1e-9) for t in ticks)
