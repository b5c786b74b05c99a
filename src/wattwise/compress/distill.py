"""Knowledge distillation: train a smaller MLP student on a teacher's softened outputs.

Loss (Hinton et al., 2015, "Distilling the Knowledge in a Neural Network"):
``alpha · T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − alpha) · CE(z_s, y)``.
The T² factor keeps the soft term's gradients on the scale of the hard one's
as the temperature changes.

The student is an MLP with the teacher's input and output widths (taken from
its first and last Linear layers) and the hidden widths asked for. Training
is deterministic for a given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattwise.compress._base import Config, copy_model, device_of, linear_layers, torch_module
from wattwise.errors import BadInput


def distillation_loss(student_logits: Any, teacher_logits: Any, labels: Any,
                      temperature: float, alpha: float) -> Any:
    """Temperature-scaled KL to the teacher plus cross-entropy to the labels."""
    torch = torch_module()
    f = torch.nn.functional
    soft = f.kl_div(
        f.log_softmax(student_logits / temperature, dim=-1),
        f.log_softmax(teacher_logits / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * temperature**2
    hard = f.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard


def mlp(widths: list[int]) -> Any:
    """Linear layers of the given widths with ReLU between them."""
    torch = torch_module()
    layers: list[Any] = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


@dataclass(frozen=True, eq=False)
class Distill(Config):
    """Distil the model into an MLP with hidden widths ``student_hidden``.

    ``data`` is ``(x, y)``: training inputs and integer class labels.
    """

    student_hidden: int | tuple[int, ...] = 32
    temperature: float = 4.0
    alpha: float = 0.7
    epochs: int = 60
    lr: float = 3e-3
    batch_size: int = 64
    seed: int = 0
    data: tuple[Any, Any] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        hidden = (self.student_hidden,) if isinstance(self.student_hidden, int) else \
            self.student_hidden
        return "distill-" + "x".join(str(h) for h in hidden)

    def _validate(self) -> tuple[int, ...]:
        hidden = (self.student_hidden,) if isinstance(self.student_hidden, int) else \
            tuple(self.student_hidden)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1
                             for h in hidden):
            raise BadInput(f"student_hidden must be positive integers, got {self.student_hidden!r}")
        if not self.temperature > 0:
            raise BadInput(f"temperature must be > 0, got {self.temperature}")
        if not 0 <= self.alpha <= 1:
            raise BadInput(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.epochs < 1 or self.batch_size < 1:
            raise BadInput("epochs and batch_size must be at least 1")
        if self.data is None:
            raise BadInput("distillation needs training data: Distill(data=(x, y))")
        return hidden

    def apply(self, model: Any) -> Any:
        torch = torch_module()
        hidden = self._validate()
        teacher = copy_model(model)
        layers = linear_layers(teacher)
        if not layers:
            raise BadInput("distill: the teacher has no Linear layers to take widths from")
        x, y = self.data  # type: ignore[misc]
        device = device_of(teacher)  # train where the teacher lives
        x = torch.as_tensor(x, dtype=torch.float32).to(device)
        y = torch.as_tensor(y, dtype=torch.long).to(device)
        if len(x) != len(y) or len(x) == 0:
            raise BadInput(f"distill: x and y must be non-empty and the same length "
                           f"({len(x)} vs {len(y)})")
        with torch.inference_mode():
            teacher_logits = teacher(x).float()
        gen = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            student = mlp([layers[0][1].in_features, *hidden, layers[-1][1].out_features]
                          ).to(device)
        opt = torch.optim.Adam(student.parameters(), lr=self.lr)
        student.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), self.batch_size):
                idx = order[i:i + self.batch_size]
                loss = distillation_loss(student(x[idx]), teacher_logits[idx], y[idx],
                                         self.temperature, self.alpha)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return student.eval()
