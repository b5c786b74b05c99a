"""A trace's bytes are decoded once per process, shared by the check that a stored trace
still prices a run (``carbon.repricing``) and the pricing itself, in bounded memory; the
bulk parser reads ISO times ending in ``Z`` (a trace of a million such rows was read row
by row, seconds each time a run was priced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.carbon.test_partial_sql import _lost_run
from wattwise.carbon import traces
from wattwise.carbon.partial import partial_energy_of, stored_partial_emissions
from wattwise.carbon.traces import TraceSource, parse_trace, read_trace
from wattwise.errors import BadInput
from wattwise.records.store import Store


def _trace(path: Path, rows: int, value: int = 381, start: int = 1_796_083_200) -> Path:
    import time

    lines = ["Time,Carbon Intensity"] + [
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start + i))},{value}"
        for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _nothing_kept() -> Any:
    kept: dict[Any, Any] = getattr(traces, "_DECODED", {})
    kept.clear()
    yield
    kept.clear()


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = traces.decode_trace

    def counted(raw: bytes, name: str, duplicates: Any = "first") -> Any:
        calls.append(name)
        return real(raw, name, duplicates)

    monkeypatch.setattr(traces, "decode_trace", counted)
    return calls


def test_times_ending_in_z_take_the_bulk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read row by row")

    text = "Time,Carbon Intensity\n" + "".join(
        f"2026-12-01T00:00:{s:02d}{'Z' if s % 2 else 'z'},{100 + s}\n" for s in range(60))
    slow = parse_trace(text, "z.csv")
    monkeypatch.setattr(traces, "_slow_chunk", refused)
    fast = parse_trace(text, "z.csv")
    np.testing.assert_array_equal(fast.t_unix_s, slow.t_unix_s)
    np.testing.assert_array_equal(fast.g_per_kwh, slow.g_per_kwh)
    assert fast.t_unix_s[0] == 1_796_083_200.0
    minutes = parse_trace("Time,Carbon Intensity\n2026-12-01 00:01Z,5\n", "m.csv")
    assert list(minutes.t_unix_s) == [1_796_083_260.0]


@pytest.mark.parametrize("cell", ["2026-12-01T24:00:00Z", "2026-02-30T00:00:00Z",
                                  "2026-12-01T00:00:00X", "2026-12-01T00:00:60Z"])
def test_a_bad_time_ending_in_z_is_named_by_its_line(cell: str) -> None:
    text = f"Time,Carbon Intensity\n2026-12-01T00:00:00Z,5\n{cell},6\n"
    with pytest.raises(BadInput, match=r"^b.csv: line 3: time: cannot read time"):
        parse_trace(text, "b.csv")


def test_the_same_bytes_are_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    calls = _count_decodes(monkeypatch)
    path = _trace(tmp_path / "t.csv", 50)
    first = read_trace(path)
    again = TraceSource.from_csv(path, "DE").data
    assert again is first and calls == ["t.csv"]
    assert not first.t_unix_s.flags.writeable  # shared: nobody may change it
    _trace(path, 50, value=382)  # other bytes: decoded again
    assert read_trace(path).g_per_kwh[0] == 382.0 and len(calls) == 2


def test_bytes_that_are_no_trace_are_refused_alike_without_decoding_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_decodes(monkeypatch)
    path = tmp_path / "bad.csv"
    path.write_text("Time,Carbon Intensity\n2026-12-01T00:00:00Z,lots\n", encoding="utf-8")
    with pytest.raises(BadInput) as one:
        read_trace(path)
    with pytest.raises(BadInput) as two:
        read_trace(path)
    assert str(one.value) == str(two.value)
    assert "line 2: intensity 'lots' is not a number" in str(two.value)
    assert len(calls) == 1


def test_few_decoded_traces_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_decodes(monkeypatch)
    paths = [_trace(tmp_path / f"t{i}.csv", 10, value=100 + i)
             for i in range(traces.KEPT_TRACES + 3)]
    for p in paths:
        read_trace(p)
    kept = [v for v in traces._DECODED.values() if isinstance(v, traces.TraceData)]
    assert len(kept) == traces.KEPT_TRACES
    read_trace(paths[-1])  # the newest are kept
    assert len(calls) == len(paths)
    read_trace(paths[0])  # the oldest was let go
    assert len(calls) == len(paths) + 1


def test_a_lost_run_on_a_stored_trace_decodes_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check that the stored trace is still the run's (``_unusable_trace``) and the
    pricing read the same decoded trace."""
    calls = _count_decodes(monkeypatch)
    db, rid = _lost_run(tmp_path, trace=True)
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy_of(rec, store.samples(rid))
        assert part is not None
        em = stored_partial_emissions(store, rec, part)
    assert em is not None and em["kind"] == "trace"
    assert calls == ["de.csv"]
