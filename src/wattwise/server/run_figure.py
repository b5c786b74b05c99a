"""One run's power over time as a static SVG or PNG file (``wattwise report --svg/--png``).

It reads the same payloads the dashboard and the saved HTML report carry
(``server.data``: the record, windows, events, and the power timeline reduced
inside SQLite) and lays them out with ``plot.run``, so the figure, the page and
the report print the same numbers. Needs neither FastAPI nor uvicorn; a PNG needs
matplotlib, an SVG nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput
from wattwise.plot.figure import Figure
from wattwise.plot.render import need_matplotlib, png_bytes, to_svg
from wattwise.plot.run import RunTotal, W, layout
from wattwise.records.store import Store
from wattwise.server.data import run_payload, timeline_payload

#: Suffixes a run figure may be written as, and what each is.
FORMATS = {".svg": "SVG", ".png": "PNG"}


def run_figure(store: Store, ref: str | int, points: int = W - 100, *,
               total: RunTotal | None = None,
               emissions: dict[str, Any] | None = None) -> Figure:
    """The figure of run ``ref``: at most ``points`` points per domain (about one per
    pixel of the plot). ``total`` replaces the record's total in the title, as
    ``wattwise report`` passes the figure it printed; ``emissions`` (an
    ``Emissions.to_dict()`` with its ``intensity_used``) replaces the recorded pricing
    of the intensity and emissions curves, as ``wattwise report`` passes what it priced
    (the saved page's curves: ``server.report.run_report_html``)."""
    payload = run_payload(store, ref)
    run = payload["run"]
    timeline = timeline_payload(store, int(run["id"]), points, emissions=emissions)
    # every window's span (the payload lists only the first), drawn as at most
    # ``plot.run.MAX_DRAWN_BANDS`` bands
    spans = store.window_spans(int(run["id"]))
    return layout(run, timeline, spans, payload["events"], total=total)


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as ``svg`` or ``png`` bytes (a PNG needs matplotlib: one line if not)."""
    if fmt == "svg":
        return to_svg(fig).encode("utf-8")
    if fmt == "png":
        return png_bytes(fig)
    raise BadInput(f"a run figure is svg or png, not {fmt!r}")


def write_figure(fig: Figure, path: Path, fmt: str, what: str = "figure") -> Path:
    """Write the figure, whole or not at all (``whole_file``); a failed write (disk full,
    a race since the path was checked) is one line naming ``what`` and the path."""
    from wattwise.whole_file import write_whole

    data = figure_bytes(fig, fmt)
    try:
        write_whole(path, data)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot write {what} {path}: "
                       f"{getattr(exc, 'strerror', None) or exc}") from exc
    return Path(path)


#: What each output of ``report`` must be named (its format's own suffixes).
SUFFIXES = {"png": (".png",), "svg": (".svg",), "html": (".html", ".htm")}
_KINDS = {"png": "PNG", "svg": "SVG", "html": "HTML"}


def check_outputs(png: Path | None, svg: Path | None, *others: Path | None,
                  html: Path | None = None) -> None:
    """Refuse, before any work, what would fail or surprise after it: a name that does
    not end in its format's suffix (a ``.svg`` name for the PNG, or a ``.txt`` for any:
    one rule, as ``compress --plot``), one file named twice (with ``others``, the
    command's other outputs), and a PNG without matplotlib."""
    for path, fmt in ((png, "png"), (svg, "svg"), (html, "html")):
        if path is None:
            continue
        suffix = Path(path).suffix.lower()
        if suffix in SUFFIXES[fmt]:
            continue
        other = next((f for f, s in SUFFIXES.items() if suffix in s), None)
        if other is not None:
            raise BadInput(f"--{fmt} {path}: the name ends in {suffix}, but the file would "
                           f"be {_KINDS[fmt]}; name it .{fmt} (or use --{other})")
        raise BadInput(f"--{fmt} {path}: the name must end in "
                       f"{' or '.join(SUFFIXES[fmt])}, as the file is {_KINDS[fmt]}")
    named = [os.path.abspath(os.path.expanduser(p)) for p in (png, svg, html, *others)
             if p is not None]
    if len(set(named)) < len(named):
        raise BadInput("two outputs name the same file; give each its own")
    if png is not None:
        need_matplotlib()


def write_run_figures(store: Store, ref: str | int, *, png: Path | None = None,
                      svg: Path | None = None, report: dict[str, Any] | None = None,
                      emissions: dict[str, Any] | None = None) -> dict[str, str]:
    """Lay out run ``ref`` once and write it to each path given; ``report`` (what
    ``wattwise report`` printed, by its JSON names) gives the title's total, and
    ``emissions`` (what it priced, with the intensities it used) the curves of grid
    intensity and emissions. Returns ``{"png": path, "svg": path}`` for the files
    written."""
    wanted = [(path, fmt) for path, fmt in ((png, "png"), (svg, "svg")) if path is not None]
    if not wanted:
        return {}
    total = RunTotal.from_report(report) if report is not None else None
    fig = run_figure(store, ref, total=total, emissions=emissions)
    written = {}
    for path, fmt in wanted:
        write_figure(fig, path, fmt, f"--{fmt} file")
        written[fmt] = str(path)
    return written
