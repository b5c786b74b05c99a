"""A stored trace name of any length is cut in the notes that name it, as other long
names are: a 5,000-character one was printed whole, twice, in ``show``'s note."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.carbon.repricing import reprice_options


@pytest.mark.parametrize("relative", [True, False])
def test_a_long_stored_trace_name_is_cut_in_every_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    name = "a" * 5000 + ".csv"
    trace = name if relative else f"{tmp_path}/{name}"
    pricing = reprice_options(None, started={"zone": "DE", "intensity_trace": trace})
    notes = pricing.notes
    assert pricing.options.intensity_trace is None  # priced at the yearly average
    assert any("cannot be read" in n and "File name too long" in n for n in notes)
    assert any("characters)" in n for n in notes)
    assert all(len(n) < 800 for n in notes), [len(n) for n in notes]
    if relative:
        assert any("relative to a folder it did not record" in n for n in notes)
