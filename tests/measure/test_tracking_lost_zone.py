"""A run lost before its summary is priced in the zone it was started with.

A run's summary records its carbon options at the end; a run killed with SIGKILL
never writes one. ``track`` therefore stores them with the run's row when it
starts (``host["carbon_options"]``, ``carbon.repricing.started_carbon``), and
``wattwise report`` and the CodeCarbon export price the run's partial energy
with them: a run tracked with ``zone="DE"`` is priced at DE's intensity whatever
``$WATTWISE_ZONE`` says at report time, and the output says where the zone came
from. A run with a summary is priced as its summary says, as before.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.test_figures_agree import ROUNDING
from wattwise.carbon.accounting import CarbonOptions, emissions_and_fetched
from wattwise.carbon.partial import partial_energy_of, partial_intervals
from wattwise.carbon.repricing import reprice_options, started_with
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL"),
              pytest.mark.usefixtures("no_ambient_zone")]


def _tracked_then_killed(db: str, ready: Any, zone: str | None, env_zone: str | None) -> None:
    """Track a run (``zone``; ``$WATTWISE_ZONE`` set to ``env_zone``) drawing an
    estimated 80 W until some samples are stored, then SIGKILL this process."""
    import os
    import signal

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    if env_zone is not None:
        os.environ["WATTWISE_ZONE"] = env_zone
    sensor = ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25, name="e",
                                 component="gpu")
    run = wattwise.track("sigkilled", db=db, sensors=[sensor], interval_s=0.02,
                         zone=zone).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if run.flush(5.0) and run.run_id is not None:
            with Store(db, readonly=True) as store:
                if len(store.samples(run.run_id)) >= 10:
                    break
    ready.set()
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_one(db: Path, zone: str | None, env_zone: str | None) -> int:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_tracked_then_killed, args=(str(db), ready, zone, env_zone))
    child.start()
    child.join(timeout=120)
    assert ready.is_set() and child.exitcode == -9
    with Store(db, readonly=True) as store:
        rec = store.list_runs()[0]
    assert rec.status == "lost" and rec.summary is None
    return rec.id


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two runs killed with SIGKILL: one tracked with ``zone="DE"``, one with no zone
    while ``$WATTWISE_ZONE`` was DE; no zone in the environment or config otherwise."""
    _register_all()
    tmp = tmp_path_factory.mktemp("lost-zone")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WATTWISE_ZONE", raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(tmp / "config"))
        given = _kill_one(tmp / "given.db", "DE", None)
        ambient = _kill_one(tmp / "ambient.db", None, "DE")
    return {"tmp": tmp, "given": (tmp / "given.db", given),
            "ambient": (tmp / "ambient.db", ambient)}


def _cli(db: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    r = CliRunner().invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "400", **(env or {})})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def _yearly(zone: str) -> float:
    """``wattwise intensity ZONE``: the zone's yearly figure (what prices a run without
    a trace, at any time of the year)."""
    out = json.loads(CliRunner().invoke(app, ["intensity", zone, "--json"]).stdout)
    assert out["zone"] == zone
    return float(out["intensity_g_per_kwh"])


def _expected(db: Path, rid: int, zone: str) -> Any:
    """The run's partial energy priced in ``zone`` by the accounting functions."""
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        samples = store.samples(rid)
    part = partial_energy_of(rec, samples)
    assert part is not None and part.kind == "estimated"
    em, _ = emissions_and_fetched(partial_intervals(rec, samples, part), CarbonOptions(zone))
    return em


def test_the_start_records_the_zone_with_the_run(killed: dict[str, Any]) -> None:
    for key, zone, resolved in (("given", "DE", None), ("ambient", None, "DE")):
        db, rid = killed[key]
        with Store(db, readonly=True) as store:
            started = started_with(store.get_run(rid))
        assert started is not None
        assert started["zone"] == zone and started.get("zone_resolved") == resolved


@pytest.mark.parametrize("env_zone", [None, "FR"])
def test_report_prices_a_killed_run_in_the_zone_it_was_started_with(
    killed: dict[str, Any], env_zone: str | None
) -> None:
    db, rid = killed["given"]
    env = {"WATTWISE_ZONE": env_zone} if env_zone else None
    want = _expected(db, rid, "DE")
    de, fr = _yearly("DE"), _yearly("FR")
    assert de != pytest.approx(fr, rel=0.05)  # the zone makes a difference here

    out = json.loads(_cli(db, "report", str(rid), "--json", env=env).stdout)
    em = out["emissions"]
    assert out["partial"] is True and em["zone"] == "DE"
    assert em["avg_intensity_g_per_kwh"] == pytest.approx(de, rel=1e-9)
    assert em["emissions_g"] == pytest.approx(want.emissions_g, rel=ROUNDING)
    assert any("zone DE, as the run was started with" in n for n in em["notes"]), em["notes"]

    text = " ".join(_cli(db, "report", str(rid), env=env).stdout.split())
    assert "zone DE, as the run was started with" in text
    assert f"intensity: {de:.1f} gCO2eq/kWh average over the run, zone DE," in text, text


@pytest.mark.parametrize("env_zone", [None, "FR"])
def test_codecarbon_export_prices_a_killed_run_in_the_zone_it_was_started_with(
    killed: dict[str, Any], env_zone: str | None, tmp_path: Path
) -> None:
    db, rid = killed["given"]
    env = {"WATTWISE_ZONE": env_zone} if env_zone else None
    want = _expected(db, rid, "DE")
    path = tmp_path / f"emissions-{env_zone}.csv"
    res = _cli(db, "export", str(rid), "--format", "codecarbon", "-o", str(path), env=env)
    said = " ".join(res.stderr.split())
    assert "at zone DE" in said and "zone DE, as the run was started with" in said, said
    with path.open(newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["country_iso_code"] == "DEU"
    assert float(row["emissions"]) * 1000 == pytest.approx(want.emissions_g, rel=ROUNDING)
    report = json.loads(_cli(db, "report", str(rid), "--json", env=env).stdout)
    assert float(row["emissions"]) * 1000 == pytest.approx(
        report["emissions"]["emissions_g"], rel=ROUNDING)


def test_a_zone_set_by_the_environment_at_the_start_is_kept(killed: dict[str, Any]) -> None:
    db, rid = killed["ambient"]
    out = json.loads(_cli(db, "report", str(rid), "--json", env={"WATTWISE_ZONE": "FR"}).stdout)
    em = out["emissions"]
    assert em["zone"] == "DE"
    assert em["avg_intensity_g_per_kwh"] == pytest.approx(_yearly("DE"), rel=1e-9)
    assert em["emissions_g"] == pytest.approx(_expected(db, rid, "DE").emissions_g, rel=ROUNDING)
    assert any("zone DE, as $WATTWISE_ZONE set it when the run started" in n
               for n in em["notes"]), em["notes"]


def test_zone_option_still_overrides_and_says_so(killed: dict[str, Any]) -> None:
    db, rid = killed["given"]
    out = json.loads(_cli(db, "report", str(rid), "--json", "--zone", "FR").stdout)
    em = out["emissions"]
    assert em["zone"] == "FR"
    assert em["avg_intensity_g_per_kwh"] == pytest.approx(_yearly("FR"), rel=1e-9)
    assert any("priced at FR (--zone), recorded with DE" in n for n in em["notes"]), em["notes"]
    assert not any("as the run was started with" in n for n in em["notes"])


# -- reprice_options with the options a run was started with -----------------------------

def _summary(zone: str) -> dict[str, Any]:
    return {"energy_j": 10.0, "emissions": {"zone": zone, "emissions_g": 1.0},
            "carbon_options": CarbonOptions(zone).to_dict()}


def test_a_run_with_a_summary_is_priced_as_its_summary_says() -> None:
    pricing = reprice_options(_summary("DE"), started={"zone": "FR"})
    assert pricing.options.zone == "DE" and pricing.notes == ()
    assert reprice_options(_summary("DE"), started={"zone": "FR"}) == reprice_options(
        _summary("DE"))


def test_a_run_started_without_a_zone_is_priced_at_the_world_average_and_says_so() -> None:
    pricing = reprice_options(None, started=CarbonOptions().to_dict())
    assert pricing.options.zone is None
    assert any("the world average, as the run was started with no zone" in n
               for n in pricing.notes), pricing.notes


def test_a_run_started_without_a_zone_takes_the_ambient_one_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATTWISE_ZONE", "FR")
    pricing = reprice_options(None, started=CarbonOptions().to_dict())
    assert pricing.options.zone == "FR"
    assert any("priced at FR (from $WATTWISE_ZONE), recorded at the world average" in n
               for n in pricing.notes), pricing.notes


def test_a_run_started_with_a_live_provider_is_not_fetched_again() -> None:
    started = CarbonOptions("DE", provider="electricitymaps").to_dict()
    pricing = reprice_options(None, started=started)
    assert pricing.options.provider is None and pricing.source is None
    assert pricing.options.zone == "DE"
    assert any("a report does not fetch" in n for n in pricing.notes), pricing.notes


def test_a_run_started_with_a_trace_that_is_gone_says_so(tmp_path: Path) -> None:
    started = CarbonOptions("DE", intensity_trace=tmp_path / "gone.csv").to_dict()
    pricing = reprice_options(None, started=started)
    assert pricing.options.intensity_trace is None and pricing.options.zone == "DE"
    assert any("no longer exists" in n and "yearly average" in n for n in pricing.notes)


def test_a_run_started_with_a_trace_is_priced_with_it_while_its_bytes_are_the_same(
    tmp_path: Path,
) -> None:
    from wattwise.carbon.repricing import started_carbon

    trace = tmp_path / "de.csv"
    trace.write_text("Time,Carbon Intensity\n2026-01-01T00:00:00Z,300\n", encoding="utf-8")
    started = started_carbon(CarbonOptions("DE", intensity_trace=trace, pue=1.2))
    pricing = reprice_options(None, started=started)
    assert pricing.options.intensity_trace == str(trace) and pricing.options.pue == 1.2
    assert any(f"trace {trace}, as the run was started with" in n and "PUE 1.2" in n
               for n in pricing.notes), pricing.notes
    trace.write_text("Time,Carbon Intensity\n2026-01-01T00:00:00Z,900\n", encoding="utf-8")
    changed = reprice_options(None, started=started)
    assert changed.options.intensity_trace is None
    assert any("changed since the run" in n for n in changed.notes), changed.notes


def test_started_carbon_never_raises_on_a_bad_environment_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wattwise.carbon.repricing import started_carbon

    monkeypatch.setenv("WATTWISE_ZONE", "NOT-A-ZONE")
    got = started_carbon(CarbonOptions())
    assert got["zone"] is None and "zone_resolved" not in got
