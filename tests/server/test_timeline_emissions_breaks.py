"""The emissions so far break only where every domain counted in the total has a hole in
its sampling: one domain's hole while another counted domain is still sampled (less
often than a bucket is wide) is no break, where it chopped the curve into dots over the
whole hole (``server.timeline_emissions.hole_breaks``); a domain left out of the total
breaks nothing."""

from __future__ import annotations

from pathlib import Path

from wattwise.records.store import SampleRow, Store
from wattwise.server.data import timeline_payload
from wattwise.server.timeline_emissions import common_holes

START = 1_800_000_000.0


def _times(every: float, end: float, hole: tuple[float, float]) -> list[float]:
    n = round(end / every)
    return [every * k for k in range(1, n + 1) if not hole[0] < every * k < hole[1]]


def _record(db: Path, domains: dict[str, tuple[list[float], bool]]) -> int:
    with Store(db) as store:
        rid = store.create_run(
            name="multi", started_unix_s=START, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "meter", "domains": [
                {"name": n, "component": n.split(":")[0], "kind": "measured",
                 "source": "meter", "in_total": counted}
                for n, (_, counted) in domains.items()]}])
        rows = []
        for n, (times, _) in domains.items():
            prev = START
            for t in times:
                e = 10.0 * (START + t - prev)
                rows.append(SampleRow(START + t, n, e, 10.0, e, e))
                prev = START + t
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        store.finish_run(rid, ended_unix_s=START + 100.0, status="finished")
    return int(rid)


def _breaks(db: Path, rid: int) -> list[float]:
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=500)
    em = tl["emissions"]
    return [em["t_s"][k] for k in em["breaks"]]


def test_the_emissions_break_only_where_every_counted_domain_has_a_hole(tmp_path: Path
                                                                        ) -> None:
    rid = _record(tmp_path / "r.db", {
        "cpu:0": (_times(0.5, 100.0, (5.0, 40.0)), True),
        "gpu:0": (_times(0.5, 100.0, (30.0, 70.0)), True),
        "dram:0": (_times(0.5, 100.0, (80.0, 95.0)), False),  # not in the total
    })
    at = _breaks(tmp_path / "r.db", rid)
    assert at and min(at) > 30.0 and max(at) <= 40.0, at
    # every bucket wholly inside 30-40 s: none of them a dot between breaks
    assert len(at) >= (40.0 - 30.0) / 0.2 - 2


def test_one_counted_domain_without_a_hole_breaks_nothing(tmp_path: Path) -> None:
    rid = _record(tmp_path / "r.db", {
        "cpu:0": (_times(0.5, 100.0, (5.0, 40.0)), True),
        "gpu:0": (_times(0.5, 100.0, (0.0, 0.0)), True),
    })
    assert _breaks(tmp_path / "r.db", rid) == []


def test_common_holes_are_where_every_list_has_one() -> None:
    assert common_holes([[[5, 40]], [[30, 70], [80, 90]]]) == [(30.0, 40.0)]
    assert common_holes([[[5, 40]], []]) == []
    assert common_holes([[[0, 10], [20, 30]], [[5, 25]]]) == [(5.0, 10.0), (20.0, 25.0)]


def test_a_domain_not_started_yet_or_stopped_is_not_sampled_there(tmp_path: Path) -> None:
    # cpu stops 10-40 s while gpu has not started (its first sample at 50 s): nobody is
    # sampled there, so a break, not a flat line then a jump at 40 s
    late = [t for t in _times(0.5, 100.0, (0.0, 0.0)) if t >= 50.0]
    rid = _record(tmp_path / "r.db", {"cpu:0": (_times(0.5, 100.0, (10.0, 40.0)), True),
                                      "gpu:0": (late, True)})
    at = _breaks(tmp_path / "r.db", rid)
    assert at and min(at) > 10.0 and max(at) <= 40.0 and len(at) >= 30 / 0.2 - 2, at
    # gpu stopped at 20 s, cpu stops 50-80 s
    early = [t for t in _times(0.5, 100.0, (0.0, 0.0)) if t <= 20.0]
    rid = _record(tmp_path / "s.db", {"cpu:0": (_times(0.5, 100.0, (50.0, 80.0)), True),
                                      "gpu:0": (early, True)})
    at = _breaks(tmp_path / "s.db", rid)
    assert at and min(at) > 50.0 and max(at) <= 80.0, at
    with Store(tmp_path / "s.db") as store:
        gpu = timeline_payload(store, rid, points=500)["domains"]["gpu:0"]
    assert gpu["sampled"] == [0.5, 20.0] and gpu["holes"] == []


def test_the_timeline_gives_the_spans_no_counted_domain_is_sampled(tmp_path: Path) -> None:
    """The page reads them (the emissions chart's and the compare page's hover) and works
    none out of the domains' holes."""
    rid = _record(tmp_path / "r.db", {
        "cpu:0": (_times(0.5, 100.0, (5.0, 40.0)), True),
        "gpu:0": (_times(0.5, 100.0, (30.0, 70.0)), True),
        "dram:0": (_times(0.5, 100.0, (0.0, 0.0)), False),  # sampled throughout, not counted
    })
    with Store(tmp_path / "r.db") as store:
        tl = timeline_payload(store, rid, points=500)
    assert tl["unsampled"] == [[30.0, 40.0]]
    em = tl["emissions"]
    # a bucket holding dram:0's samples (every one here) breaks: it adds no emissions
    assert [em["t_s"][k] for k in em["breaks"]] == [
        t for t in em["t_s"] if 30.0 + 0.2 <= t <= 40.0 - 1e-9]


def test_the_emissions_break_before_a_counted_domain_s_late_first_sample(tmp_path: Path
                                                                         ) -> None:
    """Only an uncounted domain sampled from the start, the counted one from 30 s: no stretch
    lacks every sample (no edge), yet nothing counted is sampled there; the emissions were
    drawn flat at 0 g, then rose by all the first sample holds."""
    db = tmp_path / "late.db"
    rid = _record(db, {
        "cpu:0": ([30.0 + 0.5 * k for k in range(141)], True),
        "dram:0": (_times(0.5, 100.0, (200.0, 200.0)), False),
    })
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=500)
    assert tl["unsampled"] == [[0.0, 30.0]]
    assert all(d["edges"] == [] for d in tl["domains"].values())
    at = _breaks(db, rid)
    assert at and min(at) <= 0.4 and max(at) <= 30.0 and len(at) >= 30.0 / 0.2 - 2, at


def test_a_counted_domain_sampled_from_its_first_interval_breaks_nothing(tmp_path: Path
                                                                          ) -> None:
    db = tmp_path / "usual.db"
    rid = _record(db, {"cpu:0": (_times(0.5, 100.0, (200.0, 200.0)), True),
                       "dram:0": (_times(0.25, 100.0, (200.0, 200.0)), False)})
    with Store(db) as store:
        tl = timeline_payload(store, rid, points=500)
    assert tl["unsampled"] == [] and _breaks(db, rid) == []
