"""The test helper that writes numbers as the pages do (checked against the page's own
``p3`` in a browser by ``test_browser_number_format``)."""

from __future__ import annotations

import pytest

from tests.server._js import page_figure

#: (figure, as the page writes it): three digits, trailing zeros kept; an exponent only
#: below 1e-4, as Python writes it; none from 1,000 up; 0 as "0".
WRITTEN = [
    (0.0012962247845766494, "0.00130"), (0.0013, "0.00130"), (123.456, "123"),
    (999.6, "1000"), (4342.2, "4340"), (1.5, "1.50"), (0, "0"), (-0.0421, "-0.0421"),
    (1.17e-7, "1.17e-07"), (1e-5, "1.00e-05"), (9.7148e-5, "9.71e-05"), (1e-4, "0.000100"),
    (9.99996e-5, "0.000100"), (2.5e21, "2.5e+21"), (12.0, "12.0")]


@pytest.mark.parametrize(("x", "want"), WRITTEN)
def test_it_writes_what_the_page_writes(x: float, want: str) -> None:
    assert page_figure(x) == want
