"""Parsing "175B"-style quantities."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattwise.errors import BadInput
from wattwise.estimate.quantities import SUFFIXES, parse_count, parse_positive, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("175B", 175e9),
        ("300b", 300e9),
        ("1.5M", 1.5e6),
        ("3.14e23", 3.14e23),
        ("2T", 2e12),
        ("300k", 3e5),
        ("10,000", 1e4),
        (" 7 B ", 7e9),
        (".5k", 500.0),
    ],
)
def test_common_spellings(text: str, expected: float) -> None:
    assert parse_quantity(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "B", "1.2.3", "abc", "1e", "10x", "nan", "inf", "1e999"])
def test_garbage_is_refused_with_the_field_name(text: str) -> None:
    with pytest.raises(BadInput, match="tokens"):
        parse_quantity(text, "tokens")


@given(
    st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.sampled_from(["", *SUFFIXES, *(s.upper() for s in SUFFIXES)]),
)
def test_number_with_suffix_round_trips(x: float, suffix: str) -> None:
    expected = x * SUFFIXES.get(suffix.lower(), 1.0)
    assert math.isclose(parse_quantity(f"{x!r}{suffix}"), expected, rel_tol=1e-12)


@given(st.integers(min_value=1, max_value=10**15))
def test_grouped_integers_parse_exactly(n: int) -> None:
    assert parse_quantity(f"{n:,}") == float(n)


@pytest.mark.parametrize(
    ("text", "message"),
    [("1_000", "not 1_000"), ("1_5", "not 1_000"), ("1,5", "a comma groups thousands"),
     ("2,5B", "a comma groups thousands"), ("1,00", "a comma groups thousands"),
     ("10,0000", "a comma groups thousands")],
)
def test_underscores_and_commas_that_do_not_group_thousands_are_refused(
    text: str, message: str
) -> None:
    """"1_5" is Python's 15 and "1,5" half of Europe's 1.5: neither is read silently."""
    with pytest.raises(BadInput, match=message):
        parse_quantity(text, "params")


def test_a_huge_integer_is_named_by_its_size_with_balanced_quotes() -> None:
    with pytest.raises(BadInput) as err:
        parse_quantity(10**400, "params")
    assert str(err.value) == "params: an integer of 401 digits is larger than 1e+30; check its unit"


def test_positive_and_count_refuse_zero_negative_and_fractions() -> None:
    with pytest.raises(BadInput, match="must be positive"):
        parse_positive("0", "count")
    with pytest.raises(BadInput, match="must be positive"):
        parse_positive("-3", "count")
    with pytest.raises(BadInput, match="whole number"):
        parse_count("2.5", "count")
    assert parse_count("1k") == 1000


@pytest.mark.parametrize("text", ["٧٠B", "\u0667\u0660", "\uff17\uff10B", "७०B", "70\u00a0B"])
def test_digits_of_other_scripts_are_refused_not_read_as_ascii(text: str) -> None:
    with pytest.raises(BadInput, match=r"params: cannot read .*digits 0-9 only"):
        parse_quantity(text, "params")
