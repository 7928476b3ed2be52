"""The model side of encoder training: options, the trainer and its ``train_step``, the family.

:class:`EncoderTrainer` is the ``keras.Model`` that ``fit`` trains: each step (its
:meth:`~EncoderTrainer.train_step`) updates the encoder on generated pairs -- the latent
(``1 - cos``) and the image (pixels) must come back -- and, with real faces, on those (only the
image), with the generator frozen. :class:`EncoderFamily` plugs it into
:mod:`progan_tf.training` (one phase, the real faces' stream, the checkpoint interface);
:func:`progan_tf.recovery.encoder_training.train_encoder` runs it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS
from progan_tf.errors import DatasetError
from progan_tf.metrics.similarity import psnr, ssim
from progan_tf.recovery.encoder import Encoder, build_encoder
from progan_tf.recovery.search import synthesizer
from progan_tf.training.family import ModelFamily

__all__ = ["EncoderConfig", "EncoderFamily", "EncoderPhase", "EncoderSchedule", "EncoderTrainer",
           "VALIDATION_SEED", "evaluate_encoder"]

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
