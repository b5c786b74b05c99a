"""The defaults that stand in for what the user did not give, each with its source.

A default is a range, never a point: outputs that depend on one carry its
low/high. Where the central value is a midpoint of two published figures,
that is said here and in the assumptions of every estimate that uses it.
"""

from __future__ import annotations

from wattwise.estimate._figures import Range

#: Model FLOPs utilisation of dense transformer training on modern accelerators.
#: GPT-3 (21.3 %) and Gopher (32.5 %), also in PaLM's table, are left out because
#: docs/calibration.md compares against those runs.
MFU = Range(0.30, 0.40, 0.46)
MFU_SOURCE = (
    "low 0.30 = MT-NLG 530B on A100 (30.2 %) and high 0.46 = PaLM 540B on TPU v4 (46.2 %), "
    "Chowdhery et al. 2022 (PaLM), Table 3; central 0.40 = Llama 3 405B on H100 (38-43 %, "
    "Dubey et al. 2024, Table 4); older runs reached less (GPT-3 on V100: 21.3 % in the "
    "same PaLM table)"
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

#: Data-centre power usage effectiveness.
PUE = Range(1.10, 1.56, 1.56)
PUE_SOURCE = (
    "low 1.10 = Google's published fleet trailing-twelve-month PUE (as used by the Cloud "
    "Carbon Footprint methodology); central and high 1.56 = industry average (Uptime "
    "Institute Global Data Center Survey 2024)"
)

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
