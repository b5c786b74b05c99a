"""The counted domains the "N of M counted domains have no usable sample" note names: the
sensors', as the run's summary marks them (a GPU the summary's table gave as "inside
another domain; not added" was called a counted domain in the same table), and those the
summary counts that no sensor lists (a fourth domain went unnamed: "1 of 3")."""

from __future__ import annotations

from types import SimpleNamespace

from wattwise.records.repriced_cover import counted_names, uncovered_note


def _summary(*domains: tuple[str, object]) -> dict:
    return {"domains": [{"domain": n, "in_total": c} for n, c in domains]}


def test_the_summary_marks_what_its_sensors_count() -> None:
    sensors = {"gpu:0", "cpu:model", "memory:model"}
    assert counted_names({}, sensors) == sensors  # no table: the sensors'
    out = _summary(("gpu:0", False), ("cpu:model", True), ("memory:model", True))
    assert counted_names(out, sensors) == {"cpu:model", "memory:model"}
    extra = _summary(("gpu:0", True), ("disk:model", True))
    assert counted_names(extra, sensors) == sensors | {"disk:model"}
    assert counted_names({"domains": "x"}, sensors) == sensors  # a damaged table: ignored


def test_the_note_names_every_counted_domain_without_samples() -> None:
    summary = _summary(("gpu:0", True), ("cpu:model", True), ("memory:model", True),
                       ("disk:model", True))
    record = SimpleNamespace(summary=summary)
    sums = {"cpu:model": {"energy_j": 1.0}, "memory:model": {"energy_j": 2.0}}
    note = uncovered_note(record, {"gpu:0", "cpu:model", "memory:model"}, sums)
    assert note is not None and note.startswith(
        "2 of 4 counted domains have no usable sample (disk:model, gpu:0)"), note
    summary["domains"][0]["in_total"] = False
    summary["domains"].pop()
    assert uncovered_note(record, {"gpu:0", "cpu:model", "memory:model"}, sums) is None
