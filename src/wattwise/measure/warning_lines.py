"""wattwise's own warnings said as one line each, where a command (or the wait at exit
after it) speaks to a terminal: Python's ``file:line: WattwiseWarning`` form with the
source line under it means nothing to a user there."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def warnings_as_lines(say: Callable[[str], None]) -> Iterator[None]:
    """While inside, each ``WattwiseWarning`` is handed to ``say`` as its text (without
    its ``wattwise:`` prefix); other warnings are shown as Python shows them."""
    from wattwise.measure.meter import WattwiseWarning

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def one_line(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if isinstance(category, type) and issubclass(category, WattwiseWarning):
                say(str(message).removeprefix("wattwise:").strip())
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = one_line
        yield
