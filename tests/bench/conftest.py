"""Shared helpers: a step that advances a manual clock, so energy per sample is exact."""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock


def clocked(power_w: float, dt_s: float, samples: int, kind: str = "measured"
            ) -> tuple[ConstantPowerSensor, Callable[[], int]]:
    """A sensor at ``power_w`` on a manual clock and a step that moves it ``dt_s`` per call."""
    clock = ManualClock()
    sensor = ConstantPowerSensor({"cpu:0": power_w}, clock=clock, kind=kind)  # type: ignore[arg-type]

    def step() -> int:
        clock.advance(dt_s)
        return samples

    return sensor, step
