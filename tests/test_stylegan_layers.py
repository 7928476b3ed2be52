"""Layers of the style-based generator (progan_tf.stylegan.layers)."""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_gan_layers import run_layer_test

from progan_tf.errors import OptionError
from progan_tf.stylegan import layers as S

LAYER_CASES = {
    "StyleDense": (S.StyleDense, {"units": 7, "bias_init": 1.0}, (2, 5), (2, 7), 2),
    "StyleDense(mapping)": (S.StyleDense, {"units": 3, "lr_multiplier": 0.01,
                                           "activation": "lrelu"}, (2, 5), (2, 3), 2),
    "ModulatedConv2D": (S.ModulatedConv2D, {"filters": 5, "kernel_size": 3},
                        [(2, 4, 4, 3), (2, 6)], (2, 4, 4, 5), 4),
    "ModulatedConv2D(up)": (S.ModulatedConv2D, {"filters": 4, "upsample": True,
                                                "demodulate": False, "use_bias": False},
                            [(2, 4, 4, 3), (2, 6)], (2, 8, 8, 4), 3),
    "ModulatedToRGB": (S.ModulatedToRGB, {"channels": 3}, [(2, 4, 4, 8), (2, 6)],
                       (2, 4, 4, 3), 4),
    "ConstantInput": (S.ConstantInput, {"channels": 6, "size": 4}, (2, 5), (2, 4, 4, 6), 1),
}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_contract(case, tmp_path):
    layer_cls, kwargs, input_shape, output_shape, trainable = LAYER_CASES[case]
    run_layer_test(layer_cls, kwargs, input_shape, output_shape, trainable, tmp_path=tmp_path)


def test_noise_injection_contract(tmp_path):
    run_layer_test(S.NoiseInjection, {"noise_mode": "const", "seed": 3}, (2, 4, 4, 5),
                   (2, 4, 4, 5), 1, expected_num_non_trainable_weights=1, tmp_path=tmp_path)


def test_style_dense_applies_learning_rate_multiplier_at_run_time():
    layer = S.StyleDense(300, lr_multiplier=0.01, bias_init=0.5)
    x = np.random.default_rng(0).standard_normal((3, 200)).astype("float32")
    y = layer(x).numpy()
    # Stored weights are N(0, 1/lr) (so Adam's steps are lr times smaller on the output) ...
    assert abs(np.std(layer.kernel.numpy()) * 0.01 - 1.0) < 0.02
    np.testing.assert_allclose(layer.bias.numpy() * 0.01, 0.5, rtol=1e-5)
    # ... and the effective layer is He-scaled with gain 1, the bias as given.
    expected = x @ layer.kernel.numpy() * 0.01 / math.sqrt(200) + 0.5
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def _reference_modulated_conv(layer, x, w, demodulate):
    """StyleGAN2's equations 1-3: one modulated kernel per sample, convolved on its own."""
    styles = layer.affine(w).numpy()
    kernel = layer.kernel.numpy() * layer.weight_gain
    outputs = []
    for n in range(len(x)):
        k = kernel * styles[n][None, None, :, None]
        if demodulate:
            k = k / np.sqrt(np.sum(k ** 2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        outputs.append(tf.nn.conv2d(x[n:n + 1], k, 1, "SAME").numpy()[0])
    return np.stack(outputs) + layer.bias.numpy()


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_matches_per_sample_modulated_kernels(demodulate):
    rng = np.random.default_rng(1)
    layer = S.ModulatedConv2D(6, demodulate=demodulate)
    x = rng.standard_normal((3, 5, 5, 4)).astype("float32")
    w = rng.standard_normal((3, 8)).astype("float32")
    y = layer([x, w]).numpy()
    layer.bias.assign(rng.standard_normal(6).astype("float32"))
    y = layer([x, w]).numpy()
    np.testing.assert_allclose(y, _reference_modulated_conv(layer, x, w, demodulate),
                               rtol=1e-4, atol=1e-4)


def test_demodulation_gives_unit_variance_outputs_whatever_the_style_scale():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 16, 16, 64)).astype("float32")
    w = np.zeros((4, 32), "float32")  # styles = the affine's bias
    demodulated = S.ModulatedConv2D(64, use_bias=False)
    plain = S.ModulatedConv2D(64, use_bias=False, demodulate=False)
    for layer in (demodulated, plain):
        layer.build([x.shape, w.shape])
    plain.kernel.assign(demodulated.kernel)
    for scale in (0.1, 1.0, 10.0):
        for layer in (demodulated, plain):
            layer.affine.bias.assign(np.full(64, scale, dtype="float32"))
        std = np.std(demodulated([x, w]).numpy())
        assert 0.9 < std < 1.1, (scale, std)
        # Without demodulation the output scales with the style (He's gain 1: about 1:1).
        assert abs(np.std(plain([x, w]).numpy()) - scale) < 0.15 * scale


def test_upsampling_keeps_a_flat_input_flat_and_doubles_the_size():
    layer = S.ModulatedConv2D(2, kernel_size=1, upsample=True, use_bias=False)
    y = layer([np.ones((1, 3, 3, 2), "float32"), np.ones((1, 4), "float32")]).numpy()
    assert y.shape == (1, 6, 6, 2)
    np.testing.assert_allclose(y, np.broadcast_to(y[:, :1, :1], y.shape), rtol=1e-5)


def test_to_rgb_is_modulated_without_demodulation():
    layer = S.ModulatedToRGB(3)
    x, w = np.ones((1, 2, 2, 4), "float32"), np.zeros((1, 5), "float32")
    single = layer([x, w]).numpy()  # w = 0: styles are the affine's bias, 1
    layer.affine.bias.assign(np.full(4, 2.0, "float32"))  # styles 2: twice the output
    np.testing.assert_allclose(layer([x, w]).numpy(), 2 * single, rtol=1e-5)
    assert not layer.demodulate and layer.kernel.shape == (1, 1, 4, 3)


def test_noise_modes():
    x = np.zeros((2, 4, 4, 3), "float32")
    layer = S.NoiseInjection("const", seed=0)
    layer.build(x.shape)
    layer.strength.assign([1.0, 2.0, 0.0])
    const = layer(x).numpy()
    np.testing.assert_array_equal(const, layer(x).numpy())  # the same every call ...
    np.testing.assert_array_equal(const[0], const[1])  # ... and for every sample
    assert np.std(const[..., 0]) > 0.3
    np.testing.assert_allclose(const[..., 1], 2 * const[..., 0])  # one map, per-channel strength
    np.testing.assert_array_equal(const[..., 2], 0.0)
    first, second = layer(x, noise_mode="random").numpy(), layer(x, noise_mode="random").numpy()
    assert not np.allclose(first, second) and not np.allclose(first[0], first[1])
    np.testing.assert_array_equal(layer(x + 1.5, noise_mode="none").numpy(), x + 1.5)


def test_constant_input_is_the_same_for_every_sample():
    layer = S.ConstantInput(5)
    y = layer(np.zeros((3, 7), "float32")).numpy()
    np.testing.assert_array_equal(y[0], y[2])
    np.testing.assert_array_equal(y[0], layer.constant.numpy())


@pytest.mark.parametrize("make,message", [
    (lambda: S.StyleDense(0), "units must be a whole number >= 1. Received: units=0"),
    (lambda: S.StyleDense(4, lr_multiplier=0), "Received: lr_multiplier=0"),
    (lambda: S.StyleDense(4, activation="relu"), "Received: activation='relu'"),
    (lambda: S.ModulatedConv2D(0), "Received: filters=0"),
    (lambda: S.ModulatedConv2D(4, kernel_size=2.5), "Received: kernel_size=2.5"),
    (lambda: S.ModulatedConv2D(4, epsilon=-1.0), "Received: epsilon=-1.0"),
    (lambda: S.ModulatedToRGB(channels=0), "Received: channels=0"),
    (lambda: S.NoiseInjection("fixed"),
     "noise_mode must be one of 'random', 'const', 'none'. Received: noise_mode='fixed'"),
    (lambda: S.NoiseInjection(seed=-1), "Received: seed=-1"),
    (lambda: S.ConstantInput(0), "Received: channels=0"),
])
def test_layers_refuse_bad_arguments_in_one_line(make, message):
    with pytest.raises(OptionError, match=re.escape(message)) as error:
        make()
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_layers_are_registered_under_their_package():
    for cls in (S.StyleDense, S.ModulatedConv2D, S.ModulatedToRGB, S.NoiseInjection,
                S.ConstantInput):
        assert keras.saving.get_registered_name(cls) == f"progan_tf.stylegan>{cls.__name__}"
