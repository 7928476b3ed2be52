"""CycleGAN's networks: a ResNet generator (or Pix2Pix's U-Net) and an unconditional PatchGAN.

Zhu, Park, Isola and Efros (2017), with the reference code's layer recipe:

* **ResNet generator** (Johnson et al. 2016) -- ``c7s1-k``: a 7x7 convolution over a
  reflection-padded picture to ``width`` maps; two 3x3 stride-2 convolutions (``2 width``,
  ``4 width``) that halve the picture twice; ``blocks`` residual blocks at a quarter of the
  size, each ``x + norm(conv(relu(norm(conv(x)))))`` with reflection padding (zero padding
  would darken the borders of every block's output); two 3x3 stride-2 transposed
  convolutions back up; ``c7s1-3`` and ``tanh``.  Instance norm and ReLU after every
  convolution but the last.  The paper's sizes are ``width=64`` and 6 blocks at 128x128
  (9 at 256x256); on a CPU at 64x64, 16-32 maps and 6 blocks suffice.  The residual blocks
  change a picture *in place* -- hair colour, not face shape -- which suits translation
  between face domains; the U-Net is the alternative (:func:`make_generator`).
* **PatchGAN discriminator** -- 4x4 convolutions, ``layers`` of them with stride 2 (no norm on
  the first, LeakyReLU 0.2), one with stride 1, and a one-channel map of logits: one score
  per overlapping patch (70x70 pixels with the paper's 3 layers).  Pix2Pix's
  :class:`~progan_tf.pix2pix.networks.PatchDiscriminator` is *conditional* -- it takes
  ``[input, picture]`` -- while CycleGAN's discriminators see one picture of their domain, so
  :class:`PatchGAN` is the same network built with ``conditional=False``.

Weights are drawn from N(0, 0.02), as in both papers.  Both generators map ``[N, r, r, 3]`` in
[-1, 1] to the same shape in [-1, 1].
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_choice, check_whole_number
from progan_tf.constants import CYCLEGAN_GENERATORS
from progan_tf.errors import OptionError
from progan_tf.pix2pix.networks import PatchDiscriminator, UNetGenerator

__all__ = ["GENERATORS", "PatchGAN", "ResnetGenerator", "make_generator"]

_PACKAGE = "progan_tf.cyclegan"

GENERATORS = CYCLEGAN_GENERATORS
"""The generator architectures :func:`make_generator` builds."""


def _weights() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, 0.02)


def _instance_norm() -> keras.layers.GroupNormalization:
    """Instance normalisation: a group per channel, statistics per picture."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)


def _conv(filters: int, kernel: int, strides: int = 1, padding: str = "same",
          transpose: bool = False) -> keras.layers.Layer:
    kind = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    return kind(filters, kernel, strides=strides, padding=padding, kernel_initializer=_weights())


def _reflect(x: Any, pad: int) -> Any:
    return ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="reflect")


def check_side(resolution: Any, multiple: int, what: str) -> int:
    """A picture side of at least 16 pixels that ``multiple`` divides.

    Example:
    >>> check_side(64, 4, "the ResNet generator")
    64
    """
    value = check_whole_number(resolution, "resolution")
    if value < 16 or value % multiple:
        raise OptionError(f"resolution must be at least 16 and a multiple of {multiple} for "
                          f"{what}. Received: resolution={resolution!r}")
    return value


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResnetGenerator(keras.Model):
    """picture ``[N, r, r, 3]`` in [-1, 1] -> picture ``[N, r, r, 3]`` in [-1, 1].

    Args:
        resolution: The picture's side (a multiple of 4, at least 16); the network is fully
            convolutional, this only fixes the shapes it is built for.
        width: Feature maps of the first convolution (the paper's 64; default 32).
        blocks: Residual blocks at a quarter of the size (the paper's 6 at 128x128; default 6).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> resnet = ResnetGenerator(resolution=16, width=4, blocks=1)
    >>> tuple(resnet(ops.zeros((2, 16, 16, 3))).shape)
    (2, 16, 16, 3)
    """

    def __init__(self, resolution: int = 64, width: int = 32, blocks: int = 6,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resolution = check_side(resolution, 4, "the ResNet generator")
        self.width = check_whole_number(width, "width")
        self.blocks = check_whole_number(blocks, "blocks", minimum=0)
        self.stem = _conv(self.width, 7, padding="valid")
        self.downs = [_conv(self.width * 2, 3, strides=2), _conv(self.width * 4, 3, strides=2)]
        self.res_convs = [[_conv(self.width * 4, 3, padding="valid") for _ in range(2)]
                          for _ in range(self.blocks)]
        self.ups = [_conv(self.width * 2, 3, strides=2, transpose=True),
                    _conv(self.width, 3, strides=2, transpose=True)]
        self.to_image = _conv(3, 7, padding="valid")
        self.norms = [_instance_norm() for _ in range(5 + 2 * self.blocks)]
        self.build((None, self.resolution, self.resolution, 3))

    def build(self, input_shape: Any) -> None:
        r, norms = self.resolution, iter(self.norms)
        self.stem.build((None, r + 6, r + 6, 3))
        next(norms).build((None, r, r, self.width))
        channels = self.width
        for down in self.downs:
            down.build((None, r, r, channels))
            r, channels = r // 2, down.filters
            next(norms).build((None, r, r, channels))
        for pair in self.res_convs:
            for conv in pair:
                conv.build((None, r + 2, r + 2, channels))
                next(norms).build((None, r, r, channels))
        for up in self.ups:
            up.build((None, r, r, channels))
            r, channels = r * 2, up.filters
            next(norms).build((None, r, r, channels))
        self.to_image.build((None, r + 6, r + 6, channels))
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        norms = iter(self.norms)
        x = ops.relu(next(norms)(self.stem(_reflect(inputs, 3))))
        for down in self.downs:
            x = ops.relu(next(norms)(down(x)))
        for first, second in self.res_convs:
            y = ops.relu(next(norms)(first(_reflect(x, 1))))
            x = x + next(norms)(second(_reflect(y, 1)))
        for up in self.ups:
            x = ops.relu(next(norms)(up(x)))
        return ops.tanh(self.to_image(_reflect(x, 3)))

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "width": self.width,
                "blocks": self.blocks}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PatchGAN(PatchDiscriminator):
    """picture ``[N, r, r, 3]`` in [-1, 1] -> logits ``[N, r / 2**layers, r / 2**layers, 1]``.

    Pix2Pix's :class:`~progan_tf.pix2pix.networks.PatchDiscriminator` with
    ``conditional=False`` (it sees one picture of its domain, not a pair) and widths up to
    ``8 * width``; any side the ResNet generator takes, not only powers of two.

    Args:
        resolution: The picture's side (at least 16, a multiple of ``2**layers``).
        width: Feature maps of the first block (the paper's 64; default 32); they double per
            block up to ``8 * width``.
        layers: Stride-2 blocks (default 3: the paper's 70x70 patches).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> critic = PatchGAN(resolution=16, width=4, layers=2)
    >>> tuple(critic(ops.zeros((2, 16, 16, 3))).shape)
    (2, 4, 4, 1)
    """

    def __init__(self, resolution: int = 64, width: int = 32, layers: int = 3,
                 **kwargs: Any) -> None:
        layers = check_whole_number(layers, "layers")
        resolution = check_side(resolution, 2 ** layers, f"a PatchGAN of {layers} stride-2 layers")
        width = check_whole_number(width, "width")
        kwargs = {key: value for key, value in kwargs.items()
                  if key not in ("max_width", "conditional")}
        super().__init__(resolution=resolution, width=width, max_width=8 * width, layers=layers,
                         conditional=False, **kwargs)

    def checked_resolution(self, resolution: int) -> int:
        """Any side :func:`check_side` allowed (the ResNet's multiples of 4, not only 2**k)."""
        return resolution

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "width": self.width,
                "layers": self.layers_count}


def make_generator(kind: str = "resnet", resolution: int = 64, width: int = 32,
                   blocks: int = 6, name: str | None = None) -> keras.Model:
    """One CycleGAN generator: the ResNet (default) or Pix2Pix's U-Net.

    Args:
        kind: ``"resnet"`` or ``"unet"``.
        resolution: The picture's side (the U-Net needs a power of two from 16 to 256).
        width: Feature maps of the first layer.
        blocks: The ResNet's residual blocks (unused by the U-Net).
        name: The network's name (default: Keras').

    Returns:
        A :class:`ResnetGenerator` or a :class:`~progan_tf.pix2pix.networks.UNetGenerator`
        (its widths up to ``8 * width``, dropout 0.5 as in Pix2Pix).

    Raises:
        OptionError: an unknown ``kind`` or a size the network cannot take.

    Example:
    >>> type(make_generator("unet", resolution=16, width=4)).__name__
    'UNetGenerator'
    """
    kind = check_choice(kind, "generator", GENERATORS)
    if kind == "unet":
        return UNetGenerator(resolution=resolution, width=width, max_width=8 * width, name=name)
    return ResnetGenerator(resolution=resolution, width=width, blocks=blocks, name=name)
