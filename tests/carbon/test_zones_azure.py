"""Azure regions a user names resolve: East Asia is Hong Kong, China's sit in their provinces."""

from __future__ import annotations

import pytest

from wattwise.carbon.yearly import YearlySource
from wattwise.carbon.zones import get_zone


@pytest.mark.parametrize(
    ("region", "grid"),
    [
        ("azure:eastasia", "HK"),
        ("azure:chinanorth", "CN-BJ"),
        ("azure:chinanorth2", "CN-BJ"),
        ("azure:chinanorth3", "CN-HE"),
        ("azure:chinaeast", "CN-SH"),
        ("azure:chinaeast2", "CN-SH"),
        ("azure:chinaeast3", "CN"),  # its province is not published
        ("azure:japanwest", "JP"),
        ("azure:australiasoutheast", "AU-VIC"),
        ("azure:westcentralus", "US-RMPA"),
    ],
)
def test_azure_region_sits_in_its_grid_and_says_it_fell_back(region: str, grid: str) -> None:
    assert get_zone(region).parent == grid
    i = YearlySource().intensity_at(region)
    assert i.note.startswith(f"no provider grid figure shipped for cloud region {region}")


def test_hong_kong_uses_its_own_figure_and_china_north_the_north_grid() -> None:
    assert YearlySource().intensity_at("azure:eastasia").intensity_g_per_kwh == \
        YearlySource().intensity_at("HK").intensity_g_per_kwh
    north = YearlySource().intensity_at("azure:chinanorth")
    assert north.intensity_g_per_kwh == YearlySource().intensity_at("CN-NORTH").intensity_g_per_kwh
    assert "CN-BJ" in north.note and "CN-NORTH" in north.note
    assert "21Vianet" in get_zone("azure:chinanorth").label
