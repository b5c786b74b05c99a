"""``wattwise.bench``: energy-efficiency benchmarks, a built-in offline suite, ratings, advice.

>>> from wattwise.bench import benchmark
>>> res = benchmark(step, name="my-model", task="text-classification")
>>> res.energy_j_per_sample, res.throughput, res.kind

Heavy dependencies (torch, transformers) load only when a suite entry runs.
"""

from __future__ import annotations

from wattwise.bench.advisor import Advice, Candidate, Verdict, advise
from wattwise.bench.harness import BenchFailed, BenchResult, benchmark, benchmark_command
from wattwise.bench.rating import Rating, rate, stored_results
from wattwise.bench.stats import Stat, summarize
from wattwise.bench.suite import SUITE, SuiteEntry, get_entry

__all__ = [
    "SUITE",
    "Advice",
    "BenchFailed",
    "BenchResult",
    "Candidate",
    "Rating",
    "Stat",
    "SuiteEntry",
    "Verdict",
    "advise",
    "benchmark",
    "benchmark_command",
    "get_entry",
    "rate",
    "stored_results",
    "summarize",
]

# LLM inference (J/token for prefill and decode by batch size); torch loads only when it runs.
from wattwise.bench.llm import LlmBenchResult, LlmPoint, benchmark_llm

__all__ += ["LlmBenchResult", "LlmPoint", "benchmark_llm"]
