"""Compression studies of the built-in suite (``digits-mlp``, ``minilm-embed``) and of the
user's own models (``MODULE:FACTORY``, a local transformers directory).

Quality is put on a 0-100 scale so a floor of "1 point lost" means one
percentage point of test accuracy for digits, and 0.01 of cosine fidelity to
fp32 for MiniLM (and for a user's model scored by output fidelity); a user's
own quality metric is shown as it returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattwise.compress._base import Config
from wattwise.compress.ao import Float8Dynamic, Float8WeightOnly, Int8WeightOnly
from wattwise.compress.distill import Distill
from wattwise.compress.onnxrt import OnnxRuntime
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
#: A user's model on the CPU: methods that need no labels or architecture.
USER_METHODS = ("int8-dynamic", "int8-static", "prune-unstructured:0.3", "autocast-bf16")
#: Any model on a CUDA GPU: the methods that run there.
GPU_METHODS = ("autocast-bf16", "autocast-fp16", "int8-weight-only", "float8-dynamic",
               "float8-weight-only", "prune-unstructured:0.3")
#: Where onnx and onnxruntime are installed, every CPU study adds these.
ONNX_METHODS = ("onnx", "onnx-int8")
METHOD_CHOICES = ("int8-dynamic[:OPTIONS], int8-static, prune-unstructured:AMOUNT, "
                  "prune-structured:AMOUNT[:EPOCHS], distill:HIDDEN, autocast-bf16, "
                  "autocast-fp16, onnx, onnx-int8[:OPTIONS], int8-weight-only, "
                  "float8-dynamic, float8-weight-only")


def entry_of(suite: Any) -> Any:
    """The suite entry of a built-in name, a ``SuiteEntry``, or any target ``resolve`` takes."""
    from wattwise.bench.suite import SuiteEntry, get_entry, resolve

    if isinstance(suite, SuiteEntry):
        return suite
    if suite in SUITES:
        return get_entry(suite)
    return resolve(suite)


def check_device(device: str) -> Any:
    """``device`` as a ``torch.device`` that exists here; one line saying why not."""
    import torch

    if not isinstance(device, str) or len(device) > 40:
        raise BadInput(f"device must be cpu, cuda or cuda:N, got {device!r:.50}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise BadInput(f"unknown device {device!r} (cpu, cuda or cuda:N)") from exc
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise BadInput(f"device {device!r}: studies run on cpu or cuda")
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise BadInput(f"device {device!r}: no CUDA GPU is visible to torch "
                       f"{torch.__version__} ({build})")
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise BadInput(f"device {device!r}: only {count} CUDA GPU(s) here (cuda:0 to "
                       f"cuda:{count - 1})")
    return dev


def default_methods(suite: Any, device: Any = None) -> list[str]:
    """The methods a study of ``suite`` runs when none are named: the suite's own on the
    CPU (plus ONNX Runtime where installed), the GPU methods on a CUDA device."""
    from wattwise.compress.onnxrt import available

    entry = entry_of(suite)
    if device is not None and getattr(device, "type", str(device)) != "cpu":
        return list(GPU_METHODS)
    base = list(DEFAULT_METHODS[entry.name] if entry.builtin else USER_METHODS)
    return base + (list(ONNX_METHODS) if available() else [])


def suite_task(name: Any, batch_size: int | None = None, threads: int | None = None,
               device: Any = None) -> StudyTask:
    """The entry's reference model, step and quality as a study task.

    ``name`` is a built-in name, a ``SuiteEntry`` or any target ``resolve``
    takes. ``threads`` pins torch's intra-op threads in every benchmark step
    (``None`` leaves torch's setting as it is); ``device`` moves a copy of
    the model there (``None``: where it is).
    """
    entry = entry_of(name)
    bs = entry.default_batch_size if batch_size is None else batch_size
    if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
        raise BadInput(f"batch size must be a positive integer, got {bs!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise BadInput(f"threads must be a positive integer, got {threads!r}")
    model = entry.load()
    if device is not None:
        from wattwise.bench.suite._tensors import model_device
        from wattwise.compress._base import copy_model

        dev = check_device(device) if isinstance(device, str) else device
        if model_device(model) != dev:
            model = copy_model(model).to(dev)  # a copy: the reference model stays put
    kwargs: dict[str, Any] = {}
    example: tuple[Any, ...] = ()
    if not entry.builtin:
        try:
            example, kwargs = entry.example() if entry.example is not None else ((), {})
        except BadInput:
            example, kwargs = (), {}  # inputs that cannot be cut to one sample: no FLOPs
        quality = entry.study_quality or entry.quality
        unit = entry.study_unit or entry.quality_name
    elif entry.name == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        example = (digits_data().x_test[:1],)
        unit = "% test accuracy"
    else:
        from wattwise.bench.suite.minilm import minilm_inputs

        kwargs = minilm_inputs(1)
        unit = "cosine fidelity x 100"
    if entry.builtin:
        def quality(m: Any) -> float:
            return 100.0 * entry.quality(m)
    if example or kwargs:
        from wattwise.bench.suite._tensors import model_device, to_device

        dev = model_device(model)
        example, kwargs = to_device(example, dev), to_device(kwargs, dev)
    return StudyTask(
        name=entry.name, model=model,
        make_step=lambda m: entry.make_step(bs, m, threads=threads),
        quality=quality,
        quality_name=entry.quality_name, quality_unit=unit,
        example_inputs=example, example_kwargs=kwargs, bench_task=entry.task,
    )


def default_int8_dynamic(suite: Any) -> Int8Dynamic:
    """The suite's int8-dynamic scheme: the best fidelity at >= 1.5x measured here.

    MiniLM: per-channel weights with 8-bit activations where the CPU has
    AVX512-VNNI (fidelity 0.994), else per-channel with its five most
    sensitive layers in fp32 (0.991). digits and the user's models: torch's
    defaults (lossless on digits).
    """
    from wattwise.compress.quantize import has_vnni

    if _name(suite) != "minilm-embed":
        return Int8Dynamic()
    if has_vnni():
        return Int8Dynamic(per_channel=True, full_range=True)
    return Int8Dynamic(per_channel=True, skip=MINILM_SENSITIVE)


def _name(suite: Any) -> str:
    """A built-in's name (a user's entry never shares one), for the built-ins' settings."""
    name = getattr(suite, "name", suite)
    builtin = getattr(suite, "builtin", True)
    return name if builtin and isinstance(name, str) else ""


def _int8_dynamic(arg: str, suite: Any) -> Int8Dynamic:
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
        elif token == "skip-sensitive" and _name(suite) == "minilm-embed":
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


def _onnx(name: str, arg: str, suite: Any, threads: int | None) -> OnnxRuntime:
    example = _calibration(suite)[0]
    if name == "onnx":
        if arg:
            raise ValueError("onnx takes no options (onnx-int8 does)")
        return OnnxRuntime(example=example, threads=threads)
    per_channel, reduce_range, weight = True, None, "s8"
    for token in arg.split("+") if arg else ():
        if token == "pt":
            per_channel = False
        elif token in ("7bit", "8bit"):
            reduce_range = token == "7bit"
        elif token == "u8":
            weight = "u8"
        else:
            raise ValueError(f"unknown onnx-int8 option {token!r} (pt, 7bit, 8bit, u8)")
    return OnnxRuntime(example=example, int8=True, per_channel=per_channel,
                       reduce_range=reduce_range, weight_type=weight, threads=threads)


def parse_method(spec: str, suite: Any, threads: int | None = None) -> Config:
    """A method as the CLI spells it, as a config with the suite's data.

    ``int8-dynamic[:OPTIONS]``, ``int8-static``, ``prune-unstructured:0.5``,
    ``prune-structured:0.5[:EPOCHS]``, ``distill:32`` (or ``distill:64x32``),
    ``autocast-bf16``, ``autocast-fp16``, ``onnx``, ``onnx-int8[:OPTIONS]``,
    ``int8-weight-only``, ``float8-dynamic``, ``float8-weight-only``.

    ``int8-dynamic`` alone is the suite's chosen scheme (``default_int8_dynamic``);
    OPTIONS joins ``torch`` (torch's defaults), ``pc``, ``8bit``,
    ``skip=PATTERN;PATTERN`` and ``skip-sensitive`` with ``+``. Structured
    pruning fine-tunes for EPOCHS (default 10 where the suite has labels, 0
    otherwise). ``onnx-int8`` OPTIONS: ``pt`` (per-tensor weights), ``7bit``
    or ``8bit`` (weight range; default: 7-bit without VNNI), ``u8`` (uint8
    weights). ``threads`` sets ONNX Runtime's threads (default: torch's).
    ``suite`` is a built-in name or a ``SuiteEntry``.
    """
    import torch

    if len(spec) > 200 or "\x00" in spec:
        raise BadInput(f"unknown method {spec[:60]!r}... (too long, or holds a NUL byte)")
    name, _, arg = spec.strip().partition(":")
    if spec.strip().endswith(":") or "::" in spec:
        raise BadInput(f"method {spec.strip()!r:.80} has an empty option after ':'; give the "
                       f"option or drop the ':' (choose from: {METHOD_CHOICES})")
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
        if name in ("onnx", "onnx-int8"):
            return _onnx(name, arg, suite, threads)
        gpu = {"int8-weight-only": Int8WeightOnly, "float8-dynamic": Float8Dynamic,
               "float8-weight-only": Float8WeightOnly}
        if name in gpu and not arg:
            return gpu[name]()  # type: ignore[no-any-return]
    except ValueError as exc:
        raise BadInput(f"bad setting in method {spec!r}: {exc}") from exc
    raise BadInput(f"unknown method {spec!r} (choose from: {METHOD_CHOICES})")


def parse_methods(specs: Sequence[str], suite: Any, threads: int | None = None
                  ) -> list[Config]:
    """``parse_method`` for each spec; two specs that come to the same setting on this
    machine (``onnx-int8`` and ``onnx-int8:8bit`` on a CPU with VNNI) are refused, as a
    second benchmark of one setting would only cost time."""
    configs = [parse_method(s, suite, threads) for s in specs if s.strip()]
    seen: dict[Any, str] = {}
    for spec, config in zip([s for s in specs if s.strip()], configs, strict=True):
        key = _setting(config)
        if key in seen:
            raise BadInput(f"methods {seen[key]!r} and {spec.strip()!r} are the same setting "
                           f"here ({config.label}); give it once")
        seen[key] = spec.strip()
    return configs


def _setting(config: Config) -> Any:
    """What a config does, with its defaults resolved for this machine."""
    if isinstance(config, OnnxRuntime):
        return ("onnx", config.int8, config.int8 and config.per_channel,
                config.int8 and config.effective_reduce_range(),
                config.weight_type if config.int8 else None, config.threads, config.opset)
    return (type(config).__name__, config.label)


def _calibration(suite: Any) -> list[Any]:
    entry = getattr(suite, "calibration", None)
    if callable(entry):
        return list(entry())
    if _name(suite) == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        x = digits_data().x_train
        return [x[i:i + 256] for i in range(0, min(len(x), 1024), 256)]
    from wattwise.bench.suite.minilm import minilm_inputs

    return [minilm_inputs(16)]


def _train(suite: Any) -> tuple[Any, Any] | None:
    if _name(suite) == "digits-mlp":
        from wattwise.bench.suite.digits import digits_data

        d = digits_data()
        return (d.x_train, d.y_train)
    return None


def tune_step_factory(name: Any) -> Any:
    """``make_step(setting)`` for ``wattwise.tune`` on a built-in or the user's model (one
    variant per precision)."""
    entry = entry_of(name)
    base = entry.load()
    variants: dict[str, Any] = {"fp32": base}

    def make_step(setting: Any) -> Any:
        import torch

        if setting.precision not in variants:
            config: Config = {
                "bf16": Autocast(torch.bfloat16),
                "fp16": Autocast(torch.float16),
                "int8": default_int8_dynamic(entry),
            }[setting.precision]
            variants[setting.precision] = config.apply(base)
        return entry.make_step(setting.batch_size, variants[setting.precision])

    return make_step
