"""Keep A or replace it by B: yearly figures, payback and its range, against hand sums."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from wattwise.errors import BadInput
from wattwise.estimate._figures import Range
from wattwise.estimate.refresh import (
    SECONDS_PER_YEAR,
    DeviceUse,
    Embodied,
    embodied_for,
    estimate_refresh,
    parse_range,
)
from wattwise.estimate.refresh_inputs import from_bench, read_bench

#: 3.6e9 units a year at 2 J and 1 J: 2,000 and 1,000 kWh.
UNITS = Range.exact(3.6e9)
GRID = Range.exact(100.0)


def _est(a_j: Range | None = None, b_j: Range | None = None,
         embodied_kg: Range | None = None, **kw: object) -> Any:
    a_j = a_j or Range.exact(2.0)
    b_j = b_j or Range.exact(1.0)
    embodied_kg = embodied_kg or Range.exact(150.0)
    args: dict[str, object] = {
        "embodied_b": Embodied(embodied_kg * 1000.0, "test figure"),
        "lifetime_b_years": Range.exact(4.0), "remaining_a_years": 2.0,
        "intensity_g_per_kwh": GRID, "intensity_source": "100 g/kWh as given",
        "units_per_year": UNITS,
    }
    args.update(kw)
    return estimate_refresh(DeviceUse("A", a_j, "given"), DeviceUse("B", b_j, "given"),
                            **args)  # type: ignore[arg-type]


def test_payback_is_embodied_over_the_yearly_saving() -> None:
    est = _est()
    assert est.energy_a_kwh_per_year.value == pytest.approx(2000.0)
    assert est.energy_b_kwh_per_year.value == pytest.approx(1000.0)
    assert est.saving_g_per_year.value == pytest.approx(100_000.0)
    assert est.payback_years.years == pytest.approx(1.5)
    assert "pays back in 1.5 years" in est.verdict
    assert "within A's remaining 2 years" in est.verdict


def test_the_range_pairs_the_small_cost_with_the_large_saving() -> None:
    est = _est(a_j=Range(1.8, 2.0, 2.2), b_j=Range(0.9, 1.0, 1.1),
               embodied_kg=Range(100.0, 150.0, 200.0))
    # saving low: (1.8 - 1.1) x 1000 kWh x 100 g = 70 kg; high: (2.2 - 0.9) -> 130 kg
    assert est.saving_g_per_year.low == pytest.approx(70_000.0)
    assert est.saving_g_per_year.high == pytest.approx(130_000.0)
    assert est.payback_years.low_years == pytest.approx(100 / 130)
    assert est.payback_years.high_years == pytest.approx(200 / 70)


def test_b_that_uses_more_never_pays_back() -> None:
    est = _est(b_j=Range.exact(2.5))
    assert est.payback_years.never
    assert est.verdict.startswith("never pays back")
    assert est.to_dict()["payback_years"]["years"] is None


def test_a_payback_longer_than_b_lifetime_never_pays_back_within_it() -> None:
    est = _est(embodied_kg=Range.exact(500.0))  # 5 years > 4
    assert "never pays back within B's 4-year lifetime" in est.verdict


def test_a_payback_after_a_retires_says_replacing_later_saves_more() -> None:
    est = _est(embodied_kg=Range.exact(300.0), remaining_a_years=1.0)  # 3 years
    assert "later than A's remaining 1 years" in est.verdict


def test_an_unfavourable_range_end_that_never_pays_back_is_said() -> None:
    est = _est(b_j=Range(0.5, 1.0, 2.5))
    assert math.isinf(est.payback_years.high_years)
    assert "never pays back" in " ".join(est.notes)
    assert est.to_dict()["payback_years"]["high_never"] is True


def test_utilisation_and_idle_power_set_the_work_and_the_idle_energy() -> None:
    a = DeviceUse("A", Range.exact(2.0), "given", throughput_per_s=100.0, idle_w=50.0)
    b = DeviceUse("B", Range.exact(1.0), "given", throughput_per_s=400.0, idle_w=80.0)
    est = estimate_refresh(a, b, embodied_b=Embodied(Range.exact(1e5), "x"),
                           lifetime_b_years=Range.exact(4.0), remaining_a_years=3.0,
                           intensity_g_per_kwh=GRID, intensity_source="x", utilisation=0.5,
                           pue=1.5)
    units = 0.5 * 100.0 * SECONDS_PER_YEAR
    a_j = units * 2.0 + 50.0 * (SECONDS_PER_YEAR - units / 100.0)
    b_j = units * 1.0 + 80.0 * (SECONDS_PER_YEAR - units / 400.0)
    assert est.energy_a_kwh_per_year.value == pytest.approx(a_j * 1.5 / 3.6e6)
    assert est.energy_b_kwh_per_year.value == pytest.approx(b_j * 1.5 / 3.6e6)


def test_energy_payback_needs_an_embodied_energy_figure() -> None:
    assert _est().energy_payback_years is None
    assert "not computed" in _est().energy_verdict
    est = _est(embodied_b_kwh=Range.exact(500.0))
    assert est.energy_payback_years is not None
    assert est.energy_payback_years.years == pytest.approx(0.5)  # 500 / 1000 kWh a year


def test_sci_amortises_b_embodied_over_the_stated_lifetime() -> None:
    est = _est(lifetime_b_years=Range.exact(5.0))
    per_unit = 1000.0 * 100.0 / 3.6e9 + 150_000.0 / (5.0 * 3.6e9)
    assert est.sci_b_g_per_unit.value == pytest.approx(per_unit)
    assert "5 years" in est.sci_b_g_per_unit.derivation
    assert "not included" in est.sci_a_g_per_unit.derivation


@pytest.mark.parametrize(("kw", "says"), [
    ({"utilisation": 0.5}, "one of them"),
    ({"units_per_year": None, "utilisation": 1.5}, "utilisation"),
    ({"remaining_a_years": -1.0}, "remaining"),
    ({"pue": 0.5}, "PUE"),
    ({"lifetime_b_years": Range.exact(0.0)}, "lifetime"),
    ({"lifetime_b_years": Range(0.0001, 4.0, 6.0)}, "B's lifetime 0.0001 years is less"),
    ({"lifetime_b_years": Range.exact(1e9)}, "B's lifetime 1e\\+09 years is more"),
    ({"remaining_a_years": 31.0}, "A's remaining lifetime 31 years is more"),
    ({"remaining_a_years": 5.0, "lifetime_a_years": Range.exact(3.0),
      "embodied_a": Embodied(Range.exact(1e5), "a")}, "more than its whole lifetime"),
    ({"embodied_kg": Range.exact(1e30)}, "B's embodied carbon 1e\\+30 kgCO2eq is more"),
    ({"embodied_a": Embodied(Range.exact(2e9), "a")},
     "A's embodied carbon 2,000,000 kgCO2eq is more"),
    # the embodied energy has the embodied carbon's bound, at a grid cleaner than any
    ({"embodied_b_kwh": Range.exact(1e30)}, "B's embodied energy 1e\\+30 kWh is more than "
     "wattwise accepts: at most 1e\\+09 kWh"),
    ({"embodied_b_kwh": Range(1.0, 2.0, 2e9)}, "B's embodied energy 2e\\+09 kWh is more"),
])
def test_bad_inputs_are_one_clear_error(kw: dict[str, object], says: str) -> None:
    with pytest.raises(BadInput, match=says):
        _est(**kw)


def test_b_that_cannot_do_the_work_is_refused() -> None:
    a = DeviceUse("A", Range.exact(2.0), "given", throughput_per_s=100.0)
    b = DeviceUse("B", Range.exact(1.0), "given", throughput_per_s=10.0)
    # the line names where the work comes from: A's throughput, not B's figure
    with pytest.raises(BadInput, match=re.escape(
            "B cannot do 1.578e+09 units a year (50% utilisation of A at 100 sample/s over "
            "a year) at 10 units/s")):
        estimate_refresh(a, b, embodied_b=Embodied(Range.exact(1.0), "x"),
                         lifetime_b_years=Range.exact(4.0), remaining_a_years=1.0,
                         intensity_g_per_kwh=GRID, intensity_source="x", utilisation=0.5)


def test_a_zero_embodied_energy_is_noted_as_zero_embodied_carbon_is() -> None:
    est = _est(embodied_b_kwh=Range.exact(0.0))
    assert any("B's embodied energy is given as 0: making hardware uses energy" in n
               for n in est.notes)
    assert est.energy_payback_years is not None and est.energy_payback_years.years == 0
    assert not any("embodied energy is given as 0" in n
                   for n in _est(embodied_b_kwh=Range.exact(1e9)).notes)


def test_idle_power_without_throughput_is_refused() -> None:
    with pytest.raises(BadInput, match="throughput"):
        DeviceUse("A", Range.exact(1.0), "given", idle_w=10.0)


def test_embodied_figures_keep_their_sources() -> None:
    h100 = embodied_for("H100 SXM5")
    assert h100.g.value == pytest.approx(164_000.0)
    assert "NVIDIA HGX H100" in h100.source
    server = embodied_for("server-base-minimal")
    assert server.g.value == pytest.approx(1_000_000.0)
    assert "Cloud Carbon Footprint" in server.source
    with pytest.raises(BadInput, match="no published embodied figure"):
        embodied_for("V100 SXM2")


@pytest.mark.parametrize(("text", "want"), [
    ("2", Range(2.0, 2.0, 2.0)), ("1:2:3", Range(1.0, 2.0, 3.0)),
])
def test_parse_range(text: str, want: Range) -> None:
    assert parse_range(text, "x") == want


@pytest.mark.parametrize("text", ["a", "3:2:1", "1:2", "nan", "1:inf:2"])
def test_parse_range_refuses(text: str) -> None:
    with pytest.raises(BadInput):
        parse_range(text, "x")


@pytest.mark.parametrize("text", ["1_0", "\u0661", "\uff11\uff10\uff10", "1:2_0:30",
                                  "1:\u0662:3"])
def test_parse_range_refuses_what_float_reads_but_nobody_typed(text: str) -> None:
    """float() reads 1_0 as 10 and Arabic-Indic or full-width digits as 0-9."""
    with pytest.raises(BadInput, match=r"x: .* is not a plain number"):
        parse_range(text, "x")


def test_idle_draw_is_named_in_the_energy_and_sci_derivations() -> None:
    a = DeviceUse("A", Range.exact(1.0), "A: 1 J/sample (as given)", throughput_per_s=100.0,
                  idle_w=100.0)
    b = DeviceUse("B", Range.exact(0.5), "B: 0.5 J/sample (as given)",
                  throughput_per_s=200.0, idle_w=50.0)
    est = estimate_refresh(a, b, embodied_b=Embodied(Range.exact(1e5), "x"),
                           lifetime_b_years=Range.exact(4.0), remaining_a_years=3.0,
                           intensity_g_per_kwh=GRID, intensity_source="x", utilisation=0.5,
                           pue=1.5)
    # by hand: units 0.5 × 100/s × a year; busy 1 J each; idle 100 W for half a year
    units = 0.5 * 100.0 * SECONDS_PER_YEAR
    busy_kwh, idle_kwh = units * 1.0 * 1.5 / 3.6e6, 100.0 * SECONDS_PER_YEAR / 2 * 1.5 / 3.6e6
    assert est.energy_a_kwh_per_year.value == pytest.approx(busy_kwh + idle_kwh)
    how = est.energy_a_kwh_per_year.derivation
    assert "units × A: 1 J/sample (as given) + idle 100 W" in how
    assert "idle hours" in how and "units / 100 sample/s" in how and "PUE 1.5" in how
    assert "idle 50 W" in est.energy_b_kwh_per_year.derivation
    assert not any("idle draw not counted" in n for n in est.notes)
    assert "busy + idle 100 W" in est.sci_a_g_per_unit.derivation
    assert "busy + idle 50 W" in est.sci_b_g_per_unit.derivation
    assert est.sci_a_g_per_unit.value == pytest.approx((busy_kwh + idle_kwh) * 100.0 / units)
    plain = _est()  # no idle: the simpler formula, and the notes say idle is not counted
    assert plain.energy_a_kwh_per_year.derivation == "units × given × PUE 1"
    assert sum("idle draw not counted" in n for n in plain.notes) == 2


def test_a_sci_spreads_a_embodied_over_a_lifetime_never_b() -> None:
    a_emb = Embodied(Range.exact(50_000.0), "A's figure")
    base = 2000.0 * 100.0 / 3.6e9
    for life_b in (4.0, 10.0):  # B's lifetime does not move A's SCI
        est = _est(embodied_a=a_emb, lifetime_b_years=Range.exact(life_b))
        assert est.sci_a_g_per_unit.value == pytest.approx(base + 50_000.0 / (4.0 * 3.6e9))
        assert "4 years" in est.sci_a_g_per_unit.derivation
        assert any("A's lifetime for its SCI: 3-6 years, central 4 (default" in n
                   for n in est.notes)
    est = _est(embodied_a=a_emb, lifetime_a_years=Range.exact(8.0))
    assert est.sci_a_g_per_unit.value == pytest.approx(base + 50_000.0 / (8.0 * 3.6e9))
    assert "8 years" in est.sci_a_g_per_unit.derivation
    assert not any("A's lifetime" in n for n in est.notes)
    with pytest.raises(BadInput, match="give A's embodied carbon too"):
        _est(lifetime_a_years=Range.exact(8.0))
    with pytest.raises(BadInput, match="A's lifetime"):
        _est(embodied_a=a_emb, lifetime_a_years=Range.exact(0.0))


@pytest.mark.parametrize(("names", "says"), [
    (("", "B"), "cannot be empty"), (("A", "  "), "cannot be empty"),
    (("A", "A"), "the same device"),
])
def test_a_and_b_must_be_two_named_devices(names: tuple[str, str], says: str) -> None:
    with pytest.raises(BadInput, match=says):
        estimate_refresh(DeviceUse(names[0], Range.exact(2.0), "given"),
                         DeviceUse(names[1], Range.exact(1.0), "given"),
                         embodied_b=Embodied(Range.exact(1.0), "x"),
                         lifetime_b_years=Range.exact(4.0), remaining_a_years=1.0,
                         intensity_g_per_kwh=GRID, intensity_source="x",
                         units_per_year=UNITS)


def test_from_bench_reads_energy_interval_and_throughput(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text(json.dumps([{
        "name": "digits-mlp", "kind": "estimated", "machine": "m", "run_id": None,
        "energy_j_per_sample": {"mean": 0.02, "low": 0.018, "high": 0.023},
        "throughput": {"mean": 5000.0, "low": 4900.0, "high": 5100.0}}]))
    r, rate, src = from_bench(p)
    assert r == Range(0.018, 0.02, 0.023)
    assert rate == 5000.0
    assert "bench digits-mlp" in src and "estimated" in src
    with pytest.raises(BadInput, match="named 'other'"):
        from_bench(p, "other")


def test_a_grid_intensity_above_the_one_bound_is_refused() -> None:
    """The bound every other intensity has (traces, estimates): 2,000 g/kWh."""
    _est(intensity_g_per_kwh=Range(100.0, 500.0, 2000.0))
    with pytest.raises(BadInput, match="more than wattwise accepts: at most 2,000"):
        _est(intensity_g_per_kwh=Range(100.0, 500.0, 3000.0))


def test_a_zero_embodied_figure_is_noted_and_a_remaining_life_of_0_is_kept() -> None:
    est = _est(embodied_kg=Range.exact(0.0), remaining_a_years=0.0)
    assert any("B's embodied carbon is given as 0" in n for n in est.notes)
    assert not any("given as 0" in n for n in _est().notes)


def _bench_file(tmp_path: Path, **over: Any) -> Path:
    """One bench result as `wattwise bench --json` writes it, with fields replaced."""
    rec: dict[str, Any] = {
        "name": "digits-mlp", "kind": "estimated", "machine": "m", "run_id": None,
        "source": "model:ccf-vcpu Emerald Rapids via Cascade Lake",
        "repetitions": 5,
        "energy_j_per_sample": {"mean": 0.02, "low": 0.018, "high": 0.023, "n": 5},
        "throughput": {"mean": 5000.0, "low": 4900.0, "high": 5100.0}}
    rec.update(over)
    p = tmp_path / "b.json"
    p.write_text(json.dumps([rec]))
    return p


@pytest.mark.parametrize(("over", "says"), [
    # an interval that does not hold its mean is refused, not clipped to it
    ({"energy_j_per_sample": {"mean": 0.02, "low": 5, "high": 191}},
     "energy_j_per_sample.low 5 is above its mean 0.02"),
    ({"energy_j_per_sample": {"mean": 0.02, "low": 0.01, "high": 0.001}},
     "energy_j_per_sample.high 0.001 is below its mean 0.02"),
    ({"energy_j_per_sample": {"mean": 0.02, "low": "nan", "high": 0.03}},
     "not a positive number"),
    # a power model's figure is not measured, whatever the file says
    ({"kind": "measured"}, "kind 'measured' contradicts its source 'model:ccf-vcpu"),
    ({"kind": "measured", "source": "rapl:package-0; model:memory 0.37 W/GB x 2 GB"},
     "kind 'measured' contradicts"),
    ({"kind": "\x1b[31mmeasured"}, "kind must be one of measured, estimated, mixed"),
    # text shown in the output: printable only
    ({"machine": "m\x1b[2J"}, "machine must be 1-256 printable characters"),
    ({"name": "a\nb"}, "name must be 1-256 printable characters"),
])
def test_a_crafted_bench_file_is_refused_by_field(tmp_path: Path, over: dict[str, Any],
                                                  says: str) -> None:
    p = _bench_file(tmp_path, **over)
    with pytest.raises(BadInput, match=re.escape(says)) as exc:
        read_bench(p, None if "name" in over else "digits-mlp")
    assert str(p) in str(exc.value)


def test_a_measured_bench_file_keeps_its_kind(tmp_path: Path) -> None:
    p = _bench_file(tmp_path, kind="measured", source="rapl:package-0")
    assert read_bench(p).source.startswith("measured: bench digits-mlp")
    assert read_bench(_bench_file(tmp_path)).source.startswith("estimated: ")


def test_a_bench_interval_of_orders_of_magnitude_is_noted_with_its_n(tmp_path: Path) -> None:
    """n = 2 on a noisy machine: 2.9e-06 to 191 J/sample around 0.020."""
    narrow = read_bench(_bench_file(tmp_path))
    assert narrow.notes == ()
    p = _bench_file(tmp_path, energy_j_per_sample={
        "mean": 0.0201, "low": 2.93e-06, "high": 191.2, "n": 2})
    wide = read_bench(p)
    assert wide.j_per_unit == Range(2.93e-06, 0.0201, 191.2)
    assert len(wide.notes) == 1 and "n = 2" in wide.notes[0]
    assert "2.93e-06 to 191 J/sample" in wide.notes[0]
    # the note reaches the estimate
    a = DeviceUse("A", wide.j_per_unit, wide.source, wide.throughput_per_s,
                  notes=wide.notes)
    est = estimate_refresh(a, DeviceUse("B", Range.exact(0.001), "given"),
                           embodied_b=Embodied(Range.exact(1.0), "x"),
                           lifetime_b_years=Range.exact(4.0), remaining_a_years=1.0,
                           intensity_g_per_kwh=GRID, intensity_source="x",
                           units_per_year=UNITS)
    assert wide.notes[0] in est.notes
    # one side wide is enough
    one_side = read_bench(_bench_file(tmp_path, energy_j_per_sample={
        "mean": 0.02, "low": 0.019, "high": 0.5, "n": 3}))
    assert "n = 3" in one_side.notes[0]


@pytest.mark.parametrize("text", ["x\x1b[31mRED", "a\nb", "src\x00", "a\rb", "x" * 1025,
                                  " "])
def test_free_text_reaching_the_output_is_refused(text: str) -> None:
    """The check `report --unit` has: 1-256 printable characters (a source line, composed
    of up to three such texts, up to 1,024)."""
    def est(**kw: Any) -> Any:
        args: dict[str, Any] = {"keep": "A", "replace": "B", "embodied_source": "x",
                                "unit": "sample", "j_source": "given"}
        args.update(kw)
        return estimate_refresh(
            DeviceUse(args["keep"], Range.exact(2.0), args["j_source"]),
            DeviceUse(args["replace"], Range.exact(1.0), "given"),
            embodied_b=Embodied(Range.exact(1.0), args["embodied_source"]),
            lifetime_b_years=Range.exact(4.0), remaining_a_years=1.0,
            intensity_g_per_kwh=GRID, intensity_source="x", units_per_year=UNITS,
            unit=args["unit"])

    est()
    for key in ("unit", "j_source", "embodied_source") + (("keep",) if text.strip() else ()):
        with pytest.raises(BadInput, match="printable characters"):
            est(**{key: text})


def test_idle_power_is_bounded_as_a_device_s_power() -> None:
    DeviceUse("A", Range.exact(1.0), "given", 100.0, idle_w=10_000.0)
    with pytest.raises(BadInput, match="A's idle power 1e\\+09 W is more than wattwise "
                       "accepts: at most 10,000 W"):
        DeviceUse("A", Range.exact(1.0), "given", 100.0, idle_w=1e9)


def _bench_est(a: DeviceUse, b: DeviceUse, unit: str = "sample") -> Any:
    return estimate_refresh(a, b, embodied_b=Embodied(Range.exact(1.0), "x"),
                            lifetime_b_years=Range.exact(4.0), remaining_a_years=1.0,
                            intensity_g_per_kwh=GRID, intensity_source="x",
                            units_per_year=UNITS, unit=unit)


def test_a_bench_file_s_per_sample_figures_are_not_relabelled(tmp_path: Path) -> None:
    """A bench file gives J per sample and samples/s: a unit of work of tokens would
    compare them with B's J/token as if they matched."""
    got = read_bench(_bench_file(tmp_path))
    assert got.unit == "sample"
    a = DeviceUse("A", got.j_per_unit, got.source, got.throughput_per_s, unit=got.unit)
    b = DeviceUse("B", Range.exact(0.001), "given")
    assert _bench_est(a, b).unit == "sample"
    with pytest.raises(BadInput, match=re.escape(
            "A's figures are per sample (estimated: bench digits-mlp")) as exc:
        _bench_est(a, b, unit="token")
    assert "the unit of work is 'token': that would relabel them" in str(exc.value)
    # one bench result for both devices is one device measured, not two
    b_same = DeviceUse("B", got.j_per_unit, got.source, got.throughput_per_s, unit=got.unit)
    with pytest.raises(BadInput, match="A and B are given the same figures from one source"):
        _bench_est(a, b_same)
    # figures given per the estimate's unit may be equal: B as good as A is a case
    same = DeviceUse("B", Range.exact(2.0), "given")
    _bench_est(DeviceUse("A", Range.exact(2.0), "given"), same, unit="token")


def test_an_llm_bench_file_is_named_as_one(tmp_path: Path) -> None:
    p = tmp_path / "llm.json"
    p.write_text(json.dumps({"model": "llama-tiny", "points": [{"batch_size": 1}]}))
    with pytest.raises(BadInput, match=re.escape("an LLM bench result (`wattwise bench llm "
                                                 "--json`), which gives J per token")):
        read_bench(p)


@pytest.mark.parametrize(("energy", "says", "not_says"), [
    # n from the file is shown only as a whole number >= 1
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": -3},
     "(n not stated: the file's n is not a whole number >= 1)", "n = -3"),
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": "two"}, "n not stated", "two"),
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": True}, "n not stated", "n = True"),
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": 0}, "n not stated", "n = 0"),
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": 2.5}, "n not stated", "n = 2.5"),
    # a low end of 0 is printed as the file gives it, and the side is named
    ({"mean": 0.02, "low": 0.0, "high": 0.02, "n": 2},
     "its 95 % interval 0 to 0.02 J/sample (the estimate takes a low end at or below 0 as "
     "1e-12 J/sample", "1e-12 to"),
    ({"mean": 0.02, "low": 0.0, "high": 0.02, "n": 2},
     "its low end is more than 10x below its mean 0.02 (n = 2)", "either side"),
    ({"mean": 0.02, "low": 0.019, "high": 0.5, "n": 3},
     "its high end is more than 10x above its mean 0.02 (n = 3)", "low end"),
    ({"mean": 0.02, "low": 1e-9, "high": 100.0, "n": 5},
     "its low and high ends are each more than 10x from its mean 0.02 (n = 5)", "either"),
])
def test_the_wide_interval_note_says_what_the_file_holds(
        tmp_path: Path, energy: dict[str, Any], says: str, not_says: str) -> None:
    got = read_bench(_bench_file(tmp_path, energy_j_per_sample=energy))
    assert len(got.notes) == 1
    assert says in got.notes[0]
    assert not_says not in got.notes[0]
    assert got.j_per_unit.low > 0  # the estimate's range stays > 0
