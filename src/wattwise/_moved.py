"""Old import paths kept for one release: each warns once, where the user imported it.

``DeprecationWarning`` is shown by default only when it is attributed to
``__main__``, so the warning points at the ``import`` line that named the old path
(``warnings`` skips the import machinery's own frames).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def moved(old: str, sources: list[str]) -> Callable[[str], Any]:
    """Warn that ``old`` moved to ``sources``, and give the module ``__getattr__`` that
    finds each name there."""
    warnings.warn(
        f"{old} is deprecated and goes in the next release; import from "
        + " or ".join(sources) + " instead",
        DeprecationWarning,
        stacklevel=3,  # the import line: warnings skips importlib's own frames
    )

    def __getattr__(name: str) -> Any:
        for source in sources:
            module = importlib.import_module(source)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
