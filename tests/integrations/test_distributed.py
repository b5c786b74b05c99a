"""track_distributed on a real gloo process group: two 'nodes', each measured once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.integrations.distributed import track_distributed

ROOT = Path(__file__).resolve().parents[2]

# Each process plays one node: local rank 0 of its own machine, with its own power.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, os.environ["ROOT"])
    import torch.distributed as dist
    from tests.fixtures.fake_sensors import ConstantPowerSensor
    from wattwise.integrations.distributed import track_distributed

    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo", rank=rank, world_size=2)
    sensor = ConstantPowerSensor({"cpu:0": 100.0 * (rank + 1)})
    with track_distributed("job", sensors=[sensor], db=os.environ["DB"] + str(rank),
                           interval_s=0.05) as job:
        time.sleep(0.3)
    print(json.dumps({"rank": rank, "total": None if job.total is None else job.total.to_dict(),
                      "own": job.run.result.energy_j}))
    dist.destroy_process_group()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_nodes_are_summed_on_rank_zero(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed")
    port = _free_port()
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, ROOT=str(ROOT), RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK="0",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), DB=str(tmp_path / "r.db"))
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    zero, one = sorted(outs, key=lambda o: o["rank"])
    assert one["total"] is None
    total = zero["total"]
    assert [n["rank"] for n in total["nodes"]] == [0, 1]
    assert total["energy_j"] == pytest.approx(zero["own"] + one["own"])
    # 100 W and 200 W: the second node drew twice the power (its energy over its own
    # duration; the two runs' lengths differ by the collectives' waits, 0.33 s against
    # 0.52 s on a loaded machine)
    power = [n["energy_j"] / n["duration_s"] for n in total["nodes"]]
    assert power[1] == pytest.approx(2 * power[0], rel=0.2)
    assert total["kind"] == "measured"


def test_without_a_process_group_it_measures_this_process(tmp_path: Path) -> None:
    with track_distributed("solo", sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                           db=tmp_path / "r.db") as job:
        pass
    assert job.total is not None and len(job.total.nodes) == 1
    assert job.total.energy_j == job.run.result.energy_j  # type: ignore[union-attr]
    assert job.run is not None and job.run.tags["world_size"] == "1"


def test_other_local_ranks_do_not_measure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_RANK", "3")
    with track_distributed("solo", sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                           db=tmp_path / "r.db") as job:
        pass
    assert job.run is None
    assert job.total is not None and job.total.nodes == [] and job.total.kind == "none"
