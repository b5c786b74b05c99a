"""One PUE bound for every way a PUE comes in: a run, track(), a repricing and an estimate.

A PUE of 4 was priced by ``wattwise run`` and ``report`` but refused by ``estimate``
as a typing mistake; the same figure is now taken or refused everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wattwise.carbon.pue import MAX_PUE, resolve_pue
from wattwise.errors import BadInput
from wattwise.estimate import infer, train
from wattwise.measure.run_options import check_pue

H100 = "H100 SXM5"
SERVE: dict[str, Any] = {"params": "8B", "hardware": H100, "prompt_tokens": 500,
                         "output_tokens": 200, "engine": "vllm"}
TRAIN: dict[str, Any] = {"params": "7B", "tokens": "1T", "hardware": H100, "count": 8}

TAKERS: dict[str, Callable[[float], object]] = {
    "run and track()": check_pue,
    "report and show --pue": lambda p: resolve_pue(p),
    "estimate infer": lambda p: infer(**SERVE, pue=p),
    "estimate train": lambda p: train(**TRAIN, pue=p),
}


@pytest.mark.parametrize("taker", TAKERS.values(), ids=TAKERS.keys())
def test_the_highest_pue_is_taken_everywhere(taker: Callable[[float], object]) -> None:
    taker(MAX_PUE)
    taker(4.0)


@pytest.mark.parametrize("taker", TAKERS.values(), ids=TAKERS.keys())
def test_a_pue_past_the_bound_is_refused_everywhere(taker: Callable[[float], object]) -> None:
    with pytest.raises(BadInput, match=r"\b5(\.0)?\b"):
        taker(MAX_PUE + 0.01)


@pytest.mark.parametrize("taker", TAKERS.values(), ids=TAKERS.keys())
def test_a_pue_just_past_the_bound_is_not_said_as_the_bound(
        taker: Callable[[float], object]) -> None:
    with pytest.raises(BadInput, match=r"5\.0001"):  # "pue 5 is more than ...: at most 5"
        taker(5.0001)
    with pytest.raises(BadInput, match=r"5\.000000000000001\b"):  # the next double: 16 digits
        taker(5.000000000000001)


@pytest.mark.parametrize("value,why", [(5.0001, "Uptime Institute"), (0.9999, "never below 1"),
                                       (-1.0, "never below 1")])
def test_a_refused_pue_is_said_in_the_same_words_everywhere(value: float, why: str) -> None:
    said = set()
    for taker in TAKERS.values():
        with pytest.raises(BadInput) as caught:
            taker(value)
        said.add(str(caught.value))
    (line,) = said
    assert line.startswith(f"pue must be a number from 1.0 to 5.0, got {value!r} (") \
        and why in line, line


def test_a_decimal_pue_is_a_number() -> None:
    from decimal import Decimal

    from wattwise.carbon.pue import check_pue

    assert check_pue(Decimal("2")) == 2.0  # was "must be a number ..., got Decimal('2')"
    with pytest.raises(BadInput, match=re.escape("got Decimal('7') (")):  # as given
        check_pue(Decimal("7"))


#: Every command that takes --pue, with what else it needs (the database is not read
#: before the PUE is judged).
COMMANDS = {
    "run": ["run", "--db", "{db}", "--pue", "{pue}", "--", "true"],
    "report": ["report", "--db", "{db}", "--pue", "{pue}"],
    "estimate infer": ["estimate", "infer", "--params", "7B", "--hardware", "H100 SXM5",
                       "--prompt-tokens", "100", "--output-tokens", "100", "--pue", "{pue}"],
    "estimate train": ["estimate", "train", "--params", "7B", "--tokens", "1T",
                       "--hardware", "H100 SXM5", "--pue", "{pue}"],
    "estimate refresh": ["estimate", "refresh", "--keep", "a", "--replace", "a",
                         "--a-j-per-unit", "1", "--b-j-per-unit", "1", "--a-remaining-years",
                         "3", "--zone", "DE", "--units-per-year", "1e9", "--pue", "{pue}"],
}


@pytest.mark.parametrize("typed,said", [
    ("1.5k", "got '1.5k'"), ("\uff11.\uff15", "got '\uff11.\uff15'"), ("1_0", "got '1_0'"),
    ("6", "got 6 ("), ("1e999", "got 1e999 ("), ("0x2", "got '0x2'"),
    ("1.2\x1c", "got '1.2\\x1c'")])  # a separator Python's strip() drops: was a traceback
def test_every_command_reads_a_pue_alike(tmp_path: Path, typed: str, said: str) -> None:
    """run, report and refresh refused '1.5k' in their option parser's words ("Input
    should be a valid number"), estimate infer took '１.５' as 1.5, and 6 was "got 6.0"."""
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app

    _register_all()
    lines = set()
    for name, args in COMMANDS.items():
        argv = [a.format(db=tmp_path / "r.db", pue=typed) for a in args]
        r = CliRunner().invoke(app, argv)
        assert r.exit_code == 2, (name, r.output)
        lines.add(r.stderr.strip())
    (line,) = lines
    assert line.startswith(f"wattwise: error: pue must be a number from 1.0 to 5.0, {said}")


@pytest.mark.parametrize("text", ["1.2", " 1.2 ", "1.2e0", "\xa01.2\xa0", "\t1.2\n", "1.2\u2009"])
def test_track_reads_a_pue_given_as_text_as_every_command_does(text: str) -> None:
    """track(pue="1.2") was refused: "must be a number from 1.0 to 5.0, got '1.2'"."""
    from wattwise.measure.run_options import check_pue

    assert check_pue(text) == 1.2


@pytest.mark.parametrize("value,why", [
    ("1.5k", "not a plain decimal number"), ("1,2", "not a plain decimal number"),
    ("", "not a plain decimal number"), ("nan", "not a number"), (float("nan"), "not a number"),
    ([1.2], "not a number"), (None, "not a number"), ("0.5", "never below 1"),
    ("6", "a unit or typing mistake")])
def test_every_refused_pue_says_why(value: object, why: str) -> None:
    """A PUE that was no number ("got '1.3,'", "got nan") was refused without a reason."""
    from wattwise.carbon.pue import read_pue
    from wattwise.errors import BadInput

    with pytest.raises(BadInput) as e:
        read_pue(value)
    said = str(e.value)
    assert "\n" not in said and said.endswith(")") and why in said[said.index(" got "):]


@pytest.mark.parametrize("value,said", [
    ("5.0000000000000001", "got 5.0000000000000001 ("),  # above 5, though its float is not
    ("0.99999999999999999", "got 0.99999999999999999 ("),
    (__import__("decimal").Decimal("sNaN"), "got Decimal('sNaN') (not a number)"),
    (__import__("decimal").Decimal("1E+999999"), "got Decimal('1E+999999') ("),  # not inf
    (__import__("fractions").Fraction(11, 2), "got Fraction(11, 2) (")])
def test_a_pue_is_judged_exactly_and_said_as_given(value: object, said: str) -> None:
    """5.0000000000000001 was taken as PUE 5; Decimal('sNaN') was a bare ValueError."""
    from wattwise.carbon.pue import read_pue
    from wattwise.errors import BadInput

    with pytest.raises(BadInput, match=re.escape(said)):
        read_pue(value)


def test_a_long_double_above_the_bound_is_not_said_as_the_bound() -> None:
    """It was refused, but said as the float it rounds to: "got 5.0 (... above 5 ...)"."""
    import numpy as np

    from wattwise.carbon.pue import read_pue
    from wattwise.errors import BadInput

    value = np.longdouble(5) + np.longdouble(2.0**-61)
    if value == 5:
        pytest.skip("a long double here is a double")
    with pytest.raises(BadInput) as e:
        read_pue(value)
    assert "got 5.0 (" not in str(e.value) and "5.0000000000000000004" in str(e.value)


def test_a_numpy_value_that_does_not_compare_is_no_number() -> None:
    """numpy counts a timedelta64 as an integer: comparing it was a raw UFuncTypeError."""
    import numpy as np

    from wattwise.carbon.pue import read_pue
    from wattwise.errors import BadInput

    with pytest.raises(BadInput, match=re.escape("got np.timedelta64(6,'s') (not a number)")):
        read_pue(np.timedelta64(6, "s"))


def test_a_refused_pue_is_said_on_one_short_line() -> None:
    """A 5,000-digit number was echoed whole; an object's repr with a newline broke the
    one line."""
    from wattwise.carbon.pue import read_pue
    from wattwise.errors import BadInput

    class Odd:
        def __repr__(self) -> str:
            return "a\nb\x1bc"

    for value in ("9" * 5000, Odd()):
        with pytest.raises(BadInput) as e:
            read_pue(value)
        said = str(e.value)
        assert "\n" not in said and "\x1b" not in said and len(said) < 600, said
