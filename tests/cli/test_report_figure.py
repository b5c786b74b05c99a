"""``wattwise report RUN --png/--svg FILE``: the run's power figure, its title the total
the command printed; a bad output is one line and exit 2 before anything is read."""

from __future__ import annotations

import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli._hostile import check_refusal, invoke
from tests.server._runs import demo_like
from wattwise.measure.results import fmt_energy
from wattwise.records.store import Store

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs") / "r.db"
    with Store(path) as store:
        demo_like(store)
    return path


def _report(db: Path, *args: str) -> tuple[str, str, int]:
    stdout, stderr, code, _ = invoke(["report", "1", "--db", str(db), *args], {})
    return stdout, stderr, code


def test_svg_and_png_are_written_with_the_printed_total_in_the_title(
        db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="PNG figures need the optional matplotlib")
    svg, png = tmp_path / "power.svg", tmp_path / "power.png"
    stdout, stderr, code = _report(db, "--json", "--svg", str(svg), "--png", str(png))
    assert code == 0, stderr
    out = json.loads(stdout)
    assert out["svg"] == str(svg) and out["png"] == str(png)
    title = ET.parse(svg).getroot().find(f"{SVG}title").text or ""
    printed = fmt_energy(out["energy_j"], out["low_j"], out["high_j"])
    assert f"total {printed}, {out['energy_kind']}" in title
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout, stderr, code = _report(db, "--svg", str(svg))
    assert code == 0 and f"wrote {svg}" in stdout and printed in stdout


def test_an_svg_needs_no_matplotlib(db: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    _, stderr, code = _report(db, "--svg", str(tmp_path / "p.svg"))
    assert code == 0, stderr
    assert ET.parse(tmp_path / "p.svg").getroot().tag == f"{SVG}svg"


def test_a_png_without_matplotlib_is_refused_in_one_line(
        db: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    check_refusal(*_report(db, "--png", str(tmp_path / "p.png")), "pip install matplotlib")
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize(("args", "expected"), [
    (["--svg", "{tmp}/missing/p.svg"], "does not exist"),
    (["--png", "{tmp}"], "it is a directory"),
    (["--svg", "{db}"], "it is the run database"),
    (["--svg", "{tmp}/"], "names a folder"),
    (["--png", "{tmp}/p.svg"], "name it .png"),
    (["--svg", "{tmp}/p.png"], "name it .svg"),
    # one rule for every output, as compress --plot: the format's own suffix
    (["--png", "{tmp}/p.txt"], "p.txt: the name must end in .png, as the file is PNG"),
    (["--svg", "{tmp}/p"], "the name must end in .svg"),
    (["--html", "{tmp}/p.png"], "the name ends in .png, but the file would be HTML"),
    (["--html", "{tmp}/p.txt"], "the name must end in .html or .htm"),
    # two outputs can no longer share a name: each has its own suffix
    (["--svg", "{tmp}/p.svg", "--html", "{tmp}/p.svg"], "but the file would be HTML"),
    (["--svg", "{tmp}/p.fig", "--png", "{tmp}/p.fig"], "the name must end in .png"),
    # An empty name is refused as empty, not taken as '.' (the current folder).
    (["--svg", ""], "--svg file path is empty"),
    (["--png", ""], "--png file path is empty"),
    (["--html", ""], "--html file path is empty"),
    (["--json", "--svg", ""], "--svg file path is empty"),
])
def test_a_bad_output_path_is_one_line_and_exit_2(
        db: Path, tmp_path: Path, args: list[str], expected: str) -> None:
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    filled = [a.replace("{tmp}", str(tmp_path)).replace("{db}", str(db)) for a in args]
    check_refusal(*_report(db, *filled), expected)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob("p.*"))


def test_export_to_an_empty_file_name_is_refused_as_empty(db: Path) -> None:
    stdout, stderr, code, _ = invoke(["export", "1", "--db", str(db), "-o", ""], {})
    check_refusal(stdout, stderr, code, "--output file path is empty")
