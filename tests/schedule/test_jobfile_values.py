"""The jobs file's shape and the power it gives: the documented object, and a draw above
0 W, or one clear error naming the job and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattwise.errors import BadInput
from wattwise.schedule.jobfile import load_jobs, parse_jobs

NOW = 1_790_000_000.0
JOB = {"name": "a", "duration": "1h", "within": "8h", "zones": ["GB"]}


def test_a_bare_list_of_jobs_is_refused_naming_the_documented_object() -> None:
    # README, `plan --help` and the module say {"jobs": [...]}; a list at the top level
    # is refused rather than read, so a file always says what it holds.
    with pytest.raises(BadInput) as err:
        parse_jobs(json.dumps([JOB]), NOW, name="jobs.json")
    msg = str(err.value)
    assert msg == ('jobs file jobs.json: expected {"jobs": [...]}, an object at the top level, '
                   "got a JSON list")
    assert "\n" not in msg


@pytest.mark.parametrize(("top", "kind"), [("3", "number"), ('"x"', "string"),
                                           ("null", "null"), ("true", "true/false")])
def test_any_other_top_level_value_is_named(top: str, kind: str) -> None:
    with pytest.raises(BadInput, match=f"an object at the top level, got a JSON {kind}$"):
        parse_jobs(top, NOW, name="jobs.json")


def test_the_documented_object_is_read() -> None:
    (spec,) = parse_jobs(json.dumps({"jobs": [{**JOB, "power_w": 0.5}]}), NOW)
    assert spec.job.power_w == 0.5 and spec.job.power_given


@pytest.mark.parametrize("text", ["0", "0.0", "-0.0", "-1", "-1e-300", "1e400", "-1e400",
                                  "true", "false", "null", '"600"', "[600]"])
def test_power_must_be_a_number_above_zero(text: str) -> None:
    raw = json.dumps({"jobs": [JOB]}).replace('"zones"', f'"power_w": {text}, "zones"')
    with pytest.raises(BadInput) as err:
        parse_jobs(raw, NOW, name="jobs.json")
    msg = str(err.value)
    assert msg.startswith("jobs file jobs.json: a: power_w must be a number")
    assert "\n" not in msg
    if text in ("0", "0.0", "-0.0"):
        assert "more than 0 (a job drawing 0 W has no carbon to plan by), got" in msg


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_power_that_is_not_a_json_number_is_refused(text: str) -> None:
    raw = json.dumps({"jobs": [JOB]}).replace('"zones"', f'"power_w": {text}, "zones"')
    with pytest.raises(BadInput, match=f"{text} is not a JSON number"):
        parse_jobs(raw, NOW, name="jobs.json")


@pytest.mark.parametrize("value", [0, -0.5, -1e-300])
def test_energy_must_come_to_a_draw_above_zero(value: float) -> None:
    with pytest.raises(BadInput, match=r"a: energy_kwh must be a number from 0 to .*, more "
                                       r"than 0 \(a job using 0 kWh"):
        parse_jobs(json.dumps({"jobs": [{**JOB, "energy_kwh": value}]}), NOW)


def test_energy_over_a_zero_duration_is_refused_not_divided(tmp_path: Path) -> None:
    p = tmp_path / "jobs.json"
    p.write_text(json.dumps({"jobs": [{**JOB, "duration": "0s", "energy_kwh": 1}]}))
    with pytest.raises(BadInput, match="a: duration must be more than 0, got '0s'"):
        load_jobs(p, NOW)


def test_an_unknown_top_level_field_is_refused_like_an_unknown_job_field() -> None:
    with pytest.raises(BadInput) as err:
        parse_jobs(json.dumps({"jobs": [JOB], "x": 1, "job": []}), NOW, name="jobs.json")
    assert str(err.value) == ("jobs file jobs.json: unknown top-level field(s) job, x; "
                              "known: jobs")


def test_an_unnamed_job_whose_generated_name_is_taken_is_named_by_position() -> None:
    jobs = [{**JOB, "name": "job-2"}, {k: v for k, v in JOB.items() if k != "name"}]
    with pytest.raises(BadInput) as err:
        parse_jobs(json.dumps({"jobs": jobs}), NOW, name="jobs.json")
    assert str(err.value) == ("jobs file jobs.json: job 2 (unnamed) would be called job-2, "
                              "which job 1 is already called; name it")


def test_unnamed_jobs_whose_generated_names_are_free_are_read() -> None:
    unnamed = {k: v for k, v in JOB.items() if k != "name"}
    specs = parse_jobs(json.dumps({"jobs": [{**JOB, "name": "job-3"}, unnamed]}), NOW)
    assert [s.job.name for s in specs] == ["job-3", "job-2"]


def test_two_jobs_given_one_name_are_still_duplicates() -> None:
    with pytest.raises(BadInput, match="duplicate job names: a"):
        parse_jobs(json.dumps({"jobs": [JOB, JOB]}), NOW)


def test_a_misnamed_jobs_list_names_the_unknown_field_too() -> None:
    with pytest.raises(BadInput) as err:
        parse_jobs(json.dumps({"Jobs": [JOB]}), NOW, name="jobs.json")
    assert str(err.value) == ('jobs file jobs.json: expected {"jobs": [...]} with at least one '
                              "job (unknown top-level field(s) Jobs)")
