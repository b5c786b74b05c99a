"""Compression studies of the built-in suite (``digits-mlp``, ``minilm-embed``).

Quality is put on a 0-100 scale so a floor of "1 point lost" means one
percentage point of test accuracy for digits, and 0.01 of cosine fidelity to
fp32 for MiniLM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattwise.compress._base import Config
from wattwise.compress.distill import Distill
from wattwise.compress.precision import Autocast
from wattwise.compress.prune import PruneStructured, PruneUnstructured
from wattwise.compress.quantize import Int8Dynamic, Int8Static
from wattwise.compress.study import StudyTask
from wattwise.errors import BadInput

#: MiniLM's Linear layers that lose the most cosine fidelity when quantized
#: alone (per-channel weights, 7-bit activations; ``layer_sensitivity``,
#: BENCHMARKS.md, Compression). Keeping these five in fp32 lifts fidelity from
#: 0.979 to 0.991 where 8-bit activations are unavailable.
MINILM_SENSITIVE = (
    "encoder.layer.0.output.dense",
    "encoder.layer.4.intermediate.dense",
    "encoder.layer.1.output.dense",
    "encoder.layer.3.intermediate.dense",
    "encoder.layer.1.intermediate.dense",
)
#: Fine-tuning epochs after structured pruning where the suite has labels.
FINETUNE_EPOCHS = 10

SUITES = ("digits-mlp", "minilm-embed")
DEFAULT_METHODS = {
    "digits-mlp": ("int8-dynamic", "int8-static", "prune-unstructured:0.5",
                   "prune-structured:0.5", "distill:32", "autocast-bf16"),
    "minilm-embed": ("int8-dynamic", "int8-static", "prune-unstructured:0.3",
                     "prune-structured:0.3", "autocast-bf16"),
}


def suite_task(name: str, batch_size: int | None = None, threads: int | None = None
               ) -> StudyTask:
    """The suite entry's reference model, step and quality as a study task.

    ``threads`` pins torch's intra-op threads in every benchmark step
    (``None`` leaves torch's setting as it is).
    """
    from wattwise.bench.suite import get_entry

    if name not in SUITES:
        raise BadInput(f"unknown model {name!r} to compress (choose from: {', '.join(SUITES)})")
    entry = get_entry(name)
    bs = entry.default_batch_size if batch_size is None else batch_size
    if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
        raise BadInput(f"batch size must be a positive integer, got {bs!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise BadInput(f"threads must be a positive integer, got {threads!r}")
    model = entry.load()
    kwargs: dict[str, Any] = {}
    if name == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        example: tuple[Any, ...] = (digits_data().x_test[:1],)
        unit = "% test accuracy"
    else:
        from wattwise.bench.suite.minilm import minilm_inputs

        example, kwargs = (), minilm_inputs(1)
        unit = "cosine fidelity x 100"
    return StudyTask(
        name=name, model=model,
        make_step=lambda m: entry.make_step(bs, m, threads=threads),
        quality=lambda m: 100.0 * entry.quality(m),
        quality_name=entry.quality_name, quality_unit=unit,
        example_inputs=example, example_kwargs=kwargs,
    )


def default_int8_dynamic(suite: str) -> Int8Dynamic:
    """The suite's int8-dynamic scheme: the best fidelity at >= 1.5x measured here.

    MiniLM: per-channel weights with 8-bit activations where the CPU has
    AVX512-VNNI (fidelity 0.994), else per-channel with its five most
    sensitive layers in fp32 (0.991). digits: torch's defaults, which lose
    nothing there.
    """
    from wattwise.compress.quantize import has_vnni

    if suite != "minilm-embed":
        return Int8Dynamic()
    if has_vnni():
        return Int8Dynamic(per_channel=True, full_range=True)
    return Int8Dynamic(per_channel=True, skip=MINILM_SENSITIVE)


def _int8_dynamic(arg: str, suite: str) -> Int8Dynamic:
    if not arg:
        return default_int8_dynamic(suite)
    per_channel = full_range = False
    skip: list[str] = []
    for token in arg.split("+"):
        if token == "pc":
            per_channel = True
        elif token == "8bit":
            full_range = True
        elif token == "torch":
            pass
        elif token == "skip-sensitive" and suite == "minilm-embed":
            skip.extend(MINILM_SENSITIVE)
        elif token.startswith("skip="):
            skip.extend(p for p in token[5:].split(";") if p)
        else:
            raise ValueError(f"unknown int8-dynamic option {token!r} (torch, pc, 8bit, "
                             "skip=PATTERN;PATTERN, skip-sensitive for minilm-embed)")
    return Int8Dynamic(skip=tuple(skip), per_channel=per_channel, full_range=full_range)


#: Bounds of method settings: a student's layers and widths, fine-tuning epochs.
MAX_LAYERS = 8
MAX_WIDTH = 4096
MAX_EPOCHS = 1000


def _amount(text: str) -> float:
    """A pruning share in (0, 1); 0.5 when not given."""
    x = float(text) if text else 0.5
    if not 0 < x < 1:  # NaN fails too
        raise ValueError(f"amount must be a fraction between 0 and 1, got {text}")
    return x


def _whole(text: str, what: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and low <= int(text) <= high):
        raise ValueError(f"{what} must be a whole number from {low} to {high}, got {text!r:.30}")
    return int(text)


def parse_method(spec: str, suite: str) -> Config:
    """``int8-dynamic[:OPTIONS]``, ``int8-static``, ``prune-unstructured:0.5``,
    ``prune-structured:0.5[:EPOCHS]``, ``distill:32`` (or ``distill:64x32``),
    ``autocast-bf16`` or ``autocast-fp16`` as a config with the suite's data.

    ``int8-dynamic`` alone is the suite's chosen scheme (``default_int8_dynamic``);
    OPTIONS joins ``torch`` (torch's defaults), ``pc``, ``8bit``,
    ``skip=PATTERN;PATTERN`` and ``skip-sensitive`` with ``+``. Structured
    pruning fine-tunes for EPOCHS (default 10 where the suite has labels, 0
    otherwise).
    """
    import torch

    if len(spec) > 200 or "\x00" in spec:
        raise BadInput(f"unknown method {spec[:60]!r}... (too long, or holds a NUL byte)")
    name, _, arg = spec.strip().partition(":")
    try:
        if name == "int8-dynamic":
            return _int8_dynamic(arg, suite)
        if name == "int8-static" and not arg:
            return Int8Static(calibration=_calibration(suite))
        if name == "prune-unstructured":
            return PruneUnstructured(_amount(arg))
        if name == "prune-structured":
            amount, _, epochs = arg.partition(":")
            data = _train(suite)
            n = _whole(epochs, "epochs", 0, MAX_EPOCHS) if epochs else \
                (FINETUNE_EPOCHS if data is not None else 0)
            return PruneStructured(_amount(amount), finetune_epochs=n, data=data)
        if name == "distill":
            widths = (arg or "32").split("x")
            if len(widths) > MAX_LAYERS:
                raise ValueError(f"at most {MAX_LAYERS} hidden layers")
            hidden = tuple(_whole(h, "hidden width", 1, MAX_WIDTH) for h in widths)
            return Distill(student_hidden=hidden, data=_train(suite))
        if name in ("autocast-bf16", "autocast-fp16") and not arg:
            return Autocast(torch.bfloat16 if name.endswith("bf16") else torch.float16)
    except ValueError as exc:
        raise BadInput(f"bad setting in method {spec!r}: {exc}") from exc
    raise BadInput(
        f"unknown method {spec!r} (choose from: int8-dynamic[:OPTIONS], int8-static, "
        "prune-unstructured:AMOUNT, prune-structured:AMOUNT[:EPOCHS], distill:HIDDEN, "
        "autocast-bf16, autocast-fp16)"
    )


def parse_methods(specs: Sequence[str], suite: str) -> list[Config]:
    return [parse_method(s, suite) for s in specs if s.strip()]


def _calibration(suite: str) -> list[Any]:
    if suite == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        x = digits_data().x_train
        return [x[i:i + 256] for i in range(0, min(len(x), 1024), 256)]
    from wattwise.bench.suite.minilm import minilm_inputs

    return [minilm_inputs(16)]


def _train(suite: str) -> tuple[Any, Any] | None:
    if suite == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        d = digits_data()
        return (d.x_train, d.y_train)
    return None


def tune_step_factory(name: str) -> Any:
    """``make_step(setting)`` for ``wattwise.tune`` on a suite model (one variant per precision)."""
    from wattwise.bench.suite import get_entry

    if name not in SUITES:
        raise BadInput(f"unknown model {name!r} to tune (choose from: {', '.join(SUITES)})")
    entry = get_entry(name)
    base = entry.load()
    variants: dict[str, Any] = {"fp32": base}

    def make_step(setting: Any) -> Any:
        import torch

        if setting.precision not in variants:
            config: Config = {
                "bf16": Autocast(torch.bfloat16),
                "fp16": Autocast(torch.float16),
                "int8": default_int8_dynamic(name),
            }[setting.precision]
            variants[setting.precision] = config.apply(base)
        return entry.make_step(setting.batch_size, variants[setting.precision])

    return make_step
