"""docs/kubernetes.md: its manifests parse, use only wattwise's own commands and flags,
and the RAPL mount it describes is a tree the RAPL sensor reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.sysfs import intel_server
from wattwise.cli import _register_all, app
from wattwise.sensors.rapl import RaplSensor

DOC = Path(__file__).resolve().parents[2] / "docs" / "kubernetes.md"
yaml = pytest.importorskip("yaml")


def _block(name: str) -> Any:
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"<!-- {name}:start -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    fenced = re.search(r"```yaml\n(.*?)```", body, re.S)
    assert fenced is not None, f"no yaml block between the {name} markers"
    return yaml.safe_load(fenced.group(1))


def _daemonset() -> dict[str, Any]:
    ds = _block("daemonset")
    assert ds["apiVersion"] == "apps/v1" and ds["kind"] == "DaemonSet"
    return dict(ds)


def _containers() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in _daemonset()["spec"]["template"]["spec"]["containers"]}


def _options(words: list[str]) -> set[str]:
    """Every option name of ``wattwise <words>``, from the app itself."""
    _register_all()
    cmd: Any = typer.main.get_command(app)
    for word in words:
        cmd = cmd.commands[word]
    return {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}


def test_the_daemonset_selects_its_own_pods() -> None:
    spec = _daemonset()["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("name", ["meter", "metrics"])
def test_each_container_runs_a_wattwise_command_with_flags_it_has(name: str) -> None:
    command = _containers()[name]["command"]
    assert command[0] == "wattwise"
    words = [command[1]]
    own = command[2:command.index("--")] if "--" in command else command[2:]
    flags = [w for w in own if w.startswith("-")]
    assert flags, "a command without flags tests nothing"
    assert set(flags) <= _options(words), f"unknown flags in {command}"
    res = CliRunner().invoke(app, [*words, "--help"], prog_name="wattwise",
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for flag in flags:
        assert flag in res.stdout


def test_the_environment_variables_are_ones_wattwise_reads() -> None:
    env = {e["name"] for c in _containers().values() for e in c.get("env", [])}
    helps = {
        w: CliRunner().invoke(app, [w, "--help"], prog_name="wattwise",
                              env={"COLUMNS": "200"}).stdout
        for w in ("run", "dashboard")
    }
    assert "WATTWISE_ZONE" in env and "WATTWISE_ZONE" in helps["run"]
    assert "WATTWISE_DASHBOARD_TOKEN" in env and "WATTWISE_DASHBOARD_TOKEN" in helps["dashboard"]


def test_the_meter_has_no_limits_and_the_metrics_side_reads_only() -> None:
    containers = _containers()
    # A CPU quota or memory limit would make the model sensor estimate the container.
    assert "limits" not in containers["meter"].get("resources", {})
    mounts = {m["name"]: m for m in containers["metrics"]["volumeMounts"]}
    assert mounts["data"]["readOnly"] is True
    assert "--allow-remote" in containers["metrics"]["command"]
    for c in containers.values():
        ctx = c["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"]["drop"] == ["ALL"]
        assert "privileged" not in ctx


def test_the_scrape_config_reads_the_labels_the_pods_carry() -> None:
    labels = _daemonset()["spec"]["template"]["metadata"]["labels"]
    # Prometheus turns every character a label name may not hold into "_".
    meta = {"__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k): v
            for k, v in labels.items()}
    (job,) = _block("scrape")["scrape_configs"]
    sources = [s for r in job["relabel_configs"] for s in r["source_labels"]]
    pod_labels = [s for s in sources if s.startswith("__meta_kubernetes_pod_label_")]
    assert pod_labels and set(pod_labels) <= meta.keys()
    targets = {r.get("target_label") for r in job["relabel_configs"]}
    assert {"zone", "node_type", "node"} <= targets
    port = _containers()["metrics"]["ports"][0]
    keep = [r for r in job["relabel_configs"]
            if r["source_labels"] == ["__meta_kubernetes_pod_container_port_name"]]
    assert keep and keep[0]["regex"] == port["name"]
    assert str(port["containerPort"]) in _containers()["metrics"]["command"]


def test_the_rapl_mount_is_a_tree_the_sensor_reads(tmp_path: Path) -> None:
    """The host's devices/virtual/powercap/intel-rapl, mounted at /sys/class/powercap."""
    volumes = {v["name"]: v for v in _daemonset()["spec"]["template"]["spec"]["volumes"]}
    host = volumes["rapl"]["hostPath"]["path"]
    mount = {m["name"]: m for m in _containers()["meter"]["volumeMounts"]}["rapl"]
    assert mount["mountPath"] == "/sys/class/powercap" and mount["readOnly"] is True
    tree = intel_server(tmp_path, sockets=2, symlinks=True)
    cpuinfo = tree.write_cpuinfo("GenuineIntel")
    mounted = tree.base / host.lstrip("/")  # what the container sees at the mount path
    assert mounted.is_dir() and not mounted.is_symlink()
    inside = RaplSensor(mounted, cpuinfo=cpuinfo)
    on_host = RaplSensor(tree.root, cpuinfo=cpuinfo)
    names = sorted(d.name for d in inside.domains())
    assert names == sorted(d.name for d in on_host.domains())
    assert {"cpu:package-0", "cpu:package-1", "dram:0", "dram:1"} <= set(names)
