"""IntensitySeries integrates its piecewise function exactly."""

from __future__ import annotations

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput


def _s(interp: str = "step") -> IntensitySeries:
    return IntensitySeries(
        np.array([0.0, 10.0, 20.0]), np.array([1.0, 3.0, 5.0]), "DE", "t", "trace", 10.0, interp
    )


def test_step_mean_over_partial_samples() -> None:
    assert _s().mean_over(5, 15) == pytest.approx(2.0)
    assert _s().end_unix_s == 30.0 and _s().value_at(29.9) == 5.0


def test_linear_mean_is_trapezoid() -> None:
    assert _s("linear").mean_over(0, 10) == pytest.approx(2.0)


def test_outside_and_unsorted_are_rejected() -> None:
    with pytest.raises(BadInput, match="outside"):
        _s().mean_over(25, 31)
    with pytest.raises(BadInput, match="increasing"):
        IntensitySeries(np.array([1.0, 0.0]), np.array([1.0, 1.0]), "DE", "t", "trace", 1.0)


def test_shipped_yearly_table_is_consistent() -> None:
    """Every figure names a known zone, a basis, a year and how it was obtained."""
    from wattwise.carbon.yearly import yearly_table
    from wattwise.carbon.zones import all_zones

    zones = all_zones()
    table = yearly_table()
    for name, fig in table.items():
        assert name in zones, name
        assert fig.basis in ("direct", "lifecycle"), name
        assert 2000 < fig.year < 2100 and fig.intensity_g_per_kwh >= 0, name
        assert fig.provenance.startswith(("verified from", "from memory")), name
    assert sum(1 for z in table if z.startswith("US-")) == 27


def test_every_us_cloud_region_maps_to_an_egrid_subregion_with_a_figure() -> None:
    from wattwise.carbon.yearly import yearly_table
    from wattwise.carbon.zones import all_zones

    table = yearly_table()
    us_regions = [
        z for z in all_zones().values() if z.kind == "cloud" and (z.parent or "").startswith("US-")
    ]
    assert len(us_regions) >= 15
    assert all(z.parent in table for z in us_regions)


def test_every_zone_reaches_a_country_with_a_figure() -> None:
    """Parents name known zones, and each chain ends at a country with its own figure,
    so no zone silently falls through to the world average."""
    from wattwise.carbon.yearly import yearly_table
    from wattwise.carbon.zones import all_zones, grid_chain

    zones = all_zones()
    table = yearly_table()
    for z in zones.values():
        if z.kind == "world":
            continue
        assert z.parent is None or z.parent in zones, z.name
        chain = grid_chain(z)
        assert chain[-1].kind == "country" and chain[-1].name in table, z.name
        assert len({c.name for c in chain}) == len(chain), z.name


def test_a_series_keeps_2000_and_reads_minus_zero_as_zero() -> None:
    s = IntensitySeries(np.array([0.0, 3600.0]), np.array([-0.0, 2000.0]), "XX", "t",
                        "trace", 3600.0)
    assert s.g_per_kwh.tolist() == [0.0, 2000.0]
    assert not np.signbit(s.g_per_kwh[0])


def test_a_series_with_a_value_past_the_bound_names_it_unrounded() -> None:
    with pytest.raises(BadInput, match=r"intensity 2000\.0001 gCO2eq/kWh at 3600 s"):
        IntensitySeries(np.array([0.0, 3600.0]), np.array([1.0, 2000.0001]), "XX", "t",
                        "trace", 3600.0)
