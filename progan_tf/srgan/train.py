"""Train an SRGAN on a folder of images: the loop behind ``progan-tf train --arch srgan``.

``train(SRGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the SRGAN
family, so a run lives in a run folder like every family's (``run.json``, ``checkpoints/``,
``logs/``, ``losses.csv``/``losses.png``, ``samples/srresnet.png`` and ``samples/srgan.png``:
bicubic and super-resolved pictures side by side) and resumes exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from progan_tf.srgan.config import ARCH, SRGANConfig
from progan_tf.srgan.family import SRGAN_FAMILY
from progan_tf.training import loop
from progan_tf.training.runs import check_run_arch

__all__ = ["train"]


def train(config: SRGANConfig, resume: bool = False, strategy: Any = None,
          stop_after_images: int | None = None, progress: bool = True,
          extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
    """Train (or resume) the SRGAN run described by ``config``.  Returns the run folder.

    Args:
        config: The run's options.
        resume: Continue the run stored in ``config.out_dir``.
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        stop_after_images: End the session early (with a checkpoint) after that many images.
        progress: Show a progress bar.
        extra_callbacks: More Keras callbacks.
        log_every: Log the losses every this many steps.

    Returns:
        The run folder.

    Raises:
        DatasetError: for invalid options or unusable training images.
        RunDirectoryError: for a run folder that does not fit the request.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    if resume:
        check_run_arch(config.out_dir, ARCH)
    return loop.train(SRGAN_FAMILY, config, resume=resume, strategy=strategy,
                      stop_after_images=stop_after_images, progress=progress,
                      extra_callbacks=extra_callbacks, log_every=log_every)
