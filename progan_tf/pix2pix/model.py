"""The Pix2Pix training model: a conditional GAN plus lambda times L1, one D and one G step.

:class:`Pix2Pix` is a ``keras.Model`` whose ``train_step`` does, on every batch of pairs
``(x, y)`` -- input and target, both in [-1, 1]::

    1. L_D = 1/2 [ A(D(x, y), real) + A(D(x, G(x)), fake) ]      # D: real pairs from made ones
    2. L_G = A(D(x, G(x)), real) + lambda * mean |y - G(x)|       # G: fool D, stay close to y

with ``A`` the adversarial loss of every patch's logit ``l``: least squares (``"mse"``, the
course's and LSGAN's: ``(l - label)**2``) or the paper's cross-entropy (``"bce"``), and
lambda = 100.  With ``l1_only`` there is no step 1 and ``L_G`` is the L1 term
alone: the same U-Net trained as a plain regression, the course's "why not just a U-Net?"
baseline (its pictures are blurry: the L1 optimum of an uncertain colour is the median).

It trains with ``fit`` on a dataset of ``(x, y)`` batches, or through
:func:`progan_tf.pix2pix.train`, which adds run folders, checkpoints and resuming.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_choice, check_number
from progan_tf.constants import PIX2PIX_ADVERSARIAL
from progan_tf.dcgan.model import make_adam
from progan_tf.pix2pix.networks import PatchDiscriminator, UNetGenerator
from progan_tf.pixels import from_signed_unit

__all__ = ["Pix2Pix"]


class Pix2Pix(keras.Model):
    """A U-Net and a PatchGAN trained together with ``fit`` (or the U-Net alone, L1 only).

    Reference:
        Isola, Zhu, Zhou and Efros, 2017, `Image-to-Image Translation with Conditional
        Adversarial Networks <https://arxiv.org/abs/1611.07004>`_.

    Args:
        generator: A :class:`~progan_tf.pix2pix.networks.UNetGenerator`.
        discriminator: A :class:`~progan_tf.pix2pix.networks.PatchDiscriminator` of the same
            resolution (``None`` with ``l1_only``).
        l1_weight: lambda, the weight of the L1 term (default 100).
        adversarial: ``"mse"`` (least squares, the course's) or ``"bce"`` (the paper's).
        l1_only: Train the generator with L1 alone, no discriminator (default ``False``).
        learning_rate: Adam's learning rate for both networks (default 2e-4).
        beta_1: Adam's first-moment decay (default 0.5).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> unet = UNetGenerator(resolution=16, width=4, max_width=8)
    >>> gan = Pix2Pix(unet, PatchDiscriminator(resolution=16, width=4, max_width=8))
    >>> gan.compile()
    >>> pair = np.zeros((2, 16, 16, 3), "float32")
    >>> sorted(gan.train_on_batch(pair, pair, return_dict=True))
    ['d_loss', 'fake_score', 'g_adv', 'g_loss', 'l1', 'real_score']
    """

    def __init__(self, generator: UNetGenerator, discriminator: PatchDiscriminator | None,
                 l1_weight: float = 100.0, adversarial: str = "mse", l1_only: bool = False,
                 learning_rate: float = 2e-4, beta_1: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if discriminator is None and not l1_only:
            from progan_tf.errors import OptionError

            raise OptionError("Pix2Pix needs a discriminator unless l1_only=True")
        self.generator = generator
        self.discriminator = None if l1_only else discriminator
        self.l1_weight = check_number(l1_weight, "l1_weight", minimum=0)
        self.adversarial = check_choice(adversarial, "adversarial", PIX2PIX_ADVERSARIAL)
        self.l1_only = bool(l1_only)
        only_first = {"dtype": tf.int64, "trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.images_shown = tf.Variable(0, name="images_shown", **only_first)
        self.step_count = tf.Variable(0, name="step_count", **only_first)
        self.phase = None
        self.g_optimizer = make_adam(learning_rate, beta_1)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer = None
        if self.discriminator is not None:
            self.d_optimizer = make_adam(learning_rate, beta_1)
            self.d_optimizer.build(self.discriminator.trainable_variables)
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The generator's pictures of ``inputs``, in [-1, 1]."""
        return self.generator(inputs, training=training)

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for the run's one phase: compile, optionally with XLA."""
        self.phase = phase
        with self.distribute_strategy.scope():
            self.compile(jit_compile=jit_compile)

    # -- the losses ---------------------------------------------------------------------------

    def adversarial_loss(self, logits: tf.Tensor, real: bool) -> tf.Tensor:
        """The mean over patches of ``A(logit, label)``: least squares or cross-entropy."""
        label = tf.ones_like(logits) if real else tf.zeros_like(logits)
        if self.adversarial == "mse":
            return tf.reduce_mean(tf.square(logits - label))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(label, logits))

    def discriminator_loss(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        """``(A(D(x, y), real) + A(D(x, G(x)), fake)) / 2``: the paper halves D's objective."""
        return 0.5 * (self.adversarial_loss(real_logits, True)
                      + self.adversarial_loss(fake_logits, False))

    def generator_loss(self, fake_logits: tf.Tensor | None, outputs: tf.Tensor,
                       targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``A(D(x, G(x)), real) + lambda * L1``; returns ``(total, adversarial, L1)``.

        With ``l1_only`` (or ``fake_logits`` ``None``) the adversarial term is 0 and the total
        is ``lambda * L1``.
        """
        l1 = tf.reduce_mean(tf.abs(targets - outputs))
        adversarial = (tf.zeros([]) if fake_logits is None
                       else self.adversarial_loss(fake_logits, True))
        return adversarial + self.l1_weight * l1, adversarial, l1

    def _score(self, logits: tf.Tensor) -> tf.Tensor:
        """D's mean belief that a pair is real, in [0, 1] (the logit read as LSGAN or BCE)."""
        if self.adversarial == "mse":
            return tf.reduce_mean(tf.clip_by_value(logits, 0.0, 1.0))
        return tf.reduce_mean(tf.sigmoid(logits))

    def train_step(self, data: Any) -> dict:
        """One D and one G update on a batch ``(inputs, targets)`` in [-1, 1]; the losses.

        Returns ``d_loss``, ``g_loss`` (total), ``g_adv``, ``l1`` and D's mean beliefs
        ``real_score`` (on real pairs) and ``fake_score`` (on made ones); with ``l1_only`` the
        discriminator's numbers are 0.
        """
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(inputs)[0]
        g_vars = self.generator.trainable_variables
        zero = tf.zeros([])
        d_loss, real_score, fake_score = zero, zero, zero

        # 1. Discriminator: real pairs (x, y) against made ones (x, G(x)).
        if self.discriminator is not None:
            d_vars = self.discriminator.trainable_variables
            outputs = _float32(self.generator(inputs, training=True))
            with tf.GradientTape() as tape:
                real_logits = _float32(self.discriminator([inputs, targets], training=True))
                fake_logits = _float32(self.discriminator([inputs, outputs], training=True))
                d_loss = self.discriminator_loss(real_logits, fake_logits)
                scaled = d_loss / replicas
            self.d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)
            real_score, fake_score = self._score(real_logits), self._score(fake_logits)

        # 2. Generator: fool the discriminator, and stay close to the target.
        with tf.GradientTape() as tape:
            outputs = _float32(self.generator(inputs, training=True))
            logits = (None if self.discriminator is None
                      else _float32(self.discriminator([inputs, outputs], training=True)))
            g_loss, g_adv, l1 = self.generator_loss(logits, outputs, targets)
            scaled = g_loss / replicas
        self.g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)

        self.step_count.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": g_adv, "l1": l1,
                "real_score": real_score, "fake_score": fake_score}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict[str, keras.Model]:
        """The networks a checkpoint stores, by file name."""
        networks = {"generator": self.generator}
        if self.discriminator is not None:
            networks["discriminator"] = self.discriminator
        return networks

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer, name of its network, the variables it trains)}``."""
        optimizers = {"g_optimizer": (self.g_optimizer, "generator",
                                      self.generator.trainable_variables)}
        if self.discriminator is not None:
            optimizers["d_optimizer"] = (self.d_optimizer, "discriminator",
                                         self.discriminator.trainable_variables)
        return optimizers

    def checkpoint_state(self) -> dict:
        """What ``state.json`` records besides the image counter and the weights.

        The dropout layers' noise generators too, so a resumed run draws the same noise.
        """
        return {"step_count": int(self.step_count.numpy()),
                "dropout_seeds": [np.asarray(drop.seed_generator.state.numpy()).tolist()
                                  for drop in self.generator.drops]}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: the optimizers live from the run's start to its end."""
        return True

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the step count and the dropout noise generators from a checkpoint's state."""
        self.step_count.assign(int(state.get("step_count", 0)))
        for drop, seed in zip(self.generator.drops, state.get("dropout_seeds", [])):
            drop.seed_generator.state.assign(np.asarray(seed, drop.seed_generator.state.dtype))

    def sample(self, pairs: Any) -> tf.Tensor:
        """Triplets for a sample grid: input, output, target of each pair, in [0, 1].

        Args:
            pairs: ``[N, 2, r, r, 3]`` in [-1, 1]: inputs ``pairs[:, 0]``, targets
                ``pairs[:, 1]`` (:meth:`~progan_tf.pix2pix.family.Pix2PixFamily.sample_inputs`).

        Returns:
            ``[3N, r, r, 3]``: input, output, target, input, output, target, ...
        """
        pairs = tf.convert_to_tensor(np.asarray(pairs, "float32"))
        inputs, targets = pairs[:, 0], pairs[:, 1]
        outputs = _float32(self.generator(inputs, training=False))
        triplets = tf.stack([inputs, outputs, targets], axis=1)
        return from_signed_unit(tf.reshape(triplets, [-1, *triplets.shape[2:]]))


def _float32(tensor: Any) -> tf.Tensor:
    """Losses and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
