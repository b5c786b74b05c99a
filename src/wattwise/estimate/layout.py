"""Energy, time and memory of a training step under a parallel layout (DP x TP x PP).

One training step of a global batch is split over ``dp x tp x pp`` devices.
Each device spends the step in three states, each at the power it draws then:

- *compute*: the step's FLOPs (6 x params + 12 x layers x hidden x sequence per
  token, PaLM's count, plus a forward again where activations are recomputed)
  over ``GEMM_EFFICIENCY`` x the dense peak, at the power of a busy device;
- *communication*, not overlapped with compute: tensor-parallel all-reduces of
  activations (Megatron-LM: 2 per layer forward, 2 backward, 2 more when
  recomputing), pipeline point-to-point sends of activations and gradients,
  and the data-parallel ring all-reduce of gradients (ZeRO 1/2 move the same
  bytes as a reduce-scatter and an all-gather; ZeRO 3 all-gathers the weights
  again for every micro-batch), over the links of the node type
  (``layout_comm``), at the power of a device moving data;
- *waiting* in the pipeline bubble, ``(P-1)/(V M + P-1)`` of the pipelined
  part of the step (1F1B schedule; ``V`` model chunks per device when the
  schedule is interleaved, 1 otherwise), at the power of an idle device that
  keeps its context: waiting is not free.

A layout may also say how activations are kept: ``sp`` (sequence parallelism
beside tensor parallelism: the same bytes on the wire, a reduce-scatter and an
all-gather for each all-reduce, and the activations the tensor-parallel ranks
kept whole split over them) and ``recompute=full|selective|none``
(``layout_memory``). Values are 2 bytes (bf16) unless ``value_bytes`` says
otherwise; ``grad_reduce_bytes`` sets the gradients' own (4 where they are
accumulated and reduced in fp32).

Memory is checked per device (``layout_memory``): a layout that does not fit
is reported with the reason and never ranked. ``rank_layouts`` tries every
layout of a device count and orders the feasible ones by energy.

The devices are accelerators from wattwise's tables (``device_for``) or any
device described explicitly, a CPU host included (``cpu_device``), with the
link bandwidths given as ``Links``. Where the CPU itself moves the messages (gloo),
the links may carry its CPU seconds per message and per byte (``layout_host``),
counted above idle in place of the busy power while communicating.

Longer than ~500 lines because parsing a layout, the device and the per-state step model
form one chain; ranking candidates is its short tail.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from wattwise.errors import BadInput
from wattwise.estimate import _limits as limits
from wattwise.estimate.layout_comm import (
    Links,
    group_bandwidth_gb_s,
    links_for,
    point_to_point_s,
    ring_all_reduce_s,
    ring_gather_s,
)
from wattwise.estimate.layout_host import (
    data_parallel_ends,
    messaging_cpu,
    pipeline_ends,
    ring_all_reduce_ends,
)
from wattwise.estimate.layout_host import note as messaging_note
from wattwise.estimate.layout_memory import MemoryUse, memory_use
from wattwise.estimate.quantities import parse_quantity

#: The one fitted constant: the fraction of the dense peak that a layout's large
#: matrix multiplications reach while computing. Fitted once, for all rows, to the
#: published runs of docs/layouts.md whose schedule is published in full (least
#: squared log error); the bf16 8192^3
#: matmul measured on an H100 SXM reached 670 / 989 = 0.68 of peak
#: (shared/data/nvml/h100/summary.txt), a ceiling for it.
GEMM_EFFICIENCY = 0.57

#: Power of an H100 SXM (700 W TDP) measured through NVML's energy counter
#: (2026-11-26, shared/data/nvml/h100/summary.txt): bf16 matmul 692.5 W, an
#: HBM-bound copy 386.3 W, idle with a live CUDA context 126.7 W (116-133 W over
#: the five idle phases). Other accelerators: the same fractions of their TDP.
MEASURED_TDP_W = 700.0
BUSY_W_MEASURED = 692.5
COMM_W_MEASURED = 386.3
IDLE_W_MEASURED = 126.7
POWER_SOURCE = (
    "NVML energy counter on an H100 SXM, 2026-11-26: bf16 matmul 692.5 W, HBM copy "
    "386.3 W (stands for communication), idle with a CUDA context 126.7 W; other "
    "devices at the same fractions of their TDP"
)

#: The most devices ``rank_layouts`` splits a job over: the same bound as every other
#: device count the estimator takes (``_limits.DEVICES``, a million accelerators).
MAX_DEVICES = int(limits.DEVICES.high)
#: The largest global batch, in sequences: ten million, a thousand times the
#: batches of published runs (Llama 3 405B: 2,048 to 8,192 sequences).
MAX_GLOBAL_BATCH = 10_000_000
#: The most layouts ``estimate layouts --top`` lists.
MAX_TOP = 1000

_KEYS = ("dp", "tp", "pp", "microbatches", "zero", "recompute", "virtual", "sp")
_ALIASES = {"m": "microbatches", "mb": "microbatches", "micro": "microbatches",
            "v": "virtual", "vpp": "virtual", "interleave": "virtual",
            "sequence_parallel": "sp"}


@dataclass(frozen=True)
class Layout:
    """How a step is split: data, tensor and pipeline parallel degrees.

    ``microbatches`` is M, the micro-batches per step in each pipeline (None:
    the global batch over ``dp`` at one sequence each); ``zero`` the ZeRO stage
    (0-3); ``recompute`` whether activations are recomputed in full (None: only
    when they would not fit otherwise), ``selective`` whether just the attention
    core is (Korthikanti et al. 2022); ``virtual`` the model chunks per device of
    the interleaved 1F1B schedule (Narayanan et al. 2021, section 2.2.2), which
    divides the bubble by it and multiplies the pipeline sends by it; ``sp``
    sequence parallelism in the tensor-parallel group (memory only: the same
    bytes move).
    """

    dp: int = 1
    tp: int = 1
    pp: int = 1
    microbatches: int | None = None
    zero: int = 0
    recompute: bool | None = None
    virtual: int = 1
    sp: bool = False
    selective: bool = False

    @property
    def devices(self) -> int:
        return self.dp * self.tp * self.pp

    def label(self) -> str:
        parts = [f"dp={self.dp}", f"tp={self.tp}", f"pp={self.pp}"]
        if self.microbatches is not None:
            parts.append(f"microbatches={self.microbatches}")
        if self.zero:
            parts.append(f"zero={self.zero}")
        if self.virtual > 1:
            parts.append(f"virtual={self.virtual}")
        if self.sp:
            parts.append("sp=1")
        if self.selective and not self.recompute:
            parts.append("recompute=selective")
        elif self.recompute is not None:
            parts.append(f"recompute={'full' if self.recompute else 'none'}")
        return ",".join(parts)


@dataclass(frozen=True)
class ModelShape:
    """What a layout needs to know of a decoder-only transformer."""

    name: str
    params: float
    layers: int
    hidden: int
    heads: int
    seq_len: int
    vocab: int
    #: Attention scores are not stored (a fused "flash" kernel): no 5as/h term.
    flash_attention: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: How far a custom model's stated ``params`` may be from what its shape holds. Dense
#: models differ from the GPT count by their FFN width and attention heads (Llama 3 8B:
#: 8.0e9 against 7.0e9 from its shape); more than 4x either way is a typo or a total
#: count of experts, whose FLOPs the layout estimate would then overstate.
PARAMS_SHAPE_RATIO = 4.0


def gpt_params(layers: int, hidden: int, vocab: int, seq: int) -> float:
    """Parameters of a GPT layer stack (Narayanan et al. 2021, eq. 2)."""
    tail = 13 / (12 * hidden) + (vocab + seq) / (12 * layers * hidden)
    return 12.0 * layers * hidden**2 * (1 + tail)


def _gpt(name: str, heads: int, hidden: int, layers: int) -> ModelShape:
    return ModelShape(name, gpt_params(layers, hidden, 51200, 2048), layers, hidden, heads, 2048,
                      51200, flash_attention=False)


#: Shapes of published models (papers' tables; Llama from its config.json).
MODELS: dict[str, ModelShape] = {
    m.name: m
    for m in (
        _gpt("gpt3-175b", 96, 12288, 96),
        _gpt("megatron-18b", 48, 6144, 40),
        _gpt("megatron-39b", 64, 8192, 48),
        _gpt("megatron-146b", 96, 12288, 80),
        _gpt("megatron-310b", 128, 16384, 96),
        _gpt("megatron-530b", 128, 20480, 105),
        _gpt("megatron-1t", 160, 25600, 128),
        ModelShape("bloom-176b", 176.247e9, 70, 14336, 112, 2048, 250680, flash_attention=False),
        ModelShape("llama3-8b", 8.03e9, 32, 4096, 32, 8192, 128256),
        ModelShape("llama3-70b", 70.6e9, 80, 8192, 64, 8192, 128256),
        ModelShape("llama3-405b", 405e9, 126, 16384, 128, 8192, 128256),
    )
}


def parse_model(text: str | ModelShape) -> ModelShape:
    """A model by name (``MODELS``) or as ``layers=32,hidden=4096,heads=32,seq=4096``
    (``params``, ``vocab`` and ``flash=0|1`` optional; params then from the shape)."""
    if isinstance(text, ModelShape):
        return text
    if not isinstance(text, str) or not text.strip():
        raise BadInput("model: give a name (" + ", ".join(MODELS)
                       + ") or layers=,hidden=,heads=,seq=")
    key = text.strip().lower()
    if key in MODELS:
        return MODELS[key]
    if "=" not in key:
        raise BadInput(f"unknown model {text!r}; use one of {', '.join(MODELS)} or "
                       "layers=L,hidden=H,heads=A,seq=S[,params=N][,vocab=V]")
    fields: dict[str, str] = {}
    for part in key.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in ("params", "layers", "hidden", "heads", "seq", "vocab", "flash"):
            raise BadInput(f"model: unknown or malformed part {part.strip()!r}; keys are "
                           "params, layers, hidden, heads, seq, vocab, flash")
        if name in fields:
            raise BadInput(f"model: {name} given twice")
        fields[name] = value.strip()
    missing = [k for k in ("layers", "hidden", "heads", "seq") if k not in fields]
    if missing:
        raise BadInput(f"model: {', '.join(missing)} missing "
                       "(layers, hidden, heads and seq needed)")
    ints = {k: _positive_int(fields[k], f"model {k}") for k in ("layers", "hidden", "heads", "seq")}
    vocab = _positive_int(fields.get("vocab", "51200"), "model vocab")
    if ints["hidden"] % ints["heads"]:
        raise BadInput(f"model: heads {ints['heads']} do not divide hidden {ints['hidden']}")
    if "params" in fields:
        params = parse_quantity(fields["params"], "model params")
        if not params >= 1 or params != math.floor(params):
            raise BadInput("model params must be a positive whole number, "
                           f"got {fields['params']!r}")
        shaped = gpt_params(ints["layers"], ints["hidden"], vocab, ints["seq"])
        if not shaped / PARAMS_SHAPE_RATIO <= params <= shaped * PARAMS_SHAPE_RATIO:
            raise BadInput(
                f"model params {params:.4g} contradict the shape, which holds about "
                f"{shaped:.3g} (12 x layers x hidden² + vocab x hidden): give params within "
                f"{PARAMS_SHAPE_RATIO:g}x of that (for a mixture of experts, the active ones), "
                "or leave params out")
    else:
        params = gpt_params(ints["layers"], ints["hidden"], vocab, ints["seq"])
    flash = fields.get("flash", "1") not in ("0", "no", "false")
    return ModelShape("custom", params, ints["layers"], ints["hidden"], ints["heads"], ints["seq"],
                      vocab, flash_attention=flash)


def _positive_int(text: str, what: str) -> int:
    t = text.strip()
    if not t.isascii() or "_" in t:
        raise BadInput(f"{what}: cannot read {t!r}: write it with the digits 0-9 only")
    if not re.fullmatch(r"[0-9]{1,9}", t) or int(t) < 1:
        raise BadInput(f"{what} must be a positive whole number, got {text.strip()!r}")
    return int(t)


def parse_layout(text: str, *, gpus: int | None = None, model: ModelShape | None = None) -> Layout:
    """``dp=D,tp=T,pp=P[,microbatches=M][,zero=S][,virtual=V][,sp=1]
    [,recompute=full|selective|none]`` as a Layout.

    Missing degrees are 1. Raises BadInput, one line, for an unknown or repeated
    key, a value that is not a positive whole number, a ZeRO stage outside 0-3,
    ``dp x tp x pp`` other than ``gpus``, or a layout the model cannot take.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput("layout is empty; write it as dp=D,tp=T,pp=P")
    if len(text) > 200:
        raise BadInput("layout is too long; write it as dp=D,tp=T,pp=P")
    values: dict[str, Any] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if not sep:
            raise BadInput(f"layout: {part.strip()!r} is not key=value (dp=D,tp=T,pp=P)")
        if name not in _KEYS:
            raise BadInput(f"layout: unknown key {name!r}; keys are {', '.join(_KEYS)}")
        if name in values:
            raise BadInput(f"layout: {name} given twice")
        value = value.strip().lower()
        if name == "recompute":
            if value in ("full", "yes", "1", "true"):
                values[name] = True
            elif value in ("none", "no", "0", "false"):
                values[name] = False
            elif value == "selective":
                values[name] = False
                values["selective"] = True
            elif value == "auto":
                values[name] = None
            else:
                raise BadInput("layout: recompute must be full, selective, none or auto, "
                               f"got {value!r}")
        elif name == "sp":
            if value in ("1", "yes", "true", "on"):
                values[name] = True
            elif value in ("0", "no", "false", "off"):
                values[name] = False
            else:
                raise BadInput(f"layout: sp must be 1 or 0 (sequence parallelism on or off), "
                               f"got {value!r}")
        elif name == "zero":
            if value not in ("0", "1", "2", "3"):
                raise BadInput(f"layout: zero must be a ZeRO stage 0-3, got {value!r}")
            values[name] = int(value)
        else:
            values[name] = _positive_int(value, f"layout {name}")
    layout = Layout(**values)
    check_layout(layout, gpus=gpus, model=model)
    return layout


def check_layout(
    layout: Layout, *, gpus: int | None = None, model: ModelShape | None = None
) -> None:
    """BadInput if the layout cannot run: wrong device count, or a split the model refuses."""
    for name in ("dp", "tp", "pp"):
        v = getattr(layout, name)
        if not isinstance(v, int) or v < 1:
            raise BadInput(f"layout {name} must be a positive whole number, got {v!r}")
    if layout.zero not in (0, 1, 2, 3):
        raise BadInput(f"layout zero must be a ZeRO stage 0-3, got {layout.zero!r}")
    if gpus is not None and layout.devices != gpus:
        raise BadInput(f"layout dp x tp x pp = {layout.dp} x {layout.tp} x {layout.pp} = "
                       f"{layout.devices}, not the {gpus} devices given")
    if not isinstance(layout.virtual, int) or layout.virtual < 1:
        raise BadInput(f"layout virtual must be a positive whole number, got {layout.virtual!r}")
    if layout.virtual > 1 and layout.pp == 1:
        raise BadInput("layout: virtual (interleaved) stages need pp>1")
    if layout.sp and layout.tp == 1:
        raise BadInput("layout: sp (sequence parallelism) splits activations over the "
                       "tensor-parallel ranks; it needs tp>1")
    if layout.zero == 3 and layout.pp > 1:
        raise BadInput("layout: zero=3 with pp>1 is not a layout DeepSpeed or Megatron-LM runs; "
                       "use zero=1 or 2 with pipelines")
    if model is not None:
        if model.heads % layout.tp:
            raise BadInput(f"layout: tp={layout.tp} does not divide the model's {model.heads} "
                           "attention heads")
        # A chunk may hold the embedding or the output layer alone (Llama 3, section
        # 3.3.2): at most layers + 2 chunks.
        if layout.pp * layout.virtual > model.layers + 2:
            raise BadInput(f"layout: pp x virtual = {layout.pp * layout.virtual} exceeds the "
                           f"model's {model.layers} layers + the embedding and output chunks")


@dataclass(frozen=True)
class Device:
    """One device's compute rate, memory and power in each state of a step."""

    name: str
    peak_flops: float
    memory_gb: float
    busy_w: float
    comm_w: float
    idle_w: float
    source: str = "given"
    #: CPU seconds per wall second the device gets (a CPU rank sharing its CPUs; 1 for
    #: accelerators): host messaging work (``Links.cpu_s_per_message``) runs at it.
    cpu_share: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def device_for(hardware: str, precision: str = "bf16") -> Device:
    """An accelerator from wattwise's table, at the powers measured on an H100 (scaled)."""
    from wattwise.hardware.accelerators import find

    acc = find(hardware)
    if acc.tdp_w is None or acc.memory_gb is None:
        raise BadInput(f"{acc.name} has no published TDP or memory in wattwise's data; "
                       "describe it with Device(...)")
    k = acc.tdp_w / MEASURED_TDP_W
    return Device(
        name=acc.name,
        peak_flops=acc.peak_flops(precision),
        memory_gb=acc.memory_gb,
        busy_w=BUSY_W_MEASURED * k,
        comm_w=COMM_W_MEASURED * k,
        idle_w=IDLE_W_MEASURED * k,
        source=f"{acc.source}; power: {POWER_SOURCE}",
    )


def cpu_device(
    peak_gflops: float,
    *,
    cpus: float = 1.0,
    memory_gb: float | None = None,
    busy_w: float | None = None,
    idle_w: float | None = None,
    comm_w: float | None = None,
    name: str | None = None,
    cpu_share: float = 1.0,
) -> Device:
    """A CPU rank as a device: ``peak_gflops`` is the rate its matmuls reach per CPU
    second (give the measured one; ``gemm_efficiency=1`` then in ``estimate_layout``),
    ``cpus`` the logical CPUs it keeps busy. Powers not given come from this host's
    power model (``wattwise.hardware.cpus``): idle and full-load watts per logical CPU
    times ``cpus``; communicating (gloo copies and sockets) keeps one CPU busy.
    ``memory_gb`` defaults to this machine's memory over nothing: give it per rank.

    ``cpu_share`` is the CPU seconds per wall second the rank really gets: 1 on a host
    with a CPU free for each rank, less where ranks share CPUs with each other or with
    other jobs (measure it: the ranks' process CPU time over wall time while they all
    compute). The rank then computes at ``cpu_share`` times the rate and draws only
    ``cpu_share`` of the busy and communicating watts above idle.
    """
    if not peak_gflops or peak_gflops <= 0:
        raise BadInput("cpu device: peak_gflops must be positive")
    if cpus <= 0:
        raise BadInput("cpu device: cpus must be positive")
    if not (isinstance(cpu_share, (int, float)) and 0 < cpu_share <= 1):
        raise BadInput(f"cpu device: cpu_share must be in (0, 1], got {cpu_share!r}")
    source = "given"
    if busy_w is None or idle_w is None or comm_w is None:
        from wattwise.hardware.cpus import power_coefficients, read_cpu_info

        info = read_cpu_info()
        coeff = power_coefficients(info)
        idle_w = coeff.idle_w * cpus if idle_w is None else idle_w
        busy_w = coeff.max_w * cpus if busy_w is None else busy_w
        if comm_w is None:
            comm_w = idle_w + (busy_w - idle_w) / cpus
        source = f"host power model {coeff.label()} ({coeff.source}) x {cpus:g} CPUs"
        name = name or info.model_name
    if memory_gb is None:
        import psutil

        memory_gb = psutil.virtual_memory().total / 1e9
    if cpu_share < 1:
        busy_w = idle_w + cpu_share * (busy_w - idle_w)
        comm_w = idle_w + cpu_share * (comm_w - idle_w)
        source += f"; a share of {cpu_share:.3g} CPU s per wall s (rate and watts above idle)"
    return Device(name or "CPU", peak_gflops * 1e9 * cpu_share, memory_gb, busy_w, comm_w,
                  idle_w, source, cpu_share=float(cpu_share))


@dataclass(frozen=True)
class LayoutEstimate:
    """One layout's step: time and energy by state, throughput, MFU and memory.

    Times are per step and per device (all devices of a layout are alike; the
    first pipeline stage is the busiest). Energies are for all devices together,
    accelerators only unless ``host_w`` was given. ``feasible`` is False with the
    ``reason`` when the layout does not fit in memory or misses the deadline.
    """

    model: str
    layout: str
    dp: int
    tp: int
    pp: int
    zero: int
    recompute: bool
    devices: int
    hardware: str
    node: str
    global_batch: int
    micro_batch: int
    microbatches: int
    step_s: float
    compute_s: float
    tp_comm_s: float
    pp_comm_s: float
    dp_comm_s: float
    bubble_s: float
    bubble_fraction: float
    tokens_per_s: float
    tflops_per_device: float
    mfu: float
    energy_per_step_j: float
    compute_j: float
    comm_j: float
    bubble_j: float
    host_j: float
    energy_per_token_j: float
    memory: MemoryUse
    feasible: bool
    reason: str
    duration_s: float | None = None
    energy_j: float | None = None
    #: Whole steps of the run (tokens over tokens per step, rounded up).
    steps: int | None = None
    kind: str = "estimated"
    assumptions: list[str] = field(default_factory=list)
    #: How activations are kept: "full" or "selective" recomputation, or "none".
    recompute_mode: str = "none"
    virtual: int = 1
    sp: bool = False
    #: Host CPU seconds per step a device spends on its messages
    #: (``Links.cpu_s_per_message`` and ``cpu_s_per_byte``; 0 when the links carry none),
    #: the wall seconds that work adds beyond the links' own time (at the device's share
    #: of a CPU it may take longer than the link), and the energy of all devices for
    #: those CPU seconds above idle (their communication then draws idle watts).
    messaging_cpu_s: float = 0.0
    messaging_s: float = 0.0
    messaging_j: float = 0.0

    @property
    def comm_s(self) -> float:
        return self.tp_comm_s + self.pp_comm_s + self.dp_comm_s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["comm_s"] = self.comm_s
        return d


def _flops_per_token(model: ModelShape, recompute: bool,
                     selective: bool = False) -> tuple[float, float]:
    """Model FLOPs per token (PaLM, Chowdhery et al. 2022, appendix B) and the FLOPs
    the hardware runs (a second forward of the layers when recomputing in full, of the
    attention core alone when recomputing selectively without a fused kernel)."""
    attention = 12.0 * model.layers * model.hidden * model.seq_len
    model_f = 6.0 * model.params + attention
    if not recompute:
        if selective and not model.flash_attention:
            return model_f, model_f + attention / 3.0
        return model_f, model_f
    layer_params = max(model.params - model.vocab * model.hidden, 0.0)
    return model_f, model_f + 2.0 * layer_params + attention / 3.0


def estimate_layout(
    model: ModelShape | str,
    layout: Layout | str,
    hardware: str | None = None,
    *,
    global_batch: int,
    tokens: float | None = None,
    precision: str = "bf16",
    node: str | None = None,
    device: Device | None = None,
    links: Links | None = None,
    gemm_efficiency: float = GEMM_EFFICIENCY,
    host_w: float = 0.0,
    deadline_s: float | None = None,
    value_bytes: float = 2.0,
    grad_reduce_bytes: float | None = None,
) -> LayoutEstimate:
    """Estimate one training step of ``global_batch`` sequences under ``layout``.

    ``hardware`` names an accelerator (``device_for``) or ``device`` describes any
    device, a CPU rank included (``cpu_device``); ``links`` replaces the node type's
    bandwidths (``node`` picks one by name). ``tokens``, the run's training tokens,
    adds its duration and energy; ``deadline_s`` marks the layout infeasible if the
    run would take longer. ``host_w`` is host power per device (CPUs, DRAM, NICs)
    added over the whole step; 0 counts the devices alone. ``value_bytes`` is the
    size of each activation, weight and gradient value sent (2 for bf16, 4 for
    fp32); ``grad_reduce_bytes`` that of the gradients as accumulated and reduced
    (default ``value_bytes``; 4 where they are kept and reduced in fp32).
    """
    shape = parse_model(model)
    if value_bytes not in (1, 2, 4, 8):
        raise BadInput(f"value_bytes must be 1, 2, 4 or 8, got {value_bytes!r}")
    grad_b = value_bytes if grad_reduce_bytes is None else grad_reduce_bytes
    if grad_b not in (1, 2, 4, 8):
        raise BadInput(f"grad_reduce_bytes must be 1, 2, 4 or 8, got {grad_reduce_bytes!r}")
    lay = parse_layout(layout) if isinstance(layout, str) else layout
    check_layout(lay, model=shape)
    if device is None:
        if hardware is None:
            raise BadInput("give hardware (an accelerator name) or a device")
        device = device_for(hardware, precision)
    if not (isinstance(device.cpu_share, (int, float)) and 0 < device.cpu_share <= 1):
        raise BadInput(f"device cpu_share must be in (0, 1], got {device.cpu_share!r}")
    if links is None:
        if lay.devices == 1:
            links = Links("single device", 1, 1.0, 1.0)
        else:
            links = links_for(device.name, node)
    if not isinstance(global_batch, int) or global_batch < 1:
        raise BadInput("global batch must be a positive whole number of sequences, "
                       f"got {global_batch!r}")
    if global_batch > MAX_GLOBAL_BATCH:
        raise BadInput(f"global batch {_big(global_batch)} sequences is more than the "
                       f"{MAX_GLOBAL_BATCH:,} this estimate takes")
    if tokens is not None and not _whole(tokens):
        raise BadInput(f"tokens must be a positive whole number, got {tokens!r}")
    if global_batch % lay.dp:
        raise BadInput(f"global batch {global_batch} does not split over dp={lay.dp}")
    if not 0 < gemm_efficiency <= 1:
        raise BadInput(f"gemm_efficiency must be in (0, 1], got {gemm_efficiency}")
    per_replica = global_batch // lay.dp
    m = lay.microbatches if lay.microbatches is not None else per_replica
    if per_replica % m:
        raise BadInput(f"microbatches={m} do not divide the {per_replica} sequences per "
                       f"data-parallel replica (global batch {global_batch} / dp={lay.dp})")
    micro = per_replica // m
    notes: list[str] = []

    params_per_device = shape.params / (lay.tp * lay.pp)
    layers_per_stage = shape.layers / lay.pp
    act: dict[str, Any] = dict(
        seq=shape.seq_len, micro_batch=micro, hidden=shape.hidden, heads=shape.heads,
        layers_per_stage=layers_per_stage, tp=lay.tp, in_flight=min(m, lay.pp),
        flash_attention=shape.flash_attention, sp=lay.sp, selective=lay.selective,
        pp=lay.pp, virtual=lay.virtual,
    )
    mem_kw: dict[str, Any] = dict(params_per_device=params_per_device, dp=lay.dp,
                                  zero=lay.zero, device_memory_gb=device.memory_gb,
                                  grad_bytes=max(2.0, float(grad_b)))
    if lay.recompute is None:
        mem = memory_use(recompute=False, **mem_kw, **act)
        if not mem.fits:
            mem = memory_use(recompute=True, **mem_kw, **act)
            notes.append("activations recomputed: they would not fit otherwise")
    else:
        mem = memory_use(recompute=lay.recompute, **mem_kw, **act)
    recompute = mem.recompute
    selective = lay.selective and not recompute
    mode = "full" if recompute else "selective" if selective else "none"

    model_fpt, hw_fpt = _flops_per_token(shape, recompute, selective)
    tokens_per_step = float(global_batch) * shape.seq_len
    rate = gemm_efficiency * device.peak_flops
    # Per micro-batch, per device: its share of the layers and of each layer's GEMMs.
    t_mb = hw_fpt * micro * shape.seq_len / (lay.tp * lay.pp) / rate
    lat = links.latency_s
    act_bytes = value_bytes * micro * shape.seq_len * shape.hidden
    tp_bw, tp_where = group_bandwidth_gb_s(links, lay.tp, 1)
    per_layer = 6 if recompute else 4
    t_tp = per_layer * layers_per_stage * ring_all_reduce_s(act_bytes, lay.tp, tp_bw, lat)
    pp_bw, pp_where = group_bandwidth_gb_s(links, lay.pp, lay.tp * lay.dp)
    sends = 2.0 * lay.virtual
    t_pp = sends * point_to_point_s(act_bytes / lay.tp, pp_bw, lat) if lay.pp > 1 else 0.0
    dp_bw, dp_where = group_bandwidth_gb_s(links, lay.dp, lay.tp)
    weight_bytes = value_bytes * params_per_device
    grad_bytes = grad_b * params_per_device
    if lay.zero == 3:
        t_dp = m * (2 * ring_gather_s(weight_bytes, lay.dp, dp_bw, lat)
                    + ring_gather_s(grad_bytes, lay.dp, dp_bw, lat))
    elif lay.zero or grad_b != value_bytes:
        # a reduce-scatter of the gradients, an all-gather of the updated weights
        t_dp = (ring_gather_s(grad_bytes, lay.dp, dp_bw, lat)
                + ring_gather_s(weight_bytes, lay.dp, dp_bw, lat))
    else:
        t_dp = ring_all_reduce_s(grad_bytes, lay.dp, dp_bw, lat)
    tp_ends, tp_moved = ring_all_reduce_ends(act_bytes, lay.tp)
    tp_calls = per_layer * layers_per_stage
    msg = messaging_cpu(
        links,
        [(tp_calls * tp_ends, tp_calls * tp_moved),
         pipeline_ends(act_bytes / lay.tp, lay.pp, lay.virtual)],
        data_parallel_ends(bool(lay.zero) or grad_b != value_bytes, lay.zero == 3, m,
                           weight_bytes, grad_bytes, lay.dp),
        m,
    )
    # The links' measured times already hold the messages' CPU work as it ran then: a
    # communication takes the longer of its link time and that work at the device's share.
    extra_mb = max(0.0, msg.per_microbatch_s / device.cpu_share - (t_tp + t_pp))
    extra_dp = max(0.0, msg.per_step_s / device.cpu_share - t_dp)
    slot = t_mb + t_tp + t_pp + extra_mb
    bubble_s = (lay.pp - 1) * slot / lay.virtual
    compute_s = m * t_mb
    messaging_cpu_s = msg.total_s(m)
    messaging_s = m * extra_mb + extra_dp
    step_s = m * slot + bubble_s + t_dp + extra_dp
    comm_s = m * (t_tp + t_pp) + t_dp
    n = lay.devices
    compute_j = n * compute_s * device.busy_w
    bubble_j = n * bubble_s * device.idle_w
    if messaging_cpu_s:
        # measured CPU seconds above idle replace the guess that communicating keeps a CPU
        # busy: the communication's wall time draws idle watts
        comm_j = n * (comm_s + messaging_s) * device.idle_w
        messaging_j = n * messaging_cpu_s * (device.busy_w - device.idle_w) / device.cpu_share
    else:
        comm_j = n * comm_s * device.comm_w
        messaging_j = 0.0
    host_j = n * step_s * host_w
    energy = compute_j + comm_j + bubble_j + messaging_j + host_j
    mfu = model_fpt * tokens_per_step / (step_s * n * device.peak_flops)

    if lay.tp > 1:
        notes.append(f"tensor-parallel all-reduces {tp_where} at {tp_bw:g} GB/s per device")
    if lay.pp > 1:
        notes.append(f"pipeline sends {pp_where} at {pp_bw:g} GB/s (scatter/gather: 1/tp each)")
    if lay.dp > 1:
        dp_kind = ("gathers" if lay.zero == 3 else "reduce-scatter and weight all-gather"
                   if lay.zero or grad_b != value_bytes else "all-reduce")
        notes.append(f"gradient {dp_kind} {dp_where} at "
                     f"{dp_bw:g} GB/s per device, after the pipeline flush (not overlapped)")
    if lay.virtual > 1:
        notes.append(f"interleaved 1F1B schedule, {lay.virtual} model chunks per device: "
                     f"bubble (P-1)/(V M + P-1) = {lay.pp - 1}/({lay.virtual} x {m} + "
                     f"{lay.pp - 1}) of the pipelined step, {lay.virtual}x the pipeline sends")
    chunks = lay.pp * lay.virtual
    if chunks > 1 and shape.layers % chunks and (shape.layers + 2) % chunks:
        notes.append(f"{shape.layers} layers (with or without the embedding and output "
                     f"chunks) do not split into {chunks} equal pipeline chunks: the fullest "
                     "stage sets the pace, which this estimate, taking even stages, does not "
                     "see")
    if lay.sp:
        notes.append(f"sequence parallel: activations split over the {lay.tp} tensor-parallel "
                     "ranks (reduce-scatter + all-gather: the all-reduce's bytes)")
    if selective:
        notes.append("selective recomputation: attention scores not stored"
                     + ("" if shape.flash_attention else "; the attention core is recomputed"))
    if value_bytes != 2 or grad_b != value_bytes:
        notes.append(f"{value_bytes:g} bytes per activation and weight value sent, "
                     f"{grad_b:g} per gradient value")
    if lat:
        notes.append(f"{lat * 1e6:.3g} us per message on every link")
    if messaging_cpu_s:
        notes.append(messaging_note(links, msg, m, device.cpu_share))
    notes.append(f"compute at {gemm_efficiency:g} x dense peak ({device.peak_flops / 1e12:g} "
                 "TFLOP/s); FLOPs = 6 x params + 12 x layers x hidden x seq per token")
    notes.append(f"power: busy {device.busy_w:.0f} W, communicating {device.comm_w:.0f} W, "
                 f"waiting {device.idle_w:.0f} W [{device.source}]")
    if host_w == 0:
        notes.append("accelerators only: host CPUs, DRAM and network not counted (give host_w)")

    reason = ""
    if not mem.fits:
        reason = (f"needs {mem.total_gb:.0f} GB per device (weights {mem.weights_gb:.0f}, "
                  f"grads {mem.gradients_gb:.0f}, optimizer {mem.optimizer_gb:.0f}, activations "
                  f"{mem.activations_gb:.0f}) of {mem.usable_gb:.0f} GB usable")
    duration = energy_total = None
    steps: int | None = None
    if tokens is not None:
        # A run trains whole steps: the last one is a full step even when fewer
        # tokens are left for it.
        steps = max(1, math.ceil(float(tokens) / tokens_per_step))
        duration = steps * step_s
        energy_total = steps * energy
        if steps * tokens_per_step != tokens:
            notes.append(f"run: {tokens:,.0f} tokens rounded up to {steps:,} whole "
                         f"step{'s' if steps > 1 else ''} of {tokens_per_step:,.0f} tokens")
        if deadline_s is not None and duration > deadline_s and not reason:
            reason = (f"takes {duration_text(duration)}, past the deadline of "
                      f"{duration_text(deadline_s)}")
    return LayoutEstimate(
        model=shape.name,
        layout=replace(lay, recompute=None if selective else recompute).label(), dp=lay.dp,
        tp=lay.tp, pp=lay.pp, zero=lay.zero, recompute=recompute, devices=n,
        hardware=device.name, node=links.name, global_batch=global_batch, micro_batch=micro,
        microbatches=m, step_s=step_s, compute_s=compute_s, tp_comm_s=m * t_tp,
        pp_comm_s=m * t_pp, dp_comm_s=t_dp, bubble_s=bubble_s,
        bubble_fraction=bubble_s / step_s, tokens_per_s=tokens_per_step / step_s,
        tflops_per_device=hw_fpt * tokens_per_step / step_s / n / 1e12, mfu=mfu,
        energy_per_step_j=energy, compute_j=compute_j, comm_j=comm_j, bubble_j=bubble_j,
        host_j=host_j, energy_per_token_j=energy / tokens_per_step, memory=mem,
        feasible=not reason, reason=reason, duration_s=duration, energy_j=energy_total,
        steps=steps, assumptions=notes, recompute_mode=mode, virtual=lay.virtual, sp=lay.sp,
        messaging_cpu_s=messaging_cpu_s, messaging_s=messaging_s, messaging_j=messaging_j,
    )


@dataclass(frozen=True)
class LayoutRanking:
    """Feasible layouts, least energy first; the infeasible ones with their reasons."""

    feasible: list[LayoutEstimate]
    infeasible: list[LayoutEstimate]
    why: str

    @property
    def too_big(self) -> int:
        """Layouts that do not fit in a device's memory."""
        return sum(1 for e in self.infeasible if not e.memory.fits)

    @property
    def too_slow(self) -> int:
        """Layouts that fit in memory but miss the deadline."""
        return len(self.infeasible) - self.too_big

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "estimated", "why": self.why, "do_not_fit": self.too_big,
                "miss_deadline": self.too_slow,
                "feasible": [e.to_dict() for e in self.feasible],
                "infeasible": [e.to_dict() for e in self.infeasible]}


def _divisors(n: int) -> list[int]:
    """The divisors of ``n``, ascending, from its prime factors (no loop up to n)."""
    factors: dict[int, int] = {}
    rest, p = n, 2
    while p * p <= rest:
        while rest % p == 0:
            factors[p] = factors.get(p, 0) + 1
            rest //= p
        p += 1 if p == 2 else 2
    if rest > 1:
        factors[rest] = factors.get(rest, 0) + 1
    divs = [1]
    for prime, power in factors.items():
        divs = [d * prime**k for d in divs for k in range(power + 1)]
    return sorted(divs)


def _whole(x: object) -> bool:
    """Whether ``x`` is a finite whole number of at least 1 (an int or a float)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return math.isfinite(x) and x >= 1 and x == math.floor(x)


def _big(n: int) -> str:
    """A whole number with thousands separators, or as 1e+30 when it is huge."""
    return f"{n:,}" if n < 10**15 else f"{float(n):.3g}"


def duration_text(seconds: float) -> str:
    """A duration in the unit that reads best: s, min, h or days."""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def candidate_layouts(model: ModelShape, gpus: int, global_batch: int,
                      zero_stages: tuple[int, ...] = (0, 1, 2, 3)) -> list[Layout]:
    """Every dp x tp x pp = gpus the model and batch allow, at one sequence per micro-batch."""
    out = []
    for tp in _divisors(gpus):
        if model.heads % tp:
            continue
        for pp in _divisors(gpus // tp):
            dp = gpus // (tp * pp)
            if pp > model.layers or global_batch % dp:
                continue
            for zero in zero_stages:
                if (zero and dp == 1) or (zero == 3 and pp > 1):
                    continue
                out.append(Layout(dp=dp, tp=tp, pp=pp, zero=zero))
    return out


def _why(best: LayoutEstimate, rest: list[LayoutEstimate]) -> str:
    other = next((e for e in rest if (e.dp, e.tp, e.pp) != (best.dp, best.tp, best.pp)), None)
    if other is None:
        return f"{best.layout} is the only feasible split"
    saved = 1 - best.energy_per_token_j / other.energy_per_token_j
    if saved < 0.0005:
        return (f"{best.layout} and {other.layout} use the same energy within 0.05% "
                f"({best.energy_per_token_j:.4g} and {other.energy_per_token_j:.4g} J/token); "
                f"{best.layout} takes {best.step_s:.3g} s per step against {other.step_s:.3g} s "
                f"and needs {best.memory.total_gb:.0f} GB per device against "
                f"{other.memory.total_gb:.0f} GB")
    parts = {
        "compute": (other.compute_j - best.compute_j,
                    f"it computes {best.compute_s:.3g} s per step against {other.compute_s:.3g} s"
                    + (" (no recomputation)" if other.recompute and not best.recompute else "")),
        "comm": (other.comm_j - best.comm_j,
                 f"it communicates {best.comm_s:.3g} s per step against {other.comm_s:.3g} s"),
        "bubble": (other.bubble_j - best.bubble_j,
                   f"its devices wait {best.bubble_fraction:.0%} of the step in the pipeline "
                   f"bubble against {other.bubble_fraction:.0%}"),
    }
    _, text = max(parts.values(), key=lambda p: p[0])
    return f"{best.layout} uses {saved:.1%} less energy than {other.layout}: {text}"


def rank_layouts(
    model: ModelShape | str,
    gpus: int,
    hardware: str | None = None,
    *,
    global_batch: int,
    tokens: float | None = None,
    deadline_s: float | None = None,
    precision: str = "bf16",
    node: str | None = None,
    device: Device | None = None,
    links: Links | None = None,
    gemm_efficiency: float = GEMM_EFFICIENCY,
    host_w: float = 0.0,
    zero_stages: tuple[int, ...] = (0, 1, 2, 3),
) -> LayoutRanking:
    """Try every layout of ``gpus`` devices; rank those that fit (and meet the deadline)
    by energy per token, then time. ``why`` says in one line why the first wins."""
    shape = parse_model(model)
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
        raise BadInput(f"gpus must be a positive whole number, got {gpus!r}")
    limits.check(gpus, limits.DEVICES, "gpus", "devices")
    if deadline_s is not None and tokens is None:
        raise BadInput("a deadline needs the run's tokens to know how long it takes")
    cands = candidate_layouts(shape, gpus, global_batch, zero_stages)
    if not cands:
        raise BadInput(f"no layout of {gpus} devices suits the model ({shape.heads} heads, "
                       f"{shape.layers} layers) and global batch {global_batch}")
    ests = [estimate_layout(shape, c, hardware, global_batch=global_batch, tokens=tokens,
                            precision=precision, node=node, device=device, links=links,
                            gemm_efficiency=gemm_efficiency, host_w=host_w,
                            deadline_s=deadline_s) for c in cands]
    ok = sorted((e for e in ests if e.feasible),
                key=lambda e: (e.energy_per_token_j, e.step_s, e.zero, e.pp, e.tp))
    bad = [e for e in ests if not e.feasible]
    if ok:
        why = _why(ok[0], ok[1:])
    else:
        late = [e for e in bad if e.memory.fits]
        if late and deadline_s is not None:
            fastest = min(late, key=lambda e: e.duration_s or 0.0)
            why = (f"none of the {len(late)} layouts that fit in memory meets the deadline of "
                   f"{duration_text(deadline_s)}: the fastest, {fastest.layout}, takes "
                   f"{duration_text(fastest.duration_s or 0.0)}")
            if len(late) < len(bad):
                why += f"; {len(bad) - len(late)} more do not fit in memory"
        else:
            least = min(bad, key=lambda e: e.memory.total_gb)
            why = (f"none of the {len(bad)} layouts fits in memory: the smallest, "
                   f"{least.layout}, {least.reason}")
    return LayoutRanking(ok, bad, why)


_DURATION = re.compile(r"^\s*([0-9.eE+]+)\s*(s|sec|min|h|hours?|d|days?)?\s*$")
_UNIT_S = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400,
           "day": 86400, "days": 86400}


def parse_duration(text: str) -> float:
    """Seconds in "30d", "36h", "90min", "3600s" or "3600" (seconds)."""
    match = _DURATION.match(text or "")
    if not match:
        raise BadInput(f"deadline {text!r} is not a duration like 30d, 36h, 90min or 3600s")
    try:
        value = float(match.group(1))
    except ValueError:
        raise BadInput(f"deadline {text!r} is not a duration like 30d, 36h or 3600s") from None
    if not math.isfinite(value) or value <= 0:
        raise BadInput(f"deadline must be positive, got {text!r}")
    return value * _UNIT_S[match.group(2) or "s"]
