"""Carbon-aware scheduling: plan jobs on forecasts, replay years of traces, run the plan.

Planning (``plan``, ``best_window``) is separate from executing (``executors``),
so a cluster executor can run the same ``Plan`` a local one does.
"""

from __future__ import annotations

from wattwise.schedule.jobs import Job, parse_duration
from wattwise.schedule.planner import Assignment, Plan, best_window, plan, replan

__all__ = ["Assignment", "Job", "Plan", "best_window", "parse_duration", "plan", "replan"]
