"""No label of the Pareto figure crosses the front's line: placement keeps labels off
its segments as it keeps them off points and each other, one layout for the SVG and
the PNG. Checked by geometry (each label's box against each segment), not by pixels."""

from __future__ import annotations

from tests.compress.test_plot_overlap import assert_legible, variant
from wattwise.compress.plot import layout
from wattwise.compress.study import Study
from wattwise.plot.figure import Figure, Poly, Text
from wattwise.plot.segments import crosses, segments_of


def _crossings(fig: Figure) -> list[str]:
    segs = [s for it in fig.items if isinstance(it, Poly) and it.cls == "front"
            for s in segments_of(it.points)]
    assert segs, "the figure draws a front"
    return [t.text for t in fig.items if isinstance(t, Text) and t.cls in ("label", "number")
            for s in segs if crosses(t.box(), s, pad=0.0)]


def recorded() -> Study:
    """The study ``compress digits-mlp --plot`` drew with int8-dynamic's label on the
    segment from distill-32 up to it (wide intervals, two points on one accuracy)."""
    return Study("digits-mlp", "accuracy", "%", (
        variant("baseline", 96.89, 0.0048, 4.37e-12, 1.46e7, n=3),
        variant("int8-dynamic", 97.11, 0.0107, 0.0095, 0.0125, n=2),
        variant("prune-unstructured-50%", 95.78, 0.00175, 9.34e-7, 3.86, n=2),
        variant("distill-32", 96.89, 0.00182, 9.24e-10, 6.6e3, n=2)))


def test_no_label_crosses_the_front_line() -> None:
    fig = layout(recorded(), None, 95.89)
    assert _crossings(fig) == []
    assert_legible(fig)
    assert {t.text for t in fig.labels()} == {v.label for v in recorded().variants}


def test_labels_keep_off_a_steep_and_a_shallow_front() -> None:
    for study in (
        Study("t", "accuracy", "%", tuple(
            variant(f"variant-{i}", 90 + i * 0.8, 0.001 * (1.6 ** i)) for i in range(7))),
        Study("t", "accuracy", "%", tuple(
            variant(f"v{i}-with-a-long-name", 97 - 0.05 * i, 0.01 / (1.3 ** i))
            for i in range(6))),
    ):
        fig = layout(study, None)
        assert _crossings(fig) == []
        assert_legible(fig)


def test_crosses_is_a_segment_box_test() -> None:
    box = (10.0, 10.0, 20.0, 20.0)
    assert crosses(box, (0, 0, 30, 30), pad=0)
    assert crosses(box, (15, 0, 15, 30), pad=0)
    assert not crosses(box, (0, 0, 30, 5), pad=0)
    assert not crosses(box, (0, 25, 25, 40), pad=0)
    assert not crosses(box, (25, 0, 25, 30), pad=0)
    assert crosses(box, (12, 12, 13, 13), pad=0)  # wholly inside
