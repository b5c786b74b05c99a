"""Run emissions: each sample priced at the intensity of its own time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wattwise.carbon.accounting import CarbonOptions, emissions_for, intervals_from_samples
from wattwise.measure.meter import Sample

T0 = dt.datetime(2026, 11, 18, 20, 30, tzinfo=dt.timezone.utc).timestamp()


def _samples() -> list[Sample]:
    # two domains, three 600 s intervals; memory:x is inside cpu:x and must not be added
    rows = []
    for k in range(1, 4):
        t = T0 + 600 * k
        rows.append(Sample(t, "cpu:x", 3.6e6, 6000.0, 3.0e6, 4.2e6))  # 1 kWh each interval
        rows.append(Sample(t, "inner:x", 1.0e6, 1.0, 1.0e6, 1.0e6))
    return rows


def test_intervals_follow_each_counted_domain() -> None:
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0)
    assert [(a - T0, b - T0) for a, b, *_ in iv] == [(0, 600), (600, 1200), (1200, 1800)]
    assert [e for _, _, e, _, _ in iv] == [3.6e6] * 3
    scaled = intervals_from_samples(_samples(), {"cpu:x"}, T0, scale_to_j=5.4e6)
    assert sum(e for _, _, e, _, _ in scaled) == pytest.approx(5.4e6)


def _trace(tmp_path: Path) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(
        "Time,Carbon Intensity\n"
        "2026-11-18 20:00:00,100\n"  # T0 - 1800
        "2026-11-18 20:30:00,100\n"  # T0
        "2026-11-18 20:45:00,400\n"  # sharp change halfway through the second interval
        "2026-11-18 21:30:00,400\n"
    )
    return p


def test_each_interval_is_priced_at_its_own_time(tmp_path: Path) -> None:
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0)
    em = emissions_for(iv, CarbonOptions(zone="DE", intensity_trace=_trace(tmp_path)))
    # 20:30-20:40 at 100; 20:40-20:50: 5 min at 100 + 5 min at 400; 20:50-21:00 at 400
    assert [i.intensity_g_per_kwh for i in em.intervals] == pytest.approx([100, 250, 400])
    assert em.emissions_g == pytest.approx(100 + 250 + 400)
    assert em.low_g == pytest.approx((100 + 250 + 400) * 3.0 / 3.6)
    assert em.kind == "trace"


def test_same_energy_costs_what_each_grid_says(tmp_path: Path) -> None:
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0)
    de = emissions_for(iv, CarbonOptions(zone="DE"))
    fr = emissions_for(iv, CarbonOptions(zone="FR"))
    assert de.emissions_g / fr.emissions_g == pytest.approx(
        de.avg_intensity_g_per_kwh / fr.avg_intensity_g_per_kwh
    )
    assert de.emissions_g > 3 * fr.emissions_g


def test_no_zone_uses_the_world_average_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent-wattwise-test")
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0)
    em = emissions_for(iv, CarbonOptions())
    assert any("world average" in n for n in em.notes)
    assert any("--zone" in n or "WATTWISE_ZONE" in n for n in em.notes)


def test_pue_multiplies(tmp_path: Path) -> None:
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0)
    a = emissions_for(iv, CarbonOptions(zone="DE"))
    b = emissions_for(iv, CarbonOptions(zone="DE", pue=1.5))
    assert b.emissions_g == pytest.approx(1.5 * a.emissions_g)
    assert b.pue_source == "set by the user"


def _provider_intervals() -> list[tuple[float, float, float, float, float]]:
    t = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.timezone.utc).timestamp()
    return [(t, t + 3600, 3.6e6, 3.6e6, 3.6e6), (t + 3600, t + 7200, 3.6e6, 3.6e6, 3.6e6)]


def _electricitymaps(tmp_path: Path, answer: bytes) -> object:
    from tests.carbon.test_providers import NOW, FakeTransport
    from wattwise.carbon.providers import ElectricityMaps, IntensityCache

    return ElectricityMaps(
        token="t",
        transport=FakeTransport({"/v3/carbon-intensity/history": answer}),
        clock=lambda: NOW,
        cache=IntensityCache(tmp_path / "c", clock=lambda: NOW),
    )


def test_a_configured_provider_prices_the_run_and_its_values_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wattwise.carbon.providers as providers
    from tests.carbon.test_providers import fixture
    from wattwise.carbon.accounting import emissions_and_fetched

    p = _electricitymaps(tmp_path, fixture("electricitymaps/history_DE.json"))
    monkeypatch.setattr(providers, "get_provider", lambda name, **kw: p)
    em, fetched = emissions_and_fetched(
        _provider_intervals(), CarbonOptions(zone="DE", provider="electricitymaps")
    )
    # history_DE: value at 12:00 - k h is 250 + 2 (24 - k); 02:00 is k = 10, 03:00 is k = 9
    assert [i.intensity_g_per_kwh for i in em.intervals] == [278, 280]
    assert em.kind == "live"
    assert fetched and all(f["zone"] == "DE" for f in fetched)


def test_a_failing_provider_falls_back_to_yearly_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wattwise.carbon.providers as providers
    from wattwise.carbon.accounting import emissions_and_fetched

    p = _electricitymaps(tmp_path, b"<html>not json</html>")
    monkeypatch.setattr(providers, "get_provider", lambda name, **kw: p)
    em, _ = emissions_and_fetched(
        _provider_intervals(), CarbonOptions(zone="DE", provider="electricitymaps")
    )
    assert em.kind == "yearly-average"
    assert "failed" in em.notes[0] and "yearly average was used" in em.notes[0]


def test_domains_read_at_different_paces_keep_their_own_intervals() -> None:
    rows = [Sample(T0 + k, "cpu:x", 10.0, 10.0, 10.0, 10.0) for k in range(1, 11)]
    rows += [Sample(T0 + 5, "gpu:0", 500.0, 100.0, 500.0, 500.0)]
    rows += [Sample(T0 + 10, "gpu:0", 500.0, 100.0, 500.0, 500.0)]
    iv = intervals_from_samples(rows, {"cpu:x", "gpu:0"}, T0)
    gpu = [(a - T0, b - T0) for a, b, e, *_ in iv if e == 500.0]
    assert gpu == [(0, 5), (5, 10)]
    assert sum(e for _, _, e, _, _ in iv) == pytest.approx(1100.0)


def test_stored_values_that_are_not_numbers_are_left_out_and_said() -> None:
    import dataclasses

    rows = _samples()
    rows[0] = dataclasses.replace(rows[0], energy_j="x")  # type: ignore[arg-type]
    rows[2] = dataclasses.replace(rows[2], high_j=float("nan"))
    notes: list[str] = []
    iv = intervals_from_samples(rows, {"cpu:x"}, T0, notes=notes)
    assert [e for _, _, e, _, _ in iv] == [3.6e6] * 2  # the text one is not priced
    assert iv[0][4] == 3.6e6  # a range bound that is not a number: the energy itself
    (note,) = notes
    assert note.startswith("2 stored value(s) are not usable and are left out")
    assert "samples[0].energy_j ('x')" in note and "samples[2].high_j (nan)" in note
    notes.clear()
    iv = intervals_from_samples(_samples(), {"cpu:x"}, T0, scale_to_j="x", notes=notes)
    assert sum(e for _, _, e, _, _ in iv) == pytest.approx(3 * 3.6e6)  # not scaled
    assert "summary.energy_j ('x')" in notes[0] and "the samples' sum, 1.08e+07 J" in notes[0]


@pytest.mark.parametrize("stored", [1e308, -5.0, float("inf"), float("nan"), "x"])
def test_the_sample_note_is_true_of_each_value_it_lists(stored: object) -> None:
    """1e308 is a finite number: the note says "not usable", never "not finite"."""
    import dataclasses

    rows = _samples()
    rows[1] = dataclasses.replace(rows[1], energy_j=stored)  # type: ignore[arg-type]
    notes: list[str] = []
    intervals_from_samples(rows, {"cpu:x"}, T0, notes=notes)
    (note,) = notes
    assert "finite" not in note
    assert note.startswith("1 stored value(s) are not usable")
    assert note.endswith(f"and are left out of the pricing: samples[1].energy_j ({stored!r})")
    if stored == 1e308 or stored == -5.0:
        assert note == ("1 stored value(s) are not usable (a sample's energy must be a number "
                        "from 0 to 1e+15 J inside its own low-high range) and are left"
                        " out of the pricing: "
                        f"samples[1].energy_j ({stored!r})")


@pytest.mark.parametrize("kwargs,expected", [
    ({"kind": "bogus"}, "kind must be one of yearly-average, trace, live, forecast, got 'bogus'"),
    ({"kind": 5}, "kind must be one of"),
    ({"interpolation": "cubic"}, "interpolation must be step or linear, got 'cubic'"),
    ({"zone": 5}, "zone must be a zone name, got 5"),
    ({"zone": " "}, "zone must be a zone name"),
    ({"t_unix_s": ["a", "b", "c"]}, "needs numbers for its times and intensities"),
])
def test_an_intensity_series_refuses_an_unknown_kind(kwargs: dict[str, object],
                                                     expected: str) -> None:
    import numpy as np

    from wattwise.carbon.sources import IntensitySeries
    from wattwise.errors import BadInput

    given: dict[str, object] = {"t_unix_s": np.arange(3) * 3600.0, "g_per_kwh": np.ones(3),
                                "zone": "DE", "source": "t", "kind": "trace", "step_s": 3600.0}
    with pytest.raises(BadInput, match=expected):
        IntensitySeries(**{**given, **kwargs})  # type: ignore[arg-type]
    assert IntensitySeries(**given).kind == "trace"  # type: ignore[arg-type]
