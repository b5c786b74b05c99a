"""An ``LlmBenchResult`` as a table (one column per batch size) and provenance lines.

The CLI prints these; ``benchmarks/gpu_check.py`` and BENCHMARKS.md use the
plain-text form. Every row names its kind: ``[e]`` energy (measured or
estimated, from the sensors listed under the table), ``[t]`` time (wall clock
after a device sync).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wattwise.bench.llm import LlmBenchResult, LlmEnergy, LlmPoint
from wattwise.bench.stats import Stat

__all__ = ["llm_lines", "llm_rows", "llm_table"]


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.4g}"


def _cell(s: Stat | None, scale: float = 1.0) -> str:
    if s is None:
        return "-"
    if s.n < 2:
        return _fmt(s.mean * scale)
    return f"{_fmt(s.mean * scale)} ({_fmt(s.low * scale)}-{_fmt(s.high * scale)})"


Row = tuple[str, Callable[[LlmPoint], str], str]


def _energy_rows(label: str, pick: Callable[[LlmPoint], LlmEnergy | None], tag: str
                 ) -> list[Row]:
    def f(get: Callable[[LlmEnergy], Stat | None]) -> Callable[[LlmPoint], str]:
        def cell(p: LlmPoint) -> str:
            e = pick(p)
            return "-" if e is None else _cell(get(e))
        return cell

    return [
        (f"prefill J per batch{label}", f(lambda e: e.prefill_j), tag),
        (f"prefill J per prompt token{label}", f(lambda e: e.prefill_j_per_prompt_token), tag),
        (f"decode J/token, steady{label}", f(lambda e: e.decode_j_per_token), tag),
        (f"J per output token{label}", f(lambda e: e.j_per_output_token), tag),
        (f"J per response{label}", f(lambda e: e.j_per_response), tag),
    ]


def llm_rows(res: LlmBenchResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows: ``metric``, one column per batch size, ``kind``."""
    kind = f"{res.kind} [e]"
    rows: list[Row] = [
        ("TTFT ms", lambda p: _cell(p.ttft_ms), "measured [t]"),
        ("ITL p50 / p90 ms",
         lambda p: f"{_fmt(p.itl_ms.get('p50'))} / {_fmt(p.itl_ms.get('p90'))}",
         "measured [t]"),
        ("output tokens/s", lambda p: _cell(p.tokens_per_s), "measured [t]"),
        ("decode tokens/s, steady", lambda p: _cell(p.decode_tokens_per_s), "measured [t]"),
    ]
    rows += _energy_rows("", lambda p: p.energy, kind)
    if res.baseline_w is not None:
        rows += _energy_rows(", above idle", lambda p: p.energy_above_idle, f"{res.kind} [e][i]")
    rows += [
        ("power prefill / decode W",
         lambda p: f"{_fmt(p.prefill_power_w)} / {_fmt(p.decode_power_w)}", kind),
        ("on the J/token-ITL frontier", lambda p: "yes" if p.on_frontier else "no",
         "from the rows above"),
    ]
    header = ["metric", *[f"batch {p.batch_size}" for p in res.points], "kind"]
    body = [[label, *[cell(p) for p in res.points], k] for label, cell, k in rows]
    return header, body


def llm_table(res: LlmBenchResult, title: str | None = None) -> Any:
    """A rich ``Table`` of ``llm_rows``."""
    from rich.table import Table
    from rich.text import Text

    header, body = llm_rows(res)
    t = Table(title=Text(title or f"LLM inference: {res.model}, {res.dtype} on {res.device}"),
              title_justify="left")
    for i, h in enumerate(header):
        t.add_column(h, justify="right" if 0 < i < len(header) - 1 else "left",
                     overflow="fold")
    for row in body:
        t.add_row(*(Text(c) for c in row))  # "[e]" is a footnote mark, not markup
    return t


def _params(n: int) -> str:
    """A parameter count in M (or K below a million, so a tiny model is not "0.0 M")."""
    return f"{n / 1e6:.1f} M" if n >= 1_000_000 else f"{n / 1e3:.1f} K"


def _reps(n: int) -> str:
    return f"{n} measured repetition{'' if n == 1 else 's'}"


def llm_lines(res: LlmBenchResult) -> list[str]:
    """What the table's figures rest on: model, machine, sensors, clocks, notes."""
    lines = [
        f"model: {res.model} ({_params(res.params)} parameters), {res.model_origin}",
        f"workload: prompts of {res.prompt_len} random tokens, {res.max_new_tokens} new tokens "
        f"per response ({'stop at EOS' if res.stop_at_eos else 'EOS ignored'}), greedy, "
        f"KV cache; {_reps(res.points[0].repetitions if res.points else 0)} per batch size; "
        "( ) = 95 % CI over repetitions",
        f"machine: {res.machine}",
        f"[e] energy: {res.kind}, from {res.source}",
        "[t] time: measured, wall clock (perf_counter) after device sync",
    ]
    if res.baseline_w is not None:
        lines.append(f"[i] idle baseline {res.baseline_w:.4g} W subtracted "
                     f"({res.baseline_source})")
    if res.run_id is not None:
        lines.append(f"run: {res.run_id}")
    lines.append("frontier (steady decode J/token vs median ITL): "
                 + ("batch " + ", ".join(str(b) for b in res.frontier) if res.frontier
                    else "none (no batch size had a steady phase)"))
    seen: set[str] = set()
    for n in [*res.notes, *(n for p in res.points for n in p.notes)]:
        if n not in seen:
            seen.add(n)
            lines.append(f"note: {n}")
    return lines
