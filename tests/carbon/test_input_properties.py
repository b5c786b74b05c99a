"""Property tests of the parsers behind a user's trace, config file and times: for any
bytes or text they return a valid result (finite numbers, times in 1970-2200 UTC) or
raise ``BadInput``; never another exception, never a hang."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattwise._userinput import (
    MAX_TIME_UNIX_S,
    MIN_TIME_UNIX_S,
    check_time,
    parse_time,
    read_user_file,
)
from wattwise.carbon.traces import TraceData, decode_trace, parse_trace
from wattwise.carbon.zones import parse_config
from wattwise.errors import BadInput

BOUNDED = settings(max_examples=200, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

#: Cells a hostile trace is made of: times and numbers in and out of range, junk.
_CELLS = st.one_of(
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["nan", "inf", "-inf", "1e17", "-1e18", "0000-01-01", "10000-01-01",
                     "9999-12-31T23:00-05:00", "0001-01-01T00:00+01:00", "2020-01-01 00:00",
                     "2020-01-01T00:00Z", "", " ", "\x00", "é", "1e308"]),
)


def _assert_valid_trace(data: TraceData) -> None:
    t, g = data.t_unix_s, data.g_per_kwh
    assert t.size == g.size > 0
    assert np.all(np.isfinite(t)) and np.all(np.isfinite(g))
    assert np.all((t >= MIN_TIME_UNIX_S) & (t <= MAX_TIME_UNIX_S))
    assert np.all(g >= 0)
    assert np.all(np.diff(t) > 0)
    assert math.isfinite(data.step_s) and data.step_s > 0


def _parse(text: str) -> TraceData | None:
    try:
        return parse_trace(text, "t.csv")
    except BadInput:
        return None


@BOUNDED
@given(st.text(max_size=400))
def test_any_text_is_a_valid_trace_or_bad_input(text: str) -> None:
    data = _parse(text)
    if data is not None:
        _assert_valid_trace(data)


@BOUNDED
@given(st.lists(st.tuples(_CELLS, _CELLS), max_size=20))
def test_any_rows_under_a_good_header_are_a_valid_trace_or_bad_input(
    rows: list[tuple[str, str]],
) -> None:
    text = "Time,Carbon Intensity\n" + "".join(
        f'"{a.replace(chr(34), "")}","{b.replace(chr(34), "")}"\n' for a, b in rows
    )
    data = _parse(text)
    if data is not None:
        _assert_valid_trace(data)


@BOUNDED
@given(st.binary(max_size=400), st.sampled_from(["t.csv", "t.csv.gz"]))
def test_any_bytes_are_a_valid_trace_or_bad_input(raw: bytes, name: str) -> None:
    for blob in (raw, b"\x1f\x8b" + raw, gzip.compress(raw)[: max(len(raw) // 2, 3)]):
        try:
            data = decode_trace(blob, name)
        except BadInput:
            continue
        _assert_valid_trace(data)


@BOUNDED
@given(st.text(max_size=300))
def test_any_config_text_is_a_dict_or_bad_input(text: str) -> None:
    try:
        config = parse_config(text, "config.toml")
    except BadInput:
        return
    assert isinstance(config, dict)
    zone = config.get("zone")
    assert zone is None or (isinstance(zone, str) and zone.strip())


@BOUNDED
@given(st.one_of(st.text(max_size=80), _CELLS))
def test_any_time_text_is_in_range_or_bad_input(text: str) -> None:
    try:
        t = parse_time(text, "--at")
    except BadInput:
        return
    assert math.isfinite(t) and MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S


@BOUNDED
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_number_is_a_time_in_range_or_bad_input(x: float) -> None:
    try:
        t = check_time(x, "t")
    except BadInput:
        return
    assert MIN_TIME_UNIX_S <= t <= MAX_TIME_UNIX_S


@BOUNDED
@given(st.binary(max_size=200))
def test_any_file_reads_back_or_is_bad_input(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("f") / "x.csv"
    path.write_bytes(raw)
    try:
        got = read_user_file(path, "trace")
    except BadInput:
        assert raw == b""  # only an empty file is refused
        return
    assert got == raw
