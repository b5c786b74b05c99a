"""Zone lookup, resolution order and yearly figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.carbon.yearly import YearlySource
from wattwise.carbon.zones import get_zone, grid_chain, resolve_zone
from wattwise.errors import BadInput


@pytest.mark.parametrize(
    ("region", "grid"),
    [
        ("aws:eu-central-1", "DE"),
        ("gcp:europe-west1", "BE"),
        ("azure:westeurope", "NL"),
        ("aws:us-east-1", "US-SRVC"),
        ("AWS:US-EAST-1", "US-SRVC"),
    ],
)
def test_cloud_regions_map_to_their_grid(region: str, grid: str) -> None:
    assert get_zone(region).parent == grid


def test_unknown_zone_suggests_near_names() -> None:
    with pytest.raises(BadInput, match=r"unknown zone 'aws:eu-central1'.*aws:eu-central-1"):
        get_zone("aws:eu-central1")
    with pytest.raises(BadInput, match="did you mean DE"):
        get_zone("Germny")


def test_resolution_order_argument_env_config(tmp_path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('zone = "FR"\n')
    assert resolve_zone("de", env={"WATTWISE_ZONE": "GB"}, config_file=cfg).zone.name == "DE"
    env_choice = resolve_zone(None, env={"WATTWISE_ZONE": "gb"}, config_file=cfg)
    assert (env_choice.zone.name, env_choice.origin) == ("GB", "env")
    cfg_choice = resolve_zone(None, env={}, config_file=cfg)
    assert (cfg_choice.zone.name, cfg_choice.origin) == ("FR", "config")
    none = resolve_zone(None, env={}, config_file=tmp_path / "absent.toml")
    assert none.zone is None and "WATTWISE_ZONE" in none.note and "--zone" in none.note


def test_a_zone_of_spaces_alone_is_no_zone_as_the_readme_says(tmp_path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('zone = "FR"\n')
    blank = resolve_zone(None, env={"WATTWISE_ZONE": "  "}, config_file=cfg)
    assert (blank.zone.name, blank.origin) == ("FR", "config")  # the next source in order
    none = resolve_zone(None, env={"WATTWISE_ZONE": " "}, config_file=tmp_path / "no.toml")
    assert none.zone is None and "world average" in none.note


def test_bad_zone_in_env_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown zone"):
        resolve_zone(None, env={"WATTWISE_ZONE": "Atlantis"})


def test_yearly_figure_carries_year_and_source() -> None:
    i = YearlySource().intensity_at("FR")
    assert (i.intensity_g_per_kwh, i.year, i.kind) == (56.0, 2023, "yearly-average")
    assert "Ember" in i.source and "lifecycle" in i.source and i.note == ""


def test_cloud_region_without_provider_figure_uses_its_subregion_and_says_so() -> None:
    assert [z.name for z in grid_chain(get_zone("aws:us-east-1"))] == [
        "aws:us-east-1",
        "US-SRVC",
        "US",
    ]
    region = YearlySource().intensity_at("aws:us-east-1")
    srvc = YearlySource().intensity_at("US-SRVC")
    # eGRID2022 SRVC: 622.987 CO2 + 28 x 0.047 CH4 + 265 x 0.007 N2O lb/MWh, x 0.45359237
    assert region.intensity_g_per_kwh == srvc.intensity_g_per_kwh == 284.0
    assert region.year == 2022 and "eGRID2022 SRVC" in region.source
    assert "no provider grid figure" in region.note and "aws:us-east-1" in region.note
    assert "grid average of US-SRVC" in region.note and srvc.note == ""
    assert YearlySource().intensity_at("US").intensity_g_per_kwh != region.intensity_g_per_kwh
    west = YearlySource().intensity_at("aws:us-west-2")
    assert "NWPP" in west.source and west.intensity_g_per_kwh == 274.8 and "US-NWPP" in west.note


def test_china_regional_grids_have_the_mee_factors() -> None:
    north = YearlySource().intensity_at("aws:cn-north-1")
    assert north.intensity_g_per_kwh == 636.1 and "MEE" in north.source
    assert north.year == 2023 and "direct" in north.source
    assert "CN-BJ" in north.note and "CN-NORTH" in north.note  # Beijing has no own figure
    south_west = YearlySource().intensity_at("CN-SOUTHWEST")
    assert south_west.intensity_g_per_kwh == 247.2  # hydro-rich: well under half of North China's


def test_grid_without_own_figure_uses_country_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import wattwise.carbon.yearly as yearly

    table = {k: v for k, v in yearly.yearly_table().items() if k != "CN-NORTH"}
    monkeypatch.setattr(yearly, "yearly_table", lambda: table)
    i = YearlySource().intensity_at("aws:cn-north-1")
    assert i.zone == "aws:cn-north-1" and "CN-NORTH" in i.note
    assert "used the country average of CN (China)" in i.note
    assert i.intensity_g_per_kwh == table["CN"].intensity_g_per_kwh


def test_zone_without_any_figure_falls_back_to_world_with_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import wattwise.carbon.yearly as yearly

    table = {k: v for k, v in yearly.yearly_table().items() if k != "CH"}
    monkeypatch.setattr(yearly, "yearly_table", lambda: table)
    i = YearlySource().intensity_at("CH")
    assert i.intensity_g_per_kwh == 481.0 and "world average" in i.note and "CH" in i.note


def test_every_country_zone_has_a_yearly_figure() -> None:
    from wattwise.carbon.yearly import yearly_table
    from wattwise.carbon.zones import all_zones

    countries = [z.name for z in all_zones().values() if z.kind == "country"]
    missing = [c for c in countries if c not in yearly_table()]
    assert countries and missing == []
    assert YearlySource().intensity_at("CH").intensity_g_per_kwh == 35.0


def test_canadian_province_has_its_own_figure() -> None:
    qc = YearlySource().intensity_at("CA-QC")
    ab = YearlySource().intensity_at("CA-AB")
    ca = YearlySource().intensity_at("CA")
    assert (qc.intensity_g_per_kwh, ab.intensity_g_per_kwh) == (1.5, 670.0)
    assert qc.intensity_g_per_kwh != ca.intensity_g_per_kwh and qc.note == ""
    assert qc.year == 2019 and "NIR" in qc.source
    assert YearlySource().intensity_at("aws:ca-central-1").intensity_g_per_kwh == 1.5


def test_basis_is_reported_and_not_mixed_silently() -> None:
    src = YearlySource()
    assert "direct basis" in src.intensity_at("US-CAMX").source
    assert "direct basis" in src.intensity_at("AU-VIC").source
    assert "lifecycle basis" in src.intensity_at("DE").source
    assert src.figure("AU-VIC")[0].basis == "direct" and src.figure("AU")[0].basis == "lifecycle"


def test_recited_values_are_flagged_and_verified_ones_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    import wattwise.carbon.yearly as yearly

    table = dict(yearly.yearly_table())
    table["GB"] = dataclasses.replace(table["GB"], provenance="from memory")
    monkeypatch.setattr(yearly, "yearly_table", lambda: table)
    src = YearlySource()
    assert "recited" in src.intensity_at("GB").source
    assert "recited" not in src.intensity_at("US-SRVC").source
    assert "recited" not in src.intensity_at("FR").source


def test_no_zone_is_world_average_with_note() -> None:
    i = YearlySource().intensity_at(None)
    assert i.zone == "WORLD" and i.intensity_g_per_kwh == 481.0 and "world average" in i.note


def test_config_path_agrees_with_platformdirs_on_linux(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    import platformdirs

    from wattwise.carbon.zones import config_path

    if not sys.platform.startswith("linux"):
        pytest.skip("the XDG rule is Linux's")
    for value in (str(tmp_path), "relative/ignored", ""):
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
        assert config_path().parent == Path(platformdirs.user_config_dir("wattwise"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "wattwise" / "config.toml"
