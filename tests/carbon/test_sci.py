"""SCI = ((E x I) + M) / R, checked by hand."""

from __future__ import annotations

import pytest

from wattwise.carbon.sci import SECONDS_PER_YEAR, embodied_figure, embodied_share_g, sci
from wattwise.carbon.sources import Intensity
from wattwise.errors import BadInput


def test_embodied_share_by_hand() -> None:
    # 1,000 kg server, 4-year life, 1 day reserved, 2 of 8 GPUs:
    # 1e6 g * (86400 / (4 * 365.25 * 86400)) * (2 / 8) = 171.12... g
    m = embodied_share_g(1e6, 86400, resources_reserved=2, total_resources=8)
    assert m == pytest.approx(1e6 / (4 * 365.25) / 4)


def test_sci_by_hand() -> None:
    # E = 2 kWh, I = 300 g/kWh -> 600 g; M = 150 g; R = 1,000 requests -> 0.75 g/request
    s = sci(2.0, 300.0, 150.0, 1000, "request")
    assert s.sci_g_per_unit == pytest.approx(0.75)
    assert (s.operational_g, s.embodied_g, s.unit_name) == (600.0, 150.0, "request")


def test_sci_keeps_intensity_source() -> None:
    i = Intensity(56.0, "FR", "Ember yearly 2023", "yearly-average", year=2023)
    s = sci(1.0, i, 0.0, 1, "token")
    assert s.sci_g_per_unit == 56.0 and "Ember" in s.intensity_source


def test_sci_rejects_zero_units_and_bad_shares() -> None:
    with pytest.raises(BadInput, match="functional units"):
        sci(1.0, 1.0, 0.0, 0, "x")
    with pytest.raises(BadInput, match="resources reserved"):
        embodied_share_g(1.0, 1.0, resources_reserved=9, total_resources=8)


def test_embodied_table_has_sources_and_lifetime() -> None:
    f = embodied_figure("server-base-minimal")
    assert f.embodied_g == 1_000_000 and f.lifetime_years == 4 and f.source
    assert embodied_share_g(f.embodied_g, 4 * SECONDS_PER_YEAR) == pytest.approx(f.embodied_g)
    with pytest.raises(BadInput, match="no embodied figure"):
        embodied_figure("toaster")


def test_embodied_table_is_verified_and_has_component_rows() -> None:
    base = embodied_figure("server-base-minimal")
    assert "recited" not in base.source and "Cloud Carbon Footprint" in base.source
    assert embodied_figure("server-extra-gpu").embodied_g == 150_000
    # 533 kgCO2eq for 384 GB in the Dell R740 LCA, per GB
    dram = embodied_figure("server-dram-per-gb")
    assert dram.embodied_g == pytest.approx(533 / 384 * 1000, rel=1e-3)
