"""track(): windows, records, decorator use, and never breaking the user's program."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.measure.meter import WattwiseWarning
from wattwise.records.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _sensor() -> ConstantPowerSensor:
    return ConstantPowerSensor({"cpu:0": 20.0, "dram:0": 5.0})


def test_with_block_records_run_windows_and_summary(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with wattwise.track("train", sensors=[_sensor()], db=db, interval_s=0.02) as run:
        with run.window("epoch-1"):
            time.sleep(0.05)
        time.sleep(0.02)
    assert run.result is not None
    assert run.result.energy_j == pytest.approx(25.0 * run.result.duration_s, rel=0.05)
    assert "train" in str(run) and "cpu:0" in str(run)
    rec = Store(db).get_run(run.run_id)
    assert rec.status == "finished"
    assert rec.summary["energy_j"] == pytest.approx(run.result.energy_j)
    windows = Store(db).windows(rec.id)
    assert [w["name"] for w in windows] == ["epoch-1"]
    assert len(Store(db).samples(rec.id)) >= 2
    assert run.to_dict()["result"]["kind"] == "measured"


def test_decorator_measures_each_call_as_a_run(tmp_path: Path) -> None:
    db = tmp_path / "r.db"

    @wattwise.track(sensors=[_sensor()], db=db)
    def step(x: int) -> int:
        return x * 2

    assert step(21) == 42
    assert step(1) == 2
    runs = Store(db).list_runs()
    assert len(runs) == 2
    assert runs[0].name.endswith("step")


def test_bare_decorator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTWISE_DB", str(tmp_path / "env.db"))

    @wattwise.track
    def work() -> str:
        return "done"

    assert work() == "done"
    assert Store(tmp_path / "env.db").list_runs()[0].status == "finished"


def test_user_exception_propagates_and_run_is_marked_failed(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with pytest.raises(ZeroDivisionError):
        with wattwise.track("bad", sensors=[_sensor()], db=db):
            1 / 0  # noqa: B018
    assert Store(db).get_run("bad").status == "failed"


def test_unwritable_store_warns_and_measures_anyway(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"  # a regular file, so accepted at the call; not SQLite
    junk.write_bytes(b"not a database, " * 256)
    with pytest.warns(WattwiseWarning, match="not recorded"):
        with wattwise.track("x", sensors=[_sensor()], db=junk) as run:
            pass
    assert run.run_id is None
    assert run.result is not None and run.result.energy_j >= 0


def test_sensor_that_always_fails_never_raises_into_user_code(tmp_path: Path) -> None:
    s = _sensor()
    s.fail_on = set(range(1, 10_000))
    with pytest.warns(WattwiseWarning, match="gap"):
        with wattwise.track("x", sensors=[s], db=tmp_path / "r.db") as run:
            pass
    assert run.result is not None
    assert run.result.gaps


def _child(code: str, db: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WATTWISE_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)


CHILD = """
    import time, wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor
    with wattwise.track("victim", sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                        interval_s=0.02):
        time.sleep(60)
"""


def _wait_for_samples(db: Path, n: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db.exists():
            try:
                runs = Store(db).list_runs()
                if runs and len(Store(db).samples(runs[0].id)) >= n:
                    return
            except Exception:  # noqa: BLE001 - schema may be mid-creation
                pass
        time.sleep(0.05)
    raise AssertionError("child never recorded samples")


def test_sigterm_finalises_the_record(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    p = _child(CHILD, db)
    _wait_for_samples(db, 3)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 128 + signal.SIGTERM
    rec = Store(db).get_run("victim")
    assert rec.status == "interrupted"
    assert rec.summary["energy_j"] > 0


def test_sighup_finalises_the_record_like_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    p = _child(CHILD, db)
    _wait_for_samples(db, 3)
    p.send_signal(signal.SIGHUP)
    assert p.wait(timeout=30) == 128 + signal.SIGHUP
    rec = Store(db).get_run("victim")
    assert rec.status == "interrupted"
    assert rec.summary["energy_j"] > 0


def test_sigkill_keeps_everything_up_to_the_last_flush_and_is_lost_at_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    p = _child(CHILD, db)
    _wait_for_samples(db, 5)
    p.kill()
    p.wait(timeout=30)
    store = Store(db)  # the default 120 s staleness: the dead pid decides, not the clock
    rec = store.get_run("victim")
    assert rec.status == "lost"
    assert len(store.samples(rec.id)) >= 5


def test_versions_name_only_libraries_the_run_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from wattwise.measure.host import versions

    monkeypatch.delitem(sys.modules, "transformers", raising=False)
    assert "transformers" not in versions()
    monkeypatch.setitem(sys.modules, "transformers", types.SimpleNamespace(__version__="9.9.9"))
    got = versions()
    assert got["transformers"] == "9.9.9"
    assert got["wattwise"] == wattwise.__version__


@pytest.mark.parametrize("n", [0, -3, 2.9, 2.0, True, False, "2", None])
def test_step_refuses_a_count_that_is_not_a_whole_number_of_at_least_one(n: object) -> None:
    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.05) as run:
        with pytest.raises(wattwise.BadInput, match=r"whole number of steps, at least 1"):
            run.step(n)  # type: ignore[arg-type]
        assert run._steps.marks == []  # nothing was marked
        run.step(2)
        assert [m[0] for m in run._steps.marks] == [2]  # one mark carrying both steps


def test_step_takes_integral_numbers_that_are_not_int() -> None:
    import numpy as np

    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.05) as run:
        run.step(np.int64(3))
        assert [m[0] for m in run._steps.marks] == [3]
        assert type(run._steps.marks[0][0]) is int


def test_a_huge_step_count_is_one_mark_and_an_absurd_one_is_refused() -> None:
    from wattwise.measure.tracking import MAX_STEPS_PER_MARK

    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.05) as run:
        run.step(10**7)  # once 10**7 tuples, gigabytes
        run.step(MAX_STEPS_PER_MARK)
        assert [m[0] for m in run._steps.marks] == [10**7, 10**7 + MAX_STEPS_PER_MARK]
        with pytest.raises(wattwise.BadInput, match=r"at most 1e\+15 steps"):
            run.step(10**100)  # once appended forever
        assert len(run._steps.marks) == 2


def test_a_run_s_steps_in_all_stop_where_its_outputs_stop_being_exact() -> None:
    """A run's steps are shown by pages whose numbers are doubles: past 2**53 - 1 a
    step reads as another (a stored 2**63 - 1 was shown, and drawn, unsaid)."""
    from wattwise.measure.tracking import MAX_STEPS, MAX_STEPS_PER_MARK

    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.05) as run:
        for _ in range(MAX_STEPS // MAX_STEPS_PER_MARK):
            run.step(MAX_STEPS_PER_MARK)
        done = run._steps.marks[-1][0]
        run.step(MAX_STEPS - done)  # the last one a run may count
        with pytest.raises(wattwise.BadInput, match=r"would count 9,007,199,254,740,992 "
                           r"steps, more than the 9,007,199,254,740,991 a run may count"):
            run.step(1)
        assert run._steps.marks[-1][0] == MAX_STEPS == 2**53 - 1
        assert len(run._steps.marks) == MAX_STEPS // MAX_STEPS_PER_MARK + 1


def test_hardware_records_the_exact_memory_bytes_next_to_the_rounded_gb() -> None:
    import psutil

    from wattwise.measure.host import hardware_info

    info = hardware_info([])
    assert info["memory_bytes"] == psutil.virtual_memory().total
    assert info["memory_gb"] == round(info["memory_bytes"] / 1e9, 2)


def test_step_from_many_threads_counts_every_step_in_order() -> None:
    import itertools
    import threading

    threads, per_thread = 8, 500
    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.05) as run:
        start = threading.Barrier(threads)

        def work() -> None:
            start.wait()
            for _ in range(per_thread):
                run.step()

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        counts = [m[0] for m in run._steps.marks]
        assert counts == list(range(1, threads * per_thread + 1))
        readings = [m[1] for m in run._steps.marks]
        assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(readings))
        time.sleep(0.12)  # past one sampling interval, so a prediction has a span
        prediction = run.predict_total(2 * threads * per_thread)
    assert prediction is not None


def test_after_the_end_step_is_bad_input_and_energy_so_far_is_the_final_figure() -> None:
    with wattwise.track("steps", sensors=[_sensor()], store=False, interval_s=0.02) as run:
        time.sleep(0.05)
        run.step()
        time.sleep(0.05)
        run.step()
        assert run.energy_so_far_j() > 0
    before = list(run._steps.marks)
    with pytest.raises(wattwise.BadInput, match="has ended"):
        run.step()
    assert run.result is not None and run.meter is not None
    reads = []
    run.meter.total_now = lambda: reads.append(1)  # type: ignore[assignment,method-assign,return-value]
    assert run.energy_so_far_j() == run.result.energy_j  # no sensor read after the end
    assert reads == []
    assert run._steps.marks == before  # nothing marked after the end
    prediction = run.predict_total(10)  # still made from what was measured
    assert prediction is not None


@pytest.mark.parametrize("code,status,exit_code", [
    (0, "finished", 0),
    (None, "finished", 0),
    (3, "failed", 3),
    ("bad config", "failed", 1),
])
def test_system_exit_inside_the_block_is_recorded_by_its_code(
    tmp_path: Path, code: object, status: str, exit_code: int
) -> None:
    db = tmp_path / "r.db"
    with pytest.raises(SystemExit):
        with wattwise.track("exits", sensors=[_sensor()], db=db, carbon=False) as run:
            sys.exit(code)  # type: ignore[arg-type]
    assert run.status == status
    assert run.run_id is not None
    rec = Store(db).get_run(run.run_id)
    assert rec.status == status
    assert rec.exit_code == exit_code


def test_keyboard_interrupt_inside_the_block_is_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with pytest.raises(KeyboardInterrupt):
        with wattwise.track("ctrl-c", sensors=[_sensor()], db=db, carbon=False) as run:
            raise KeyboardInterrupt
    assert run.run_id is not None
    assert Store(db).get_run(run.run_id).status == "interrupted"


def test_the_run_starts_where_its_measurement_begins(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The row is opened before the sensors' first reading; a slow start (0.3 s here, 0.1-0.34
    s on a loaded machine) lay before the first sample and outside the summary, drawn as
    empty time at the start of every timeline."""
    from wattwise.measure import meter as meter_mod

    slow = meter_mod.Meter.start

    def start(self: Any) -> None:
        time.sleep(0.3)
        slow(self)

    monkeypatch.setattr(meter_mod.Meter, "start", start)
    db = tmp_path / "r.db"
    before = time.time()
    with wattwise.track("slow start", sensors=[_sensor()], db=db, interval_s=0.05) as run:
        time.sleep(0.1)
        # while it runs (a run killed now is lost with this start): moved already
        assert run.flush()
        assert Store(db).get_run(run.run_id).started_unix_s >= before + 0.3
    rec = Store(db).get_run(run.run_id)
    assert rec.started_unix_s == rec.summary["start_unix_s"] == run.result.start_unix_s
    assert rec.ended_unix_s == rec.summary["end_unix_s"]
