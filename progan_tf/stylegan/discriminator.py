"""StyleGAN2's residual discriminator, built from ProGAN's layers.

::

    image [N, r, r, 3] --FromRGB 1x1--> x
    level l = L-1 .. 1:  x = (conv3x3(conv3x3(x)) pooled + conv1x1(x pooled)) / sqrt(2)
    4x4: minibatch stddev --> conv3x3 --> dense --> score [N, 1]

Level ``l`` (``4 * 2**l`` pixels) is ``nf(l + 1)`` wide, as in the generator.  Down-sampling is
2x2 average pooling (StyleGAN2 filters with ``[1, 3, 3, 1]`` before striding; the box filter is
ProGAN's).  The interface is :class:`~progan_tf.gan.networks.ProgressiveDiscriminator`'s
at its last stage (``call`` -> score, ``features(images, batch_statistics=)``,
``mbstd_group_size``), so losses, augmentation and :func:`progan_tf.recover_latent`'s
discriminator loss work on either; :func:`~progan_tf.stylegan.networks.make_discriminator`
builds ProGAN's, this module the residual one, for the training session to compare.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_number, check_whole_number
from progan_tf.errors import OptionError
from progan_tf.gan.layers import EqualizedConv2D, EqualizedDense, FromRGB, MinibatchStdDev
from progan_tf.gan.networks import num_levels
from progan_tf.stylegan.networks import width

__all__ = ["StyleDiscriminator"]

_SKIP_GAIN = math.sqrt(0.5)


@keras.saving.register_keras_serializable(package="progan_tf.stylegan")
class StyleDiscriminator(keras.Model):
    """image ``[N, r, r, 3]`` in [-1, 1] -> score ``[N, 1]``: residual blocks, minibatch std.

    Reference:
        Figure 7 ("residual" discriminator) of Karras et al., 2020, `Analyzing and Improving
        the Image Quality of StyleGAN <https://arxiv.org/abs/1912.04958>`_.

    Args:
        resolution: Input size, a power of two from 4 to 1024 (default 64).
        fmap_base: Widths' base (default 1024).
        fmap_max: Widest layer (default 128).
        fmap_decay: Width decay per level (default 1.0).
        mbstd_group_size: Images per minibatch-stddev group (default 4; 0 or 1: none).
        negative_slope: The leaky ReLUs' slope (default 0.2).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> critic = StyleDiscriminator(resolution=8, fmap_base=16, fmap_max=8)
    >>> tuple(critic(keras.ops.zeros((2, 8, 8, 3))).shape)
    (2, 1)
    """

    def __init__(self, resolution: int = 64, fmap_base: int = 1024, fmap_max: int = 128,
                 fmap_decay: float = 1.0, mbstd_group_size: int = 4,
                 negative_slope: float = 0.2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.levels = num_levels(resolution)
        except (TypeError, ValueError):
            raise OptionError(f"resolution must be a power of two from 4 to 1024. "
                              f"Received: resolution={resolution!r}") from None
        self.resolution = int(resolution)
        self.fmap_base = check_whole_number(fmap_base, "fmap_base")
        self.fmap_max = check_whole_number(fmap_max, "fmap_max")
        self.fmap_decay = check_number(fmap_decay, "fmap_decay", minimum=0)
        self.mbstd_group_size = check_whole_number(mbstd_group_size, "mbstd_group_size",
                                                   minimum=0)
        self.negative_slope = check_number(negative_slope, "negative_slope", minimum=0)
        top = self.levels - 1
        self.from_rgb = FromRGB(self.width(top), self.negative_slope, name="from_rgb")
        self.blocks = [
            (EqualizedConv2D(self.width(level), 3, name=f"b{4 * 2 ** level}_conv0"),
             EqualizedConv2D(self.width(level - 1), 3, name=f"b{4 * 2 ** level}_conv1"),
             EqualizedConv2D(self.width(level - 1), 1, gain=1.0, use_bias=False,
                             name=f"b{4 * 2 ** level}_skip"))
            for level in range(top, 0, -1)]
        self.downsample = keras.layers.AveragePooling2D(2)
        self.minibatch_stddev = MinibatchStdDev(max(self.mbstd_group_size, 1))
        self.final_conv = EqualizedConv2D(self.width(0), 3, name="b4_conv")
        self.final_dense = EqualizedDense(self.width(0), name="b4_dense")
        self.score = EqualizedDense(1, gain=1.0, name="score")
        self.build((None, self.resolution, self.resolution, 3))

    def width(self, level: int) -> int:
        """Feature maps at level ``level`` (``4 * 2**level`` pixels): ``nf(level + 1)``."""
        return width(level + 1, self.fmap_base, self.fmap_max, self.fmap_decay)

    def build(self, input_shape: tuple) -> None:
        size = self.resolution
        self.from_rgb.build((None, size, size, 3))
        channels = self.from_rgb.filters
        for conv0, conv1, skip in self.blocks:
            conv0.build((None, size, size, channels))
            conv1.build((None, size, size, conv0.filters))
            skip.build((None, size // 2, size // 2, channels))
            size, channels = size // 2, conv1.filters
        extra = 1 if self.mbstd_group_size > 1 else 0
        self.minibatch_stddev.build((None, 4, 4, channels))
        self.final_conv.build((None, 4, 4, channels + extra))
        self.final_dense.build((None, 16 * self.final_conv.filters))
        self.score.build((None, self.final_dense.units))
        self.built = True

    def _act(self, x: Any) -> Any:
        return ops.leaky_relu(x, self.negative_slope)

    def call(self, images: Any) -> Any:
        """The score ``[N, 1]``: the last of :meth:`features`."""
        return self.features(images)[-1]

    def features(self, images: Any, *, batch_statistics: bool = True) -> list:
        """Every block's output from the finest down, the 4x4 conv's, the dense's, the score.

        Args:
            images: ``[N, resolution, resolution, 3]`` in [-1, 1].
            batch_statistics: ``False`` replaces the minibatch standard deviation by its value
                for a batch of one image, ``sqrt(epsilon)`` (each image's features its own).

        Returns:
            A list of activations, the score ``[N, 1]`` last.
        """
        outputs = []
        x = self.from_rgb(images)
        for conv0, conv1, skip in self.blocks:
            shortcut = skip(self.downsample(x))
            x = self.downsample(self._act(conv1(self._act(conv0(x)))))
            x = (x + shortcut) * _SKIP_GAIN
            outputs.append(x)
        if self.mbstd_group_size > 1 and batch_statistics:
            x = self.minibatch_stddev(x)
        elif self.mbstd_group_size > 1:
            stddev = ops.ones_like(x[..., :1]) * math.sqrt(self.minibatch_stddev.epsilon)
            x = ops.concatenate([x, stddev], axis=-1)
        outputs.append(self._act(self.final_conv(x)))
        flat = ops.reshape(outputs[-1], (-1, 16 * self.final_conv.filters))
        outputs.append(self._act(self.final_dense(flat)))
        outputs.append(self.score(outputs[-1]))
        return outputs

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "fmap_base": self.fmap_base,
                "fmap_max": self.fmap_max, "fmap_decay": self.fmap_decay,
                "mbstd_group_size": self.mbstd_group_size,
                "negative_slope": self.negative_slope}
