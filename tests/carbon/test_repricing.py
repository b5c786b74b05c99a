"""``carbon.repricing``: the carbon options a run starts with, as stored with its row."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_a_trace_named_relative_to_the_start_folder_is_stored_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost run is priced from the options it started with; a relative trace name read
    from another folder priced it from another file (or none)."""
    from wattwise.carbon.accounting import CarbonOptions
    from wattwise.carbon.repricing import started_carbon

    (tmp_path / "trace.csv").write_text("time,intensity\n2026-01-01T00:00:00Z,300\n")
    monkeypatch.chdir(tmp_path)
    stored = started_carbon(CarbonOptions(zone="DE", intensity_trace="trace.csv"))
    assert stored["intensity_trace"] == str(tmp_path / "trace.csv")
    assert stored["intensity_trace_sha256"]


def test_a_lost_run_with_a_relative_trace_from_an_older_record_says_which_file_prices_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records written before traces were stored whole name them relative to a folder
    they did not record: the reader's folder is used, and the note says so."""
    from wattwise.carbon.accounting import trace_sha256
    from wattwise.carbon.repricing import reprice_options

    trace = tmp_path / "trace.csv"
    trace.write_text("Time,Carbon Intensity\n2026-01-01T00:00:00Z,300\n"
                     "2026-01-01T01:00:00Z,310\n")
    monkeypatch.chdir(tmp_path)
    started = {"zone": "DE", "intensity_trace": "trace.csv",
               "intensity_trace_sha256": trace_sha256(trace)}
    got = reprice_options({}, started=started)
    assert got.options.intensity_trace == "trace.csv"
    said = [n for n in got.notes if "relative to a folder it did not record" in n]
    assert said == [f"the run stored its trace as 'trace.csv', relative to a folder it did "
                    f"not record: read as {trace}"]
    whole = reprice_options({}, started={**started, "intensity_trace": str(trace)})
    assert not any("relative" in n for n in whole.notes)


@pytest.mark.usefixtures("no_ambient_zone")
def test_a_lost_run_priced_elsewhere_names_the_pue_it_was_started_with() -> None:
    """A lost cloud run (AWS's 1.15) priced at --zone DE (1) or --pue 1.3: the note named
    only its zone, where a finished run's names its PUE too."""
    from wattwise.carbon.repricing import reprice_options

    def said(started: dict, **options: object) -> list[str]:
        got = reprice_options({}, started=started, **options)  # type: ignore[arg-type]
        return [n for n in got.notes if n.startswith("priced at ") and "recorded" in n]

    cloud = {"zone": "aws:eu-west-1", "pue": None}
    assert said(cloud, zone="DE") == \
        ["priced at DE (--zone), recorded with aws:eu-west-1, PUE 1.15"]
    assert said(cloud, pue=1.3) == \
        ["priced at PUE 1.3 (--pue), recorded with aws:eu-west-1, PUE 1.15"]
    assert said(cloud, pue=1.15) == []  # nothing changed
    assert said({"zone": None, "pue": None}, zone="aws:us-east-1") == \
        ["priced at aws:us-east-1 (--zone), recorded at the world average, PUE 1"]
    assert said({"zone": "DE", "pue": 1.3}, zone="FR") == \
        ["priced at FR (--zone), recorded with DE, PUE 1.3"]
