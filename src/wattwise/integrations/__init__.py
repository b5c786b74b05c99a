"""Callbacks that measure a training framework's run without changes to its loop.

- ``wattwise.integrations.transformers.WattwiseCallback`` for the Hugging Face
  ``Trainer``;
- ``wattwise.integrations.lightning.WattwiseCallback`` for Lightning's
  ``Trainer``;
- ``wattwise.integrations.distributed.track_distributed`` for a job on many
  nodes: each node measured once, the total gathered on rank 0.

Both drive one ``TrainingTracker`` (``_training.py``): a run for the whole
fit, a window per epoch, step marks spread over the run, and a prediction of
the whole run's time, energy and carbon once three marks are in. Neither
imports its framework until it is used, and neither lets a measurement fault
reach the training loop.
"""

from wattwise.integrations._training import TrainingTracker

__all__ = ["TrainingTracker"]
