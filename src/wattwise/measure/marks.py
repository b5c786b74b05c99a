"""A cumulative meter reading, as taken at each training-step mark.

A ``NamedTuple`` so code that unpacks or indexes the old plain 4-tuples keeps working.
"""

from __future__ import annotations

from typing import NamedTuple


class StepMark(NamedTuple):
    """The meter's totals at one moment: monotonic time and energy with its range.

    ``energy_j``, ``low_j`` and ``high_j`` are cumulative since the sensors started,
    summed over the domains counted in totals.
    """

    t: float
    energy_j: float
    low_j: float
    high_j: float


#: Where nothing has been read yet.
ZERO = StepMark(0.0, 0.0, 0.0, 0.0)
