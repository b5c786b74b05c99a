"""Live carbon-intensity providers, used only when the user configures one.

Nothing here touches the network on import or on construction; a request is
made only when a configured provider is asked for a value. Tokens come from
the environment (``ELECTRICITYMAPS_TOKEN``, ``WATTTIME_USERNAME`` /
``WATTTIME_PASSWORD``) or explicit arguments, never from files.

Each provider is an ``IntensitySource``: ``intensity_at``, ``series`` and
``forecast`` (kind ``live`` for published values, ``forecast`` ahead), and
``fetched()`` lists every value handed out so a run can store them.
"""

from __future__ import annotations

from typing import Any

from wattwise.carbon.providers._base import LiveProvider
from wattwise.carbon.providers._cache import IntensityCache
from wattwise.carbon.providers._errors import ProviderError
from wattwise.carbon.providers.electricitymaps import ElectricityMaps
from wattwise.carbon.providers.ukcarbon import UKCarbonIntensity
from wattwise.carbon.providers.watttime import WattTime
from wattwise.errors import BadInput

#: Registry: provider name -> class. A new provider is one module and one line here.
PROVIDERS: dict[str, type[LiveProvider]] = {
    ElectricityMaps.name: ElectricityMaps,
    WattTime.name: WattTime,
    UKCarbonIntensity.name: UKCarbonIntensity,
}


def get_provider(name: str, **kwargs: Any) -> LiveProvider:
    """Construct the provider ``name`` (credentials from ``kwargs`` or the environment)."""
    try:
        cls = PROVIDERS[name.strip().lower()]
    except KeyError:
        raise BadInput(
            f"unknown intensity provider {name!r}; known: {', '.join(sorted(PROVIDERS))}"
        ) from None
    return cls(**kwargs)


__all__ = [
    "PROVIDERS",
    "ElectricityMaps",
    "IntensityCache",
    "LiveProvider",
    "ProviderError",
    "UKCarbonIntensity",
    "WattTime",
    "get_provider",
]
