"""Layers and networks of the Keras progressive GAN."""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from progan_tf.errors import OptionError
from progan_tf.gan import layers as L
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator, num_levels


def test_equalized_dense_applies_he_constant_at_run_time():
    layer = L.EqualizedDense(5, gain=2.0)
    x = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    y = layer(x).numpy()
    kernel = layer.kernel.numpy()
    np.testing.assert_allclose(y, x @ kernel * 2.0 / math.sqrt(8), rtol=1e-5, atol=1e-5)
    # Stored weights are N(0, 1), not pre-scaled: that is what equalizes Adam's step sizes.
    big = L.EqualizedDense(256)
    big.build((None, 512))
    assert abs(np.std(big.kernel.numpy()) - 1.0) < 0.02


def test_equalized_off_uses_he_init_and_no_runtime_scale():
    layer = L.EqualizedConv2D(64, 3, equalized=False)
    layer.build((None, 8, 8, 128))
    assert layer.scale == 1.0
    assert abs(np.std(layer.kernel.numpy()) - math.sqrt(2) / math.sqrt(9 * 128)) < 0.005


def test_equalized_conv_matches_scaled_convolution():
    layer = L.EqualizedConv2D(4, 3)
    x = tf.random.normal([2, 6, 6, 3], seed=1)
    y = layer(x)
    scale = math.sqrt(2) / math.sqrt(27)
    expected = tf.nn.conv2d(x, layer.kernel * scale, 1, "SAME") + layer.bias
    np.testing.assert_allclose(y.numpy(), expected.numpy(), atol=1e-5)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = tf.random.normal([2, 4, 4, 16], stddev=7.0)
    y = L.PixelNorm()(x).numpy()
    np.testing.assert_allclose(np.mean(y ** 2, axis=-1), 1.0, rtol=1e-4)


def test_minibatch_stddev_appends_group_statistic():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4, 4, 3)).astype("float32")
    y = L.MinibatchStdDev(group_size=4)(x).numpy()
    assert y.shape == (8, 4, 4, 4)
    np.testing.assert_array_equal(y[..., :3], x)
    # Group g holds images g, g + 2, g + 4, g + 6 (reshape [4, 2, ...]).
    group0 = x[0::2]
    expected = np.mean(np.sqrt(np.var(group0, axis=0) + 1e-8))
    np.testing.assert_allclose(y[0, :, :, 3], expected, rtol=1e-5)
    identical = np.repeat(x[:1], 4, axis=0)
    assert np.allclose(L.MinibatchStdDev(4)(identical).numpy()[..., 3], 1e-4, atol=1e-5)


@pytest.mark.parametrize("batch,group", [(6, 3), (5, 1), (2, 2), (3, 3)])
def test_minibatch_stddev_uses_largest_divisor_of_batch(batch, group):
    x = np.random.default_rng(1).standard_normal((batch, 2, 2, 1)).astype("float32")
    y = L.MinibatchStdDev(group_size=4)(x).numpy()
    grouped = x.reshape(group, batch // group, 2, 2, 1)
    expected = np.mean(np.sqrt(np.var(grouped, axis=0) + 1e-8), axis=(1, 2, 3))
    np.testing.assert_allclose(y[:batch // group, 0, 0, 1], expected, rtol=1e-5)


def test_fade_in_blends_with_alpha():
    fade = L.FadeIn()
    old, new = tf.zeros([1, 2, 2, 3]), tf.ones([1, 2, 2, 3])
    fade.build([old.shape, new.shape])
    for alpha in (0.0, 0.25, 1.0):
        fade.alpha.assign(alpha)
        np.testing.assert_allclose(fade([old, new]).numpy(), alpha)


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights, expected_num_non_trainable_weights=0,
                   tmp_path=None):
    """Keras' ``run_layer_test`` checks, through public API only.

    Keras 3 has ``keras.src.testing.TestCase.run_layer_test``, but ``keras.src`` is a private
    module path that changes between releases; this checks the same contract: built from its
    config, ``get_config``/``from_config`` round trip, the output shape (eager, symbolic and
    ``compute_output_shape``), the number of weights, and serialization through
    ``keras.saving`` -- as an object and inside a model saved to a ``.keras`` file.
    """
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key, value in init_kwargs.items():  # every argument is in the config ...
        assert config[key] == value, key
    restored = layer_cls.from_config(config)  # ... and builds the same layer
    assert restored.get_config() == config
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(shape).astype("float32") for shape in shapes]
    call_inputs = inputs if isinstance(input_shape, list) else inputs[0]
    outputs = layer(call_inputs)
    assert tuple(outputs.shape) == expected_output_shape
    assert tuple(layer.compute_output_shape(input_shape)) == expected_output_shape
    symbolic = [keras.Input(batch_shape=shape) for shape in shapes]
    if not isinstance(input_shape, list):
        symbolic = symbolic[0]
    symbolic_out = layer_cls(**init_kwargs)(symbolic)
    assert tuple(symbolic_out.shape)[1:] == expected_output_shape[1:]
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is layer_cls and again.get_config() == config
    if tmp_path is not None:  # the layer inside a saved model computes the same
        model = keras.Model(symbolic, layer(symbolic))
        model.save(tmp_path / "model.keras")
        loaded = keras.saving.load_model(tmp_path / "model.keras")
        np.testing.assert_allclose(loaded(call_inputs), outputs, atol=1e-6)


LAYER_CASES = {
    "EqualizedDense": (L.EqualizedDense, {"units": 7, "gain": 1.0, "use_bias": False},
                       (2, 5), (2, 7), 1),
    "EqualizedDense(he init)": (L.EqualizedDense, {"units": 3, "equalized": False},
                                (2, 5), (2, 3), 2),
    "EqualizedConv2D": (L.EqualizedConv2D, {"filters": 5, "kernel_size": 3, "equalized": False},
                        (2, 4, 4, 3), (2, 4, 4, 5), 2),
    "PixelNorm": (L.PixelNorm, {"epsilon": 1e-6}, (2, 4, 4, 3), (2, 4, 4, 3), 0),
    "MinibatchStdDev": (L.MinibatchStdDev, {"group_size": 2}, (4, 4, 4, 3), (4, 4, 4, 4), 0),
    "ToRGB": (L.ToRGB, {"channels": 3}, (2, 4, 4, 8), (2, 4, 4, 3), 2),
    "FromRGB": (L.FromRGB, {"filters": 9, "negative_slope": 0.1}, (2, 4, 4, 3), (2, 4, 4, 9), 2),
}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_contract(case, tmp_path):
    layer_cls, kwargs, input_shape, output_shape, trainable = LAYER_CASES[case]
    run_layer_test(layer_cls, kwargs, input_shape, output_shape, trainable, tmp_path=tmp_path)


def test_fade_in_layer_contract(tmp_path):
    run_layer_test(L.FadeIn, {}, [(2, 4, 4, 3), (2, 4, 4, 3)], (2, 4, 4, 3), 0,
                   expected_num_non_trainable_weights=1, tmp_path=tmp_path)


@pytest.mark.parametrize("make,message", [
    (lambda: L.EqualizedDense(0), "units must be a whole number >= 1. Received: units=0"),
    (lambda: L.EqualizedDense(4.5), "Received: units=4.5"),
    (lambda: L.EqualizedDense(4, gain=0), "gain must be a finite number > 0. Received: gain=0"),
    (lambda: L.EqualizedConv2D(0), "Received: filters=0"),
    (lambda: L.EqualizedConv2D(4, kernel_size=0), "Received: kernel_size=0"),
    (lambda: L.PixelNorm(epsilon=-1.0), "Received: epsilon=-1.0"),
    (lambda: L.MinibatchStdDev(group_size=-2), "Received: group_size=-2"),
    (lambda: L.ToRGB(channels=0), "channels must be a whole number >= 1. Received: channels=0"),
    (lambda: L.FromRGB(8, negative_slope=float("nan")), "Received: negative_slope=nan"),
])
def test_layers_refuse_bad_arguments_in_one_line(make, message):
    with pytest.raises(OptionError, match=re.escape(message)) as error:
        make()
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_num_levels_and_bad_resolutions():
    assert [num_levels(r) for r in (4, 8, 128, 1024)] == [1, 2, 6, 9]
    for bad in (2, 48, 2048, 0):
        with pytest.raises(ValueError, match="power of two"):
            num_levels(bad)


def test_widths_follow_fmap_base_and_max():
    g = ProgressiveGenerator(resolution=16, latent_dim=8, fmap_base=64, fmap_max=16)
    assert [g.width(s) for s in range(5)] == [16, 16, 16, 8, 4]
    assert g.blocks[2][0].filters == 8  # 16x16 level uses nf(3)


@pytest.mark.parametrize("resolution", [4, 8, 32])
def test_networks_grow_through_every_stage(resolution):
    g = ProgressiveGenerator(resolution=resolution, latent_dim=12, fmap_max=8)
    d = ProgressiveDiscriminator(resolution=resolution, fmap_max=8)
    z = tf.random.normal([4, 12])
    size = 4
    while size <= resolution:
        for fading in ((False, True) if size > 4 else (False,)):
            g.set_stage(size, fading)
            d.set_stage(size, fading)
            images = g(z)
            assert images.shape == (4, size, size, 3)
            assert d(images).shape == (4, 1)
        size *= 2
    with pytest.raises(ValueError, match="exceeds"):
        g.set_stage(resolution * 2)


def test_fade_in_at_alpha_zero_equals_upsampled_previous_stage():
    g = ProgressiveGenerator(resolution=8, latent_dim=8, fmap_max=8)
    z = tf.random.normal([2, 8])
    g.set_stage(4)
    low = g(z).numpy()
    g.set_stage(8, fading=True)
    g.fade.alpha.assign(0.0)
    np.testing.assert_allclose(g(z).numpy(), low.repeat(2, axis=1).repeat(2, axis=2), atol=1e-5)
    g.fade.alpha.assign(1.0)
    faded = g(z).numpy()
    g.set_stage(8, fading=False)
    np.testing.assert_allclose(g(z).numpy(), faded, atol=1e-5)


def test_latents_are_normalised_so_only_direction_matters():
    g = ProgressiveGenerator(resolution=4, latent_dim=16, fmap_max=8)
    z = tf.random.normal([2, 16])
    np.testing.assert_allclose(g(z).numpy(), g(z * 3.0).numpy(), atol=1e-5)


def test_progan128_configuration_shape():
    g = ProgressiveGenerator(resolution=128, latent_dim=512, fmap_max=32)
    g.set_stage(128)
    assert g(tf.zeros([1, 512])).shape == (1, 128, 128, 3)


def test_stage_variables_cover_only_used_layers():
    g = ProgressiveGenerator(resolution=16, latent_dim=8, fmap_max=8)
    g.set_stage(8, fading=True)
    z = tf.random.normal([2, 8])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(g(z))
    grads = tape.gradient(loss, g.trainable_weights)
    used = {id(v) for v, grad in zip(g.trainable_weights, grads) if grad is not None}
    assert used == {id(v) for v in g.stage_variables()}


def test_generator_keras_file_round_trip(tmp_path):
    g = ProgressiveGenerator(resolution=8, latent_dim=8, fmap_max=8, stage_resolution=8)
    z = tf.random.normal([2, 8])
    path = tmp_path / "g.keras"
    g.save(path)
    restored = keras.saving.load_model(path)
    assert restored.stage_resolution == 8
    np.testing.assert_allclose(restored(z).numpy(), g(z).numpy(), atol=1e-6)
