"""The SRGAN training model: content loss, adversarial loss, and the content-only SRResNet.

:class:`SRGAN` is a ``keras.Model`` whose ``train_step`` does, on every batch of
(low-res, high-res) pairs, what the paper does::

    L_G = content(HR, G(LR)) + 1e-3 * BCE(D(G(LR)), 1)      # perceptual loss, eq. (3)
    L_D = BCE(D(HR), 1) + BCE(D(G(LR)), 0)

In a content-only phase (``srresnet``, the paper's SRResNet and the start of every SRGAN run)
only the generator trains, on the content loss alone.

Which content loss, and why
---------------------------
The paper's content loss is the MSE between VGG19 feature maps (``block5_conv4``, "VGG54",
divided by 12.75 as the paper rescales) of the real and the generated picture
(``content_loss="vgg"``).  Keras ships VGG19's architecture but not its ImageNet weights: they
are a 550 MB download, so that loss fails offline (in one line, naming the offline choice).
The offline default, ``"pixel"``, is the pixel MSE (the paper's SRResNet-MSE) plus the mean
absolute difference of every level of a Laplacian pyramid (the ``"laplacian"`` loss of latent
recovery, :mod:`progan_tf.metrics.pyramid`).  MSE alone averages the plausible answers into a
blur; the pyramid term weighs every band of detail alike, so edges and fine texture count as
much as flat colour -- the closest offline stand-in for a feature loss, and it needs no
weights.  The adversarial term then pushes the result towards the manifold of real faces, as
in the paper.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from progan_tf.checks import check_choice, check_number
from progan_tf.errors import MissingDependencyError
from progan_tf.metrics.pyramid import laplacian_pyramid, pyramid_sizes
from progan_tf.pixels import from_signed_unit
from progan_tf.srgan.config import CONTENT_LOSSES, SCALE

__all__ = ["SRGAN", "downscale", "vgg_extractor"]

VGG_RESCALE = 1.0 / 12.75
"""The paper's rescaling of VGG feature maps (so that the VGG loss is of the order of MSE)."""


def downscale(images: Any, scale: int = SCALE) -> tf.Tensor:
    """Shrink ``[N, H, W, C]`` ``scale`` times with the area filter (how low-res inputs are made).

    Example:
    >>> downscale(tf.ones([1, 8, 8, 3])).shape
    TensorShape([1, 2, 2, 3])
    """
    size = tf.shape(images)[1:3] // scale
    return tf.image.resize(images, size, method="area")


def vgg_extractor() -> keras.Model:
    """VGG19 up to ``block5_conv4`` with ImageNet weights (downloaded once by Keras).

    Raises:
        MissingDependencyError: the weights cannot be downloaded (offline).
    """
    try:
        vgg = keras.applications.VGG19(include_top=False, weights="imagenet")
    except Exception as error:
        raise MissingDependencyError(
            f"the VGG content loss needs VGG19's ImageNet weights, which could not be "
            f"downloaded ({type(error).__name__}); go online once, or use "
            f"content_loss='pixel' (offline)") from None
    vgg.trainable = False
    return keras.Model(vgg.input, vgg.get_layer("block5_conv4").output, name="vgg54")


class SRGAN(keras.Model):
    """An SRResNet generator and an SRGAN discriminator, trained together with ``fit``.

    It is the :class:`~progan_tf.training.family.Trainable` of the SRGAN family: besides
    ``train_step`` it keeps the training position and tells checkpoints what to store.

    Reference:
        Ledig et al., 2017, `Photo-Realistic Single Image Super-Resolution Using a Generative
        Adversarial Network <https://arxiv.org/abs/1609.04802>`_.

    Args:
        generator: From :func:`~progan_tf.srgan.networks.build_generator`.
        discriminator: From :func:`~progan_tf.srgan.networks.build_discriminator`.
        content: ``"pixel"`` (offline) or ``"vgg"`` (the paper's; downloads VGG19).
        adversarial_weight: The adversarial loss' weight (the paper's 1e-3).
        learning_rate: Adam's learning rate for both networks (the paper's 1e-4).
        beta_1: Adam's first-moment decay (the paper's 0.9).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> from progan_tf.srgan.networks import build_discriminator, build_generator
    >>> gan = SRGAN(build_generator(4, 1), build_discriminator(16, 4))
    >>> gan.start_phase(None)  # no phase: adversarial, as the srgan phase
    >>> high = tf.zeros([2, 16, 16, 3])
    >>> logs = gan.train_on_batch(downscale(high), high, return_dict=True)
    >>> sorted(logs)
    ['adversarial_loss', 'content_loss', 'd_loss', 'g_loss']
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 content: str = "pixel", adversarial_weight: float = 1e-3,
                 learning_rate: float = 1e-4, beta_1: float = 0.9, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.content = check_choice(content, "content", CONTENT_LOSSES)
        self.adversarial_weight = check_number(adversarial_weight, "adversarial_weight",
                                               minimum=0)
        self.vgg = vgg_extractor() if content == "vgg" else None
        only_first = {"dtype": tf.int64, "trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.images_shown = tf.Variable(0, name="images_shown", **only_first)
        self.step_count = tf.Variable(0, name="step_count", **only_first)
        self.phase = None
        self.adversarial = True
        self.g_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)
        self.d_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.built = True

    def call(self, low_res: Any, training: bool = False) -> Any:
        """The generator's pictures in [-1, 1] from low-res ones in [-1, 1]."""
        return self.generator(low_res, training=training)

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for ``phase``: adversarial or content only (``None``: adversarial)."""
        self.phase = phase
        self.adversarial = True if phase is None else bool(phase.adversarial)
        with self.distribute_strategy.scope():  # compiling anew retraces train_step
            self.compile(jit_compile=jit_compile)

    # -- the losses -------------------------------------------------------------------------

    def content_loss(self, high_res: tf.Tensor, generated: tf.Tensor) -> tf.Tensor:
        """How far the generated pictures are from the real ones (both in [-1, 1]).

        ``"pixel"``: MSE + the Laplacian-pyramid L1; ``"vgg"``: MSE of rescaled VGG54 features.
        """
        if self.vgg is not None:
            def features(images: tf.Tensor) -> tf.Tensor:
                pixels = from_signed_unit(images) * 255.0
                return self.vgg(keras.applications.vgg19.preprocess_input(pixels)) * VGG_RESCALE

            return tf.reduce_mean(tf.square(features(high_res) - features(generated)))
        mse = tf.reduce_mean(tf.square(high_res - generated))
        levels = len(pyramid_sizes(*high_res.shape[1:3], min_size=4, max_levels=5))
        pyramid = tf.add_n([tf.reduce_mean(tf.abs(a - b)) for a, b in zip(
            laplacian_pyramid(high_res, levels), laplacian_pyramid(generated, levels))])
        return mse + pyramid

    def adversarial_loss(self, fake_logits: tf.Tensor) -> tf.Tensor:
        """``BCE(D(G(LR)), 1)``: the generator's non-saturating loss ``-log D(G(LR))``."""
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            tf.ones_like(fake_logits), fake_logits))

    def discriminator_loss(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        """``BCE(D(HR), 1) + BCE(D(G(LR)), 0)``."""
        real = tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(real_logits), real_logits)
        fake = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)
        return tf.reduce_mean(real) + tf.reduce_mean(fake)

    # -- one step -----------------------------------------------------------------------------

    def train_step(self, data: Any) -> dict:
        """One update on a batch of ``(low_res, high_res)`` pairs in [-1, 1]; returns the losses.

        A batch of high-res pictures alone also works: the low-res ones are made from it.
        """
        low_res, high_res, _ = keras.utils.unpack_x_y_sample_weight(data)
        if high_res is None:
            low_res, high_res = downscale(low_res), low_res
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        g_vars = self.generator.trainable_variables
        d_loss = tf.constant(0.0)
        adversarial = tf.constant(0.0)

        # 1. Discriminator update (adversarial phases only): real HR against G's current output.
        if self.adversarial:
            d_vars = self.discriminator.trainable_variables
            generated = _float32(self.generator(low_res, training=True))
            with tf.GradientTape() as tape:
                real_logits = _float32(self.discriminator(high_res, training=True))
                fake_logits = _float32(self.discriminator(generated, training=True))
                d_loss = self.discriminator_loss(real_logits, fake_logits)
                scaled = d_loss / replicas  # gradients are summed over replicas
            self.d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)

        # 2. Generator update: content loss (+ the weighted adversarial loss).
        with tf.GradientTape() as tape:
            generated = _float32(self.generator(low_res, training=True))
            content = self.content_loss(high_res, generated)
            g_loss = content
            if self.adversarial:
                adversarial = self.adversarial_loss(
                    _float32(self.discriminator(generated, training=True)))
                g_loss = content + self.adversarial_weight * adversarial
            scaled = g_loss / replicas
        self.g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)

        # 3. The training position.
        self.step_count.assign_add(1)
        self.images_shown.assign_add(tf.cast(tf.shape(high_res)[0] * replicas, tf.int64))
        return {"content_loss": content, "adversarial_loss": adversarial, "d_loss": d_loss,
                "g_loss": g_loss}

    # -- the checkpoint interface of progan_tf.training.checkpoint --------------------------

    def checkpoint_networks(self) -> dict[str, keras.Model]:
        """The networks a checkpoint stores, by file name."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer, name of its network, the variables it trains)}``."""
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.trainable_variables),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator.trainable_variables)}

    def checkpoint_state(self) -> dict:
        """What ``state.json`` records besides the image counter and the weights."""
        return {"step_count": int(self.step_count.numpy())}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: both optimizers live from start to end."""
        return True

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the step count from a checkpoint's state."""
        self.step_count.assign(int(state.get("step_count", 0)))

    def sample(self, low_res: Any) -> tf.Tensor:
        """Bicubic and SRGAN pictures in [0, 1], alternating, from low-res ones in [-1, 1]."""
        low_res = tf.convert_to_tensor(low_res, tf.float32)
        generated = _float32(self.generator(low_res, training=False))
        bicubic = tf.image.resize(low_res, tf.shape(generated)[1:3], method="bicubic")
        pairs = tf.stack([bicubic, generated], axis=1)
        return tf.clip_by_value(from_signed_unit(tf.reshape(pairs, [-1, *generated.shape[1:]])),
                                0.0, 1.0)


def _float32(tensor: Any) -> tf.Tensor:
    """Losses and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
