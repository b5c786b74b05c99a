"""Yearly figures of Chinese provinces and of cloud regions, and what a fallback says."""

from __future__ import annotations

import pytest

from wattwise.carbon.yearly import YearlySource, yearly_table
from wattwise.carbon.zones import all_zones


def test_gcp_region_uses_googles_own_figure_not_the_country_average() -> None:
    region = YearlySource().intensity_at("gcp:asia-east1")
    taiwan = YearlySource().intensity_at("TW")
    assert region.intensity_g_per_kwh == 439.29 and region.year == 2024
    assert "Google Cloud" in region.source and "direct basis" in region.source
    assert region.note == "" and region.zone == "gcp:asia-east1"
    assert taiwan.intensity_g_per_kwh == 642.0  # Ember, life-cycle: 46 % above Google's figure
    assert YearlySource().intensity_at("gcp:us-east4").intensity_g_per_kwh == 323.05


def test_every_gcp_region_has_a_provider_figure_and_every_gcp_row_a_zone() -> None:
    table = yearly_table()
    gcp = [z.name for z in all_zones().values() if z.name.startswith("gcp:")]
    rows = [name for name in table if name.startswith("gcp:")]
    assert len(gcp) == 44 and sorted(gcp) == sorted(rows)
    for name in gcp:
        fig = table[name]
        assert fig.year == 2024 and "region-carbon-info" in fig.provenance, name
        assert YearlySource().intensity_at(name).note == "", name


@pytest.mark.parametrize(
    ("region", "grid", "words"),
    [
        ("azure:westeurope", "NL", "country average of NL"),
        ("aws:eu-central-1", "DE", "country average of DE"),
        ("azure:westus3", "US-AZNM", "grid average of US-AZNM"),
        ("aws:ap-southeast-2", "AU-NSW", "grid average of AU-NSW"),
    ],
)
def test_region_without_provider_figure_names_the_average_it_used(
    region: str, grid: str, words: str
) -> None:
    i = YearlySource().intensity_at(region)
    assert i.intensity_g_per_kwh == YearlySource().intensity_at(grid).intensity_g_per_kwh
    assert i.note.startswith(f"no provider grid figure shipped for cloud region {region}")
    assert words in i.note


def test_every_aws_and_azure_region_says_it_fell_back() -> None:
    regions = [z.name for z in all_zones().values() if z.name.startswith(("aws:", "azure:"))]
    assert len(regions) > 40
    for name in regions:
        note = YearlySource().intensity_at(name).note
        assert note.startswith("no provider grid figure shipped"), name


def test_province_with_mee_figure_uses_it() -> None:
    hebei = YearlySource().intensity_at("Hebei")
    assert (hebei.zone, hebei.intensity_g_per_kwh, hebei.year) == ("CN-HE", 725.2, 2022)
    assert "MEE" in hebei.source and "provincial" in hebei.source and hebei.note == ""
    yunnan = YearlySource().intensity_at("CN-YN")
    assert yunnan.intensity_g_per_kwh == 107.3  # hydro: the lowest of the published provinces
    # the province figure differs from its regional grid's (Yunnan is in the Southern grid)
    assert yunnan.intensity_g_per_kwh != YearlySource().intensity_at("CN-SOUTH").intensity_g_per_kwh


def test_province_without_figure_uses_its_regional_grid_and_says_so() -> None:
    gd = YearlySource().intensity_at("Guangdong")
    south = YearlySource().intensity_at("CN-SOUTH")
    assert gd.zone == "CN-GD" and gd.intensity_g_per_kwh == south.intensity_g_per_kwh == 404.2
    assert gd.note == (
        "no yearly figure shipped for CN-GD; "
        "used the grid average of CN-SOUTH (China Southern regional grid)"
    )


def test_shipped_province_figures_are_the_doubly_confirmed_2022_ones() -> None:
    table = yearly_table()
    provinces = {z: f for z, f in table.items() if z.startswith("CN-") and len(z) == 5}
    assert sorted(provinces) == sorted(
        ["CN-HE", "CN-SX", "CN-TJ", "CN-NM", "CN-AH", "CN-FJ", "CN-GX", "CN-QH", "CN-SC", "CN-YN"]
    )
    for name, fig in provinces.items():
        assert (fig.year, fig.basis) == (2022, "direct"), name
        assert "Beijing News" in fig.provenance and "2024-12-20" in fig.source, name


def test_new_country_zones_for_gcp_regions_have_ember_figures() -> None:
    for region, country in [("gcp:me-central1", "QA"), ("gcp:asia-southeast2", "ID")]:
        assert all_zones()[region].parent == country
        fig = yearly_table()[country]
        assert fig.basis == "lifecycle" and "Ember" in fig.source and fig.year in (2022, 2023)
