"""Many runs without a summary priced at once (the totals of /metrics) get each the grams
``stored_partial_emissions`` gives it alone: ``PricingOnce``, ``stored_partial_grams``,
``summed_intervals`` and ``priced_together`` of ``carbon.partial``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.carbon.test_partial_sql import _lost_run
from wattwise.carbon.accounting import emissions_and_fetched
from wattwise.carbon.partial import (
    PricingOnce,
    partial_energy,
    priced_together,
    stored_partial_emissions,
    stored_partial_grams,
    summed_intervals,
    yearly_priced,
)
from wattwise.carbon.repricing import started_with
from wattwise.records.run_sums import run_sums
from wattwise.records.store import Store
from wattwise.server._sql import Reads

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("case", [{}, {"profile": True}, {"damaged": True}, {"trace": True}])
def test_a_run_priced_in_a_pass_gets_the_grams_it_gets_alone(
    tmp_path: Path, case: dict[str, Any]
) -> None:
    db, rid = _lost_run(tmp_path, **case)
    pricer = PricingOnce()
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            rec = store.get_run(rid)
            part = partial_energy(rec, store.sample_sums(rid))
            assert part is not None
            alone = stored_partial_emissions(store, rec, part)
            assert alone is not None
            pricing = pricer.pricing(started_with(rec))
            grams = stored_partial_grams(store, rec, part, pricing)
            assert grams == pytest.approx(alone["emissions_g"], rel=1e-12)
            energy, priced, _ = run_sums(reads.rows, [rid])[rid]
            assert energy == store.sample_sums(rid)  # the same sums, in one query
            assert partial_energy(rec, energy) == part
            cells = {r[0]: (r[3], r[4], r[5], r[6], r[7]) for r in store.cell_sums(
                rid, part.domains, 0.0, 1e300) if r[1] is not None}  # one cell per domain
            assert priced.keys() >= cells.keys()
            for domain, want in cells.items():
                assert priced[domain] == pytest.approx(want, rel=1e-12), domain
            assert yearly_priced(pricing) is ("trace" not in case)
            if yearly_priced(pricing):
                together = priced_together(pricing, {rid: summed_intervals(rec, part, priced)})
                assert together[rid] == pytest.approx(alone["emissions_g"], rel=1e-9)
    finally:
        reads.close()


def test_runs_priced_together_get_each_their_own_grams_and_a_refused_one_none() -> None:
    pricing = PricingOnce().pricing({"zone": "DE", "pue": 1.2})
    runs = {
        1: [(100.0, 100.0, 3600.0, 3000.0, 4000.0), (90.0, 100.0, 0.0, 0.0, 0.0)],
        2: [(200.0, 200.0, 7200.0, 7200.0, 7200.0)],
        3: [],  # nothing priceable: no figure
    }
    got = priced_together(pricing, runs)
    for rid in (1, 2):
        em, _ = emissions_and_fetched(runs[rid], pricing.options)
        assert got[rid] == em.emissions_g  # the same intervals, added in the same order
    assert got[3] is None
    runs[4] = [(300.0, 300.0, 5.0, 6.0, 7.0)]  # low above the energy: refused
    again = priced_together(pricing, runs)
    assert again[4] is None and again[1] == got[1] and again[2] == got[2]


def test_a_pass_reads_the_config_once_and_the_next_reads_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wattwise.carbon.zones as zones

    calls = []
    real = zones.resolve_zone

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(zones, "resolve_zone", counted)
    config = tmp_path / "config" / "wattwise" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('zone = "FR"\n', encoding="utf-8")
    first = PricingOnce()
    started = {"zone": None, "intensity_trace": None, "provider": None, "pue": None}
    keys = {first.key(dict(started)) for _ in range(50)} | {first.key(None) for _ in range(50)}
    assert len(calls) <= 3  # once per distinct options, and once for the ambient zone
    assert first.pricing(started).options.zone == "FR"
    config.write_text('zone = "PL"\n', encoding="utf-8")
    second = PricingOnce()
    assert second.pricing(started).options.zone == "PL"
    assert second.key(started) not in keys and second.key(None) not in keys
