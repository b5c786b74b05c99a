"""Where wattwise keeps its files when the user does not say.

Kept apart from ``store`` so the CLI and the server can name the default
location without opening a database.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that overrides the run-record database location.
DEFAULT_ENV = "WATTWISE_DB"


def default_db_path() -> Path:
    """``$WATTWISE_DB`` if set (non-empty), else ``<user data dir>/wattwise/runs.db``.

    The user data dir comes from ``platformdirs`` so each OS gets its usual
    place (``~/.local/share`` on Linux, ``~/Library/Application Support`` on
    macOS, ``%LOCALAPPDATA%`` on Windows). Nothing is created here.
    """
    env = os.environ.get(DEFAULT_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs  # imported here: `import wattwise` stays cheap

    return Path(platformdirs.user_data_dir("wattwise", appauthor=False)) / "runs.db"
