"""The user's own model for bench, compress and tune: ``MODULE:FACTORY``.

A factory is a function without arguments that builds the model and one
example batch, and may say how to score a variant of it::

    # mypkg/models.py
    import torch
    from wattwise.compress import UserModel

    def build() -> UserModel:
        model = MyNet().eval()
        x, y = load_validation()
        return UserModel(model, inputs=x[:64],
                         quality=lambda m: 100 * (m(x).argmax(1) == y).float().mean().item(),
                         quality_name="accuracy", quality_unit="%")

then ``wattwise compress mypkg.models:build``. A plain tuple ``(model,
inputs)`` or ``(model, inputs, quality)`` is accepted too, so a factory need
not import wattwise. ``inputs`` is one tensor, a tuple of positional
tensors or a dict of keyword tensors; its first dimension is the batch,
tiled or cut to other batch sizes. Without a quality metric, a variant is
scored by the cosine similarity of its outputs to the original model's on
``inputs`` (x 100), so "1 point lost" means 0.01 of fidelity.

The module is imported as ``python -m`` would (the working directory first
on ``sys.path``). Every way the target can be wrong (no such module or
attribute, not callable, the factory raising or returning something else,
the model failing on its inputs) is one ``BadInput`` line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise.bench._deps import need
from wattwise.bench.suite import _tensors as tz
from wattwise.bench.suite.entry import SuiteEntry
from wattwise.errors import BadInput

#: Longest MODULE:FACTORY accepted.
MAX_TARGET = 300
FIDELITY_NAME = "cosine fidelity of outputs to the original model"
FIDELITY_UNIT = "output fidelity x 100"


@dataclass(frozen=True, eq=False)
class UserModel:
    """What a ``MODULE:FACTORY`` returns: a model, one example batch and, optionally,
    how to score a compressed variant of it.

    ``quality(model) -> float`` is higher-is-better, called on each variant
    (``None``: output fidelity to the original, x 100). ``samples`` is the
    number of samples in ``inputs`` (default: its first tensor's first
    dimension); ``calibration`` the batches static int8 calibrates on
    (default: ``[inputs]``); ``task`` groups results for ratings.
    """

    model: Any
    inputs: Any
    quality: Callable[[Any], float] | None = None
    quality_name: str = ""
    quality_unit: str = ""
    samples: int | None = None
    calibration: Sequence[Any] = field(default_factory=tuple)
    task: str = "user-model"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def load_callable(target: str) -> Callable[..., Any]:
    """Import ``MODULE:ATTR`` and return the attribute, which must be callable."""
    mod_name, _, attr = target.partition(":")
    if not mod_name or not attr or "\x00" in target or len(target) > MAX_TARGET:
        raise BadInput(f"expected MODULE:CALLABLE, got {target!r:.80}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` does: the user's own modules
    try:
        module = importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        raise BadInput(f"cannot import {mod_name!r:.80}: {exc}") from exc
    except Exception as exc:  # the user's module failed while importing
        raise BadInput(f"importing {mod_name!r:.80} failed: {_first_line(exc)}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not part.isidentifier() or not hasattr(obj, part):
            raise BadInput(f"{mod_name!r:.80} has no attribute {attr!r:.80}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise BadInput(f"{target} is not callable (it is a {type(obj).__name__})")
    return obj  # type: ignore[no-any-return]


def call_factory(target: str, factory: Callable[[], Any]) -> Any:
    """What ``factory()`` returns; its exception becomes one line naming the target."""
    try:
        return factory()
    except Exception as exc:  # the user's code failed: say where and why
        raise BadInput(f"{target} raised while building the model: {_first_line(exc)}"
                       ) from exc
    except SystemExit as exc:  # sys.exit() in the factory must not end wattwise silently
        raise BadInput(f"{target} exited (code {exit_code(exc)}) while building the model"
                       ) from exc


def exit_code(exc: SystemExit) -> str:
    """``SystemExit``'s code as shown: ``3``, ``None``, or a message cut short."""
    code = exc.code
    return str(code) if code is None or isinstance(code, int) else repr(str(code)[:80])


def as_user_model(value: Any, target: str) -> UserModel:
    """``value`` as a checked ``UserModel``: the dataclass itself, or a ``(model,
    inputs[, quality])`` tuple."""
    torch = need("torch")
    if isinstance(value, tuple) and 2 <= len(value) <= 3:
        value = UserModel(*value)
    if not isinstance(value, UserModel):
        raise BadInput(
            f"{target} returned a {type(value).__name__}; a factory returns "
            "wattwise.compress.UserModel(model, inputs, quality=None) or a (model, inputs"
            "[, quality]) tuple")
    if not isinstance(value.model, torch.nn.Module):
        raise BadInput(f"{target}: the model must be a torch.nn.Module, got a "
                       f"{type(value.model).__name__}")
    if not tz.tensors(value.inputs):
        raise BadInput(f"{target}: inputs must be a tensor, a tuple of tensors or a dict of "
                       f"tensors, got a {type(value.inputs).__name__}")
    if value.quality is not None and not callable(value.quality):
        raise BadInput(f"{target}: quality must be a function of the model, got a "
                       f"{type(value.quality).__name__}")
    samples = value.samples if value.samples is not None else tz.leading_dim(value.inputs)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise BadInput(f"{target}: cannot tell the number of samples in inputs; give "
                       f"UserModel(..., samples=N) (got {samples!r})")
    return UserModel(value.model, value.inputs, value.quality, value.quality_name,
                     value.quality_unit, samples, tuple(value.calibration),
                     value.task or "user-model")


def build(target: str) -> UserModel:
    """Import the factory named by ``target``, call it and check what it returned."""
    return as_user_model(call_factory(target, load_callable(target)), target)


def run(model: Any, inputs: Any) -> Any:
    """One forward pass on ``inputs`` (moved to the model's device), without autograd."""
    torch = need("torch")
    args, kwargs = tz.split(tz.to_device(inputs, tz.model_device(model)))
    with torch.inference_mode():
        return model(*args, **kwargs)


def first_float(out: Any) -> Any:
    """The first floating-point tensor in a model's output (tensor, tuple, dict, a
    transformers ``ModelOutput``)."""
    torch = need("torch")
    if isinstance(out, torch.Tensor):
        return out if out.is_floating_point() else None
    values = out.values() if isinstance(out, dict) else out if isinstance(
        out, tuple | list) else ()
    for v in values:
        found = first_float(v)
        if found is not None:
            return found
    return None


def output_fidelity(reference: Any, got: Any, samples: int) -> float:
    """Mean cosine similarity, sample by sample, of two outputs (1 = the same direction)."""
    torch = need("torch")
    a, b = first_float(reference), first_float(got)
    if a is None or b is None:
        raise BadInput("the model's output holds no floating-point tensor to compare; "
                       "give the factory a quality metric")
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    if a.shape != b.shape:
        raise ValueError(f"output shape {tuple(b.shape)} differs from the original's "
                         f"{tuple(a.shape)}")
    rows = samples if a.dim() > 0 and a.shape[0] == samples else 1
    sim = torch.nn.functional.cosine_similarity(a.reshape(rows, -1), b.reshape(rows, -1),
                                                dim=1)
    return float(sim.mean())


def entry_for(name: str, um: UserModel, *, description: str = "",
              score_reference: bool = True) -> SuiteEntry:
    """A suite entry for a ``UserModel`` (checked here): its step tiles ``inputs`` to any
    batch size, its quality is the user's or output fidelity.

    ``score_reference=False`` where the quality compares a variant with the
    model itself, so the reference's own score (always the top) says nothing.
    """
    from wattwise.bench.suite.digits import pinned

    um = as_user_model(um, name)
    model = um.model.eval()
    samples = int(um.samples or 0)
    try:
        reference = run(model, um.inputs)
    except Exception as exc:  # the user's model failed on its own inputs
        raise BadInput(f"{name}: the model failed on its example inputs: "
                       f"{_first_line(exc)}") from exc

    def make_step(batch_size: int, variant: Any = None, threads: int | None = None
                  ) -> Callable[[], int]:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise BadInput(f"batch size must be a positive integer, got {batch_size!r}")
        pinned(lambda: 0, threads)  # validate first
        net = model if variant is None else variant
        device = tz.model_device(net)
        args, kwargs = tz.split(tz.to_device(tz.tile(um.inputs, samples, batch_size), device))
        torch = need("torch")

        def step() -> int:
            with torch.inference_mode():
                net(*args, **kwargs)
            tz.synchronize(device)
            return batch_size

        return pinned(step, threads)

    if um.quality is not None:
        user_quality = um.quality
        quality: Callable[[Any], float] = lambda m: float(user_quality(m))  # noqa: E731
        study_quality = quality
        qname, unit = um.quality_name or "quality", um.quality_unit or (
            um.quality_name or "quality")
    else:
        def quality(m: Any) -> float:
            return output_fidelity(reference, run(m, um.inputs), samples)

        def study_quality(m: Any) -> float:
            return 100.0 * quality(m)

        qname, unit = FIDELITY_NAME, FIDELITY_UNIT
    calibration = list(um.calibration) or [um.inputs]
    return SuiteEntry(
        name=name,
        task=um.task,
        description=description or f"{type(model).__name__} from {name}",
        make_step=make_step,
        quality=quality,
        quality_name=qname,
        load=lambda: model,
        default_batch_size=samples,
        # Fidelity of the original to itself says nothing: shown only for a user's metric.
        metrics=(lambda m: {qname: quality(m)}) if um.quality is not None and score_reference
        else (lambda m: {}),
        example=lambda: tz.split(tz.tile(um.inputs, samples, 1)),
        calibration=lambda: calibration,
        study_quality=study_quality,
        study_unit=unit,
        builtin=False,
    )


def user_entry(target: str) -> SuiteEntry:
    """The suite entry of ``MODULE:FACTORY``."""
    return entry_for(target, build(target))
