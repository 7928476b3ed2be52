"""Callbacks for watching a GAN learn, and for racing two of them at equal wall time.

* :class:`ProgressGrids` -- the course's "grid of generated images after each epoch": the
  same fixed latents drawn every few thousand images (or at every epoch end), kept in memory
  for a notebook and, in a run, written to ``samples/progress-*.png`` and TensorBoard.
* :class:`TimeBudget` -- ends a run of :func:`progan_tf.training.train` once its *training*
  time (the run's :class:`~progan_tf.training.callbacks.TrainingClock`: steps only) is spent,
  so that two families can be compared at equal wall time (``bench/dcgan_vs_progan.py``,
  notebook 05).

Both work with any model that has ``images_shown`` and ``sample(latents)`` (ProGAN's too).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from progan_tf.checks import check_number
from progan_tf.training.distribute import is_chief

__all__ = ["ProgressGrids", "TimeBudget"]


class ProgressGrids(keras.callbacks.Callback):
    """Draw the same latents every ``every_images`` images (or every epoch): progress pictures.

    Args:
        latents: The fixed latents ``[N, latent_dim]`` of every grid.
        every_images: Draw when the run's image count passes a multiple of this (default
            ``None``: at the end of every epoch, as the course does on MNIST).
        folder: Also write each grid to ``folder/progress-<images shown>.png`` (default
            ``None``: keep them in memory only).  Counts are the run's, so a resumed run
            continues the series.
        writer: A ``tf.summary`` writer for TensorBoard (default ``None``), or a folder to
            create one in when the first grid is drawn (a run's ``logs``).
        keep: How many grids to keep in :attr:`grids` (default 64; the files stay).

    Attributes:
        grids: ``[(images shown, images [N, H, W, 3] in [0, 1]), ...]``, oldest first.

    Example:
    >>> grids = ProgressGrids(np.zeros((4, 8), "float32"), every_images=1000)
    >>> grids.grids
    []
    """

    def __init__(self, latents: Any, every_images: int | None = None,
                 folder: str | os.PathLike | None = None, writer: Any = None,
                 keep: int = 64) -> None:
        super().__init__()
        self.latents = np.asarray(latents, dtype="float32")
        self.every = (None if every_images is None
                      else round(check_number(every_images, "every_images", minimum=1)))
        self.folder = Path(folder) if folder is not None else None
        self.writer, self.keep = writer, int(keep)
        self.grids: list[tuple[int, np.ndarray]] = []
        self.next_images = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Schedule the next grid after the images already shown (a resumed run's too)."""
        if self.every is not None:
            shown = int(self.model.images_shown.numpy())
            self.next_images = (shown // self.every + 1) * self.every

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Draw a grid when the image count has passed the next multiple."""
        if self.every is None:
            return
        shown = int(self.model.images_shown.numpy())
        if shown >= self.next_images:
            self.draw(shown)
            self.next_images = (shown // self.every + 1) * self.every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Draw a grid (only when no ``every_images`` was given)."""
        if self.every is None:
            self.draw(int(self.model.images_shown.numpy()))

    def draw(self, shown: int) -> np.ndarray:
        """Draw the latents now; keep (and write) the grid.  Returns the images."""
        images = np.asarray(self.model.sample(self.latents))
        self.grids = [*self.grids, (shown, images)][-self.keep:]
        if self.folder is not None and is_chief(self.model.distribute_strategy):
            import tensorflow as tf

            from progan_tf.training.callbacks import save_sample_grid

            if isinstance(self.writer, (str, os.PathLike)):
                self.writer = tf.summary.create_file_writer(str(self.writer))

            save_sample_grid(images, self.folder / f"progress-{shown:012d}.png", self.writer,
                             shown)
        return images


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
