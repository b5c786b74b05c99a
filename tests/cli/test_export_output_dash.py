"""``wattwise export RUN --output -`` writes to stdout, as Unix tools read ``-``, in every
format; a real file (``./-`` included) is still written beside itself and renamed
(``whole_file.whole_file``), never left half-written."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise import whole_file as export_values
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

FORMATS = ("json", "csv", "codecarbon")


@pytest.fixture()
def recorded(tmp_path: Path) -> tuple[Path, int]:
    """A database holding one short run priced in DE; its id."""
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.2)
    assert run.flush() and run.run_id is not None
    return db, run.run_id


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, made the current one: what a command wrote there shows."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture()
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``whole_file`` (the temporary-file-and-rename write) is asked for."""
    paths: list[str] = []
    real = export_values.whole_file

    def spy(path: Any) -> AbstractContextManager[Any]:
        paths.append(str(path))
        return real(path)

    monkeypatch.setattr(export_values, "whole_file", spy)
    return paths


def _export(db: Path, run_id: int, fmt: str, *output: str) -> Any:
    r = runner.invoke(app, ["export", str(run_id), "--db", str(db), "-f", fmt, *output])
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_dash_writes_the_export_to_stdout(
    recorded: tuple[Path, int], written: list[str], folder: Path, fmt: str,
) -> None:
    db, run_id = recorded
    default = _export(db, run_id, fmt)
    for option in ("--output", "-o"):
        dashed = _export(db, run_id, fmt, option, "-")
        assert dashed.stdout == default.stdout and dashed.stdout.strip()
        assert "wrote" not in dashed.stderr
    assert list(folder.iterdir()) == []  # no file named '-', no temporary file
    assert written == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_path_is_still_written_whole_through_a_temporary_file(
    recorded: tuple[Path, int], written: list[str], folder: Path, fmt: str,
) -> None:
    db, run_id = recorded
    default = _export(db, run_id, fmt)
    named = folder / f"out.{fmt}"
    to_file = _export(db, run_id, fmt, "-o", str(named))
    dot_dash = _export(db, run_id, fmt, "--output", "./-")  # a file named '-'
    for r, path in ((to_file, named), (dot_dash, folder / "-")):
        assert r.stdout == ""
        assert path.read_text(encoding="utf-8") == default.stdout
        assert f"wrote {path.name if path.name == '-' else path}" in " ".join(
            r.stderr.split())
    assert [Path(p) for p in written] == [named, Path("-")]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["-", named.name])


def test_a_folder_name_is_said_with_one_slash(recorded: tuple[Path, int],
                                              folder: Path) -> None:
    """``-o ./`` names a folder: the line gives the name as typed, not ``.//``."""
    db, rid = recorded
    res = runner.invoke(app, ["export", str(rid), "--db", str(db), "-o", "./"])
    assert res.exit_code == 2
    assert "cannot write --output file ./: the name ends with '/'" in res.output, res.output
