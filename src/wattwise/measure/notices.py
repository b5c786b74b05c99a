"""What a meter tells the user about faults: each kind warned about once, notes kept to a bound.

A sensor that fails every read, or whose message changes every read, must neither flood
the user with warnings nor grow the run's record without bound; the meter and its
collaborators share one ``Notices`` so "once" means once per meter.
"""

from __future__ import annotations

import warnings

#: Distinct notes a meter keeps, and warnings one sensor may raise, before the
#: rest are dropped (a sensor whose message changes every read).
MAX_NOTES = 100
MAX_WARNINGS_PER_SENSOR = 10


class Notices:
    """The notes a meter keeps for its run, and the keys of what it has warned about."""

    def __init__(self, category: type[Warning]) -> None:
        self.category = category
        #: the meter's notes (``Meter.notes`` is this list)
        self.notes: list[str] = []
        self._noted: set[str | None] = set()
        self._seen: set[str] = set()

    def once(self, key: str) -> bool:
        """True the first time ``key`` is seen: one warning per sensor and kind of fault."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def note(self, text: str) -> None:
        """Keep a note once; at most ``MAX_NOTES`` (a sensor whose message changes
        every read must not grow the run's record without bound)."""
        seen = self._noted
        if text in seen:
            return
        if len(seen) >= MAX_NOTES:
            if len(seen) == MAX_NOTES:
                seen.add(None)
                self.notes.append(f"more than {MAX_NOTES} notes: the rest are not kept")
            return
        seen.add(text)
        self.notes.append(text)

    def warn_once(self, key: str, message: str, stacklevel: int = 3) -> None:
        """Warn ``message`` the first time ``key`` is seen. ``stacklevel`` counts from
        this method, so the default names the caller of the method that calls it."""
        if self.once(key):
            warnings.warn(message, self.category, stacklevel=stacklevel)
