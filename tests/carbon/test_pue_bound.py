"""One PUE bound for every way a PUE comes in: a run, track(), a repricing and an estimate.

A PUE of 4 was priced by ``wattwise run`` and ``report`` but refused by ``estimate``
as a typing mistake; the same figure is now taken or refused everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
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
    with pytest.raises(BadInput, match=r"got 7\.0"):
        check_pue(Decimal("7"))
