"""A style-based generator (StyleGAN2's "skip" generator), readable on one screen.

Karras et al. (2019, 2020), as small as a 2-core CPU trains::

    z [N, latent_dim] --pixel norm--> num_layers x StyleDense(lr 0.01, lrelu) --> w [N, w_dim]
    w --broadcast--> ws [N, num_ws, w_dim]   (the "w+" space: one w per layer)
    const 4x4 --ModulatedConv(ws[0])+noise--> x --ToRGB(ws[1])--> rgb
    level l = 1, 2, ...:  x --ModulatedConv up 2x (ws[2l-1])+noise--ModulatedConv (ws[2l])+noise
                          rgb = upsample(rgb) + ToRGB(x, ws[2l+1])

so ``num_ws = 2 * levels`` (10 at 64x64, 18 at 1024x1024 as in the paper) and layer ``i`` works
at ``4 * 2**(i // 2)`` pixels (:mod:`progan_tf.stylegan.mixing` names ranges of them).  Level
``l``'s width is ProGAN's ``nf(l + 1) = min(fmap_base / 2**((l + 1) * fmap_decay), fmap_max)``.

The generator is not progressive (StyleGAN2 trains every resolution at once, the skip
connections carrying the coarse image), so it has no stage: images are always at
``resolution``, linear, in about [-1, 1] like ProGAN's.

Two discriminators fit: :func:`make_discriminator` reuses ProGAN's (at its last stage it is a
plain, non-growing network with the minibatch standard deviation, the equalized learning rate,
both of this project's losses and augmentations, and the ``features`` walk that
:func:`progan_tf.recover_latent`'s discriminator loss uses), and
:class:`~progan_tf.stylegan.discriminator.StyleDiscriminator` is StyleGAN2's residual one with
the same interface.  ProGAN's is the default until a measured run shows the residual one helps
at this size (StyleGAN2, section 4, found the skip generator with a residual discriminator
best at 1024 px).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.errors import OptionError
from progan_tf.gan.layers import PixelNorm
from progan_tf.gan.networks import ProgressiveDiscriminator, num_levels
from progan_tf.stylegan.layers import (
    NOISE_MODES,
    ConstantInput,
    ModulatedConv2D,
    ModulatedToRGB,
    NoiseInjection,
    StyleDense,
    leaky_relu_gain,
)

__all__ = ["MappingNetwork", "StyleGenerator", "SynthesisNetwork", "make_discriminator",
           "width"]

_PACKAGE = "progan_tf.stylegan"


def width(stage: int, fmap_base: int, fmap_max: int, fmap_decay: float = 1.0) -> int:
    """ProGAN's ``nf(stage)``: ``min(fmap_base / 2**(stage * fmap_decay), fmap_max)``, >= 1.

    Example:
    >>> [width(stage, 1024, 128) for stage in range(1, 6)]
    [128, 128, 128, 64, 32]
    """
    return max(1, min(int(fmap_base / 2.0 ** (stage * fmap_decay)), fmap_max))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MappingNetwork(keras.Model):
    """z ``[N, latent_dim]`` -> w ``[N, w_dim]``, tracking the average w for truncation.

    Reference:
        Section 2 of Karras et al., 2019, `A Style-Based Generator Architecture for GANs
        <https://arxiv.org/abs/1812.04948>`_.

    Args:
        latent_dim: Size of z (default 128).
        w_dim: Size of w (default 128).
        num_layers: Dense layers, each ``w_dim`` wide with the ``lrelu`` activation (default 4;
            the paper's 8).
        lr_multiplier: Their learning-rate multiplier (default 0.01, the paper's).
        w_avg_beta: When called with ``training=True``, ``w_avg`` moves to the batch's mean w
            as ``w_avg = mean + w_avg_beta * (w_avg - mean)`` (default 0.995, the paper's).
        normalize_latents: Pixel-normalise z first (default ``True``).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> mapping = MappingNetwork(latent_dim=8, w_dim=6, num_layers=2)
    >>> tuple(mapping(keras.ops.ones((3, 8))).shape)
    (3, 6)
    """

    def __init__(self, latent_dim: int = 128, w_dim: int = 128, num_layers: int = 4,
                 lr_multiplier: float = 0.01, w_avg_beta: float = 0.995,
                 normalize_latents: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latent_dim = check_whole_number(latent_dim, "latent_dim")
        self.w_dim = check_whole_number(w_dim, "w_dim")
        self.num_layers = check_whole_number(num_layers, "num_layers")
        self.lr_multiplier = check_number(lr_multiplier, "lr_multiplier", exclusive_minimum=0)
        self.w_avg_beta = check_number(w_avg_beta, "w_avg_beta", minimum=0, maximum=1)
        self.normalize_latents = bool(normalize_latents)
        self.pixel_norm = PixelNorm()
        self.dense_layers = [StyleDense(self.w_dim, self.lr_multiplier, activation="lrelu",
                                        name=f"dense{index}")
                             for index in range(self.num_layers)]
        self.w_avg = self.add_weight(name="w_avg", shape=(self.w_dim,), initializer="zeros",
                                     trainable=False, aggregation="mean")
        self.build((None, self.latent_dim))

    def build(self, input_shape: tuple) -> None:
        features = self.latent_dim
        self.pixel_norm.build((None, features))
        for layer in self.dense_layers:
            layer.build((None, features))
            features = layer.units
        self.built = True

    def call(self, z: Any, training: bool = False) -> Any:
        """The w ``[N, w_dim]`` of ``z``; with ``training=True`` also updates ``w_avg``."""
        x = self.pixel_norm(z) if self.normalize_latents else z
        for layer in self.dense_layers:
            x = layer(x)
        if training:
            mean = ops.cast(ops.mean(ops.stop_gradient(x), axis=0), self.w_avg.dtype)
            self.w_avg.assign(mean + self.w_avg_beta * (self.w_avg - mean))
        return x

    def get_config(self) -> dict:
        return {"name": self.name, "latent_dim": self.latent_dim, "w_dim": self.w_dim,
                "num_layers": self.num_layers, "lr_multiplier": self.lr_multiplier,
                "w_avg_beta": self.w_avg_beta, "normalize_latents": self.normalize_latents}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SynthesisNetwork(keras.Model):
    """ws ``[N, num_ws, w_dim]`` -> image ``[N, resolution, resolution, channels]``.

    Reference:
        Figure 7 ("skip" generator) of Karras et al., 2020, `Analyzing and Improving the Image
        Quality of StyleGAN <https://arxiv.org/abs/1912.04958>`_.

    Args:
        resolution: Output size, a power of two from 4 to 1024 (default 64).
        w_dim: Size of each w (default 128).
        fmap_base: Widths' base (default 1024: 128 wide at 4-16 px, 64 at 32, 32 at 64).
        fmap_max: Widest layer (default 128; the paper's 512).
        fmap_decay: Width decay per level (default 1.0).
        channels: Image channels (default 3).
        noise_mode: The :class:`~progan_tf.stylegan.layers.NoiseInjection` mode of every layer
            (default ``"random"``); ``call(ws, noise_mode=...)`` overrides it.
        seed: Seeds the noise layers (layer ``i`` gets ``seed + i``; default ``None``).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> synthesis = SynthesisNetwork(resolution=8, w_dim=4, fmap_base=16, fmap_max=8)
    >>> synthesis.num_ws
    4
    >>> tuple(synthesis(keras.ops.ones((2, 4, 4))).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, resolution: int = 64, w_dim: int = 128, fmap_base: int = 1024,
                 fmap_max: int = 128, fmap_decay: float = 1.0, channels: int = 3,
                 noise_mode: str = "random", seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.levels = num_levels(resolution)
        except (TypeError, ValueError):
            raise OptionError(f"resolution must be a power of two from 4 to 1024. "
                              f"Received: resolution={resolution!r}") from None
        self.resolution = int(resolution)
        self.w_dim = check_whole_number(w_dim, "w_dim")
        self.fmap_base = check_whole_number(fmap_base, "fmap_base")
        self.fmap_max = check_whole_number(fmap_max, "fmap_max")
        self.fmap_decay = check_number(fmap_decay, "fmap_decay", minimum=0)
        self.channels = check_whole_number(channels, "channels")
        self.noise_mode = check_choice(noise_mode, "noise_mode", NOISE_MODES)
        self.seed = None if seed is None else check_whole_number(seed, "seed", minimum=0)
        self.num_ws = 2 * self.levels
        widths = [self.width(level) for level in range(self.levels)]
        self.const = ConstantInput(widths[0], name="const")
        self.convs, self.noises = [], []
        for level in range(self.levels):
            for index in range(1 if level == 0 else 2):
                self.convs.append(ModulatedConv2D(widths[level], upsample=index == 0 < level,
                                                  name=f"b{4 * 2 ** level}_conv{index}"))
                self.noises.append(NoiseInjection(
                    self.noise_mode, None if self.seed is None else self.seed + len(self.noises),
                    name=f"b{4 * 2 ** level}_noise{index}"))
        self.to_rgb = [ModulatedToRGB(self.channels, name=f"b{4 * 2 ** level}_torgb")
                       for level in range(self.levels)]
        self.build((None, self.num_ws, self.w_dim))

    def width(self, level: int) -> int:
        """Feature maps of level ``level`` (``4 * 2**level`` pixels): ``nf(level + 1)``."""
        return width(level + 1, self.fmap_base, self.fmap_max, self.fmap_decay)

    def conv_ws(self) -> list[int]:
        """The index in ``ws`` of each modulated convolution, in order (0, 1, 2, 3, 4, ...)."""
        return list(range(self.num_ws - 1))

    def to_rgb_ws(self) -> list[int]:
        """The index in ``ws`` of each level's ToRGB: 1, 3, 5, ... (shared with the next conv)."""
        return [2 * level + 1 for level in range(self.levels)]

    def build(self, input_shape: tuple) -> None:
        w_shape = (None, self.w_dim)
        self.const.build(w_shape)
        size, features = 4, self.width(0)
        for conv, noise in zip(self.convs, self.noises):
            conv.build([(None, size, size, features), w_shape])
            size, features = (size * 2 if conv.upsample else size), conv.filters
            noise.build((None, size, size, features))
            if not conv.upsample:  # the last conv of a level feeds its ToRGB
                self.to_rgb[num_levels(size) - 1].build([(None, size, size, features), w_shape])
        self.built = True

    def call(self, ws: Any, noise_mode: str | None = None) -> Any:
        """The image of ``ws`` ``[N, num_ws, w_dim]``, with the noise of ``noise_mode``."""
        x, rgb = self.const(ws), None
        rgb_ws = iter(zip(self.to_rgb, self.to_rgb_ws()))
        for conv, noise, index in zip(self.convs, self.noises, self.conv_ws()):
            x = leaky_relu_gain(noise(conv([x, ws[:, index]]), noise_mode=noise_mode))
            if conv.upsample:  # the first conv of a level; its ToRGB follows the second
                continue
            to_rgb, rgb_index = next(rgb_ws)
            image = to_rgb([x, ws[:, rgb_index]])
            if rgb is not None:
                shape = ops.shape(rgb)
                rgb = ops.image.resize(rgb, (shape[1] * 2, shape[2] * 2),
                                       interpolation="bilinear")
                image = image + rgb
            rgb = image
        return rgb

    def get_config(self) -> dict:
        return {"name": self.name, "resolution": self.resolution, "w_dim": self.w_dim,
                "fmap_base": self.fmap_base, "fmap_max": self.fmap_max,
                "fmap_decay": self.fmap_decay, "channels": self.channels,
                "noise_mode": self.noise_mode, "seed": self.seed}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StyleGenerator(keras.Model):
    """z ``[N, latent_dim]`` -> image ``[N, r, r, 3]``: a mapping network and a synthesis network.

    ``generator(z)`` has ProGAN's generator interface (``latent_dim``, z in, image in about
    [-1, 1] out), so training and export code written for it applies; :meth:`mapping` and
    :meth:`synthesis` expose the two halves for the w+ space (style mixing, projection).

    Reference:
        Karras et al., 2019, `A Style-Based Generator Architecture for GANs
        <https://arxiv.org/abs/1812.04948>`_ (mapping, styles, noise, mixing, truncation);
        Karras et al., 2020, `Analyzing and Improving the Image Quality of StyleGAN
        <https://arxiv.org/abs/1912.04958>`_ (demodulation, the skip generator).

    Args:
        latent_dim: Size of z (default 128).
        w_dim: Size of w (default 128).
        resolution: Output size, a power of two from 4 to 1024 (default 64).
        mapping_layers: Layers of the mapping network (default 4).
        mapping_lr_multiplier: Their learning-rate multiplier (default 0.01).
        w_avg_beta: Smoothing of the tracked average w (default 0.995).
        fmap_base: Synthesis widths' base (default 1024).
        fmap_max: Widest synthesis layer (default 128).
        fmap_decay: Width decay per level (default 1.0).
        noise_mode: Default noise of the synthesis (default ``"random"``).
        seed: Seeds the noise layers (default ``None``).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=8, fmap_base=16,
    ...                            fmap_max=8, mapping_layers=2)
    >>> generator.num_ws
    4
    >>> tuple(generator(keras.ops.ones((2, 8)), truncation_psi=0.7).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, latent_dim: int = 128, w_dim: int = 128, resolution: int = 64,
                 mapping_layers: int = 4, mapping_lr_multiplier: float = 0.01,
                 w_avg_beta: float = 0.995, fmap_base: int = 1024, fmap_max: int = 128,
                 fmap_decay: float = 1.0, noise_mode: str = "random", seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mapping_network = MappingNetwork(
            latent_dim, w_dim, mapping_layers, mapping_lr_multiplier, w_avg_beta,
            name="mapping")
        self.synthesis_network = SynthesisNetwork(
            resolution, w_dim, fmap_base, fmap_max, fmap_decay, noise_mode=noise_mode,
            seed=seed, name="synthesis")
        self.mixing_seed = keras.random.SeedGenerator(seed)  # mixing_ws's default draws
        self.built = True  # both networks build their weights up front

    @property
    def latent_dim(self) -> int:
        """Size of z."""
        return self.mapping_network.latent_dim

    @property
    def w_dim(self) -> int:
        """Size of w."""
        return self.mapping_network.w_dim

    @property
    def num_ws(self) -> int:
        """How many ws the synthesis takes: one per modulated layer (``2 * levels``)."""
        return self.synthesis_network.num_ws

    @property
    def resolution(self) -> int:
        """Height and width of the images."""
        return self.synthesis_network.resolution

    @property
    def w_avg(self) -> Any:
        """The average w ``[w_dim]`` tracked in training: the centre of the truncation trick."""
        return self.mapping_network.w_avg

    def check_options(self, truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
                      noise_mode: str | None = None) -> float:
        """Checks the call options (before Keras wraps an error in a call's context).

        Returns:
            ``truncation_psi`` as a float.

        Raises:
            OptionError: A psi that is not a finite number, a cutoff outside ``[0, num_ws]``, or
                an unknown noise mode.
        """
        psi = check_number(truncation_psi, "truncation_psi")
        if truncation_cutoff is not None:
            check_whole_number(truncation_cutoff, "truncation_cutoff", minimum=0,
                               maximum=self.num_ws)
        if noise_mode is not None:
            check_choice(noise_mode, "noise_mode", NOISE_MODES)
        return psi

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Checks the keyword options first (:meth:`check_options`), then calls the model."""
        self.check_options(kwargs.get("truncation_psi", 1.0), kwargs.get("truncation_cutoff"),
                           kwargs.get("noise_mode"))
        return super().__call__(*args, **kwargs)

    def truncate(self, ws: Any, truncation_psi: float = 1.0,
                 truncation_cutoff: int | None = None) -> Any:
        """The truncation trick: ``w_avg + psi * (ws - w_avg)`` on layers below the cutoff.

        Args:
            ws: ``[N, num_ws, w_dim]``.
            truncation_psi: 1 leaves ``ws`` as they are, 0 gives ``w_avg`` (the "average face").
            truncation_cutoff: Truncate only layers ``0 .. cutoff - 1`` (default ``None``: all).

        Returns:
            The truncated ``ws``.
        """
        psi = self.check_options(truncation_psi, truncation_cutoff)
        if psi == 1.0:
            return ws
        w_avg = ops.cast(self.w_avg, ws.dtype)
        truncated = w_avg + psi * (ws - w_avg)
        if truncation_cutoff is None:
            return truncated
        layer = ops.arange(self.num_ws)[None, :, None]
        return ops.where(layer < truncation_cutoff, truncated, ws)

    def mapping(self, z: Any, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, training: bool = False) -> Any:
        """The ws ``[N, num_ws, w_dim]`` of z ``[N, latent_dim]``: w repeated, then truncated."""
        w = self.mapping_network(z, training=training)
        ws = ops.repeat(w[:, None, :], self.num_ws, axis=1)
        return self.truncate(ws, truncation_psi, truncation_cutoff)

    def synthesis(self, ws: Any, noise_mode: str | None = None, training: bool = False) -> Any:
        """The images of ws ``[N, num_ws, w_dim]`` (w+: a different w per layer allowed)."""
        self.check_options(noise_mode=noise_mode)
        return self.synthesis_network(ws, noise_mode=noise_mode, training=training)

    def call(self, z: Any, truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
             noise_mode: str | None = None, training: bool = False) -> Any:
        """``synthesis(mapping(z, truncation_psi, truncation_cutoff))``."""
        ws = self.mapping(z, truncation_psi, truncation_cutoff, training=training)
        return self.synthesis(ws, noise_mode=noise_mode, training=training)

    def mix_ws(self, w1: Any, w2: Any, crossover: Any) -> Any:
        """The ws with the layers below ``crossover`` from ``w1`` and the rest from ``w2``.

        Args:
            w1: ``[N, w_dim]`` or ``[N, num_ws, w_dim]``.
            w2: The same.
            crossover: A layer index in ``[0, num_ws]`` or one per sample (``[N]``): 0 takes
                everything from ``w2``, ``num_ws`` everything from ``w1``.

        Returns:
            ``[N, num_ws, w_dim]``.
        """
        w1, w2 = (w if len(w.shape) == 3 else ops.repeat(w[:, None, :], self.num_ws, axis=1)
                  for w in (ops.convert_to_tensor(w1), ops.convert_to_tensor(w2)))
        if isinstance(crossover, int):
            check_whole_number(crossover, "crossover", minimum=0, maximum=self.num_ws)
        crossover = ops.reshape(ops.convert_to_tensor(crossover, "int32"), (-1, 1, 1))
        layer = ops.arange(self.num_ws, dtype="int32")[None, :, None]
        return ops.where(layer < crossover, w1, w2)

    def mixing_ws(self, z1: Any, z2: Any, probability: float = 0.9, seed: Any = None,
                  training: bool = False) -> Any:
        """Style-mixing regularisation: ws of ``z1``, switched to ``z2``'s at a random layer.

        Each sample is mixed with ``probability`` at a crossover drawn uniformly from
        ``1 .. num_ws - 1``; the others keep ``z1``'s w on every layer.

        Args:
            z1: ``[N, latent_dim]``.
            z2: ``[N, latent_dim]``.
            probability: Share of mixed samples (default 0.9, the paper's).
            seed: A ``keras.random.SeedGenerator`` or an int (default ``None``: the
                generator's own ``mixing_seed``, which works inside ``tf.function``).
            training: Passed to the mapping network (``True`` updates ``w_avg``).

        Returns:
            ``[N, num_ws, w_dim]``.
        """
        probability = check_number(probability, "probability", minimum=0, maximum=1)
        w1 = self.mapping_network(z1, training=training)
        w2 = self.mapping_network(z2, training=training)
        batch = ops.shape(w1)[0]
        draws = keras.random.uniform((2, batch), seed=self.mixing_seed if seed is None else seed)
        crossover = ops.cast(1 + ops.floor(draws[0] * (self.num_ws - 1)), "int32")
        crossover = ops.where(draws[1] < probability, crossover, self.num_ws)
        return self.mix_ws(w1, w2, crossover)

    def get_config(self) -> dict:
        mapping, synthesis = self.mapping_network, self.synthesis_network
        return {"name": self.name, "latent_dim": mapping.latent_dim, "w_dim": mapping.w_dim,
                "resolution": synthesis.resolution, "mapping_layers": mapping.num_layers,
                "mapping_lr_multiplier": mapping.lr_multiplier,
                "w_avg_beta": mapping.w_avg_beta, "fmap_base": synthesis.fmap_base,
                "fmap_max": synthesis.fmap_max, "fmap_decay": synthesis.fmap_decay,
                "noise_mode": synthesis.noise_mode, "seed": synthesis.seed}


def make_discriminator(resolution: int = 64, fmap_base: int = 1024, fmap_max: int = 128,
                       fmap_decay: float = 1.0, mbstd_group_size: int = 4,
                       **kwargs: Any) -> ProgressiveDiscriminator:
    """ProGAN's discriminator at its last stage: image ``[N, r, r, 3]`` -> score ``[N, 1]``.

    See the module for why it is reused.  Its widths mirror the generator's (level ``l`` is
    ``nf(l + 1)`` wide).

    Example:
    >>> critic = make_discriminator(resolution=8, fmap_base=16, fmap_max=8)
    >>> tuple(critic(keras.ops.zeros((2, 8, 8, 3))).shape)
    (2, 1)
    """
    return ProgressiveDiscriminator(
        resolution=resolution, fmap_base=fmap_base, fmap_max=fmap_max, fmap_decay=fmap_decay,
        mbstd_group_size=mbstd_group_size, stage_resolution=resolution, **kwargs)
