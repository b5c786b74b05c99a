"""Every number of a stored summary written as an integer of 401 digits (another
tool's record, or a damaged one: JSON holds it, ``float()`` and ``math.isfinite``
refuse it with an ``OverflowError``): no output fails. ``show``, ``export``, ``report``,
the runs list, ``/metrics`` and the run page failed on a duration, an energy in kWh, a
PUE or an intensity so stored, each where a reader of its own took the number
(``wattwise._finite`` is now the one reader)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._cli_out import recorded
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

_register_all()
BIG = "1" + "0" * 400


def _leaves(x: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in _leaves(v, (*path, k))]
    if isinstance(x, list):
        return [p for i, v in enumerate(x) for p in _leaves(v, (*path, i))]
    return [path] if isinstance(x, (int, float)) and not isinstance(x, bool) else []


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, Any]]:
    db = tmp_path_factory.mktemp("huge") / "runs.db"
    rid = recorded(db)
    conn = sqlite3.connect(db)
    (text,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
    conn.close()
    return db, rid, json.loads(text)


def _with(summary: dict[str, Any], path: tuple[Any, ...], sign: str) -> str:
    s = json.loads(json.dumps(summary))
    at = s
    for k in path[:-1]:
        at = at[k]
    at[path[-1]] = "@@"
    return json.dumps(s).replace('"@@"', sign + BIG)


def test_every_number_of_a_summary_may_be_too_large_for_a_float(
        made: tuple[Path, int, dict[str, Any]], tmp_path: Path) -> None:
    base, rid, summary = made
    leaves = _leaves(summary)
    assert len(leaves) > 20
    failed: list[str] = []
    refused: set[str] = set()
    for n, path in enumerate(leaves):
        db = tmp_path / f"{n}.db"
        conn, whole = sqlite3.connect(db), sqlite3.connect(base)
        whole.backup(conn)  # its -wal too
        whole.close()
        with conn:
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                         (_with(summary, path, "-" if n % 2 else ""), rid))
            # the same damage, without an end, its emissions unusable, no samples
            cols = [c[1] for c in conn.execute("PRAGMA table_info(runs)")][1:]
            conn.execute(f"INSERT INTO runs ({', '.join(cols)}) SELECT {', '.join(cols)}"
                         " FROM runs WHERE id = ?", (rid,))
            other = int(conn.execute("SELECT max(id) FROM runs").fetchone()[0])
            s = json.loads(_with(summary, path, "").replace(BIG, '"@@"'))
            s.pop("end_unix_s", None)
            s["emissions"]["emissions_g"] = "x"
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                         (json.dumps(s).replace('"@@"', BIG), other))
        conn.close()
        with TestClient(create_app(db), base_url="http://127.0.0.1",
                        raise_server_exceptions=False) as client:
            for url in ("/api/runs?all_notes=true", "/api/runs?sort=duration",
                        f"/api/runs/{rid}", f"/api/runs/{other}",
                        f"/api/runs/{rid}/timeline", "/metrics"):
                got = client.get(url)
                if got.status_code != 200:
                    failed.append(f"{path} {url} {got.status_code}")
        for ref in (rid, other):
            for cmd in (["show", str(ref)], ["export", str(ref), "-f", "json"],
                        ["export", str(ref), "-f", "codecarbon"], ["report", str(ref)]):
                r = CliRunner().invoke(app, [*cmd, "--db", str(db)], env={"COLUMNS": "200"})
                # a refusal of one line (exit 2) is an answer; an exception is not
                lines = r.stderr.strip().splitlines()
                if r.exit_code not in (0, 2) or not isinstance(r.exception, (SystemExit,
                                                                             type(None))) \
                        or (r.exit_code == 2 and (len(lines) != 1 or not lines[0].startswith(
                            "wattwise: error: "))):
                    failed.append(f"{path} {' '.join(cmd)}: {r.exception!r} {lines}"[:300])
                if r.exit_code == 2:
                    refused.add(r.stderr.strip())
    assert not failed, "\n".join(failed)
    # the one refusal: ``report`` of the copy, which has no samples to price it from
    assert refused and all(r.startswith(f"wattwise: error: run {made[1] + 1} has no stored "
                                        "samples") and r.endswith(": nothing to price")
                           for r in refused), refused
