"""Callbacks for watching a GAN learn, and for racing two of them at equal wall time.

* :class:`ProgressGrids` -- the course's "grid of generated images after each epoch": the
  same fixed latents drawn every few thousand images (or at every epoch end), kept in memory
  for a notebook and, in a run, written to ``samples/progress-*.png`` and TensorBoard
  (defined in :mod:`progan_tf.training.single_phase_family`, which draws them for every
  family with progress grids).
* :class:`TimeBudget` -- ends a run of :func:`progan_tf.training.train` once its *training*
  time (the run's :class:`~progan_tf.training.callbacks.TrainingClock`: steps only) is spent,
  so that two families can be compared at equal wall time (``bench/dcgan_vs_progan.py``,
  notebook 05).

Both work with any model that has ``images_shown`` and ``sample(latents)`` (ProGAN's too).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import keras

from progan_tf.checks import check_number
from progan_tf.training.single_phase_family import ProgressGrids

__all__ = ["ProgressGrids", "TimeBudget"]


class TimeBudget(keras.callbacks.Callback):
    """End a :func:`progan_tf.training.train` run once its training time is spent.

    The run stops as after Ctrl-C: once a step has spent the budget the callback raises SIGINT,
    which the run's checkpointer turns into a checkpoint after the next step and a clean stop
    (:class:`~progan_tf.errors.TrainingInterrupted`, which the caller catches when
    :attr:`fired`).  Call it in the main thread, where the checkpointer's handler lives.

    Args:
        seconds: Training seconds (the run's ``training_clock``: steps only, not start-up,
            evaluation or pictures).
        on_stop: ``on_stop(model)``, called once when the budget stopped the run, before
            anything else changes the model -- to measure what it draws at that moment
            (default ``None``).

    Attributes:
        fired: Whether the budget stopped the run.
        result: What ``on_stop`` returned.

    Example:
    >>> TimeBudget(60).fired
    False
    """

    def __init__(self, seconds: float, on_stop: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.seconds = check_number(seconds, "seconds", exclusive_minimum=0)
        self.on_stop = on_stop
        self.fired, self.result, self.handled = False, None, False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Stop once the training clock has reached the budget."""
        if not self.fired and self.model.training_clock.train_seconds >= self.seconds:
            self.fired = True
            # The run's checkpointer takes it from here: it saves after the next step and
            # stops; no further fit() starts.
            signal.raise_signal(signal.SIGINT)

    def on_train_end(self, logs: dict | None = None) -> None:
        """Run ``on_stop`` once, after the fit the budget ended."""
        if self.fired and not self.handled:
            self.handled = True
            if self.on_stop is not None:
                self.result = self.on_stop(self.model)
