"""Run records in SQLite (wattwise.records.store) and their exports (wattwise.records)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from wattwise.errors import BadInput, StoreError
from wattwise.records import schema as schema_mod
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.export_csv import export_csv
from wattwise.records.export_json import export_json
from wattwise.records.store import SCHEMA_VERSION, RunRecord, SampleRow, Store, default_db_path

HOST = {"hostname": "box", "os": "Linux", "os_release": "6.1", "python": "3.11.9"}
HARDWARE = {
    "cpu_model": "AMD EPYC 9B45",
    "logical_cpus": 8,
    "memory_gb": 34.36,
    "gpus": [{"name": "nvml", "gpus": [{"name": "NVIDIA H100"}, {"name": "NVIDIA H100"}]}],
}
SENSORS = [
    {
        "name": "rapl",
        "domains": [
            {"name": "cpu:package-0", "component": "cpu", "in_total": True},
            {"name": "dram:0", "component": "dram", "in_total": True},
            {"name": "psys", "component": "psys", "in_total": False},
        ],
    }
]
VERSIONS = {"python": "3.11.9", "wattwise": "0.1.0"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def store(db: Path) -> Any:
    s = Store(db)
    yield s
    s.close()


def new_run(store: Store, name: str = "train", started: float = 1000.0, **kw: Any) -> int:
    args: dict[str, Any] = {
        "name": name,
        "started_unix_s": started,
        "host": HOST,
        "hardware": HARDWARE,
        "sensors": SENSORS,
        "versions": VERSIONS,
    }
    args.update(kw)
    return store.create_run(**args)


# -- default location ----------------------------------------------------------


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "my.db"
    monkeypatch.setenv("WATTWISE_DB", str(target))
    assert default_db_path() == target
    s = Store()
    try:
        assert s.path == target
        assert target.exists(), "Store() creates the file and its folders at $WATTWISE_DB"
    finally:
        s.close()


def test_default_path_without_env_is_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("WATTWISE_DB", raising=False)
    path = default_db_path()
    assert path.name == "runs.db"
    assert path.parent == Path(platformdirs.user_data_dir("wattwise", appauthor=False))


# -- round trips ---------------------------------------------------------------


def test_run_round_trip_keeps_every_field(store: Store) -> None:
    rid = new_run(store, command=["python", "train.py"], pid=os.getpid(), tags={"project": "llm"})
    store.finish_run(
        rid, ended_unix_s=1060.5, status="failed", exit_code=3, summary={"energy_j": 12.5}
    )
    run = store.get_run(rid)
    assert isinstance(run, RunRecord)
    d = run.to_dict()
    assert d["id"] == rid
    assert d["name"] == "train"
    assert d["status"] == "failed"
    assert d["started_unix_s"] == 1000.0
    assert d["ended_unix_s"] == 1060.5
    assert d["duration_s"] == pytest.approx(60.5)
    assert d["host"] == HOST
    assert d["hardware"] == HARDWARE
    assert d["sensors"] == SENSORS
    assert d["versions"] == VERSIONS
    assert d["command"] == ["python", "train.py"]
    assert d["exit_code"] == 3
    assert d["pid"] == os.getpid()
    assert d["summary"] == {"energy_j": 12.5}
    assert d["tags"] == {"project": "llm"}
    assert d["db_path"] == str(store.path)


def test_samples_round_trip_in_time_order(store: Store) -> None:
    rid = new_run(store)
    late = SampleRow(1002.0, "gpu:0", 300.0, 300.0, 300.0, 300.0)
    early = [
        SampleRow(1001.0, "cpu:package-0", 50.25, 50.25, 40.0, 60.5),
        SampleRow(1001.0, "gpu:0", 0.0, 0.0, 0.0, 0.0, gap=True),
    ]
    store.add_samples(rid, [late])
    store.add_samples(rid, early)
    assert store.samples(rid) == [*early, late]


def test_windows_round_trip_including_extra_keys(store: Store) -> None:
    rid = new_run(store)
    window = {
        "name": "epoch-1",
        "start_unix_s": 1000.0,
        "end_unix_s": 1010.0,
        "duration_s": 10.0,
        "energy_j": 500.0,
        "low_j": 450.0,
        "high_j": 550.0,
        "kind": "estimated",
        "domains": [{"name": "cpu:model", "energy_j": 500.0}],
        "attribution": {"share": 0.5, "method": "cpu-time"},
        "gaps": ["gpu:0"],
        "avg_power_w": 50.0,
    }
    minimal = {
        "name": "eval",
        "start_unix_s": 1011.0,
        "end_unix_s": 1013.0,
        "energy_j": 8.0,
        "kind": "measured",
    }
    store.add_window(rid, window)
    store.add_window(rid, minimal)
    got = store.windows(rid)
    assert got[0] == window
    assert got[1] == {
        **minimal,
        "duration_s": 2.0,
        "low_j": 8.0,
        "high_j": 8.0,
        "domains": [],
        "attribution": None,
        "gaps": [],
    }


def test_window_missing_key_is_bad_input(store: Store) -> None:
    rid = new_run(store)
    with pytest.raises(BadInput, match="missing 'kind'"):
        store.add_window(rid, {"name": "w", "start_unix_s": 1, "end_unix_s": 2, "energy_j": 1})


def test_events_round_trip(store: Store) -> None:
    rid = new_run(store)
    store.add_event(rid, 1005.0, "warning", "gpu:0 read failed; gap marked")
    store.add_event(rid, 1001.0, "info", "started")
    assert store.events(rid) == [
        {"t_unix_s": 1001.0, "level": "info", "message": "started"},
        {"t_unix_s": 1005.0, "level": "warning", "message": "gpu:0 read failed; gap marked"},
    ]


def test_reads_of_unknown_run_are_bad_input(store: Store) -> None:
    for read in (store.samples, store.windows, store.events):
        with pytest.raises(BadInput, match="no run '42'"):
            read(42)


def test_heartbeat_never_moves_back_and_sets_duration_of_unfinished_run(store: Store) -> None:
    rid = new_run(store, pid=os.getpid())
    store.heartbeat(rid, 1030.0)
    store.heartbeat(rid, 1020.0)
    run = store.get_run(rid)
    assert run.heartbeat_unix_s == 1030.0
    assert run.ended_unix_s is None
    assert run.duration_s == pytest.approx(30.0)


def test_samples_batch_is_all_or_nothing(store: Store) -> None:
    rid = new_run(store)
    good = SampleRow(1001.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)
    bad = SampleRow(1002.0, "cpu:0", float("nan"), 1.0, 1.0, 1.0)
    with pytest.raises(BadInput, match="energy_j must be finite"):
        store.add_samples(rid, [good, bad])
    assert store.samples(rid) == []


def test_samples_for_unknown_run_are_bad_input(store: Store) -> None:
    with pytest.raises(BadInput, match="run 77"):
        store.add_samples(77, [SampleRow(1.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)])


def test_finish_run_rejects_unknown_status_and_run(store: Store) -> None:
    rid = new_run(store)
    with pytest.raises(BadInput, match="finished, failed, interrupted"):
        store.finish_run(rid, ended_unix_s=1001.0, status="done")
    with pytest.raises(BadInput, match="no run '999'"):
        store.finish_run(999, ended_unix_s=1001.0, status="finished")
    with pytest.raises(BadInput, match="no run '999'"):
        store.heartbeat(999, 1001.0)


def test_unserialisable_field_is_bad_input(store: Store) -> None:
    with pytest.raises(BadInput, match="'tags'"):
        new_run(store, tags={"x": object()})


# -- finding runs ----------------------------------------------------------------


def test_list_runs_newest_first_with_limit(store: Store) -> None:
    a = new_run(store, "a", started=1000.0)
    c = new_run(store, "c", started=3000.0)
    b = new_run(store, "b", started=2000.0)
    assert [r.id for r in store.list_runs()] == [c, b, a]
    assert [r.name for r in store.list_runs(limit=2)] == ["c", "b"]
    with pytest.raises(BadInput):
        store.list_runs(limit=0)


def test_get_run_by_latest_last_id_and_name(store: Store) -> None:
    old = new_run(store, "baseline", started=1000.0)
    new = new_run(store, "quantized", started=2000.0)
    assert store.get_run("latest").id == new
    assert store.get_run("last").id == new
    assert store.get_run(old).name == "baseline"
    assert store.get_run(str(old)).name == "baseline"
    assert store.get_run("quantized").id == new


def test_get_run_numeric_name_falls_back_to_name(store: Store) -> None:
    rid = new_run(store, "2024")
    assert store.get_run("2024").id == rid


def test_get_run_unknown_ref_names_ref_and_path(store: Store) -> None:
    new_run(store)
    with pytest.raises(BadInput) as info:
        store.get_run("nope")
    assert str(info.value) == f"no run 'nope' in {store.path}"
    with pytest.raises(BadInput, match="no run '12'"):
        store.get_run(12)


def test_get_run_latest_on_empty_database(store: Store) -> None:
    with pytest.raises(BadInput, match="no runs yet"):
        store.get_run("latest")


def test_get_run_ambiguous_name_lists_ids(store: Store) -> None:
    a = new_run(store, "dup")
    b = new_run(store, "dup")
    with pytest.raises(BadInput, match=f"ids {b}, {a}"):
        store.get_run("dup")


# -- lost runs -------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_running_run_with_live_process_is_running(db: Path) -> None:
    with Store(db, stale_after_s=0) as s:
        rid = new_run(s, pid=os.getpid())
        assert s.get_run(rid).status == "running"


def test_stale_run_with_dead_process_is_lost(db: Path) -> None:
    with Store(db, stale_after_s=0) as s:
        rid = new_run(s, pid=_dead_pid())
        s.add_samples(rid, [SampleRow(1001.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)])
        assert s.get_run(rid).status == "lost"
        assert [r.status for r in s.list_runs()] == ["lost"]
        assert len(s.samples(rid)) == 1, "a lost run keeps its data"
    with Store(db) as s:  # heartbeat at 1000 s is long past the 120 s default
        assert s.get_run(rid).status == "lost"


def test_run_whose_process_is_dead_here_is_lost_at_once(db: Path) -> None:
    import time

    with Store(db, stale_after_s=3600) as s:
        rid = new_run(s, started=time.time(), pid=_dead_pid())
        s.heartbeat(rid, time.time())
        assert s.get_run(rid).status == "lost", "a fresh heartbeat does not keep a dead pid alive"


def test_fresh_heartbeat_from_another_host_is_running(db: Path) -> None:
    import time

    with Store(db, stale_after_s=3600) as s:
        rid = new_run(s, started=time.time(), pid=_dead_pid())
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET hostname = 'elsewhere' WHERE id = ?", (rid,))
    conn.commit()
    conn.close()
    with Store(db, stale_after_s=3600) as s:
        assert s.get_run(rid).status == "running", "its process can't be seen from here"


def test_reused_pid_does_not_keep_run_alive(db: Path) -> None:
    with Store(db, stale_after_s=0) as s:
        rid = new_run(s, pid=os.getpid())
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET pid_started_unix_s = 1.0 WHERE id = ?", (rid,))
    conn.commit()
    conn.close()
    with Store(db, stale_after_s=0) as s:
        assert s.get_run(rid).status == "lost"


def test_run_recorded_on_another_host_is_lost_when_stale(db: Path) -> None:
    with Store(db, stale_after_s=0) as s:
        rid = new_run(s, pid=os.getpid())
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET hostname = 'elsewhere' WHERE id = ?", (rid,))
    conn.commit()
    conn.close()
    with Store(db, stale_after_s=0) as s:
        assert s.get_run(rid).status == "lost"


def test_finished_run_is_never_lost(db: Path) -> None:
    with Store(db, stale_after_s=0) as s:
        rid = new_run(s, pid=_dead_pid())
        s.finish_run(rid, ended_unix_s=1001.0, status="interrupted")
        assert s.get_run(rid).status == "interrupted"


# -- schema and files ------------------------------------------------------------


def test_schema_version_wal_and_sample_index(store: Store, db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cols = [r[2] for r in conn.execute("PRAGMA index_info(samples_run_t)")]
        assert cols == ["run_id", "t_unix_s"]
        sample_cols = {r[1] for r in conn.execute("PRAGMA table_info(samples)")}
        assert {"t_unix_s", "energy_j", "power_w", "low_j", "high_j"} <= sample_cols
    finally:
        conn.close()


def test_migration_hook_upgrades_and_keeps_data(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(db) as s:
        rid = new_run(s)

    def add_note(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(schema_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema_mod.MIGRATIONS, SCHEMA_VERSION, add_note)
    with Store(db) as s:
        assert s.get_run(rid).name == "train"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert "note" in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    finally:
        conn.close()


def _bytes_of(path: Path) -> bytes:
    return path.read_bytes()


def test_newer_schema_is_refused_untouched(db: Path) -> None:
    with Store(db) as s:
        new_run(s)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _bytes_of(db)
    with pytest.raises(StoreError, match="newer than this wattwise"):
        Store(db)
    assert _bytes_of(db) == before


def test_non_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"timestamp,energy\n1,2\n" * 100)
    before = _bytes_of(path)
    with pytest.raises(StoreError, match=f"{path}.*not a SQLite database"):
        Store(path)
    assert _bytes_of(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.db"]


def test_corrupt_sqlite_file_is_refused_untouched(db: Path) -> None:
    with Store(db) as s:
        rid = new_run(s)
        s.add_samples(rid, [SampleRow(float(i), "cpu:0", 1.0, 1.0, 1.0, 1.0) for i in range(50)])
    data = bytearray(_bytes_of(db))
    data[100:4096] = bytes((i * 37 + 11) % 256 for i in range(3996))  # smash the schema page
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(db)):
        Store(db)
    assert _bytes_of(db) == bytes(data)


def test_sqlite_file_of_another_program_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = _bytes_of(path)
    with pytest.raises(StoreError, match="another program"):
        Store(path)
    assert _bytes_of(path) == before


def test_unopenable_path_is_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        Store(blocker / "runs.db")


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.touch()
    with Store(path) as s:
        assert new_run(s) == 1


def test_closed_store_refuses_use(db: Path) -> None:
    s = Store(db)
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.list_runs()


# -- threads in one process --------------------------------------------------------


def test_threads_share_a_store_without_losing_rows(store: Store) -> None:
    rid = new_run(store)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(50):
                store.add_samples(
                    rid, [SampleRow(float(i), f"cpu:{k}", float(i), 1.0, float(i), float(i))]
                )
                store.heartbeat(rid, 1000.0 + i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = store.samples(rid)
    assert len(rows) == 200
    assert {r.domain for r in rows} == {f"cpu:{k}" for k in range(4)}


# -- exports -----------------------------------------------------------------------


@pytest.fixture
def finished_run(store: Store) -> tuple[Store, int]:
    rid = new_run(store, tags={"project": "llm"}, command=["python", "train.py"])
    store.add_samples(
        rid,
        [
            SampleRow(1010.0, "cpu:package-0", 1.8e6, 180000.0, 1.8e6, 1.8e6),
            SampleRow(1010.0, "dram:0", 3.6e5, 36000.0, 3.6e5, 3.6e5),
            SampleRow(1010.0, "psys", 9.9e6, 990000.0, 9.9e6, 9.9e6),
            SampleRow(1020.0, "cpu:package-0", 1.8e6, 180000.0, 1.8e6, 1.8e6),
            SampleRow(1020.0, "gpu:0", 7.2e6, 720000.0, 7.2e6, 7.2e6, gap=False),
            SampleRow(1020.0, "gpu:1", 0.0, 0.0, 0.0, 0.0, gap=True),
        ],
    )
    store.add_window(
        rid,
        {
            "name": "all",
            "start_unix_s": 1000.0,
            "end_unix_s": 1020.0,
            "energy_j": 1.1e7,
            "kind": "measured",
        },
    )
    store.add_event(rid, 1020.0, "warning", "gpu:1 read failed")
    store.finish_run(rid, ended_unix_s=1020.0, status="finished", exit_code=0)
    return store, rid


def test_export_json_parses_back(finished_run: tuple[Store, int]) -> None:
    store, rid = finished_run
    rec = store.get_run(rid)
    text = export_json(rec, store.samples(rid), store.windows(rid), store.events(rid))
    doc = json.loads(text)
    assert doc["format"] == "wattwise-run"
    assert doc["run"] == json.loads(json.dumps(rec.to_dict()))
    assert [SampleRow(**s) for s in doc["samples"]] == store.samples(rid)
    assert doc["windows"] == store.windows(rid)
    assert doc["events"] == store.events(rid)


def test_export_csv_one_row_per_sample_exact_values(finished_run: tuple[Store, int]) -> None:
    store, rid = finished_run
    samples = store.samples(rid)
    rows = list(csv.DictReader(io.StringIO(export_csv(samples))))
    assert list(rows[0].keys()) == [
        "t_unix_s",
        "domain",
        "energy_j",
        "power_w",
        "low_j",
        "high_j",
        "gap",
        "kind",
    ]
    assert {r["kind"] for r in rows} == {""}  # no record given: no sensors to say it
    back = [
        SampleRow(
            float(r["t_unix_s"]),
            r["domain"],
            float(r["energy_j"]),
            float(r["power_w"]),
            float(r["low_j"]),
            float(r["high_j"]),
            r["gap"] == "1",
        )
        for r in rows
    ]
    assert back == samples


CODECARBON_3_COLUMNS = [
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions",
    "emissions_rate", "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy",
    "ram_energy", "energy_consumed", "water_consumed", "country_name", "country_iso_code",
    "region", "cloud_provider", "cloud_region", "os", "python_version", "codecarbon_version",
    "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
    "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
]  # fmt: skip


def test_export_codecarbon_columns_and_units(finished_run: tuple[Store, int]) -> None:
    store, rid = finished_run
    rec = store.get_run(rid)
    notes: list[str] = []
    reader = csv.DictReader(io.StringIO(export_codecarbon(rec, store.samples(rid), notes=notes)))
    assert reader.fieldnames == CODECARBON_3_COLUMNS
    (row,) = list(reader)
    assert row["project_name"] == "llm"
    assert row["run_id"] == str(rid)
    assert float(row["duration"]) == pytest.approx(20.0)
    # 3.6e6 J of cpu = 1 kWh; dram 0.1 kWh; gpu 2 kWh; psys is inside the others.
    assert float(row["cpu_energy"]) == pytest.approx(1.0)
    assert float(row["ram_energy"]) == pytest.approx(0.1)
    assert float(row["gpu_energy"]) == pytest.approx(2.0)
    assert float(row["energy_consumed"]) == pytest.approx(3.1)
    assert float(row["cpu_power"]) == pytest.approx(3.6e6 / 20.0)  # W averaged over the run
    # No summary: priced now from the samples' energy, as `wattwise report` prices it, and
    # said (the zone: $WATTWISE_ZONE, the config's, else the world average).
    assert float(row["emissions"]) > 0 and float(row["emissions_rate"]) > 0
    assert any("priced now from the run's partial energy" in n for n in notes), notes
    assert row["water_consumed"] == ""
    assert row["cpu_model"] == "AMD EPYC 9B45"
    assert row["cpu_count"] == "8"
    assert row["gpu_count"] == "2"
    assert row["gpu_model"] == "2 x NVIDIA H100"
    assert float(row["ram_total_size"]) == pytest.approx(34.36e9 / 1024**3)
    assert row["os"] == "Linux-6.1"
    assert row["python_version"] == "3.11.9"
    assert row["tracking_mode"] == "machine"


def test_export_codecarbon_with_emissions_pue_and_zone(finished_run: tuple[Store, int]) -> None:
    store, rid = finished_run
    rec = store.get_run(rid)
    text = export_codecarbon(
        rec,
        store.samples(rid),
        emissions_kg=0.5,
        pue=1.5,
        country_iso_code="FRA",
        country_name="France",
        wue_l_per_kwh=2.0,
    )
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert float(row["emissions"]) == 0.5
    assert float(row["emissions_rate"]) == pytest.approx(0.5 / 20.0)
    assert float(row["energy_consumed"]) == pytest.approx(3.1 * 1.5)
    assert float(row["cpu_energy"]) == pytest.approx(1.5)
    assert float(row["water_consumed"]) == pytest.approx(3.1 * 1.5 * 2.0)
    assert row["country_iso_code"] == "FRA"
    assert row["pue"] == "1.5"


def test_export_codecarbon_without_samples_leaves_energy_empty(
    finished_run: tuple[Store, int],
) -> None:
    store, rid = finished_run
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(store.get_run(rid)))))
    for col in ("cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "cpu_power"):
        assert row[col] == ""


@pytest.mark.parametrize("kind", ["data", "config"])
def test_user_dirs_agree_with_platformdirs(
    kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    import platformdirs

    from wattwise._paths import user_dir

    if not sys.platform.startswith("linux"):
        pytest.skip("the XDG rule is Linux's")
    want = {"data": platformdirs.user_data_dir, "config": platformdirs.user_config_dir}[kind]
    var = {"data": "XDG_DATA_HOME", "config": "XDG_CONFIG_HOME"}[kind]
    for value in (str(tmp_path), "relative/ignored", ""):
        monkeypatch.setenv(var, value)
        assert user_dir(kind) == Path(want("wattwise", appauthor=False))
