"""The DCGAN training model: binary cross-entropy, Adam(2e-4, 0.5), one D and one G step.

:class:`DCGAN` is a ``keras.Model`` whose ``train_step`` does what the paper (and keras-io's
DCGAN example) does on every batch of real images::

    L_D = BCE(D(x), 1) + BCE(D(G(z)), 0)      # D: tell the reals from the fakes
    L_G = BCE(D(G(z)), 1)                      # G: the non-saturating loss, -log D(G(z))

with ``BCE(logit, label)`` the sigmoid cross-entropy of the discriminator's logit.  The reals
and the fakes go through the discriminator in separate batches (each batch-normalised on its
own, as in the paper's code).  Besides the losses it reports the discriminator's mean
belief ``D(x)`` on the reals and ``D(G(z))`` on the fakes, the two numbers the PyTorch DCGAN
tutorial prints: near 0.5 both while the game is balanced, ``D(x)`` -> 1 and ``D(G(z))`` -> 0
when the discriminator wins.

It trains with ``fit`` directly (``model.compile(); model.fit(dataset)``, as on MNIST in
notebook 05) or through :func:`progan_tf.dcgan.train`, which adds run folders, checkpoints and
resuming (:mod:`progan_tf.training`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_number
from progan_tf.dcgan.networks import DCGANDiscriminator, DCGANGenerator
from progan_tf.pixels import from_signed_unit

__all__ = ["DCGAN", "make_adam"]


def make_adam(learning_rate: float = 2e-4, beta_1: float = 0.5) -> keras.optimizers.Adam:
    """Adam with the paper's settings: learning rate 2e-4, beta1 0.5 (beta2 0.999).

    Example:
    >>> make_adam().beta_1
    0.5
    """
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


class DCGAN(keras.Model):
    """A DCGAN generator and discriminator, trained together with ``fit``.

    It is the :class:`~progan_tf.training.family.Trainable` of the DCGAN family: besides
    ``train_step`` it keeps the training position (``images_shown``, ``step_count``,
    ``phase``) and tells :mod:`progan_tf.training.checkpoint` what to store.

    Reference:
        Radford, Metz and Chintala, 2016, `Unsupervised Representation Learning with Deep
        Convolutional Generative Adversarial Networks <https://arxiv.org/abs/1511.06434>`_.

    Args:
        generator: A :class:`~progan_tf.dcgan.networks.DCGANGenerator`.
        discriminator: A :class:`~progan_tf.dcgan.networks.DCGANDiscriminator` of the same
            resolution and channels.
        learning_rate: Adam's learning rate for both networks (default 2e-4).
        beta_1: Adam's first-moment decay (default 0.5).
        seed: Seeds the latents drawn in training (a ``tf.random.Generator`` that checkpoints
            store, so a resumed run draws the same numbers; default 0).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> gan = DCGAN(DCGANGenerator(latent_dim=8, resolution=16, width=4),
    ...             DCGANDiscriminator(resolution=16, width=4))
    >>> gan.compile()
    >>> logs = gan.train_on_batch(np.zeros((4, 16, 16, 3), "float32"), return_dict=True)
    >>> sorted(logs)
    ['d_loss', 'fake_score', 'g_loss', 'real_score']
    """

    def __init__(self, generator: DCGANGenerator, discriminator: DCGANDiscriminator,
                 learning_rate: float = 2e-4, beta_1: float = 0.5, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.learning_rate = check_number(learning_rate, "learning_rate", exclusive_minimum=0)
        self.beta_1 = check_number(beta_1, "beta_1", minimum=0, maximum=0.999)
        only_first = {"dtype": tf.int64, "trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.images_shown = tf.Variable(0, name="images_shown", **only_first)
        self.step_count = tf.Variable(0, name="step_count", **only_first)
        self.rng = tf.random.Generator.from_seed(int(seed))
        self.phase = None
        self.g_optimizer = make_adam(self.learning_rate, self.beta_1)
        self.d_optimizer = make_adam(self.learning_rate, self.beta_1)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.built = True  # the networks build all their weights up front

    def call(self, latents: Any, training: bool = False) -> Any:
        """The generator's images in [-1, 1] (``fit`` never calls it; ``train_step`` does)."""
        return self.generator(latents, training=training)

    @property
    def latent_dim(self) -> int:
        """The generator's latent size."""
        return self.generator.latent_dim

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for ``phase`` (a DCGAN has one): compile, optionally with XLA."""
        self.phase = phase
        with self.distribute_strategy.scope():  # the strategy the model was created under
            self.compile(jit_compile=jit_compile)

    # -- the pieces of a step --------------------------------------------------------------

    def discriminator_loss(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        """``BCE(D(x), 1) + BCE(D(G(z)), 0)``: call the reals real and the fakes fake."""
        real = tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(real_logits), real_logits)
        fake = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)
        return tf.reduce_mean(real) + tf.reduce_mean(fake)

    def generator_loss(self, fake_logits: tf.Tensor) -> tf.Tensor:
        """``BCE(D(G(z)), 1)``: the non-saturating loss ``-log D(G(z))`` of the paper."""
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            tf.ones_like(fake_logits), fake_logits))

    def train_step(self, data: Any) -> dict:
        """One D and one G update on a batch of real images; returns the losses and scores.

        ``data`` is the batch of images in [-1, 1] (what ``fit`` gets from a dataset of images;
        labels, as in ``(images, labels)`` from ``keras.datasets``, are ignored).
        """
        real_images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(real_images)[0]
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables

        # 1. Discriminator update: the reals and the current generator's fakes, as two batches.
        fake_images = _float32(self.generator(self.rng.normal([batch, self.latent_dim]),
                                              training=True))
        with tf.GradientTape() as tape:
            real_logits = _float32(self.discriminator(real_images, training=True))
            fake_logits = _float32(self.discriminator(fake_images, training=True))
            d_loss = self.discriminator_loss(real_logits, fake_logits)
            # Gradients are summed over replicas: scale so that the sum is the global mean.
            scaled_d_loss = d_loss / replicas
        self.d_optimizer.apply(tape.gradient(scaled_d_loss, d_vars), d_vars)

        # 2. Generator update, through the discriminator it was just scored by.
        with tf.GradientTape() as tape:
            fake_images = self.generator(self.rng.normal([batch, self.latent_dim]),
                                         training=True)
            g_logits = _float32(self.discriminator(_float32(fake_images), training=True))
            g_loss = self.generator_loss(g_logits)
            scaled_g_loss = g_loss / replicas
        self.g_optimizer.apply(tape.gradient(scaled_g_loss, g_vars), g_vars)

        # 3. The training position.
        self.step_count.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_loss": d_loss, "g_loss": g_loss,
                "real_score": tf.reduce_mean(tf.sigmoid(real_logits)),
                "fake_score": tf.reduce_mean(tf.sigmoid(fake_logits))}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict[str, keras.Model]:
        """The networks a checkpoint stores, by file name (``generator.npz``, ...)."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer, name of its network, the variables it trains)}``."""
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.trainable_variables),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator.trainable_variables)}

    def checkpoint_state(self) -> dict:
        """What ``state.json`` records besides the image counter and the weights."""
        return {"step_count": int(self.step_count.numpy()),
                "rng_state": self.rng.state.numpy().tolist(),
                "rng_algorithm": int(self.rng.algorithm)}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: a DCGAN keeps its two optimizers from start to end."""
        return True

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the step count and the noise generator from a checkpoint's state."""
        self.step_count.assign(int(state.get("step_count", 0)))
        self.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))

    def sample(self, latents: Any) -> tf.Tensor:
        """Images in [0, 1] from ``latents`` (batch norm with its moving averages, as exported).

        Grey images (``channels`` 1) are repeated to RGB, as the export serves them.
        """
        images = from_signed_unit(_float32(self.generator(latents, training=False)))
        return images if images.shape[-1] == 3 else tf.repeat(images, 3, axis=-1)


def _float32(tensor: Any) -> tf.Tensor:
    """Losses and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
