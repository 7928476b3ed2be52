"""Train a progressive GAN on a folder of images: the loop behind ``progan-tf train``.

``train(TrainConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the ProGAN
family (:mod:`progan_tf.gan.family`): it walks the schedule phase by phase, calling ``fit()``
once per phase.  A run lives in one folder (see :mod:`progan_tf.training.runs`)::

    run.json            the configuration (written once; ``resume`` reads it back)
    dataset.json        what the data folder held at the last start
    train.lock          who is training the run right now (removed when training ends)
    checkpoints/        atomic, self-checking checkpoints + ``latest`` pointer
    samples/            a fixed-latent grid at the end of every phase
    logs/               TensorBoard scalars and images
    losses.csv/.png     the loss curves

This module keeps what is ProGAN's own: the options (:class:`TrainConfig`) and how they are
checked.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import AUGMENT_OPS, AUGMENTS, CROPS, LOSSES, PRECISIONS
from progan_tf.errors import DatasetError, TrainingInterrupted
from progan_tf.gan import finetune
from progan_tf.gan.family import PROGAN, build_model
from progan_tf.gan.schedule import Schedule
from progan_tf.training import data, loop, quality, runs
from progan_tf.training.runs import RUN_FILE

__all__ = ["CROPS", "PRECISIONS", "RUN_FILE", "SAFE_ON_RESUME", "TrainConfig",
           "TrainingInterrupted", "build_model", "read_run_config", "resume_config",
           "resume_differences", "train"]


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run (stored in ``run.json``).

    Resuming (``train(config, resume=True)``) continues the run stored in ``out_dir`` and
    compares ``config`` with it: a different resolution, latent size, width, data folder, crop,
    schedule, seed or any other field that shapes the networks, the data stream or the
    optimisation is refused with a message naming every difference, because continuing with it
    would either fail to load or silently train something else than the run's checkpoints
    belong to.  Pass the same options as the command that started the run (it is stored in
    ``run.json`` as ``command``).  Only the fields in :data:`SAFE_ON_RESUME` may change:

    * ``checkpoint_minutes`` -- how often checkpoints are written;
    * ``jit_compile`` -- whether steps are XLA-compiled (the same computation);
    * ``precision`` -- the compute dtype policy; weights are float32 in either, so a run
      started in float32 can continue in ``mixed_bfloat16`` and back (the losses then differ
      from an uninterrupted run's in the last digits);
    * ``quality_every_kimg`` and ``quality_images`` -- how often, and on how many images, SWD
      against the held-out images is measured into ``quality.csv`` (0, the default: never;
      see :func:`quality_callbacks`): measuring changes nothing the run trains;
    * ``final_kimg`` -- the length of the last stable phase, the only phase it shapes: resume
      with a larger value to train longer (a finished run continues where it ended); a value
      that ends before the images already shown trains nothing more;
    * ``command`` and ``out_dir`` -- what was typed and where the folder is now.

    ``run.json`` itself is written once, when the run starts.

    Fine-tuning: ``init`` (default ``None``: random weights) names a trained model to start
    from, ``"bundled"`` or an export folder with its ``generator.keras`` and
    ``discriminator.keras`` (``progan-tf export``).  The run then takes the export's
    architecture (``resolution``, ``latent_dim``, ``fmap_base``, ``fmap_max``, ``fmap_decay``,
    ``mbstd_group_size``; a value set to something else is refused), its three networks start
    from the export's weights with fresh optimizers, and the schedule skips growing: one
    stable phase at that resolution of ``final_kimg`` (else ``kimg_per_phase``) thousand
    images.  See :mod:`progan_tf.gan.finetune`.  ``run.json`` stores ``init`` as
    ``"bundled"`` or the folder's absolute path; resuming with another ``init`` is refused
    like any other difference.

    Example:
    >>> config = TrainConfig(data_dir="faces", out_dir="run", resolution=8)
    >>> config.validate()
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    data_dir: str
    out_dir: str
    resolution: int = 64
    latent_dim: int = 512
    fmap_base: int = 8192
    fmap_max: int = 512
    fmap_decay: float = 1.0
    mbstd_group_size: int = 4
    kimg_per_phase: float = 100.0
    final_kimg: float | None = None
    batch_sizes: dict = dataclasses.field(default_factory=dict)
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    learning_rate: float = 1e-3
    ema_beta: float = 0.999
    loss: str = "wgan-gp"
    r1_gamma: float | None = None
    r1_interval: int = 16
    augment: str = "none"
    augment_policy: str = "color,translation,cutout"
    ada_target: float = 0.6
    ada_kimg: float = 100.0
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    init: str | None = None
    quality_every_kimg: float = 0.0
    quality_images: int = 1000
    command: str = ""

    def schedule(self) -> Schedule:
        """The progressive schedule these options describe (one phase when fine-tuning).

        Raises:
            DatasetError: for an invalid resolution, phase length or batch size.
        """
        if not isinstance(self.batch_sizes, dict):
            raise DatasetError(f"batch_sizes must map resolutions to batch sizes. Received: "
                               f"batch_sizes={self.batch_sizes!r}")
        batch_sizes = {}
        for resolution, size in self.batch_sizes.items():
            try:
                batch_sizes[int(resolution)] = int(size)
            except (TypeError, ValueError):
                raise DatasetError(f"batch_sizes must map resolutions (4, 8, 16, ...) to batch "
                                   f"sizes. Received: batch_sizes={self.batch_sizes!r}") from None
        return Schedule(self.resolution, self.kimg_per_phase, batch_sizes, self.final_kimg,
                        grow=self.init is None)

    def augment_ops(self) -> tuple[str, ...]:
        """The augmentations ``augment_policy`` names, in the order they are applied.

        Raises:
            DatasetError: for an empty policy or a name not in ``AUGMENT_OPS``.
        """
        names = tuple(name.strip() for name in str(self.augment_policy).split(",")
                      if name.strip())
        unknown = [name for name in names if name not in AUGMENT_OPS]
        if unknown or not names:
            raise DatasetError(f"augment_policy must name some of {', '.join(AUGMENT_OPS)}, "
                               f"separated by commas. Received: "
                               f"augment_policy={self.augment_policy!r}")
        return names

    def r1_weight(self) -> float:
        """The R1 weight gamma: ``r1_gamma``, or by default ``0.0002 * resolution**2 / batch``.

        The default is the heuristic of StyleGAN2-ADA's ``auto`` configuration (Karras et al.,
        2020, appendix D) with the final resolution and its batch size.

        Example:
        >>> TrainConfig("faces", "run", resolution=32, batch_sizes={32: 16}).r1_weight()
        0.0128
        """
        if self.r1_gamma is not None:
            return float(self.r1_gamma)
        batch = self.schedule().phases[-1].batch_size
        return round(0.0002 * self.resolution ** 2 / batch, 6)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        self.schedule()
        for name, low in (("latent_dim", 1), ("fmap_base", 1), ("fmap_max", 1),
                          ("mbstd_group_size", 0), ("holdout", 0)):
            check_whole_number(getattr(self, name), name, minimum=low, error=DatasetError)
        check_whole_number(self.seed, "seed", minimum=0, maximum=2 ** 32 - 1, error=DatasetError)
        check_number(self.learning_rate, "learning_rate", exclusive_minimum=0, error=DatasetError)
        check_number(self.ema_beta, "ema_beta", minimum=0, error=DatasetError)
        if self.ema_beta >= 1:
            raise DatasetError(f"ema_beta must be a number from 0 to below 1. Received: "
                               f"ema_beta={self.ema_beta!r}")
        check_number(self.checkpoint_minutes, "checkpoint_minutes", exclusive_minimum=0,
                     error=DatasetError)
        check_choice(self.crop, "crop", CROPS, error=DatasetError)
        check_choice(self.precision, "precision", PRECISIONS, error=DatasetError)
        check_number(self.fmap_decay, "fmap_decay", minimum=0, error=DatasetError)
        check_choice(self.loss, "loss", LOSSES, error=DatasetError)
        if self.r1_gamma is not None:
            check_number(self.r1_gamma, "r1_gamma", minimum=0, error=DatasetError)
        check_whole_number(self.r1_interval, "r1_interval", minimum=1, error=DatasetError)
        check_choice(self.augment, "augment", AUGMENTS, error=DatasetError)
        self.augment_ops()
        check_number(self.ada_target, "ada_target", exclusive_minimum=0, error=DatasetError)
        if self.ada_target >= 1:
            raise DatasetError(f"ada_target must be a number above 0 and below 1. Received: "
                               f"ada_target={self.ada_target!r}")
        check_number(self.ada_kimg, "ada_kimg", exclusive_minimum=0, error=DatasetError)
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images. Received: "
                               f"data_dir={self.data_dir!r}")
        check_number(self.quality_every_kimg, "quality_every_kimg", minimum=0, error=DatasetError)
        check_whole_number(self.quality_images, "quality_images", minimum=2, error=DatasetError)
        if self.quality_every_kimg and not self.holdout:
            raise DatasetError(f"quality_every_kimg measures against held-out images: give a "
                               f"holdout too. Received: holdout={self.holdout!r}")
        if self.init is not None and (not isinstance(self.init, (str, os.PathLike))
                                      or not str(self.init)):
            raise DatasetError(f"init must be None, 'bundled' or an export folder. Received: "
                               f"init={self.init!r}")

    def to_json(self) -> str:
        """The options as ``run.json`` stores them."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Options from ``run.json``.

        Unknown fields, from newer versions, are ignored; fields a run from an older version
        lacks take the value that version trained with (:data:`LEGACY_VALUES`), not today's
        default, so that resuming it continues the same training.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        stored = json.loads(text)
        values = {**LEGACY_VALUES, **{k: v for k, v in stored.items() if k in fields}}
        return cls(**values)


LEGACY_VALUES = {"fmap_decay": 1.0, "loss": "wgan-gp", "augment": "none"}
"""What runs started before these options existed trained with (see ``from_json``)."""


SAFE_ON_RESUME = PROGAN.safe_on_resume
"""Fields that may differ between a run and the command that resumes it (see TrainConfig)."""


def resume_differences(config: TrainConfig, stored: TrainConfig) -> list[str]:
    """``"name new (run: stored)"`` for every field of ``config`` that may not change on resume."""
    return runs.resume_differences(PROGAN, config, stored)


def read_run_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The configuration stored in ``run_dir/run.json``.

    Raises:
        RunDirectoryError: if there is none, or it is damaged (one line saying what to do).
    """
    return runs.read_run_config(TrainConfig, run_dir)


def resume_config(config: TrainConfig, run_dir: str | os.PathLike) -> TrainConfig:
    """The stored run's configuration, with the safe fields of ``config`` (see TrainConfig).

    Raises:
        RunDirectoryError: if ``config`` differs from the run in any other field, naming them.
    """
    return runs.resume_config(PROGAN, config, run_dir)


def train(config: TrainConfig, resume: bool = False, strategy: Any = None,
          stop_after_images: int | None = None, progress: bool = True,
          extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
    """Train (or resume) the ProGAN run described by ``config``.  Returns the run folder.

    Everything is checked before anything is written: the options, the run folder and the
    training images, so a start that fails leaves no ``run.json`` behind.  The run folder is
    locked (``train.lock``) while training.  Resuming continues from the newest loadable
    checkpoint (damaged newer ones are set aside as ``damaged-ckpt-*`` with a warning) and
    refuses options that differ from the run's (see :class:`TrainConfig`).

    Args:
        config: The run's options.
        resume: Continue the run stored in ``config.out_dir`` (default ``False``).
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        stop_after_images: End the session early (with a checkpoint) once that many images
            have been shown in total -- for tests and time-boxed sessions (default ``None``).
        progress: Show a progress bar (default ``True``).
        extra_callbacks: More Keras callbacks (default none).
        log_every: Log the losses every this many steps (default 10).

    Returns:
        The run folder.

    Raises:
        DatasetError: for invalid options, unusable training images, or an ``init`` export
            that cannot be used or that the options contradict.
        RunDirectoryError: for a run folder that does not fit the request (in use, holding
            another run, damaged), naming what to do.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    if resume:  # another family's run would fail later with a less helpful message
        runs.check_run_arch(config.out_dir, "progan")
    config, init_callbacks = finetune.prepare(config, resume)  # init: the export's options
    return loop.train(PROGAN, config, resume=resume, strategy=strategy,
                      stop_after_images=stop_after_images, progress=progress,
                      extra_callbacks=(*init_callbacks, *quality_callbacks(config),
                                       *extra_callbacks), log_every=log_every)


def quality_callbacks(config: TrainConfig) -> list:
    """``[QualityLog]`` when ``config.quality_every_kimg`` asks for one, else ``[]``.

    The held-out images are the last ``holdout`` of the data folder at the final resolution,
    with the run's crop; the floor compares them with as many training images.  Decoding the
    folder a second time (the family's ``load_data`` decodes it for training) costs seconds
    and keeps the families unaware of evaluation.
    """
    if not config.quality_every_kimg:
        return []
    config.validate()  # before decoding a folder, so a bad option is still one line
    folder = data.load_image_folder(config.data_dir, config.resolution, crop=config.crop)
    if config.holdout >= len(folder):
        return []  # the family's load_data refuses this run with its own message
    held_out, floor = quality.held_out_and_floor(folder.images, config.holdout, seed=config.seed)
    return [quality.QualityLog(config.out_dir, held_out, floor, config.resolution,
                               every_kimg=config.quality_every_kimg,
                               num_images=config.quality_images, seed=config.seed)]
