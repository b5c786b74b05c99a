"""Planning under a capacity limit: the MILP (HiGHS) and the greedy heuristic.

Every job is a set of *options*, one per allowed zone:

- ``Starts``: one uninterrupted run, a 0/1 choice among the candidate starts
  that contain the optimum (``Grid.starts``). Non-interruptible jobs, and
  interruptible ones whose window holds too few whole slots to be cut.
- ``Slots``: an interruptible job on the zone's whole slots. The MILP has a
  0/1 run variable per slot, a zone choice ``u``, and chunk-start indicators
  ``y`` (``y_t = x_t AND NOT x_{t-1}``) where chunks are constrained: every
  resumed chunk spends ``r`` slots on its resume overhead, so the slots run
  are ``k + r · (chunks - 1)`` and the overhead is charged at the intensity of
  the slots it really runs in; a first-start indicator ``z`` (with a running
  prefix sum) tells the first chunk (``>= m`` slots) from resumed ones
  (``>= r + m`` slots). This is the single-job model of ``_slots.chunk_dp``, so the
  capacity-free optimum stays a true lower bound.

Capacity is per zone and forecast slot, shared by both kinds: a continuous run
occupies every slot it overlaps, an interruptible job the slots it runs in.

The tie rule of the capacity-free planner holds here too (``ties.TieRule``):
every job also has its usual time as an option (home zone, one piece from its
baseline start), and every other option costs its bar on top of its grams (with
error scenarios, the forecast saving at which the job's capacity-free move
reaches the rule's probability of saving; else the forecast's error over the
job's energy, or ``MIN_SAVING_PCT`` of running at the usual time). So a job
leaves its usual time only for a forecast saving above its bar, or when the
capacity at its usual time is taken; without a capacity limit and without error
scenarios this is exactly ``hold_if_marginal``. Reported grams never include a
bar.

The options are built in ``options``, solved exactly in ``milp`` or by the heuristic
in ``greedy``; their names are named here too.
"""

from __future__ import annotations

from wattwise.schedule.greedy import (
    IMPROVE_PASSES,
    MAX_EJECT,
    PLACES_TRIED,
    REPAIR_BUDGET,
    RESTARTS,
    SEARCH_BUDGET,
    SEARCH_MAX_JOBS,
    greedy,
)
from wattwise.schedule.milp import milp
from wattwise.schedule.options import ONE_PIECE, Option, Slots, Starts, n_variables, options

__all__ = [
    "IMPROVE_PASSES", "MAX_EJECT", "ONE_PIECE", "PLACES_TRIED", "REPAIR_BUDGET", "RESTARTS",
    "SEARCH_BUDGET", "SEARCH_MAX_JOBS", "Option", "Slots", "Starts", "greedy", "milp",
    "n_variables", "options",
]
