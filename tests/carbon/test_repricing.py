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
