"""Hourly (24/7) matching: profiles read like traces; energy matched hour by hour."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.carbon.emissions import compute_emissions
from wattwise.carbon.matching import match_hourly, parse_profile, read_profile
from wattwise.carbon.traces import TraceSource, parse_trace
from wattwise.errors import BadInput

T0 = 1_590_000_000.0 - (1_590_000_000.0 % 3600)  # an hour boundary


def _em(intervals: list[tuple[float, float, float, float, float]], values: list[float]) -> object:
    rows = "Time,Carbon Intensity\n" + "".join(
        f"{T0 + 3600 * i:.0f},{v}\n" for i, v in enumerate(values))
    src = TraceSource(parse_trace(rows, "t.csv"), "DE")
    return compute_emissions(intervals, "DE", src, pue=1.0)


def test_kw_and_kwh_columns_give_the_same_energy_per_hour() -> None:
    kw = parse_profile(f"Time,clean_kw\n{T0:.0f},2\n{T0 + 3600:.0f},4\n", "kw.csv")
    kwh = parse_profile(f"Time,clean_kwh\n{T0:.0f},2\n{T0 + 3600:.0f},4\n", "kwh.csv")
    mw = parse_profile(f"time,generation_mw\n{T0:.0f},0.002\n{T0 + 3600:.0f},0.004\n", "mw")
    assert list(kw.kwh) == pytest.approx([2.0, 4.0])
    assert list(kwh.kwh) == pytest.approx([2.0, 4.0])
    assert list(mw.kwh) == pytest.approx([2.0, 4.0])


@pytest.mark.parametrize(("text", "says"), [
    ("Time,Carbon Intensity\n2020-01-01 00:00,1\n", "clean_kw"),
    ("Time,clean_kw\n2020-01-01 00:00,-1\n", "line 2"),
    ("Time,clean_kw\n2020-01-01 00:00,lots\n", "line 2"),
    ("Time,clean_kw\n", "no data rows"),
    ("", "empty file"),
    # one row: the step cannot be told (it used to be taken as an hour, silently)
    ("Time,clean_kw\n2020-01-01 00:00,1\n", "one time only.*at least two rows"),
    ("Time,clean_kw\n2020-01-01 00:00,1\n2020-01-01 00:00,1\n", "one time only"),
    # plain numbers only, as the traces and the CLI's options
    ("Time,clean_kwh\n2020-01-01 00:00,1_0\n2020-01-01 01:00,1\n",
     "line 2: supply '1_0' is not a plain number"),
    ("Time,clean_kwh\n2020-01-01 00:00,1\n2020-01-01 01:00,\u0661\n",
     "line 3: supply .* is not a plain number"),
    ("Time,clean_kwh\n2020-01-01 00:00,\uff11\n2020-01-01 01:00,1\n", "not a plain number"),
    # two supply columns: which one is meant is unknown
    ("Time,clean_kw,clean_kwh\n2020-01-01 00:00,1,0.5\n2020-01-01 01:00,1,0.5\n",
     "2 supply columns .*'clean_kw', 'clean_kwh'.*keep one"),
    ("Time,Datetime,clean_kw\n2020-01-01 00:00,2020-01-01 00:00,1\n", "2 time columns"),
    # a row with a cell more or less than the header
    ("Time,clean_kw\n2020-01-01 00:00,1,7\n2020-01-01 01:00,1\n",
     "line 2: expected 2 columns as in the header, got 3"),
    ("Time,clean_kw,note\n2020-01-01 00:00,1\n2020-01-01 01:00,1,x\n",
     "line 2: expected 3 columns"),
    # one time twice with different supply: named as supply, in the column's unit
    ("Time,clean_kwh\n2020-01-01 00:00,1e-05\n2020-01-01 00:00,2e-05\n",
     r"line 2 and line 3 .* different supply \(1e-05 and 2e-05 clean_kwh\)"),
])
def test_a_bad_profile_is_one_clear_error(text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        parse_profile(text, "p.csv")


def test_read_profile_reads_a_file(tmp_path: Path) -> None:
    p = tmp_path / "ppa.csv"
    p.write_text(f"Time,clean_kw\n{T0:.0f},1.5\n{T0 + 3600:.0f},0\n")
    assert read_profile(p).kwh[0] == pytest.approx(1.5)


def test_an_interval_across_an_hour_edge_is_split_by_time() -> None:
    # 1 kWh over 30 min centred on the edge: 0.5 kWh in each hour
    em = _em([(T0 + 2700, T0 + 4500, 3.6e6, 3.6e6, 3.6e6)], [100.0, 300.0])
    profile = parse_profile(f"Time,clean_kwh\n{T0:.0f},0.5\n{T0 + 3600:.0f},0.1\n", "p")
    got = match_hourly(em, profile)
    assert got.matched_kwh == pytest.approx(0.6)
    assert got.cfe_score == pytest.approx(0.6)
    # the interval's own (time-weighted) intensity prices its unmatched part: 200 g/kWh
    assert got.unmatched_g == pytest.approx(0.4 * 200.0)
    assert got.steps == 2


def test_the_range_follows_the_energy_range() -> None:
    em = _em([(T0, T0 + 1800, 3.6e6, 1.8e6, 7.2e6)], [100.0])
    profile = parse_profile(f"Time,clean_kwh\n{T0:.0f},1.0\n{T0 + 3600:.0f},0\n", "p")
    got = match_hourly(em, profile)
    assert got.unmatched_g == pytest.approx(0.0)
    assert got.unmatched_low_g == pytest.approx(0.0)
    assert got.unmatched_high_g == pytest.approx(1.0 * 100.0)  # 2 kWh load, 1 matched


def test_surplus_supply_in_one_hour_does_not_cover_another() -> None:
    em = _em([(T0, T0 + 3600, 3.6e6, 3.6e6, 3.6e6),
              (T0 + 3600, T0 + 7200, 3.6e6, 3.6e6, 3.6e6)], [100.0, 400.0])
    profile = parse_profile(f"Time,clean_kwh\n{T0:.0f},10\n{T0 + 3600:.0f},0\n", "p")
    got = match_hourly(em, profile)
    assert got.cfe_score == pytest.approx(0.5)
    assert got.unmatched_g == pytest.approx(400.0)


@pytest.mark.parametrize("column,value,ok", [
    ("clean_mw", "10000", True),           # 10 GW: the bound itself
    ("clean_mw", "10001", False),
    ("clean_kwh", "1e300", False),          # one hour's supply, far past any contract
    ("clean_kw", "99999999999999999999", False),
])
def test_a_supply_past_10_gw_is_refused_as_a_unit_mistake(
    column: str, value: str, ok: bool
) -> None:
    text = f"Time,{column}\n2026-01-01 00:00,1\n2026-01-01 01:00,{value}\n"
    if ok:
        assert parse_profile(text, "p.csv").kwh[-1] == pytest.approx(1e7)
        return
    with pytest.raises(BadInput, match=r"p.csv: supply at 2026-01-01T01:00:00Z averages .* "
                                       r"more than 10,000,000 kW \(10 GW"):
        parse_profile(text, "p.csv")
