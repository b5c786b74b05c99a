"""The emissions curve ends at the run's own figure to the last bit, flat stretches before
its end included: a finished run's last point read 0.48632416271539997 g where its
summary said 0.4863241627153999 g (the scale's rounding)."""

from __future__ import annotations

import itertools
import random

from wattwise.server.timeline import cumulative_emissions


def test_the_curve_ends_at_the_figure_given_exactly_and_never_falls() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        n = rng.randrange(1, 30)
        energy = [rng.choice([0.0, rng.uniform(0, 50), rng.uniform(0, 1e-3)]) for _ in range(n)]
        energy[0] = max(energy[0], 1e-6)
        intensity = [rng.choice([None, rng.uniform(10, 900)]) for _ in range(n)]
        grams = rng.uniform(1e-6, 10.0)
        cum = cumulative_emissions(energy, intensity, grams)
        assert cum is not None and len(cum) == n
        assert cum[-1] == grams
        assert all(b >= a for a, b in itertools.pairwise(cum)), (energy, intensity, grams)
        flat = len(cum) - 1
        while flat > 0 and energy[flat] == 0.0:
            flat -= 1
        assert cum[flat:] == [grams] * (n - flat)  # the stretch with nothing after it
