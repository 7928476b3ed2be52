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

import keras
from keras import ops

_PACKAGE = "progan_tf"


def _he_scaling(gain, fan_in, equalized):
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
    """Fully-connected layer with the equalized learning rate (run-time He scaling)."""

    def __init__(self, units, gain=math.sqrt(2.0), use_bias=True, equalized=True, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)
        self.equalized = bool(equalized)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale, initializer = _he_scaling(self.gain, fan_in, self.equalized)
        self.kernel = self.add_weight(
            name="kernel", shape=(fan_in, self.units),
            initializer=initializer, aggregation="mean")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer="zeros", aggregation="mean")

    def call(self, inputs):
        outputs = ops.matmul(inputs, self.kernel * self.scale)
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain,
                "use_bias": self.use_bias, "equalized": self.equalized}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EqualizedConv2D(keras.layers.Layer):
    """'Same'-padded 2-D convolution with the equalized learning rate."""

    def __init__(self, filters, kernel_size=3, gain=math.sqrt(2.0), use_bias=True, equalized=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)
        self.equalized = bool(equalized)

    def build(self, input_shape):
        in_channels = int(input_shape[-1])
        fan_in = self.kernel_size * self.kernel_size * in_channels
        self.scale, initializer = _he_scaling(self.gain, fan_in, self.equalized)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
            initializer=initializer, aggregation="mean")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer="zeros", aggregation="mean")

    def call(self, inputs):
        outputs = ops.conv(inputs, self.kernel * self.scale, strides=1, padding="same")
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "gain": self.gain, "use_bias": self.use_bias,
                "equalized": self.equalized}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PixelNorm(keras.layers.Layer):
    """Scales each pixel's feature vector to unit average square (ProGAN section 4.2)."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=-1, keepdims=True)
                                  + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MinibatchStdDev(keras.layers.Layer):
    """Appends one feature map: the average standard deviation over groups of images.

    Groups are of ``group_size`` images (the largest divisor of the batch size that is not
    larger, so any batch size works); ``group_size=1`` disables the statistic.
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)
        self.epsilon = float(epsilon)

    def _group(self, batch):
        # Largest divisor of `batch` not above group_size, computed with tensors so that a
        # dynamic batch size works inside tf.function.
        group = ops.convert_to_tensor(1, dtype="int32")
        for candidate in range(2, self.group_size + 1):
            divides = ops.logical_and(ops.equal(batch % candidate, 0), candidate <= batch)
            group = ops.where(divides, candidate, group)
        return group

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        group = self._group(batch)
        grouped = ops.reshape(inputs, (group, -1, height, width, channels))
        grouped = grouped - ops.mean(grouped, axis=0, keepdims=True)
        stddev = ops.sqrt(ops.mean(ops.square(grouped), axis=0) + self.epsilon)
        stddev = ops.mean(stddev, axis=(1, 2, 3), keepdims=True)  # [batch/group, 1, 1, 1]
        stddev = ops.tile(stddev, (group, height, width, 1))
        return ops.concatenate([inputs, ops.cast(stddev, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FadeIn(keras.layers.Layer):
    """Blends ``[old, new]`` as ``old + alpha * (new - old)``.

    ``alpha`` is a non-trainable weight so that the schedule can move it every step without
    retracing the training function: 0 shows only the old (upsampled) branch, 1 only the new.
    """

    def build(self, input_shape):
        self.alpha = self.add_weight(name="alpha", shape=(), initializer="zeros",
                                     trainable=False, aggregation="mean")

    def call(self, inputs):
        old, new = inputs
        return old + ops.cast(self.alpha, old.dtype) * (new - old)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ToRGB(EqualizedConv2D):
    """1x1 convolution from features to a linear RGB image (gain 1, no activation)."""

    def __init__(self, channels=3, **kwargs):
        kwargs.pop("filters", None)
        kwargs.pop("kernel_size", None)
        kwargs.setdefault("gain", 1.0)
        super().__init__(filters=channels, kernel_size=1, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["channels"] = config.pop("filters")
        config.pop("kernel_size")
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FromRGB(EqualizedConv2D):
    """1x1 convolution from an RGB image to features, followed by a leaky ReLU."""

    def __init__(self, filters, negative_slope=0.2, **kwargs):
        kwargs.pop("kernel_size", None)
        super().__init__(filters=filters, kernel_size=1, **kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return ops.leaky_relu(super().call(inputs), self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config.pop("kernel_size")
        return {**config, "negative_slope": self.negative_slope}
