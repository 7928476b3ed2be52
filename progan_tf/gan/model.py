"""The ProGAN training model: two losses, differentiable augmentation, Adam and a generator EMA.

:class:`ProGAN` is a ``keras.Model`` whose ``train_step`` does one discriminator and one
generator update (n_critic = 1, as in the paper) and returns the losses.  The progressive
schedule lives outside: before each phase :meth:`ProGAN.start_phase` sets the networks' stage,
resets the optimizers at a new resolution and recompiles, so each phase runs its own traced
(optionally XLA-compiled) ``train_step``.

Losses, switched by ``loss``::

    "wgan-gp" (Gulrajani et al. 2017; Karras et al. 2018, appendix A.1), the paper's:
        L_D = E[D(fake)] - E[D(real)] + gp_weight * E[(||grad D(mix)|| - 1)^2]
              + drift * E[D(real)^2]
        L_G = -E[D(fake)]
    "ns-r1" (Goodfellow et al. 2014; Mescheder et al. 2018; lazy as in Karras et al. 2020):
        L_D = E[softplus(D(fake))] + E[softplus(-D(real))]
              + [every r1_interval steps] r1_interval * r1_gamma / 2 * E[||grad D(real)||^2]
        L_G = E[softplus(-D(fake))]

With ``augment`` the discriminator sees reals and fakes through the same differentiable
augmentation (:mod:`progan_tf.gan.augment`), in both steps; with ``"ada"`` each operation is
applied with a probability that follows ``E[sign(D(real))]``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import AUGMENT_OPS, AUGMENTS, LOSSES
from progan_tf.gan import augment as augmentation
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
        check_choice(loss, "loss", LOSSES)
        check_choice(augment, "augment", AUGMENTS)
        for name in augment_ops:
            check_choice(name, "augment_ops", AUGMENT_OPS)
        self.loss, self.augment, self.augment_ops = loss, augment, tuple(augment_ops)
        self.r1_gamma = check_number(r1_gamma, "r1_gamma", minimum=0)
        self.r1_interval = check_whole_number(r1_interval, "r1_interval", minimum=1)
        self.ada_target, self.ada_kimg = float(ada_target), float(ada_kimg)
        self.ada_interval = check_whole_number(ada_interval, "ada_interval", minimum=1)
        self.score_together = bool(score_together)
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
        # ADA's probability and what it has seen of D(real) since its last update.
        only_first = {"trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.augment_p = tf.Variable(0.0, name="augment_p", **only_first)
        self.ada_signs = tf.Variable(0.0, name="ada_signs", **only_first)
        self.ada_images = tf.Variable(0.0, name="ada_images", **only_first)
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

    # -- the pieces of a step --------------------------------------------------------------

    def augment_images(self, images: tf.Tensor) -> tf.Tensor:
        """What the discriminator sees of ``images``: augmented as ``augment`` says."""
        if self.augment == "none":
            return images
        probability = None if self.augment == "diffaugment" else self.augment_p
        return augmentation.augment(images, self.augment_ops, self.rng, probability)

    def score(self, real_images: tf.Tensor, fake_images: tf.Tensor) -> tuple:
        """D's scores of the reals and of the fakes, in one call or two (``score_together``)."""
        group = self.discriminator.mbstd_group_size
        batch = real_images.shape[0]
        together = self.score_together and batch is not None and (
            group <= 1 or (batch >= group and batch % group == 0))
        if not together:
            return (_float32(self.discriminator(real_images, training=True)),
                    _float32(self.discriminator(fake_images, training=True)))
        # The minibatch standard deviation pools images i, i + M, i + 2M, ... (M = N / group):
        # interleave so that each of its groups is all real or all fake, as in two calls.
        group = max(group, 1)
        size = real_images.shape[1:]
        both = tf.concat([tf.reshape(real_images, [group, -1, *size]),
                          tf.reshape(tf.cast(fake_images, real_images.dtype),
                                     [group, -1, *size])], axis=1)
        scores = _float32(self.discriminator(tf.reshape(both, [-1, *size]), training=True))
        real_scores, fake_scores = tf.split(tf.reshape(scores, [group, -1, 1]), 2, axis=1)
        return tf.reshape(real_scores, [-1, 1]), tf.reshape(fake_scores, [-1, 1])

    def gradient_penalty(self, real_images: tf.Tensor, fake_images: tf.Tensor) -> tf.Tensor:
        """WGAN-GP: ``E[(||grad D(mix)|| - 1)^2]`` at random points between reals and fakes."""
        mix = self.rng.uniform([tf.shape(real_images)[0], 1, 1, 1], dtype=real_images.dtype)
        mixed_images = real_images + mix * (fake_images - real_images)
        with tf.GradientTape() as tape:
            tape.watch(mixed_images)
            score_sum = tf.reduce_sum(_float32(self.discriminator(mixed_images, training=True)))
        grads = _float32(tape.gradient(score_sum, mixed_images))
        norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-8)
        return tf.reduce_mean(tf.square(norms - 1.0))

    def r1_penalty(self, real_images: tf.Tensor) -> tf.Tensor:
        """R1: ``E[||grad D(real)||^2]``, the gradient on the (augmented) reals."""
        with tf.GradientTape() as tape:
            tape.watch(real_images)
            score_sum = tf.reduce_sum(_float32(self.discriminator(real_images, training=True)))
        grads = _float32(tape.gradient(score_sum, real_images))
        return tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))

    def discriminator_loss(self, real_images: tf.Tensor, fake_images: tf.Tensor) -> dict:
        """D's loss on one batch (``"d_loss"``) and its parts, as ``loss`` defines them."""
        real_images = self.augment_images(real_images)
        fake_images = self.augment_images(fake_images)
        real_scores, fake_scores = self.score(real_images, fake_images)
        parts = {"real_scores": real_scores,
                 "wasserstein": tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)}
        if self.loss == "wgan-gp":
            penalty = self.gradient_penalty(real_images, fake_images)
            drift = tf.reduce_mean(tf.square(real_scores))
            parts["d_loss"] = (parts["wasserstein"] + self.gp_weight * penalty
                               + self.drift_weight * drift)
        else:
            # Lazy R1: every r1_interval steps, weighted by the interval so that its average
            # pull is the same (StyleGAN2, section 3.1).  tf.cond keeps the other steps free.
            due = tf.equal(self.ema_updates % self.r1_interval, 0)
            penalty = tf.cond(due, lambda: self.r1_penalty(real_images),
                              lambda: tf.constant(0.0))
            logistic = (tf.reduce_mean(tf.nn.softplus(fake_scores))
                        + tf.reduce_mean(tf.nn.softplus(-real_scores)))
            parts["d_loss"] = logistic + (self.r1_gamma / 2 * self.r1_interval) * penalty
        parts["gradient_penalty"] = penalty
        return parts

    def generator_loss(self, fake_images: tf.Tensor) -> tf.Tensor:
        """G's loss on its images, seen through the same augmentation as D sees them."""
        fake_scores = _float32(self.discriminator(self.augment_images(fake_images),
                                                  training=True))
        if self.loss == "wgan-gp":
            return -tf.reduce_mean(fake_scores)
        return tf.reduce_mean(tf.nn.softplus(-fake_scores))

    def update_augment_probability(self, real_scores: tf.Tensor) -> None:
        """ADA: gather ``sign(D(real))`` over the replicas; move ``p`` every ``ada_interval``."""
        context = tf.distribute.get_replica_context()
        signs = tf.reduce_sum(tf.sign(real_scores))
        count = tf.cast(tf.shape(real_scores)[0], tf.float32)
        if context is not None:
            signs, count = context.all_reduce("sum", [signs, count])
        signs, count = self.ada_signs + signs, self.ada_images + count
        due = tf.cast(tf.equal((self.ema_updates + 1) % self.ada_interval, 0), tf.float32)
        updated = augmentation.update_probability(self.augment_p, signs / count,
                                                  self.ada_target, count, self.ada_kimg)
        self.augment_p.assign(due * updated + (1.0 - due) * self.augment_p)
        self.ada_signs.assign((1.0 - due) * signs)
        self.ada_images.assign((1.0 - due) * count)

    def train_step(self, real_images: tf.Tensor) -> dict:
        """One D and one G update on a global batch of real images; returns the losses."""
        alpha = self._set_alpha()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(real_images)[0]
        d_vars = self.discriminator.stage_variables(self.phase.fading)
        g_vars = self.generator.stage_variables(self.phase.fading)

        # 1. Discriminator update, on reals and on fakes of the current generator.
        latents = self.rng.normal([batch, self.latent_dim])
        fake_images = _float32(self.generator(latents, training=True))
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
            g_loss = self.generator_loss(_float32(fake_images))
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
                "rng_algorithm": int(self.rng.algorithm),
                "augment_p": float(self.augment_p.numpy()),
                "ada_signs": float(self.ada_signs.numpy()),
                "ada_images": float(self.ada_images.numpy())}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Whether a checkpoint's optimizer state belongs to the current optimizers."""
        return state.get("optimizer_resolution") == self.optimizer_resolution

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the EMA step count, the noise generator and ADA's state from a checkpoint's."""
        self.ema_updates.assign(int(state.get("ema_updates", 0)))
        for name in ("augment_p", "ada_signs", "ada_images"):
            getattr(self, name).assign(float(state.get(name, 0.0)))
        self.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))

    def sample(self, latents: Any, use_ema: bool = True) -> tf.Tensor:
        """Images in [0, 1] from ``latents`` at the current stage (EMA generator by default)."""
        network = self.ema_generator if use_ema else self.generator
        return from_signed_unit(_float32(network(latents, training=False)))


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


def _float32(tensor: Any) -> tf.Tensor:
    """Losses, the gradient penalty and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
