"""Text put in Rich markup (tables, titles) so that it prints as it is."""

from __future__ import annotations

from rich.markup import escape as _markup_escape


def escape(text: str) -> str:
    """``text`` as Rich markup that prints it as it is. Rich's own ``escape`` doubles a
    trailing backslash (so that markup put after it is not escaped by it), which then
    printed twice (``wattwise runs`` showed a run named ``C:\\\\`` as ``C:\\\\\\\\``): what
    is put after an escaped text here starts with a space, never with markup."""
    return _markup_escape(text + " ")[:-1]
