"""The ProGAN training model: WGAN-GP with drift, Adam, and a generator EMA, driven by ``fit()``.

:class:`ProGAN` is a ``keras.Model`` whose ``train_step`` does one discriminator and one
generator update (n_critic = 1, as in the paper) and returns the losses.  The progressive
schedule lives outside: before each phase :meth:`ProGAN.start_phase` sets the networks' stage,
resets the optimizers at a new resolution and recompiles, so each phase runs its own traced
(optionally XLA-compiled) ``train_step``.

Loss (Gulrajani et al. 2017; Karras et al. 2018, appendix A.1)::

    L_D = E[D(fake)] - E[D(real)] + gp_weight * E[(||grad D(mix)|| - 1)^2] + drift * E[D(real)^2]
    L_G = -E[D(fake)]
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.schedule import Phase
from progan_tf.pixels import from_signed_unit


def make_adam(learning_rate: float = 1e-3) -> keras.optimizers.Adam:
    """Adam with the paper's settings: beta1 = 0, beta2 = 0.99, epsilon = 1e-8.

    Example:
    >>> make_adam().beta_1
    0.0
    """
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.0, beta_2=0.99,
                                 epsilon=1e-8)


class ProGAN(keras.Model):
    """Generator, discriminator and the generator's exponential moving average, trained together.

    It is the :class:`~progan_tf.training.family.Trainable` of the ProGAN family: besides
    ``train_step`` it keeps the training position (``images_shown``, ``step_count``,
    ``phase``) and tells :mod:`progan_tf.training.checkpoint` what to store.

    Reference:
        Karras et al., 2018, `Progressive Growing of GANs <https://arxiv.org/abs/1710.10196>`_;
        Gulrajani et al., 2017, `Improved Training of Wasserstein GANs
        <https://arxiv.org/abs/1704.00028>`_.

    Args:
        generator: The progressive generator.
        discriminator: The progressive discriminator (same ``resolution``).
        ema_beta: Smoothing of the generator average used for samples and export (default
            0.999).  As in ``tf.train.ExponentialMovingAverage``, the step ``n`` uses
            ``min(ema_beta, (1 + n) / (10 + n))``: a short run (thousands, not the paper's
            hundreds of thousands of steps) would otherwise export mostly its random
            initialisation.
        gp_weight: Gradient-penalty weight lambda (default 10).
        drift_weight: The drift term epsilon that keeps D's output near zero (default 0.001).
        learning_rate: Adam's learning rate for both networks (default 1e-3).
        seed: Seeds the latent and interpolation noise (default 0; a ``tf.random.Generator``
            that is checkpointed, so a resumed run draws the same numbers).
        **kwargs: ``keras.Model`` arguments.
    """

    def __init__(self, generator: ProgressiveGenerator, discriminator: ProgressiveDiscriminator,
                 ema_beta: float = 0.999, gp_weight: float = 10.0, drift_weight: float = 1e-3,
                 learning_rate: float = 1e-3, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.ema_generator = ProgressiveGenerator.from_config(
            {**generator.get_config(), "name": "ema_generator"})
        self.ema_generator.set_weights(generator.get_weights())
        self.ema_beta, self.gp_weight = float(ema_beta), float(gp_weight)
        self.drift_weight, self.learning_rate = float(drift_weight), float(learning_rate)
        self.images_shown = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_shown",
                                        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.ema_updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="ema_updates",
                                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.rng = tf.random.Generator.from_seed(int(seed))
        self.phase = None
        self.optimizer_resolution = None
        self.g_optimizer = self.d_optimizer = None
        self.built = True  # the networks build all their weights up front

    def call(self, latents: Any, training: bool = False) -> Any:
        """The generator's images in [-1, 1] (``fit`` never calls it; ``train_step`` does)."""
        return self.generator(latents, training=training)

    @property
    def step_count(self) -> tf.Variable:
        """Training steps over the whole run (checkpointed): the EMA's update count."""
        return self.ema_updates

    @property
    def latent_dim(self) -> int:
        """The generator's latent size."""
        return self.generator.latent_dim

    def start_phase(self, phase: Phase, jit_compile: bool = False) -> None:
        """Point all three networks at ``phase``'s stage and recompile.

        The optimizers are replaced (their state reset) whenever the resolution changes, as in
        the paper; the stable phase that follows a fade-in keeps the same optimizer.
        """
        self.phase = phase
        for network in (self.generator, self.discriminator, self.ema_generator):
            network.set_stage(phase.resolution, phase.fading)
        with self.distribute_strategy.scope():  # the strategy the model was created under
            if phase.resolution != self.optimizer_resolution:
                self.g_optimizer = make_adam(self.learning_rate)
                self.d_optimizer = make_adam(self.learning_rate)
                # Build over the variables of the whole resolution (fade-in branch included).
                self.g_optimizer.build(self.generator.stage_variables())
                self.d_optimizer.build(self.discriminator.stage_variables())
                self.optimizer_resolution = phase.resolution
            self.compile(jit_compile=jit_compile)

    def _set_alpha(self) -> tf.Tensor:
        phase = self.phase
        if not phase.fading:
            return tf.constant(1.0)
        shown = tf.cast(self.images_shown, tf.float32) - float(phase.start_images)
        alpha = tf.clip_by_value(shown / float(phase.num_images), 0.0, 1.0)
        for network in (self.generator, self.discriminator, self.ema_generator):
            network.fade.alpha.assign(alpha)
        return alpha

    def train_step(self, real_images: tf.Tensor) -> dict:
        """One D and one G update on a global batch of real images; returns the losses."""
        alpha = self._set_alpha()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(real_images)[0]
        d_vars = self.discriminator.stage_variables(self.phase.fading)
        g_vars = self.generator.stage_variables(self.phase.fading)

        # Discriminator (critic) update.
        latents = self.rng.normal([batch, self.latent_dim])
        fake_images = _float32(self.generator(latents, training=True))
        mix = self.rng.uniform([batch, 1, 1, 1], dtype=real_images.dtype)
        mixed_images = real_images + mix * (fake_images - real_images)
        with tf.GradientTape() as tape:
            real_scores = _float32(self.discriminator(real_images, training=True))
            fake_scores = _float32(self.discriminator(fake_images, training=True))
            with tf.GradientTape() as penalty_tape:
                penalty_tape.watch(mixed_images)
                mixed_score_sum = tf.reduce_sum(
                    _float32(self.discriminator(mixed_images, training=True)))
            mixed_grads = _float32(penalty_tape.gradient(mixed_score_sum, mixed_images))
            grad_norms = tf.sqrt(tf.reduce_sum(tf.square(mixed_grads), axis=[1, 2, 3]) + 1e-8)
            penalty = tf.reduce_mean(tf.square(grad_norms - 1.0))
            wasserstein = tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)
            drift = tf.reduce_mean(tf.square(real_scores))
            d_loss = wasserstein + self.gp_weight * penalty + self.drift_weight * drift
            # Gradients are summed over replicas: scale so that the sum is the global mean.
            scaled_d_loss = d_loss / replicas
        d_grads = tape.gradient(scaled_d_loss, d_vars)
        self.d_optimizer.apply(d_grads, d_vars)

        # Generator update.
        with tf.GradientTape() as tape:
            fake_images = self.generator(self.rng.normal([batch, self.latent_dim]), training=True)
            g_loss = -tf.reduce_mean(_float32(self.discriminator(fake_images, training=True)))
            scaled_g_loss = g_loss / replicas
        g_grads = tape.gradient(scaled_g_loss, g_vars)
        self.g_optimizer.apply(g_grads, g_vars)

        # Exponential moving average of the generator's weights.
        ema_vars = self.ema_generator.stage_variables(self.phase.fading)
        updates = tf.cast(self.ema_updates, tf.float32)
        beta = tf.minimum(self.ema_beta, (1.0 + updates) / (10.0 + updates))
        for ema_var, var in zip(ema_vars, g_vars):
            ema_var.assign(var + beta * (ema_var - var))
        self.ema_updates.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_loss": d_loss, "g_loss": g_loss, "wasserstein": wasserstein,
                "gradient_penalty": penalty, "alpha": alpha}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict[str, keras.Model]:
        """The networks a checkpoint stores, by file name (``generator.npz``, ...)."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "ema_generator": self.ema_generator}

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer or None, name of its network, the variables it trains)}``."""
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.stage_variables()),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator.stage_variables())}

    def checkpoint_state(self) -> dict:
        """What ``state.json`` records besides the image counter and the weights.

        The EMA step count, the optimizers' resolution, the phase and the noise generator's
        state.
        """
        return {"ema_updates": int(self.ema_updates.numpy()),
                "optimizer_resolution": self.optimizer_resolution,
                "phase_index": self.phase.index if self.phase is not None else None,
                "rng_state": self.rng.state.numpy().tolist(),
                "rng_algorithm": int(self.rng.algorithm)}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Whether a checkpoint's optimizer state belongs to the current optimizers."""
        return state.get("optimizer_resolution") == self.optimizer_resolution

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the EMA step count and the noise generator from a checkpoint's state."""
        self.ema_updates.assign(int(state.get("ema_updates", 0)))
        self.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))

    def sample(self, latents: Any, use_ema: bool = True) -> tf.Tensor:
        """Images in [0, 1] from ``latents`` at the current stage (EMA generator by default)."""
        network = self.ema_generator if use_ema else self.generator
        return from_signed_unit(_float32(network(latents, training=False)))


def _float32(tensor: Any) -> tf.Tensor:
    """Losses, the gradient penalty and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
