"""An average power as every output gives it: never a stored one that its own energy
and duration do not give. A stored power is a figure like the energy it is derived from
(``wattwise run`` records ``energy_j / duration_s``, equal to the last bit), so a power
of 1e300 W or -5 W beside a sound energy is a damaged record, and a domain whose energy
is not usable has no power either. The bound is the energy's own: a power is shown only
where it is the judged energy over the judged duration, so it is bounded as that energy
is (``records.stored_energy``); without a duration, by ``MAX_POWER_W``."""

from __future__ import annotations

import math
from typing import Any

#: How far a stored power may be from energy / duration and still be that figure
#: (relative): what a float division written and read back as JSON can differ by.
POWER_TOLERANCE = 1e-9

#: The largest average power a record without a usable duration may show (W): 10 MW,
#: a whole data-centre hall, past any one machine a run is measured on; a stored power
#: above it (1e300 W) or below 0 is a damaged record where nothing else can check it.
MAX_POWER_W = 1e7

#: The longest duration a power is derived over (s): about 32 years, longer than any
#: machine has run one job; a stored 1e300 s would give every power as 0 W.
MAX_DURATION_S = 1e9


#: How far a stored power may be from energy / duration (relative) where the duration is
#: not the stored one but its run's wall-clock window in its place
#: (``records.judged_stored.stored_duration``): the meter's monotonic clock and the wall
#: clock agree to about a microsecond a read and NTP slews the latter by at most 0.05 %.
CLOCKS_TOLERANCE = 1e-3


def judged_power(stored: Any, energy_j: float | None, duration_s: Any,
                 tolerance: float = POWER_TOLERANCE) -> float | None:
    """The average power of a figure whose usable energy is ``energy_j`` (None: not
    usable) over ``duration_s``: the stored power where it is that energy over that
    duration (to ``tolerance``, relative), else the energy over the duration; None where
    the energy is not usable. Without a usable duration, the stored power where it is a
    number from 0 to ``MAX_POWER_W`` (nothing to check it against), else None."""
    from wattwise.records.stored_energy import finite_float

    if energy_j is None or not math.isfinite(energy_j):
        return None
    power = finite_float(stored)
    duration = finite_float(duration_s)
    if duration is None or not 0 < duration <= MAX_DURATION_S:
        return power if power is not None and 0 <= power <= MAX_POWER_W else None
    derived = energy_j / duration
    if not math.isfinite(derived):
        return None
    if power is not None and math.isclose(power, derived, rel_tol=tolerance,
                                          abs_tol=1e-300):
        return power
    return derived


def sums_other_runs(stored: Any) -> bool:
    """Whether a stored summary or window holds the energy of other runs' timed
    repetitions (a compression study's or tuning's record: ``summary_of``, its window's
    ``run_ids``): not an energy over its own span, so it has no average power (a study's
    37.9 J over its 3.8 s, warm-up and quality checks included, was given as 9.98 W, the
    power of nothing)."""
    return isinstance(stored, dict) and (
        "summary_of" in stored or isinstance(stored.get("run_ids"), list))
