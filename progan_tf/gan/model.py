"""The ProGAN training model: two losses, differentiable augmentation, Adam and a generator EMA.

:class:`ProGAN` is a ``keras.Model`` whose ``train_step`` does one discriminator and one
generator update (n_critic = 1, as in the paper) and returns the losses.  The progressive
schedule lives outside: before each phase :meth:`ProGAN.start_phase` sets the networks' stage,
resets the optimizers at a new resolution and recompiles, so each phase runs its own traced
(optionally XLA-compiled) ``train_step``.

The losses (``"wgan-gp"``, the paper's, or ``"ns-r1"``), the differentiable augmentation and
ADA, and the checkpointed state come from :class:`~progan_tf.gan.recipe.AdversarialRecipe`,
which the style-based GAN shares; what is ProGAN's own is here: the fade-in's alpha, the
optimizers reset at each new resolution, and the step.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.recipe import AdversarialRecipe, as_float32
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


class ProGAN(AdversarialRecipe, keras.Model):
    """Generator, discriminator and the generator's exponential moving average, trained together.

    It is the :class:`~progan_tf.training.family.Trainable` of the ProGAN family: besides
    ``train_step`` it keeps the training position (``images_shown``, ``step_count``,
    ``phase``) and tells :mod:`progan_tf.training.checkpoint` what to store.  Its losses,
    augmentation and checkpoint state are :class:`~progan_tf.gan.recipe.AdversarialRecipe`'s.

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
        gp_weight: Gradient-penalty weight lambda of ``"wgan-gp"`` (default 10).
        drift_weight: The drift term epsilon that keeps D's output near zero (default 0.001).
        learning_rate: Adam's learning rate for both networks (default 1e-3).
        seed: Seeds the latent, interpolation and augmentation noise (default 0; a
            ``tf.random.Generator`` that is checkpointed, so a resumed run draws the same
            numbers).
        loss: ``"wgan-gp"`` (default, the paper's) or ``"ns-r1"`` (see the module).
        r1_gamma: The R1 weight gamma of ``"ns-r1"`` (default 0.01).
        r1_interval: Apply R1 every this many steps, weighted by it (default 16; 1: every
            step).
        augment: ``"none"`` (default), ``"diffaugment"`` (always) or ``"ada"`` (adaptive).
        augment_ops: The operations of :mod:`progan_tf.gan.augment`, in order (default
            colour, translation, cutout).
        ada_target: The ``E[sign(D(real))]`` ADA holds (default 0.6).
        ada_kimg: Thousands of images for ADA's ``p`` to go from 0 to 1 (default 100; the
            paper's 500 is for runs of tens of thousands of kimg).
        ada_interval: Steps between ADA's updates of ``p`` (default 4, the paper's).
        score_together: Score reals and fakes in one discriminator call of twice the batch
            (default ``False``: two calls).  The minibatch standard-deviation groups stay
            all-real or all-fake, so both compute the same.  ``bench/train.py`` times both side
            by side: on 2 CPU cores one call was no faster (0.8-1.0x from 16x16 up, 1.2x only
            at 4x4), so two calls stay the default; accelerators with idle capacity may differ.
        **kwargs: ``keras.Model`` arguments.
    """

    def __init__(self, generator: ProgressiveGenerator, discriminator: ProgressiveDiscriminator,
                 ema_beta: float = 0.999, gp_weight: float = 10.0, drift_weight: float = 1e-3,
                 learning_rate: float = 1e-3, seed: int = 0, loss: str = "wgan-gp",
                 r1_gamma: float = 0.01, r1_interval: int = 16, augment: str = "none",
                 augment_ops: tuple = ("color", "translation", "cutout"),
                 ada_target: float = 0.6, ada_kimg: float = 100.0, ada_interval: int = 4,
                 score_together: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.ema_generator = ProgressiveGenerator.from_config(
            {**generator.get_config(), "name": "ema_generator"})
        self.ema_generator.set_weights(generator.get_weights())
        self.init_recipe(ema_beta=ema_beta, gp_weight=gp_weight, drift_weight=drift_weight,
                         learning_rate=learning_rate, seed=seed, loss=loss, r1_gamma=r1_gamma,
                         r1_interval=r1_interval, augment=augment, augment_ops=augment_ops,
                         ada_target=ada_target, ada_kimg=ada_kimg, ada_interval=ada_interval,
                         score_together=score_together)
        self.phase = None
        self.optimizer_resolution = None
        self.g_optimizer = self.d_optimizer = None
        self.built = True  # the networks build all their weights up front

    def call(self, latents: Any, training: bool = False) -> Any:
        """The generator's images in [-1, 1] (``fit`` never calls it; ``train_step`` does)."""
        return self.generator(latents, training=training)

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

        # 1. Discriminator update, on reals and on fakes of the current generator.
        latents = self.rng.normal([batch, self.latent_dim])
        fake_images = as_float32(self.generator(latents, training=True))
        with tf.GradientTape() as tape:
            d_parts = self.discriminator_loss(real_images, fake_images)
            # Gradients are summed over replicas: scale so that the sum is the global mean.
            scaled_d_loss = d_parts["d_loss"] / replicas
        d_grads = tape.gradient(scaled_d_loss, d_vars)
        self.d_optimizer.apply(d_grads, d_vars)

        # 2. ADA: adapt the augmentation probability to how sure D is of the reals.
        if self.augment == "ada":
            self.update_augment_probability(d_parts["real_scores"])

        # 3. Generator update, through the discriminator it was just scored by.
        with tf.GradientTape() as tape:
            fake_images = self.generator(self.rng.normal([batch, self.latent_dim]), training=True)
            g_loss = self.generator_loss(as_float32(fake_images))
            scaled_g_loss = g_loss / replicas
        g_grads = tape.gradient(scaled_g_loss, g_vars)
        self.g_optimizer.apply(g_grads, g_vars)

        # 4. Exponential moving average of the generator's weights.
        ema_vars = self.ema_generator.stage_variables(self.phase.fading)
        updates = tf.cast(self.ema_updates, tf.float32)
        beta = tf.minimum(self.ema_beta, (1.0 + updates) / (10.0 + updates))
        for ema_var, var in zip(ema_vars, g_vars):
            ema_var.assign(var + beta * (ema_var - var))
        self.ema_updates.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_loss": d_parts["d_loss"], "g_loss": g_loss,
                "wasserstein": d_parts["wasserstein"],
                "gradient_penalty": d_parts["gradient_penalty"], "alpha": alpha,
                "augment_p": tf.identity(self.augment_p)}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer or None, name of its network, the variables it trains)}``."""
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.stage_variables()),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator.stage_variables())}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Whether a checkpoint's optimizer state belongs to the current optimizers."""
        return state.get("optimizer_resolution") == self.optimizer_resolution

    def sample(self, latents: Any, use_ema: bool = True) -> tf.Tensor:
        """Images in [0, 1] from ``latents`` at the current stage (EMA generator by default)."""
        network = self.ema_generator if use_ema else self.generator
        return from_signed_unit(as_float32(network(latents, training=False)))


def recipe_options(config: Any) -> dict:
    """The :class:`ProGAN` arguments a :class:`~progan_tf.gan.train.TrainConfig` chooses.

    Example:
    >>> from progan_tf.gan.train import TrainConfig
    >>> config = TrainConfig("faces", "run", resolution=8, batch_sizes={8: 16}, loss="ns-r1")
    >>> recipe_options(config)["r1_gamma"]
    0.0008
    """
    return {"loss": config.loss, "r1_gamma": config.r1_weight(),
            "r1_interval": config.r1_interval, "augment": config.augment,
            "augment_ops": config.augment_ops(), "ada_target": config.ada_target,
            "ada_kimg": config.ada_kimg}

