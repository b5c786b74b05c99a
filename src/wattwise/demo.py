"""The demo: a real small training job (digits, scikit-learn), measured end to end.

It exercises the whole measuring path a user's job takes: discovery, the
meter's windows, the run record, and the summary.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput
from wattwise.measure.results import EnergyResult


@dataclass
class DemoReport:
    run_id: int | None
    result: EnergyResult | None
    windows: list[EnergyResult]
    accuracy: float
    n_train: int
    n_test: int
    epochs: int
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def joules_per_train_sample(self) -> float:
        """Training-window energy per sample seen in training (samples x epochs)."""
        train = next(w for w in self.windows if w.name == "train")
        return train.energy_j / max(1, self.n_train * self.epochs)


def run_demo(
    db: str | Path | None = None, interval_s: float = 0.5, epochs: int = 60, store: bool = True
) -> DemoReport:
    """Train an MLP on the 1,797 bundled 8x8 digits and measure load, train and evaluate."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import train_test_split
        from sklearn.neural_network import MLPClassifier
    except ImportError as exc:
        raise BadInput(
            'the demo needs scikit-learn: pip install "wattwise[demo]"'
        ) from exc

    from wattwise.measure.tracking import Run

    with Run("demo-digits-mlp", interval_s=interval_s, db=db, store=store) as run:
        with run.window("load"):
            x, y = load_digits(return_X_y=True)
            x = x / 16.0
            x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0)
        clf = MLPClassifier(
            hidden_layer_sizes=(512, 256), max_iter=epochs, random_state=0, tol=0.0
        )
        with run.window("train"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x_tr, y_tr)
        with run.window("evaluate"):
            accuracy = float(clf.score(x_te, y_te))
    return DemoReport(
        run_id=run.run_id,
        result=run.result,
        windows=run.windows,
        accuracy=accuracy,
        n_train=len(x_tr),
        n_test=len(x_te),
        epochs=int(clf.n_iter_),
        notes=list(run.meter.notes) if run.meter else [],
        summary=run.summary(),
    )
