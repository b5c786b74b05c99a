"""Zone names: ISO alpha-3 country codes and Chinese provinces by code or name."""

from __future__ import annotations

import pytest

from wattwise.carbon.zones import all_zones, get_zone, resolve_zone, search_zones
from wattwise.errors import BadInput

# ISO 3166-1 alpha-3 -> alpha-2 for a spread of the shipped countries.
ALPHA3 = {
    "DEU": "DE", "GBR": "GB", "USA": "US", "CHN": "CN", "CHE": "CH", "KOR": "KR",
    "TWN": "TW", "HKG": "HK", "ZAF": "ZA", "IRL": "IE", "NLD": "NL", "SLV": "SV",
}  # fmt: skip


@pytest.mark.parametrize(("alpha3", "alpha2"), sorted(ALPHA3.items()))
def test_alpha3_names_the_same_zone_as_alpha2(alpha3: str, alpha2: str) -> None:
    assert get_zone(alpha3) is get_zone(alpha2)
    assert get_zone(f"  {alpha3.lower()} ").name == alpha2


def test_every_country_zone_has_exactly_one_alpha3_alias() -> None:
    countries = [z for z in all_zones().values() if z.kind == "country"]
    assert len(countries) > 40
    for z in countries:
        codes = [a for a in z.aliases if len(a) == 3 and a.isascii() and a.isupper()]
        assert len(codes) == 1, z.name


def test_alpha3_works_wherever_a_zone_is_read() -> None:
    assert resolve_zone(None, env={"WATTWISE_ZONE": "FRA"}).zone.name == "FR"  # type: ignore[union-attr]
    assert resolve_zone("bra").zone.name == "BR"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name", ["CN-GD", "cn-gd", "CN_GD", "Guangdong", "guangdong", " GUANGDONG ", "广东"]
)
def test_guangdong_by_code_or_name(name: str) -> None:
    z = get_zone(name)
    assert z.name == "CN-GD" and z.kind == "subnational" and z.parent == "CN-SOUTH"


def test_similar_province_names_stay_apart() -> None:
    assert get_zone("Shanxi").name == "CN-SX"
    assert get_zone("Shaanxi").name == "CN-SN"
    for name in ("Inner Mongolia", "inner_mongolia", "INNER-MONGOLIA", "Nei Mongol", "内蒙古"):
        assert get_zone(name).name == "CN-NM", name
    assert get_zone("Tibet").name == get_zone("Xizang").name == "CN-XZ"


def test_thirty_one_provinces_each_under_one_regional_grid() -> None:
    grids = {"CN-NORTH", "CN-NORTHEAST", "CN-EAST", "CN-CENTRAL", "CN-NORTHWEST",
             "CN-SOUTH", "CN-SOUTHWEST"}  # fmt: skip
    provinces = [
        z for z in all_zones().values() if z.name.startswith("CN-") and z.name not in grids
    ]
    assert len(provinces) == 31
    assert all(len(z.name) == 5 and z.parent in grids for z in provinces)
    by_grid = {g: sorted(z.name for z in provinces if z.parent == g) for g in grids}
    assert by_grid["CN-SOUTH"] == ["CN-GD", "CN-GX", "CN-GZ", "CN-HI", "CN-YN"]
    assert by_grid["CN-SOUTHWEST"] == ["CN-CQ", "CN-SC", "CN-XZ"]
    # Hong Kong, Macao and Taiwan are their own country zones, not provinces here.
    assert not {"CN-HK", "CN-MO", "CN-TW"} & set(all_zones())


def test_no_alias_is_ambiguous_or_shadows_a_zone_name() -> None:
    from wattwise.carbon.zones import _alias_key

    seen: dict[str, str] = {}
    names = {_alias_key(n) for n in all_zones()}
    for z in all_zones().values():
        for a in z.aliases:
            key = _alias_key(a)
            assert key not in names or key == _alias_key(z.name), (a, z.name)
            assert seen.setdefault(key, z.name) == z.name, (a, z.name, seen[key])
            assert get_zone(a) is z


def test_unknown_province_or_code_lists_close_matches_on_one_line() -> None:
    with pytest.raises(BadInput, match=r"unknown zone 'Guangdng'.*did you mean.*CN-GD") as exc:
        get_zone("Guangdng")
    assert "\n" not in str(exc.value)
    with pytest.raises(BadInput, match=r"unknown zone 'DEUU'.*DE"):
        get_zone("DEUU")
    with pytest.raises(BadInput, match="unknown zone"):
        get_zone("XYZ")


def test_search_finds_zones_by_alias_and_reports_aliases() -> None:
    assert [z.name for z in search_zones("DEU")] == ["DE"]
    assert "CN-GD" in [z.name for z in search_zones("guangdong")]
    assert get_zone("CN-NM").to_dict()["aliases"] == ["Inner Mongolia", "Nei Mongol", "内蒙古"]
