"""cpufreq detection on fake sysfs trees: governor and limits read, grouped, absence said."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wattwise.hardware.cpufreq import read_cpufreq


def policy(root: Path, n: int, *, governor: str = "powersave", max_khz: int = 3_800_000,
           hw_max_khz: int = 3_800_000, epp: str | None = "balance_performance",
           link: bool = True) -> None:
    """CPU ``n``'s policy as the kernel lays it out: ``cpufreq/policyN`` and a
    ``cpuN/cpufreq`` symlink to it (a plain folder with ``link=False``)."""
    pol = root / "cpufreq" / f"policy{n}" if link else root / f"cpu{n}" / "cpufreq"
    pol.mkdir(parents=True)
    files = {"scaling_driver": "intel_pstate", "scaling_governor": governor,
             "scaling_min_freq": "800000", "scaling_max_freq": str(max_khz),
             "cpuinfo_min_freq": "800000", "cpuinfo_max_freq": str(hw_max_khz),
             "scaling_available_governors": "performance powersave"}
    if epp is not None:
        files["energy_performance_preference"] = epp
    for name, text in files.items():
        (pol / name).write_text(text + "\n")
    if link:
        (root / f"cpu{n}").mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(pol, root / f"cpu{n}"), root / f"cpu{n}" / "cpufreq")


def test_cpus_with_equal_values_are_one_policy_and_a_capped_one_stands_apart(
        tmp_path: Path) -> None:
    for n in range(3):
        policy(tmp_path, n)
    policy(tmp_path, 3, governor="performance", max_khz=2_000_000, epp=None)
    (tmp_path / "intel_pstate").mkdir()
    (tmp_path / "intel_pstate" / "status").write_text("active\n")
    (tmp_path / "intel_pstate" / "no_turbo").write_text("0\n")
    got = read_cpufreq(tmp_path)
    assert got.available and got.reason is None
    assert [p.cpus for p in got.policies] == [(0, 1, 2), (3,)]
    first, capped = got.policies
    assert (first.governor, first.driver, first.epp) == ("powersave", "intel_pstate",
                                                          "balance_performance")
    assert (first.min_khz, first.max_khz, first.hw_max_khz) == (800_000, 3_800_000, 3_800_000)
    assert not first.capped and capped.capped and capped.epp is None
    assert got.pstate == {"intel_pstate": {"status": "active", "no_turbo": "0"}}
    lines = got.lines()
    assert "CPUs 0-2: governor powersave" in lines[0] and "800-3800 MHz" in lines[0]
    assert "not changed" in lines[0]
    assert "CPUs 3: governor performance" in lines[1] and "800-2000 MHz of 800-3800" in lines[1]
    assert lines[2] == "cpu frequency: intel_pstate status active, no_turbo 0"
    d = got.to_dict()
    assert d["available"] and d["policies"][1]["capped"] is True


def test_plain_folders_and_amd_pstate_are_read_too(tmp_path: Path) -> None:
    policy(tmp_path, 0, link=False, epp="power")
    (tmp_path / "amd_pstate").mkdir()
    (tmp_path / "amd_pstate" / "status").write_text("guided\n")
    got = read_cpufreq(tmp_path)
    assert got.policies[0].epp == "power"
    assert got.pstate == {"amd_pstate": {"status": "guided"}}


def test_a_vm_without_cpufreq_says_so_in_one_line(tmp_path: Path) -> None:
    for n in range(2):  # cpu folders as on this VM: no cpufreq inside
        (tmp_path / f"cpu{n}" / "topology").mkdir(parents=True)
    (tmp_path / "cpufreq").mkdir()  # the kernel keeps the empty class folder
    got = read_cpufreq(tmp_path)
    assert not got.available and got.policies == ()
    assert got.reason is not None and "cpufreq" in got.reason and "virtual machine" in got.reason
    assert got.lines() == [f"cpu frequency: not exposed ({got.reason})"]
    assert read_cpufreq(tmp_path / "missing").available is False


def test_unreadable_or_odd_files_leave_gaps_not_errors(tmp_path: Path) -> None:
    policy(tmp_path, 0)
    pol = tmp_path / "cpufreq" / "policy0"
    (pol / "scaling_max_freq").write_text("<unknown>\n")
    (pol / "scaling_governor").unlink()
    got = read_cpufreq(tmp_path)
    p = got.policies[0]
    assert p.max_khz is None and p.governor is None and not p.capped
    assert "governor ?" in got.lines()[0] and "800-? MHz" in got.lines()[0]


def test_reading_changes_nothing(tmp_path: Path) -> None:
    policy(tmp_path, 0)
    pol = tmp_path / "cpufreq" / "policy0"
    before = {f.name: (f.read_text(), f.stat().st_mtime_ns) for f in pol.iterdir()}
    read_cpufreq(tmp_path)
    assert {f.name: (f.read_text(), f.stat().st_mtime_ns) for f in pol.iterdir()} == before


def test_doctor_prints_the_governor_and_puts_it_in_its_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app
    from wattwise.hardware import cpufreq

    _register_all()
    policy(tmp_path, 0, governor="schedutil")
    monkeypatch.setattr(cpufreq, "read_cpufreq", lambda: read_cpufreq(tmp_path))
    runner = CliRunner()
    text = runner.invoke(app, ["doctor"], env={"COLUMNS": "300"})
    assert text.exit_code == 0 and "governor schedutil" in " ".join(text.stdout.split())
    got = json.loads(runner.invoke(app, ["doctor", "--json"]).stdout)["cpufreq"]
    assert got["available"] and got["policies"][0]["governor"] == "schedutil"
