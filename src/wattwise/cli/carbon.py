"""``wattwise zones`` and ``wattwise intensity``: look up grid carbon intensity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wattwise.cli._common import console, die, guarded
from wattwise.cli.render import cell, safe
from wattwise.errors import WattwiseError


def zones_cmd(
    query: Annotated[str | None, typer.Argument(help="Filter by name, e.g. 'aws' or 'DE'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List zones (countries, grids, cloud regions) with their yearly intensity."""
    from wattwise.carbon.yearly import YearlySource
    from wattwise.carbon.zones import search_zones

    try:
        found = search_zones(query)
        if not found:
            raise WattwiseError(f"no zone matches {query!r} (run `wattwise zones` for all)")
        src = YearlySource()
        rows = []
        for z in found:
            i = src.intensity_at(z.name)
            rows.append({**z.to_dict(), **{k: v for k, v in i.to_dict().items() if k != "zone"}})
    except WattwiseError as exc:
        die(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("zone", "name", "gCO2eq/kWh", "year", "source", "note")
    for r in rows:
        table.add_row(
            cell(r["zone"]),
            cell(r["label"]),
            f"{r['intensity_g_per_kwh']:.0f}",
            cell(r["year"]),
            cell(r["source"], None),
            cell(r["note"], None),
        )
    console.print(table)


def intensity_cmd(
    zone: Annotated[str, typer.Argument(help="Zone, e.g. DE, US-SRVC, aws:eu-central-1.")],
    at: Annotated[
        str | None, typer.Option("--at", help="ISO 8601 time (UTC if no offset) or Unix "
                                   "seconds, from 1970 to 2200.")
    ] = None,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="CSV trace 'Time,Carbon Intensity'.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a zone's carbon intensity and where the figure comes from."""
    from wattwise.carbon.traces import SHIPPED, OutsideTrace, TraceSource, parse_time
    from wattwise.carbon.yearly import YearlySource
    from wattwise.carbon.zones import get_zone

    cleaning: list[str] = []
    try:
        name = get_zone(zone).name
        t = parse_time(at, "--at") if at is not None else None
        if trace is not None:
            if t is None:
                raise WattwiseError("--trace needs --at TIME")
            source = TraceSource.from_csv(trace, name)
            try:
                result = source.intensity_at(name, t)
            except OutsideTrace as exc:  # the Python keyword means nothing on the CLI
                die(f"--at {exc.what}; give an --at inside it, or drop --trace for the "
                    "zone's yearly average")
            cleaning = list(source.data.notes)  # sorted rows, merged duplicates: never silent
        elif t is not None and name in SHIPPED:
            result = TraceSource.for_zone(name, outside="yearly").intensity_at(name, t)
        else:
            result = YearlySource().intensity_at(name, t)
    except WattwiseError as exc:
        die(str(exc))
    if as_json:
        out = result.to_dict()
        if cleaning:
            out["trace_notes"] = cleaning
        typer.echo(json.dumps(out, indent=2))
        return
    from wattwise._userinput import format_time

    # The time as read, never the text as typed (a newline in it would split the line).
    when = f" at {format_time(t)}" if t is not None else ""
    console.print(
        f"{safe(result.zone)}{when}: {result.intensity_g_per_kwh:.1f} gCO2eq/kWh "
        f"({safe(result.kind)}; {safe(result.source, None)}"
        + (f", {safe(result.year)}" if result.year else "") + ")",
        markup=False,
        highlight=False,
    )
    for note in [result.note, *cleaning]:
        if note:
            console.print(f"note: {safe(note, None)}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``zones`` and ``intensity`` to the wattwise app."""
    app.command("zones")(guarded(zones_cmd))
    app.command("intensity")(guarded(intensity_cmd))
