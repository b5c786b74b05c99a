"""On-disk cache of provider answers, so a run or a plan does not re-ask the API.

Entries are keyed by provider, zone, what was asked (latest, history,
forecast) and a time bucket, and expire after a TTL. The cache stores parsed
points, not raw bodies, so it is independent of each API's format. A corrupt
or unreadable entry is a miss, never an error: the cache only saves requests.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TTL_S = 15 * 60.0


def default_cache_dir() -> Path:
    """``platformdirs.user_cache_dir("wattwise")/intensity``; imported lazily."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("wattwise")) / "intensity"


@dataclass(frozen=True)
class CacheHit:
    """A cached payload and when it was stored (Unix seconds)."""

    payload: Any
    stored_unix_s: float


class IntensityCache:
    """A directory of small JSON files, one per (provider, zone, what, bucket)."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._directory = Path(directory) if directory is not None else None
        self.ttl_s = ttl_s
        self._clock = clock

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = default_cache_dir()
        return self._directory

    @staticmethod
    def key(provider: str, zone: str, what: str, bucket: int) -> str:
        return f"{provider}|{zone}|{what}|{bucket}"

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    def get(self, key: str) -> CacheHit | None:
        """The entry for ``key`` if present, readable, for this key and fresh."""
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        stored = entry.get("stored_unix_s")
        if not isinstance(stored, (int, float)) or self._clock() - stored > self.ttl_s:
            return None
        return CacheHit(payload=entry.get("payload"), stored_unix_s=float(stored))

    def put(self, key: str, payload: Any) -> None:
        """Store atomically (temp file + rename); a failure to write is ignored."""
        entry = {"key": key, "stored_unix_s": self._clock(), "payload": payload}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, self._path(key))
        except OSError:
            return
