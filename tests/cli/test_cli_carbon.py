"""`wattwise zones` and `wattwise intensity` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from wattwise.cli.carbon import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_zones_search_json_lists_matches_with_intensity() -> None:
    r = runner.invoke(_app(), ["zones", "azure:west", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    names = {row["zone"] for row in rows}
    assert "azure:westeurope" in names and all("azure:west" in n for n in names)
    we = next(row for row in rows if row["zone"] == "azure:westeurope")
    assert we["parent"] == "NL" and we["year"] == 2023 and we["source"]


def test_intensity_at_time_uses_shipped_trace() -> None:
    r = runner.invoke(_app(), ["intensity", "FR", "--at", "2020-06-01T12:00:00Z", "--json"])
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["kind"] == "trace" and "fr_2020" in d["source"]


def test_intensity_with_user_trace(tmp_path) -> None:
    p = tmp_path / "mine.csv"
    p.write_text("Time,Carbon Intensity\n2024-01-01T00:00:00Z,123\n2024-01-01T01:00:00Z,321\n")
    r = runner.invoke(
        _app(), ["intensity", "DE", "--trace", str(p), "--at", "2024-01-01T01:30:00Z"]
    )
    assert r.exit_code == 0 and "321.0" in r.output and "mine.csv" in r.output


def test_unknown_zone_is_one_line_exit_2() -> None:
    r = runner.invoke(_app(), ["intensity", "Germny"])
    assert r.exit_code == 2
    assert r.output.strip().startswith("wattwise: error: unknown zone")
    assert "DE" in r.output and "Traceback" not in r.output


def test_malformed_trace_is_exit_2(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("Time,Carbon Intensity\n2024-01-01,12 g\n")
    r = runner.invoke(_app(), ["intensity", "DE", "--trace", str(p), "--at", "2024-01-01"])
    assert r.exit_code == 2 and "bad.csv: line 2" in r.output


def test_intensity_says_how_a_trace_was_cleaned(tmp_path: Path) -> None:
    trace = tmp_path / "dup.csv"
    trace.write_text("Time,Carbon Intensity\n2024-01-01T01:00:00Z,200\n"
                     "2024-01-01T00:00:00Z,100\n2024-01-01T00:00:00Z,100\n")
    out = runner.invoke(_app(), ["intensity", "DE", "--trace", str(trace),
                              "--at", "2024-01-01T00:30Z"])
    assert out.exit_code == 0
    assert "100.0 gCO2eq/kWh" in out.stdout
    assert "1 duplicate timestamp(s) merged" in out.stdout
    assert "not in time order" in out.stdout


def test_intensity_echoes_the_time_it_read_never_the_text_typed() -> None:
    r = runner.invoke(_app(), ["intensity", "DE", "--at", "2020-01-01T00:00Z\n"])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("\n") == 1, r.stdout  # one line, not split by the typed newline
    assert r.stdout.startswith("DE at 2020-01-01 00:00:00Z: ")


def test_a_time_outside_the_trace_names_cli_ways_out_not_a_python_keyword(
    tmp_path: Path,
) -> None:
    p = tmp_path / "t.csv"
    p.write_text("Time,Carbon Intensity\n2024-01-01T00:00:00Z,123\n2024-01-01T01:00:00Z,321\n")
    r = runner.invoke(_app(), ["intensity", "DE", "--trace", str(p), "--at", "2030-01-01"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    line = r.output.strip()
    assert line.startswith("wattwise: error: --at 2030-01-01T00:00:00Z is outside trace:t.csv")
    assert "give an --at inside it, or drop --trace" in line
    assert "outside=" not in line and len(line.splitlines()) == 1


def test_a_trace_above_the_intensity_bound_is_refused_as_the_estimate_refuses(
    tmp_path: Path,
) -> None:
    p = tmp_path / "big.csv"
    p.write_text("Time,Carbon Intensity\n2026-12-01T20:00:00Z,100\n2026-12-01T21:00:00Z,2001\n")
    r = runner.invoke(_app(), ["intensity", "DE", "--trace", str(p),
                               "--at", "2026-12-01T21:30:00Z"])
    assert r.exit_code == 2
    assert "big.csv: line 3: intensity 2001 is not a finite value from 0 to 2,000" in r.output
