"""Where wattwise keeps its files when the user does not say.

Kept apart from ``store`` so the CLI and the server can name the default
location without opening a database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Environment variable that overrides the run-record database location.
DEFAULT_ENV = "WATTWISE_DB"


def default_db_path() -> Path:
    """``$WATTWISE_DB`` if set (non-empty), else ``<user data dir>/wattwise/runs.db``.

    The user data dir is each OS's usual place (``~/.local/share`` on Linux,
    ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on Windows;
    see :func:`user_dir`). Nothing is created here.
    """
    env = os.environ.get(DEFAULT_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return user_dir("data") / "runs.db"


#: XDG Base Directory variables and their defaults under $HOME, per kind of dir.
_XDG = {"data": ("XDG_DATA_HOME", ".local/share"), "config": ("XDG_CONFIG_HOME", ".config")}


def user_dir(kind: str) -> Path:
    """wattwise's per-user ``data`` or ``config`` directory, as each OS expects it.

    On Linux that is the XDG Base Directory rule (the variable when it holds an
    absolute path, else its default under ``$HOME``), read directly: it is
    consulted at every run, and importing ``platformdirs`` costs more than the
    rule. Other systems ask ``platformdirs``.
    """
    if sys.platform.startswith("linux"):
        var, default = _XDG[kind]
        value = os.environ.get(var, "")
        return (Path(value) if os.path.isabs(value) else Path.home() / default) / "wattwise"
    import platformdirs

    if kind == "data":
        return Path(platformdirs.user_data_dir("wattwise", appauthor=False))
    return Path(platformdirs.user_config_dir("wattwise", appauthor=False))
