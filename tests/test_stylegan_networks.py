"""The style-based generator's networks and style mixing (progan_tf.stylegan)."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from progan_tf.errors import LatentError, OptionError
from progan_tf.gan.networks import num_levels
from progan_tf.stylegan import (
    MappingNetwork,
    StyleDiscriminator,
    StyleGenerator,
    SynthesisNetwork,
    layer_indices,
    make_discriminator,
    style_mix,
    style_mix_ws,
)
from progan_tf.stylegan.mixing import named_resolutions

TINY = {"latent_dim": 8, "w_dim": 8, "mapping_layers": 2, "fmap_base": 32, "fmap_max": 8,
        "seed": 0}


@pytest.fixture(scope="module")
def generator():
    """A 16x16 generator (6 ws) with a non-zero w_avg and noise strengths."""
    g = StyleGenerator(resolution=16, **TINY)
    g.mapping(tf.random.normal([64, 8], seed=1), training=True)  # moves w_avg off zero
    for noise in g.synthesis_network.noises:
        noise.strength.assign(np.full(noise.strength.shape, 0.5, "float32"))
    return g


def z(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 8)).astype("float32")


@pytest.mark.parametrize("resolution,widths", [(8, [8, 8]), (16, [8, 8, 4])])
def test_generator_shapes_and_layers(resolution, widths):
    g = StyleGenerator(resolution=resolution, **TINY)
    assert g.num_ws == 2 * len(widths) and g.latent_dim == 8 and g.resolution == resolution
    assert [g.synthesis_network.width(level) for level in range(len(widths))] == widths
    ws = g.mapping(z(3, 0))
    assert ws.shape == (3, g.num_ws, 8)
    np.testing.assert_array_equal(ws[:, 0], ws[:, -1])  # one w, repeated
    assert g(z(3, 0)).shape == (3, resolution, resolution, 3)
    assert g.synthesis(ws).shape == (3, resolution, resolution, 3)
    upsampling = [conv.upsample for conv in g.synthesis_network.convs]
    assert upsampling == [False] + [True, False] * (len(widths) - 1)


def test_noise_const_is_deterministic_and_random_is_not(generator):
    latents = z(2, 1)
    const = generator(latents, noise_mode="const").numpy()
    np.testing.assert_array_equal(const, generator(latents, noise_mode="const").numpy())
    assert not np.allclose(generator(latents).numpy(), generator(latents).numpy())
    assert not np.allclose(const, generator(latents, noise_mode="none").numpy())


def test_serialization_round_trip_computes_the_same(generator, tmp_path):
    config = generator.get_config()
    copy = StyleGenerator.from_config({**config, "name": "copy"})
    copy.set_weights(generator.get_weights())
    assert copy.get_config() == {**config, "name": "copy"}
    latents = z(2, 2)
    expected = generator(latents, noise_mode="const", truncation_psi=0.5).numpy()
    np.testing.assert_allclose(copy(latents, noise_mode="const", truncation_psi=0.5).numpy(),
                               expected, atol=1e-6)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(generator))
    assert type(again) is StyleGenerator and again.num_ws == generator.num_ws
    generator.save_weights(tmp_path / "g.weights.h5")
    loaded = StyleGenerator.from_config(config)
    loaded.load_weights(tmp_path / "g.weights.h5")
    np.testing.assert_allclose(loaded(latents, noise_mode="const", truncation_psi=0.5).numpy(),
                               expected, atol=1e-6)
    np.testing.assert_array_equal(loaded.w_avg.numpy(), generator.w_avg.numpy())


def test_mapping_tracks_w_avg_only_in_training():
    mapping = MappingNetwork(latent_dim=8, w_dim=4, num_layers=2, w_avg_beta=0.5)
    latents = z(16, 3)
    mapping(latents)
    np.testing.assert_array_equal(mapping.w_avg.numpy(), 0.0)
    w = mapping(latents, training=True).numpy()
    np.testing.assert_allclose(mapping.w_avg.numpy(), 0.5 * w.mean(axis=0), rtol=1e-5)
    # lr multiplier 0.01: the stored kernels are N(0, 100).
    assert np.std(mapping.dense_layers[0].kernel.numpy()) > 50


def test_truncation_psi_zero_gives_the_average_face_for_every_z(generator):
    images = generator(z(4, 4), truncation_psi=0.0, noise_mode="const").numpy()
    for image in images[1:]:
        np.testing.assert_allclose(image, images[0], atol=1e-5)
    ws = generator.mapping(z(4, 4), truncation_psi=0.0).numpy()
    np.testing.assert_allclose(ws, np.broadcast_to(generator.w_avg.numpy(), ws.shape),
                               atol=1e-6)
    assert not np.allclose(generator(z(2, 4), noise_mode="const")[0],
                           generator(z(2, 4), noise_mode="const")[1])


def test_truncation_cutoff_leaves_later_layers_alone(generator):
    full, cut = generator.mapping(z(2, 5)).numpy(), generator.mapping(
        z(2, 5), truncation_psi=0.0, truncation_cutoff=2).numpy()
    np.testing.assert_allclose(cut[:, :2], np.broadcast_to(generator.w_avg.numpy(), (2, 2, 8)),
                               atol=1e-6)
    np.testing.assert_array_equal(cut[:, 2:], full[:, 2:])


def test_mix_ws_and_mixing_regularisation(generator):
    w1, w2 = generator.mapping(z(3, 6)), generator.mapping(z(3, 7))
    np.testing.assert_array_equal(generator.mix_ws(w1, w2, 0), w2)
    np.testing.assert_array_equal(generator.mix_ws(w1, w2, generator.num_ws), w1)
    mixed = generator.mix_ws(w1[:, 0], w2[:, 0], [1, 2, 5]).numpy()
    for sample, crossover in enumerate([1, 2, 5]):
        np.testing.assert_array_equal(mixed[sample, :crossover], w1.numpy()[sample, :crossover])
        np.testing.assert_array_equal(mixed[sample, crossover:], w2.numpy()[sample, crossover:])
    never = generator.mixing_ws(z(8, 6), z(8, 7), probability=0.0, seed=0).numpy()
    np.testing.assert_array_equal(never, generator.mapping(z(8, 6)).numpy())
    always = generator.mixing_ws(z(8, 6), z(8, 7), probability=1.0, seed=0).numpy()
    first, second = generator.mapping(z(8, 6)).numpy(), generator.mapping(z(8, 7)).numpy()
    for sample in range(8):
        from_first = [np.array_equal(always[sample, i], first[sample, i])
                      for i in range(generator.num_ws)]
        crossover = from_first.index(False)
        assert 1 <= crossover < generator.num_ws and not any(from_first[crossover:])
        np.testing.assert_array_equal(always[sample, crossover:], second[sample, crossover:])


def test_gradients_reach_mapping_and_synthesis_weights(generator):
    critic = make_discriminator(resolution=16, fmap_base=32, fmap_max=8)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.softplus(-critic(generator(z(4, 8), training=True))))
    variables = generator.trainable_variables
    grads = tape.gradient(loss, variables)
    missing = [v.path for v, g in zip(variables, grads) if g is None or not np.any(g.numpy())]
    assert not missing
    paths = {v.path.split("/")[0] for v in variables}
    assert {"mapping", "synthesis"} <= paths
    assert critic(generator(z(2, 8))).shape == (2, 1)


def test_named_ranges_scale_with_the_resolution():
    assert named_resolutions(1024) == {"coarse": [4, 8], "middle": [16, 32],
                                       "fine": [64, 128, 256, 512, 1024]}
    assert named_resolutions(64) == {"coarse": [4, 8], "middle": [16, 32], "fine": [64]}
    assert named_resolutions(16) == {"coarse": [4], "middle": [8], "fine": [16]}
    assert named_resolutions(8) == {"coarse": [4], "middle": [], "fine": [8]}
    assert layer_indices(10, 64, "coarse") == [0, 1, 2, 3]
    assert layer_indices(10, 64, "fine") == [8, 9]
    assert layer_indices(18, 1024, "fine") == list(range(8, 18))
    assert layer_indices(8, 32, "middle") == [4, 5]
    assert layer_indices(6, 16, range(1, 6, 2)) == [1, 3, 5]
    assert layer_indices(6, 16, slice(None)) == list(range(6))
    assert layer_indices(6, 16, np.array([np.int64(2), 1])) == [1, 2]


@pytest.mark.parametrize("layers,message", [
    ("hair", "layers must be one of 'coarse', 'middle', 'fine', a slice, a range or a list "
             "of layer indices. Received: layers='hair'"),
    ([0, 6], "layers must be indices in [0, 6) of this 16x16 model's 6 layers. "
             "Received: layers=[0, 6]"),
    ([-1], "Received: layers=[-1]"),
    ([1.0], "Received: layers=[1.0]"),
    ([True], "Received: layers=[True]"),
    (3, "Received: layers=3"),
    (slice(0, 7), "layers must have bounds in [0, 6] and a positive step, for this 16x16 "
                  "model's 6 layers. Received: layers=slice(0, 7, None)"),
    (slice(None, None, -1), "Received: layers=slice(None, None, -1)"),
    (range(-2, 2), "Received: layers=range(-2, 2)"),
    ([], "layers select none of this 16x16 model's 6 layers; name a range (coarse, middle, "
         "fine) or give indices. Received: layers=[]"),
    (slice(3, 3), "layers select none of"),
])
def test_bad_layer_ranges_are_refused_in_one_line(layers, message):
    with pytest.raises(OptionError, match=re.escape(message)) as error:
        layer_indices(6, 16, layers)
    assert "\n" not in str(error.value)


def test_bad_model_arguments_are_refused_in_one_line():
    cases = [(lambda: layer_indices(6, 8, [0]), "num_ws must be 4 for a 8x8 model"),
             (lambda: layer_indices(4, 8, "middle"), "layers select none of this 8x8 model"),
             (lambda: layer_indices(4, 12, [0]), "Received: resolution=12"),
             (lambda: SynthesisNetwork(resolution=48), "Received: resolution=48"),
             (lambda: MappingNetwork(num_layers=0), "Received: num_layers=0"),
             (lambda: MappingNetwork(w_avg_beta=2.0), "Received: w_avg_beta=2.0"),
             (lambda: StyleGenerator(resolution=8, noise_mode="fixed", **TINY),
              "Received: noise_mode='fixed'")]
    for make, message in cases:
        with pytest.raises(OptionError, match=re.escape(message)) as error:
            make()
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("call,message", [
    (lambda g: g(z(1, 0), noise_mode="off"), "Received: noise_mode='off'"),
    (lambda g: g(z(1, 0), truncation_psi=float("nan")), "Received: truncation_psi=nan"),
    (lambda g: g(z(1, 0), truncation_cutoff=7), "Received: truncation_cutoff=7"),
    (lambda g: g.synthesis(g.mapping(z(1, 0)), noise_mode="off"), "Received: noise_mode='off'"),
    (lambda g: g.mix_ws(g.mapping(z(1, 0)), g.mapping(z(1, 1)), 7),
     "Received: crossover=7"),
    (lambda g: g.mixing_ws(z(1, 0), z(1, 1), probability=1.5), "Received: probability=1.5"),
])
def test_bad_call_options_are_refused_in_one_line(generator, call, message):
    with pytest.raises(OptionError, match=re.escape(message)) as error:
        call(generator)
    assert "\n" not in str(error.value)


def test_style_mix_ws_takes_exactly_the_named_layers():
    source = np.arange(2 * 10 * 3, dtype="float32").reshape(2, 10, 3)
    destination = -np.ones((2, 10, 3), "float32")
    mixed = style_mix_ws(source, destination, "middle")
    np.testing.assert_array_equal(mixed[:, 4:8], source[:, 4:8])
    np.testing.assert_array_equal(mixed[:, :4], destination[:, :4])
    np.testing.assert_array_equal(mixed[:, 8:], destination[:, 8:])
    np.testing.assert_array_equal(style_mix_ws(source[:1], destination, [9])[:, 9],
                                  np.repeat(source[:1, 9], 2, axis=0))
    with pytest.raises(LatentError, match="same model"):
        style_mix_ws(source, destination[:, :8], "coarse")
    with pytest.raises(LatentError, match=re.escape("has shape [2, 30]")):
        style_mix_ws(source.reshape(2, 30), destination, "coarse")
    with pytest.raises(LatentError, match="an even number"):
        style_mix_ws(source[:, :5], destination[:, :5], [0])


def test_style_mix_grid_all_layers_is_the_source_and_coarse_is_between(generator):
    sources, destinations = z(3, 10), z(2, 11)
    everything = style_mix(generator, sources, destinations, layers=range(generator.num_ws))
    assert everything.mixed.shape == (2, 3, 16, 16, 3)
    for row in everything.mixed:
        np.testing.assert_allclose(row, everything.sources, atol=1e-5)
    assert 0.0 <= everything.sources.min() and everything.sources.max() <= 1.0
    coarse = style_mix(generator, sources, destinations, layers="coarse")
    assert coarse.layers == [0, 1]
    np.testing.assert_allclose(coarse.destinations, everything.destinations, atol=1e-6)
    difference = [np.abs(coarse.mixed[1, 2] - picture).mean()
                  for picture in (coarse.sources[2], coarse.destinations[1])]
    assert min(difference) > 1e-4
    assert coarse.grid().shape == (3 * 16, 4 * 16, 3)
    np.testing.assert_array_equal(coarse.grid()[:16, :16], 1.0)
    np.testing.assert_array_equal(coarse.grid()[16:32, 32:48], coarse.mixed[0, 1])


def test_style_mix_takes_w_plus_as_well_as_z(generator):
    sources, destination = z(2, 12), z(1, 13)
    from_z = style_mix(generator, sources, destination[0], layers="fine", truncation_psi=0.7)
    ws = generator.mapping(sources, truncation_psi=0.7).numpy()
    from_ws = style_mix(generator, ws, destination[0], layers="fine", truncation_psi=0.7)
    np.testing.assert_allclose(from_ws.mixed, from_z.mixed, atol=1e-5)
    with pytest.raises(LatentError, match=re.escape("[N, 6, 8]")):
        style_mix(generator, ws[:, :4], destination)
    with pytest.raises(LatentError, match="size 5"):
        style_mix(generator, np.zeros((2, 5), "float32"), destination)
    bad = ws.copy()
    bad[0, 1, 2] = np.nan
    with pytest.raises(LatentError, match="source_latents contains NaN or inf"):
        style_mix(generator, bad, destination)
    with pytest.raises(OptionError, match=re.escape("Received: noise_mode='off'")):
        style_mix(generator, sources, destination, noise_mode="off")
    again = style_mix(generator, ws, destination[0], layers="fine", truncation_psi=0.7)
    np.testing.assert_array_equal(again.mixed, from_ws.mixed)  # "const" noise: repeatable
    with pytest.raises(OptionError, match="needs a style-based generator"):
        style_mix(object(), sources, destination)
    with pytest.raises(OptionError, match=re.escape("Received: layers='hair'")):
        style_mix(generator, sources, destination, layers="hair")


@pytest.mark.parametrize("resolution", [4, 8, 16])
def test_residual_discriminator_shapes_features_and_round_trip(resolution):
    critic = StyleDiscriminator(resolution=resolution, fmap_base=32, fmap_max=8)
    images = tf.random.normal([4, resolution, resolution, 3], seed=2)
    features = critic.features(images)
    assert len(features) == len(critic.blocks) + 3 == num_levels(resolution) + 2
    assert features[-1].shape == (4, 1)
    np.testing.assert_array_equal(critic(images), features[-1])
    alone = [critic.features(images[i:i + 1], batch_statistics=False)[-1] for i in range(4)]
    np.testing.assert_allclose(np.concatenate(alone),
                               critic.features(images, batch_statistics=False)[-1], atol=1e-5)
    copy = StyleDiscriminator.from_config(critic.get_config())
    copy.set_weights(critic.get_weights())
    np.testing.assert_allclose(copy(images), critic(images), atol=1e-6)


def test_residual_discriminator_trains_every_weight_and_refuses_bad_arguments(generator):
    critic = StyleDiscriminator(resolution=16, fmap_base=32, fmap_max=8)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(critic(generator(z(4, 9))))
    grads = tape.gradient(loss, critic.trainable_variables)
    assert all(g is not None and np.any(g.numpy()) for g in grads)
    for make, message in [(lambda: StyleDiscriminator(resolution=3), "Received: resolution=3"),
                          (lambda: StyleDiscriminator(mbstd_group_size=-1),
                           "Received: mbstd_group_size=-1")]:
        with pytest.raises(OptionError, match=re.escape(message)) as error:
            make()
        assert "\n" not in str(error.value)


def test_a_training_step_runs_under_a_mirrored_strategy():
    # Unseeded keras.random draws create a global seed variable on first use, which a replica
    # function may not do: mixing_ws draws from the generator's own seed generator.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        g = StyleGenerator(resolution=8, **TINY)
        critic = StyleDiscriminator(resolution=8, fmap_base=32, fmap_max=8)

    @tf.function
    def step(latents):
        def replica(latents):
            with tf.GradientTape() as tape:
                ws = g.mixing_ws(latents, tf.roll(latents, 1, 0), 0.9, training=True)
                loss = tf.reduce_mean(critic(g.synthesis(ws, training=True)))
            return tape.gradient(loss, g.trainable_variables)
        return strategy.run(replica, args=(latents,))

    grads = step(tf.constant(z(4, 14)))
    assert all(grad is not None for grad in grads)
    assert np.any(g.w_avg.numpy())
