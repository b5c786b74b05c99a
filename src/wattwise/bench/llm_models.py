"""Causal language models for ``bench llm``: built-in configs, local folders, config files.

Nothing is downloaded. A *preset* is a published model's architecture written
out here (its ``config.json`` dimensions, with the address they come from) and
built with random weights: the energy of a forward pass depends on the shapes,
not on what the weights say, so a preset measures the published model's cost
without fetching gigabytes. A local folder with weights loads them
(``local_files_only``); a folder or file with only ``config.json`` is built with
random weights, and the result says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise.bench._deps import need
from wattwise.errors import BadInput

__all__ = [
    "DTYPES",
    "PRESETS",
    "LoadedModel",
    "Preset",
    "check_dtype",
    "check_model_spec",
    "load_model",
    "resolve_device",
]


@dataclass(frozen=True)
class Preset:
    """A model architecture by its published config; built with random weights."""

    name: str
    model_type: str
    origin: str
    url: str
    config: dict[str, Any]


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "llama-tiny", "llama", "a tiny Llama for tests (not a published model)", "",
            dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=1024,
                 max_position_embeddings=2048, bos_token_id=1, eos_token_id=2),
        ),
        Preset(
            "smollm2-135m", "llama", "HuggingFaceTB/SmolLM2-135M",
            "https://huggingface.co/HuggingFaceTB/SmolLM2-135M/blob/main/config.json",
            dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                 num_attention_heads=9, num_key_value_heads=3, head_dim=64,
                 vocab_size=49152, max_position_embeddings=8192, rms_norm_eps=1e-5,
                 rope_theta=100000.0, hidden_act="silu", tie_word_embeddings=True,
                 bos_token_id=1, eos_token_id=2, pad_token_id=2),
        ),
        Preset(
            "qwen2.5-0.5b", "qwen2", "Qwen/Qwen2.5-0.5B",
            "https://huggingface.co/Qwen/Qwen2.5-0.5B/blob/main/config.json",
            dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                 max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
                 hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False,
                 bos_token_id=151643, eos_token_id=151643),
        ),
    )
}

#: Accepted ``dtype`` spellings -> torch dtype name.
DTYPES = {
    "float32": "float32", "fp32": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16",
}


@dataclass
class LoadedModel:
    """A model ready to run, and what a reader needs to know about where it came from."""

    model: Any
    name: str
    #: architecture and weights, in words ("config of X (url), random weights (seed 0)")
    origin: str
    params: int
    vocab_size: int
    max_positions: int | None
    eos_token_ids: tuple[int, ...]
    dtype: str
    device: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "origin": self.origin, "params": self.params,
            "vocab_size": self.vocab_size, "max_positions": self.max_positions,
            "dtype": self.dtype, "device": self.device,
        }


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` where torch sees a GPU, else ``cpu``; others checked as given."""
    torch = need("torch")
    if not isinstance(device, str):
        raise BadInput(f"device must be auto, cpu, cuda, cuda:N, xpu or mps, got {device!r:.60}")
    d = device.strip().lower()
    if d == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, index = d.partition(":")
    if kind not in ("cpu", "cuda", "xpu", "mps") or (index and not index.isdigit()):
        raise BadInput(f"device must be auto, cpu, cuda, cuda:N, xpu or mps, got {device!r:.60}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"device {d}: this torch ({torch.__version__}) sees no CUDA GPU")
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise BadInput(f"device {d}: only {torch.cuda.device_count()} CUDA GPU(s) visible")
    if kind == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise BadInput(f"device {d}: this torch sees no XPU")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"device {d}: this torch sees no Apple GPU (MPS)")
    return d


def check_dtype(dtype: str) -> str:
    """The torch dtype name ``dtype`` spells; ``BadInput`` naming the choices otherwise."""
    name = DTYPES.get(str(dtype).strip().lower())
    if name is None:
        raise BadInput(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r:.40}")
    return name


def _quiet_transformers() -> Any:
    """transformers, with its progress bars and info logging off (they clutter the CLI)."""
    transformers = need("transformers")
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    return transformers


#: Longest reason kept from a library's error (some list every known class).
MAX_REASON = 300


def _reason(exc: BaseException) -> str:
    """``Type: first line`` of ``exc``, cut to ``MAX_REASON`` characters."""
    words = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {words}".rstrip(": ")
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def _check_causal(config: Any, where: str) -> None:
    """``BadInput`` for an encoder-decoder config (encoders such as BERT are refused
    by ``bench llm``'s cache probe: they return no KV cache)."""
    model_type = getattr(config, "model_type", "?")
    if getattr(config, "is_encoder_decoder", False):
        raise BadInput(f"{where}: {model_type} is an encoder-decoder; bench llm measures "
                       "decoder-only causal LMs")


def _from_config(config: Any, seed: int, where: str) -> Any:
    """A causal LM with random weights built from ``config``; any failure is ``BadInput``
    naming ``where`` (the config's file or preset) and the reason, in one line."""
    torch = need("torch")
    transformers = _quiet_transformers()
    _check_causal(config, where)
    torch.manual_seed(seed)
    try:
        return transformers.AutoModelForCausalLM.from_config(config)
    except Exception as exc:  # any library error: one line naming the file
        raise BadInput(f"cannot build a causal LM from {where}: {_reason(exc)}") from exc


def _has_weights(folder: Path) -> bool:
    return any(folder.glob("*.safetensors")) or any(folder.glob("pytorch_model*.bin"))


def _config_from_file(path: Path) -> Any:
    transformers = _quiet_transformers()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as exc:
        raise BadInput(f"cannot read model config {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise BadInput(f"{path} is not a transformers config.json (no model_type)")
    model_type = data.pop("model_type")
    try:
        return transformers.AutoConfig.for_model(model_type, **data)
    except Exception as exc:  # unknown type or a bad field: one line
        raise BadInput(f"{path}: not a usable {model_type!r:.40} config: {_reason(exc)}"
                       ) from exc


def check_model_spec(spec: Any) -> None:
    """``BadInput`` unless ``spec`` names a preset, a config file, a folder with
    config.json, or is a model object; cheap (no import, nothing loaded)."""
    if not isinstance(spec, str):
        if isinstance(spec, type):
            raise BadInput(f"model must be a model object, not the class {spec.__name__}: "
                           "pass an instance")
        if not callable(spec):
            raise BadInput(f"model must be a preset name, a path or a model object, got "
                           f"{type(spec).__name__}")
        return
    if spec in PRESETS:
        return
    try:
        path = Path(spec).expanduser()
        ok = path.is_file() or (path.is_dir() and (path / "config.json").is_file())
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise BadInput(
            f"unknown model {spec!r:.200}: give a preset ({', '.join(PRESETS)}), a folder "
            "with config.json (and weights), or a config.json file; nothing is downloaded"
        )


def _build(spec: Any, seed: int) -> tuple[Any, str, str, list[str]]:
    """The model (on CPU, fp32 or as stored), its name, origin and notes."""
    check_model_spec(spec)
    if not isinstance(spec, str):
        name = type(spec).__name__
        return spec, name, f"{name} object given by the caller", []
    if spec in PRESETS:
        p = PRESETS[spec]
        transformers = _quiet_transformers()
        config = transformers.AutoConfig.for_model(p.model_type, **p.config)
        where = f"config of {p.origin} ({p.url})" if p.url else p.origin
        return (_from_config(config, seed, f"preset {p.name}"), p.name,
                f"{where}, random weights (seed {seed})", [])
    path = Path(spec).expanduser()
    if path.is_file():
        config = _config_from_file(path)
        return (_from_config(config, seed, str(path)), path.stem,
                f"config {path}, random weights (seed {seed})", [])
    if path.is_dir() and (path / "config.json").is_file():
        if _has_weights(path):
            transformers = _quiet_transformers()
            try:
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    str(path), local_files_only=True)
            except Exception as exc:  # bad weights or config: one line
                raise BadInput(f"cannot load the model in {path}: {_reason(exc)}") from exc
            return model, path.name, f"weights from {path}", []
        config = _config_from_file(path / "config.json")
        return (_from_config(config, seed, str(path / "config.json")), path.name,
                f"config {path / 'config.json'}, random weights (seed {seed})",
                [f"{path} has no weights (*.safetensors, pytorch_model*.bin): built with "
                 "random weights; energy depends on the shapes, not on the weights"])
    raise BadInput(f"unknown model {spec!r:.200}")  # check_model_spec let it through


def load_model(spec: Any, *, dtype: str = "float32", device: str = "auto",
               seed: int = 0) -> LoadedModel:
    """Build or load ``spec`` in eval mode, cast to ``dtype`` and moved to ``device``."""
    torch = need("torch")
    dtype_name = check_dtype(dtype)
    dev = resolve_device(device)
    model, name, origin, notes = _build(spec, seed)
    if hasattr(model, "to"):
        model = model.to(device=dev, dtype=getattr(torch, dtype_name))
    if hasattr(model, "eval"):
        model.eval()
    config = getattr(model, "config", None)
    vocab = int(getattr(config, "vocab_size", 0) or 0)
    if vocab < 2:
        raise BadInput(f"{name}: the model's config gives no vocab_size")
    eos = getattr(config, "eos_token_id", None)
    eos_ids = tuple(int(e) for e in (eos if isinstance(eos, list | tuple) else [eos])
                    if e is not None)
    params = sum(int(p.numel()) for p in model.parameters()) if hasattr(
        model, "parameters") else 0
    max_pos = getattr(config, "max_position_embeddings", None)
    if dtype_name == "float16" and dev == "cpu":
        notes.append("float16 on CPU runs slowly on most CPUs; bfloat16 or float32 are usual")
    return LoadedModel(model, name, origin, params, vocab,
                       int(max_pos) if max_pos else None, eos_ids, dtype_name, dev, notes)
