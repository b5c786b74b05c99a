"""Links between devices and the time collectives take over them, for layout estimates.

A node type (``data/interconnects.csv``) gives each device's bandwidth per
direction inside its node (NVLink, PCIe) and to other nodes (InfiniBand,
RoCE, Omni-Path). Ranks are numbered as Megatron-LM does, tensor-parallel
innermost, then data-parallel, then pipeline stages, so a group of ``size``
ranks ``stride`` apart stays inside one node when ``size x stride`` fits in
it. Collectives are rings at the nominal link rate (no protocol overhead, no
overlap with compute): both are stated on every estimate. A link may carry a
per-message latency (``Links.latency_s``, 0 unless given: the shipped node
types list none): every point-to-point send pays it once, a ring all-reduce
``2(N-1)`` times and an all-gather or reduce-scatter ``N-1`` times, one per
step of the ring. A link driven by the CPU itself (gloo over sockets) may also carry
the host CPU seconds each message costs the ranks that send and receive it
(``Links.cpu_s_per_message``, ``Links.cpu_s_per_byte``; ``layout_host``), 0 on the
shipped node types.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

from wattwise._datafiles import read_table
from wattwise.errors import BadInput


@dataclass(frozen=True)
class Links:
    """A node type's links, per device and per direction, in GB/s (1e9 bytes)."""

    name: str
    devices_per_node: int
    intra_gb_s: float
    inter_gb_s: float
    intra_link: str = ""
    inter_link: str = ""
    source: str = "given"
    provenance: str = "given"
    #: Seconds each message costs on top of its bytes (software, scheduling, wire).
    latency_s: float = 0.0
    #: Host CPU seconds a rank spends per message it sends or receives (gloo: system
    #: calls, thread hand-offs, the schedule's work per message), beyond compute.
    cpu_s_per_message: float = 0.0
    #: Host CPU seconds a rank spends per byte it sends or receives (copies, reductions).
    cpu_s_per_byte: float = 0.0

    def __post_init__(self) -> None:
        for name in ("latency_s", "cpu_s_per_message", "cpu_s_per_byte"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise BadInput(f"links {name} must be a finite number >= 0, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def _rows() -> tuple[tuple[str, Links], ...]:
    return tuple(
        (
            r["accelerator"].strip(),
            Links(
                name=r["node_type"].strip(),
                devices_per_node=int(r["devices_per_node"]),
                intra_gb_s=float(r["intra_gb_s"]),
                inter_gb_s=float(r["inter_gb_s"]),
                intra_link=r["intra_link"].strip(),
                inter_link=r["inter_link"].strip(),
                source=r["source"].strip(),
                provenance=r["provenance"].strip(),
            ),
        )
        for r in read_table("interconnects.csv")
    )


def node_types() -> list[Links]:
    """Every node type in the shipped table."""
    return [links for _, links in _rows()]


def links_for(accelerator: str, node: str | None = None) -> Links:
    """The node type named ``node`` (any case, or a unique part of its name), or the
    first one listed for ``accelerator``; BadInput naming the choices otherwise."""
    rows = _rows()
    if node is not None:
        key = node.strip().lower()
        hits = [links for _, links in rows if key and key in links.name.lower()]
        exact = [links for links in hits if links.name.lower() == key]
        if exact:
            return exact[0]
        if len(hits) == 1:
            return hits[0]
        names = "; ".join(links.name for _, links in rows)
        what = "matches several" if hits else "is not one of the"
        raise BadInput(f"node type {node!r} {what} node types: {names}")
    for acc, links in rows:
        if acc == accelerator:
            return links
    raise BadInput(
        f"no node type with links is known for {accelerator}; give node (one of: "
        + "; ".join(links.name for _, links in rows)
        + ") or the link bandwidths"
    )


def group_bandwidth_gb_s(links: Links, size: int, stride: int) -> tuple[float, str]:
    """Bandwidth per device of a group of ``size`` ranks ``stride`` apart, and which link."""
    if size * stride <= links.devices_per_node:
        return links.intra_gb_s, "intra-node"
    return links.inter_gb_s, "inter-node"


def ring_all_reduce_s(nbytes: float, ranks: int, gb_s: float, latency_s: float = 0.0) -> float:
    """A ring all-reduce moves 2(N-1)/N of the buffer through each device's link, in
    2(N-1) messages."""
    if ranks <= 1 or nbytes <= 0:
        return 0.0
    return 2.0 * (ranks - 1) * (nbytes / ranks / (gb_s * 1e9) + latency_s)


def ring_gather_s(nbytes: float, ranks: int, gb_s: float, latency_s: float = 0.0) -> float:
    """An all-gather or a reduce-scatter moves (N-1)/N of the full buffer per device, in
    N-1 messages."""
    if ranks <= 1 or nbytes <= 0:
        return 0.0
    return (ranks - 1) * (nbytes / ranks / (gb_s * 1e9) + latency_s)


def point_to_point_s(nbytes: float, gb_s: float, latency_s: float = 0.0) -> float:
    """One send of ``nbytes`` over one link: its latency plus its bytes."""
    return latency_s + nbytes / (gb_s * 1e9) if nbytes > 0 else 0.0
