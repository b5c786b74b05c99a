"""``show``'s intensity line of a stored emissions block without a dataset kind (a bench
run's) names its source alone, never Python's "None"."""

from __future__ import annotations

from wattwise.cli.render import emissions_lines


def test_an_intensity_without_a_kind_is_named_by_its_source() -> None:
    block = {"emissions_g": 1.5, "low_g": 1.0, "high_g": 2.0, "avg_intensity_g_per_kwh": 380.0,
             "zone": "DE", "source": "yearly average", "pue": 1.0, "pue_source": "default"}
    lines = emissions_lines({"emissions": {**block, "kind": None}, "kind": "estimated"})
    assert "zone DE, yearly average" in lines[1] and "None" not in lines[1], lines
    lines = emissions_lines({"emissions": {**block, "kind": "yearly-average"},
                             "kind": "estimated"})
    assert "zone DE, yearly-average: yearly average" in lines[1], lines


def test_a_pue_without_its_source_says_so() -> None:
    """As the zone and the intensity's source do: a bare "PUE 1.15" read as one without
    provenance where ``report`` named one."""
    block = {"emissions_g": 1.5, "low_g": 1.0, "high_g": 2.0, "avg_intensity_g_per_kwh": 380.0,
             "zone": "DE", "source": "yearly average", "pue": 1.0}
    lines = emissions_lines({"emissions": block, "kind": "measured"})
    assert lines[2] == "  PUE 1: source not recorded", lines
    lines = emissions_lines({"emissions": {**block, "pue_source": "set by the user"},
                             "kind": "measured"})
    assert lines[2] == "  PUE 1: set by the user", lines
    # none stored: the run's recorded options name the user's choice where they hold it
    lines = emissions_lines({"emissions": block, "kind": "measured",
                             "carbon_options": {"pue": 1.0}})
    assert lines[2] == "  PUE 1: set by the user", lines
    lines = emissions_lines({"emissions": block, "kind": "measured",
                             "carbon_options": {"pue": 1.37}})
    assert lines[2] == "  PUE 1: source not recorded", lines
    lines = emissions_lines({"emissions": {**block, "pue_source": 7}, "kind": "measured"})
    assert lines[2] == "  PUE 1: source not usable: not text (stored as 7): a damaged record"
    lines = emissions_lines({"emissions": {k: v for k, v in block.items() if k != "source"},
                             "kind": "measured"})
    assert lines[1].endswith("zone DE, source not recorded"), lines


def test_a_damaged_block_s_parts_are_never_python_reprs() -> None:
    block = {"emissions_g": 0.001, "zone": 123, "source": ["a"], "kind": None}
    lines = emissions_lines({"emissions": block, "kind": "estimated"})
    assert lines[0] == "emissions: 0.001 gCO2eq, location-based, from estimated energy", lines
    assert lines[1].endswith("zone 123 (not usable: zone must be a name like 'DE', got 123),"
                             ' ["a"]'), lines
    lines = emissions_lines({"emissions": {"emissions_g": 0.001, "zone": None},
                             "kind": "estimated"})
    assert "zone not recorded, source not recorded" in lines[1], lines
    assert "None" not in " ".join(lines) and "(---)" not in lines[0], lines


def test_an_intensity_that_is_not_a_number_is_said_not_usable() -> None:
    """As the run page says it (``at an intensity not usable: ...``): never a bare "-"."""
    block = {"emissions_g": 0.001, "zone": "DE", "source": "yearly average",
             "kind": "yearly-average"}
    for stored, why in [("abc", "not a number (stored as 'abc')"),
                        (float("nan"), "not a finite number (stored as nan)"),
                        ([1], "not a number (stored as '[1]')"),
                        (10 ** 400, "implausibly large (an integer of about 401 digits)")]:
        lines = emissions_lines({"emissions": {**block, "avg_intensity_g_per_kwh": stored},
                                 "kind": "estimated"})
        assert lines[1].startswith(f"  intensity: not usable: {why}: a damaged record, zone DE"), \
            lines
    lines = emissions_lines({"emissions": block, "kind": "estimated"})
    assert lines[1].startswith("  intensity: not recorded, zone DE"), lines
    lines = emissions_lines({"emissions": {**block, "avg_intensity_g_per_kwh": 381},
                             "kind": "estimated"})
    assert lines[1].startswith("  intensity: 381.0 gCO2eq/kWh average over the run, zone DE")


def test_a_zone_stored_empty_is_not_recorded() -> None:
    block = {"emissions_g": 0.001, "zone": "", "source": "yearly average"}
    lines = emissions_lines({"emissions": block, "kind": "estimated"})
    assert "zone not recorded, yearly average" in lines[1] and "zone ," not in lines[1], lines


def test_an_emissions_range_whose_bounds_read_alike_is_not_written() -> None:
    """As a figure's energy range that reads as the figure (the pages wrote "0.0101 –
    0.0101" for a measured run's exact energy, where bounds one apart in 1e9 are one)."""
    block = {"emissions_g": 0.0101, "low_g": 0.0101, "high_g": 0.010100001,
             "avg_intensity_g_per_kwh": 380.0, "zone": "DE", "source": "yearly average",
             "pue": 1.0, "pue_source": "default"}
    lines = emissions_lines({"emissions": block, "kind": "measured"})
    assert lines[0] == "emissions: 0.0101 gCO2eq, location-based, from measured energy", lines
    lines = emissions_lines({"emissions": {**block, "high_g": 0.0102}, "kind": "measured"})
    assert lines[0].startswith("emissions: 0.0101 gCO2eq (0.0101-0.0102), "), lines
