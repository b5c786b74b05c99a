"""The jobs file of ``wattwise plan``: parsed whole, every problem named by job."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wattwise.errors import BadInput
from wattwise.schedule.jobfile import load_jobs

NOW = 1_790_000_000.0


def _file(tmp_path: Path, jobs: object) -> Path:
    p = tmp_path / "jobs.json"
    p.write_text(json.dumps({"jobs": jobs}))
    return p


def test_windows_power_and_commands_are_read(tmp_path: Path) -> None:
    specs = load_jobs(_file(tmp_path, [
        {"name": "a", "duration": "2h", "within": "12h", "power_w": 600, "zones": ["DE", "FR"],
         "interruptible": True, "min_chunk": "30m", "command": ["python", "train.py"]},
        {"name": "b", "duration": "30m", "earliest": "2026-09-21T20:00:00Z",
         "deadline": "2026-09-22T06:00:00+02:00", "energy_kwh": 0.5},
    ]), NOW, default_zone="GB")
    a, b = specs[0].job, specs[1].job
    assert a.earliest_start_unix_s == NOW and a.deadline_unix_s == NOW + 12 * 3600
    assert a.zones == ("DE", "FR") and a.interruptible and a.min_chunk_s == 1800
    assert specs[0].command == ["python", "train.py"] and a.power_given
    assert b.zones == ("GB",) and specs[1].command is None
    assert b.power_w == pytest.approx(0.5 * 3.6e6 / 1800)
    assert b.deadline_unix_s - b.earliest_start_unix_s == pytest.approx(8 * 3600)


def test_every_problem_is_named_by_its_job(tmp_path: Path) -> None:
    p = _file(tmp_path, [
        {"name": "a", "duration": "2x", "within": "1h", "zones": ["DE"]},
        {"duration": "2h", "within": "1h", "zones": ["DE"]},
        {"name": "c", "duration": "1h", "within": "2h", "zones": ["DE"], "colour": "red"},
        {"name": "d", "duration": "1h", "within": "2h", "zones": ["DE"], "power_w": "lots"},
        {"name": "e", "duration": "1h", "within": "2h"},
    ])
    with pytest.raises(BadInput) as err:
        load_jobs(p, NOW)
    msg = str(err.value)
    assert "a: cannot read duration '2x'" in msg
    assert "job-2: duration 2 h is longer than its window 1 h" in msg
    assert "c: unknown field(s) colour" in msg
    assert "d: power_w must be a number" in msg
    assert "e: needs zones" in msg


@pytest.mark.parametrize(("content", "msg"), [
    ("not json", "is not JSON"),
    ('{"jobs": []}', "at least one job"),
    ('{"tasks": [1]}', "at least one job"),
])
def test_unreadable_files_say_why(tmp_path: Path, content: str, msg: str) -> None:
    p = tmp_path / "jobs.json"
    p.write_text(content)
    with pytest.raises(BadInput, match=msg):
        load_jobs(p, NOW)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot read jobs file"):
        load_jobs(tmp_path / "nope.json", NOW)


def test_a_job_can_be_planned_like_a_recorded_run(tmp_path: Path) -> None:
    import time as _time

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    db = tmp_path / "r.db"
    with wattwise.track("nightly", sensors=[ConstantPowerSensor({"gpu:0": 250.0})], db=db):
        _time.sleep(0.1)
    specs = load_jobs(_file(tmp_path, [
        {"name": "tonight", "like_run": "nightly", "within": "12h", "zones": ["DE"]},
        {"name": "longer", "like_run": "latest", "duration": "2h", "within": "12h",
         "zones": ["DE"]},
    ]), NOW, db=db)
    tonight, longer = specs
    assert tonight.job.power_w == pytest.approx(250.0, rel=0.01)
    assert 0.1 <= tonight.job.duration_s < 1.0
    assert longer.job.duration_s == 7200 and longer.job.power_given
    assert re.fullmatch(r"tonight: duration and average power \(2[45]\d(\.\d)? W\) from run 1 "
                        r"\(nightly, measured\)", tonight.measured_from or "")
    with pytest.raises(BadInput, match="like_run or power_w"):
        load_jobs(_file(tmp_path, [{"name": "x", "like_run": "nightly", "power_w": 3,
                                    "within": "2h", "zones": ["DE"]}]), NOW, db=db)
    with pytest.raises(BadInput, match="no run 'nope'"):
        load_jobs(_file(tmp_path, [{"name": "x", "like_run": "nope", "within": "2h",
                                    "zones": ["DE"]}]), NOW, db=db)


def test_a_job_name_with_an_unpaired_surrogate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text('{"jobs": [{"name": "\\ud800", "duration": "1h", "within": "12h", '
                    '"zones": ["DE"]}]}')
    with pytest.raises(BadInput, match="unpaired surrogates"):
        load_jobs(path, NOW)


@pytest.mark.parametrize(("extra", "msg"), [
    ({"min_chunk": "30m"}, "a: min_chunk applies to an interruptible job; add \"interruptible\""),
    ({"resume_cost": "5m"}, "a: resume_cost applies to an interruptible job"),
    ({"min_chunk": "30m", "resume_cost": "5m", "interruptible": False},
     "a: min_chunk and resume_cost apply to an interruptible job"),
    ({"min_chunk": "2h", "interruptible": True},
     "a: min_chunk '2h' is longer than the whole job (1 h)"),
])
def test_chunk_options_that_would_be_ignored_or_cannot_hold_are_refused(
        tmp_path: Path, extra: dict[str, object], msg: str) -> None:
    p = _file(tmp_path, [{"name": "a", "duration": "1h", "within": "12h", "zones": ["DE"],
                          **extra}])
    with pytest.raises(BadInput) as err:
        load_jobs(p, NOW)
    assert msg in str(err.value)


def test_a_chunk_as_long_as_the_job_is_kept(tmp_path: Path) -> None:
    p = _file(tmp_path, [{"name": "a", "duration": "1h", "within": "12h", "zones": ["DE"],
                          "interruptible": True, "min_chunk": "1h", "resume_cost": "5m"}])
    assert load_jobs(p, NOW)[0].job.min_chunk_s == 3600


def test_a_default_zone_that_no_job_uses_is_refused(tmp_path: Path) -> None:
    p = _file(tmp_path, [{"name": "a", "duration": "1h", "within": "12h", "zones": ["DE"]},
                         {"name": "b", "duration": "1h", "within": "12h", "zone": "GB"}])
    with pytest.raises(BadInput, match=r"every job names its zones, so the default zone FR "
                                       r"\(--zone\) would be used by none"):
        load_jobs(p, NOW, default_zone="FR")
    # One job without zones uses it: kept.
    q = _file(tmp_path, [{"name": "a", "duration": "1h", "within": "12h", "zones": ["DE"]},
                         {"name": "b", "duration": "1h", "within": "12h"}])
    assert [s.job.zones for s in load_jobs(q, NOW, default_zone="FR")] == [("DE",), ("FR",)]


def test_an_empty_name_and_a_past_deadline_are_said_plainly() -> None:
    from wattwise.schedule.jobfile import parse_jobs

    now = 1_800_000_000.0
    empty = '{"jobs": [{"name": "", "duration": "1h", "within": "12h", "power_w": 300}]}'
    with pytest.raises(BadInput, match=r"^jobs file j.json: job-1: name must be non-empty"):
        parse_jobs(empty, now, "DE", name="j.json")
    past = ('{"jobs": [{"name": "a", "duration": "1h", "deadline": "2020-01-01T00:00Z", '
            '"power_w": 300, "zones": ["DE"]}]}')
    with pytest.raises(BadInput, match=r"a: deadline '2020-01-01T00:00Z' has passed \(it is "
                                       r"now 2027-01-15"):
        parse_jobs(past, now, name="j.json")


@pytest.mark.parametrize("name", ["x\x1b[31m", "a\tb", "x" * 201])
def test_the_jobs_file_and_the_api_refuse_one_name_in_one_wording(name: str) -> None:
    from wattwise.schedule.jobfile import parse_jobs
    from wattwise.schedule.jobs import Job

    text = json.dumps({"jobs": [{"name": name, "duration": "1h", "within": "12h",
                                 "power_w": 300, "zones": ["DE"]}]})
    with pytest.raises(BadInput) as err:
        parse_jobs(text, NOW, name="j.json")
    problems = Job(name, 3600.0, NOW, NOW + 43200.0, zones=("DE",)).problems()
    assert len(problems) == 1 and problems[0] in str(err.value)
