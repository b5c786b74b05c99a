"""Zone lookup, resolution order and yearly figures."""

from __future__ import annotations

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


def test_bad_zone_in_env_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown zone"):
        resolve_zone(None, env={"WATTWISE_ZONE": "Atlantis"})


def test_yearly_figure_carries_year_and_source() -> None:
    i = YearlySource().intensity_at("FR")
    assert (i.intensity_g_per_kwh, i.year, i.kind) == (56.0, 2023, "yearly-average")
    assert "Ember" in i.source and "lifecycle" in i.source and i.note == ""


def test_grid_without_own_figure_uses_country_and_says_so() -> None:
    assert [z.name for z in grid_chain(get_zone("aws:us-east-1"))] == [
        "aws:us-east-1",
        "US-SRVC",
        "US",
    ]
    i = YearlySource().intensity_at("aws:us-east-1")
    assert i.zone == "aws:us-east-1" and "US-SRVC" in i.note and "used US" in i.note


def test_no_zone_is_world_average_with_note() -> None:
    i = YearlySource().intensity_at(None)
    assert i.zone == "WORLD" and i.intensity_g_per_kwh == 481.0 and "world average" in i.note
