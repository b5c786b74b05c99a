"""The cells a lost run is priced from are summed once while its samples stay as they
are: ``/metrics`` prices such a run for its totals and again for its own series (seconds
each at a million samples on a trace of one-second steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import wattwise.carbon.kept_cells as kept_cells
from tests.carbon.test_partial_sql import _lost_run, _same
from wattwise.carbon.partial import partial_energy_of, stored_partial_emissions
from wattwise.records.growing_sums import growing
from wattwise.records.store import SampleRow, Store


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("cell_sums", "cell_firsts"):
        real = getattr(Store, name)

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = name,
                    **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, counted)
    return calls


@pytest.mark.parametrize("through_view", [False, True])
def test_a_lost_run_priced_twice_sums_its_cells_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through_view: bool
) -> None:
    monkeypatch.setattr(kept_cells, "FIRSTS_IN_ONE_PASS", 0)
    db, rid = _lost_run(tmp_path, trace=True)
    calls = _counted(monkeypatch)
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy_of(rec, store.samples(rid))
        assert part is not None
        first = stored_partial_emissions(store, rec, part)
        n = len(calls)
        assert n >= 1
        if through_view:  # as /metrics prices it for its own series
            with growing(store).at_now(rid, whole=True) as view:
                calls.clear()
                again = stored_partial_emissions(view, rec, part)
            assert "cell_firsts" not in calls
        else:
            calls.clear()
            again = stored_partial_emissions(store, rec, part)
            assert calls == []
    assert first is not None and again is not None
    _same(first, again)


def test_a_sample_stored_since_is_summed_again(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db, rid = _lost_run(tmp_path, trace=True)
    calls = _counted(monkeypatch)
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy_of(rec, store.samples(rid))
        assert part is not None
        before = stored_partial_emissions(store, rec, part)
    with Store(db) as store:
        last = store.samples(rid)[-1]
        store.add_samples(rid, [SampleRow(last.t_unix_s + 1, "cpu:package-0", 500.0, 1.0,
                                          400.0, 600.0)])
    calls.clear()
    with Store(db, readonly=True) as store:
        rec = store.get_run(rid)
        part = partial_energy_of(rec, store.samples(rid))
        assert part is not None
        after = stored_partial_emissions(store, rec, part)
    assert "cell_sums" in calls
    assert before is not None and after is not None
    assert after["emissions_g"] != before["emissions_g"]
