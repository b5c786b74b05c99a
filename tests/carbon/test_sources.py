"""IntensitySeries integrates its piecewise function exactly."""

from __future__ import annotations

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput


def _s(interp: str = "step") -> IntensitySeries:
    return IntensitySeries(
        np.array([0.0, 10.0, 20.0]), np.array([1.0, 3.0, 5.0]), "DE", "t", "trace", 10.0, interp
    )


def test_step_mean_over_partial_samples() -> None:
    assert _s().mean_over(5, 15) == pytest.approx(2.0)
    assert _s().end_unix_s == 30.0 and _s().value_at(29.9) == 5.0


def test_linear_mean_is_trapezoid() -> None:
    assert _s("linear").mean_over(0, 10) == pytest.approx(2.0)


def test_outside_and_unsorted_are_rejected() -> None:
    with pytest.raises(BadInput, match="outside"):
        _s().mean_over(25, 31)
    with pytest.raises(BadInput, match="increasing"):
        IntensitySeries(np.array([1.0, 0.0]), np.array([1.0, 1.0]), "DE", "t", "trace", 1.0)
