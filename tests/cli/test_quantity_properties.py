"""Property test of the quantity parser behind every number option of ``wattwise
estimate`` (``70B``, ``2T``, ``3.14e23``): any text or number gives a finite value
within 1e30 (positive ones at least 1e-12), or ``BadInput``; nothing else."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.errors import BadInput
from wattwise.estimate.quantities import (
    MAX_QUANTITY,
    MIN_POSITIVE,
    parse_count,
    parse_positive,
    parse_quantity,
)

BOUNDED = settings(max_examples=200, deadline=None, database=None)

_TEXT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[+-]?[0-9]{0,40}(\.[0-9]{0,10})?(e[+-]?[0-9]{1,4})?[kKmMbBgGtTpP]?\Z"),
    st.sampled_from(["70B", "2T", "1.5M", "3.14e23", "nan", "inf", "-inf", "1e308", "1e-320",
                     "", "\x00", "é", "1,000", "1_000", "٣", "0x10", "1e400"]),
)
_ANY = st.one_of(_TEXT, st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(min_value=-(10**400), max_value=10**400), st.booleans())


@BOUNDED
@given(_ANY)
def test_any_quantity_is_finite_and_bounded_or_bad_input(value: object) -> None:
    try:
        x = parse_quantity(value, "params")  # type: ignore[arg-type]
    except BadInput:
        return
    assert math.isfinite(x) and abs(x) <= MAX_QUANTITY


@BOUNDED
@given(_ANY)
def test_any_positive_quantity_is_bounded_both_ways_or_bad_input(value: object) -> None:
    try:
        x = parse_positive(value, "tokens")  # type: ignore[arg-type]
    except BadInput:
        return
    assert math.isfinite(x) and MIN_POSITIVE <= x <= MAX_QUANTITY


@BOUNDED
@given(_ANY)
def test_any_count_is_a_whole_number_or_bad_input(value: object) -> None:
    try:
        n = parse_count(value, "count")  # type: ignore[arg-type]
    except BadInput:
        return
    assert isinstance(n, int) and 1 <= n <= MAX_QUANTITY
