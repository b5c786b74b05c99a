"""A domain's component as the run's sensors record it (``export_values.domain_components``):
one stored empty (or as no text) put the domain's energy in no CodeCarbon column, so the
columns no longer added up to ``energy_consumed`` ("cpu:model (4.2 J, ): ..."), and two
sensors giving one domain different components put a CPU's energy in ``gpu_energy``,
unsaid. Both now fall back as a domain recorded without a component does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from wattwise.records.export_values import component_of, domain_components


def _known(*sensors: Any) -> dict[str, tuple[str, bool]]:
    return domain_components(SimpleNamespace(sensors=list(sensors)))  # type: ignore[arg-type]


def test_a_component_that_is_no_text_or_empty_is_none() -> None:
    known = _known({"domains": [{"name": "cpu:model", "component": ""},
                                {"name": "gpu:0", "component": None},
                                {"name": "npu:0", "component": 7},
                                {"name": "memory:model", "component": "memory",
                                 "in_total": True}]}, 3, "x", {"domains": [5, "y"]})
    assert known == {"memory:model": ("memory", True)}
    assert component_of("cpu:model", known) == ("cpu", True)  # from its name


def test_a_domain_two_sensors_disagree_on_takes_neither() -> None:
    one = {"domains": [{"name": "cpu:model", "component": "cpu"}]}
    other = {"domains": [{"name": "cpu:model", "component": "gpu"}]}
    assert _known(one, other) == {}
    assert _known(one, one) == {"cpu:model": ("cpu", True)}  # listed twice alike: kept
    assert _known(one, other, one) == {}


def test_the_columns_add_up_with_an_empty_component(tmp_path: Any) -> None:
    import csv
    import io
    import json
    import sqlite3

    from typer.testing import CliRunner

    from tests._damage import tracked_run
    from wattwise.cli import _register_all, app

    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        sensors = json.loads(conn.execute("SELECT sensors_json FROM runs").fetchone()[0])
        for sensor in sensors:
            for d in sensor.get("domains") or []:
                d["component"] = ""
        conn.execute("UPDATE runs SET sensors_json = ?", (json.dumps(sensors),))
    conn.close()
    _register_all()
    got = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    assert got.exit_code == 0, got.output
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    parts = [float(row[k]) for k in ("cpu_energy", "gpu_energy", "ram_energy") if row[k]]
    assert parts and float(row["energy_consumed"]) > 0
    assert sum(parts) == pytest.approx(float(row["energy_consumed"]), rel=1e-12)


def test_a_component_is_read_as_wattwise_writes_it() -> None:
    """" cpu " and "CPU" went to no CodeCarbon column."""
    known = _known({"domains": [{"name": "cpu:model", "component": " CPU "}]})
    assert known == {"cpu:model": ("cpu", True)}
