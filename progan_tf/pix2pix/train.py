"""Train Pix2Pix on paired pictures: the loop behind ``progan-tf train --arch pix2pix``.

``train(Pix2PixConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the
Pix2Pix family, so a run lives in a run folder like every family's (``run.json``,
``checkpoints/``, ``logs/``, ``losses.csv``/``losses.png``, ``samples/``) and resumes exactly.
Every ``grid_every_kimg`` thousand pairs it draws input | output | target of the same pairs
(``samples/progress-<pairs>.png``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from progan_tf.dcgan.callbacks import ProgressGrids
from progan_tf.dcgan.config import check_run_arch
from progan_tf.pix2pix.config import ARCH, Pix2PixConfig
from progan_tf.pix2pix.family import PIX2PIX_FAMILY
from progan_tf.training import loop

__all__ = ["train"]


def train(config: Pix2PixConfig, resume: bool = False, strategy: Any = None,
          stop_after_images: int | None = None, progress: bool = True,
          extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
    """Train (or resume) the Pix2Pix run described by ``config``.  Returns the run folder.

    Everything is checked before anything is written (the options, the run folder, the pairs),
    so a start that fails leaves nothing behind.

    Args:
        config: The run's options.
        resume: Continue the run stored in ``config.out_dir`` (default ``False``).
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        stop_after_images: End the session early (with a checkpoint) once that many pairs
            have been shown in total (default ``None``).
        progress: Show a progress bar (default ``True``).
        extra_callbacks: More Keras callbacks (default none).
        log_every: Log the losses every this many steps (default 10).

    Returns:
        The run folder.

    Raises:
        DatasetError: invalid options, unusable or unmatched pairs.
        RunDirectoryError: a run folder that does not fit the request, naming what to do.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    config.validate()
    if resume:
        check_run_arch(config.out_dir, ARCH)
    run_dir = Path(config.out_dir).expanduser()
    grids = ProgressGrids(PIX2PIX_FAMILY.sample_inputs(config),
                          every_images=round(config.grid_every_kimg * 1000),
                          folder=run_dir / "samples", writer=run_dir / "logs")
    return loop.train(PIX2PIX_FAMILY, config, resume=resume, strategy=strategy,
                      stop_after_images=stop_after_images, progress=progress,
                      extra_callbacks=(grids, *extra_callbacks), log_every=log_every)
