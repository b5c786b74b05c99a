"""A run record as a row of CodeCarbon's ``emissions.csv``, for tools that read CodeCarbon.

The row takes its carbon and place columns from what was recorded with the run
(the stored summary's ``emissions``: grams, PUE, zone), unless given explicitly.
A value that is not known stays empty, never 0 (an empty cell says "not known",
a 0 would claim "none emitted"), and a note says why.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from wattwise.records.export_values import (
    cell,
    component_of,
    domain_components,
    in_window,
    not_finite,
    number_cell,
    partial,
    replaced_note,
)
from wattwise.records.store import RunInfo, SampleRow

__all__ = ["CODECARBON_COLUMNS", "export_codecarbon", "summarised_runs"]


#: CodeCarbon 3.x ``emissions.csv`` header, in its order: the fields of
#: ``codecarbon.output_methods.emissions_data.EmissionsData`` (checked against
#: codecarbon 3.3.2). Units as CodeCarbon: duration s, emissions kg CO2eq,
#: emissions_rate kg/s, power W, energy kWh, water L, RAM GB (GiB), pue/wue ratios.
CODECARBON_COLUMNS = (
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
)


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


_J_PER_KWH = 3.6e6


def _is_alpha3(alias: str) -> bool:
    return len(alias) == 3 and alias.isascii() and alias.isalpha() and alias.isupper()


_BYTES_PER_GIB = 1024**3


# wattwise components -> CodeCarbon's three columns; others count in the total only.
_CODECARBON_COMPONENT = {"cpu": "cpu", "gpu": "gpu", "dram": "ram", "memory": "ram"}


def _gpu_names(hardware: dict[str, Any]) -> list[str]:
    """GPU model names from ``hardware["gpus"]``: names, dicts with ``name``, or
    sensor descriptions holding a ``gpus`` list of such dicts."""
    names: list[str] = []
    for entry in hardware.get("gpus") or []:
        items = (
            entry["gpus"]
            if isinstance(entry, dict) and isinstance(entry.get("gpus"), list)
            else [entry]
        )
        for g in items:
            name = g.get("name") if isinstance(g, dict) else g
            if name not in (None, ""):
                names.append(str(name))
    return names


def _first(d: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if d.get(key) not in (None, ""):
            return d[key]
    return None


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


def _recorded_carbon(record: RunInfo) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """CodeCarbon's carbon and place cells from the emissions recorded with the run,
    and ``(columns, why)`` for each that stays empty. A summary record (a compression
    study or tuning) has no emissions of its own: the note names the runs that do."""
    summary = record.summary if isinstance(record.summary, dict) else {}
    cells, why = _carbon_cells(summary.get("emissions"))
    of = summarised_runs(summary)
    if of is not None and why and why[0][1] == _NOT_RECORDED:
        what, run_ids = of
        runs = "" if not run_ids else (
            f" (runs {', '.join(str(i) for i in run_ids[:10])}"
            + (f" and {len(run_ids) - 10} more" if len(run_ids) > 10 else "") + ")")
        parts = "settings" if what == "tuning" else "variants"
        why[0] = (why[0][0], f"the run is a {what} summary with no emissions of its own: "
                  f"its {parts}' runs carry them{runs}")
    return cells, why


def _partial_carbon(
    record: RunInfo, samples: Sequence[SampleRow], part: Any, notes: list[str] | None
) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """The carbon cells of a run without a summary: its partial energy priced as
    ``wattwise report`` prices it (``carbon.partial.partial_emissions``, the one figure
    ``show``, the dashboard and ``/metrics`` give: in the zone the run was started with;
    for a run recorded without one, the zone of ``$WATTWISE_ZONE`` or the config, else
    the world average), and a note that says so and where the zone came from."""
    from wattwise.carbon.partial import partial_emissions

    em = partial_emissions(record, samples, part)
    if em is None:
        return _carbon_cells(None)
    if notes is not None:
        why = "; ".join(n for n in em.get("notes") or [] if isinstance(n, str))
        notes.append(
            f"emissions priced now from the run's partial energy ({part.note}) at zone "
            f"{em.get('zone')} ({em.get('source')}), as `wattwise report` prices it"
            + (f": {why}" if why else ""))
    return _carbon_cells(em)


#: Why the carbon cells of a run recorded without emissions stay empty.
_NOT_RECORDED = "the run was recorded without emissions (`wattwise report` prices it)"


def _carbon_cells(em: Any) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
    """CodeCarbon's carbon and place cells from one run's emissions (an
    ``Emissions.to_dict()``), and ``(columns, why)`` for each that stays empty."""
    out: dict[str, Any] = {}
    why: list[tuple[tuple[str, ...], str]] = []
    if not isinstance(em, dict) or not isinstance(em.get("emissions_g"), (int, float)):
        why.append((("emissions", "emissions_rate", "pue", "country_name", "country_iso_code",
                     "region"),
                    _NOT_RECORDED))
        return out, why
    out["emissions_kg"] = float(em["emissions_g"]) / 1000.0  # CodeCarbon: kg CO2eq
    market = _real(em.get("market_g"))
    if market is not None:  # CodeCarbon has one emissions column: never dropped unsaid
        out["market_note"] = (
            f"the run's market-based figure ({market:.4g} gCO2eq) is left out: CodeCarbon's "
            "emissions column holds the location-based figure and it has no market-based "
            "column (`wattwise export -f json` and `wattwise show` give both)")
    if isinstance(em.get("pue"), (int, float)):
        out["pue"] = float(em["pue"])
    else:
        why.append((("pue",), "no PUE was recorded with the run's emissions"))
    from wattwise.carbon.zones import all_zones, grid_chain

    zone = all_zones().get(str(em.get("zone") or ""))
    if zone is None or zone.kind == "world":
        why.append((("country_name", "country_iso_code", "region"),
                    "the run was priced at the world average (no zone recorded; "
                    "record with --zone to fill them)"))
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
        why.append((("region",), f"the run's zone {zone.name} is a whole country "
                    "(CodeCarbon's region is a state or province)"))
    return out, why


def export_codecarbon(
    record: RunInfo,
    samples: Sequence[SampleRow] | None = None,
    *,
    emissions_kg: float | None = None,
    project_name: str | None = None,
    experiment_id: str | None = None,
    country_name: str | None = None,
    country_iso_code: str | None = None,
    region: str | None = None,
    cloud_provider: str | None = None,
    cloud_region: str | None = None,
    on_cloud: bool | None = None,
    longitude: float | None = None,
    latitude: float | None = None,
    pue: float | None = None,
    wue_l_per_kwh: float | None = None,
    tracking_mode: str = "machine",
    notes: list[str] | None = None,
) -> str:
    """One run as CodeCarbon's ``emissions.csv`` (header and one row).

    Energy per component comes from ``samples`` (the run's sample rows), grouped
    by the component of each domain as recorded in ``record.sensors`` (falling
    back to the domain prefix), skipping domains counted inside another
    (``in_total`` false, e.g. ``psys``). A component with no domain, or every
    energy cell when ``samples`` is None, stays empty. As in CodeCarbon 3.x,
    ``pue`` multiplies energies and powers. Power cells are averages over the
    run (energy / duration).
    Hardware cells read ``record.hardware`` keys ``cpu_model``, ``cpu_count``
    or ``logical_cpus``, ``gpu_model``/``gpu_count`` or ``gpus`` (see
    ``_gpu_names``), ``ram_total_gb`` (GiB), the exact ``ram_total_bytes`` or
    ``memory_bytes``, else the rounded ``memory_gb`` (GB); OS and Python from
    ``record.host``/``record.versions``. ``cpu_utilization_percent`` is the
    machine's busy CPU share over the run (see ``_cpu_utilization_percent``).
    The samples are first clipped to the run's measured window, and powers and
    ``emissions_rate`` divide by its duration (the summary's).
    Carbon and place cells not given come from the emissions recorded with the
    run (``record.summary["emissions"]``: grams as kg, its PUE, its zone as
    ISO-3 country, region and cloud region); water cells stay empty unless
    given. Every cell left empty is named, with why, in ``notes``. When the run's
    summary holds its exact ``energy_j``, the sample sums are scaled to it (the
    figure its emissions were computed from). A sample whose energy
    is missing or not finite is left out of the sums, and a cell that is not a
    finite number is empty; both are said in ``notes``.
    """
    part = None
    if not isinstance(record.summary, dict) and samples is not None:
        part = partial(record, samples)
    if part is not None:  # priced now from its partial energy, as `wattwise report` does
        recorded, unknown = _partial_carbon(record, samples or [], part, notes)
    else:
        recorded, unknown = _recorded_carbon(record)
    if emissions_kg is None:
        emissions_kg = recorded.get("emissions_kg")
        if notes is not None and recorded.get("market_note"):
            notes.append(recorded["market_note"])
    if pue is None:
        pue = recorded.get("pue")
    if country_name is None and country_iso_code is None:
        country_name = recorded.get("country_name")
        country_iso_code = recorded.get("country_iso_code")
    if region is None:
        region = recorded.get("region")
    if cloud_provider is None and cloud_region is None:
        cloud_provider = recorded.get("cloud_provider")
        cloud_region = recorded.get("cloud_region")
    duration_s = record.duration_s  # the measured window's (the summary's), as everywhere
    end_unix_s = record.ended_unix_s
    if end_unix_s is None:
        end_unix_s = record.heartbeat_unix_s or record.started_unix_s
    factor = 1.0 if pue is None else float(pue)

    energy_kwh: dict[str, float | None] = {"cpu": None, "gpu": None, "ram": None}
    total_kwh: float | None = None
    if samples is not None:
        samples, _ = in_window(record, samples)  # the run's part of its edge samples
        known = domain_components(record)
        # A component with no domain stays empty: "not measured" is not 0.
        total_j = 0.0
        skipped: list[tuple[str, Any]] = []
        for i, s in enumerate(samples):
            component, in_total = component_of(s.domain, known)
            if not in_total:
                continue
            if number_cell(s.energy_j, f"samples[{i}].energy_j", skipped) == "":
                continue
            total_j += s.energy_j
            column = _CODECARBON_COMPONENT.get(component)
            if column is not None:
                energy_kwh[column] = (energy_kwh[column] or 0.0) + s.energy_j / _J_PER_KWH
        # The samples' shape, scaled to the run's exact energy (counters read at its
        # start and end), which its emissions were computed from: so emissions /
        # energy_consumed is the intensity used.
        exact = (record.summary if isinstance(record.summary, dict) else {}).get("energy_j")
        if part is not None:  # the figure every output gives a run without a summary
            exact = part.energy_j
        scale = 1.0
        if (isinstance(exact, (int, float)) and not isinstance(exact, bool)
                and math.isfinite(exact) and exact > 0 and total_j > 0):
            scale, total_j = exact / total_j, float(exact)
        energy_kwh = {
            k: None if v is None else v * scale * factor for k, v in energy_kwh.items()
        }
        total_kwh = total_j / _J_PER_KWH * factor
        if skipped and notes is not None:
            notes.append(replaced_note(skipped, "nothing (left out of the energy sums)"))

    def power_w(kwh: float | None) -> float | None:
        if kwh is None or not duration_s:
            return None
        return kwh * _J_PER_KWH / duration_s

    hardware = record.hardware or {}
    host = record.host or {}
    gpu_names = _gpu_names(hardware)
    gpu_count = _first(hardware, "gpu_count")
    if gpu_count is None and gpu_names:
        gpu_count = len(gpu_names)
    gpu_model = _first(hardware, "gpu_model")
    if gpu_model is None and gpu_names:
        gpu_model = ", ".join(f"{gpu_names.count(n)} x {n}" for n in dict.fromkeys(gpu_names))
    ram_gib = _first(hardware, "ram_total_gb")
    ram_bytes = _first(hardware, "ram_total_bytes", "memory_bytes")  # exact, where recorded
    if ram_gib is None and _real(ram_bytes) is not None:
        ram_gib = float(ram_bytes) / _BYTES_PER_GIB
    if ram_gib is None and _first(hardware, "memory_gb") is not None:
        ram_gib = float(hardware["memory_gb"]) * 1e9 / _BYTES_PER_GIB  # decimal GB -> GiB
    os_name = _first(host, "platform")
    if os_name is None and _first(host, "os") is not None:
        os_name = "-".join(str(host[k]) for k in ("os", "os_release") if host.get(k))
    cpu_percent, why_no_cpu = _cpu_utilization_percent(record, hardware, duration_s)
    if why_no_cpu:
        unknown.append((("cpu_utilization_percent",), why_no_cpu))
    water_l = None
    if wue_l_per_kwh is not None and total_kwh is not None:
        water_l = total_kwh * wue_l_per_kwh
    if on_cloud is None and cloud_provider:
        on_cloud = True

    try:
        timestamp = datetime.fromtimestamp(end_unix_s).strftime("%Y-%m-%dT%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):  # no time a calendar holds
        timestamp = None
    row: dict[str, Any] = {
        "timestamp": timestamp,
        "project_name": project_name or (record.tags or {}).get("project") or record.name,
        "run_id": record.id,
        "experiment_id": experiment_id,
        "duration": duration_s,
        "emissions": emissions_kg,
        "emissions_rate": (
            emissions_kg / duration_s if emissions_kg is not None and duration_s else None
        ),
        "cpu_power": power_w(energy_kwh["cpu"]),
        "gpu_power": power_w(energy_kwh["gpu"]),
        "ram_power": power_w(energy_kwh["ram"]),
        "cpu_energy": energy_kwh["cpu"],
        "gpu_energy": energy_kwh["gpu"],
        "ram_energy": energy_kwh["ram"],
        "energy_consumed": total_kwh,
        "water_consumed": water_l,
        "country_name": country_name,
        "country_iso_code": country_iso_code,
        "region": region,
        "cloud_provider": cloud_provider,
        "cloud_region": cloud_region,
        "os": os_name,
        "python_version": _first(record.versions or {}, "python") or _first(host, "python"),
        "codecarbon_version": None,
        "cpu_count": _first(hardware, "cpu_count", "logical_cpus"),
        "cpu_model": _first(hardware, "cpu_model"),
        "gpu_count": gpu_count,
        "gpu_model": gpu_model,
        "longitude": longitude,
        "latitude": latitude,
        "ram_total_size": ram_gib,
        "tracking_mode": tracking_mode,
        "cpu_utilization_percent": cpu_percent,
        "gpu_utilization_percent": None,
        "ram_utilization_percent": None,
        "ram_used_gb": None,
        "on_cloud": None if on_cloud is None else ("Y" if on_cloud else "N"),
        "pue": pue,
        "wue": wue_l_per_kwh,
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CODECARBON_COLUMNS)
    writer.writerow([cell(row[c]) for c in CODECARBON_COLUMNS])
    empty = [(c, row[c]) for c in CODECARBON_COLUMNS if not_finite(row[c])]
    if empty and notes is not None:
        notes.append(replaced_note(empty, "empty cells"))
    if notes is not None:
        notes.extend(_empty_notes(row, unknown))
    return buf.getvalue()


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _cpu_utilization_percent(
    record: RunInfo, hardware: dict[str, Any], duration_s: float | None
) -> tuple[float | None, str | None]:
    """CodeCarbon's ``cpu_utilization_percent``: the machine's CPU use over the run, in %.

    CodeCarbon averages ``psutil.cpu_percent()`` (every CPU of the machine, 0-100)
    over its measurements; the same share here is the busy CPU-seconds recorded
    with the run's attribution over its logical CPUs times its duration. Empty,
    with why, where one of them was not recorded.
    """
    summary = record.summary if isinstance(record.summary, dict) else {}
    att = summary.get("attribution")
    busy = _real(att.get("machine_busy_cpu_s")) if isinstance(att, dict) else None
    cpus = _real(_first(hardware, "cpu_count", "logical_cpus"))
    if busy is None:
        return None, ("no busy CPU time was recorded with the run (it measured no process "
                      "tree)")
    if cpus is None or cpus <= 0 or not duration_s:
        return None, "the run's CPU count or duration was not recorded"
    return min(100.0, max(0.0, busy / (cpus * duration_s) * 100.0)), None


def _empty_notes(row: dict[str, Any], unknown: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """One line per reason a CodeCarbon cell is empty: no empty cell goes unsaid."""
    blank = {c for c in CODECARBON_COLUMNS if cell(row[c]) in ("", None)}
    out: list[str] = []
    said: set[str] = set()
    for columns, why in unknown:
        cols = [c for c in columns if c in blank and c not in said]
        if cols:
            out.append(f"CodeCarbon column(s) {', '.join(cols)} left empty: {why}")
            said.update(cols)
    rest = [c for c in CODECARBON_COLUMNS if c in blank and c not in said]
    if rest:
        out.append(
            f"CodeCarbon column(s) {', '.join(rest)} left empty: not measured or not "
            "recorded with this run"
        )
    return out
