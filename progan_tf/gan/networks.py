"""Progressive generator and discriminator (Karras et al., 2018), readable on one screen.

Both networks own the layers of *every* resolution from the start (so checkpoints and the
optimizer always see the same variables), but compute only up to the current *stage*:
``set_stage(resolution, fading)``.  While ``fading``, the newest resolution is blended in with
:class:`~progan_tf.gan.layers.FadeIn`.  Level ``l`` works at ``4 * 2**l`` pixels; its width is
``min(fmap_base / 2**((l + 1) * fmap_decay), fmap_max)`` (the paper's ``nf(stage)``): with the
paper's ``fmap_base`` 8192 and ``fmap_decay`` 1.0 the widths halve with every doubling of the
resolution once below ``fmap_max``, so the large stages stay cheap.

Images live in [-1, 1] inside training; :mod:`progan_tf.gan.export` maps them to [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from progan_tf.gan.layers import (
    EqualizedConv2D,
    EqualizedDense,
    FadeIn,
    FromRGB,
    MinibatchStdDev,
    PixelNorm,
    ToRGB,
)

_PACKAGE = "progan_tf"


def num_levels(resolution: int) -> int:
    """Number of resolutions from 4x4 up to ``resolution`` (4 -> 1, 8 -> 2, ..., 1024 -> 9).

    Example:
    >>> num_levels(4), num_levels(128)
    (1, 6)
    """
    log2 = math.log2(resolution) if resolution > 0 else -1
    if resolution < 4 or resolution > 1024 or log2 != int(log2):
        raise ValueError(f"resolution must be a power of two from 4 to 1024, got {resolution}")
    return int(log2) - 1


class _Progressive(keras.Model):
    """Shared stage bookkeeping of the two networks."""

    def __init__(self, resolution: int = 128, fmap_base: int = 8192, fmap_max: int = 512,
                 fmap_decay: float = 1.0, negative_slope: float = 0.2, equalized_lr: bool = True,
                 stage_resolution: int = 4, fading: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        self.levels = num_levels(self.resolution)
        self.fmap_base, self.fmap_max = int(fmap_base), int(fmap_max)
        self.fmap_decay = float(fmap_decay)
        self.negative_slope = float(negative_slope)
        self.equalized_lr = bool(equalized_lr)
        self.stage_level, self.fading = 0, False
        self.set_stage(stage_resolution, fading)

    def width(self, stage: int) -> int:
        """Feature maps of the paper's ``nf(stage)``: ``fmap_base / 2**(stage * fmap_decay)``."""
        return max(1, min(int(self.fmap_base / 2.0 ** (stage * self.fmap_decay)),
                          self.fmap_max))

    def set_stage(self, resolution: int, fading: bool = False) -> None:
        """Compute up to ``resolution``; blend it in with ``alpha`` when ``fading``."""
        level = num_levels(resolution) - 1
        if level >= self.levels:
            raise ValueError(f"stage {resolution} exceeds the network's resolution "
                             f"{self.resolution}")
        self.stage_level, self.fading = level, bool(fading) and level > 0

    @property
    def stage_resolution(self) -> int:
        """The resolution the networks compute at now."""
        return 4 * 2 ** self.stage_level

    def _act(self, x):
        return ops.leaky_relu(x, self.negative_slope)

    def stage_variables(self, fading: bool | None = None) -> list:
        """Trainable variables used by the current stage.

        By default they include the fade-in branch of this resolution, so one optimizer serves
        its fade and stable phases.
        """
        fading = self.fading or self.stage_level > 0 if fading is None else fading
        layers = self._stage_layers(self.stage_level, fading)
        return [v for layer in layers for v in layer.trainable_weights]

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "fmap_base": self.fmap_base,
                "fmap_max": self.fmap_max, "fmap_decay": self.fmap_decay,
                "negative_slope": self.negative_slope,
                "equalized_lr": self.equalized_lr, "stage_resolution": self.stage_resolution,
                "fading": self.fading}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ProgressiveGenerator(_Progressive):
    """latent [N, latent_dim] -> image [N, r, r, 3] at the current stage's resolution r."""

    def __init__(self, latent_dim: int = 512, normalize_latents: bool = True,
                 pixel_norm: bool = True, **kwargs: Any) -> None:
        self.latent_dim = int(latent_dim)
        self.normalize_latents, self.use_pixel_norm = bool(normalize_latents), bool(pixel_norm)
        super().__init__(**kwargs)
        eq = {"equalized": self.equalized_lr}
        self.pixel_norm = PixelNorm()
        # 4x4: latent -> dense -> 4x4 features -> 3x3 conv (gain sqrt(2)/4 as in the paper).
        self.dense = EqualizedDense(self.width(1) * 16, gain=math.sqrt(2) / 4, **eq)
        self.blocks = [[EqualizedConv2D(self.width(1), 3, **eq)]] + [
            [EqualizedConv2D(self.width(level + 1), 3, **eq),
             EqualizedConv2D(self.width(level + 1), 3, **eq)]
            for level in range(1, self.levels)]
        self.to_rgb = [ToRGB(3, equalized=self.equalized_lr) for _ in range(self.levels)]
        self.upsample = keras.layers.UpSampling2D(2, interpolation="nearest")
        self.fade = FadeIn()
        self.build((None, self.latent_dim))

    def build(self, input_shape: tuple) -> None:
        self.dense.build((None, self.latent_dim))
        channels = self.width(1)
        for level, block in enumerate(self.blocks):
            size = 4 * 2 ** level
            for conv in block:
                conv.build((None, size, size, channels))
                channels = conv.filters
            self.to_rgb[level].build((None, size, size, channels))
        self.fade.build([(None, 4, 4, 3), (None, 4, 4, 3)])
        self.pixel_norm.build((None, self.latent_dim))
        self.upsample.build((None, 4, 4, channels))
        self.built = True

    def _normalize(self, x):
        return self.pixel_norm(x) if self.use_pixel_norm else x

    def call(self, latents: Any) -> Any:
        x = self.pixel_norm(latents) if self.normalize_latents else latents
        x = ops.reshape(self.dense(x), (-1, 4, 4, self.width(1)))
        x = self._normalize(self._act(x))
        previous = x
        for level in range(self.stage_level + 1):
            if level > 0:
                previous = x
                x = self.upsample(x)
            for conv in self.blocks[level]:
                x = self._normalize(self._act(conv(x)))
        images = self.to_rgb[self.stage_level](x)
        if self.fading:
            old = self.upsample(self.to_rgb[self.stage_level - 1](previous))
            images = self.fade([old, images])
        return images

    def _stage_layers(self, level, fading):
        layers = [self.dense] + [c for block in self.blocks[:level + 1] for c in block]
        return layers + self.to_rgb[max(level - 1, 0) if fading else level:level + 1]

    def get_config(self) -> dict:
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "normalize_latents": self.normalize_latents, "pixel_norm": self.use_pixel_norm}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ProgressiveDiscriminator(_Progressive):
    """image [N, r, r, 3] at the current stage's resolution -> Wasserstein critic score [N, 1]."""

    def __init__(self, mbstd_group_size: int = 4, **kwargs: Any) -> None:
        self.mbstd_group_size = int(mbstd_group_size)
        super().__init__(**kwargs)
        eq = {"equalized": self.equalized_lr}
        self.from_rgb = [FromRGB(self.width(level + 1), self.negative_slope, **eq)
                         for level in range(self.levels)]
        # Level l > 0: conv to nf(l+1), conv to nf(l), then 2x2 average pooling.
        self.blocks = [None] + [
            [EqualizedConv2D(self.width(level + 1), 3, **eq),
             EqualizedConv2D(self.width(level), 3, **eq)]
            for level in range(1, self.levels)]
        self.minibatch_stddev = MinibatchStdDev(max(self.mbstd_group_size, 1))
        self.final_conv = EqualizedConv2D(self.width(1), 3, **eq)
        self.final_dense = EqualizedDense(self.width(0), **eq)
        self.score = EqualizedDense(1, gain=1.0, **eq)
        self.downsample = keras.layers.AveragePooling2D(2)
        self.fade = FadeIn()
        self.build((None, self.resolution, self.resolution, 3))

    def build(self, input_shape: tuple) -> None:
        for level in range(self.levels):
            size = 4 * 2 ** level
            self.from_rgb[level].build((None, size, size, 3))
            if level > 0:
                channels = self.width(level + 1)
                for conv in self.blocks[level]:
                    conv.build((None, size, size, channels))
                    channels = conv.filters
        extra = 1 if self.mbstd_group_size > 1 else 0
        self.final_conv.build((None, 4, 4, self.width(1) + extra))
        self.final_dense.build((None, 16 * self.width(1)))
        self.score.build((None, self.width(0)))
        self.fade.build([(None, 4, 4, 3), (None, 4, 4, 3)])
        self.minibatch_stddev.build((None, 4, 4, self.width(1)))
        self.downsample.build((None, 8, 8, 3))
        self.built = True

    def _block(self, level, x):
        for conv in self.blocks[level]:
            x = self._act(conv(x))
        return self.downsample(x)

    def call(self, images: Any) -> Any:
        """The critic score ``[N, 1]``: the last of :meth:`features`."""
        return self.features(images)[-1]

    def features(self, images: Any, *, batch_statistics: bool = True) -> list:
        """Every activation of one forward walk at the current stage, the critic score last.

        :meth:`call` is this walk's last element, so anything built on the features (the
        discriminator loss of :func:`progan_tf.recover_latent`) sees the network exactly as
        training does, including a fade-in.

        Args:
            images: ``[N, r, r, 3]`` in [-1, 1] at the stage's resolution ``r``.
            batch_statistics: ``False`` replaces the minibatch standard deviation (a statistic
                *across* the batch) by its value for a batch of one image, ``sqrt(epsilon)``,
                so that each image's features are its own -- for comparing images.

        Returns:
            A list: the output of each block of the stage from the finest down (after the
            fade-in while fading), the last convolution's activation, the dense layer's, and
            the score ``[N, 1]``.
        """
        level = self.stage_level
        outputs = []
        x = self.from_rgb[level](images)
        if level > 0:
            x = self._block(level, x)
            if self.fading:
                old = self.from_rgb[level - 1](self.downsample(images))
                x = self.fade([old, x])
            outputs.append(x)
            for lower in range(level - 1, 0, -1):
                x = self._block(lower, x)
                outputs.append(x)
        if self.mbstd_group_size > 1 and batch_statistics:
            x = self.minibatch_stddev(x)
        elif self.mbstd_group_size > 1:  # the statistic of a group of one image is sqrt(epsilon)
            stddev = ops.ones_like(x[..., :1]) * math.sqrt(self.minibatch_stddev.epsilon)
            x = ops.concatenate([x, stddev], axis=-1)
        outputs.append(self._act(self.final_conv(x)))
        outputs.append(self._act(self.final_dense(ops.reshape(outputs[-1],
                                                              (-1, 16 * self.width(1))))))
        outputs.append(self.score(outputs[-1]))
        return outputs

    def _stage_layers(self, level, fading):
        layers = [self.final_conv, self.final_dense, self.score]
        layers += [c for block in self.blocks[1:level + 1] for c in block]
        return layers + self.from_rgb[max(level - 1, 0) if fading else level:level + 1]

    def get_config(self) -> dict:
        return {**super().get_config(), "mbstd_group_size": self.mbstd_group_size}
