"""The building blocks of a progressive GAN (Karras et al., 2018), as Keras 3 layers.

Each trick of the paper is one layer here so that a network reads like the paper:

* :class:`EqualizedDense` / :class:`EqualizedConv2D` -- *equalized learning rate*: weights are
  drawn from N(0, 1) and multiplied at run time by He's constant ``gain / sqrt(fan_in)``.  Adam
  then takes steps of the same size relative to every layer's scale, whatever its fan-in.
* :class:`PixelNorm` -- *pixelwise feature normalisation* in the generator: each pixel's feature
  vector is scaled to unit average square, which keeps G and D from escalating magnitudes.
* :class:`MinibatchStdDev` -- *minibatch standard deviation*: the discriminator sees how varied
  a group of images is, which discourages mode collapse.
* :class:`FadeIn` -- the *smooth fade-in* of a new resolution: a blend of the upsampled old
  output and the new layers' output, controlled by ``alpha`` (set by the training schedule).
* :class:`ToRGB` / :class:`FromRGB` -- the 1x1 convolutions at every resolution.

All weights use ``aggregation="mean"`` so that the exponential moving average of the generator and
the schedule's variables can be assigned from a replica context under any ``tf.distribute``
strategy (replicas hold identical values, so the mean is the value).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from progan_tf.checks import check_number, check_whole_number

__all__ = ["HE_GAIN", "EqualizedConv2D", "EqualizedDense", "FadeIn", "FromRGB", "MinibatchStdDev",
           "PixelNorm", "ToRGB"]

_PACKAGE = "progan_tf"

HE_GAIN = math.sqrt(2.0)
"""He's gain for layers followed by a (leaky) ReLU."""



def _he_scaling(gain: float, fan_in: int, equalized: bool) -> tuple[float, Any]:
    """(run-time multiplier, initializer) for He's constant ``gain / sqrt(fan_in)``.

    Equalized: N(0, 1) weights times the constant at run time.  Otherwise the usual He
    initialisation, N(0, constant^2), and no run-time multiplier.
    """
    he_std = gain / math.sqrt(fan_in)
    if equalized:
        return he_std, keras.initializers.RandomNormal(0.0, 1.0)
    return 1.0, keras.initializers.RandomNormal(0.0, he_std)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EqualizedDense(keras.layers.Layer):
    """Fully-connected layer with the equalized learning rate (run-time He scaling).

    Reference:
        Section 4.1 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_.

    Args:
        units: Output features, a whole number >= 1.
        gain: He's gain; the run-time multiplier is ``gain / sqrt(fan_in)`` (default
            ``sqrt(2)``).
        use_bias: Add a bias (default ``True``).
        equalized: Use the equalized learning rate; ``False`` gives the usual He
            initialisation instead (default ``True``).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> layer = EqualizedDense(4)
    >>> tuple(layer(keras.ops.ones((2, 3))).shape)
    (2, 4)
    """

    def __init__(self, units: int, gain: float = HE_GAIN, use_bias: bool = True,
                 equalized: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_whole_number(units, "units")
        self.gain = check_number(gain, "gain", exclusive_minimum=0)
        self.use_bias = bool(use_bias)
        self.equalized = bool(equalized)

    def build(self, input_shape: tuple) -> None:
        """Create the kernel (and bias) for ``input_shape[-1]`` input features."""
        fan_in = int(input_shape[-1])
        self.scale, initializer = _he_scaling(self.gain, fan_in, self.equalized)
        self.kernel = self.add_weight(
            name="kernel", shape=(fan_in, self.units),
            initializer=initializer, aggregation="mean")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer="zeros", aggregation="mean")

    def call(self, inputs: Any) -> Any:
        """``inputs @ (kernel * scale) + bias``."""
        outputs = ops.matmul(inputs, self.kernel * self.scale)
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape with ``units`` features."""
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "units": self.units, "gain": self.gain,
                "use_bias": self.use_bias, "equalized": self.equalized}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EqualizedConv2D(keras.layers.Layer):
    """'Same'-padded 2-D convolution (stride 1) with the equalized learning rate.

    Reference:
        Section 4.1 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_.

    Args:
        filters: Output channels, a whole number >= 1.
        kernel_size: Height and width of the square kernel (default 3).
        gain: He's gain; the run-time multiplier is ``gain / sqrt(fan_in)`` (default
            ``sqrt(2)``).
        use_bias: Add a bias (default ``True``).
        equalized: Use the equalized learning rate; ``False`` gives the usual He
            initialisation instead (default ``True``).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> layer = EqualizedConv2D(5, kernel_size=3)
    >>> tuple(layer(keras.ops.ones((1, 4, 4, 2))).shape)
    (1, 4, 4, 5)
    """

    def __init__(self, filters: int, kernel_size: int = 3, gain: float = HE_GAIN,
                 use_bias: bool = True, equalized: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = check_whole_number(filters, "filters")
        self.kernel_size = check_whole_number(kernel_size, "kernel_size")
        self.gain = check_number(gain, "gain", exclusive_minimum=0)
        self.use_bias = bool(use_bias)
        self.equalized = bool(equalized)

    def build(self, input_shape: tuple) -> None:
        """Create the kernel (and bias) for ``input_shape[-1]`` input channels."""
        in_channels = int(input_shape[-1])
        fan_in = self.kernel_size * self.kernel_size * in_channels
        self.scale, initializer = _he_scaling(self.gain, fan_in, self.equalized)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
            initializer=initializer, aggregation="mean")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer="zeros", aggregation="mean")

    def call(self, inputs: Any) -> Any:
        """The convolution with ``kernel * scale``, plus the bias."""
        outputs = ops.conv(inputs, self.kernel * self.scale, strides=1, padding="same")
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape with ``filters`` channels."""
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "gain": self.gain, "use_bias": self.use_bias,
                "equalized": self.equalized}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PixelNorm(keras.layers.Layer):
    """Scales each pixel's feature vector to unit average square.

    Reference:
        Section 4.2 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_.

    Args:
        epsilon: Added to the mean square before the square root (default ``1e-8``).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> outputs = PixelNorm()(keras.ops.full((1, 2, 2, 4), 3.0))
    >>> round(float(keras.ops.mean(outputs ** 2)), 4)
    1.0
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = check_number(epsilon, "epsilon", minimum=0)

    def call(self, inputs: Any) -> Any:
        """``inputs / sqrt(mean(inputs ** 2, channels) + epsilon)``."""
        return inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=-1, keepdims=True)
                                  + self.epsilon)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape."""
        return input_shape

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MinibatchStdDev(keras.layers.Layer):
    """Appends one feature map: the average standard deviation over groups of images.

    Groups are of ``group_size`` images (the largest divisor of the batch size that is not
    larger, so any batch size works); ``group_size`` 0 or 1 disables the statistic (it becomes
    a constant).

    Reference:
        Section 3 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_.

    Args:
        group_size: Images per group, a whole number >= 0 (default 4; 0 and 1 disable it).
        epsilon: Added to the variance before the square root (default ``1e-8``).
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> tuple(MinibatchStdDev(group_size=2)(keras.ops.ones((4, 3, 3, 5))).shape)
    (4, 3, 3, 6)
    """

    def __init__(self, group_size: int = 4, epsilon: float = 1e-8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group_size = check_whole_number(group_size, "group_size", minimum=0)
        self.epsilon = check_number(epsilon, "epsilon", minimum=0)

    def _group(self, batch: Any) -> Any:
        # Largest divisor of `batch` not above group_size, computed with tensors so that a
        # dynamic batch size works inside tf.function.
        group = ops.convert_to_tensor(1, dtype="int32")
        for candidate in range(2, self.group_size + 1):
            divides = ops.logical_and(ops.equal(batch % candidate, 0), candidate <= batch)
            group = ops.where(divides, candidate, group)
        return group

    def call(self, inputs: Any) -> Any:
        """``inputs`` with the group statistic appended as a last channel."""
        shape = ops.shape(inputs)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        group = self._group(batch)
        grouped = ops.reshape(inputs, (group, -1, height, width, channels))
        grouped = grouped - ops.mean(grouped, axis=0, keepdims=True)
        stddev = ops.sqrt(ops.mean(ops.square(grouped), axis=0) + self.epsilon)
        stddev = ops.mean(stddev, axis=(1, 2, 3), keepdims=True)  # [batch/group, 1, 1, 1]
        stddev = ops.tile(stddev, (group, height, width, 1))
        return ops.concatenate([inputs, ops.cast(stddev, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input's shape with one more channel."""
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FadeIn(keras.layers.Layer):
    """Blends ``[old, new]`` as ``old + alpha * (new - old)``.

    ``alpha`` is a non-trainable weight so that the schedule can move it every step without
    retracing the training function: 0 shows only the old (upsampled) branch, 1 only the new.

    Reference:
        Section 3 and figure 2 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_.

    Args:
        **kwargs: Base layer arguments (``name``, ``dtype``, ...).

    Example:
    >>> fade = FadeIn()
    >>> old, new = keras.ops.zeros((1, 2, 2, 3)), keras.ops.ones((1, 2, 2, 3))
    >>> fade.build([old.shape, new.shape])
    >>> _ = fade.alpha.assign(0.25)
    >>> float(fade([old, new])[0, 0, 0, 0])
    0.25
    """

    def build(self, input_shape: list) -> None:
        """Create ``alpha`` (0: only the old branch)."""
        self.alpha = self.add_weight(name="alpha", shape=(), initializer="zeros",
                                     trainable=False, aggregation="mean")

    def call(self, inputs: list) -> Any:
        """``old + alpha * (new - old)`` for ``inputs = [old, new]`` of the same shape."""
        old, new = inputs
        return old + ops.cast(self.alpha, old.dtype) * (new - old)

    def compute_output_shape(self, input_shape: list) -> tuple:
        """The shape of either input."""
        return input_shape[0]

    def get_config(self) -> dict:
        """The base layer's arguments (``alpha`` is a weight, not an argument)."""
        return super().get_config()


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ToRGB(EqualizedConv2D):
    """1x1 convolution from features to a linear RGB image (gain 1, no activation).

    Reference:
        Section 3 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_ ("toRGB").

    Args:
        channels: Output channels (default 3).
        **kwargs: :class:`EqualizedConv2D`'s other arguments (``gain`` defaults to 1).

    Example:
    >>> tuple(ToRGB()(keras.ops.ones((1, 4, 4, 8))).shape)
    (1, 4, 4, 3)
    """

    def __init__(self, channels: int = 3, **kwargs: Any) -> None:
        kwargs.pop("filters", None)
        kwargs.pop("kernel_size", None)
        kwargs.setdefault("gain", 1.0)
        channels = check_whole_number(channels, "channels")
        super().__init__(filters=channels, kernel_size=1, **kwargs)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        config = super().get_config()
        config["channels"] = config.pop("filters")
        config.pop("kernel_size")
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FromRGB(EqualizedConv2D):
    """1x1 convolution from an RGB image to features, followed by a leaky ReLU.

    Reference:
        Section 3 of Karras et al., 2018, `Progressive Growing of GANs
        <https://arxiv.org/abs/1710.10196>`_ ("fromRGB").

    Args:
        filters: Output channels, a whole number >= 1.
        negative_slope: The leaky ReLU's slope below 0 (default 0.2).
        **kwargs: :class:`EqualizedConv2D`'s other arguments.

    Example:
    >>> tuple(FromRGB(8)(keras.ops.ones((1, 4, 4, 3))).shape)
    (1, 4, 4, 8)
    """

    def __init__(self, filters: int, negative_slope: float = 0.2, **kwargs: Any) -> None:
        kwargs.pop("kernel_size", None)
        super().__init__(filters=filters, kernel_size=1, **kwargs)
        self.negative_slope = check_number(negative_slope, "negative_slope", minimum=0)

    def call(self, inputs: Any) -> Any:
        """The 1x1 convolution, then the leaky ReLU."""
        return ops.leaky_relu(super().call(inputs), self.negative_slope)

    def get_config(self) -> dict:
        """The arguments, for ``from_config`` and ``.keras`` files."""
        config = super().get_config()
        config.pop("kernel_size")
        return {**config, "negative_slope": self.negative_slope}
