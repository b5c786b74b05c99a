"""``records.rows.unreadable``: why a stored JSON field reads as its default."""

from __future__ import annotations

import pytest

from wattwise.records.rows import loads, unreadable


@pytest.mark.parametrize(("text", "kind", "why"), [
    ('{"energy_j": 1.0, "domains": [', dict, "not valid JSON"),
    ("not json at all", dict, "not valid JSON"),
    ("[1, 2]", dict, "not a JSON object but an array"),
    ('{"a": 1}', list, "not a JSON array but an object"),
    ("null", dict, "not a JSON object but null"),  # it said Python's "NoneType"
    ('""', dict, "not a JSON object but a string"),
    ("true", dict, "not a JSON object but true"),
    ("1e3", dict, "not a JSON object but a number"),
    ("[" * 100_000, dict, "not valid JSON"),
])
def test_a_damaged_field_says_why_it_reads_as_its_default(text: str, kind: type, why: str) -> None:
    assert loads(text, kind, "default") == "default"
    assert unreadable(text, kind) == why


@pytest.mark.parametrize(("text", "kind"), [(None, dict), ('{"a": 1}', dict), ("[]", list)])
def test_a_field_that_reads_or_is_null_is_not_damaged(text: str | None, kind: type) -> None:
    assert unreadable(text, kind) is None
