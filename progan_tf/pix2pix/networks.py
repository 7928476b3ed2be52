"""The Pix2Pix generator (a U-Net) and discriminator (a PatchGAN), readable on one screen.

Isola et al. (2017), as the course builds them:

* **U-Net generator** -- an encoder of 4x4 stride-2 convolutions (instance norm, LeakyReLU 0.2)
  halves the picture down to 1x1 (8 blocks at 256x256, 6 at 64x64); a decoder of 4x4 stride-2
  transposed convolutions (instance norm, ReLU; dropout 0.5 in the first three, the paper's
  noise) doubles it back.  Each decoder block's output is concatenated with the encoder output
  of the same size: the **skip connections** carry the input's edges straight to the output,
  so the bottleneck only has to carry what the picture *means*.  ``tanh`` out, [-1, 1].
  No norm on the first block (the paper's) nor on the 1x1 bottleneck (instance norm of one
  pixel is zero).
* **PatchGAN discriminator** -- it sees the input and an output *together* (concatenated on
  the channels: "is this a real photo **of this sketch**?") and answers with a map of logits,
  one per overlapping patch, instead of one score: it judges local texture, and the L1 loss
  takes care of the whole picture.  4x4 convolutions, ``layers`` of them with stride 2 (the
  paper's 70x70 patches: 3), then one with stride 1, then the one-channel logit map.

Feature maps start at ``width`` (the paper's 64) and double per block up to ``max_width`` (the
paper's 512).  Weights are drawn from N(0, 0.02), as in the paper.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_number, check_whole_number
from progan_tf.pix2pix.config import check_resolution, down_blocks

__all__ = ["PatchDiscriminator", "UNetGenerator"]

_PACKAGE = "progan_tf.pix2pix"
_SLOPE = 0.2


def _weights() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, 0.02)


def _instance_norm() -> keras.layers.GroupNormalization:
    """Instance normalisation: a group per channel, statistics per picture."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)


def _conv(filters: int, strides: int = 2, transpose: bool = False) -> keras.layers.Layer:
    kind = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    return kind(filters, 4, strides=strides, padding="same", kernel_initializer=_weights())


class _Pix2PixNetwork(keras.Model):
    """What both networks share: their size and widths."""

    def __init__(self, resolution: int = 64, width: int = 32, max_width: int = 128,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resolution = self.checked_resolution(resolution)
        self.width = check_whole_number(width, "width")
        self.max_width = check_whole_number(max_width, "max_width")

    def checked_resolution(self, resolution: int) -> int:
        """The picture's side, checked: a power of two from 16 to 256 (the U-Net's need)."""
        return check_resolution(resolution)

    def block_width(self, index: int) -> int:
        """Feature maps of block ``index``: ``width * 2**index``, at most ``max_width``."""
        return min(self.width * 2 ** index, self.max_width)

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "width": self.width,
                "max_width": self.max_width}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class UNetGenerator(_Pix2PixNetwork):
    """input picture ``[N, r, r, 3]`` in [-1, 1] -> output picture ``[N, r, r, 3]`` in [-1, 1].

    Args:
        resolution: The picture's side, a power of two from 16 to 256.
        width: Feature maps of the first encoder block (default 32).
        max_width: The widest block (default 128).
        dropout: Dropout rate of the first three decoder blocks (default 0.5; 0: none).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> unet = UNetGenerator(resolution=16, width=4, max_width=8)
    >>> [unet.block_width(i) for i in range(len(unet.downs))]
    [4, 8, 8, 8]
    >>> tuple(unet(ops.zeros((2, 16, 16, 3))).shape)
    (2, 16, 16, 3)
    """

    def __init__(self, dropout: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dropout = check_number(dropout, "dropout", minimum=0, maximum=0.99)
        blocks = down_blocks(self.resolution)
        self.downs = [_conv(self.block_width(i)) for i in range(blocks)]
        # No norm on the first block nor on the 1x1 bottleneck.
        self.down_norms = [_instance_norm() for _ in range(blocks - 2)]
        ups = list(range(blocks - 2, -1, -1))  # the encoder block each up block is joined to
        self.ups = [_conv(self.block_width(i), transpose=True) for i in ups]
        self.up_norms = [_instance_norm() for _ in ups]
        self.drops = [keras.layers.Dropout(self.dropout) for _ in ups[:3]]
        self.to_image = _conv(3, transpose=True)
        self.build((None, self.resolution, self.resolution, 3))

    def build(self, input_shape: tuple) -> None:
        size, channels, skips = self.resolution, 3, []
        for index, down in enumerate(self.downs):
            down.build((None, size, size, channels))
            size, channels = size // 2, down.filters
            if 0 < index < len(self.downs) - 1:
                self.down_norms[index - 1].build((None, size, size, channels))
            skips.append(channels)
        for up, norm, skip in zip(self.ups, self.up_norms, reversed(skips[:-1])):
            up.build((None, size, size, channels))
            size *= 2
            norm.build((None, size, size, up.filters))
            channels = up.filters + skip
        self.to_image.build((None, size, size, channels))
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        x, skips = inputs, []
        for index, down in enumerate(self.downs):
            x = down(x)
            if 0 < index < len(self.downs) - 1:
                x = self.down_norms[index - 1](x)
            x = ops.leaky_relu(x, _SLOPE)
            skips.append(x)
        for index, (up, norm, skip) in enumerate(zip(self.ups, self.up_norms,
                                                     reversed(skips[:-1]))):
            x = norm(up(x))
            if index < len(self.drops):
                x = self.drops[index](x, training=training)
            x = ops.concatenate([ops.relu(x), skip], axis=-1)
        return ops.tanh(self.to_image(x))

    def get_config(self) -> dict:
        return {**super().get_config(), "dropout": self.dropout}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PatchDiscriminator(_Pix2PixNetwork):
    """(input, picture), each ``[N, r, r, 3]`` in [-1, 1] -> logits ``[N, r/2**layers, .., 1]``.

    With ``conditional=False`` it sees the picture alone (``[N, r, r, 3]`` -> logits): CycleGAN's
    discriminators (:class:`progan_tf.cyclegan.networks.PatchGAN`) judge one picture of their
    domain, not a pair.

    Args:
        resolution: The picture's side, a power of two from 16 to 256.
        width: Feature maps of the first block (default 32).
        max_width: The widest block (default 128).
        layers: Stride-2 blocks (default 3, the paper's 70x70 patches at 256x256).
        conditional: See the input beside the picture (default ``True``: Pix2Pix's).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> critic = PatchDiscriminator(resolution=16, width=4, max_width=8, layers=2)
    >>> tuple(critic([ops.zeros((2, 16, 16, 3)), ops.zeros((2, 16, 16, 3))]).shape)
    (2, 4, 4, 1)
    """

    def __init__(self, layers: int = 3, conditional: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conditional = bool(conditional)
        self.layers_count = check_whole_number(layers, "layers")
        if 2 ** self.layers_count > self.resolution:
            raise keras_option_error(self.layers_count, self.resolution)
        self.downs = [_conv(self.block_width(i)) for i in range(self.layers_count)]
        self.norms = [_instance_norm() for _ in range(self.layers_count)]  # not on the first
        self.last = _conv(self.block_width(self.layers_count), strides=1)
        self.to_logits = _conv(1, strides=1)
        self.build((None, self.resolution, self.resolution, self.channels))

    @property
    def channels(self) -> int:
        """What the first convolution sees: 6 (input and picture) or 3 (the picture alone)."""
        return 6 if self.conditional else 3

    def build(self, input_shape: Any) -> None:
        size, channels = self.resolution, self.channels
        for index, down in enumerate(self.downs):
            down.build((None, size, size, channels))
            size, channels = size // 2, down.filters
            if index:
                self.norms[index - 1].build((None, size, size, channels))
        self.last.build((None, size, size, channels))
        self.norms[-1].build((None, size, size, self.last.filters))
        self.to_logits.build((None, size, size, self.last.filters))
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        if self.conditional:
            condition, picture = inputs
            x = ops.concatenate([condition, picture], axis=-1)
        else:
            x = inputs
        for index, down in enumerate(self.downs):
            x = down(x)
            if index:
                x = self.norms[index - 1](x)
            x = ops.leaky_relu(x, _SLOPE)
        x = ops.leaky_relu(self.norms[-1](self.last(x)), _SLOPE)
        return self.to_logits(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "layers": self.layers_count,
                "conditional": self.conditional}


def keras_option_error(layers: int, resolution: int) -> Exception:
    """The one-line error of a PatchGAN deeper than its picture allows."""
    from progan_tf.errors import OptionError

    return OptionError(f"d_layers must leave at least a 1x1 map: 2**{layers} > {resolution}. "
                       f"Received: d_layers={layers}")
