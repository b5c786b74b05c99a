"""Suite-wide set-up.

A test run started in the background or under ``nohup`` inherits SIGINT and
SIGHUP ignored, and every process the tests start inherits that too: wattwise
rightly leaves an ignored signal ignored, so the tests that signal a job would
see it survive. The suite resets both to their defaults before any test runs.

Every runs-list request of a dashboard the tests start waits for its rows' notes
(``WATTWISE_LIST_NOTES_WAIT_S``), so a loaded machine never leaves one pending.

``no_ambient_zone`` is for the modules whose figures must not depend on the machine
running them (``pytestmark = pytest.mark.usefixtures("no_ambient_zone")``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest


def pytest_configure() -> None:
    # a runs-list request waits for every row's notes (the tests read them at once);
    # tests/server/test_notes_later.py gives the wait a live page has
    os.environ.setdefault("WATTWISE_LIST_NOTES_WAIT_S", "300")
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture
def no_ambient_zone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing but the run's record may pick the zone: no ``$WATTWISE_ZONE``, and a
    config folder of the test's own (empty), so no user's config file is read."""
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
