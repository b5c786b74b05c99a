"""The callbacks inside the real frameworks, where they are installed (skipped otherwise).

    pip install transformers accelerate lightning   # then: pytest tests/integrations
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from wattwise.measure.meter import WattwiseWarning
from wattwise.records.store import Store


def test_transformers_trainer(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    from wattwise.integrations.transformers import WattwiseCallback

    cfg = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=2,
    )

    class Data(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return 64

        def __getitem__(self, i: int) -> dict[str, Any]:
            g = torch.Generator().manual_seed(i)
            return {"input_ids": torch.randint(0, 100, (16,), generator=g), "labels": i % 2}

    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=3, per_device_train_batch_size=8,
        logging_steps=4, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
    )
    cb = WattwiseCallback("hf", db=tmp_path / "r.db", interval_s=0.1, marks=12)
    trainer = Trainer(
        model=BertForSequenceClassification(cfg), args=args, train_dataset=Data(), callbacks=[cb]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", WattwiseWarning)
        trainer.train()
    run = cb.tracker.run
    assert run is not None and run.result is not None and run.result.energy_j > 0
    windows = Store(tmp_path / "r.db").windows(run.run_id)
    assert [w["name"] for w in windows] == ["epoch-0", "epoch-1", "epoch-2"]
    logged = [h for h in trainer.state.log_history if "wattwise/energy_j" in h]
    assert logged and "wattwise/predicted_energy_j" in logged[-1]


@pytest.mark.filterwarnings("ignore::FutureWarning:lightning", "ignore::UserWarning:lightning")
def test_lightning_trainer(tmp_path: Path) -> None:
    lightning = pytest.importorskip("lightning")
    import torch

    from wattwise.integrations.lightning import WattwiseCallback

    class Module(lightning.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(8, 1)

        def training_step(self, batch: Any, i: int) -> Any:
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(256, 8), torch.randn(256, 1))
    cb = WattwiseCallback("pl", db=tmp_path / "r.db", interval_s=0.1, marks=10)
    trainer = lightning.Trainer(
        max_epochs=3, callbacks=[cb], accelerator="cpu", logger=False,
        enable_progress_bar=False, enable_checkpointing=False, accumulate_grad_batches=2,
    )
    trainer.fit(Module(), torch.utils.data.DataLoader(data, batch_size=8))
    run = cb.tracker.run
    assert run is not None and run.result is not None
    windows = Store(tmp_path / "r.db").windows(run.run_id)
    assert [w["name"] for w in windows] == ["epoch-0", "epoch-1", "epoch-2"]
    assert "wattwise/energy_j" in trainer.callback_metrics
    assert cb.tracker._marked == 9  # 3 x 32 batches / 2 accumulated = 48 steps, 5 per mark
