"""ProGAN's view of the shared callbacks of :mod:`progan_tf.training.callbacks`.

The callbacks themselves are family-agnostic and live there; this module keeps the names the
notebooks and older code import, with ProGAN's choices filled in: :func:`plot_losses` draws the
D and G losses and the Wasserstein estimate with the resolution changes marked.
"""

from __future__ import annotations

import os
from pathlib import Path

from progan_tf.gan.family import PROGAN
from progan_tf.training.callbacks import (
    Checkpointer,
    LossLog,
    ProgressBar,
    read_losses,
    save_sample_grid,
    truncate_losses,
)
from progan_tf.training.callbacks import plot_losses as plot_loss_columns

__all__ = ["LOSS_FIELDS", "Checkpointer", "LossLog", "ProgressBar", "describe_step",
           "plot_losses", "read_losses", "save_sample_grid", "truncate_losses"]

LOSS_FIELDS = ("kimg", *PROGAN.loss_columns)
"""The columns of a ProGAN run's ``losses.csv``."""

describe_step = PROGAN.describe_step


def plot_losses(run_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path | None:
    """Plot a ProGAN run's D/G losses against kimg, resolution changes marked; ``losses.png``.

    Args:
        run_dir: The run folder.
        path: Where to save (default ``run_dir/losses.png``).

    Returns:
        The picture's path, or None when nothing has been logged yet.
    """
    return plot_loss_columns(run_dir, PROGAN.loss_curves, path, marker=PROGAN.loss_marker)
