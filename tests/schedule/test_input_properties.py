"""Property tests of the jobs-file and duration parsers: for any text or JSON they
return valid jobs (finite numbers, times in 1970-2200 UTC, windows inside the
planning horizon) or raise ``BadInput``; never another exception, never a hang."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattwise._userinput import MAX_TIME_UNIX_S, MIN_TIME_UNIX_S
from wattwise.errors import BadInput
from wattwise.schedule.jobfile import JobSpec, parse_jobs
from wattwise.schedule.jobs import MAX_HORIZON_S, parse_duration

BOUNDED = settings(max_examples=200, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
NOW = 1_800_000_000.0

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["1h", "30m", "8h", "2h30m", "0s", "400d", "nan", "GB", "DE", "no",
                     "false", "2030-01-01T00:00Z", "9999-12-31", "0000-01-01", "1e20"]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
_KEYS = st.sampled_from(["name", "duration", "within", "earliest", "deadline", "power_w",
                         "energy_kwh", "zones", "zone", "interruptible", "min_chunk",
                         "resume_cost", "resources", "command"])
_JOB = st.dictionaries(_KEYS, _VALUES, max_size=8)
_GOODISH = st.fixed_dictionaries(
    {"duration": st.sampled_from(["1h", "30m", "9h", "0s", "1.5h"]),
     "within": st.sampled_from(["8h", "12h", "1h", "400d"]),
     "zones": st.sampled_from([["GB"], ["DE", "FR"], ["gb"], ["Atlantis"], []])},
    optional={"resources": _SCALARS, "interruptible": _SCALARS, "power_w": _SCALARS,
              "min_chunk": _SCALARS, "command": _VALUES, "name": _SCALARS},
)


def _assert_valid(specs: list[JobSpec]) -> None:
    assert specs
    for s in specs:
        j = s.job
        assert j.problems() == []
        for x in (j.duration_s, j.power_w, j.min_chunk_s, j.resume_cost_s):
            assert math.isfinite(x) and x >= 0
        for t in (j.earliest_start_unix_s, j.deadline_unix_s):
            assert MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S
        assert j.deadline_unix_s - NOW <= MAX_HORIZON_S
        assert isinstance(j.interruptible, bool)
        assert isinstance(j.resources, int) and j.resources >= 1
        assert s.command is None or all(isinstance(c, str) and "\x00" not in c
                                        for c in s.command)


def _try(text: str) -> None:
    try:
        specs = parse_jobs(text, NOW, default_zone=None, name="jobs.json")
    except BadInput:
        return
    _assert_valid(specs)


@BOUNDED
@given(st.text(max_size=300))
def test_any_text_is_valid_jobs_or_bad_input(text: str) -> None:
    _try(text)


@BOUNDED
@given(st.lists(_JOB, min_size=1, max_size=4))
def test_any_job_objects_are_valid_jobs_or_bad_input(jobs: list[dict[str, Any]]) -> None:
    _try(json.dumps({"jobs": jobs}))


@BOUNDED
@given(st.lists(_GOODISH, min_size=1, max_size=4))
def test_nearly_right_jobs_are_valid_jobs_or_bad_input(jobs: list[dict[str, Any]]) -> None:
    _try(json.dumps({"jobs": jobs}))


@BOUNDED
@given(_VALUES)
def test_any_json_document_is_valid_jobs_or_bad_input(doc: Any) -> None:
    _try(json.dumps(doc))


@BOUNDED
@given(st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A([0-9]{1,30}(\.[0-9]{1,5})?[dhms]){1,4}\Z"),
))
def test_any_duration_text_is_finite_and_in_the_horizon_or_bad_input(text: str) -> None:
    try:
        s = parse_duration(text)
    except BadInput:
        return
    assert math.isfinite(s) and 0 <= s <= MAX_HORIZON_S
