"""``compress`` and ``tune`` refuse a ``$WATTWISE_ZONE`` that names no zone before any
work, in one line, as ``bench`` and ``run`` do: each variant's tracked run refused it, so
every variant was reported failed with the zone's error, the command ended 0, and with
``--store`` an empty parent run was recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app


@pytest.mark.parametrize("args", [["compress", "digits-mlp", "-m", "int8-dynamic", "--store"],
                                  ["tune", "digits-mlp", "--store"],
                                  ["compress", "digits-mlp", "-m", "int8-dynamic"]])
def test_a_bad_ambient_zone_is_one_line_before_any_work(tmp_path: Path,
                                                        args: list[str]) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    env = {"WATTWISE_ZONE": "junkzone", "WATTWISE_DB": str(db),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    r = CliRunner().invoke(app, args, env=env)
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert "unknown zone 'junkzone'" in lines[0] and "WATTWISE_ZONE" in lines[0]
    assert not db.exists()  # nothing recorded
