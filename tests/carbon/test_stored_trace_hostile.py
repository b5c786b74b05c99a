"""A lost run's stored carbon options are read from the record, not typed by the user:
a trace path there that names a FIFO, a device, a directory, an over-long name or a
file too large, or a trace whose bytes match but whose values are not usable, must
never hang, read without end or raise. Each is priced at the zone's yearly average
with a note naming why, the same in ``show``, ``report``, the export and the API."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.carbon.test_partial_sql import _lost_run, _sha
from wattwise.carbon.accounting import trace_sha256
from wattwise.cli import _register_all, app

_register_all()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _stored_trace(db: Path, rid: int, path: str, digest: str | None) -> None:
    with sqlite3.connect(db) as conn:
        host = json.loads(conn.execute("SELECT host_json FROM runs WHERE id = ?",
                                       (rid,)).fetchone()[0])
        host["carbon_options"].update(intensity_trace=path, intensity_trace_sha256=digest)
        conn.execute("UPDATE runs SET host_json = ? WHERE id = ?", (json.dumps(host), rid))


def _outputs(db: Path, rid: int) -> dict[str, Any]:
    """What ``show --json``, ``report --json`` and ``/api/runs/ID`` say of the run."""
    runner = CliRunner()
    out: dict[str, Any] = {}
    for cmd in ("show", "report"):
        res = runner.invoke(app, [cmd, str(rid), "--db", str(db), "--json"])
        assert res.exit_code == 0, (cmd, res.output)
        out[cmd] = json.loads(res.stdout)
    from wattwise.server import create_app

    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        got = c.get(f"/api/runs/{rid}")
        assert got.status_code == 200, got.text
        out["api"] = got.json()
        assert c.get("/metrics").status_code == 200
        assert c.get("/api/runs?status=lost").status_code == 200
    return out


def _hostile(tmp_path: Path, kind: str) -> str:
    if kind == "fifo":
        path = tmp_path / "fifo.csv"
        os.mkfifo(path)
        return str(path)
    if kind == "device":
        return "/dev/zero"
    if kind == "directory":
        return str(tmp_path)
    if kind == "long name":
        return str(tmp_path / ("a" * 5000))
    path = tmp_path / "huge.csv"  # sparse: larger than any trace read
    with path.open("wb") as fh:
        fh.truncate(5 * 1024**3)
    return str(path)


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "long name", "too large"])
def test_a_stored_trace_that_is_no_regular_file_is_never_read(
        tmp_path: Path, kind: str) -> None:
    db, rid = _lost_run(tmp_path, trace=True)
    path = _hostile(tmp_path, kind)
    _stored_trace(db, rid, path, "0" * 64)
    assert trace_sha256(path) is None  # never blocks, never reads without end
    out = _outputs(db, rid)
    notes = " ".join(out["report"]["emissions"]["notes"])
    assert "priced at the zone's yearly average" in notes, notes
    assert out["report"]["emissions"]["emissions_g"] > 0
    grams = out["report"]["emissions"]["emissions_g"]
    for said in (out["show"], out["api"]["run"]):
        assert (said.get("emissions_so_far") or {}).get("emissions_g") == \
            pytest.approx(grams, rel=1e-9), said


@pytest.mark.parametrize("value", ["nan", "-500", "1e308", "inf"])
def test_a_stored_trace_with_values_out_of_range_is_said_not_usable_everywhere(
        tmp_path: Path, value: str) -> None:
    db, rid = _lost_run(tmp_path, trace=True)
    bad = tmp_path / "bad.csv"
    good = (tmp_path / "de.csv").read_text().splitlines()
    bad.write_text("\n".join([good[0]] + [f"{line.split(',')[0]},{value}"
                                          for line in good[1:]]) + "\n")
    _stored_trace(db, rid, str(bad), _sha(bad))
    out = _outputs(db, rid)
    notes = out["report"]["emissions"]["notes"]
    said = [n for n in notes if "is not usable" in n and "bad.csv" in n]
    assert said and "priced at the zone's yearly average" in said[0], notes
    grams = out["report"]["emissions"]["emissions_g"]
    assert grams > 0
    assert (out["show"].get("emissions_so_far") or {}).get("emissions_g") == \
        pytest.approx(grams, rel=1e-9)
    api = out["api"]["run"].get("emissions_so_far") or {}
    assert api.get("emissions_g") == pytest.approx(grams, rel=1e-9), out["api"]
