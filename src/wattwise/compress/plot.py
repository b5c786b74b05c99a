"""The Pareto front as a plot: SVG written directly, PNG only if matplotlib is installed.

x is energy per sample (J, log scale when it spans more than a decade), y is
quality; every successful variant is a point with its label, the front is a
line, the recommended variant is ringed, and the quality floor is a dashed
line. Error bars show the 95 % interval of J/sample over repetitions.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

from wattwise.compress.study import Study
from wattwise.errors import BadInput

W, H = 720, 460
ML, MR, MT, MB = 80, 170, 40, 60


def _scale(lo: float, hi: float, log: bool, a: float, b: float):  # type: ignore[no-untyped-def]
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5

    def f(v: float) -> float:
        x = math.log10(v) if log else v
        return a + (x - lo) / (hi - lo) * (b - a)

    return f, lo, hi


def render_svg(study: Study, max_loss: float | None = 1.0, floor: float | None = None) -> str:
    """The plot as an SVG document."""
    ok = [v for v in study.variants if v.status == "ok" and v.energy_j_per_sample is not None]
    if not ok:
        raise BadInput("nothing to plot: no variant was benchmarked successfully")
    es: list[float] = [float(v.energy_j_per_sample or 0.0) for v in ok]
    lows = [v.bench.energy_j_per_sample.low for v in ok if v.bench is not None]
    highs = [v.bench.energy_j_per_sample.high for v in ok if v.bench is not None]
    qs: list[float] = [float(v.quality) for v in ok if v.quality is not None]
    if len(qs) != len(ok):
        raise BadInput("nothing to plot: a benchmarked variant has no quality figure")
    limit = study.floor(max_loss, floor)
    e_lo = min(x for x in [*lows, *es] if x > 0) if any(x > 0 for x in es) else 1e-9
    e_hi = max([*highs, *es])
    log = e_hi / e_lo > 10
    pad = (e_hi - e_lo) * 0.08 if not log else 0
    fx, _, _ = _scale(max(e_lo - pad, e_lo * 0.5 if not log else e_lo / 1.3),
                      e_hi + pad if not log else e_hi * 1.3, log, ML, W - MR)
    q_all = [*qs, *([limit] if limit is not None else [])]
    q_lo, q_hi = min(q_all), max(q_all)
    q_pad = max((q_hi - q_lo) * 0.1, 0.05)
    fy, _, _ = _scale(q_lo - q_pad, q_hi + q_pad, False, H - MB, MT)
    front = study.front()
    rec = study.recommend(max_loss, floor)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(study.task)}: {escape(study.quality_name)} vs energy per sample</title>",
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<line x1="{ML}" y1="{H - MB}" x2="{W - MR}" y2="{H - MB}" stroke="black"/>',
        f'<line x1="{ML}" y1="{MT}" x2="{ML}" y2="{H - MB}" stroke="black"/>',
        f'<text x="{(ML + W - MR) / 2}" y="{H - 15}" text-anchor="middle">energy per sample '
        f'(J{", log scale" if log else ""}; {escape(ok[0].bench.kind)})</text>',
        f'<text x="18" y="{(MT + H - MB) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {(MT + H - MB) / 2})">{escape(_axis_label(study))}</text>',
        f'<text x="{ML}" y="22" font-weight="bold">{escape(study.task)}: Pareto front</text>',
    ]
    for v in (e_lo, e_hi):
        out.append(f'<text x="{fx(v):.1f}" y="{H - MB + 16}" text-anchor="middle">{v:.3g}</text>')
    for v in (min(qs), max(qs)):
        out.append(f'<text x="{ML - 6}" y="{fy(v) + 4:.1f}" text-anchor="end">{v:.4g}</text>')
    if limit is not None:
        y = fy(limit)
        out.append(f'<line class="floor" x1="{ML}" y1="{y:.1f}" x2="{W - MR}" y2="{y:.1f}" '
                   f'stroke="#c33" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{W - MR + 4}" y="{y + 4:.1f}" fill="#c33">floor {limit:.4g}</text>')
    if len(front) > 1:
        pts = " ".join(f"{fx(v.energy_j_per_sample):.1f},{fy(v.quality):.1f}" for v in front)
        out.append(f'<polyline class="front" points="{pts}" fill="none" stroke="#1f77b4" '
                   f'stroke-width="1.5"/>')
    on_front = {v.label for v in front}
    for v in ok:
        x, y = fx(v.energy_j_per_sample), fy(v.quality)
        s = v.bench.energy_j_per_sample
        if s.n > 1 and s.high > s.low > 0:
            out.append(f'<line x1="{fx(s.low):.1f}" y1="{y:.1f}" x2="{fx(s.high):.1f}" '
                       f'y2="{y:.1f}" stroke="#888"/>')
        color = "#1f77b4" if v.label in on_front else "#999"
        out.append(f'<circle class="point" data-label="{escape(v.label)}" cx="{x:.1f}" '
                   f'cy="{y:.1f}" r="5" fill="{color}"/>')
        if rec is not None and v.label == rec.label:
            out.append(f'<circle class="recommended" cx="{x:.1f}" cy="{y:.1f}" r="10" '
                       f'fill="none" stroke="#2a2" stroke-width="2"/>')
        out.append(f'<text x="{x + 8:.1f}" y="{y - 8:.1f}">{escape(v.label)}</text>')
    failed = [v for v in study.variants if v.status != "ok"]
    for i, v in enumerate(failed):
        out.append(f'<text x="{W - MR + 4}" y="{MT + 16 * (i + 1)}" fill="#a00">failed: '
                   f'{escape(v.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_plot(study: Study, path: Path, max_loss: float | None = 1.0,
               floor: float | None = None) -> Path:
    """Write the plot; ``.svg`` always works, ``.png`` needs matplotlib."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(render_svg(study, max_loss, floor))
        return path
    if suffix == ".png":
        return _png(study, path, max_loss, floor)
    raise BadInput(f"plot file must end in .svg or .png, got {path.name}")


def _png(study: Study, path: Path, max_loss: float | None, floor: float | None) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BadInput("PNG plots need matplotlib (pip install matplotlib); "
                       "or write .svg, which needs nothing") from exc
    ok = [v for v in study.variants if v.status == "ok" and v.energy_j_per_sample is not None]
    if not ok:
        raise BadInput("nothing to plot: no variant was benchmarked successfully")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for v in ok:
        ax.scatter(v.energy_j_per_sample, v.quality)
        ax.annotate(v.label, (v.energy_j_per_sample, v.quality))
    front = study.front()
    ax.plot([v.energy_j_per_sample for v in front], [v.quality for v in front])
    limit = study.floor(max_loss, floor)
    if limit is not None:
        ax.axhline(limit, linestyle="--", color="red")
    ax.set_xlabel("energy per sample (J)")
    ax.set_ylabel(f"{study.quality_name} ({study.quality_unit})")
    fig.savefig(path)
    plt.close(fig)
    return path


def _axis_label(study: Study) -> str:
    """``accuracy (%)``-style label without saying the name twice."""
    name, unit = study.quality_name, study.quality_unit
    if name and name in unit:
        return unit
    return f"{name} ({unit})" if unit else name
