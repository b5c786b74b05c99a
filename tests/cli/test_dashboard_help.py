"""``dashboard --help`` says which runs keep series of their own in ``/metrics``: it
said only running runs always do, while runs lost before their summary do too (up to
``MAX_RUNNING``): a user sizing Prometheus from the help counted 3 where 23 came."""

from __future__ import annotations

from tests._cli_out import cli_out
from wattwise.server.metrics import MAX_RUNNING


def test_the_help_names_the_lost_runs_that_keep_series() -> None:
    said = " ".join(cli_out("dashboard", "--help").replace("│", " ").split())
    assert "runs lost before their summary always do" in said, said
    assert f"the newest {MAX_RUNNING} of those" in said, said
