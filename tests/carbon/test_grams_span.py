"""An emissions range after its figure, as every CLI line writes it: none where its bounds
read alike ("0.001594-0.001594" of a measured run's exact energy), a missing bound said
("--0.03" read as a minus)."""

from __future__ import annotations

import pytest

from wattwise.carbon.grams_span import grams_span


@pytest.mark.parametrize(("low", "high", "said"), [
    (1.2, 1.5, "1.2-1.5"),
    (0.001594, 0.0015940001, ""),
    (0.0101, 0.0101, ""),
    (None, 0.03, "low not recorded to 0.03"),
    (0.02, float("nan"), "0.02 to high not a number"),
    (None, None, ""),
    (1e-5, 2e-5, "1e-05-2e-05"),
    # a bound no run could hold is said, never written as a reading ("0.000163--1")
    (0.000163, -1.0, "range not usable: a negative bound (0.000163 to -1): a damaged record"),
    (0.0006, 0.0004, "range not usable: its low above its high (0.0006 to 0.0004): a "
     "damaged record"),
    ("abc", 0.0006, "low not a number to 0.0006"),  # stored, but no number
    (True, 10**400, "low not a number to high not a number"),
    # no run could hold it even where its bounds read alike: said, not left out
    (-0.0001, -0.0001, "range not usable: a negative bound (-0.0001 to -0.0001): a damaged "
     "record"),
    (-0.0, 0.0003064, "0-0.0003064"),  # a stored -0.0 is 0 (it read "-0-0.0003064")
    (None, -0.0, "low not recorded to 0"),
])
def test_a_range_reads_as_two_bounds_or_not_at_all(low: object, high: object,
                                                    said: str) -> None:
    assert grams_span(low, high) == said


#: Ranges after a figure, each with what ``grams_span`` says of it; the page's twin
#: (``gramsSpan`` in index.html) is held to the same in ``tests/server``.
WITH_FIGURE = [
    (0.0004, 0.0006, 0.0005, "0.0004-0.0006"),
    (0.0004, 0.0006, 0.0007, "range not usable: it does not hold its figure (0.0004 to "
     "0.0006): a damaged record"),
    (0.0004, 0.0006, 0.0006 * (1 + 1e-12), "0.0004-0.0006"),  # rounding: held
    (0.0005, 0.0005, 0.0005, ""),
    (0.0005, 0.0005, 0.00051, "range not usable: it does not hold its figure (0.0005 to "
     "0.0005): a damaged record"),
    (None, 0.0006, 0.0007, "low not recorded to 0.0006"),
    (0.0006, 0.0004, 0.0005, "range not usable: its low above its high (0.0006 to 0.0004): "
     "a damaged record"),
]


@pytest.mark.parametrize(("low", "high", "figure", "said"), WITH_FIGURE)
def test_a_range_that_does_not_hold_its_figure_is_not_usable(
        low: object, high: object, figure: float, said: str) -> None:
    assert grams_span(low, high, figure) == said
