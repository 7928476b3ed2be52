"""SRResNet, SRGAN's generator, and its discriminator (Ledig et al., 2017, figure 4).

Generator (fully convolutional, so it enlarges pictures of any size)::

    9x9 conv, PReLU -> B x [3x3 conv, BN, PReLU, 3x3 conv, BN, + skip]
      -> 3x3 conv, BN, + the head's output (a long skip)
      -> log2(scale) x [3x3 conv to 4C, depth_to_space, PReLU] -> 9x9 conv to RGB, tanh

With ``bicubic_skip`` (the default of new runs) the last 9x9 convolution draws a *residual*
that is added to the bicubic enlargement of the input, clipped to [-1, 1] instead of tanh
(global residual learning, Kim et al., 2016, "VDSR").  The residual convolution starts at zero,
so an untrained network is exactly bicubic interpolation and training only has to learn the
detail bicubic misses: on a CPU budget of a few thousand steps the paper's network (without
the skip) was still worse than bicubic (bench/README.md), with it it is better from the start.

The sub-pixel upsampling (Shi et al., 2016) makes four times the channels at the low
resolution and rearranges them into a map twice as large (``tf.nn.depth_to_space``): learned
upsampling without the checkerboard of a transposed convolution.  The paper has B = 16 blocks
of C = 64; the defaults here are smaller (:class:`~progan_tf.srgan.config.SRGANConfig`).

Discriminator: 3x3 convolutions with LeakyReLU(0.2) and batch norm, every other one strided,
the widths doubling (C, C, 2C, 2C, 4C, 4C, 8C, 8C), then a global average pool (the paper
flattens; pooling keeps the dense layer small), a dense layer of 16C, LeakyReLU and one logit
(its ``sigmoid`` is the probability that the picture is a real high-resolution one).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

__all__ = ["BicubicUpsample", "PixelShuffle", "build_discriminator", "build_generator"]


@keras.saving.register_keras_serializable(package="progan_tf.srgan")
class PixelShuffle(keras.layers.Layer):
    """``tf.nn.depth_to_space``: ``[N, H, W, r*r*C]`` -> ``[N, r*H, r*W, C]``.

    Example:
    >>> PixelShuffle(2)(tf.zeros([1, 3, 5, 8])).shape
    TensorShape([1, 6, 10, 2])
    """

    def __init__(self, block_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, inputs: Any) -> Any:
        return tf.nn.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        n, h, w, c = input_shape
        r = self.block_size
        return (n, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self) -> dict:
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="progan_tf.srgan")
class BicubicUpsample(keras.layers.Layer):
    """Bicubic enlargement by a whole ``scale`` of pictures of any size.

    Keras' ``UpSampling2D(interpolation="bicubic")`` computes the same, but tests the input's
    shape with Python control flow, which fails when the export traces the network for inputs
    of unknown size; this layer computes the size with tensors.

    Example:
    >>> BicubicUpsample(4)(tf.zeros([1, 3, 5, 2])).shape
    TensorShape([1, 12, 20, 2])
    """

    def __init__(self, scale: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs: Any) -> Any:
        size = tf.shape(inputs)[1:3] * self.scale
        return tf.cast(tf.image.resize(inputs, size, method="bicubic"), inputs.dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.scale, None if w is None else w * self.scale,
                c)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def _prelu(name: str) -> keras.layers.Layer:
    """PReLU with one slope per channel, so that the network takes any picture size."""
    return keras.layers.PReLU(shared_axes=[1, 2], name=name)


def build_generator(width: int = 32, blocks: int = 8, scale: int = 4,
                    name: str = "generator", bicubic_skip: bool = False) -> keras.Model:
    """SRResNet: low-res RGB in [-1, 1], any size -> ``scale`` times larger RGB in [-1, 1].

    Args:
        width: Feature maps of every block (the paper's 64).
        blocks: Residual blocks (the paper's 16).
        scale: The enlargement, a power of two (each sub-pixel step doubles).
        name: The model's name.
        bicubic_skip: Add the network's output to the bicubic enlargement of its input, its
            last convolution starting at zero (default ``False``: the paper's network; see the
            module's docstring).

    Returns:
        A functional ``keras.Model`` taking ``[N, H, W, 3]``.

    Example:
    >>> build_generator(width=4, blocks=1)(tf.zeros([2, 5, 7, 3])).shape
    TensorShape([2, 20, 28, 3])
    >>> low = tf.random.uniform([1, 4, 4, 3], -1, 1)  # untrained with the skip: bicubic
    >>> bicubic = tf.image.resize(low, [16, 16], method="bicubic")
    >>> skip = build_generator(width=4, blocks=1, bicubic_skip=True)
    >>> float(tf.reduce_max(tf.abs(skip(low) - tf.clip_by_value(bicubic, -1, 1)))) < 1e-6
    True
    """
    steps = int(round(math.log2(scale)))
    if 2 ** steps != scale or scale < 2:
        raise ValueError(f"scale must be a power of two >= 2. Received: scale={scale!r}")
    conv = keras.layers.Conv2D
    inputs = keras.Input((None, None, 3), name="low_res")
    x = conv(width, 9, padding="same", name="head_conv")(inputs)
    x = head = _prelu("head_prelu")(x)
    for b in range(blocks):
        y = conv(width, 3, padding="same", use_bias=False, name=f"block{b}_conv1")(x)
        y = keras.layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn1")(y)
        y = _prelu(f"block{b}_prelu")(y)
        y = conv(width, 3, padding="same", use_bias=False, name=f"block{b}_conv2")(y)
        y = keras.layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn2")(y)
        x = keras.layers.Add(name=f"block{b}_add")([x, y])
    x = conv(width, 3, padding="same", use_bias=False, name="body_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name="body_bn")(x)
    x = keras.layers.Add(name="body_add")([head, x])
    for s in range(steps):
        x = conv(width * 4, 3, padding="same", name=f"up{s}_conv")(x)
        x = PixelShuffle(2, name=f"up{s}_shuffle")(x)
        x = _prelu(f"up{s}_prelu")(x)
    if not bicubic_skip:
        x = conv(3, 9, padding="same", name="out_conv")(x)
        outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
        return keras.Model(inputs, outputs, name=name)
    x = conv(3, 9, padding="same", kernel_initializer="zeros", name="out_conv")(x)
    up = BicubicUpsample(scale, name="bicubic")(inputs)
    x = keras.layers.Add(name="bicubic_add")([up, x])
    outputs = keras.layers.Activation("hard_tanh", dtype="float32", name="out_clip")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(resolution: int = 64, width: int = 32,
                        name: str = "discriminator") -> keras.Model:
    """SRGAN's discriminator: ``[N, R, R, 3]`` in [-1, 1] -> one logit per picture.

    Args:
        resolution: The side of the high-resolution pictures it judges.
        width: Feature maps of its first layers (the paper's 64); they double every two.
        name: The model's name.

    Returns:
        A functional ``keras.Model``.

    Example:
    >>> build_discriminator(16, width=4)(tf.zeros([2, 16, 16, 3])).shape
    TensorShape([2, 1])
    """
    inputs = keras.Input((resolution, resolution, 3), name="high_res")
    x = inputs
    for i, (mult, stride) in enumerate([(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2),
                                        (8, 1), (8, 2)]):
        x = keras.layers.Conv2D(width * mult, 3, strides=stride, padding="same",
                                use_bias=i == 0, name=f"conv{i}")(x)
        if i:
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(width * 16, name="dense")(x)
    x = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    outputs = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(inputs, outputs, name=name)
