"""Trace parsing, cleaning and lookup, on small hand-made CSVs and the shipped traces."""

from __future__ import annotations

import gzip
import math
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.carbon import traces
from wattwise.carbon.traces import TraceSource, parse_time, parse_trace
from wattwise.errors import BadInput

T0 = parse_time("2020-06-01 00:00:00")


def _csv(rows: list[tuple[str, str]]) -> str:
    return "Time,Carbon Intensity\n" + "".join(f"{t},{v}\n" for t, v in rows)


def test_naive_timestamps_are_utc_and_offsets_are_converted() -> None:
    assert (
        parse_time("2020-06-01 00:00:00") == datetime(2020, 6, 1, tzinfo=timezone.utc).timestamp()
    )
    assert parse_time("2020-06-01T02:00:00+02:00") == T0
    assert parse_time("2020-06-01T00:00:00Z") == T0
    assert parse_time(str(T0)) == T0


def test_identical_duplicate_rows_are_merged_and_reported() -> None:
    d = parse_trace(
        _csv(
            [("2020-06-01 00:00", "100"), ("2020-06-01 00:00", "100.0"),
             ("2020-06-01 01:00", "200")]
        ),
        "dup.csv",
    )
    assert d.duplicates == 1
    assert list(d.g_per_kwh) == [100.0, 200.0]
    assert any("duplicate" in n for n in d.notes)


@pytest.mark.parametrize("time_form", ["2020-06-01 00:00", "2020-06-01T00:00:00Z"],
                         ids=["bulk path", "row-by-row path"])
def test_duplicate_timestamps_with_different_values_are_refused_naming_both_lines(
    time_form: str,
) -> None:
    text = _csv([("2020-06-01 01:00" if "T" not in time_form else "2020-06-01T01:00:00Z",
                  "200"), (time_form, "100"), (time_form, "900")])
    with pytest.raises(BadInput) as e:
        parse_trace(text, "dup.csv")
    assert str(e.value) == (
        "dup.csv: line 3 and line 4 are both at 2020-06-01T00:00:00Z but give different "
        "intensities (100 and 900 gCO2eq/kWh); keep the right one"
    )


def test_a_conflict_after_a_blank_line_names_the_file_lines() -> None:
    text = ("Time,Carbon Intensity\n2020-06-01T00:00:00Z,100\n\n"
            "2020-06-01T01:00:00Z,5\n2020-06-01T00:00:00Z,100\n2020-06-01T00:00:00Z,7\n")
    with pytest.raises(BadInput, match=r"^t.csv: line 2 and line 6 are both at "):
        parse_trace(text, "t.csv")


def test_a_conflict_in_a_later_bulk_chunk_names_its_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(traces, "_CHUNK_ROWS", 2)
    rows = [(f"2020-06-01 0{h}:00", "10") for h in range(5)] + [("2020-06-01 01:00", "11")]
    with pytest.raises(BadInput, match=r"^c.csv: line 3 and line 7 are both at "
                       r"2020-06-01T01:00:00Z but give different intensities \(10 and 11 "):
        parse_trace(_csv(rows), "c.csv")


def test_clean_samples_without_lines_names_sample_positions() -> None:
    with pytest.raises(BadInput, match=r"^s: sample 2 and sample 3 are both at "):
        traces.clean_samples(np.array([T0 + 60, T0, T0]), np.array([1.0, 2.0, 3.0]), "s")


def test_duplicate_timestamps_mean_when_asked() -> None:
    d = parse_trace(
        _csv(
            [("2020-06-01 00:00", "100"), ("2020-06-01 00:00", "300"), ("2020-06-01 01:00", "200")]
        ),
        "dup.csv",
        duplicates="mean",
    )
    assert list(d.g_per_kwh) == [200.0, 200.0]


def test_unsorted_rows_are_sorted_and_reported() -> None:
    d = parse_trace(_csv([("2020-06-01 01:00", "2"), ("2020-06-01 00:00", "1")]), "u.csv")
    assert list(d.g_per_kwh) == [1.0, 2.0]
    assert d.reordered and any("sorted" in n for n in d.notes)


def test_gap_is_found_and_reported_in_series_notes() -> None:
    rows = [(f"2020-06-01 0{h}:00", str(h * 10)) for h in (0, 1, 2, 6, 7)]
    d = parse_trace(_csv(rows), "gap.csv")
    assert d.gaps == ((T0 + 2 * 3600, T0 + 6 * 3600),)
    src = TraceSource(d, "DE")
    s = src.series("DE", T0 + 2 * 3600, T0 + 5 * 3600)
    assert s.notes and "no data from" in s.notes[0]
    # step function: the 02:00 value holds across the gap
    assert src.intensity_at("DE", T0 + 4 * 3600).intensity_g_per_kwh == 20.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Time,Power\n2020-06-01 00:00,1\n", "line 1"),
        ("Time,Carbon Intensity\n2020-06-01 00:00,1\nnot-a-time,2\n", "line 3"),
        ("Time,Carbon Intensity\n2020-06-01 00:00,12 g/kWh\n", "line 2"),
        ("Time,Carbon Intensity\n2020-06-01 00:00\n", "line 2"),
        ("", "empty"),
        ("Time,Carbon Intensity\n", "no data rows"),
    ],
)
def test_malformed_csv_names_file_and_line(text: str, needle: str) -> None:
    with pytest.raises(BadInput, match=needle) as info:
        parse_trace(text, "bad.csv")
    assert "bad.csv" in str(info.value)


def test_bad_file_on_disk_is_bad_input(tmp_path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("Time,Carbon Intensity\n2020-01-01 00:00,abc\n")
    with pytest.raises(BadInput, match=r"x\.csv: line 2"):
        TraceSource.from_csv(p, "DE")
    with pytest.raises(BadInput, match="cannot read"):
        TraceSource.from_csv(tmp_path / "missing.csv", "DE")


def test_outside_range_errors_by_default() -> None:
    de = TraceSource.for_zone("DE")
    with pytest.raises(BadInput, match="outside"):
        de.intensity_at("DE", parse_time("2023-01-01T00:00:00Z"))
    with pytest.raises(BadInput, match="outside"):
        de.series("DE", parse_time("2021-01-09T00:00:00Z"), parse_time("2021-02-01T00:00:00Z"))


def test_outside_range_yearly_fallback_says_so() -> None:
    de = TraceSource.for_zone("DE", outside="yearly")
    i = de.intensity_at("DE", parse_time("2023-01-01T00:00:00Z"))
    assert i.kind == "yearly-average" and i.intensity_g_per_kwh == 381.0
    assert "outside" in i.note and "yearly average used" in i.note


def test_trace_for_another_zone_is_refused() -> None:
    with pytest.raises(BadInput, match="is for zone DE"):
        TraceSource.for_zone("DE").intensity_at("FR", T0)
    with pytest.raises(BadInput, match="no shipped trace"):
        TraceSource.for_zone("US")


def test_shipped_traces_cover_2020_and_match_the_source_file() -> None:
    for zone, step in (("DE", 900.0), ("GB", 1800.0), ("FR", 1800.0)):
        s = TraceSource.for_zone(zone).full_series
        assert s.step_s == step
        assert s.covers(parse_time("2020-01-01T00:00:00Z"), parse_time("2021-01-01T00:00:00Z"))
    # first row of ger_2020.csv: 2019-12-20 00:00:00,218.29003068829462
    de = TraceSource.for_zone("DE")
    assert de.intensity_at("DE", parse_time("2019-12-20 00:00:00")).intensity_g_per_kwh == (
        pytest.approx(218.29003068829462)
    )


def test_linear_interpolation_is_between_samples() -> None:
    d = parse_trace(_csv([("2020-06-01 00:00", "100"), ("2020-06-01 01:00", "200")]), "l.csv")
    lin = TraceSource(d, "FR", interpolation="linear")
    step = TraceSource(d, "FR")
    assert lin.intensity_at("FR", T0 + 1800).intensity_g_per_kwh == pytest.approx(150.0)
    assert step.intensity_at("FR", T0 + 1800).intensity_g_per_kwh == 100.0
    assert lin.mean_intensity("FR", T0, T0 + 3600).intensity_g_per_kwh == pytest.approx(150.0)


_values = st.floats(min_value=0, max_value=traces.MAX_INTENSITY_G_PER_KWH, allow_nan=False,
                    allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=2_000_000_000),
    steps=st.lists(st.integers(min_value=1, max_value=86_400), min_size=0, max_size=30),
    values=st.lists(_values, min_size=31, max_size=31),
    iso=st.booleans(),
)
def test_any_well_formed_trace_round_trips(start, steps, values, iso) -> None:
    times = np.cumsum([start, *steps]).astype(float)
    vals = values[: times.size]

    def fmt(t: float) -> str:
        if not iso:
            return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return datetime.fromtimestamp(t, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    d = parse_trace(_csv([(fmt(t), repr(v)) for t, v in zip(times, vals, strict=True)]), "h.csv")
    assert list(d.t_unix_s) == list(times)
    assert list(d.g_per_kwh) == vals
    assert d.duplicates == 0 and not d.reordered
    assert all(math.isfinite(v) for v in d.g_per_kwh)


# -- the bulk path and the row-by-row path read a trace the same way ---------------

_FAST_TIME = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31)
).flatmap(lambda d: st.sampled_from([
    d.strftime("%Y-%m-%d %H:%M"), d.strftime("%Y-%m-%dT%H:%M:%S"), d.isoformat(),
    d.strftime("%Y-%m-%d %H:%M:%S") + "Z", str(int(d.timestamp())),
]))
_VALUE = st.one_of(
    st.floats(min_value=0, max_value=2e5).map(repr),
    st.sampled_from(["nan", "-1", " 12 ", "1_000", "x", "", "inf", "+5"]),
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(_FAST_TIME, _VALUE), min_size=1, max_size=12))
def test_bulk_parse_of_a_chunk_equals_the_row_by_row_parse(
    rows: list[tuple[str, str]],
) -> None:
    chunk = [list(r) for r in rows]
    fast = traces._fast_chunk(chunk, 2, 0, 1)
    try:
        slow = traces._slow_chunk(chunk, ["Time", "Carbon Intensity"], 0, 1, "t.csv", 2)
    except BadInput:
        assert fast is None  # the bulk path never accepts what the exact one refuses
        return
    if fast is not None:
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])


def test_a_bad_row_past_the_first_chunk_is_named_by_its_line(monkeypatch) -> None:
    monkeypatch.setattr(traces, "_CHUNK_ROWS", 4)
    rows = [(f"2020-06-01 {h:02d}:00", "100") for h in range(10)]
    rows[7] = ("2020-06-01 07:00", "lots")
    with pytest.raises(BadInput, match=r"line 9: intensity 'lots' is not a number"):
        parse_trace(_csv(rows), "c.csv")
    rows[7] = ("2020-06-01 07:00", "100")
    d = parse_trace(_csv(rows), "c.csv")
    assert d.t_unix_s.size == 10 and d.t_unix_s[-1] - d.t_unix_s[0] == 9 * 3600


def test_a_trace_over_the_size_limit_is_refused_before_it_is_read(tmp_path) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(traces.MAX_TRACE_BYTES + 1)
    with pytest.raises(BadInput, match=r"big.csv: it is \d+ bytes, more than the \d+ accepted"):
        TraceSource.from_csv(big, "DE")


def test_a_gzip_trace_that_inflates_past_the_limit_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(traces, "MAX_TRACE_BYTES", 1000)
    text = _csv([(f"2020-06-01 {h:02d}:00", "100") for h in range(24)] * 3)
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert path.stat().st_size < 1000 < len(text)
    with pytest.raises(BadInput, match="once decompressed; resample it"):
        TraceSource.from_csv(path, "DE")


@pytest.mark.parametrize("cell", ["٣٠٠", "3_00", "\uff13\uff10\uff10"])
@pytest.mark.parametrize("rows", [2, 70_000], ids=["row by row", "bulk path"])
def test_an_intensity_float_would_stretch_is_refused_naming_its_line(cell: str, rows: int) -> None:
    good = [(f"2020-06-01 {h % 24:02d}:00", "300") for h in range(1, min(rows, 24))]
    text = _csv([("2020-06-01 00:00", cell), *good])
    if rows > 24:  # past one chunk of the bulk reader, every time well formed
        text = "Time,Carbon Intensity\n" + "".join(
            f"{datetime.fromtimestamp(T0 + 60 * i, tz=timezone.utc):%Y-%m-%d %H:%M},"
            f"{cell if i == 5 else '300'}\n" for i in range(rows)
        )
    line = 2 if rows <= 24 else 7
    with pytest.raises(BadInput, match=rf"t.csv: line {line}: intensity .* is not a plain number"):
        parse_trace(text, "t.csv")


@pytest.mark.parametrize("text", ["١٦٠٠٠٠٠٠٠٠", "1_600_000_000"])
def test_a_time_float_would_stretch_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match=r"--at: cannot read time .*digits 0-9 only"):
        parse_time(text, "--at")


# -- one intensity bound, the same as the estimate's ------------------------------


def test_the_trace_bound_is_the_estimate_bound_and_the_shipped_traces_keep_it() -> None:
    from wattwise.estimate import _limits

    assert traces.MAX_INTENSITY_G_PER_KWH == _limits.INTENSITY.high == 2000.0
    for zone in traces.SHIPPED:
        assert TraceSource.for_zone(zone).data.g_per_kwh.max() <= traces.MAX_INTENSITY_G_PER_KWH


@pytest.mark.parametrize("rows", [2, 70_000], ids=["row by row", "bulk path"])
def test_an_intensity_above_the_bound_is_refused_naming_its_line(rows: int) -> None:
    text = "Time,Carbon Intensity\n" + "".join(
        f"{datetime.fromtimestamp(T0 + 60 * i, tz=timezone.utc):%Y-%m-%d %H:%M},"
        f"{'2001' if i == 5 else '2000'}\n" for i in range(rows + 4)
    )
    with pytest.raises(BadInput, match=r"t.csv: line 7: intensity 2001 is not a finite value "
                                        r"from 0 to 2,000 gCO2eq/kWh"):
        parse_trace(text, "t.csv")


# -- a header or a row that leaves unclear which cell holds the data --------------


@pytest.mark.parametrize("header", ["Time,Carbon Intensity,Carbon Intensity",
                                    "Time,Carbon Intensity,carbon intensity ",
                                    "Time,Time,Carbon Intensity"])
def test_a_header_naming_a_column_twice_is_refused(header: str) -> None:
    text = f"{header}\n2020-06-01 00:00,100,900\n"
    with pytest.raises(BadInput, match=r"d.csv: line 1: header names the column .* 2 times "
                                        r"\(columns (2, 3|1, 2)\).*keep one"):
        parse_trace(text, "d.csv")


def test_two_different_intensity_columns_read_the_leftmost() -> None:
    text = ("Datetime (UTC),Carbon Intensity gCO₂eq/kWh (direct),"
            "Carbon Intensity gCO₂eq/kWh (LCA)\n2020-06-01 00:00,100,150\n")
    assert list(parse_trace(text, "em.csv").g_per_kwh) == [100.0]


@pytest.mark.parametrize(("text", "line", "got"), [
    ("Time,Carbon Intensity,Extra\n2020-06-01 00:00,100,x\n2020-06-01 01:00,100\n", 3, 2),
    ("Time,Carbon Intensity\n2020-06-01 00:00,100\n2020-06-01 01:00,100,5\n", 3, 3),
    ("Time,Carbon Intensity\n2020-06-01 00:00,100,\n", 2, 3),
])
def test_a_row_with_more_or_fewer_cells_than_the_header_is_refused(
    text: str, line: int, got: int,
) -> None:
    with pytest.raises(BadInput, match=rf"r.csv: line {line}: expected \d columns as in the "
                                        rf"header, got {got}"):
        parse_trace(text, "r.csv")


def test_a_trace_value_of_minus_zero_reads_as_zero() -> None:
    data = parse_trace("Time,Carbon Intensity\n2020-01-01T00:00,-0\n2020-01-01T01:00,5\n", "t.csv")
    assert not np.signbit(data.g_per_kwh[0])
