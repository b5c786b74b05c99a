"""The run database deleted (or replaced) while a run records: SQLite kept writing to the
open file, and the run was reported stored ("(run 2), exit code 0") with no word, and no
database left. One warning now says where its record went."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.file_identity import identity, moved_since


def test_moved_since(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    a.write_bytes(b"x")
    b.write_bytes(b"y")
    then = identity(a)
    assert then is not None and moved_since(a, then) is None
    os.replace(b, a)
    assert moved_since(a, then) == "replaced by another file"
    a.unlink()
    assert moved_since(a, then) == "deleted"
    assert moved_since(a, None) is None


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_run_whose_database_goes_says_so(tmp_path: Path, how: str) -> None:
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("first", db=db, sensors=[sensor], interval_s=0.05):
        pass
    with pytest.warns(wattwise.WattwiseWarning, match=(
            f"the run database {db} was {'deleted' if how == 'deleted' else 'replaced'}")):
        with wattwise.track("second", db=db, sensors=[sensor], interval_s=0.05) as run:
            time.sleep(0.2)
            assert run.flush()
            if how == "deleted":
                for p in tmp_path.glob("runs.db*"):
                    p.unlink()
            else:
                shutil.copy(db, tmp_path / "copy.db")
                os.replace(tmp_path / "copy.db", db)
            time.sleep(0.1)


def test_a_run_whose_database_stays_says_nothing(tmp_path: Path,
                                                 recwarn: pytest.WarningsRecorder) -> None:
    db = tmp_path / "runs.db"
    with wattwise.track("one", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05):
        time.sleep(0.1)
    assert not [w for w in recwarn if "was deleted" in str(w.message)
                or "replaced by" in str(w.message)]
