"""The run figure draws the run page's second chart: grid intensity and the emissions
accrued so far, under the power on the same time axis, ending at the figure ``report``
printed; gaps break the lines, estimates are dashed, units are on the axes, a run with
nothing to draw says so, a damaged stored total is said in the title and the notes, and
no text overlaps another or leaves the image."""

from __future__ import annotations

import itertools
from typing import Any

from wattwise.plot.figure import Figure, Poly, Text
from wattwise.plot.run import RunTotal, W, layout
from wattwise.plot.run_carbon import ESTIMATED_DASH, STRIP_H, Priced, as_priced

START = 1_700_000_000.0


def _timeline(n: int = 60, end: float = 120.0) -> dict[str, Any]:
    """Two domains' power (the cpu measured with a gap, the gpu estimated)."""
    t = [end * (k + 1) / n for k in range(n)]
    cpu = [None if 20 <= k < 23 else 40.0 + k % 7 for k in range(n)]
    gpu = [150.0 + (k % 5) * 10 for k in range(n)]
    return {
        "end_s": end, "samples": 3 * n,
        "domains": {
            "cpu:package-0": {"t_s": t, "power_w": cpu, "min_w": cpu, "max_w": cpu,
                              "gap": [p is None for p in cpu], "begin_s": 0.0},
            "gpu:0": {"t_s": t, "power_w": gpu, "min_w": gpu, "max_w": gpu,
                      "gap": [False] * n, "begin_s": 0.0},
        },
        "provenance": {
            "cpu:package-0": {"kind": "measured", "source": "rapl", "in_total": True},
            "gpu:0": {"kind": "estimated", "source": "model", "in_total": True},
        },
    }


def _run() -> dict[str, Any]:
    return {"id": 7, "name": "train", "started_unix_s": START, "duration_s": 120.0,
            "summary": {"energy_j": 24_000.0, "low_j": 21_000.0, "high_j": 27_000.0,
                        "kind": "mixed"}}


def _carbon(n: int = 60, end: float = 120.0, none_at: range = range(30, 34),
            zone: str = "DE") -> dict[str, Any]:
    t = [end * (k + 1) / n for k in range(n)]
    g = [None if k in none_at else 300.0 + 10 * (k % 6) for k in range(n)]
    cum = list(itertools.accumulate(0.01 * (k % 3 + 1) for k in range(n)))
    return {"intensity": {"t_s": t, "g_per_kwh": g, "zone": zone, "source": "trace x"},
            "emissions": {"t_s": t, "cumulative_g": cum, "by_intensity": True}}


def _report(grams: float = 2.5, kind: str = "trace", energy_kind: str = "measured",
            note: str | None = None, zone: str = "DE") -> dict[str, Any]:
    return {"energy_j": 24_000.0, "low_j": None if note else 21_000.0,
            "high_j": None if note else 27_000.0, "energy_kind": energy_kind,
            "partial": False, "energy_note": note, "emissions_note": None,
            "emissions": {"emissions_g": grams, "kind": kind, "zone": zone,
                          "source": "trace x", "avg_intensity_g_per_kwh": 320.0,
                          "notes": ["priced as recorded"]}}


def _box(t: Text) -> tuple[float, float, float, float]:
    left, top, right, bottom = t.box()
    if t.rotate:  # turned a quarter: its box stands upright around its anchor
        w, h = right - left, bottom - top
        return (t.x - h + 3, t.y - w / 2, t.x + 3, t.y + w / 2)
    return (left, top, right, bottom)


def assert_legible(fig: Figure) -> None:
    texts = [t for t in fig.items if isinstance(t, Text) and t.text.strip()]
    for a, b in itertools.combinations(texts, 2):
        ba, bb = _box(a), _box(b)
        assert ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1], \
            f"{a.text!r} overlaps {b.text!r}"
    for t in texts:
        left, top, right, bottom = _box(t)
        assert left >= 0 and top >= 0 and right <= fig.width and bottom <= fig.height, t.text


def _texts(fig: Figure, cls: str = "") -> list[str]:
    return [t.text for t in fig.items if isinstance(t, Text) and (not cls or t.cls == cls)]


def _value_at(fig: Figure, y: float, title: str) -> float:
    """The value pixel height ``y`` reads on the strip whose axis is titled ``title``,
    by that strip's own tick labels (each 4 px under its tick)."""
    mid = next(t.y for t in fig.items if isinstance(t, Text) and t.text == title)
    ticks = sorted((t.y - 4, float(t.text)) for t in fig.items
                   if isinstance(t, Text) and t.cls == "carbon-tick" and t.anchor == "end"
                   and abs(t.y - 4 - mid) <= STRIP_H / 2 + 0.5)
    (y0, v0), (y1, v1) = ticks[0], ticks[-1]
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


def test_the_figure_draws_intensity_and_emissions_under_the_power() -> None:
    fig = layout(_run(), {**_timeline(), **_carbon()},
                 total=RunTotal.from_report(_report(grams=2.5)))
    power = [p for p in fig.items if isinstance(p, Poly) and p.cls == "power"]
    intensity = [p for p in fig.items if isinstance(p, Poly) and p.cls == "intensity"]
    emissions = [p for p in fig.items if isinstance(p, Poly) and p.cls == "emissions"]
    assert "Grid intensity and emissions" in _texts(fig, "carbon-heading")
    assert intensity and emissions
    low_power = max(y for p in power for _, y in p.points)
    assert min(y for p in intensity + emissions for _, y in p.points) > low_power
    # the same time axis: a point at t lies at the power's x for t
    assert emissions[-1].points[-1][0] == max(x for p in power for x, _ in p.points)
    # units on the axes
    assert {"intensity (g/kWh)", "emissions (gCO2eq)"} <= set(_texts(fig, "carbon-axis"))
    # the curve ends at the figure report printed, read off its own axis
    end = _value_at(fig, emissions[-1].points[-1][1], "emissions (gCO2eq)")
    assert abs(end - 2.5) < 0.01
    assert any("2.5 gCO2eq at the end" in t for t in _texts(fig, "carbon-legend"))
    assert_legible(fig)


def test_a_bucket_without_intensity_breaks_the_line() -> None:
    fig = layout(_run(), {**_timeline(), **_carbon(none_at=range(30, 34))})
    lines = [p for p in fig.items if isinstance(p, Poly) and p.cls == "intensity"]
    assert len(lines) == 2
    assert sum(len(p.points) for p in lines) == 60 - 4
    assert any("breaks: no intensity" in t for t in _texts(fig, "carbon-note"))


def test_estimates_are_dashed_as_estimated_power_is() -> None:
    def dashes(report: dict[str, Any]) -> dict[str, str]:
        fig = layout(_run(), {**_timeline(), **_carbon()}, total=RunTotal.from_report(report))
        return {p.cls: p.dash for p in fig.items if isinstance(p, Poly)
                and p.cls in ("intensity", "emissions")}

    assert dashes(_report()) == {"intensity": "", "emissions": ""}
    assert dashes(_report(kind="yearly-average", energy_kind="estimated")) == {
        "intensity": ESTIMATED_DASH, "emissions": ESTIMATED_DASH}


def test_a_run_without_emissions_says_so_in_the_panel() -> None:
    fig = layout(_run(), _timeline())
    said = " ".join(_texts(fig, "carbon-missing"))
    assert "no grid intensity or emissions over time recorded" in said
    assert not [p for p in fig.items if isinstance(p, Poly) and p.cls == "emissions"]
    assert_legible(fig)
    only = {**_timeline(), **_carbon(), "intensity": None}
    fig = layout(_run(), only)
    assert "no intensity over time was recorded" in " ".join(_texts(fig, "carbon-missing"))
    assert [p for p in fig.items if isinstance(p, Poly) and p.cls == "emissions"]
    assert_legible(fig)


def test_a_damaged_stored_total_is_said_in_the_title_and_the_notes() -> None:
    note = ("the stored energy is not usable: low_j (a bound of its range) is implausibly "
            "large (an integer of about 400 digits, more than 1e+15 J): a damaged record")
    fig = layout(_run(), {**_timeline(), **_carbon()},
                 total=RunTotal.from_report(_report(note=note)))
    sub = next(t for t in fig.items if isinstance(t, Text) and t.cls == "subtitle")
    assert "note: the stored energy is not usable" in sub.text
    assert sub.box()[2] <= W  # cut by width, never past the image
    notes = " ".join(_texts(fig, "note"))
    assert "an integer of about 400 digits" in notes and "a damaged record" in notes
    assert_legible(fig)


def test_a_repricing_at_one_intensity_is_drawn_exactly_and_another_is_not_guessed() -> None:
    c = _carbon(none_at=range(0))
    yearly = Priced(4.0, "yearly-average", "measured", (), "FR", "yearly y", 50.0)
    i, e, note = as_priced(c["intensity"], c["emissions"], yearly)
    assert i is not None and e is not None and set(i["g_per_kwh"]) == {50.0}
    assert i["zone"] == "FR" and "priced again at FR" in note
    # each point's energy: recorded emissions over recorded intensity, priced at 50
    energy = [0.01 * (k % 3 + 1) / (300.0 + 10 * (k % 6)) for k in range(60)]
    assert abs(e["cumulative_g"][-1] - 50.0 * sum(energy)) < 1e-12
    traced = Priced(4.0, "trace", "measured", (), "FR", "trace y", 50.0)
    assert as_priced(c["intensity"], c["emissions"], traced)[:2] == (None, None)
    fig = layout(_run(), {**_timeline(), **c},
                 total=RunTotal.from_report(_report(kind="trace", zone="FR")))
    assert "priced again at FR" in " ".join(_texts(fig, "carbon-missing"))
    assert_legible(fig)


def test_large_emissions_are_drawn_in_kilograms() -> None:
    fig = layout(_run(), {**_timeline(), **_carbon()},
                 total=RunTotal.from_report(_report(grams=25_000.0)))
    assert "emissions (kgCO2eq)" in _texts(fig, "carbon-axis")


def test_a_400_digit_stored_figure_is_no_number_not_a_crash() -> None:
    huge = 10 ** 400  # a damaged record's integer: too large for a float
    steps = {"t_s": [60.0], "step": [100], "energy_j": [huge], "low_j": [huge],
             "high_j": [huge], "kind": ["measured"], "stored": 1, "marked": 1}
    fig = layout(_run(), {**_timeline(), **_carbon(), "steps": steps},
                 total=RunTotal.from_report({**_report(), "low_j": huge}))
    step = next(it for it in fig.items if it.cls == "step")
    assert "no energy recorded" in getattr(step, "label", "")
    assert_legible(fig)


def test_emissions_of_a_partial_energy_say_so_in_the_legend() -> None:
    # a run lost before its summary: report printed "from estimated, partial energy"
    report = {**_report(energy_kind="estimated"), "partial": True,
              "energy_note": "partial: the run was lost before its summary"}
    fig = layout(_run(), {**_timeline(), **_carbon()}, total=RunTotal.from_report(report))
    (legend,) = [t for t in _texts(fig, "carbon-legend") if t.startswith("emissions so far")]
    assert legend.endswith("from estimated, partial energy"), legend
    whole = layout(_run(), {**_timeline(), **_carbon()},
                   total=RunTotal.from_report(_report(energy_kind="estimated")))
    assert any(t.endswith("from estimated energy") for t in _texts(whole, "carbon-legend"))
