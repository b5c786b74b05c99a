"""The market-based parts the run page spells itself (``stored_market.market_parts``) are
those ``wattwise show`` prints, a figure of 0 g included: with every kWh covered, the
stored 0 read as no figure, and the page lost the Scope 2 pair's notes and its hourly
matching, and kept the stored basis text ("3.43526e-06 kWh (100.0%)")."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all
from wattwise.records.store import Store
from wattwise.records.stored_market import market_lines, market_parts

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("share", ["1", "0.5"])
def test_the_parts_hold_what_show_prints_a_zero_figure_too(tmp_path: Path, share: str) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    hour = time.time() // 3600 * 3600
    profile = tmp_path / "ppa.csv"
    profile.write_text("Time,clean_kwh\n" + "".join(
        f"{hour + 3600 * k:.0f},1e-7\n" for k in range(-1, 3)))
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--renewable-share",
                                 share, "--clean-profile", str(profile), "--",
                                 sys.executable, "-c", "pass"])
    assert r.exit_code == 0, r.output
    flush_all(30.0)
    with Store(db, readonly=True) as store:
        summary = store.get_run(1).summary
    em = summary["emissions"]
    assert (em["market_g"] == 0) == (share == "1")
    lines = market_lines(summary)
    parts = market_parts(summary)
    assert parts is not None and parts["g"] == em["market_g"]
    assert parts["basis_parts"]["covered_share"] == pytest.approx(float(share))
    assert parts["hourly"] is not None  # the CFE line ``show`` prints
    assert any("hourly matching" in line for line in lines)
    assert [f"  note: {n}" for n in parts["notes"]] == [
        line for line in lines if line.startswith("  note: ")]


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run's summary priced with a Scope 2 pair (half its energy covered)."""
    _register_all()
    db = tmp_path_factory.mktemp("priced") / "runs.db"
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "--renewable-share",
                                 "0.5", "--", sys.executable, "-c", "pass"])
    assert r.exit_code == 0, r.output
    flush_all(30.0)
    with Store(db, readonly=True) as store:
        return store.get_run(1).summary


@pytest.mark.parametrize("key,value", [
    ("covered_share", 2.0), ("covered_share", -0.5), ("covered_kwh", 1e300),
    ("uncovered_kwh", float("nan")), ("certificate_g_per_kwh", float("inf")),
    ("market_low_g", -1.0), ("covered_share", True), ("uncovered_kwh", "3")])
def test_a_pair_no_run_could_hold_is_not_shown_and_said_so(priced: dict, key: str,
                                                           value: object) -> None:
    import copy

    summary = copy.deepcopy(priced)
    summary["emissions"]["scope2"][key] = value
    lines, parts = market_lines(summary), market_parts(summary)
    assert not any("Scope 2" in line and "both figures" in line for line in lines)
    assert not any("200.0" in line or "e+300" in line for line in lines)
    # nor the stored basis text, written from that pair
    assert summary["emissions"]["market_basis"] not in "\n".join(lines)
    assert lines[0].endswith("; its basis not shown (written from the Scope 2 pair the note "
                             "names)"), lines
    note = "  note: the record's Scope 2 pair is not usable"
    assert sum(line.startswith(note) for line in lines) == 1, lines
    # the market-based figure itself is still the stored one, on every output
    assert lines[0].startswith("  market-based: ")
    assert parts is not None and "basis_parts" not in parts
    assert parts["g"] == summary["emissions"]["market_g"]
    assert [f"  note: {n}" for n in parts["notes"]] == lines[1:]


def test_the_sound_pair_is_shown_whole(priced: dict) -> None:
    lines, parts = market_lines(priced), market_parts(priced)
    assert any("both figures" in line for line in lines)
    assert not any("not usable" in line for line in lines)
    assert parts is not None and parts["basis_parts"]["covered_share"] == pytest.approx(0.5)


@pytest.mark.parametrize("value", [None, "", "   ", "\n", 123, ["a"]])
@pytest.mark.parametrize("key,said", [("uncovered_basis", "a basis not recorded"),
                                      ("uncovered_source", "source not recorded")])
def test_a_basis_stored_without_its_words_says_so(priced: dict, key: str, said: str,
                                                  value: object) -> None:
    import copy

    summary = copy.deepcopy(priced)
    summary["emissions"]["scope2"][key] = value
    lines, parts = market_lines(summary), market_parts(summary)
    text = "\n".join(lines)
    assert "None" not in text and "()" not in text and "(\n)" not in text, text
    if not isinstance(value, str):  # a stored non-text reads as none stored, never as itself
        unset = copy.deepcopy(priced)
        unset["emissions"]["scope2"][key] = None
        assert lines == market_lines(unset)
    assert parts is not None
    if key == "uncovered_source" and isinstance(value, str):
        assert parts["basis_parts"][key] == ""  # no source: none said, no "()"
    else:
        assert said in text and parts["basis_parts"][key] == said


@pytest.mark.parametrize("basis", [None, "", "  ", 7])
def test_a_figure_without_its_pair_or_basis_words_says_so(priced: dict, basis: object) -> None:
    import copy

    summary = copy.deepcopy(priced)
    em = summary["emissions"]
    # a pair without its basis's words (BC1's "; None"): neither is shown, the note says so
    del em["scope2"]["uncovered_basis"], em["scope2"]["uncovered_source"]
    em["market_basis"] = basis
    lines, parts = market_lines(summary), market_parts(summary)
    assert "None" not in "\n".join(lines)
    assert lines[0].endswith("; its basis not shown (written from the Scope 2 pair the note "
                             "names)"), lines
    assert parts is not None and parts["basis"] == lines[0].split("; ", 1)[1]
    # a figure priced without a pair or a share, its basis without words
    del em["scope2"], summary["carbon_options"]["renewable_share"]
    lines, parts = market_lines(summary), market_parts(summary)
    assert lines == [lines[0]] and lines[0].endswith("; basis not recorded"), lines
    assert parts is not None and parts["basis"] == "basis not recorded"
