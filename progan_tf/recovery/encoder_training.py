"""Training an encoder for a frozen generator, in the style of in-domain GAN inversion.

Every step (:meth:`EncoderTrainer.train_step`) trains the encoder ``E`` on two kinds of
examples while the generator ``G`` stays frozen:

* **generated pairs** ``z -> x = G(z)``: the encoded latent ``E(x)`` should point where ``z``
  does (``1 - cos``: ProGAN sees only a latent's direction) *and* its image ``G(E(x))`` should
  be ``x`` (mean squared error in pixels);
* **real faces** ``x`` (with ``data_dir``): only the image must come back, ``G(E(x)) ~ x`` --
  a real face has no true latent, and this is what makes the encoder "in-domain" (Zhu et al.,
  2020, https://arxiv.org/abs/2004.00049): trained through the generator on the pictures it
  will be asked to invert.

:func:`train_encoder` runs it with Keras ``fit`` in a run folder of
:mod:`progan_tf.training` -- ``run.json``, ``train.lock``, atomic checkpoints, ``losses.csv``,
the training clock -- so an interrupted training continues with ``resume=True`` (``progan-tf
train-encoder --resume``) exactly where its last checkpoint left it, and a folder that holds
another run, or files of its own, is refused before anything is written. When the budget
(``steps``, or ``minutes`` of training time over all sessions) is used up, the encoder is
written into the run folder (:data:`~progan_tf.recovery.encoder.ENCODER_FILES`), which
``recover_latent(..., init=folder)`` then reads; a larger budget and ``resume=True`` train it
further.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf import fileio
from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS
from progan_tf.errors import DatasetError, RunDirectoryError, TrainingInterrupted
from progan_tf.metrics.similarity import psnr, ssim
from progan_tf.recovery.encoder import (
    Encoder,
    build_encoder,
    fingerprint_mismatch,
    generator_fingerprint,
)
from progan_tf.recovery.search import synthesizer
from progan_tf.training import callbacks as cb
from progan_tf.training import checkpoint, runs
from progan_tf.training.family import ModelFamily
from progan_tf.training.runlock import LOCK_FILE, RunLock

__all__ = ["EncoderConfig", "EncoderFamily", "EncoderPhase", "EncoderTrainer", "train_encoder"]

log = logging.getLogger(__name__)

VALIDATION_SEED = 0x76616C  # "val": the generated pairs the metrics are measured on


@dataclasses.dataclass
class EncoderConfig:
    """The options of an encoder training (stored in the run folder's ``run.json``).

    Attributes:
        model: The generator's handle (:func:`~progan_tf.generator.load_generator`).
        out_dir: The run folder, where the encoder is written at the end.
        data_dir: A folder of real faces, or ``None`` to train on generated pairs only.
        crop: How the real faces are framed (as in ``progan-tf train``).
        holdout: Leave the last ``holdout`` faces (sorted by path) out, as training did.
        validation: Faces before those kept out of training to measure the encoder on.
        steps: Training steps in all (over every session).
        minutes: Or stop after this much training time in all (``None``: no time limit).
        batch_size: Generated pairs per step.
        real_batch_size: Real faces per step (ignored without ``data_dir``).
        latent_weight: Weight of ``1 - cos(E(G(z)), z)``.
        pixel_weight: Weight of the pixel losses (mean squared error, images in [0, 1]).
        learning_rate: Adam's learning rate (falling to a tenth over the second half of the
            budget).
        width: Channels of the encoder's first convolutions.
        max_width: Most channels of any convolution.
        seed: Seeds the weights, the latents and the order of the faces.
        checkpoint_minutes: Minutes between checkpoints.
        jit_compile: Compile the step with XLA.
        command: The command line that started the run.
        fingerprint: The generator's fingerprint (filled in when the run starts).
    """

    model: str
    out_dir: str
    data_dir: str | None = None
    crop: str = CROPS[0]
    holdout: int = 0
    validation: int = 64
    steps: int = 5000
    minutes: float | None = None
    batch_size: int = 4
    real_batch_size: int = 12
    latent_weight: float = 0.05
    pixel_weight: float = 1.0
    learning_rate: float = 1e-3
    width: int = 32
    max_width: int = 96
    seed: int = 0
    checkpoint_minutes: float = 5.0
    jit_compile: bool = False
    command: str = ""
    fingerprint: dict | None = None

    def validate(self) -> None:
        """Checks every option.

        Raises:
            OptionError: For a value out of range (one line, ``Received: name=value``).
        """
        for name in ("steps", "batch_size", "real_batch_size", "width", "max_width"):
            check_whole_number(getattr(self, name), name)
        for name in ("holdout", "seed", "validation"):
            check_whole_number(getattr(self, name), name, minimum=0)
        for name in ("latent_weight", "pixel_weight"):
            check_number(getattr(self, name), name, minimum=0)
        for name in ("learning_rate", "checkpoint_minutes"):
            check_number(getattr(self, name), name, exclusive_minimum=0)
        if self.minutes is not None:
            check_number(self.minutes, "minutes", exclusive_minimum=0)
        check_choice(self.crop, "crop", CROPS)

    def to_json(self) -> str:
        """The options as ``run.json`` stores them."""
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EncoderConfig:
        """The options stored in ``run.json``."""
        return cls(**json.loads(text))


@dataclasses.dataclass(frozen=True)
class EncoderPhase:
    """The one phase of an encoder training (the :class:`~progan_tf.training.Phase` protocol)."""

    end_images: int
    batch_size: int
    index: int = 0
    name: str = "encoder"
    start_images: int = 0


class EncoderTrainer(keras.Model):
    """The encoder and its ``train_step``, with the generator frozen beside it.

    A :class:`~progan_tf.training.Trainable`: it counts ``images_shown`` (generated and real
    examples) and ``step_count``, and tells :mod:`progan_tf.training.checkpoint` what to store
    (the encoder, its optimizer, the latent noise generator's state).

    Args:
        encoder: The network to train (:func:`~progan_tf.recovery.encoder.build_encoder`).
        generator: The frozen generator.
        config: The run's :class:`EncoderConfig`.
        real: Whether the batches hold real faces.
    """

    def __init__(self, encoder: keras.Model, generator: Any, config: EncoderConfig,
                 real: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder, self.config, self.real = encoder, config, bool(real)
        self.synthesize, self.latent_dim, _ = synthesizer(generator)
        self.images_shown = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_shown")
        self.steps_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="steps_done")
        # The share of the budget (steps or minutes, whichever ends first) used so far: set
        # before each step by the budget callback; it drives the learning rate.
        self.progress = tf.Variable(0.0, trainable=False, name="progress")
        self.rng = tf.random.Generator.from_seed(int(config.seed))
        self.encoder_optimizer = keras.optimizers.Adam(config.learning_rate)
        self.encoder_optimizer.build(self.encoder.trainable_variables)
        self.phase = None

    @property
    def step_count(self) -> tf.Variable:
        """Training steps over the whole run (checkpointed)."""
        return self.steps_done

    def start_phase(self, phase: EncoderPhase, jit_compile: bool = False) -> None:
        """Compiles the step (there is one phase)."""
        self.phase = phase
        self.compile(jit_compile=jit_compile)

    def call(self, images: Any, training: bool = False) -> Any:
        """The encoder's latents of ``images`` in [0, 1]."""
        return self.encoder(images, training=training)

    def render(self, latents: tf.Tensor) -> tf.Tensor:
        """The generator's images of ``latents``, in [0, 1] (the gradient passes to latents)."""
        return tf.clip_by_value(self.synthesize(latents), 0.0, 1.0)

    def latent_loss(self, predicted: tf.Tensor, true: tf.Tensor) -> tf.Tensor:
        """``1 - cos`` between predicted and true latents, averaged: only directions count."""
        cosine = tf.reduce_sum(tf.math.l2_normalize(predicted, axis=1)
                               * tf.math.l2_normalize(true, axis=1), axis=1)
        return tf.reduce_mean(1.0 - cosine)

    def pixel_loss(self, images: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        """Mean squared error of images in [0, 1]."""
        return tf.reduce_mean(tf.square(images - targets))

    def learning_rate_now(self) -> tf.Tensor:
        """Adam's rate: constant for the first half of the budget, then down to a tenth."""
        return self.config.learning_rate * (
            1.0 - 0.9 * tf.clip_by_value(2.0 * self.progress - 1.0, 0.0, 1.0))

    def train_step(self, real_images: tf.Tensor) -> dict:
        """One update of the encoder on generated pairs and (with data) real faces."""
        config = self.config
        # 1. Generated pairs, through the frozen generator.
        latents = self.rng.normal([config.batch_size, self.latent_dim])
        fakes = tf.stop_gradient(self.render(latents))
        with tf.GradientTape() as tape:
            # 2. Encode and render: the latent and the image must both come back.
            predicted = self.encoder(fakes, training=True)
            latent_loss = self.latent_loss(predicted, latents)
            fake_pixel_loss = self.pixel_loss(self.render(predicted), fakes)
            loss = config.latent_weight * latent_loss + config.pixel_weight * fake_pixel_loss
            # 3. Real faces: only the image must come back (in-domain).
            real_pixel_loss = tf.constant(0.0)
            if self.real:
                reals = (real_images + 1.0) / 2.0
                real_pixel_loss = self.pixel_loss(self.render(self.encoder(reals, training=True)),
                                                  reals)
                loss += config.pixel_weight * real_pixel_loss
        # 4. Update the encoder only.
        variables = self.encoder.trainable_variables
        self.encoder_optimizer.learning_rate.assign(self.learning_rate_now())
        self.encoder_optimizer.apply(tape.gradient(loss, variables), variables)
        shown = config.batch_size + (config.real_batch_size if self.real else 0)
        self.images_shown.assign_add(shown)
        self.steps_done.assign_add(1)
        return {"loss": loss, "latent_loss": latent_loss, "fake_pixel_loss": fake_pixel_loss,
                "real_pixel_loss": real_pixel_loss}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict:
        """The network a checkpoint stores: the encoder."""
        return {"encoder": self.encoder}

    def checkpoint_optimizers(self) -> dict:
        """The encoder's Adam."""
        return {"encoder_optimizer": (self.encoder_optimizer, "encoder",
                                      self.encoder.trainable_variables)}

    def checkpoint_state(self) -> dict:
        """The step count and the latent noise generator's state."""
        return {"steps_done": int(self.steps_done.numpy()),
                "rng_state": self.rng.state.numpy().tolist()}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: there is one optimizer for the whole run."""
        return True

    def restore_checkpoint_state(self, state: dict) -> None:
        """Sets the step count and the noise generator from a checkpoint."""
        self.steps_done.assign(int(state["steps_done"]))
        self.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))

    def sample(self, images: Any) -> tf.Tensor:
        """Each image beside its reconstruction ``G(E(x))``, interleaved: ``[2N, H, W, 3]``."""
        images = tf.convert_to_tensor(images, tf.float32)
        recovered = self.render(self.encoder(images, training=False))
        return tf.reshape(tf.stack([images, recovered], axis=1), [-1, *images.shape[1:]])


class EncoderSchedule:
    """One phase of ``steps`` steps (the :class:`~progan_tf.training.Schedule` protocol)."""

    def __init__(self, config: EncoderConfig, real: bool) -> None:
        per_step = config.batch_size + (config.real_batch_size if real else 0)
        self.phases = [EncoderPhase(end_images=config.steps * per_step, batch_size=per_step)]

    @property
    def total_images(self) -> int:
        """Examples (generated and real) shown over the whole run."""
        return self.phases[0].end_images

    def phase_at(self, images_shown: int) -> EncoderPhase:
        """The only phase."""
        return self.phases[0]

    def to_dict(self) -> dict:
        """The schedule as JSON values."""
        return {"steps_total": self.phases[0].end_images // self.phases[0].batch_size,
                "images_per_step": self.phases[0].batch_size}


class EncoderFamily(ModelFamily):
    """Encoders for one frozen generator, as a :class:`~progan_tf.training.ModelFamily`.

    Args:
        generator: The generator the encoder is trained for.
    """

    config_class = EncoderConfig
    safe_on_resume = ("checkpoint_minutes", "jit_compile", "command", "out_dir", "steps",
                      "minutes")
    loss_columns = ("loss", "latent_loss", "fake_pixel_loss", "real_pixel_loss")
    loss_curves = {"latent_loss": "1 - cos(E(G(z)), z)", "fake_pixel_loss": "MSE G(E(G(z)))",
                   "real_pixel_loss": "MSE G(E(x)), real x"}
    sample_count = 8

    def __init__(self, generator: Any) -> None:
        self.generator = generator

    def build_model(self, config: EncoderConfig, strategy: Any = None,
                    precision: str | None = None) -> EncoderTrainer:
        """A fresh encoder (seeded) and its trainer."""
        keras.utils.set_random_seed(config.seed)
        network = build_encoder(self.generator.latent_dim, self.generator.image_shape,
                                config.width, config.max_width)
        return EncoderTrainer(network, self.generator, config, real=config.data_dir is not None)

    def schedule(self, config: EncoderConfig) -> EncoderSchedule:
        """One phase of ``config.steps`` steps."""
        return EncoderSchedule(config, real=config.data_dir is not None)

    def load_data(self, config: EncoderConfig) -> tuple[Any, dict]:
        """The real faces: ``(training uint8 images, validation ones)``, or ``None`` without.

        Raises:
            DatasetError: If the folder cannot be used, or holds too few faces.
        """
        if config.data_dir is None:
            return None, {"directory": None, "images": 0}
        from progan_tf.training.data import load_image_folder

        height, width, _ = self.generator.image_shape
        if height != width:
            raise DatasetError(f"the generator makes {height}x{width} images; training on real "
                               f"faces needs a generator of square images (drop --data)")
        folder = load_image_folder(config.data_dir, height, crop=config.crop)
        keep = len(folder) - config.holdout - config.validation
        if keep < max(config.real_batch_size, 1):
            raise DatasetError(f"{config.data_dir!r} holds {len(folder)} usable images: too few "
                               f"for holdout {config.holdout}, validation {config.validation} "
                               f"and batches of {config.real_batch_size}")
        images = folder.images[:len(folder) - config.holdout]
        info = {"directory": str(Path(config.data_dir).expanduser().resolve()),
                "images": keep, "validation": config.validation, "holdout": config.holdout,
                "skipped": len(folder.skipped), "crop": config.crop}
        return (images[:keep], images[keep:]), info

    def dataset(self, config: EncoderConfig, data: Any, phase: EncoderPhase,
                start_index: int) -> tf.data.Dataset:
        """Batches of real faces in [-1, 1] from face ``start_index``; without data, empties."""
        if data is None:
            return tf.data.Dataset.from_tensors(
                tf.zeros([0, *self.generator.image_shape])).repeat()
        from progan_tf.training.data import training_dataset

        return training_dataset(data[0], data[0].shape[1], config.real_batch_size,
                                start_index=start_index, seed=config.seed)

    def sample_inputs(self, config: EncoderConfig, data: Any = None) -> np.ndarray:
        """Fixed faces to show reconstructed: validation faces, else generated ones."""
        if data is not None and len(data[1]):
            return data[1][:self.sample_count].astype(np.float32) / 255.0
        latents = np.random.default_rng(VALIDATION_SEED).standard_normal(
            (self.sample_count, self.generator.latent_dim)).astype(np.float32)
        return np.clip(self.generator(latents).numpy(), 0.0, 1.0)

    def comparable(self, config: EncoderConfig) -> dict:
        """The options compared on resume (the fingerprint is compared on its own)."""
        values = dataclasses.asdict(config)
        values.pop("fingerprint")
        if values["data_dir"] is not None:
            values["data_dir"] = str(Path(values["data_dir"]).expanduser().resolve())
        return values

    def export(self, model: EncoderTrainer, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """Writes the encoder folder (:meth:`~progan_tf.recovery.encoder.Encoder.save`)."""
        return Encoder(model.encoder, metadata).save(out_dir)


def train_encoder(config: EncoderConfig, *, resume: bool = False, generator: Any = None,
                  progress: bool = True, stop_after_steps: int | None = None) -> Path:
    """Trains (or resumes) an encoder for ``config.model``; returns the run folder.

    Everything is checked before anything is written: the options, the folder (new or empty;
    with ``resume``, a run whose generator has the same fingerprint), the generator and the
    faces. When the budget is used up the encoder is written into the folder; a session that
    ends early (``stop_after_steps``, Ctrl-C, SIGTERM) leaves a checkpoint to resume from.

    Args:
        config: The options.
        resume: Continue the run in ``config.out_dir`` (only ``steps``, ``minutes``,
            ``checkpoint_minutes`` and ``jit_compile`` may differ from its ``run.json``).
        generator: The loaded generator, if the caller has it (default: load
            ``config.model``).
        progress: Show a progress bar.
        stop_after_steps: End this session after that many steps in all (for tests and
            time-boxed sessions).

    Returns:
        The run folder (which holds the encoder once the budget is used up).

    Raises:
        OptionError: For an invalid option.
        DatasetError: For unusable faces.
        RunDirectoryError: For a folder that does not fit the request, saying what to do.
        TrainingInterrupted: After Ctrl-C/SIGTERM, once the checkpoint is written.
    """
    config.validate()
    out = Path(config.out_dir).expanduser()
    if resume:
        read_encoder_run(out)  # another kind of run is refused before the slow model load
    else:
        _refuse_other_runs(out)
        runs.check_new_run_dir(out)
    if generator is None:
        from progan_tf.generator import load_generator

        generator = load_generator(config.model)
    family = EncoderFamily(generator)
    if resume:
        config = runs.resume_config(family, config, out)
        problem = fingerprint_mismatch(config.fingerprint, generator)
        if problem is not None:
            raise RunDirectoryError(f"cannot resume {str(out)!r}: it trains an encoder for "
                                    f"{config.model!r} and {problem}; pass --model {config.model}")
    data, info = family.load_data(config)
    created = runs.make_run_dir(out)
    written, started = [], False
    lock = RunLock(out, config.command)
    try:
        lock.acquire()
        if not resume:
            runs.check_new_run_dir(out, ignore={LOCK_FILE})
            config = dataclasses.replace(
                config, out_dir=str(out), fingerprint=generator_fingerprint(generator),
                data_dir=info["directory"])
        written.append(runs.write_dataset_info(out, info, resuming=resume))
        if not resume:
            written.append(fileio.write_text(out / runs.RUN_FILE, config.to_json()))
        started = True
        return _fit(family, config, data, info, resume, progress, stop_after_steps)
    finally:
        lock.release()
        if not started and not resume:
            for path in written:
                path.unlink(missing_ok=True)
        if not started and created:
            try:
                out.rmdir()
            except OSError:
                pass


def read_encoder_run(run_dir: str | Path) -> EncoderConfig:
    """The options of the encoder training in ``run_dir`` (its ``run.json``).

    Raises:
        RunDirectoryError: If the folder holds no run, another kind of run, or a damaged one.
    """
    _refuse_other_runs(Path(run_dir).expanduser())
    return runs.read_run_config(EncoderConfig, Path(run_dir).expanduser())


def _refuse_other_runs(run_dir: Path) -> None:
    """Raises if ``run_dir/run.json`` holds the options of another kind of run."""
    stored = runs.read_json(run_dir / runs.RUN_FILE)
    if isinstance(stored, dict) and not {"model", "fingerprint"} <= set(stored):
        raise RunDirectoryError(f"{str(run_dir)!r} holds another kind of run (its run.json is "
                                f"not an encoder training's); choose a new folder for the "
                                f"encoder")


def _fit(family: EncoderFamily, config: EncoderConfig, data: Any, info: dict, resume: bool,
         progress: bool, stop_after_steps: int | None) -> Path:
    """The training of :func:`train_encoder`, in a locked run folder that passed every check."""
    run_dir, schedule = Path(config.out_dir), family.schedule(config)
    ckpt_dir = run_dir / "checkpoints"
    for done in checkpoint.clean_up(ckpt_dir):
        log.info("checkpoints: %s (left by an interrupted save)", done)
    runs.remove_temporaries(run_dir)
    model = family.build_model(config)
    model.start_phase(schedule.phases[0], config.jit_compile)
    clock = {"schedule": schedule.to_dict()}
    if resume:
        found = _newest_checkpoint(ckpt_dir)
        if found is not None:
            state = checkpoint.restore(model, found)
            clock.update({key: state[key] for key in ("train_seconds", "cpu_seconds")
                          if key in state})
            log.info("resumed from %s at step %d", found.name, int(model.steps_done.numpy()))
        cb.truncate_losses(run_dir, int(model.images_shown.numpy()))
    steps_done = int(model.steps_done.numpy())
    saver = cb.Checkpointer(ckpt_dir, config.checkpoint_minutes, extra_state=clock)
    model.training_clock = cb.TrainingClock(clock)
    losses = cb.LossLog(run_dir, family.loss_columns, every_n_batches=10)
    bar = cb.ProgressBar(schedule.total_images, int(model.images_shown.numpy()),
                         disable=not progress, describe=_describe)
    budget = _Budget(model.training_clock, config.steps, config.minutes)
    end = min(config.steps, stop_after_steps or config.steps)
    saver.install_signal_handlers()
    try:
        if steps_done < end and not budget.used_up():
            dataset = family.dataset(config, data, schedule.phases[0],
                                     steps_done * config.real_batch_size)
            with warnings.catch_warnings():  # our stream is shuffled; Keras can't know that
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(dataset, steps_per_epoch=end - steps_done, epochs=1, verbose=0,
                          callbacks=[model.training_clock, saver, losses, bar, budget])
            saver.save()
    finally:
        saver.restore_signal_handlers()
        bar.close(int(model.images_shown.numpy()))
    steps_done = int(model.steps_done.numpy())
    if saver.interrupted:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at step {steps_done}; checkpoint saved in "
            f"{str(ckpt_dir)!r}; continue with --resume", signal=saver.interrupted)
    if steps_done >= config.steps or budget.used_up():
        inputs = family.sample_inputs(config, data)
        cb.save_sample_grid(model.sample(inputs).numpy(), run_dir / "samples" / "encoder.png")
        cb.plot_losses(run_dir, family.loss_curves)
        family.export(model, run_dir, _metadata(family, model, config, data, info, clock), False,
                      ())
    return run_dir


class _Budget(keras.callbacks.Callback):
    """Stops ``fit`` once the run's training time (all sessions) reaches ``minutes``.

    Before each step it sets the model's ``progress``: the larger of the shares of the steps
    and of the minutes used so far.
    """

    def __init__(self, clock: cb.TrainingClock, steps: int, minutes: float | None) -> None:
        super().__init__()
        self.clock, self.steps = clock, steps
        self.seconds = None if minutes is None else 60.0 * minutes

    def used_up(self) -> bool:
        return self.seconds is not None and self.clock.train_seconds >= self.seconds

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        shares = [int(self.model.steps_done.numpy()) / self.steps]
        if self.seconds is not None:
            shares.append(self.clock.train_seconds / self.seconds)
        self.model.progress.assign(min(max(shares), 1.0))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.used_up():
            self.model.stop_training = True


def _describe(phase: EncoderPhase, logs: dict) -> str:
    return " ".join(f"{key}={float(logs[key]):.4f}" for key in EncoderFamily.loss_columns
                    if key in logs)


def _newest_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest loadable checkpoint; damaged newer ones are set aside with a warning.

    Raises:
        RunDirectoryError: If checkpoints exist but none can be loaded.
    """
    found, skipped = checkpoint.find_loadable(ckpt_dir)
    if found is None and skipped:
        reasons = "; ".join(f"{path.name}: {reason}" for path, reason in skipped[:3])
        raise RunDirectoryError(f"none of the {len(skipped)} checkpoints in {str(ckpt_dir)!r} "
                                f"can be loaded ({reasons}); start a new run in another folder")
    for path, reason in skipped:
        log.warning("skipped checkpoint %s: %s; moved it to %s", path.name, reason,
                    checkpoint.set_aside(path).name)
    if found is None:
        log.warning("%s has no checkpoint yet (the run was stopped before its first one); "
                    "training it from step 0", ckpt_dir.parent)
    return found


def evaluate_encoder(trainer: EncoderTrainer, generator: Any, faces: np.ndarray | None,
                     count: int = 64) -> dict:
    """How well the encoder inverts: generated pairs, and the validation faces if any.

    Args:
        trainer: The trained :class:`EncoderTrainer`.
        generator: Its generator.
        faces: uint8 validation faces ``[N, H, W, 3]``, or ``None``.
        count: Generated pairs (seeded: every run measures on the same latents).

    Returns:
        Mean PSNR (dB), SSIM and, for generated pairs, cosine to the true latent.
    """
    latents = np.random.default_rng(VALIDATION_SEED).standard_normal(
        (count, generator.latent_dim)).astype(np.float32)
    sets = {"generated": np.clip(generator(latents).numpy(), 0.0, 1.0)}
    if faces is not None and len(faces):
        sets["real_validation"] = faces.astype(np.float32) / 255.0
    metrics = {}
    for name, images in sets.items():
        predicted = trainer.encoder.predict(images, batch_size=32, verbose=0)
        recovered = trainer.render(tf.constant(predicted)).numpy()
        metrics[name] = {"images": len(images),
                         "psnr": float(np.mean([psnr(a, b) for a, b in zip(recovered, images)])),
                         "ssim": float(np.mean([ssim(a, b) for a, b in zip(recovered, images)]))}
        if name == "generated":
            cosine = np.sum(predicted * latents, axis=1) / (
                np.linalg.norm(predicted, axis=1) * np.linalg.norm(latents, axis=1))
            metrics[name]["cosine"] = float(np.mean(cosine))
    return metrics


def _metadata(family: EncoderFamily, model: EncoderTrainer, config: EncoderConfig, data: Any,
              info: dict, clock: dict) -> dict:
    """``encoder.json``'s content, before :meth:`Encoder.save` adds its own entries."""
    generator = family.generator
    options = {key: value for key, value in dataclasses.asdict(config).items()
               if key not in ("fingerprint", "command", "out_dir")}
    return {"latent_dim": int(generator.latent_dim),
            "image_shape": [int(side) for side in generator.image_shape],
            "generator": {"handle": config.model, "fingerprint": config.fingerprint},
            "training_command": config.command,
            "steps": int(model.steps_done.numpy()),
            "images_shown": int(model.images_shown.numpy()),
            "train_seconds": clock.get("train_seconds", 0.0),
            "cpu_seconds": clock.get("cpu_seconds", 0.0),
            "data": info, "options": options,
            "metrics": evaluate_encoder(model, generator, None if data is None else data[1])}

