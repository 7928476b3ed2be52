"""The building blocks of a style-based generator (Karras et al., 2019/2020), as Keras 3 layers.

One trick of the papers per layer, so that :mod:`progan_tf.stylegan.networks` reads like them:

* :class:`StyleDense` -- an equalized-learning-rate dense layer with a *learning-rate
  multiplier* (the mapping network's 0.01) and a bias initial value (an affine style's 1).
* :class:`ModulatedConv2D` -- *weight modulation and demodulation*: each sample's style scales
  the kernel's input channels; demodulation rescales each output channel so that unit-variance
  inputs give unit-variance outputs (StyleGAN2's replacement for AdaIN, without its droplets).
* :class:`ModulatedToRGB` -- the 1x1 modulated convolution to RGB, without demodulation.
* :class:`NoiseInjection` -- per-pixel noise with a learned per-channel strength.
* :class:`ConstantInput` -- the learned 4x4 constant the synthesis starts from.

Modulation is computed as StyleGAN2's ``fused_modconv=False`` path: the input is scaled by the
style, convolved with the shared kernel, and scaled by the demodulation coefficients.  That is
the same function as convolving with a per-sample kernel, but it needs no grouped convolution
(which TensorFlow does not run on CPUs).

Weights use ``aggregation="mean"`` as in :mod:`progan_tf.gan.layers`, so an exponential moving
average can be assigned from a replica context under any ``tf.distribute`` strategy.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_choice, check_number, check_whole_number

__all__ = ["ACTIVATIONS", "NOISE_MODES", "ConstantInput", "ModulatedConv2D", "ModulatedToRGB",
           "NoiseInjection", "StyleDense", "leaky_relu_gain"]

_PACKAGE = "progan_tf.stylegan"

ACTIVATIONS = ("linear", "lrelu")
"""The activations of :class:`StyleDense`: none, or a leaky ReLU (slope 0.2) times sqrt(2)."""

NOISE_MODES = ("random", "const", "none")
"""Noise of :class:`NoiseInjection`: fresh per call, a stored fixed map, or none at all."""

_NEGATIVE_SLOPE = 0.2
_LRELU_GAIN = math.sqrt(2.0)


def leaky_relu_gain(x: Any) -> Any:
    """StyleGAN2's ``lrelu`` activation: a leaky ReLU (slope 0.2) times ``sqrt(2)``.

    The gain keeps a unit-variance input's output near unit second moment, which is what the
    equalized learning rate's initialisation assumes.

    Example:
    >>> [round(float(v), 4) for v in leaky_relu_gain(keras.ops.array([-1.0, 1.0]))]
    [-0.2828, 1.4142]
    """
    return ops.leaky_relu(x, _NEGATIVE_SLOPE) * _LRELU_GAIN


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StyleDense(keras.layers.Layer):
    """Dense layer with the equalized learning rate and a learning-rate multiplier.

    Weights are stored as ``N(0, 1 / lr_multiplier)`` and multiplied at run time by
    ``lr_multiplier / sqrt(fan_in)`` (the bias by ``lr_multiplier``): Adam's steps on the stored
    weights then move the effective weights ``lr_multiplier`` times as far.  The mapping network
    uses 0.01, which keeps w from drifting fast early in training.

    Reference:
        Appendix C of Karras et al., 2019, `A Style-Based Generator Architecture for GANs
        <https://arxiv.org/abs/1812.04948>`_; ``FullyConnectedLayer`` of StyleGAN2
        (Karras et al., 2020, `Analyzing and Improving the Image Quality of StyleGAN
        <https://arxiv.org/abs/1912.04958>`_).

    Args:
        units: Output features, a whole number >= 1.
        lr_multiplier: The learning-rate multiplier, > 0 (default 1).
        bias_init: The effective bias's initial value (default 0; an affine style uses 1, so
            that styles start near 1 and modulation starts near the identity).
        activation: ``"linear"`` (default) or ``"lrelu"`` (:func:`leaky_relu_gain`).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> layer = StyleDense(4, bias_init=1.0)
    >>> outputs = layer(keras.ops.zeros((2, 3)))
    >>> tuple(outputs.shape), float(outputs[0, 0])
    ((2, 4), 1.0)
    """

    def __init__(self, units: int, lr_multiplier: float = 1.0, bias_init: float = 0.0,
                 activation: str = "linear", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_whole_number(units, "units")
        self.lr_multiplier = check_number(lr_multiplier, "lr_multiplier", exclusive_minimum=0)
        self.bias_init = check_number(bias_init, "bias_init")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)

    def build(self, input_shape: tuple) -> None:
        """Create the kernel and bias for ``input_shape[-1]`` input features."""
        fan_in = int(input_shape[-1])
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel", shape=(fan_in, self.units), aggregation="mean",
            initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        self.bias = self.add_weight(
            name="bias", shape=(self.units,), aggregation="mean",
            initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier))

    def call(self, inputs: Any) -> Any:
        """``activation(inputs @ kernel * weight_gain + bias * lr_multiplier)``."""
        outputs = ops.matmul(inputs, self.kernel * self.weight_gain)
        outputs = outputs + self.bias * self.lr_multiplier
        return leaky_relu_gain(outputs) if self.activation == "lrelu" else outputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape with ``units`` features."""
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "units": self.units,
                "lr_multiplier": self.lr_multiplier, "bias_init": self.bias_init,
                "activation": self.activation}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ModulatedConv2D(keras.layers.Layer):
    """'Same'-padded convolution whose kernel is modulated by each sample's style.

    Called on ``[x, w]``: ``x`` is ``[N, H, W, C_in]``, ``w`` is ``[N, w_dim]``.  The layer's own
    affine :class:`StyleDense` (bias 1) turns ``w`` into a style ``s`` of ``C_in`` scales; the
    effective kernel of sample ``n`` is ``k[..., i, o] * s[n, i]``, and with ``demodulate`` each
    output channel is divided by ``sqrt(sum_(kh, kw, i) (k * s)^2 + epsilon)``.  With
    ``upsample`` the input is first upsampled 2x bilinearly and then convolved (bilinear 2x is
    StyleGAN2's zero insertion filtered by ``[1, 3, 3, 1]``, except that the borders repeat the
    edge pixel instead of padding with zeros).

    Reference:
        Section 2.2 and equations 1-3 of Karras et al., 2020, `Analyzing and Improving the
        Image Quality of StyleGAN <https://arxiv.org/abs/1912.04958>`_.

    Args:
        filters: Output channels, a whole number >= 1.
        kernel_size: Height and width of the square kernel (default 3).
        demodulate: Divide each output channel by its expected scale (default ``True``).
        upsample: Upsample the input 2x before the convolution (default ``False``).
        use_bias: Add a bias after the convolution (default ``True``; adding it before or after
            the noise of :class:`NoiseInjection` is the same).
        epsilon: Added before the demodulation's square root (default ``1e-8``).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> layer = ModulatedConv2D(5, upsample=True)
    >>> x, w = keras.ops.ones((2, 4, 4, 3)), keras.ops.ones((2, 8))
    >>> tuple(layer([x, w]).shape)
    (2, 8, 8, 5)
    """

    def __init__(self, filters: int, kernel_size: int = 3, demodulate: bool = True,
                 upsample: bool = False, use_bias: bool = True, epsilon: float = 1e-8,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = check_whole_number(filters, "filters")
        self.kernel_size = check_whole_number(kernel_size, "kernel_size")
        self.demodulate, self.upsample = bool(demodulate), bool(upsample)
        self.use_bias = bool(use_bias)
        self.epsilon = check_number(epsilon, "epsilon", minimum=0)

    def build(self, input_shape: list) -> None:
        """Create the kernel, the bias and the affine style layer for ``[x, w]``'s shapes."""
        x_shape, w_shape = input_shape
        in_channels = int(x_shape[-1])
        self.weight_gain = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * in_channels)
        self.affine = StyleDense(in_channels, bias_init=1.0, name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(
            name="kernel", aggregation="mean",
            shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer="zeros", aggregation="mean")

    def styles(self, w: Any) -> Any:
        """The per-sample input-channel scales ``[N, C_in]`` of ``w`` ``[N, w_dim]``."""
        return self.affine(w)

    def call(self, inputs: list) -> Any:
        """The modulated (and demodulated) convolution of ``x`` by the style of ``w``."""
        x, w = inputs
        styles = self.styles(w)
        kernel = self.kernel * self.weight_gain
        if self.upsample:
            shape = ops.shape(x)
            x = ops.image.resize(x, (shape[1] * 2, shape[2] * 2), interpolation="bilinear")
        x = x * styles[:, None, None, :]
        x = ops.conv(x, kernel, strides=1, padding="same")
        if self.demodulate:
            # sum over (kh, kw, i) of (k * s)^2 = s^2 @ sum_(kh, kw) k^2: [N, C_out]
            variance = ops.matmul(ops.square(styles), ops.sum(ops.square(kernel), axis=(0, 1)))
            x = x * ops.rsqrt(variance + self.epsilon)[:, None, None, :]
        if self.use_bias:
            x = x + self.bias
        return x

    def compute_output_shape(self, input_shape: list) -> tuple:
        """``x``'s shape with ``filters`` channels (twice the size with ``upsample``)."""
        batch, height, width, _ = input_shape[0]
        if self.upsample:
            height = None if height is None else 2 * height
            width = None if width is None else 2 * width
        return (batch, height, width, self.filters)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "demodulate": self.demodulate,
                "upsample": self.upsample, "use_bias": self.use_bias, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ModulatedToRGB(ModulatedConv2D):
    """1x1 modulated convolution to a linear RGB image: no demodulation, no activation.

    Reference:
        ``ToRGBLayer`` of Karras et al., 2020, `Analyzing and Improving the Image Quality of
        StyleGAN <https://arxiv.org/abs/1912.04958>`_ (figure 7, the "skip" generator).

    Args:
        channels: Output channels (default 3).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> rgb = ModulatedToRGB()([keras.ops.ones((1, 4, 4, 8)), keras.ops.ones((1, 6))])
    >>> tuple(rgb.shape)
    (1, 4, 4, 3)
    """

    def __init__(self, channels: int = 3, **kwargs: Any) -> None:
        for fixed in ("filters", "kernel_size", "demodulate", "upsample", "use_bias"):
            kwargs.pop(fixed, None)
        channels = check_whole_number(channels, "channels")
        super().__init__(filters=channels, kernel_size=1, demodulate=False, upsample=False,
                         use_bias=True, **kwargs)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        config = super().get_config()
        config["channels"] = config.pop("filters")
        for fixed in ("kernel_size", "demodulate", "upsample", "use_bias"):
            config.pop(fixed)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NoiseInjection(keras.layers.Layer):
    """Adds per-pixel Gaussian noise, scaled by a learned strength per channel.

    One noise map ``[N, H, W, 1]`` is shared by the channels; channel ``c`` receives it times
    ``strength[c]`` (zeros at first, so training decides how much noise each channel takes).
    ``noise_mode``: ``"random"`` draws fresh noise every call; ``"const"`` adds a fixed map,
    stored as a (non-trainable) weight so that a saved model gives the same images; ``"none"``
    adds nothing.  ``call(x, noise_mode=...)`` overrides the layer's mode for one call.

    Reference:
        Section 3.2 of Karras et al., 2019, `A Style-Based Generator Architecture for GANs
        <https://arxiv.org/abs/1812.04948>`_.

    Args:
        noise_mode: ``"random"`` (default), ``"const"`` or ``"none"``.
        seed: Seeds the random noise and the constant map (default ``None``: unseeded).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> layer = NoiseInjection(noise_mode="none")
    >>> float(keras.ops.max(layer(keras.ops.zeros((1, 4, 4, 2)))))
    0.0
    """

    def __init__(self, noise_mode: str = "random", seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.noise_mode = check_choice(noise_mode, "noise_mode", NOISE_MODES)
        self.seed = None if seed is None else check_whole_number(seed, "seed", minimum=0)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape: tuple) -> None:
        """Create the per-channel strength and the constant noise map for ``input_shape``."""
        height, width, channels = (int(size) for size in input_shape[1:])
        self.strength = self.add_weight(name="strength", shape=(channels,),
                                        initializer="zeros", aggregation="mean")
        self.const_noise = self.add_weight(
            name="const_noise", shape=(1, height, width, 1), trainable=False,
            aggregation="mean",
            initializer=keras.initializers.RandomNormal(0.0, 1.0, seed=self.seed))

    def call(self, inputs: Any, noise_mode: str | None = None) -> Any:
        """``inputs + noise * strength`` with the noise of ``noise_mode`` (default the layer's)."""
        mode = self.noise_mode if noise_mode is None else check_choice(
            noise_mode, "noise_mode", NOISE_MODES)
        if mode == "none":
            return inputs
        if mode == "const":
            noise = ops.cast(self.const_noise, inputs.dtype)
        else:
            shape = ops.shape(inputs)
            noise = keras.random.normal((shape[0], shape[1], shape[2], 1),
                                        dtype=inputs.dtype, seed=self.seed_generator)
        return inputs + noise * ops.cast(self.strength, inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape."""
        return input_shape

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "noise_mode": self.noise_mode, "seed": self.seed}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConstantInput(keras.layers.Layer):
    """The learned constant the synthesis starts from, repeated for each sample of a batch.

    Called on any tensor whose first axis is the batch (the generator passes its ``ws``).

    Reference:
        Section 2 and table 1 (row D) of Karras et al., 2019, `A Style-Based Generator
        Architecture for GANs <https://arxiv.org/abs/1812.04948>`_.

    Args:
        channels: Feature maps of the constant, a whole number >= 1.
        size: Its height and width (default 4).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> tuple(ConstantInput(8)(keras.ops.ones((3, 5))).shape)
    (3, 4, 4, 8)
    """

    def __init__(self, channels: int, size: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = check_whole_number(channels, "channels")
        self.size = check_whole_number(size, "size")

    def build(self, input_shape: tuple) -> None:
        """Create the constant, drawn from N(0, 1)."""
        self.constant = self.add_weight(
            name="constant", shape=(self.size, self.size, self.channels), aggregation="mean",
            initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def call(self, inputs: Any) -> Any:
        """The constant ``[N, size, size, channels]`` for the batch of ``inputs``."""
        batch = ops.shape(inputs)[0]
        constant = ops.cast(self.constant, self.compute_dtype)
        return ops.broadcast_to(constant[None], (batch, self.size, self.size, self.channels))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(batch, size, size, channels)``."""
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "channels": self.channels, "size": self.size}
