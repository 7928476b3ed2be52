"""The DCGAN generator and discriminator (Radford et al., 2016), readable on one screen.

The paper's architecture guidelines, as the networks follow them:

* no pooling: the discriminator halves the picture with **strided convolutions**, the
  generator doubles it with **transposed convolutions** (fractionally-strided);
* **batch normalisation** in both networks, except the generator's output layer and the
  discriminator's input layer;
* no fully connected hidden layers: the generator's only dense layer *projects* the latent to
  the first small map, the discriminator's only dense layer turns the last map into one score;
* **ReLU** in the generator (``tanh`` at its output), **LeakyReLU** (slope 0.2) in the
  discriminator;
* weights drawn from N(0, 0.02), batch-norm scales from N(1, 0.02).

Both networks start (or end) at a 4x4 map -- 7x7 for 28x28, MNIST's size -- and change the
size by two per layer, so 16x16 has two layers, 32x32 three and 64x64 four.  The generator's
widths halve on the way up from ``width * 2**(layers - 1)`` to ``width``, the discriminator's
double on the way down (``width`` is the paper's 128 for 64x64; the PyTorch tutorial's 64).
Images are in [-1, 1]; :mod:`progan_tf.dcgan.export` maps them to [0, 1].
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_whole_number
from progan_tf.dcgan.config import check_channels, check_resolution

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "layout"]

_PACKAGE = "progan_tf.dcgan"
_NEGATIVE_SLOPE = 0.2
# PyTorch's batch-norm settings (momentum 0.1 there is 0.9 here): the reference DCGAN code is
# Torch's, and the faster-moving averages suit short runs whose samples use them.
_NORM = {"momentum": 0.9, "epsilon": 1e-5}


def layout(resolution: int) -> tuple[int, int]:
    """``(size of the smallest map, number of layers that double it)`` for ``resolution``.

    Raises:
        OptionError: ``resolution`` is not one of :data:`~progan_tf.constants.DCGAN_RESOLUTIONS`.

    Example:
    >>> layout(64), layout(28)
    ((4, 4), (7, 2))
    """
    check_resolution(resolution)
    start = 7 if resolution % 7 == 0 else 4
    return start, (resolution // start).bit_length() - 1


def _weights() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, 0.02)


def _norm() -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(
        gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02), **_NORM)


class _DCGANNetwork(keras.Model):
    """What both networks share: their size, widths and configuration."""

    def __init__(self, resolution: int = 64, width: int = 64, channels: int = 3,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start, self.layers_count = layout(resolution)
        self.resolution = int(resolution)
        self.width = check_whole_number(width, "width", minimum=1)
        self.channels = check_channels(channels)

    def widths(self) -> list[int]:
        """Feature maps from the smallest map up: ``width * 2**(layers - 1)`` down to ``width``.

        Example:
        >>> DCGANGenerator(resolution=32, width=8, latent_dim=4).widths()
        [32, 16, 8]
        """
        return [self.width * 2 ** (self.layers_count - 1 - i) for i in range(self.layers_count)]

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "width": self.width,
                "channels": self.channels}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DCGANGenerator(_DCGANNetwork):
    """latent ``[N, latent_dim]`` -> image ``[N, r, r, channels]`` in [-1, 1].

    Project the latent to the smallest map (dense, batch norm, ReLU), then transposed
    convolutions (4x4, stride 2, batch norm, ReLU) that double it, the last one to the image's
    channels with ``tanh``.

    Args:
        latent_dim: The latent size (default 100, the paper's).
        resolution: The image size, one of :data:`~progan_tf.constants.DCGAN_RESOLUTIONS`.
        width: Feature maps of the largest hidden map (default 64).
        channels: 3 (RGB) or 1 (grey).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> generator = DCGANGenerator(latent_dim=8, resolution=16, width=4)
    >>> tuple(generator(ops.zeros((2, 8))).shape)
    (2, 16, 16, 3)
    """

    def __init__(self, latent_dim: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latent_dim = check_whole_number(latent_dim, "latent_dim", minimum=1)
        widths = self.widths()
        self.project = keras.layers.Dense(self.start * self.start * widths[0], use_bias=False,
                                          kernel_initializer=_weights())
        self.project_norm = _norm()
        self.ups = [keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                                 use_bias=False, kernel_initializer=_weights())
                    for filters in widths[1:]]
        self.norms = [_norm() for _ in widths[1:]]
        self.to_image = keras.layers.Conv2DTranspose(self.channels, 4, strides=2, padding="same",
                                                     kernel_initializer=_weights())
        self.build((None, self.latent_dim))

    def build(self, input_shape: tuple) -> None:
        widths, size = self.widths(), self.start
        self.project.build((None, self.latent_dim))
        self.project_norm.build((None, size, size, widths[0]))
        for up, norm, (before, after) in zip(self.ups, self.norms, zip(widths, widths[1:])):
            up.build((None, size, size, before))
            size *= 2
            norm.build((None, size, size, after))
        self.to_image.build((None, size, size, widths[-1]))
        self.built = True

    def call(self, latents: Any, training: bool = False) -> Any:
        x = self.project(latents)
        x = ops.reshape(x, (-1, self.start, self.start, self.widths()[0]))
        x = ops.relu(self.project_norm(x, training=training))
        for up, norm in zip(self.ups, self.norms):
            x = ops.relu(norm(up(x), training=training))
        return ops.tanh(self.to_image(x))

    def get_config(self) -> dict:
        return {**super().get_config(), "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DCGANDiscriminator(_DCGANNetwork):
    """image ``[N, r, r, channels]`` in [-1, 1] -> a logit ``[N, 1]`` (sigmoid: P(real)).

    Strided convolutions (4x4, stride 2, LeakyReLU 0.2; batch norm on all but the first) halve
    the picture down to the smallest map, which a dense layer turns into one score.  The score
    is a logit: the loss applies the sigmoid (:func:`tf.nn.sigmoid_cross_entropy_with_logits`,
    the numerically stable form of the paper's sigmoid + binary cross-entropy).

    Args:
        resolution: The image size, one of :data:`~progan_tf.constants.DCGAN_RESOLUTIONS`.
        width: Feature maps of the first (largest) map (default 64).
        channels: 3 (RGB) or 1 (grey).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> critic = DCGANDiscriminator(resolution=28, width=4, channels=1)
    >>> tuple(critic(ops.zeros((2, 28, 28, 1))).shape)
    (2, 1)
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        widths = self.widths()[::-1]  # from the image down
        self.downs = [keras.layers.Conv2D(filters, 4, strides=2, padding="same",
                                          use_bias=index == 0, kernel_initializer=_weights())
                      for index, filters in enumerate(widths)]
        self.norms = [_norm() for _ in widths[1:]]  # none on the input layer
        self.score = keras.layers.Dense(1, kernel_initializer=_weights())
        self.build((None, self.resolution, self.resolution, self.channels))

    def build(self, input_shape: tuple) -> None:
        size, channels = self.resolution, self.channels
        for index, down in enumerate(self.downs):
            down.build((None, size, size, channels))
            size, channels = size // 2, down.filters
            if index:
                self.norms[index - 1].build((None, size, size, channels))
        self.score.build((None, size * size * channels))
        self.built = True

    def call(self, images: Any, training: bool = False) -> Any:
        x = ops.leaky_relu(self.downs[0](images), _NEGATIVE_SLOPE)
        for down, norm in zip(self.downs[1:], self.norms):
            x = ops.leaky_relu(norm(down(x), training=training), _NEGATIVE_SLOPE)
        return self.score(ops.reshape(x, (-1, self.start * self.start * self.widths()[0])))
