"""Train a progressive GAN on a folder of images: the loop behind ``progan-tf train``.

``train(TrainConfig(...))`` walks the schedule phase by phase, calling ``fit()`` once per phase
with the callbacks of :mod:`progan_tf.gan.callbacks`.  A run lives in one folder::

    run.json            the configuration (written once; ``resume`` reads it back)
    checkpoints/        atomic checkpoints + ``latest`` pointer
    samples/            a fixed-latent grid at the end of every phase
    logs/               TensorBoard scalars and images
    losses.csv/.png     the loss curves
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from progan_tf.errors import DatasetError, ProganError, RunDirectoryError
from progan_tf.gan import callbacks as cb
from progan_tf.gan import checkpoint, data
from progan_tf.gan.model import ProGAN
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.schedule import Schedule

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
# Keras dtype policies a run may train under. "mixed_bfloat16" computes in bfloat16 and keeps
# float32 weights; it pays off on CPUs with AVX512_BF16/AMX (see bench/train.py).
PRECISIONS = ("float32", "mixed_bfloat16")


class TrainingInterrupted(ProganError):
    """Training stopped on SIGINT/SIGTERM after writing a checkpoint."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run (stored in ``run.json``)."""

    data_dir: str
    out_dir: str
    resolution: int = 64
    latent_dim: int = 512
    fmap_base: int = 8192
    fmap_max: int = 512
    mbstd_group_size: int = 4
    kimg_per_phase: float = 100.0
    final_kimg: float | None = None
    batch_sizes: dict = dataclasses.field(default_factory=dict)
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    learning_rate: float = 1e-3
    ema_beta: float = 0.999
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    command: str = ""

    def schedule(self):
        return Schedule(self.resolution, self.kimg_per_phase,
                        {int(k): int(v) for k, v in self.batch_sizes.items()}, self.final_kimg)

    def validate(self):
        try:
            self.schedule()
        except ValueError as error:
            raise DatasetError(str(error)) from None
        if self.latent_dim < 1:
            raise DatasetError(f"latent size must be positive, got {self.latent_dim}")
        if self.crop not in data.CROPS:
            raise DatasetError(f"unknown crop {self.crop!r}; use one of {', '.join(data.CROPS)}")
        if self.holdout < 0:
            raise DatasetError(f"holdout must be >= 0, got {self.holdout}")
        if self.precision not in PRECISIONS:
            raise DatasetError(f"unknown precision {self.precision!r}; use one of "
                               f"{', '.join(PRECISIONS)}")

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text):
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in fields})


def build_model(config: TrainConfig, strategy=None, precision=None):
    """The :class:`ProGAN` of ``config``, created under ``strategy``'s scope.

    ``precision`` (default: ``config.precision``) is the Keras dtype policy of the networks. It
    is set only while they are created, so Keras' global policy is left as it was.
    """
    import keras

    strategy = strategy or tf.distribute.get_strategy()
    common = {"resolution": config.resolution, "fmap_base": config.fmap_base,
              "fmap_max": config.fmap_max}
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision or config.precision)
    try:
        with strategy.scope():
            keras.utils.set_random_seed(config.seed)
            generator = ProgressiveGenerator(latent_dim=config.latent_dim, name="generator",
                                             **common)
            discriminator = ProgressiveDiscriminator(
                mbstd_group_size=config.mbstd_group_size, name="discriminator", **common)
            return ProGAN(generator, discriminator, ema_beta=config.ema_beta,
                          learning_rate=config.learning_rate, seed=config.seed)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def prepare_run_dir(config: TrainConfig, resume: bool):
    """Create the run folder, or check that it holds the run to resume.  Returns the config to use."""
    out = Path(config.out_dir).expanduser()
    run_file = out / RUN_FILE
    if resume:
        if not run_file.exists():
            raise RunDirectoryError(f"{str(out)!r} holds no run to resume (no {RUN_FILE}); "
                                    f"drop --resume to start a new run there")
        stored = TrainConfig.from_json(run_file.read_text())
        stored.out_dir = str(out)
        return stored
    if run_file.exists():
        raise RunDirectoryError(f"{str(out)!r} already holds a run; pass --resume to continue it, "
                                f"or choose another output folder")
    if out.exists() and any(out.iterdir()):
        raise RunDirectoryError(f"output folder {str(out)!r} is not empty; choose a new folder "
                                f"for the run")
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.write_text_atomic(run_file, config.to_json())
    return config


def load_training_images(config: TrainConfig):
    folder = data.load_image_folder(config.data_dir, config.resolution, crop=config.crop)
    if config.holdout:
        if config.holdout >= len(folder):
            raise DatasetError(f"holdout of {config.holdout} images leaves nothing to train on "
                               f"({len(folder)} images in {config.data_dir!r})")
        folder.images = folder.images[:-config.holdout]
        folder.files = folder.files[:-config.holdout]
    return folder


def save_sample_grid(model, latents, path, writer=None, step=0):
    """A grid of the EMA generator's images for fixed ``latents``, at the current stage."""
    from progan_tf.images import make_grid, save_image

    images = model.sample(latents).numpy()
    grid = make_grid(images, ncols=int(math.ceil(math.sqrt(len(images)))))
    # Small stages are upscaled (nearest) so the PNG is viewable.
    zoom = max(1, 128 // images.shape[1])
    grid = np.repeat(np.repeat(grid, zoom, axis=0), zoom, axis=1)
    save_image(grid, path)
    if writer is not None:
        with writer.as_default(step=step):
            tf.summary.image("samples", grid[None], step=step)
    return path


def train(config: TrainConfig, resume=False, strategy=None, stop_after_images=None,
          progress=True, extra_callbacks=(), log_every=10):
    """Train (or resume) the run described by ``config``.  Returns the run folder.

    ``stop_after_images`` ends the session early (with a checkpoint) once that many images have
    been shown in total -- for tests and for time-boxed sessions.  Losses are logged every
    ``log_every`` steps.  SIGINT/SIGTERM write a
    checkpoint and raise :class:`TrainingInterrupted`.
    """
    config.validate()
    config = prepare_run_dir(config, resume)
    run_dir = Path(config.out_dir)
    schedule = config.schedule()
    folder = load_training_images(config)
    log.info("training on %s", data.describe(folder))
    (run_dir / "dataset.json").write_text(json.dumps(
        {"directory": str(Path(config.data_dir).resolve()), "images": len(folder),
         "skipped": len(folder.skipped), "upscaled": folder.upscaled, "holdout": config.holdout},
        indent=2))

    model = build_model(config, strategy)
    ckpt_dir = run_dir / "checkpoints"
    latest = checkpoint.latest(ckpt_dir) if resume else None
    shown = checkpoint.read_state(latest)["images_shown"] if latest else 0
    model.start_phase(schedule.phase_at(shown), config.jit_compile)
    if latest:
        checkpoint.restore(model, latest)
        log.info("resumed from %s at %.1f kimg", latest, shown / 1000)

    sample_latents = np.random.default_rng(config.seed).standard_normal(
        (16, config.latent_dim)).astype("float32")
    saver = cb.Checkpointer(ckpt_dir, config.checkpoint_minutes,
                            extra_state={"schedule": schedule.to_dict()})
    losses = cb.LossLog(run_dir, every_n_batches=log_every)
    bar = cb.ProgressBar(schedule.total_images, shown, disable=not progress)
    callbacks = [saver, losses, bar, *extra_callbacks]
    end = min(schedule.total_images, stop_after_images or schedule.total_images)
    saver.install_signal_handlers()
    try:
        while shown < end and not saver.interrupted:
            phase = schedule.phase_at(shown)
            if phase != model.phase:
                model.start_phase(phase, config.jit_compile)
            global_batch = phase.batch_size
            steps = math.ceil((min(phase.end_images, end) - shown) / global_batch)
            dataset = data.training_dataset(folder.images, phase.resolution, global_batch,
                                            start_index=shown, seed=config.seed,
                                            mirror=config.mirror)
            with warnings.catch_warnings():  # our stream is shuffled; Keras can't know that
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0,
                          callbacks=callbacks)
            shown = int(model.images_shown.numpy())
            if shown >= phase.end_images or shown >= end:
                name = f"phase-{phase.index:02d}-{phase.resolution}px-{'fade' if phase.fading else 'stable'}"
                save_sample_grid(model, sample_latents, run_dir / "samples" / f"{name}.png",
                                 losses.writer, shown)
                cb.plot_losses(run_dir)
                saver.save()
    finally:
        saver.restore_signal_handlers()
        bar.close()
    if saver.interrupted:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at {shown / 1000:.1f} kimg; checkpoint saved "
            f"in {str(ckpt_dir)!r}; continue with --resume")
    return run_dir

