"""Train a DCGAN on a folder of images: the loop behind ``progan-tf train --arch dcgan``.

``train(DCGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the DCGAN
family (:mod:`progan_tf.dcgan.family`), so a DCGAN run lives in a run folder like a
progressive GAN's (``run.json``, ``checkpoints/``, ``logs/`` for TensorBoard,
``losses.csv``/``losses.png``, ``samples/``) and resumes exactly.  Besides the grid at the end
(``samples/final-<r>px.png``) it draws the same latents every ``grid_every_kimg`` thousand
images (``samples/progress-<images>.png``): the course's progress pictures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from progan_tf.dcgan.callbacks import ProgressGrids
from progan_tf.dcgan.config import ARCH, DCGANConfig, check_run_arch
from progan_tf.dcgan.family import DCGAN_FAMILY
from progan_tf.training import loop

__all__ = ["train"]


def train(config: DCGANConfig, resume: bool = False, strategy: Any = None,
          stop_after_images: int | None = None, progress: bool = True,
          extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
    """Train (or resume) the DCGAN run described by ``config``.  Returns the run folder.

    Everything is checked before anything is written (the options, the run folder, the
    images), so a start that fails leaves nothing behind; resuming refuses a run of another
    family and options that differ from the run's, except those in
    :data:`~progan_tf.dcgan.config.SAFE_ON_RESUME`.

    Args:
        config: The run's options.
        resume: Continue the run stored in ``config.out_dir`` (default ``False``).
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        stop_after_images: End the session early (with a checkpoint) once that many images
            have been shown in total (default ``None``).
        progress: Show a progress bar (default ``True``).
        extra_callbacks: More Keras callbacks (default none).
        log_every: Log the losses every this many steps (default 10).

    Returns:
        The run folder.

    Raises:
        DatasetError: for invalid options or unusable training images.
        RunDirectoryError: for a run folder that does not fit the request (in use, holding
            another run or another family's, damaged), naming what to do.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    if resume:
        check_run_arch(config.out_dir, ARCH)
    run_dir = Path(config.out_dir).expanduser()
    grids = ProgressGrids(DCGAN_FAMILY.sample_inputs(config),
                          every_images=round(config.grid_every_kimg * 1000),
                          folder=run_dir / "samples", writer=run_dir / "logs")
    return loop.train(DCGAN_FAMILY, config, resume=resume, strategy=strategy,
                      stop_after_images=stop_after_images, progress=progress,
                      extra_callbacks=(grids, *extra_callbacks), log_every=log_every)
