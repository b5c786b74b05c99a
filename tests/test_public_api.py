"""The public surface changes only on purpose, and importing it does no work."""

from __future__ import annotations

import subprocess
import sys

import wattwise


def test_public_names_are_pinned() -> None:
    assert sorted(wattwise.__all__) == [
        "BadInput",
        "EnergyResult",
        "Meter",
        "Run",
        "SensorUnavailable",
        "WattwiseError",
        "WattwiseWarning",
        "__version__",
        "discover",
        "track",
    ]
    for name in wattwise.__all__:
        assert getattr(wattwise, name) is not None


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, wattwise; "
        "heavy = [m for m in ('psutil', 'sqlite3', 'typer', 'rich', 'numpy', 'torch', "
        "'pynvml', 'platformdirs', 'wattwise.sensors') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        wattwise.nope  # noqa: B018
    except AttributeError as e:
        assert "nope" in str(e)
    else:
        raise AssertionError("expected AttributeError")
