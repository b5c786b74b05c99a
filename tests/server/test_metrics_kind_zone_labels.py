"""/metrics labels a kind not recorded "unknown", as every other output names it (it was
"other", beside the same domain's "measured" in its domain_info), and a cloud region's zone
by its name (every "aws:eu-west-1" run was zone="other")."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wattwise.records.store import Store
from wattwise.server.app import create_app
from wattwise.server.metrics import kind_label


def test_kind_labels() -> None:
    assert [kind_label(k) for k in ("measured", "mixed", None, "", "unknown", "guessed", 3)] \
        == ["measured", "mixed", "unknown", "unknown", "unknown", "other", "other"]


def test_a_cloud_zone_and_an_unrecorded_kind_are_labelled_so(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = store.create_run(name="cloud", started_unix_s=1.0, host={"hostname": "h"},
                               hardware={}, versions={},
                               sensors=[{"domains": [{"name": "cpu:0", "kind": "measured",
                                                      "source": "rapl:x"}]}])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={
            "energy_j": 5.0, "domains": [{"domain": "cpu:0", "source": "rapl:x",
                                          "energy_j": 5.0}],
            "emissions": {"emissions_g": 0.01, "zone": "aws:eu-west-1"}})
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        text = c.get("/metrics").text
    assert 'wattwise_run_emissions_grams{run_id="1",zone="aws:eu-west-1"} 0.01' in text
    # the domain's kind not in the summary: its sensor's, as domain_info gives it (the
    # series said "unknown" beside domain_info's "measured" for the same domain)
    assert ('wattwise_run_energy_joules_total{domain="cpu:0",kind="measured",run_id="1",'
            'source="rapl"} 5.0') in text
    assert 'wattwise_energy_joules_total{kind="unknown"} 5.0' in text


def test_zone_labels() -> None:
    """A stored zone that is no zone's name is "other", as the HELP says: a null was
    written ``zone="None"``."""
    from wattwise.server.metrics import zone_label

    assert [zone_label(z) for z in ("DE", "aws:eu-west-1", None, 42, "", "a b", "x" * 41)] \
        == ["DE", "aws:eu-west-1", "other", "other", "other", "other", "other"]


def test_a_null_stored_zone_is_other(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        rid = store.create_run(name="nozone", started_unix_s=1.0, host={"hostname": "h"},
                               hardware={}, versions={}, sensors=[])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={
            "energy_j": 5.0, "domains": [{"domain": "cpu:0", "energy_j": 5.0}],
            "emissions": {"emissions_g": 0.01, "zone": None}})
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        text = c.get("/metrics").text
    assert 'wattwise_run_emissions_grams{run_id="1",zone="other"} 0.01' in text
    assert 'zone="None"' not in text


@pytest.mark.parametrize(("kind", "label"), [("bogus", "other"), (None, "unknown")])
def test_domain_info_labels_the_kind_as_the_series_do(tmp_path: Path, kind: str | None,
                                                      label: str) -> None:
    """domain_info gave the stored text ("bogus", or an empty label) beside its energy
    series' "other" or "unknown" for the same domain."""
    path = tmp_path / "runs.db"
    domain = {"name": "cpu:0", "source": "rapl:x", **({} if kind is None else {"kind": kind})}
    with Store(path) as store:
        rid = store.create_run(name="k", started_unix_s=1.0, host={"hostname": "h"},
                               hardware={}, versions={}, sensors=[{"domains": [domain]}])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={
            "energy_j": 5.0, "domains": [{"domain": "cpu:0", "source": "rapl:x",
                                          "energy_j": 5.0}]})
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        text = c.get("/metrics").text
    assert f'wattwise_run_domain_info{{domain="cpu:0",kind="{label}",run_id="1",' \
           'source="rapl",source_detail="rapl:x"} 1.0' in text, text
    assert f'wattwise_run_energy_joules_total{{domain="cpu:0",kind="{label}",run_id="1",' \
           'source="rapl"} 5.0' in text


@pytest.mark.parametrize(("summary_kind", "sensor_kind", "label"),
                         [("measured", "estimated", "measured"), ("weird", None, "other")])
def test_domain_info_takes_the_summary_s_kind_as_the_series_do(
        tmp_path: Path, summary_kind: str, sensor_kind: str | None, label: str) -> None:
    path = tmp_path / "runs.db"
    domain = {"name": "cpu:0", "source": "rapl:x", "kind": sensor_kind}
    with Store(path) as store:
        rid = store.create_run(name="k", started_unix_s=1.0, host={"hostname": "h"},
                               hardware={}, versions={}, sensors=[{"domains": [domain]}])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={
            "energy_j": 5.0, "domains": [{"domain": "cpu:0", "source": "rapl:x",
                                          "kind": summary_kind, "energy_j": 5.0}]})
    with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
        text = c.get("/metrics").text
    assert f'wattwise_run_domain_info{{domain="cpu:0",kind="{label}",run_id="1",' in text
    assert f'wattwise_run_energy_joules_total{{domain="cpu:0",kind="{label}",run_id="1",' \
        in text
