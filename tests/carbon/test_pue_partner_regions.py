"""A cloud region in mainland China is run by a local partner, not by its brand's fleet:
a measured run there took AWS's 1.15 (Azure's 1.185) where the estimate, as the README
says, does not take the brand's PUE. Both now read one rule (``pue.partner_operated``)."""

from __future__ import annotations

import pytest

from wattwise.carbon.pue import partner_operated, pue_table, resolve_pue, zones_own


@pytest.mark.parametrize("zone", ["aws:cn-north-1", "azure:chinaeast2"])
def test_a_partner_run_region_takes_the_unknown_data_centre_pue(zone: str) -> None:
    got = resolve_pue(None, zone=zone)
    assert got.pue == pue_table()["unknown-datacenter"].pue == 1.56
    assert got.source.startswith(f"zone {zone} is run by {partner_operated(zone)}, not by "
                                 "the brand's own fleet")
    assert zones_own(zone) == 1.56


@pytest.mark.parametrize(("zone", "pue"), [("aws:eu-west-1", 1.15), ("gcp:asia-east1", 1.10),
                                           ("azure:westeurope", 1.185)])
def test_other_cloud_regions_keep_their_brands_pue(zone: str, pue: float) -> None:
    assert partner_operated(zone) is None
    assert resolve_pue(None, zone=zone).pue == pue


def test_the_estimate_reads_the_same_rule() -> None:
    from wattwise.estimate import _inputs

    assert not hasattr(_inputs, "_partner_operated")
    notes: list[str] = []
    fig = _inputs.pue_figure(None, notes, zone="aws:cn-north-1")
    assert "is run by a local partner (Sinnet, NWCD)" in " ".join(notes), notes
    assert "1.15" not in " ".join(notes)
    # the PUE a measured run in that zone takes (the estimate gave 1.33, 1.1-1.56)
    assert (fig.value, fig.low, fig.high) == (1.56, 1.56, 1.56)
