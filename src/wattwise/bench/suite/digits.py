"""``digits-mlp``: a small torch MLP on scikit-learn's bundled digits (8x8 images, 10 classes).

The data ships inside scikit-learn (1,797 images from the UCI optical
recognition of handwritten digits set), so it runs offline. Hidden sizes are
configurable so a large teacher and a small student can be trained for
distillation; the test split is fixed by ``split_seed`` so every variant is
judged on the same images.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise.bench._deps import need
from wattwise.bench.suite._tensors import model_device, synchronize
from wattwise.bench.suite.entry import SuiteEntry
from wattwise.errors import BadInput

#: Hidden layer sizes of the suite's reference model.
DEFAULT_HIDDEN: tuple[int, ...] = (256, 256)
N_FEATURES = 64
N_CLASSES = 10


@dataclass(frozen=True)
class DigitsData:
    """Train and test splits as float32 tensors scaled to [0, 1], labels as int64."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any


@dataclass(frozen=True)
class DigitsModel:
    """A trained model, the splits it was trained and tested on, and its test accuracy."""

    model: Any
    data: DigitsData
    hidden: tuple[int, ...]
    accuracy: float


def _hidden(hidden: int | Sequence[int]) -> tuple[int, ...]:
    sizes = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    if not sizes or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in sizes):
        raise BadInput(f"hidden sizes must be positive integers, got {hidden!r}")
    return sizes


@functools.cache
def digits_data(split_seed: int = 0, test_size: float = 0.25) -> DigitsData:
    """The bundled digits, split once per seed (stratified), as torch tensors."""
    torch = need("torch")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x / 16.0, y, test_size=test_size, random_state=split_seed, stratify=y
    )
    return DigitsData(
        torch.tensor(x_tr, dtype=torch.float32), torch.tensor(y_tr, dtype=torch.int64),
        torch.tensor(x_te, dtype=torch.float32), torch.tensor(y_te, dtype=torch.int64),
    )


def make_mlp(hidden: int | Sequence[int] = DEFAULT_HIDDEN) -> Any:
    """An untrained ``nn.Sequential`` of Linear+ReLU layers, 64 inputs to 10 logits."""
    nn = need("torch.nn")
    sizes = (N_FEATURES, *_hidden(hidden))
    layers: list[Any] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-1], N_CLASSES))
    return nn.Sequential(*layers)


def accuracy(model: Any, x: Any, y: Any) -> float:
    """Share of ``x`` the model classifies as ``y`` (argmax of its logits)."""
    torch = need("torch")
    model.eval()
    device = model_device(model)
    with torch.inference_mode():
        pred = model(x.to(device)).argmax(dim=1)
    return float((pred == y.to(device)).float().mean())


def train_digits_model(
    hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    *,
    epochs: int = 40,
    seed: int = 0,
    lr: float = 1e-3,
    batch_size: int = 64,
    split_seed: int = 0,
    loss_fn: Callable[[Any, Any, Any], Any] | None = None,
    model: Any = None,
) -> DigitsModel:
    """Train an MLP on the digits train split with Adam; deterministic for a given seed.

    ``loss_fn(logits, x, y)`` replaces cross-entropy (a distillation loss that
    calls a teacher on ``x``, for instance); ``model`` trains a given module
    instead of a fresh MLP of ``hidden`` sizes.
    """
    torch = need("torch")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise BadInput(f"epochs must be a positive integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadInput(f"batch_size must be a positive integer, got {batch_size!r}")
    sizes = _hidden(hidden)
    data = digits_data(split_seed)
    gen = torch.Generator().manual_seed(seed)
    if model is None:
        torch.manual_seed(seed)
        model = make_mlp(sizes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ce = torch.nn.CrossEntropyLoss()
    n = len(data.y_train)
    # Matrices this small gain nothing from intra-op threads, and on a busy
    # machine their synchronisation costs 10-20x: train on one thread.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _epochs(model, opt, ce, data, epochs, batch_size, gen, loss_fn, n)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return DigitsModel(model, data, sizes, accuracy(model, data.x_test, data.y_test))


def _epochs(model: Any, opt: Any, ce: Any, data: DigitsData, epochs: int, batch_size: int,
            gen: Any, loss_fn: Callable[[Any, Any, Any], Any] | None, n: int) -> None:
    torch = need("torch")
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            xb, yb = data.x_train[idx], data.y_train[idx]
            logits = model(xb)
            loss = ce(logits, yb) if loss_fn is None else loss_fn(logits, xb, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()


@functools.cache
def reference_model() -> DigitsModel:
    """The suite's reference MLP, trained once per process (seed 0)."""
    return train_digits_model(DEFAULT_HIDDEN)


def pinned(step: Callable[[], int], threads: int | None) -> Callable[[], int]:
    """``step`` run with torch's intra-op threads set to ``threads`` (``None``: unchanged).

    On a shared machine torch's default (one thread per core) can lose most of
    its speed to contention, so studies pin it; the caller's setting is
    restored after every call, so nothing else in the process is affected.
    """
    if threads is None:
        return step
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise BadInput(f"threads must be a positive integer, got {threads!r}")
    torch = need("torch")

    def run() -> int:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return step()
        finally:
            torch.set_num_threads(before)

    return run


def make_step(batch_size: int, model: Any = None, threads: int | None = None
              ) -> Callable[[], int]:
    """Inference on ``batch_size`` test images per call (the test split tiled as needed).

    ``threads`` pins torch's intra-op thread count during each call (see ``pinned``).
    """
    torch = need("torch")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadInput(f"batch size must be a positive integer, got {batch_size!r}")
    pinned(lambda: 0, threads)  # validate before the model is built
    net = reference_model().model if model is None else model
    x = digits_data().x_test
    reps = -(-batch_size // len(x))
    device = model_device(net)
    batch = x.repeat(reps, 1)[:batch_size].contiguous().to(device)
    net.eval()

    def step() -> int:
        with torch.inference_mode():
            net(batch)
        synchronize(device)
        return batch_size

    return pinned(step, threads)


def quality(model: Any) -> float:
    """Test accuracy (0-1) on the fixed held-out split."""
    data = digits_data()
    return accuracy(model, data.x_test, data.y_test)


ENTRY = SuiteEntry(
    name="digits-mlp",
    task="image-classification/digits",
    description=f"MLP {N_FEATURES}-{'-'.join(map(str, DEFAULT_HIDDEN))}-{N_CLASSES} "
    "on scikit-learn's bundled digits",
    make_step=make_step,
    quality=quality,
    quality_name="test accuracy",
    load=lambda: reference_model().model,
    default_batch_size=64,
    metrics=lambda m: {"accuracy": quality(m)},
)
