"""The adversarial recipe that ProGAN and the style-based GAN share: losses, augmentation, state.

:class:`AdversarialRecipe` is a mixin of a ``keras.Model`` that has a ``generator``, a
``discriminator`` and an ``ema_generator``.  It holds the project's recipe once, for every
family trained with it (``bench/README.md``, "The recipe")::

    "wgan-gp" (Gulrajani et al. 2017; Karras et al. 2018, appendix A.1), the ProGAN paper's:
        L_D = E[D(fake)] - E[D(real)] + gp_weight * E[(||grad D(mix)|| - 1)^2]
              + drift * E[D(real)^2]
        L_G = -E[D(fake)]
    "ns-r1" (Goodfellow et al. 2014; Mescheder et al. 2018; lazy as in Karras et al. 2020):
        L_D = E[softplus(D(fake))] + E[softplus(-D(real))]
              + [every r1_interval steps] r1_interval * r1_gamma / 2 * E[||grad D(real)||^2]
        L_G = E[softplus(-D(fake))]

With ``augment`` the discriminator sees reals and fakes through the same differentiable
augmentation (:mod:`progan_tf.gan.augment`), in both steps; with ``"ada"`` each operation is
applied with a probability that follows ``E[sign(D(real))]``.  The mixin also keeps the
training position (``images_shown``, the EMA's step count), the checkpointed noise generator
and ADA's state, and tells :mod:`progan_tf.training.checkpoint` what to store.  What a family
changes -- its networks, where the fakes come from, its ``train_step`` and its optimizers --
stays in its own model.

Import rule: TensorFlow, Keras and :mod:`progan_tf.gan.augment` only; no family's module.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import AUGMENT_OPS, AUGMENTS, LOSSES
from progan_tf.gan import augment as augmentation

__all__ = ["AdversarialRecipe", "as_float32"]


def as_float32(tensor: Any) -> tf.Tensor:
    """Losses, penalties and samples in float32, also under a mixed-precision policy.

    Example:
    >>> as_float32(tf.constant(1.0, tf.bfloat16)).dtype
    tf.float32
    """
    return tf.cast(tensor, tf.float32)


class AdversarialRecipe:
    """The recipe's losses, augmentation and checkpoint state, mixed into a ``keras.Model``.

    A model using it sets ``generator``, ``discriminator`` and ``ema_generator`` and calls
    :meth:`init_recipe` in its ``__init__``; the discriminator takes images in [-1, 1] and
    has ``mbstd_group_size`` (the minibatch standard deviation's group).

    Reference:
        Gulrajani et al., 2017, `Improved Training of Wasserstein GANs
        <https://arxiv.org/abs/1704.00028>`_; Mescheder et al., 2018, `Which Training Methods
        for GANs do actually Converge? <https://arxiv.org/abs/1801.04406>`_; Karras et al.,
        2020, `Training Generative Adversarial Networks with Limited Data
        <https://arxiv.org/abs/2006.06676>`_.
    """

    def init_recipe(self, *, ema_beta: float = 0.999, gp_weight: float = 10.0,
                    drift_weight: float = 1e-3, learning_rate: float = 1e-3, seed: int = 0,
                    loss: str = "wgan-gp", r1_gamma: float = 0.01, r1_interval: int = 16,
                    augment: str = "none",
                    augment_ops: tuple = ("color", "translation", "cutout"),
                    ada_target: float = 0.6, ada_kimg: float = 100.0, ada_interval: int = 4,
                    score_together: bool = False) -> None:
        """Check the recipe's options and create its state (the families' ``Args:``).

        Raises:
            OptionError: (a ``ValueError``) naming the first invalid option
                ("Received: loss=...").
        """
        self.loss = check_choice(loss, "loss", LOSSES)
        self.augment = check_choice(augment, "augment", AUGMENTS)
        self.augment_ops = tuple(check_choice(name, "augment_ops", AUGMENT_OPS)
                                 for name in augment_ops)
        self.ema_beta = check_number(ema_beta, "ema_beta", minimum=0, maximum=1)
        self.learning_rate = check_number(learning_rate, "learning_rate", exclusive_minimum=0)
        self.gp_weight = check_number(gp_weight, "gp_weight", minimum=0)
        self.drift_weight = check_number(drift_weight, "drift_weight", minimum=0)
        self.r1_gamma = check_number(r1_gamma, "r1_gamma", minimum=0)
        self.r1_interval = check_whole_number(r1_interval, "r1_interval", minimum=1)
        self.ada_target = check_number(ada_target, "ada_target", exclusive_minimum=0)
        self.ada_kimg = check_number(ada_kimg, "ada_kimg", exclusive_minimum=0)
        self.ada_interval = check_whole_number(ada_interval, "ada_interval", minimum=1)
        self.score_together = bool(score_together)
        only_first = {"trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.images_shown = tf.Variable(0, dtype=tf.int64, name="images_shown", **only_first)
        self.ema_updates = tf.Variable(0, dtype=tf.int64, name="ema_updates", **only_first)
        # ADA's probability and what it has seen of D(real) since its last update.
        self.augment_p = tf.Variable(0.0, name="augment_p", **only_first)
        self.ada_signs = tf.Variable(0.0, name="ada_signs", **only_first)
        self.ada_images = tf.Variable(0.0, name="ada_images", **only_first)
        self.rng = tf.random.Generator.from_seed(int(seed))

    @property
    def step_count(self) -> tf.Variable:
        """Training steps over the whole run (checkpointed): the EMA's update count."""
        return self.ema_updates

    @property
    def latent_dim(self) -> int:
        """The generator's latent size."""
        return self.generator.latent_dim

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
            return (as_float32(self.discriminator(real_images, training=True)),
                    as_float32(self.discriminator(fake_images, training=True)))
        # The minibatch standard deviation pools images i, i + M, i + 2M, ... (M = N / group):
        # interleave so that each of its groups is all real or all fake, as in two calls.
        group = max(group, 1)
        size = real_images.shape[1:]
        both = tf.concat([tf.reshape(real_images, [group, -1, *size]),
                          tf.reshape(tf.cast(fake_images, real_images.dtype),
                                     [group, -1, *size])], axis=1)
        scores = as_float32(self.discriminator(tf.reshape(both, [-1, *size]), training=True))
        real_scores, fake_scores = tf.split(tf.reshape(scores, [group, -1, 1]), 2, axis=1)
        return tf.reshape(real_scores, [-1, 1]), tf.reshape(fake_scores, [-1, 1])

    def gradient_penalty(self, real_images: tf.Tensor, fake_images: tf.Tensor) -> tf.Tensor:
        """WGAN-GP: ``E[(||grad D(mix)|| - 1)^2]`` at random points between reals and fakes."""
        mix = self.rng.uniform([tf.shape(real_images)[0], 1, 1, 1], dtype=real_images.dtype)
        mixed_images = real_images + mix * (fake_images - real_images)
        with tf.GradientTape() as tape:
            tape.watch(mixed_images)
            score_sum = tf.reduce_sum(as_float32(self.discriminator(mixed_images,
                                                                    training=True)))
        grads = as_float32(tape.gradient(score_sum, mixed_images))
        norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-8)
        return tf.reduce_mean(tf.square(norms - 1.0))

    def r1_penalty(self, real_images: tf.Tensor) -> tf.Tensor:
        """R1: ``E[||grad D(real)||^2]``, the gradient on the (augmented) reals."""
        with tf.GradientTape() as tape:
            tape.watch(real_images)
            score_sum = tf.reduce_sum(as_float32(self.discriminator(real_images,
                                                                    training=True)))
        grads = as_float32(tape.gradient(score_sum, real_images))
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
        fake_scores = as_float32(self.discriminator(self.augment_images(fake_images),
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

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict[str, keras.Model]:
        """The networks a checkpoint stores, by file name (``generator.npz``, ...)."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "ema_generator": self.ema_generator}

    def checkpoint_state(self) -> dict:
        """What ``state.json`` records besides the image counter and the weights.

        The EMA step count, the optimizers' resolution, the phase, the noise generator's state
        and ADA's.
        """
        return {"ema_updates": int(self.ema_updates.numpy()),
                "optimizer_resolution": self.optimizer_resolution,
                "phase_index": self.phase.index if self.phase is not None else None,
                "rng_state": self.rng.state.numpy().tolist(),
                "rng_algorithm": int(self.rng.algorithm),
                "augment_p": float(self.augment_p.numpy()),
                "ada_signs": float(self.ada_signs.numpy()),
                "ada_images": float(self.ada_images.numpy())}

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the EMA step count, the noise generator and ADA's state from a checkpoint's."""
        self.ema_updates.assign(int(state.get("ema_updates", 0)))
        for name in ("augment_p", "ada_signs", "ada_images"):
            getattr(self, name).assign(float(state.get(name, 0.0)))
        self.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))
