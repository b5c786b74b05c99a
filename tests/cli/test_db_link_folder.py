"""A ``--db`` that is a link to a file in a folder that is not there is refused as a
missing folder, naming the link's target's folder, as a path typed to it is: it was
SQLite's "unable to open database file"."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wattwise.cli import _register_all, app

_register_all()


def test_a_link_into_a_missing_folder_names_that_folder(tmp_path: Path) -> None:
    link = tmp_path / "runs.db"
    link.symlink_to(Path("nowhere") / "x.db")
    marker = tmp_path / "ran"
    r = CliRunner().invoke(app, ["run", "--db", str(link), "--", "touch", str(marker)])
    said = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    assert f"folder {tmp_path / 'nowhere'} does not exist (it is not created for --db)" \
        in said, said
    assert not marker.exists() and not (tmp_path / "nowhere").exists()
