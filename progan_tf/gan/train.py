"""Train a progressive GAN on a folder of images: the loop behind ``progan-tf train``.

``train(TrainConfig(...))`` walks the schedule phase by phase, calling ``fit()`` once per phase
with the callbacks of :mod:`progan_tf.gan.callbacks`.  A run lives in one folder::

    run.json            the configuration (written once; ``resume`` reads it back)
    dataset.json        what the data folder held at the last start
    train.lock          who is training the run right now (removed when training ends)
    checkpoints/        atomic, self-checking checkpoints + ``latest`` pointer
    samples/            a fixed-latent grid at the end of every phase
    logs/               TensorBoard scalars and images
    losses.csv/.png     the loss curves
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from progan_tf.errors import DatasetError, ProganError, RunDirectoryError, TrainingInterrupted
from progan_tf.gan import callbacks as cb
from progan_tf.gan import checkpoint, data
from progan_tf.gan.model import ProGAN
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.runlock import LOCK_FILE, RunLock
from progan_tf.gan.schedule import Schedule

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
# Keras dtype policies a run may train under. "mixed_bfloat16" computes in bfloat16 and keeps
# float32 weights; it pays off on CPUs with AVX512_BF16/AMX (see bench/train.py).
PRECISIONS = ("float32", "mixed_bfloat16")


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
    * ``command`` and ``out_dir`` -- what was typed and where the folder is now.

    ``run.json`` itself is written once, when the run starts.
    """

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
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        try:
            {int(k): int(v) for k, v in dict(self.batch_sizes).items()}
            self.schedule()
        except (TypeError, ValueError) as error:
            raise DatasetError(str(error)) from None
        for name, low in (("latent_dim", 1), ("fmap_base", 1), ("fmap_max", 1),
                          ("mbstd_group_size", 0), ("holdout", 0)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise DatasetError(f"{name} must be a whole number >= {low}, got {value!r}")
        if not _is_int(self.seed) or not 0 <= self.seed < 2 ** 32:
            raise DatasetError(f"seed must be a whole number from 0 to {2 ** 32 - 1}, "
                               f"got {self.seed!r}")
        for name, ok, what in (("learning_rate", lambda v: v > 0, "a positive number"),
                               ("ema_beta", lambda v: 0 <= v < 1, "a number from 0 to below 1"),
                               ("checkpoint_minutes", lambda v: v > 0, "a positive number")):
            value = getattr(self, name)
            if not _is_number(value) or not ok(value):
                raise DatasetError(f"{name} must be {what}, got {value!r}")
        if self.crop not in data.CROPS:
            raise DatasetError(f"unknown crop {self.crop!r}; use one of {', '.join(data.CROPS)}")
        if self.precision not in PRECISIONS:
            raise DatasetError(f"unknown precision {self.precision!r}; use one of "
                               f"{', '.join(PRECISIONS)}")
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images, got {self.data_dir!r}")

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text):
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in fields})


# Fields that may differ between a run and the command that resumes it (see TrainConfig).
SAFE_ON_RESUME = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _comparable(config: TrainConfig) -> dict:
    values = dataclasses.asdict(config)
    values["batch_sizes"] = {int(k): int(v) for k, v in config.batch_sizes.items()}
    values["data_dir"] = os.path.realpath(os.path.expanduser(str(config.data_dir)))
    return values


def resume_differences(config: TrainConfig, stored: TrainConfig) -> list[str]:
    """``"name new (run: stored)"`` for every field of ``config`` that may not change on resume."""
    new, old = _comparable(config), _comparable(stored)
    return [f"{name} {new[name]!r} (run: {old[name]!r})" for name in new
            if name not in SAFE_ON_RESUME and new[name] != old[name]]


def read_run_config(run_dir) -> TrainConfig:
    """The configuration stored in ``run_dir/run.json``.

    Raises:
        RunDirectoryError: if there is none, or it is damaged (one line saying what to do).
    """
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.exists():
        raise RunDirectoryError(f"{str(run_dir)!r} holds no run to resume (no {RUN_FILE}); "
                                f"drop --resume to start a new run there")
    try:
        stored = TrainConfig.from_json(path.read_text())
        stored.validate()
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise RunDirectoryError(
            f"{str(path)!r} is damaged ({type(error).__name__}: {error}); it holds the run's "
            f"options: restore it from a backup or rewrite it with the options of the original "
            f"command, or start a new run in another folder") from None
    return stored


def resume_config(config: TrainConfig, run_dir) -> TrainConfig:
    """The stored run's configuration, with the safe fields of ``config`` (see TrainConfig).

    Raises:
        RunDirectoryError: if ``config`` differs from the run in any other field, naming them.
    """
    stored = read_run_config(run_dir)
    differences = resume_differences(config, stored)
    if differences:
        command = f" ({stored.command})" if stored.command else ""
        raise RunDirectoryError(
            f"cannot resume {str(run_dir)!r} with other options: {'; '.join(differences)}; pass "
            f"the options of the command that started it{command}; only "
            f"{', '.join(SAFE_ON_RESUME[:3])} may change when resuming")
    safe = {k: getattr(config, k) for k in SAFE_ON_RESUME}
    return dataclasses.replace(stored, **{**safe, "out_dir": str(run_dir)})


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


def _check_new_run_dir(out: Path, ignore=()):
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"output {str(out)!r} is a file, not a folder; choose a new "
                                f"folder for the run")
    if (out / RUN_FILE).exists():
        raise RunDirectoryError(f"{str(out)!r} already holds a run; pass --resume to continue it, "
                                f"or choose another output folder")
    if out.exists() and any(p.name not in ignore for p in out.iterdir()):
        raise RunDirectoryError(f"output folder {str(out)!r} is not empty; choose a new folder "
                                f"for the run")


def _make_dir(out: Path) -> bool:
    """Create ``out`` (and its parents); returns whether it was created now."""
    try:
        out.mkdir(parents=True)
        return True
    except FileExistsError:
        if not out.is_dir():
            raise RunDirectoryError(f"{str(out)!r} is not a folder; choose a new folder for the "
                                    f"run") from None
        return False
    except OSError as error:
        raise RunDirectoryError(f"cannot create the run folder {str(out)!r} "
                                f"({error.strerror or error}); choose a folder you can write "
                                f"to") from None


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

    Everything is checked before anything is written: the options, the run folder and the
    training images, so a start that fails leaves no ``run.json`` behind.  The run folder is
    locked (``train.lock``) while training.  Resuming continues from the newest loadable
    checkpoint (damaged newer ones are set aside as ``damaged-ckpt-*`` with a warning) and
    refuses options that differ from the run's (see :class:`TrainConfig`).

    ``stop_after_images`` ends the session early (with a checkpoint) once that many images have
    been shown in total -- for tests and for time-boxed sessions.  Losses are logged every
    ``log_every`` steps.  SIGINT/SIGTERM write a checkpoint and raise
    :class:`TrainingInterrupted`.

    Raises:
        DatasetError: for invalid options or unusable training images.
        RunDirectoryError: for a run folder that does not fit the request (in use, holding
            another run, damaged), naming what to do.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    config.validate()
    out = Path(config.out_dir).expanduser()
    if resume:
        config = resume_config(config, out)
    else:
        _check_new_run_dir(out)
    created = _make_dir(out)
    lock = RunLock(out, config.command)
    written = []  # files a failed first start must not leave behind
    started = False
    try:
        lock.acquire()
        if not resume:  # again, now that no other process can be creating a run here
            _check_new_run_dir(out, ignore={LOCK_FILE})
        folder = load_training_images(config)
        if not resume:
            config = dataclasses.replace(config, out_dir=str(out),
                                         data_dir=str(Path(config.data_dir).expanduser().resolve()))
        _write_dataset_info(out, config, folder, written if not resume else None)
        if not resume:
            written.append(checkpoint.write_text_atomic(out / RUN_FILE, config.to_json()))
        started = True
        return _train_run(config, folder, resume, strategy, stop_after_images, progress,
                          extra_callbacks, log_every)
    finally:
        lock.release()
        if not started:
            for path in written:
                path.unlink(missing_ok=True)
            if created:
                try:
                    out.rmdir()
                except OSError:
                    pass


def _write_dataset_info(out: Path, config: TrainConfig, folder, written):
    path = out / "dataset.json"
    if written is None:  # resuming: say so if the data changed since the run started
        try:
            before = json.loads(path.read_text()).get("images")
        except (OSError, ValueError, AttributeError):
            before = None
        if before is not None and before != len(folder):
            log.warning("the data folder now holds %d usable images, the run started with %s: "
                        "the images shown from here on differ from an uninterrupted run's",
                        len(folder), before)
    info = {"directory": str(Path(config.data_dir).expanduser().resolve()), "images": len(folder),
            "skipped": len(folder.skipped), "upscaled": folder.upscaled,
            "holdout": config.holdout}
    checkpoint.write_text_atomic(path, json.dumps(info, indent=2))
    if written is not None:
        written.append(path)


def _resume_point(model, config: TrainConfig, ckpt_dir: Path, schedule) -> int:
    """Restore the newest loadable checkpoint into ``model``; returns the images shown."""
    found, skipped = checkpoint.find_loadable(ckpt_dir)
    set_aside = sorted(ckpt_dir.glob(checkpoint.DAMAGED_PREFIX + "*"))
    if found is None and (skipped or set_aside):
        reasons = "; ".join([f"{path.name}: {reason}" for path, reason in skipped[:3]]
                            + [f"{path.name}: set aside as damaged" for path in set_aside[:3]])
        raise RunDirectoryError(
            f"none of the {len(skipped) + len(set_aside)} checkpoints in {str(ckpt_dir)!r} can "
            f"be loaded ({reasons}); start a new run in another folder, or move the checkpoints "
            f"folder away to train this run again from 0 kimg")
    for path, reason in skipped:
        moved = checkpoint.set_aside(path)
        log.warning("skipped checkpoint %s: %s; moved it to %s and fell back to %s",
                    path.name, reason, moved.name, found.name)
    if found is None:
        log.warning("%s has no checkpoint yet (the run was stopped before its first one was "
                    "written); starting it from 0 kimg", ckpt_dir.parent)
        model.start_phase(schedule.phase_at(0), config.jit_compile)
        return 0
    shown = checkpoint.read_state(found)["images_shown"]
    model.start_phase(schedule.phase_at(shown), config.jit_compile)
    checkpoint.restore(model, found)
    log.info("resumed from %s at %.1f kimg", found, shown / 1000)
    return shown


def _train_run(config: TrainConfig, folder, resume, strategy, stop_after_images, progress,
               extra_callbacks, log_every):
    """The training loop of :func:`train`, in a locked run folder that passed every check."""
    run_dir = Path(config.out_dir)
    log.info("training on %s", data.describe(folder))
    ckpt_dir = run_dir / "checkpoints"
    for done in checkpoint.clean_up(ckpt_dir):
        log.info("checkpoints: %s (left by an interrupted save)", done)
    # Temporary files of atomic writes cut short by a kill (write_text_atomic, plot_losses).
    for pattern in (f".{RUN_FILE}.*", ".dataset.json.*", ".losses.csv.*", ".losses.tmp.png"):
        for path in run_dir.glob(pattern):
            path.unlink(missing_ok=True)
    schedule = config.schedule()
    model = build_model(config, strategy)
    if resume:
        shown = _resume_point(model, config, ckpt_dir, schedule)
        cb.truncate_losses(run_dir, shown)
    else:
        shown = 0
        model.start_phase(schedule.phase_at(0), config.jit_compile)

    sample_latents = np.random.default_rng(config.seed).standard_normal(
        (16, config.latent_dim)).astype("float32")
    saver = cb.Checkpointer(ckpt_dir, config.checkpoint_minutes,
                            extra_state={"schedule": schedule.to_dict()})
    losses = cb.LossLog(run_dir, every_n_batches=log_every)
    end = min(schedule.total_images, stop_after_images or schedule.total_images)
    bar = cb.ProgressBar(schedule.total_images, shown, disable=not progress)
    callbacks = [saver, losses, bar, *extra_callbacks]
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
                name = (f"phase-{phase.index:02d}-{phase.resolution}px-"
                        f"{'fade' if phase.fading else 'stable'}")
                save_sample_grid(model, sample_latents, run_dir / "samples" / f"{name}.png",
                                 losses.writer, shown)
                cb.plot_losses(run_dir)
                saver.save()
    finally:
        saver.restore_signal_handlers()
        bar.close(shown)
    if saver.interrupted:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at {shown / 1000:.1f} kimg; checkpoint saved "
            f"in {str(ckpt_dir)!r}; continue with --resume", signal=saver.interrupted)
    return run_dir
