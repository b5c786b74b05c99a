"""From a run's power samples to its emissions: energy x intensity at that time x PUE.

The meter's samples give the energy timeline; the carbon module prices each
interval at the grid intensity of that interval. Used by ``track(zone=...)``,
``wattwise run --zone`` and ``wattwise report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wattwise.errors import BadInput


class _SampleLike(Protocol):
    @property
    def t_unix_s(self) -> float: ...
    @property
    def domain(self) -> str: ...
    @property
    def energy_j(self) -> float: ...
    @property
    def low_j(self) -> float: ...
    @property
    def high_j(self) -> float: ...


@dataclass(frozen=True)
class CarbonOptions:
    """Where and how to price energy. Every field may be left unset.

    Without a zone the world average is used (and said); without a trace the
    shipped yearly figure of the zone is used; without a PUE, 1.0 for a
    local machine or the cloud provider's published figure for a cloud zone.
    """

    zone: str | None = None
    intensity_trace: str | Path | None = None
    pue: float | None = None
    renewable_share: float | None = None
    provider: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "zone": self.zone,
            "intensity_trace": str(self.intensity_trace) if self.intensity_trace else None,
            "pue": self.pue,
            "renewable_share": self.renewable_share,
        }


def intervals_from_samples(
    samples: Iterable[_SampleLike],
    in_total: set[str],
    start_unix_s: float,
    scale_to_j: float | None = None,
) -> list[tuple[float, float, float, float, float]]:
    """One ``(t0, t1, energy_j, low_j, high_j)`` per sample of a counted domain.

    A sample covers the time since the previous sample of the same domain (or
    since ``start_unix_s`` for its first): domains read at different paces
    (a GPU counter every few seconds, the CPU every second) each keep their
    own intervals. ``scale_to_j`` rescales the timeline so it adds up to a
    window's exact energy (the whole-run window and the sample timeline start
    and end a few milliseconds apart); the shape over time is the samples'.
    """
    last: dict[str, float] = {}
    out = []
    for s in sorted(samples, key=lambda x: x.t_unix_s):
        if s.domain not in in_total:
            continue
        t0 = last.get(s.domain, start_unix_s)
        last[s.domain] = s.t_unix_s
        e = max(0.0, s.energy_j)
        lo, hi = min(max(0.0, s.low_j), e), max(s.high_j, e)
        out.append((min(t0, s.t_unix_s), s.t_unix_s, e, lo, hi))
    total = sum(r[2] for r in out)
    if scale_to_j is not None and total > 0:
        k = scale_to_j / total
        out = [(a, b, e * k, lo * k, hi * k) for a, b, e, lo, hi in out]
    return out


def emissions_for(
    intervals: Sequence[tuple[float, float, float, float, float]],
    options: CarbonOptions,
) -> Any:
    """Emissions of energy intervals under ``options`` (a ``carbon.emissions.Emissions``).

    With a live provider configured, its values price the run and are kept in
    ``fetched`` of the result's dict; if it fails, the yearly average is used
    and a note says what went wrong.
    """
    em, _ = emissions_and_fetched(intervals, options)
    return em


def emissions_and_fetched(
    intervals: Sequence[tuple[float, float, float, float, float]],
    options: CarbonOptions,
) -> tuple[Any, list[dict[str, Any]]]:
    """Like :func:`emissions_for`, also returning the live values fetched (if any)."""
    from wattwise.carbon.emissions import compute_emissions

    if not intervals:
        raise BadInput("the run has no energy samples to price")
    if options.provider is not None:
        return _with_provider(intervals, options)
    source = None
    if options.intensity_trace is not None:
        from wattwise.carbon.traces import TraceSource
        from wattwise.carbon.zones import resolve_zone

        choice = resolve_zone(options.zone)
        if choice.zone is None:
            raise BadInput(
                "--intensity-trace needs a zone for the trace (--zone or WATTWISE_ZONE)"
            )
        source = TraceSource.from_csv(options.intensity_trace, choice.zone.name, outside="yearly")
    em = compute_emissions(
        intervals, options.zone, source, pue=options.pue, renewable_share=options.renewable_share
    )
    return em, []


def _with_provider(
    intervals: Sequence[tuple[float, float, float, float, float]], options: CarbonOptions
) -> tuple[Any, list[dict[str, Any]]]:
    import dataclasses

    from wattwise.carbon.emissions import compute_emissions
    from wattwise.carbon.providers import get_provider
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    choice = resolve_zone(options.zone)
    if choice.zone is None:
        raise BadInput(f"provider {options.provider} needs a zone (--zone or WATTWISE_ZONE)")
    provider = get_provider(options.provider or "")
    try:
        em = compute_emissions(
            intervals, choice.zone.name, provider,
            pue=options.pue, renewable_share=options.renewable_share,
        )
    except WattwiseError as exc:
        em = compute_emissions(
            intervals, choice.zone.name, None,
            pue=options.pue, renewable_share=options.renewable_share,
        )
        note = f"provider {options.provider} failed ({exc}); the yearly average was used instead"
        em = dataclasses.replace(em, notes=(note, *em.notes))
    fetched = [i.to_dict() for i in provider.fetched()]
    return em, fetched
