"""Every number option refuses ``1_0`` and non-ASCII digits as typed (``cli/_numbers.py``),
in one line naming the option and the text, before the command does anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import check_refusal, env_for, invoke

# (command line with {n} where the number goes, the option named in the refusal)
CASES = [
    (["run", "--db", "{db}", "--interval", "{n}", "--", "true"], "--interval"),
    (["runs", "--db", "{db}", "--limit", "{n}"], "--limit"),
    (["report", "1", "--db", "{db}", "--units", "{n}"], "--units"),
    # --pue is read as every command reads a PUE: tests/carbon/test_pue_bound.py
    (["simulate", "--seed", "{n}"], "--seed"),
    (["demo", "--db", "{db}", "--interval", "{n}"], "--interval"),
    (["dashboard", "--db", "{db}", "--port", "{n}"], "--port"),
    (["bench", "digits-mlp", "--repetitions", "{n}"], "--repetitions"),
]
TEXTS = ["1_0", "٣", "1_000.5", "\uff11"]  # underscore, Arabic-Indic 3, fullwidth 1


@pytest.mark.parametrize("text", TEXTS, ids=ascii)
@pytest.mark.parametrize(("args", "option"), CASES, ids=lambda c: c[0] if isinstance(c, str)
                         else " ".join(c[:1]))
def test_a_number_option_refuses_text_int_or_float_would_stretch(
    tmp_path: Path, args: list[str], option: str, text: str
) -> None:
    db = tmp_path / "q.db"
    line = [str(db) if a == "{db}" else text if a == "{n}" else a for a in args]
    out, err, code, _ = invoke(line, env_for(tmp_path))
    check_refusal(out, err, code, f"'{option}'")
    assert f"{text!r} is not a plain number" in err
    assert not db.exists()  # refused before anything ran or was recorded


def test_plain_numbers_still_work(tmp_path: Path) -> None:
    from wattwise.records.store import Store

    db = tmp_path / "q.db"
    Store(db).close()
    _out, err, code, _ = invoke(["runs", "--db", str(db), "--limit", "10"], env_for(tmp_path))
    assert code == 0, err


def test_every_number_parameter_of_the_app_is_covered() -> None:
    import typer.main

    from wattwise.cli import _register_all, app
    from wattwise.cli._numbers import _number_param, plain_numbers

    _register_all()
    root = typer.main.get_command(app)
    plain_numbers(root)
    found = []

    def walk(cmd: object) -> None:
        for p in getattr(cmd, "params", ()):
            if _number_param(p):
                found.append(p)
                assert getattr(p, "plain_number", False), p.name
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(root)
    assert len(found) > 30
