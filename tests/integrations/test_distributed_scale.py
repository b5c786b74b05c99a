"""track_distributed gathers the parts to rank 0 only: no rank but rank 0 receives them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.integrations import distributed
from wattwise.integrations.distributed import NodePart, track_distributed

ROOT = Path(__file__).resolve().parents[2]


def _part(rank: int, energy_j: float) -> NodePart:
    return NodePart(f"node-{rank}", rank, energy_j, energy_j * 0.9, energy_j * 1.1, 2.0,
                    "measured", rank + 1)


class FakeDist:
    """``torch.distributed`` as one rank of a job sees it; records the collectives called."""

    def __init__(self, rank: int, others: list[NodePart | None], global_zero: int = 0) -> None:
        self.rank = rank
        self.others = others  # what the other ranks send, in rank order after this one
        self.global_zero = global_zero
        self.calls: list[tuple[str, Any, int]] = []

    def get_rank(self, group: Any = None) -> int:
        return self.rank

    def get_world_size(self, group: Any = None) -> int:
        return 1 + len(self.others)

    def get_global_rank(self, group: Any, rank: int) -> int:
        assert rank == 0
        return self.global_zero

    def gather_object(self, obj: Any, gathered: list[Any] | None, dst: int = 0,
                      group: Any = None) -> None:
        self.calls.append(("gather_object", gathered, dst))
        if gathered is not None:
            gathered[:] = [obj, *self.others]

    def all_gather_object(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("every rank would receive every part")


def test_rank_zero_gathers_every_part_and_others_get_nothing() -> None:
    parts: list[NodePart | None] = [_part(1, 20.0), None, _part(3, 30.0)]
    zero = FakeDist(0, parts)
    got = distributed._gather_to_rank_zero(zero, _part(0, 10.0), None)
    assert got is not None and [p.rank if p else None for p in got] == [0, 1, None, 3]
    assert zero.calls[0][2] == 0

    one = FakeDist(1, [])
    assert distributed._gather_to_rank_zero(one, _part(1, 20.0), None) is None
    # A non-destination rank passes no list: it never holds the others' parts.
    assert one.calls == [("gather_object", None, 0)]


def test_a_subgroup_gathers_to_its_own_first_rank() -> None:
    dist = FakeDist(0, [_part(1, 1.0)], global_zero=5)
    distributed._gather_to_rank_zero(dist, _part(0, 1.0), group=object())
    assert dist.calls[0][2] == 5  # gather_object takes a global rank


def test_the_total_skips_ranks_that_did_not_measure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = FakeDist(0, [None, _part(8, 100.0), None, _part(16, 50.0)])
    monkeypatch.setattr(track_distributed, "_dist", lambda self: dist)
    with track_distributed("job", sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                           db=tmp_path / "r.db") as job:
        pass
    assert job.total is not None and job.run is not None and job.run.result is not None
    assert [n.rank for n in job.total.nodes] == [0, 8, 16]
    assert job.total.energy_j == pytest.approx(job.run.result.energy_j + 150.0)
    assert job.total.high_j == pytest.approx(job.run.result.high_j + 165.0)
    assert job.total.duration_s == pytest.approx(max(2.0, job.run.result.duration_s))


def test_a_rank_other_than_zero_ends_without_a_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = FakeDist(3, [])
    monkeypatch.setattr(track_distributed, "_dist", lambda self: dist)
    with track_distributed("job", sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                           db=tmp_path / "r.db") as job:
        pass
    assert job.total is None
    assert job.run is not None and job.run.tags["rank"] == "3"
    assert [(c[0], c[1]) for c in dist.calls] == [("gather_object", None)]


# Global rank 0 stays out of the job's group; ranks 1 and 2 are its ranks 0 and 1.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, os.environ["ROOT"])
    import torch.distributed as dist
    from tests.fixtures.fake_sensors import ConstantPowerSensor
    from wattwise.integrations.distributed import track_distributed

    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo", rank=rank, world_size=3)
    group = dist.new_group([1, 2])
    out = {"rank": rank, "total": None}
    if rank in (1, 2):
        with track_distributed("job", group=group, db=os.environ["DB"] + str(rank),
                               sensors=[ConstantPowerSensor({"cpu:0": 10.0 * rank})],
                               interval_s=0.05) as job:
            time.sleep(0.2)
        out["total"] = None if job.total is None else job.total.to_dict()
    dist.barrier()
    print(json.dumps(out))
    dist.destroy_process_group()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_real_subgroup_sums_on_its_first_rank(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed")
    port = _free_port()
    procs = []
    for rank in range(3):
        env = dict(os.environ, ROOT=str(ROOT), RANK=str(rank), WORLD_SIZE="3", LOCAL_RANK="0",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), DB=str(tmp_path / "r.db"))
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    by_rank = {o["rank"]: o["total"] for o in outs}
    assert by_rank[0] is None and by_rank[2] is None
    total = by_rank[1]
    assert total is not None
    assert [n["rank"] for n in total["nodes"]] == [0, 1]  # ranks within the group
    assert total["energy_j"] == pytest.approx(sum(n["energy_j"] for n in total["nodes"]))
    assert total["kind"] == "measured"
