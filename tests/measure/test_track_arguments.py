"""track() / Run(): every bad argument is one BadInput naming it, raised at the call,
before anything is measured or recorded; a Run measures once; and no value set on a
meter can kill its sampling thread."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.errors import BadInput
from wattwise.measure.meter import MAX_INTERVAL_S, MIN_RECORDED_INTERVAL_S, Meter
from wattwise.records.store import Store


def _sensor() -> ConstantPowerSensor:
    return ConstantPowerSensor({"cpu:0": 10.0})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database that already holds one finished run."""
    path = tmp_path / "r.db"
    with wattwise.track("before", db=path, sensors=[_sensor()], interval_s=0.05,
                        carbon=False):
        pass
    assert len(Store(path).list_runs()) == 1
    return path


def _runs(db: Path) -> int:
    return len(Store(db).list_runs())


#: (keyword arguments, text the message must hold: the argument's name at least)
#: A trace that reads: the one shipped for GB.
TRACE = str(Path(wattwise.__file__).parent / "data" / "traces" / "gb_2020.csv.gz")

BAD: list[tuple[dict[str, Any], str]] = [
    ({"interval_s": 1e308}, "interval_s must be from 0.01 to 3600"),
    ({"interval_s": 0.005}, "interval_s must be from 0.01 to 3600"),  # as `run -i` refuses
    ({"interval_s": 0.009999999999999}, "got 0.009999999999999"),  # not "got 0.01"
    ({"interval_s": 0.009999999999999998}, "got 0.009999999999999998"),  # 17 digits
    ({"interval_s": 3600.5}, "interval_s must be from"),
    ({"interval_s": 0.0005}, "interval_s must be from"),
    ({"interval_s": 0}, "interval_s must be from"),
    ({"interval_s": -1}, "interval_s must be from"),
    ({"interval_s": float("nan")}, "interval_s must be from"),
    ({"interval_s": float("inf")}, "interval_s must be from"),
    ({"interval_s": "abc"}, "interval_s must be a number of seconds"),
    ({"interval_s": "1"}, "interval_s must be a number of seconds"),
    ({"interval_s": True}, "interval_s must be a number of seconds"),
    ({"interval_s": None}, "interval_s must be a number of seconds"),
    ({"pid": "1"}, "pid must be a process id"),
    ({"pid": 1.5}, "pid must be a process id"),
    ({"pid": True}, "pid must be a process id"),
    ({"pid": 0}, "pid must be a process id >= 1"),
    ({"pid": -5}, "pid must be a process id >= 1"),
    ({"pid": 99_999_999}, "pid 99999999: no such process"),
    ({"pid": 10**30}, "no such process"),
    ({"tags": "x"}, "tags must be a dict of text to text"),
    ({"tags": ["a", "b"]}, "tags must be a dict"),
    ({"tags": {"a": 1}}, "tags: the value of tag 'a' must be text"),
    ({"tags": {"a": None}}, "tags: the value of tag 'a' must be text"),
    ({"tags": {1: "a"}}, "tags: each tag name must be text"),
    ({"tags": {"": "a"}}, "tags: each tag name must be text"),
    ({"tags": {"k" * 300: "a"}}, "tags: each tag name must be text"),
    ({"tags": {"a": "v" * 9000}}, "at most 8192"),
    ({"tags": {f"k{i}": "v" for i in range(101)}}, "tags: at most 100 tags"),
    ({"store": "no"}, "store must be True or False"),
    ({"store": 0}, "store must be True or False"),
    ({"store": None}, "store must be True or False"),
    ({"carbon": "no"}, "carbon must be True or False"),
    ({"include_root": "yes"}, "include_root must be True or False"),
    ({"command": "ls"}, "command must be a non-empty list of strings"),
    ({"command": []}, "command must be a non-empty list of strings"),
    ({"command": ["ls", 1]}, "command must be a non-empty list of strings"),
    ({"command": b"ls"}, "command must be a non-empty list of strings"),
    ({"db": ""}, "db is an empty path"),
    ({"db": 3}, "db must be a file path"),
    ({"db": "a\x00b"}, "db 'a\\x00b': the path contains a NUL byte"),
    ({"sensors": "x"}, "sensors must be a list of Sensor objects"),
    ({"sensors": [1]}, "sensors must be a list of Sensor objects"),
    ({"zone": ""}, "zone must name a grid zone"),
    ({"zone": 5}, "zone must name a grid zone"),
    ({"zone": "Atlantis"}, "unknown zone 'Atlantis'"),
    ({"pue": 0.5}, "pue must be a number from 1.0 to 5.0"),
    ({"pue": float("nan")}, "pue must be a number from 1.0 to 5.0"),
    ({"pue": "high"}, "pue must be a number from 1.0 to 5.0"),
    ({"intensity_trace": ""}, "intensity_trace is an empty path"),
    # a zone the provider does not cover: refused before the block, as the CLI's run does
    ({"zone": "DE", "intensity_provider": "ukcarbon"}, "ukcarbon knows zone 'GB'"),
    # both a trace and a provider: the trace was ignored and the network tried
    ({"zone": "GB", "intensity_provider": "ukcarbon", "intensity_trace": TRACE},
     "give intensity_trace or intensity_provider, not both"),
    ({"intensity_trace": 7}, "intensity_trace must be a file path"),
    ({"zone": "DE", "intensity_trace": "/nonexistent.csv"},
     "intensity_trace: cannot read trace /nonexistent.csv: no such file"),
    ({"zone": "DE", "intensity_trace": "/"}, "intensity_trace: "),
    ({"intensity_trace": "/nonexistent.csv"}, "intensity_trace needs a zone"),
    ({"intensity_provider": "nope"}, "unknown intensity_provider 'nope'"),
    ({"intensity_provider": 1}, "intensity_provider must name a provider"),
]

BAD_NAMES: list[tuple[object, str]] = [
    (5, "name must be text"),
    (b"x", "name must be text"),
    ("n" * 9000, "name is 9000 characters long; at most 256"),
    ("x" * 300, "name is 300 characters long; at most 256"),  # the CLI's --name limit
    ("  ", "name is blank"),
    ("\t\n", "name is blank"),
    ("a\x00b", "holds control or invisible characters"),
    ("a\x1b[31mb", "holds control or invisible characters"),
    ("a\u200bb", "holds control or invisible characters"),
]


def _case_id(case: tuple[Any, str]) -> str:
    return ascii(case[0])[:50]


@pytest.mark.parametrize("kwargs,expected", BAD, ids=[_case_id(c) for c in BAD])
def test_a_bad_argument_is_bad_input_at_the_call_and_nothing_is_recorded(
    db: Path, kwargs: dict[str, Any], expected: str
) -> None:
    given = {"db": db, "sensors": [_sensor()], "interval_s": 0.05, **kwargs}
    with pytest.raises(BadInput) as err:
        wattwise.track("t", **given)  # by track() itself, not later at `with`
    assert isinstance(err.value, ValueError)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)
    assert _runs(db) == 1


@pytest.mark.parametrize("where", ["env", "config"])
def test_a_bad_ambient_zone_is_bad_input_at_the_call_and_nothing_is_recorded(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # as `wattwise run` refuses it; it was found only once the whole run was measured
    # ("emissions not computed"), the run recorded without a figure
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    if where == "env":
        monkeypatch.setenv("WATTWISE_ZONE", "Atlantis")
    else:
        monkeypatch.delenv("WATTWISE_ZONE", raising=False)
        (tmp_path / "config" / "wattwise").mkdir(parents=True)
        (tmp_path / "config" / "wattwise" / "config.toml").write_text('zone = "Atlantis"\n')
    with pytest.raises(BadInput, match=r"unknown zone 'Atlantis'.*(WATTWISE_ZONE|config)"):
        wattwise.track("t", db=db, sensors=[_sensor()], interval_s=0.05)
    assert _runs(db) == 1
    # without carbon, or with a zone of its own, the ambient zone is never read
    with wattwise.track("t", db=db, sensors=[_sensor()], interval_s=0.05, carbon=False):
        pass
    with wattwise.track("t", db=db, sensors=[_sensor()], interval_s=0.05, zone="DE") as run:
        pass
    assert run.emissions is not None and run.emissions.zone == "DE"
    assert _runs(db) == 3


DECORATOR = [c for c in BAD if set(c[0]) & {"interval_s", "pid", "tags", "store"}]


@pytest.mark.parametrize("kwargs,expected", DECORATOR, ids=[_case_id(c) for c in DECORATOR])
def test_the_decorator_refuses_a_bad_argument_when_it_decorates(
    db: Path, kwargs: dict[str, Any], expected: str
) -> None:
    given = {"db": db, "sensors": [_sensor()], "interval_s": 0.05, **kwargs}
    with pytest.raises(BadInput) as err:

        @wattwise.track(**given)
        def work() -> None:  # pragma: no cover - never decorated
            pass

    assert expected in str(err.value)
    assert _runs(db) == 1


@pytest.mark.parametrize("name,expected", BAD_NAMES, ids=[_case_id(c) for c in BAD_NAMES])
def test_a_bad_name_is_bad_input(db: Path, name: object, expected: str) -> None:
    with pytest.raises(BadInput, match=expected):
        wattwise.Run(name, db=db, sensors=[_sensor()])  # type: ignore[arg-type]
    assert _runs(db) == 1


def test_a_bad_name_is_bad_input_from_track_too(db: Path) -> None:
    for name in ("  ", "x" * 300, "a\x00b"):
        with pytest.raises(BadInput) as err:
            wattwise.track(name, db=db, sensors=[_sensor()])
        assert "\n" not in str(err.value)
    assert _runs(db) == 1


def test_a_name_with_a_byte_python_could_not_decode_is_kept(db: Path) -> None:
    with wattwise.track("run-\udcff", db=db, sensors=[_sensor()], carbon=False) as run:
        pass  # a lone surrogate, as in sys.argv: stored escaped (tests/records)
    assert run.status == "finished"


def test_a_name_of_256_printable_characters_is_kept(db: Path) -> None:
    name = "é" * 200 + "x" * 56
    with wattwise.track(name, db=db, sensors=[_sensor()], interval_s=0.05, carbon=False) as run:
        pass
    assert run.run_id is not None
    assert Store(db).get_run(run.run_id).name == name


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.db"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("where,expected", [
    (lambda tmp: tmp, "is a directory, not a database file"),
    (lambda tmp: "/dev/full", "is not a regular file"),
    (lambda tmp: "/dev/null", "is not a regular file"),
    (_fifo, "is not a regular file"),
    (lambda tmp: "/proc/x.db", "in a system folder (proc)"),
    (lambda tmp: "/sys/x.db", "in a system folder (sys)"),
    (lambda tmp: tmp / "r.db" / "under-a-file.db", "is a file, not a folder"),
], ids=["directory", "dev-full", "dev-null", "fifo", "proc", "sys", "under-a-file"])
def test_a_db_that_can_never_hold_a_database_is_bad_input_at_the_call(
    db: Path, tmp_path: Path, where: Any, expected: str
) -> None:
    target = where(tmp_path)
    with pytest.raises(BadInput) as err:
        wattwise.track("t", db=target, sensors=[_sensor()])
    assert expected in str(err.value) and "db" in str(err.value)
    assert "\n" not in str(err.value)
    assert _runs(db) == 1


def test_a_db_in_a_folder_not_made_yet_is_accepted(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "r.db"
    with wattwise.track("t", db=target, sensors=[_sensor()], interval_s=0.05,
                        carbon=False) as run:
        pass
    assert run.status == "finished" and len(Store(target).list_runs()) == 1


def test_an_unknown_keyword_is_bad_input_naming_it_and_the_valid_ones() -> None:
    with pytest.raises(BadInput) as err:
        wattwise.track("t", nonsense=1)
    text = str(err.value)
    assert "'nonsense'" in text and "interval_s" in text and "intensity_provider" in text
    assert "\n" not in text
    assert isinstance(err.value, TypeError)  # what Python itself raises for one
    with pytest.raises(BadInput, match="'intervals'"):
        wattwise.track(intervals=1)(lambda: None)  # the decorator form


def test_track_arguments_match_run_arguments() -> None:
    import inspect

    from wattwise.measure.tracking import TRACK_ARGUMENTS, Run

    params = list(inspect.signature(Run.__init__).parameters)
    assert tuple(params[2:]) == TRACK_ARGUMENTS


@pytest.mark.parametrize("interval_s", [MIN_RECORDED_INTERVAL_S, 0.05, 1, MAX_INTERVAL_S])
def test_intervals_within_the_bounds_are_accepted(db: Path, interval_s: float) -> None:
    with wattwise.track("ok", db=db, sensors=[_sensor()], interval_s=interval_s,
                        carbon=False) as run:
        pass
    assert run.status == "finished"
    assert _runs(db) == 2


def test_good_arguments_are_kept(db: Path) -> None:
    with wattwise.track("ok", db=db, sensors=(s for s in [_sensor()]), pid=os.getpid(),
                        tags={"project": "llm"}, command=("python", "x.py"),
                        zone="DE", pue=1.2, carbon=False) as run:
        pass
    rec = Store(db).get_run(run.run_id)
    assert rec.tags == {"project": "llm"}
    assert rec.command == ["python", "x.py"]
    assert run.result is not None and run.result.domains


def test_entering_a_finished_run_again_is_bad_input_and_records_nothing(db: Path) -> None:
    run = wattwise.track("once", db=db, sensors=[_sensor()], interval_s=0.05)
    with run:
        pass
    first = run.result
    assert _runs(db) == 2
    entered = False
    with pytest.raises(BadInput, match=r"has already ended .*a Run measures once"):
        with run:
            entered = True
    assert not entered
    assert run.result is first and run.status == "finished"
    statuses = [r.status for r in Store(db).list_runs()]
    assert statuses == ["finished", "finished"]  # no second, "lost" record


def test_entering_a_running_run_again_is_bad_input(db: Path) -> None:
    run = wattwise.track("nested", db=db, sensors=[_sensor()], interval_s=0.05)
    with run:
        with pytest.raises(BadInput, match="is already running"):
            run.start()
    assert run.status == "finished"
    assert [r.status for r in Store(db).list_runs()] == ["finished", "finished"]


def test_the_meter_thread_survives_any_interval_set_later() -> None:
    """The thread waits at most MAX_INTERVAL_S whatever ``interval_s`` becomes: a value
    set after construction must never end sampling with an exception."""
    died: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_value)  # type: ignore[assignment]
    try:
        for value in (1e308, float("inf"), float("nan"), -1.0, 0.0, "abc"):
            m = Meter([_sensor()], interval_s=0.01, device_sync=None)
            m.start()
            m.interval_s = value  # type: ignore[assignment]
            time.sleep(0.05)
            assert m.running, value
            t0 = time.monotonic()
            m.stop()
            assert time.monotonic() - t0 < 5
    finally:
        threading.excepthook = old_hook
    assert died == []


@pytest.mark.parametrize("kwargs,expected", [
    ({"interval_s": 1e308}, "interval_s must be from"),
    ({"interval_s": "abc"}, "interval_s must be a number"),
    ({"pid": "1"}, "pid must be a process id"),
    ({"pid": 99_999_999}, "no such process"),
    ({"pid": 10**30}, "no such process"),
    ({"stuck_after_s": float("inf")}, "stuck_after_s must be"),
    ({"stuck_after_s": "x"}, "stuck_after_s must be"),
    ({"clock": lambda: "x"}, "clock must return a finite number of seconds, returned 'x'"),
    ({"clock": lambda: float("nan")}, "clock must return a finite number"),
    ({"clock": lambda: None}, "clock must return a finite number"),
    ({"clock": 5}, "clock must be a function returning seconds, got 5"),
    ({"clock": lambda: 1 / 0}, "clock failed when called: "),
    ({"on_sample": 5}, "on_sample must be a function taking a list of samples"),
    ({"device_sync": 5}, "device_sync must be a function or None, got 5"),
    ({"on_sample": "print"}, "on_sample must be a function"),
])
def test_meter_refuses_the_same_values(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(BadInput, match=expected):
        Meter([_sensor()], **{"device_sync": None, **kwargs})


@pytest.mark.parametrize("name,expected", [
    (5, "window name must be text, got 5"),
    (None, "window name must be text"),
    (b"w", "window name must be text"),
    ("", "window name is blank"),
    ("  ", "window name is blank"),
    ("w" * 257, "window name is 257 characters long; at most 256"),
    ("a\x1bb", "holds control or invisible characters"),
])
def test_a_bad_window_name_is_bad_input_at_begin_and_end(name: object, expected: str) -> None:
    m = Meter([_sensor()], device_sync=None, interval_s=0.05)
    with pytest.raises(BadInput, match=expected):
        m.begin(name)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=expected):
        m.end(name)  # type: ignore[arg-type]
    m.begin("w" * 256)  # the longest name is kept
    assert m.end("w" * 256).name == "w" * 256


def test_a_run_refuses_a_bad_window_name_and_wattwises_own(db: Path) -> None:
    with wattwise.track("t", db=db, sensors=[_sensor()], interval_s=0.05, carbon=False) as run:
        for name in (5, "", "\0run"):
            with pytest.raises(BadInput, match="window name"):
                run.begin(name)  # type: ignore[arg-type]
        with run.window("ok"):
            pass
    assert [w.name for w in run.windows] == ["ok"]


@pytest.mark.parametrize("args,expected", [
    ((5,), "event message must be text, got 5"),
    (("m", "bogus"), "event level must be one of info, warning, error, got 'bogus'"),
    (("x" * 8193,), "event message is 8,193 characters long; at most 8,192"),
])
def test_a_bad_event_is_bad_input(db: Path, args: tuple[Any, ...], expected: str) -> None:
    """``run.event(5)`` was stored as '5' and a level 'bogus' as given."""
    with wattwise.track("t", db=db, sensors=[_sensor()], interval_s=0.05) as run:
        with pytest.raises(BadInput, match=expected):
            run.event(*args)
        run.event("fine", "warning")
