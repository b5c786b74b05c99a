"""Hourly (24/7) matching of a run's energy against a clean-supply profile.

Annual certificates say nothing about *when* clean power flowed. Hourly
matching does: for each step of the profile (an hour, usually), the energy the
run drew in that step is matched by the clean supply of that step, up to what
was supplied; the share matched over the run is the carbon-free-energy (CFE)
score as Google defines it for its 24/7 goal, and the unmatched rest is priced
at the grid's intensity at that time (the run's own interval intensities).

A profile is a CSV like the intensity traces: a time column (UTC, as in
``carbon.traces``) and one column of clean supply, as mean power (``clean_kw``,
``clean_mw``) or energy per step (``clean_kwh``, ``clean_mwh``). It is the
supply available to this load (a PPA's generation, scaled to the share
contracted for it).

Read as strictly as the traces: a header naming two supply columns (``clean_kw``
and ``clean_kwh``), a row with more or fewer cells than the header, a value
written with ``_`` or another script's digits, one time given twice with
different values, or a single row (the step, the time between rows, cannot be
told) are refused naming the line.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wattwise._userinput import shown
from wattwise.carbon.grams_span import grams_span, shown_bound, span_fault
from wattwise.errors import BadInput

#: Accepted supply columns -> (kW per unit, is the value energy per step).
SUPPLY_COLUMNS: dict[str, tuple[float, bool]] = {
    "clean_kw": (1.0, False), "supply_kw": (1.0, False), "generation_kw": (1.0, False),
    "clean_mw": (1000.0, False), "supply_mw": (1000.0, False), "generation_mw": (1000.0, False),
    "clean_kwh": (1.0, True), "supply_kwh": (1.0, True), "generation_kwh": (1.0, True),
    "clean_mwh": (1000.0, True), "supply_mwh": (1000.0, True), "generation_mwh": (1000.0, True),
}
#: Most clean power a profile may supply to one load, kW: 10 GW, more than the largest
#: power plants give; a larger figure is a unit mistake (Wh read as kWh, W as kW).
MAX_SUPPLY_KW = 1e7
#: Largest profile read: ten years of 1-minute rows fit.
MAX_PROFILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class SupplyProfile:
    """Clean energy supplied per step: ``[t_unix_s[i], t_unix_s[i+1])`` holds ``kwh[i]``;
    the last step lasts ``step_s``."""

    t_unix_s: np.ndarray
    kwh: np.ndarray
    step_s: float
    name: str
    notes: tuple[str, ...] = ()
    #: SHA-256 of the bytes read (``read_profile``): the content a run is priced with,
    #: hashed at the same moment, so a record never names another file's digest.
    sha256: str | None = None

    @property
    def ends(self) -> np.ndarray:
        return np.append(self.t_unix_s[1:], self.t_unix_s[-1] + self.step_s)

    def covers(self, start_unix_s: float, end_unix_s: float) -> bool:
        return bool(self.t_unix_s[0] <= start_unix_s and end_unix_s <= self.ends[-1])


def parse_profile(text: str, name: str = "<profile>") -> SupplyProfile:
    """A profile from CSV text; BadInput names the file and line on any fault."""
    from wattwise.carbon.traces import TIME_COLUMNS, clean_samples, parse_time

    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows, None)
        if not header:
            raise BadInput(f"{name}: empty file; expected a header like 'Time,clean_kw'")
        cols = [h.strip().lower() for h in header]
        t_cols = [i for i, c in enumerate(cols) if c in TIME_COLUMNS]
        v_cols = [i for i, c in enumerate(cols) if c in SUPPLY_COLUMNS]
        if not t_cols or not v_cols:
            raise BadInput(f"{name}: line 1: needs a time column and one of "
                           f"{', '.join(SUPPLY_COLUMNS)} (clean supply to this load)")
        for found, what in ((t_cols, "time"), (v_cols, "supply")):
            if len(found) > 1:  # which one holds the data would be a guess
                raise BadInput(f"{name}: line 1: the header has {len(found)} {what} columns "
                               f"({', '.join(shown(header[i].strip()) for i in found)}); "
                               "which one to read is unknown: keep one")
        t_col, v_col = t_cols[0], v_cols[0]
        unit = header[v_col].strip()
        per_kw, is_energy = SUPPLY_COLUMNS[cols[v_col]]
        times: list[float] = []
        values: list[float] = []
        seen: dict[float, tuple[int, str]] = {}
        for line, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):  # a cell lost or added shifts the others: refuse
                raise BadInput(f"{name}: line {line}: expected {len(header)} columns as in "
                               f"the header, got {len(row)}: {shown(row)}")
            when = parse_time(row[t_col], f"{name}: line {line}: time")
            cell = row[v_col]
            if "_" in cell or not cell.isascii():  # float() reads 1_0 as 10, ١ as 1
                raise BadInput(f"{name}: line {line}: supply {shown(cell)} is not a plain "
                               "number: write it with the digits 0-9 only (no '_', no other "
                               "scripts' digits)")
            try:
                value = float(cell)
            except ValueError:
                raise BadInput(f"{name}: line {line}: supply {shown(cell)} is not a "
                               "number") from None
            if not (math.isfinite(value) and value >= 0):
                raise BadInput(f"{name}: line {line}: supply {value:g} is not a finite value "
                               ">= 0")
            if when in seen and float(seen[when][1]) != value:
                raise BadInput(
                    f"{name}: line {seen[when][0]} and line {line} are both at {_iso(when)} "
                    f"but give different supply ({seen[when][1].strip()} and {cell.strip()} "
                    f"{unit}); keep the right one")
            seen.setdefault(when, (line, cell))
            times.append(when)
            values.append(value * per_kw)
    except csv.Error as exc:
        raise BadInput(f"{name}: not a readable CSV file ({exc})") from None
    if not times:
        raise BadInput(f"{name}: no data rows after the header")
    if len(seen) < 2:
        raise BadInput(f"{name}: one time only ({_iso(times[0])}): the step (the time between "
                       "rows) cannot be told, so neither can the span the profile covers; give "
                       "at least two rows")
    data = clean_samples(np.array(times), np.array(values), name)
    t, v = np.asarray(data.t_unix_s, dtype=float), np.asarray(data.g_per_kwh, dtype=float)
    ends = np.append(t[1:], t[-1] + data.step_s)
    kwh = v if is_energy else v * (ends - t) / 3600.0
    mean_kw = kwh / ((ends - t) / 3600.0)
    if np.any(mean_kw > MAX_SUPPLY_KW):
        i = int(np.flatnonzero(mean_kw > MAX_SUPPLY_KW)[0])
        raise BadInput(f"{name}: supply at {_iso(t[i])} averages {mean_kw[i]:.10g} kW over its "
                       f"{ends[i] - t[i]:g} s step, more than {MAX_SUPPLY_KW:,.0f} kW (10 GW, "
                       f"above any one supply contract); check the column's unit ({unit})")
    return SupplyProfile(t, np.asarray(kwh, dtype=float), data.step_s, name, data.notes)


def read_profile(path: str | Path) -> SupplyProfile:
    """A profile from a CSV file, with the SHA-256 of the bytes it was parsed from (read
    once); BadInput if it cannot be read."""
    import dataclasses
    import hashlib

    from wattwise._userinput import decode_text, read_user_file

    raw = read_user_file(path, "clean-supply profile", max_bytes=MAX_PROFILE_BYTES)
    profile = parse_profile(decode_text(raw, str(path)), Path(path).name)
    return dataclasses.replace(profile, sha256=hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class HourlyMatch:
    """A run's energy matched step by step against clean supply, with the rest's emissions."""

    facility_energy_kwh: float
    matched_kwh: float
    cfe_score: float
    unmatched_kwh: float
    unmatched_g: float
    unmatched_low_g: float
    unmatched_high_g: float
    location_g: float
    steps: int
    profile: str
    notes: tuple[str, ...] = ()
    method: str = ("hourly (24/7) matching: per profile step, matched = min(load, clean "
                   "supply); CFE score = matched / load; the unmatched rest at the grid's "
                   "intensity at that time")

    def to_dict(self) -> dict[str, Any]:
        """The match as stored; one read back from a damaged record, where ``lines`` says
        its range is not one, with ``unmatched_range_note`` saying why and its bounds as
        ``shown_bound`` gives them (a JSON output gave a 401-digit bound as a figure)."""
        d = asdict(self)
        d["notes"] = list(self.notes)
        lo, hi = self.unmatched_low_g, self.unmatched_high_g
        if not (lo is None and hi is None) and (
                fault := span_fault(lo, hi, self.unmatched_g)) is not None:
            d.update(unmatched_low_g=shown_bound(lo), unmatched_high_g=shown_bound(hi),
                     unmatched_range_note=fault)
        return d

    def lines(self, energy_kind: str = "", ranged: bool = True) -> list[str]:
        """The match in words, for a terminal; ``energy_kind``: measured or estimated;
        ``ranged`` False leaves the range out (as ``market.DualFigure.lines``)."""
        of = f"from {energy_kind} energy" if energy_kind else ""
        span = grams_span(self.unmatched_low_g, self.unmatched_high_g,
                          self.unmatched_g) if ranged else ""
        inside = ", ".join(x for x in (span, of) if x)
        return [
            f"  hourly matching ({self.profile}): CFE score {self.cfe_score:.1%} "
            f"({self.matched_kwh:.6g} of {self.facility_energy_kwh:.6g} kWh matched in "
            f"{self.steps} step(s)); unmatched {self.unmatched_kwh:.6g} kWh emit "
            f"{self.unmatched_g:.4g} gCO2eq{f' ({inside})' if inside else ''} at the grid's "
            "intensity then",
            *(f"  note: {n}" for n in self.notes),
        ]


def _pieces(
    emissions: Any, profile: SupplyProfile
) -> list[tuple[int, float, float, float, float, float]]:
    """Each interval cut at the profile's step edges: (step, mid, low, high kWh at the
    facility, intensity g/kWh, fraction of the interval), energy prorated by time."""
    starts, ends = profile.t_unix_s, profile.ends
    pue = float(emissions.pue)
    out = []
    for iv in emissions.intervals:
        a, b = iv.t_start_unix_s, iv.t_end_unix_s
        if b <= a:  # an instant: its energy falls in the step holding it
            k = int(np.searchsorted(starts, a, side="right")) - 1
            out.append((k, iv.energy_kwh * pue, iv.energy_low_kwh * pue,
                        iv.energy_high_kwh * pue, iv.intensity_g_per_kwh, 1.0))
            continue
        k0 = int(np.searchsorted(starts, a, side="right")) - 1
        k = k0
        while k < len(starts) and starts[k] < b:
            lo, hi = max(a, starts[k]), min(b, ends[k])
            if hi > lo:
                f = (hi - lo) / (b - a)
                out.append((k, iv.energy_kwh * pue * f, iv.energy_low_kwh * pue * f,
                            iv.energy_high_kwh * pue * f, iv.intensity_g_per_kwh, f))
            k += 1
    return out


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def match_hourly(emissions: Any, profile: SupplyProfile) -> HourlyMatch:
    """Match ``emissions`` (a ``carbon.emissions.Emissions``, its intervals) against
    ``profile``; BadInput if the profile does not cover the run.

    In step k the load is L_k (facility kWh) and the clean supply S_k; matched
    M_k = min(L_k, S_k), so a share m_k = M_k / L_k of each piece of energy in
    step k is matched. Unmatched emissions = Σ pieces kWh × (1 − m_k) × the
    piece's grid intensity. The low/high ends redo the matching with the
    energy's low and high ends.
    """
    ivs = emissions.intervals
    if not ivs:
        raise BadInput("the run has no energy intervals to match")
    start = min(i.t_start_unix_s for i in ivs)
    end = max(i.t_end_unix_s for i in ivs)
    if not profile.covers(start, end):
        raise BadInput(
            f"the clean-supply profile {profile.name} ({_iso(float(profile.t_unix_s[0]))} to "
            f"{_iso(float(profile.ends[-1]))}) does not cover the run ({_iso(start)} to "
            f"{_iso(end)})")
    pieces = _pieces(emissions, profile)
    n = len(profile.t_unix_s)

    def run(col: int) -> tuple[float, float, float]:
        load = np.zeros(n)
        for p in pieces:
            load[p[0]] += p[col]
        matched = np.minimum(load, profile.kwh)
        share = np.divide(matched, load, out=np.zeros(n), where=load > 0)
        g = math.fsum(p[col] * (1.0 - share[p[0]]) * p[4] for p in pieces)
        return float(load.sum()), float(matched.sum()), g

    total, matched, g = run(1)
    _, _, g_low = run(2)
    _, _, g_high = run(3)
    steps = len({p[0] for p in pieces})
    return HourlyMatch(
        facility_energy_kwh=total,
        matched_kwh=matched,
        cfe_score=matched / total if total > 0 else 0.0,
        unmatched_kwh=total - matched,
        unmatched_g=g,
        unmatched_low_g=min(g_low, g),
        unmatched_high_g=max(g_high, g),
        location_g=float(emissions.emissions_g),
        steps=steps,
        profile=profile.name,
        notes=profile.notes,
    )
