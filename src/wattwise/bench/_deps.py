"""Optional heavy dependencies, imported on use with the line that installs them."""

from __future__ import annotations

import importlib
from typing import Any

from wattwise.errors import BadInput


def need(module: str, extra: str = "ml") -> Any:
    """Import ``module`` or fail with one line naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BadInput(
            f"{module} is needed for this benchmark: pip install \"wattwise[{extra}]\" ({exc})"
        ) from exc
