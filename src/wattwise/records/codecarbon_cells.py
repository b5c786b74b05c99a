"""The carbon and place cells of a CodeCarbon ``emissions.csv`` row
(``records.export_codecarbon``): from the emissions recorded with a run, or its
partial energy priced now, with why each cell that stays empty is empty; and its end
(``timestamp``) as every output judges it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from wattwise._finite import finite_float
from wattwise.measure.results import fmt_energies
from wattwise.records import run_notes
from wattwise.records.store import RunInfo, SampleRow

#: CodeCarbon's energy column of each wattwise component.
CODECARBON_COMPONENT = {"cpu": "cpu", "gpu": "gpu", "dram": "ram", "memory": "ram"}

#: Country zones (ISO 3166-1 alpha-2, as in ``data/zones.csv``) -> CodeCarbon's
#: ``country_iso_code`` (ISO 3166-1 alpha-3) and ``country_name``. CodeCarbon
#: writes alpha-3 codes and English short names (its ``global_energy_mix.json``):
#: e.g. rows ``France,FRA,île-de-france`` and ``United States,USA,massachusetts``
#: in emissions.csv files CodeCarbon 2.x wrote (published with models on the
#: Hugging Face Hub), header as ``CODECARBON_COLUMNS``.
_COUNTRIES = {
    "AR": ("ARG", "Argentina"), "AT": ("AUT", "Austria"), "AU": ("AUS", "Australia"),
    "BA": ("BIH", "Bosnia and Herzegovina"), "BD": ("BGD", "Bangladesh"),
    "BE": ("BEL", "Belgium"), "BG": ("BGR", "Bulgaria"), "BH": ("BHR", "Bahrain"),
    "BO": ("BOL", "Bolivia"), "BR": ("BRA", "Brazil"), "CA": ("CAN", "Canada"),
    "CH": ("CHE", "Switzerland"), "CL": ("CHL", "Chile"), "CN": ("CHN", "China"),
    "CO": ("COL", "Colombia"), "CR": ("CRI", "Costa Rica"), "CY": ("CYP", "Cyprus"),
    "CZ": ("CZE", "Czechia"), "DE": ("DEU", "Germany"), "DK": ("DNK", "Denmark"),
    "EC": ("ECU", "Ecuador"), "EE": ("EST", "Estonia"), "EG": ("EGY", "Egypt"),
    "ES": ("ESP", "Spain"), "FI": ("FIN", "Finland"), "FR": ("FRA", "France"),
    "GB": ("GBR", "United Kingdom"), "GE": ("GEO", "Georgia"), "GR": ("GRC", "Greece"),
    "HK": ("HKG", "Hong Kong"), "HR": ("HRV", "Croatia"), "HU": ("HUN", "Hungary"),
    "IE": ("IRL", "Ireland"), "IN": ("IND", "India"), "IR": ("IRN", "Iran"),
    "IT": ("ITA", "Italy"), "JP": ("JPN", "Japan"), "KR": ("KOR", "South Korea"),
    "NL": ("NLD", "Netherlands"), "NO": ("NOR", "Norway"), "PL": ("POL", "Poland"),
    "SE": ("SWE", "Sweden"), "SG": ("SGP", "Singapore"), "SV": ("SLV", "El Salvador"),
    "TW": ("TWN", "Taiwan"), "US": ("USA", "United States"), "ZA": ("ZAF", "South Africa"),
}  # fmt: skip


def _is_alpha3(alias: str) -> bool:
    return len(alias) == 3 and alias.isascii() and alias.isalpha() and alias.isupper()


#: What each kind of summary record (``summary_of.what``) is, in words.
_SUMMARY_KINDS = {"study": "compression study", "tune": "tuning"}


def summarised_runs(summary: Any) -> tuple[str, list[int]] | None:
    """``(what, run ids)`` of a summary record (a compression study or a tuning: its
    summary's ``summary_of`` names the variant runs it sums), or None for a run with
    samples of its own. Such a record has no samples and no emissions: its variants'
    runs carry them, so a reader that prices a run prices those instead."""
    of = summary.get("summary_of") if isinstance(summary, dict) else None
    if not isinstance(of, dict):
        return None
    ids = of.get("run_ids")
    run_ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)] \
        if isinstance(ids, list) else []
    what = of.get("what")
    return _SUMMARY_KINDS.get(what, "summary") if isinstance(what, str) else "summary", run_ids


def recorded_carbon(record: RunInfo) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """CodeCarbon's carbon and place cells from the emissions recorded with the run,
    and ``(columns, why)`` for each that stays empty. A summary record (a compression
    study or tuning) has no emissions of its own: the note names the runs that do."""
    summary = record.summary if isinstance(record.summary, dict) else {}
    cells, why = _carbon_cells(summary.get("emissions"), summary)
    if not why or why[0][1] != _NOT_RECORDED:
        return cells, why
    of = summarised_runs(summary)
    if of is None:
        # CodeCarbon's energy is the facility's: at the PUE `wattwise report` prices it
        # with, so energy_consumed is report's facility energy (the grams stay empty)
        from wattwise.carbon.priced_pue import priced_pue

        pue = priced_pue(record)
        if pue is not None:
            cells["pue"] = pue
            why[0] = (tuple(c for c in why[0][0] if c != "pue"), why[0][1])
    else:
        what, run_ids = of
        runs = "" if not run_ids else (
            f" (runs {', '.join(str(i) for i in run_ids[:10])}"
            + (f" and {len(run_ids) - 10} more" if len(run_ids) > 10 else "") + ")")
        parts = "settings" if what == "tuning" else "variants"
        why[0] = (why[0][0], f"the run is a {what} summary with no emissions of its own: "
                  f"its {parts}' runs carry them{runs}")
    return cells, why


#: Why a run without a summary and without a sample of a domain it counts has no
#: carbon cells (``wattwise show``'s words: no energy figure, so nothing to price).
NO_COUNTED_SAMPLE = f"{run_notes.NO_COUNTED_SAMPLE} to price"


def no_carbon(why: str | None) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """The carbon cells of a run whose energy is a damaged record (its samples sum past
    what one run may hold): all empty, ``why`` saying so; None: one without a summary
    and without a counted sample (``NO_COUNTED_SAMPLE``)."""
    why = NO_COUNTED_SAMPLE if why is None else why
    cells, _ = _carbon_cells(None)
    return cells, [(("emissions", "emissions_rate", "pue", "country_name",
                     "country_iso_code", "region"), why)]


def partial_carbon(
    record: RunInfo, samples: Sequence[SampleRow], part: Any, notes: list[str] | None,
    *, priced: dict[str, Any] | None = None, stored: bool = False,
) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """The carbon cells of a run without a summary: its partial energy priced as
    ``wattwise report`` prices it (``carbon.partial.partial_emissions``, the one figure
    ``show``, the dashboard and ``/metrics`` give: in the zone the run was started with;
    for a run recorded without one, the zone of ``$WATTWISE_ZONE`` or the config, else
    the world average), and a note that says so and where the zone came from.
    ``stored``: the run was priced already from sums taken in SQLite
    (``carbon.partial.stored_partial_emissions``), as ``priced`` (None: it cannot be)."""
    if not part.usable:  # a damaged record: nothing to price, its note says why
        return no_carbon(str(part.fault))
    if stored:
        em = priced
    else:
        from wattwise.carbon.partial import partial_emissions

        em = partial_emissions(record, samples, part)
    if em is None:
        from wattwise.carbon.repricing import unpriced_note

        said = unpriced_note(record)  # its zone cannot be had: `report` refuses it
        return _carbon_cells(None) if said is None else no_carbon(said)
    if notes is not None:
        why = "; ".join(n for n in em.get("notes") or [] if isinstance(n, str))
        notes.append(
            f"emissions priced now from the run's partial energy ({part.note}) at zone "
            f"{em.get('zone')} ({em.get('source')}), as `wattwise report` prices it"
            + (f": {why}" if why else ""))
    return _carbon_cells(em)


def repriced_carbon(
    record: RunInfo, samples: Iterable[SampleRow], fault: str, notes: list[str] | None,
    store: Any = None,
) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """The carbon cells of a run whose stored emissions are not usable (``fault``:
    ``records.stored_energy.summary_emissions_fault``): its energy priced again as
    ``wattwise report`` prices it (its counted domains' ``samples`` clipped to its
    measured window, scaled to its stored total where that one is usable, priced with
    the options its summary records, never fetching), with a note that says the stored
    figure was refused. A damaged block's market-based figure is not the run's either:
    it is left out. With the run's ``store``, it is priced from sums taken inside SQLite
    as ``report`` prices it (``records.run_sums.window_intervals``), and ``samples`` are
    read only where those cannot price it."""
    from wattwise.carbon.accounting import emissions_and_fetched
    from wattwise.carbon.repricing import reprice_options, started_with
    from wattwise.errors import WattwiseError
    from wattwise.records.run_sums import window_intervals
    from wattwise.records.stored_energy import unusable_emissions_note

    said = unusable_emissions_note(fault)
    em: dict[str, Any] | None = None
    try:
        pricing = reprice_options(record.summary, started=started_with(record))
        intervals = window_intervals(store, record, pricing, samples)
        live = pricing.source is None and pricing.options.provider is not None
        if intervals and not live:
            em = emissions_and_fetched(intervals, pricing.options,
                                       pricing.source)[0].to_dict(intervals=False)
    except (WattwiseError, ValueError, TypeError, KeyError):
        em = None
    if em is None:
        cells, why = _carbon_cells(None)
        why[0] = (why[0][0], f"{said}, and the run cannot be priced again here "
                  "(no counted sample, or a live intensity provider)")
        return cells, why
    if notes is not None:
        notes.append(f"{said}; CodeCarbon's emissions column is the run's energy priced "
                     "again as `wattwise report` prices it")
    em.pop("market_g", None)
    from wattwise.carbon.emissions import J_PER_KWH

    cells, why = _carbon_cells(em)
    energy = finite_float(em.get("energy_kwh"))  # what its energy columns are scaled to
    if energy is not None:
        cells["repriced_energy_j"] = energy * J_PER_KWH
    return cells, why


def facility_note(energy_j: float, pue: float) -> str:
    """Why CodeCarbon's energy columns of a run priced with a PUE other than 1 differ
    from the figure every other output gives: CodeCarbon multiplies each component's
    energy by the PUE as it measures (``energy *= self._pue`` in its tracker), so its
    ``energy_consumed`` and ``cpu/gpu/ram_energy`` (and powers) are the facility's."""
    return (f"CodeCarbon's energy and power columns are the facility's, as CodeCarbon "
            f"writes them (it multiplies each component's energy by the PUE): "
            f"energy_consumed is the run's {energy_j:.6g} J x PUE {pue:g} = "
            f"{energy_j * pue:.6g} J; the run's own figure is {energy_j:.6g} J")


#: Why the carbon cells of a run recorded without emissions stay empty.
_NOT_RECORDED = "the run was recorded without emissions (`wattwise report` prices it)"


def _carbon_cells(em: Any, summary: Any = None,
                  ) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """CodeCarbon's carbon and place cells from one run's emissions (an
    ``Emissions.to_dict()``; ``summary``, the stored one it is part of, where it is one),
    and ``(columns, why)`` for each that stays empty."""
    out: dict[str, Any] = {}
    why: list[tuple[tuple[str, ...], str]] = []
    grams = real(em.get("emissions_g")) if isinstance(em, dict) else None
    if not isinstance(em, dict) or grams is None:
        why.append((("emissions", "emissions_rate", "pue", "country_name", "country_iso_code",
                     "region"),
                    _NOT_RECORDED))
        return out, why
    out["emissions_kg"] = grams / 1000.0  # CodeCarbon: kg CO2eq
    facility = finite_float(em.get("facility_energy_kwh"))
    if facility is not None:  # energy_consumed gives it where the same (``same_kwh``)
        out["facility_energy_kwh"] = facility
    from wattwise.records.stored_market import market_fault

    market, fault = real(em.get("market_g")), market_fault(em.get("market_g"), summary)
    if em.get("market_g") is not None and fault is not None:  # no reading: "(-1 gCO2eq)"
        out["market_note"] = f"{fault} (CodeCarbon has no market-based column either)"
    elif market is not None:  # CodeCarbon has one emissions column: never dropped unsaid
        out["market_note"] = (
            f"the run's market-based figure ({market:.4g} gCO2eq) is left out: CodeCarbon's "
            "emissions column holds the location-based figure and it has no market-based "
            "column (`wattwise export -f json` and `wattwise show` give both)")
    pue = finite_float(em.get("pue"))  # 400 digits or an infinity: none, said
    if pue is not None:
        out["pue"] = pue
    else:
        why.append((("pue",), "no PUE was recorded with the run's emissions"
                    if em.get("pue") is None else "the recorded PUE is not a usable number"))
    from wattwise.carbon.zones import all_zones, grid_chain

    stored = em.get("zone")
    zone = all_zones().get(str(stored or ""))
    if zone is None or zone.kind == "world":
        why.append((("country_name", "country_iso_code", "region"),
                    "the run was priced at the world average (no usable zone recorded; "
                    "record with --zone to fill them)" if stored == "WORLD"
                    else "its emissions record no zone" if stored in (None, "")
                    else f"its emissions record a zone wattwise does not know "
                    f"({str(stored)[:40]!r})"))
        return out, why
    chain = grid_chain(zone)
    country = next((z for z in chain if z.kind == "country"), None)
    sub = next((z for z in chain if z.kind == "subnational"), None)
    if zone.kind == "cloud" and ":" in zone.name:
        out["cloud_provider"], out["cloud_region"] = zone.name.split(":", 1)
    alpha3 = next((a for a in (country.aliases if country else ()) if _is_alpha3(a)), None)
    if country is not None and country.name in _COUNTRIES:
        out["country_iso_code"], out["country_name"] = _COUNTRIES[country.name]
    elif country is not None and alpha3 is not None:  # the zone table's ISO 3166 code
        out["country_iso_code"], out["country_name"] = alpha3, country.label
    else:
        why.append((("country_name", "country_iso_code"),
                    f"the country of zone {zone.name} is not known to wattwise"))
    if sub is not None:
        out["region"] = sub.name  # a grid region (eGRID, ...), not a state name
    else:
        whole = "a whole country" if zone.kind != "cloud" else (
            "a cloud region in a whole country's grid"
            + (f" ({country.name})" if country is not None else ""))
        why.append((("region",), f"the run's zone {zone.name} is {whole} (CodeCarbon's "
                    "region is a state or province)"))
    return out, why


#: The CodeCarbon columns each stored field of a run gives (``RunInfo.damaged`` names).
_FROM_FIELD = {
    "hardware": ("cpu_model", "gpu_count", "gpu_model", "ram_total_size"),
    "versions": ("python_version",),
    "host": ("os", "python_version"),
}


def unreadable_columns(record: RunInfo) -> list[tuple[tuple[str, ...], str]]:
    """The columns left empty because the stored field they come from cannot be read (a
    damaged record; its own note says why), each with that reason: not "not measured or
    not recorded", as a CPU model that was recorded would otherwise be called."""
    from wattwise.records.stored_json import unreadable_said

    return [(columns, why) for name, columns in _FROM_FIELD.items()
            if (why := unreadable_said(record, name)) is not None]


def uncounted_columns(record: RunInfo) -> list[tuple[tuple[str, ...], str]]:
    """The component columns left empty because each of its domains lies inside another
    of the run's (not added to its total: a CPU package inside ``psys``), with that
    reason: not "not measured", which such a measured domain is not."""
    domains = record.summary.get("domains") if isinstance(record.summary, dict) else None
    if not isinstance(domains, list) or not all(isinstance(d, dict) for d in domains):
        return []
    out: list[tuple[tuple[str, ...], str]] = []
    for column in dict.fromkeys(CODECARBON_COMPONENT.values()):
        mine = [d for d in domains if CODECARBON_COMPONENT.get(str(d.get("component"))) == column]
        if mine and all(d.get("in_total") is False for d in mine):
            names = ", ".join(str(d.get("domain"))[:40] for d in mine[:5])
            out.append(((f"{column}_energy", f"{column}_power"),
                        f"its domain(s) {names} lie inside another domain of the run, not "
                        "added to its total: their energy is in energy_consumed through it"))
    return out


def real(value: Any) -> float | None:
    """A stored figure as a finite float, or None (an integer too large for a float too)."""
    from wattwise.records.stored_energy import finite_float

    return finite_float(value)


def run_end(record: RunInfo) -> tuple[float | None, list[str], str | None]:
    """The run's end as the ``timestamp`` cell writes it, as every output judges it: its
    recorded end; for a run without a usable one (``records.queries.end_fault``), its
    start plus its duration (``duration_s``: its summary's window, else to its last
    heartbeat, or to its last sample where the stored heartbeat is not usable,
    ``records.queries.heartbeat_fault``), never such an end or heartbeat itself (1e300,
    text, before its start). With the notes on a stored end or last heartbeat that is
    not usable (``carbon.stored_times.stored_time_notes``, in every output's words), and
    why the cell is empty where no end is known (None)."""
    from wattwise.carbon.stored_times import NO_PLAUSIBLE_SAMPLE, stored_time_notes

    ended = real(record.ended_unix_s)
    if ended is not None:
        return ended, [], None
    said = stored_time_notes(record)
    start, duration = real(record.started_unix_s), real(record.duration_s)
    if start is not None and duration is not None:
        return start + duration, said, None
    why = ("it has no recorded end nor duration" if not said
           else f"its stored last heartbeat is not usable and {NO_PLAUSIBLE_SAMPLE}"
           if getattr(record, "end_fault", None) is None
           else f"its stored end and last heartbeat are not usable and {NO_PLAUSIBLE_SAMPLE}")
    return None, said, f"the run's end is not known: {why}"


def same_kwh(kwh: float, priced: Any) -> float:
    """``kwh`` (the energy consumed, times PUE), or the run's emissions' own figure for it
    (``facility_energy_kwh``, which `report` and `export -f json` give) where the two
    agree within rounding (1e-9 of the larger): they were summed in another order, and a
    run without a summary read 7.207302551308689e-06 here beside 7.20730255130869e-06
    there."""
    from wattwise.carbon.emissions import saving_against

    if isinstance(priced, float) and math.isfinite(priced) \
            and saving_against(priced, kwh) == 0.0:
        return priced
    return kwh


def scaled_columns(energy_kwh: dict[str, float | None], total_j: float, exact: float | None,
                   factor: float, summary: Any, seen: Iterable[Any], notes: list[str] | None,
                   unknown: list[tuple[tuple[str, ...], str]],
                   known: dict[str, tuple[str, bool]] | None = None,
                   ) -> tuple[dict[str, float | None], float]:
    """The columns (kWh) and total (J) of ``export_codecarbon``, so emissions /
    energy_consumed is the intensity used; a stored 0 J too (every other output gives it).

    Where the ``summary``'s domains are a readable split of its usable total (``exact``;
    ``unsampled.readable_split``), each column is its component's domains' figures there:
    counters read at the run's ends, as ``show`` gives them. Split by the samples' shape,
    a GPU sampled twice in a run (NVML's counter is read every 5 s) had its 11084 J
    written as CPU and RAM energy, ten times theirs, and one with no sample all of it.
    Else the samples' shape (``energy_kwh``, of ``total_j``) scaled to ``exact``; where
    the split is not readable and names a domain no sample holds, no column can be told.
    Then the PUE ``factor``."""
    from wattwise.records.unsampled import readable_split, unreadable_unsampled

    seen = set(seen)
    split = None if summary is None or exact is None else readable_split(summary)
    if split is not None and exact is not None:
        out = _split_columns(split, energy_kwh, exact, seen, notes, known or {})
        return {k: None if v is None else v * factor for k, v in out.items()}, exact
    lost = [] if summary is None else unreadable_unsampled(summary, seen)
    if lost:  # no split to read, and some of it in no sample: no column can be told
        unknown.append((("cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy",
                         "ram_energy"),
                        f"{', '.join(lost[:5])} counted in the stored summary but in no "
                        "sample, and its domains are not a readable split of its total (a "
                        "domain listed twice, a figure not usable, or not adding up to it)"))
        return dict.fromkeys(energy_kwh), exact if exact is not None else total_j
    scale = 1.0
    if exact is not None and exact >= 0 and total_j > 0:
        scale, total_j = exact / total_j, exact
    return {k: None if v is None else v * scale * factor for k, v in energy_kwh.items()}, total_j


def _split_columns(split: list[tuple[dict[str, Any], float]], keys: Iterable[str],
                   total_j: float, seen: set[Any], notes: list[str] | None,
                   known: dict[str, tuple[str, bool]]) -> dict[str, float | None]:
    """``scaled_columns`` from the summary's split (kWh), scaled to ``total_j`` (a split
    within rounding of it, written as it was, missed it by up to 0.011 J): a component
    with no domain stays empty ("not measured" is not 0). A domain's component is its
    sensor's (``known``), as the samples are split, else the summary's, else its name's.
    Said: a domain without samples (its column takes the summary's figure), and one whose
    component has no column (in energy_consumed alone)."""
    from wattwise.carbon.emissions import J_PER_KWH
    from wattwise.records.export_values import component_of
    from wattwise.records.unsampled import unsampled_note

    out: dict[str, float | None] = dict.fromkeys(keys)
    placed: list[dict[str, Any]] = []
    homeless: list[dict[str, Any]] = []
    lone: list[dict[str, Any]] = []
    whole = sum(e for _, e in split)
    scale = total_j / whole if whole > 0 else 1.0
    for d, e in split:
        own, name = d.get("component"), str(d.get("domain"))
        # its sensor's (``component_of`` reads ``known`` first), else the summary's
        component = own if name not in known and isinstance(own, str) and own \
            else component_of(name, known)[0]
        row = {"domain": name, "component": component, "energy_j": e,
               "kind": str(d.get("kind") or "")}
        column = CODECARBON_COMPONENT.get(component)
        if column is not None:
            out[column] = (out[column] or 0.0) + e * scale / J_PER_KWH
        if row["domain"] not in seen:
            (placed if column is not None else homeless).append(row)
        elif column is None and e:
            lone.append(row)
    if notes is not None:
        for group, what in ((placed, "its column takes the summary's figure for it"
                             if len(placed) == 1 else
                             "their columns take the summary's figures for them"),
                            (homeless, "CodeCarbon has no column for its component: its "
                             "energy is in energy_consumed alone")):
            if group:
                notes.append(unsampled_note(group, total_j, what))
        if lone:
            said = fmt_energies(*(r["energy_j"] for r in lone[:5]))  # in one unit
            parts = ", ".join(f"{r['domain']} ({e}, {r['component']})"
                              for r, e in zip(lone[:5], said, strict=True))
            notes.append(f"{parts}: CodeCarbon has no column for "
                         f"{'its component' if len(lone) == 1 else 'their components'}: "
                         "in energy_consumed alone")
    return out
