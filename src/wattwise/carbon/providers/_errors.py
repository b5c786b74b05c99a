"""The one error a live intensity provider raises on purpose."""

from __future__ import annotations

from wattwise.errors import WattwiseError


class ProviderError(WattwiseError):
    """A live provider is not configured, unreachable, or answered nonsense.

    ``provider`` names it, ``reason`` says what went wrong and ``fix`` (when
    known) how to put it right, so the CLI can print one clear line.
    """

    def __init__(
        self, provider: str, reason: str, fix: str = "", *, status: int | None = None
    ) -> None:
        self.provider = provider
        self.reason = reason
        self.fix = fix
        #: The HTTP status that caused it, where there was one (401 lets a provider re-login).
        self.status = status
        msg = f"{provider}: {reason}"
        if fix:
            msg += f" (fix: {fix})"
        super().__init__(msg)
