"""``_checks.items`` and ``ints``: every item of a comma list is used, or the list is
refused in one line naming the option; an empty item is never dropped silently."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli._checks import MAX_LIST, ints, items
from wattwise.cli._common import guarded

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    def words(value: str = typer.Option(..., "--words")) -> None:
        typer.echo("|".join(items(value, "--words")))

    def numbers(value: str = typer.Option(..., "--numbers")) -> None:
        typer.echo("|".join(str(n) for n in ints(value, "--numbers", 1, 64)))

    app.command("words")(guarded(words))
    app.command("numbers")(guarded(numbers))
    return app


APP = _app()


def _refused(args: list[str], expected: str) -> None:
    r = runner.invoke(APP, args)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: "), r.stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize(("value", "place"), [
    ("a,,b", "item 2 of 3 in 'a,,b'"), ("a,", "item 2 of 2 in 'a,'"),
    (",a", "item 1 of 2 in ',a'"), ("a, ,b", "item 2 of 3 in 'a, ,b'"),
])
def test_an_empty_item_is_refused_naming_the_option_and_its_place(value: str,
                                                                   place: str) -> None:
    _refused(["words", "--words", value], f"--words has an empty item ({place})")
    _refused(["numbers", "--numbers", value.replace("a", "1").replace("b", "2")],
             "--numbers has an empty item")


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_nothing_at_all_says_none_was_named(value: str) -> None:
    _refused(["words", "--words", value], "--words must name at least one value")


def test_every_item_is_kept_stripped() -> None:
    r = runner.invoke(APP, ["words", "--words", " a , b,c "])
    assert r.exit_code == 0 and r.stdout.strip() == "a|b|c"
    r = runner.invoke(APP, ["numbers", "--numbers", "1, 8,64"])
    assert r.exit_code == 0 and r.stdout.strip() == "1|8|64"


def test_too_many_items_are_refused() -> None:
    _refused(["words", "--words", ",".join(["a"] * (MAX_LIST + 1))],
             f"--words takes at most {MAX_LIST} values, got {MAX_LIST + 1}")
