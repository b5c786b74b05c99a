"""A tiny classifier and its data, shared by the compression tests (trained in < 1 s)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session")
def tiny() -> dict[str, Any]:
    """A 16-32-32-4 MLP trained on four separable Gaussian blobs."""
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 16, generator=gen) * 3
    y = torch.arange(4).repeat_interleave(100)
    x = centers[y] + torch.randn(400, 16, generator=gen)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(16, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 4),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return {"model": model, "x": x, "y": y}


def accuracy(model: Any, x: Any, y: Any) -> float:
    with torch.inference_mode():
        return float((model(x).argmax(-1) == y).float().mean()) * 100
