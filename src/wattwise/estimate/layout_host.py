"""CPU seconds a rank spends on its messages when the CPU itself moves them.

On accelerators, DMA engines and NICs move a layout's bytes while the host waits.
Where the ranks are CPU processes talking over gloo (sockets), every message costs
the process that sends it and the one that receives it CPU time beyond the wire's:
system calls, copies, hand-offs between the framework's threads, the schedule's own
work per message, and an all-reduce's additions. ``Links.cpu_s_per_message`` and
``Links.cpu_s_per_byte`` carry that cost, measured by a probe of the links alone (0
on the shipped node types, whose links are accelerators': the published-run
calibration does not use it). ``messaging_cpu`` counts it for one device, per
micro-batch (tensor-parallel all-reduces, pipeline sends) and once per step
(data-parallel gradients). The layout estimate then counts those CPU seconds above
idle in place of the guess that communicating keeps a CPU busy, and a communication
takes the longer of its link time (which, measured, already holds that work as it
ran then) and that work at the device's share of a CPU.

A message *end* is one message as one rank sees it: a send or a receive. A ring
all-reduce over N ranks sends and receives 2(N-1) messages per rank and moves
2(N-1)/N of the buffer each way; an all-gather or reduce-scatter half that. A
pipeline of P stages with V chunks each passes an activation forward and a
gradient back over PV-1 hops per micro-batch, two ends per hop: averaged over the
P stages, 4(PV-1)/P ends per device.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattwise.estimate.layout_comm import Links


@dataclass(frozen=True)
class Messaging:
    """One device's messaging CPU: seconds and what they were counted from."""

    per_microbatch_s: float
    per_step_s: float
    #: Message ends (sends and receives) per device per step.
    ends: float
    #: Bytes sent plus bytes received per device per step.
    bytes: float

    def total_s(self, microbatches: int) -> float:
        return microbatches * self.per_microbatch_s + self.per_step_s


def ring_all_reduce_ends(nbytes: float, ranks: int) -> tuple[float, float]:
    """Message ends and bytes (in + out) per rank of a ring all-reduce."""
    if ranks <= 1 or nbytes <= 0:
        return 0.0, 0.0
    return 4.0 * (ranks - 1), 4.0 * (ranks - 1) / ranks * nbytes


def ring_gather_ends(nbytes: float, ranks: int) -> tuple[float, float]:
    """Message ends and bytes (in + out) per rank of an all-gather or a reduce-scatter."""
    if ranks <= 1 or nbytes <= 0:
        return 0.0, 0.0
    return 2.0 * (ranks - 1), 2.0 * (ranks - 1) / ranks * nbytes


def pipeline_ends(nbytes: float, stages: int, virtual: int = 1) -> tuple[float, float]:
    """Message ends and bytes (in + out) per device and micro-batch of a pipeline's
    activation and gradient sends, averaged over the stages."""
    if stages <= 1 or nbytes <= 0:
        return 0.0, 0.0
    ends = 4.0 * (stages * virtual - 1) / stages
    return ends, ends * nbytes


def data_parallel_ends(split: bool, zero3: bool, microbatches: int, weight_bytes: float,
                       grad_bytes: float, dp: int) -> list[tuple[float, float]]:
    """Message ends and bytes per device of a step's data-parallel traffic, as the
    layout's time counts it: ZeRO 3's gathers every micro-batch, a reduce-scatter of
    the gradients and an all-gather of the weights (``split``), or a ring all-reduce."""
    if zero3:
        return [(microbatches * e, microbatches * b)
                for e, b in (ring_gather_ends(weight_bytes, dp),
                             ring_gather_ends(weight_bytes, dp),
                             ring_gather_ends(grad_bytes, dp))]
    if split:
        return [ring_gather_ends(grad_bytes, dp), ring_gather_ends(weight_bytes, dp)]
    return [ring_all_reduce_ends(grad_bytes, dp)]


def messaging_cpu(
    links: Links,
    per_microbatch: list[tuple[float, float]],
    per_step: list[tuple[float, float]],
    microbatches: int,
) -> Messaging:
    """CPU seconds of the (ends, bytes) pairs at the links' cost per message and per byte:
    ``per_microbatch`` pairs recur for each of the ``microbatches``, ``per_step`` once."""
    msg, byte = links.cpu_s_per_message, links.cpu_s_per_byte
    mb_ends = sum(e for e, _ in per_microbatch)
    mb_bytes = sum(b for _, b in per_microbatch)
    st_ends = sum(e for e, _ in per_step)
    st_bytes = sum(b for _, b in per_step)
    return Messaging(
        per_microbatch_s=mb_ends * msg + mb_bytes * byte,
        per_step_s=st_ends * msg + st_bytes * byte,
        ends=microbatches * mb_ends + st_ends,
        bytes=microbatches * mb_bytes + st_bytes,
    )


def note(links: Links, messaging: Messaging, microbatches: int, cpu_share: float) -> str:
    """The assumption line an estimate prints when the links carry a CPU cost."""
    return (f"host CPU per message (a named input of the links, {links.source}): "
            f"{links.cpu_s_per_message * 1e6:.4g} us per send or receive + "
            f"{links.cpu_s_per_byte * 1e9:.4g} ns per byte moved = "
            f"{messaging.total_s(microbatches):.3g} CPU s per device per step, counted above "
            f"idle; a communication lasts at least that work at {cpu_share:.3g} CPU s per "
            "wall s")
