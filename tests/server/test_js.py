"""The test helper that writes numbers as the pages do."""

from __future__ import annotations

import pytest

from tests.server._js import to_precision


@pytest.mark.parametrize(("x", "want"), [
    (0.0012962247845766494, "0.00130"), (0.0013, "0.00130"), (123.456, "123"),
    (999.6, "1.00e+3"), (1.5, "1.50"), (0, "0.00"), (-0.0421, "-0.0421"),
    (1.17e-7, "1.17e-7"), (2.5e21, "2.50e+21"), (12.0, "12.0")])
def test_it_writes_what_javascript_writes(x: float, want: str) -> None:
    """Each expected string is what Chromium's ``Number.prototype.toPrecision(3)`` gives."""
    assert to_precision(x, 3) == want
