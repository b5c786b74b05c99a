"""The defaults that stand in for what the user did not give, each with its source.

A default is a range, never a point: outputs that depend on one carry its
low/high. Where the central value is a midpoint of two published figures,
that is said here and in the assumptions of every estimate that uses it.
"""

from __future__ import annotations

from wattwise.estimate._figures import Range

#: Model FLOPs utilisation of dense transformer training. GPT-3 (21.3 %) and Gopher
#: (32.5 %), in PaLM's table too, are left out because docs/calibration.md compares
#: against those runs; the low end comes from a run on the same GPU generation as GPT-3.
MFU = Range(0.23, 0.40, 0.46)
MFU_SOURCE = (
    "low 0.23 = Megatron-LM 8.3B on 512 V100 (15.1 PFLOP/s sustained, 76 % of a single-GPU "
    "baseline at 30 % of peak; Shoeybi et al. 2019, abstract); high 0.46 = PaLM 540B on TPU v4 "
    "(46.2 %, Chowdhery et al. 2022, Table 3); central 0.40 = Llama 3 405B on H100 (38-43 %, "
    "Dubey et al. 2024, Table 4); MT-NLG 530B on A100 reached 30.2 % (PaLM, Table 3)"
)

#: Accelerator power as a fraction of TDP while compute-bound (training, prefill).
POWER_FRACTION_COMPUTE = Range(0.55, 0.77, 0.99)
POWER_FRACTION_COMPUTE_SOURCE = (
    "wattwise NVML recordings (H100 SXM, H200; shared/data/nvml): bf16 matmul draws "
    "692 W of 700 W TDP (0.99), an HBM-bound copy 386-471 W (0.55-0.67); "
    "central 0.77 = midpoint of 0.55 and 0.99"
)

#: Average draw of a whole GPU server during training, as a fraction of its rated maximum.
SYSTEM_POWER_FRACTION = Range(0.64, 0.76, 0.82)
SYSTEM_POWER_FRACTION_SOURCE = (
    "8-GPU H100 HGX node measured during training: central 0.76 = Newkirk et al. 2025 "
    "(arXiv:2506.14551, compute-intensive training at 76 % of the 10.2 kW rating); high "
    "0.82 = Latif et al. 2024 (arXiv:2412.08602, peak 8.4 kW of 10.2 kW observed); low 0.64 "
    "= 6.5 kW 'typical' DGX H100 draw (supercluster.blog, a secondary source); measured on "
    "H100 only and assumed to hold for other GPU servers"
)

#: CPU utilisation of an accelerator's host during training (input pipeline, launch, I/O).
HOST_CPU_UTILISATION = Range(0.10, 0.50, 0.90)
HOST_CPU_UTILISATION_SOURCE = (
    "assumed: no published host CPU utilisation of accelerator training was found; "
    "0.1-0.9 spans a host that only launches work to one that decodes and augments "
    "input, central 0.5 = midpoint"
)

#: Fraction of a large run's wall-clock time that advances training (restarts,
#: failures, checkpointing and evaluation take the rest).
GOODPUT = Range(0.78, 0.90, 0.99)
GOODPUT_SOURCE = (
    "central 0.90 = Llama 3 (Dubey et al. 2024: >90 % effective training time on 16k H100); "
    "high 0.99 = AWS HLAT on 4096 Trainium with automatic restarts (98.8 %), low 0.78 = the "
    "same with manual restarts (77.8 %); Gemini (TPU v4) 85-97 %; as tabulated at "
    "glennklockwood.com/garden/job-reliability"
)

#: Accelerator power as a fraction of TDP while memory-bandwidth-bound (decode).
POWER_FRACTION_MEMORY = Range(0.55, 0.61, 0.67)
POWER_FRACTION_MEMORY_SOURCE = (
    "wattwise NVML recordings: 4 GiB HBM copy at 386 W on H100 SXM (0.55 of TDP) and "
    "471 W on H200 (0.67); central = midpoint"
)

#: Achieved fraction of peak memory bandwidth in decode steps.
BANDWIDTH_EFFICIENCY = Range(0.50, 0.70, 0.90)
BANDWIDTH_EFFICIENCY_SOURCE = (
    "high 0.9 = a plain HBM copy on H100 SXM (3.03 of 3.35 TB/s) and H200 (4.29 of "
    "4.8 TB/s), wattwise NVML recordings; low 0.5 is an assumption for small decode "
    "kernels; central = midpoint"
)

#: PUE of a data centre whose operator is not given (more devices than one machine holds).
PUE = Range(1.10, 1.33, 1.56)
PUE_SOURCE = (
    "low 1.10 = Google's published fleet trailing-twelve-month PUE (as used by the Cloud "
    "Carbon Footprint methodology); high 1.56 = industry average at surveyed sites (Uptime "
    "Institute Global Data Center Survey 2024); central 1.33 = midpoint"
)

#: PUE when no site is given and the devices fit one machine: it may stand on a desk
#: (no facility overhead), run as one cloud VM, or sit in any data centre.
PUE_ONE_MACHINE = Range(1.0, 1.28, 1.56)
PUE_ONE_MACHINE_SOURCE = (
    "low 1.0 = a machine on a desk or in an office, no facility overhead; a cloud VM "
    "runs at its provider's fleet PUE (1.10-1.19: Google, AWS, Azure); high 1.56 = industry "
    "average at surveyed sites (Uptime Institute 2024); central 1.28 = midpoint"
)

#: The most accelerators one server holds (8 on HGX/DGX boards): up to this many, the
#: devices may be one machine, so the site's PUE may be 1.0.
ONE_MACHINE_MAX_DEVICES = 8

#: What the power per device counts when it is not given: "system" (the device's share
#: of its server, host included), "gpu" (the accelerator alone, a fraction of its TDP)
#: or "tdp" (the accelerator's TDP, the convention of reports that multiply TDP by
#: GPU-hours). Training and inference share the default.
POWER_BASES = ("system", "gpu", "tdp")
DEFAULT_POWER_BASIS = "system"
#: How each basis is named in outputs ("given": the user's own power per device; "cpu":
#: a CPU engine's package power, the only one wattwise models for a CPU).
POWER_BASIS_NAMES = {
    "system": "system share incl. host",
    "gpu": "accelerator only",
    "tdp": "accelerator TDP",
    "given": "as given",
    "cpu": "CPU package only",
    "none": "none (energy not estimated)",
}

#: Service life over which a device's embodied emissions are amortised.
LIFETIME_YEARS = Range(3.0, 4.0, 6.0)
LIFETIME_SOURCE = (
    "central 4 years = server lifetime of the Cloud Carbon Footprint methodology; "
    "3-6 years is an assumed spread"
)

#: Two given inputs that should agree may differ by this much (relative).
CONSISTENCY_TOLERANCE = 0.25

#: Bytes per weight for each precision (weights stored in that format).
BYTES_PER_PARAM: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
}

#: How a power cap below the board's own draw slows the work: the work's rate scales as
#: (power available above idle / power the work would draw above idle) ** exponent.
POWER_CAP_EXPONENT = Range(1 / 3, 2 / 3, 1.0)
POWER_CAP_EXPONENT_SOURCE = (
    "assumed from how dynamic power follows the clock: P_dyn ~ f x V^2, so where voltage "
    "scales with frequency P_dyn ~ f^3 and the rate ~ P^(1/3) (low end), and where voltage "
    "is already at its floor P_dyn ~ f and the rate ~ P (high end, throughput proportional to "
    "the power above idle); central = midpoint. Idle power is drawn whatever the cap, so a "
    "cap never takes the draw below idle"
)
