"""Suite-wide set-up.

A test run started in the background or under ``nohup`` inherits SIGINT and
SIGHUP ignored, and every process the tests start inherits that too: wattwise
rightly leaves an ignored signal ignored, so the tests that signal a job would
see it survive. The suite resets both to their defaults before any test runs.
"""

from __future__ import annotations

import signal


def pytest_configure() -> None:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
