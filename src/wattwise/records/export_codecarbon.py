"""A run record as a row of CodeCarbon's ``emissions.csv``, for tools that read CodeCarbon.

The row takes its carbon and place columns from what was recorded with the run
(the stored summary's ``emissions``: grams, PUE, zone), unless given explicitly.
A value that is not known stays empty, never 0 (an empty cell says "not known",
a 0 would claim "none emitted"), and a note says why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wattwise.carbon.accounting import not_numbers_note, usable_energy
from wattwise.records.codecarbon_cells import (
    CODECARBON_COMPONENT,
    facility_note,
    no_carbon,
    partial_carbon,
    real,
    recorded_carbon,
    repriced_carbon,
    run_end,
    same_kwh,
    scaled_columns,
    summarised_runs,
    uncounted_columns,
    unreadable_columns,
)
from wattwise.records.codecarbon_cpu import cpu_cells
from wattwise.records.export_values import (
    ClippedStream,
    FewReplaced,
    cell,
    clip_sorted,
    component_of,
    domain_components,
    kind_notes,
    not_finite,
    partial,
    replaced_note,
    stored_partial,
    stored_samples,
)
from wattwise.records.run_notes import RECORDING, gap_count, no_figure_notes
from wattwise.records.store import RunInfo, SampleRow
from wattwise.records.stored_energy import summary_emissions_fault

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


_J_PER_KWH = 3.6e6

_BYTES_PER_GIB = 1024**3


# wattwise components -> CodeCarbon's three columns; others count in the total only.


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


def export_codecarbon(
    record: RunInfo,
    samples: Iterable[SampleRow] | None = None,
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
    store: Any = None,
) -> str:
    """One run as CodeCarbon's ``emissions.csv`` (header and one row).

    Energy per component comes from ``samples`` (the run's sample rows), grouped
    by the component of each domain as recorded in ``record.sensors`` (falling
    back to the domain prefix), skipping domains counted inside another
    (``in_total`` false, e.g. ``psys``). A component with no domain, or every
    energy cell when ``samples`` is None, stays empty. As in CodeCarbon 3.x,
    ``pue`` multiplies energies and powers (facility energy), and a note says so
    (``facility_note``). Power cells are averages over the run (energy / duration).
    Hardware cells read ``record.hardware`` keys ``cpu_model``, ``cpu_count``
    or ``logical_cpus``, ``gpu_model``/``gpu_count`` or ``gpus`` (see
    ``_gpu_names``), ``ram_total_gb`` (GiB), the exact ``ram_total_bytes`` or
    ``memory_bytes``, else the rounded ``memory_gb`` (GB); OS and Python from
    ``record.host``/``record.versions``. ``cpu_utilization_percent`` is the
    machine's busy CPU share over the run (``records.codecarbon_cpu.cpu_cells``).
    The samples are first clipped to the run's measured window, and powers and
    ``emissions_rate`` divide by its duration (the summary's).
    Carbon and place cells not given come from the emissions recorded with the
    run (``record.summary["emissions"]``: grams as kg, its PUE, its zone as
    ISO-3 country, region and cloud region); water cells stay empty unless
    given. Every cell left empty is named, with why, in ``notes``. When the run's
    summary holds its exact ``energy_j``, the sample sums are scaled to it (the
    figure its emissions were computed from); a stored total that is not usable
    (``records.stored_energy``) is not: the samples' own sums are written and a note
    says so, and a run with neither has its energy cells empty, never 0. A sample whose energy
    is missing or not finite is left out of the sums, and a cell that is not a
    finite number is empty; both are said in ``notes``.
    Stored emissions that are not usable (``records.stored_energy``:
    ``summary_emissions_fault``) are not written: the run is priced again from its
    samples as ``wattwise report`` prices it, and a note says so.
    With the run's ``store`` (``records.store.Store``) and no ``samples``, the samples are
    read from it a chunk at a time and a run without a summary is priced from sums taken
    inside SQLite, as ``wattwise report`` prices it: a run of any size in bounded memory.
    """
    part = None
    rows: list[SampleRow] = []
    stream: ClippedStream | None = None
    priced: dict[str, Any] | None = None
    if store is not None and samples is None:
        stream = stored_samples(store, record)
        part, priced = stored_partial(store, record)
    elif samples is not None:
        rows = list(samples)
        stream = ClippedStream(record, [clip_sorted(record, rows)])
        if not isinstance(record.summary, dict):
            part = partial(record, rows)
    void = None  # a summarised run repriced from samples that sum past the bound
    if part is None and store is not None and samples is None:
        from wattwise.records.run_sums import samples_sum_note

        void = samples_sum_note(store, record)
    if void is None and part is None and (said := no_figure_notes(record, None, gap_count(
            store, record, None if samples is None and store is not None else rows))):
        void = said[0] if said[0].startswith(RECORDING) else f"{said[0]} to price"
    if void is not None or (part is None and not isinstance(record.summary, dict)):
        recorded, unknown = no_carbon(void)  # damaged, or no summary nor counted sample
    elif part is not None:  # priced now from its partial energy, as `wattwise report` does
        recorded, unknown = partial_carbon(record, rows, part, notes, priced=priced,
                                           stored=store is not None and samples is None)
    else:
        recorded, unknown = recorded_carbon(record)
        fault = summary_emissions_fault(record.summary)
        if fault is not None:  # damaged: priced again, as `wattwise report` prices it
            source = rows if store is None or samples is not None else (
                s for chunk in store.sample_chunks(record.id) for s in chunk)
            recorded, unknown = repriced_carbon(
                record, source, fault, notes, store=store if samples is None else None)
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
    end_unix_s, said, no_end = run_end(record)  # never a stored heartbeat not usable
    if notes is not None:
        notes.extend(n for n in said if n not in notes)
    if no_end is not None:
        unknown.append((("timestamp", "duration"), no_end))
    factor = 1.0 if pue is None else float(pue)

    energy_kwh: dict[str, float | None] = {"cpu": None, "gpu": None, "ram": None}
    total_kwh: float | None = None
    if stream is not None:  # the run's part of its edge samples (clipped to its window)
        known = domain_components(record)
        # A component with no domain stays empty: "not measured" is not 0.
        total_j, counted = 0.0, 0
        seen: set[Any] = set()
        skipped: list[tuple[str, Any]] = FewReplaced()
        if store is not None and samples is None and stream.window is None:
            # nothing to clip: the same sums, taken inside SQLite (to rounding)
            total_j, counted = _summed_in_sqlite(store, record.id, known, energy_kwh, skipped,
                                                 seen)
            stream = None
        for i, s in enumerate(stream or ()):
            seen.add(s.domain)
            component, in_total = component_of(s.domain, known)
            if not in_total:
                continue
            if usable_energy(s.energy_j, s.low_j, s.high_j) is None:
                skipped.append((f"samples[{i}].energy_j", s.energy_j))
                continue
            total_j += s.energy_j
            counted += 1
            column = CODECARBON_COMPONENT.get(component)
            if column is not None:
                energy_kwh[column] = (energy_kwh[column] or 0.0) + s.energy_j / _J_PER_KWH
        exact, fault = _stored_total(record)
        if fault is not None:  # report's figure, clipped to the run (not every sample)
            exact = recorded.get("repriced_energy_j")
        if part is not None:  # the figure every output gives a run without a summary
            exact, fault = part.energy_j, None
        energy_kwh, total_j = scaled_columns(energy_kwh, total_j, exact, factor, None if (
            part or void or fault) else record.summary, seen, notes, unknown, known)
        total_kwh = _consumed_kwh(exact, fault, total_j, counted, [] if void else unknown,
                                  None if void is not None else notes)
        if total_kwh is not None:
            total_kwh = same_kwh(total_kwh * factor, recorded.get("facility_energy_kwh"))
        if skipped and notes is not None:
            notes.append(not_numbers_note(skipped, total_j))
        damaged = void if part is None or part.usable else part.fault
        if damaged is not None:  # a damaged record: no figure, its note says why
            energy_kwh = dict.fromkeys(energy_kwh)
            total_kwh = None
            unknown.append((_ENERGY_COLUMNS, damaged))
        if total_kwh is not None and factor != 1.0 and notes is not None:
            notes.append(facility_note(total_kwh * _J_PER_KWH / factor, factor))

    def power_w(kwh: float | None) -> float | None:
        return None if kwh is None or not duration_s else kwh * _J_PER_KWH / duration_s

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
    if ram_gib is None and real(ram_bytes) is not None:
        ram_gib = float(ram_bytes) / _BYTES_PER_GIB
    if ram_gib is None and _first(hardware, "memory_gb") is not None:
        ram_gib = float(hardware["memory_gb"]) * 1e9 / _BYTES_PER_GIB  # decimal GB -> GiB
    os_name = _first(host, "platform")
    if os_name is None and _first(host, "os") is not None:
        os_name = "-".join(str(host[k]) for k in ("os", "os_release") if host.get(k))
    cpu = cpu_cells(record, duration_s)
    unknown.extend([*cpu.unknown, *unreadable_columns(record), *uncounted_columns(record)])
    if cpu.note is not None and notes is not None:
        notes.append(cpu.note)
    water_l = None
    if wue_l_per_kwh is not None and total_kwh is not None:
        water_l = total_kwh * wue_l_per_kwh
    if on_cloud is None and cloud_provider:
        on_cloud = True

    try:
        timestamp = None if end_unix_s is None else \
            datetime.fromtimestamp(end_unix_s).strftime("%Y-%m-%dT%H:%M:%S")
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
        "cpu_count": cpu.cpus,
        "cpu_model": _first(hardware, "cpu_model"),
        "gpu_count": gpu_count,
        "gpu_model": gpu_model,
        "longitude": longitude,
        "latitude": latitude,
        "ram_total_size": ram_gib,
        "tracking_mode": tracking_mode,
        "cpu_utilization_percent": cpu.percent,
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
        notes.extend(kind_notes(record, part))
    return buf.getvalue()



def _summed_in_sqlite(
    store: Any, run_id: int, known: dict[str, tuple[str, bool]],
    energy_kwh: dict[str, float | None], skipped: list[tuple[str, Any]], seen: set[Any],
) -> tuple[float, int]:
    """The sums ``export_codecarbon`` takes of a run's samples sample by sample, taken per
    domain inside SQLite (``Store.domain_energy_sums``) for a run whose samples need no
    clipping: the counted energy and samples, each component's energy added into
    ``energy_kwh``, and the energies that are not finite numbers into ``skipped`` (the
    first few named by their sample's index, the rest counted)."""
    total_j, counted, bad = 0.0, 0, 0
    bad_domains: list[Any] = []
    for domain, (sum_j, n, not_numbers) in sorted(
            store.domain_energy_sums(run_id).items(), key=lambda kv: str(kv[0])):
        component, in_total = component_of(domain, known)
        seen.add(domain)
        if not in_total:
            continue
        if not_numbers:
            bad += not_numbers
            bad_domains.append(domain)
        if not n:
            continue
        total_j += sum_j
        counted += n
        column = CODECARBON_COMPONENT.get(component)
        if column is not None:
            energy_kwh[column] = (energy_kwh[column] or 0.0) + sum_j / _J_PER_KWH
    if bad:
        from wattwise.records.export_values import NOTE_PATHS

        named = store.bad_energy_rows(run_id, bad_domains, NOTE_PATHS)
        for i, value in named:
            skipped.append((f"samples[{i}].energy_j", value))
        if isinstance(skipped, FewReplaced):
            skipped.more += bad - len(named)
    return total_j, counted


#: The columns that carry the run's energy (all from the same sums).
_ENERGY_COLUMNS = ("energy_consumed", "cpu_energy", "gpu_energy", "ram_energy", "cpu_power",
                   "gpu_power", "ram_power")


def _stored_total(record: RunInfo) -> tuple[float | None, str | None]:
    """The run's stored total energy where it is usable, else None and what is wrong
    with it (``records.stored_energy.summary_energy_fault``: null, text, not finite,
    negative, implausibly large, outside its own range); (None, None) where none is stored."""
    from wattwise.records.stored_energy import summary_energy_fault

    summary = record.summary if isinstance(record.summary, dict) else {}
    fault = summary_energy_fault(summary)
    if fault is not None:
        return None, fault
    e = summary.get("energy_j")
    return (None, None) if e is None else (float(e), None)


def _consumed_kwh(
    exact: float | None, fault: str | None, total_j: float, counted: int,
    unknown: list[tuple[tuple[str, ...], str]], notes: list[str] | None,
) -> float | None:
    """``energy_consumed`` in kWh (before PUE): the run's total, or where its stored
    total is not usable the sum of its ``counted`` samples (``total_j``), said in
    ``notes``; None, with why in ``unknown``, where there is neither: never a 0 the
    run does not have."""
    if counted:
        if fault is not None and notes is not None:
            notes.append(f"the stored energy is not usable: {fault}: a damaged record; "
                         "the energy and power columns are its samples' energy, clipped "
                         f"to the run as `wattwise report` gives it ({total_j:.6g} J), "
                         "instead")
        return total_j / _J_PER_KWH
    if exact is not None:  # no sample to split it by component: those cells stay empty
        unknown.append((_ENERGY_COLUMNS[1:], "the run has no energy samples to split its "
                        "stored total by component"))
        return exact / _J_PER_KWH
    why = ("the run has no energy samples" if fault is None else
           f"the stored energy is not usable: {fault}: a damaged record, and the run has "
           "no energy samples to sum instead")
    unknown.append((_ENERGY_COLUMNS, why))
    return None


def _empty_notes(row: dict[str, Any], unknown: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """One line per reason a CodeCarbon cell is empty: no empty cell goes unsaid."""
    blank = {c for c in CODECARBON_COLUMNS if cell(row[c]) in ("", None)}
    said: set[str] = set()
    by_why: dict[str, list[str]] = {}  # one line per reason, however many cells it empties
    for columns, why in unknown:
        by_why.setdefault(why, []).extend(c for c in columns if c in blank and c not in said)
        said.update(columns)
    out = [f"CodeCarbon column(s) {', '.join(cols)} left empty: {why}"
           for why, cols in by_why.items() if cols]
    rest = [c for c in CODECARBON_COLUMNS if c in blank and c not in said]
    if rest:
        out.append(
            f"CodeCarbon column(s) {', '.join(rest)} left empty: not measured or not "
            "recorded with this run"
        )
    return out
