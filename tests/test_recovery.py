"""Tests for progan_tf.recovery: the tutorial's latent search and recover_latent."""

from __future__ import annotations

import json
import math
import socket
import urllib.error

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from progan_tf import testing
from progan_tf.errors import LatentError, MetricError, ProganError
from progan_tf.gan.networks import ProgressiveDiscriminator
from progan_tf.generator import load_generator
from progan_tf.recovery import (
    RESULT_FILES,
    RecoveryError,
    discriminator_extractor,
    find_closest_latent_vector,
    perceptual_extractor,
    psnr,
    recover_latent,
    ssim,
)
from progan_tf.recovery.compiled import SEARCHES
from progan_tf.recovery.search import learning_rate, noise_strength

LATENT_DIM = 32
SIZE = 16
FAST = {"progress": False, "frames_every": None}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """The folder of a SavedModel of 32-d latents -> 16x16 images."""
    path = tmp_path_factory.mktemp("recovery") / "small"
    return testing.build_tf2_saved_model(path, latent_dim=LATENT_DIM, image_shape=(SIZE, SIZE, 3))


@pytest.fixture(scope="module")
def small_generator(small_model):
    """32-d latents -> 16x16 images: small enough for hundreds of steps in a second."""
    return load_generator(small_model)


def sphere_latent(seed: int, dim: int = LATENT_DIM) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return z * np.float32(math.sqrt(dim) / np.linalg.norm(z))


@pytest.fixture(scope="module")
def known(small_generator):
    """A target generated from a known latent on the sphere of radius sqrt(D)."""
    z = sphere_latent(11)
    return z, small_generator(z)[0].numpy()


def step_loss(value_at_step):
    """A custom loss that ignores the images and returns ``value_at_step(step)`` per image."""
    counter = tf.Variable(0.0, trainable=False)

    def loss(target, images):
        step = counter.assign_add(1.0) - 1.0
        return 0.0 * tf.reduce_mean(images, axis=[1, 2, 3]) + value_at_step(step)

    return loss


def cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------------------------
# The tutorial's recipe
# --------------------------------------------------------------------------------------------


def test_classic_recipe_counts_images_and_lowers_the_loss(small_generator, known):
    _, target = known
    start = np.random.default_rng(0).standard_normal([1, LATENT_DIM]).astype(np.float32)
    images, losses = find_closest_latent_vector(small_generator, start, target, 61, 5,
                                                progress=False)
    assert len(images) == math.ceil(61 / 5) == 13
    assert all(image.shape == (1, SIZE, SIZE, 3) for image in images)
    assert len(losses) == 61
    assert losses[-1] < 0.8 * losses[0]
    assert psnr(images[-1], target) > psnr(images[0], target)


@pytest.mark.parametrize("loss_fn", ["mae", "mse"])
def test_classic_first_loss_is_the_tutorials_formula(small_generator, known, loss_fn):
    _, target = known
    start = np.random.default_rng(1).standard_normal(LATENT_DIM).astype(np.float32)  # [D]
    rgba = np.concatenate([target, np.zeros((SIZE, SIZE, 1), np.float32)], axis=-1)
    _, losses = find_closest_latent_vector(small_generator, start, rgba, 2, 1, loss_fn=loss_fn,
                                           progress=False)
    # Keras' "sum" reduction: per-pixel means over channels, summed; alpha is dropped, not used.
    difference = small_generator(start).numpy()[0] - target
    per_pixel = np.abs(difference) if loss_fn == "mae" else difference ** 2
    expected = per_pixel.mean(axis=-1).sum() + abs(np.linalg.norm(start) - math.sqrt(LATENT_DIM))
    assert losses[0] == pytest.approx(expected, rel=1e-4)


def test_classic_recipe_refuses_a_target_of_another_size(small_generator):
    with pytest.raises(RecoveryError, match=r"32x32 but the generator makes 16x16.*load_image"):
        find_closest_latent_vector(small_generator, np.zeros(LATENT_DIM, np.float32),
                                   np.zeros((32, 32, 3), np.float32), 3, 1, progress=False)


def test_classic_recipe_on_the_progan_128_stand_in(stand_in_generator):
    z = np.random.default_rng(2).standard_normal([1, 512]).astype(np.float32)
    target = np.full((128, 128, 4), 255, np.uint8)
    images, losses = find_closest_latent_vector(stand_in_generator, z, target, 3, 2,
                                                progress=False)
    assert [image.shape for image in images] == [(1, 128, 128, 3)] * 2
    assert losses[2] < losses[0]


# --------------------------------------------------------------------------------------------
# recover_latent: does it find the latent?
# --------------------------------------------------------------------------------------------


def test_recovers_a_known_latent(small_generator, known):
    z_true, target = known
    result = recover_latent(small_generator, target, steps=150, restarts=4, seed=1,
                            progress=False)
    # A random latent scores ~0 cosine and ~15 dB; the tutorial's recipe ~28 dB in 150 steps.
    assert result.similarity(z_true) > 0.98
    assert result.psnr > 40
    assert result.ssim > 0.99
    assert result.latent.shape == (LATENT_DIM,) and result.image.shape == (SIZE, SIZE, 3)
    assert result.loss_history.shape == (150, 4)
    assert result.losses[-1] < 1e-3 * result.losses[0]
    assert result.best_loss == pytest.approx(np.nanmin(result.loss_history))
    assert not result.interrupted and result.stopped_reason is None
    assert len(result.frames) == 150 // 5 + 1 and result.frames.dtype == np.uint8


def test_keeps_the_restart_that_found_the_lowest_loss(small_generator, known):
    z_true, target = known
    others = np.stack([sphere_latent(seed) for seed in (1, 2, 3)])
    start = np.concatenate([others, z_true[np.newaxis]])
    result = recover_latent(small_generator, target, steps=4, restarts=4, noise=0.0,
                            learning_rate=1e-3, initial_latents=start, **FAST)
    assert result.best_restart == 3
    assert cosine(result.latent, z_true) > 0.9999
    assert result.psnr > 60
    np.testing.assert_array_equal(result.losses, result.loss_history[:, 3])


def test_sphere_prior_keeps_latents_at_norm_sqrt_d(small_generator, known):
    _, target = known
    start = 3 * np.stack([sphere_latent(seed) for seed in (4, 5)])
    fitted = recover_latent(small_generator, target, steps=30, restarts=2, initial_latents=start,
                            stochastic_clip=2.0, **FAST)
    # The latents the generator sees are noisy until the last step; they stay on the sphere too.
    noisy = recover_latent(small_generator, target, steps=5, restarts=1, noise=0.5,
                           noise_ramp=1.0, loss=step_loss(lambda step: 1.0 / (1.0 + step)),
                           initial_latents=start[0], **FAST)
    assert noisy.best_step == 4
    for result in (fitted, noisy):
        assert np.linalg.norm(result.latent) == pytest.approx(math.sqrt(LATENT_DIM), rel=1e-5)


@pytest.mark.parametrize("prior, expected_norm", [("norm", math.sqrt(LATENT_DIM)),
                                                  (None, 3 * math.sqrt(LATENT_DIM))])
def test_norm_prior_pulls_the_norm_to_sqrt_d(small_generator, known, prior, expected_norm):
    _, target = known
    loss = step_loss(lambda step: 1.0 / (1.0 + step))  # no gradient: only the prior moves z
    result = recover_latent(small_generator, target, steps=100, restarts=1, loss=loss,
                            prior=prior, initial_latents=3 * sphere_latent(6), noise=0.0, **FAST)
    assert np.linalg.norm(result.latent) == pytest.approx(expected_norm, rel=0.1)


def test_stochastic_clipping_resamples_outlying_components(small_generator, known):
    _, target = known
    start = sphere_latent(7)
    start[0] = 10.0
    loss = step_loss(lambda step: 1.0 / (1.0 + step))  # the last step is best
    kwargs = dict(steps=5, restarts=1, loss=loss, prior=None, noise=0.0, initial_latents=start,
                  **FAST)
    free = recover_latent(small_generator, target, **kwargs)
    clipped = recover_latent(small_generator, target, stochastic_clip=3.0, **kwargs)
    assert free.latent[0] == pytest.approx(10.0)
    assert abs(clipped.latent[0]) < 5.0
    np.testing.assert_allclose(clipped.latent[1:], start[1:])


def test_recovery_on_the_progan_128_stand_in(stand_in_generator, capsys):
    target = stand_in_generator(sphere_latent(8, 512))[0]
    result = recover_latent(stand_in_generator, target, steps=6, restarts=2, frames_every=2)
    assert "recover_latent: 100%" in capsys.readouterr().err  # the progress bar
    assert result.latent.shape == (512,) and result.image.shape == (128, 128, 3)
    assert result.frames.shape == (4, 128, 128, 3)
    assert np.nanmin(result.loss_history[-1]) < np.nanmin(result.loss_history[0])


def test_learning_rate_and_noise_schedules():
    rates = [learning_rate(step, 100, 0.1, 0.05, 0.25) for step in range(100)]
    assert 0 < rates[0] < rates[2] < rates[4] == 0.1  # linear ramp-up over 5 steps
    assert rates[4:75] == [0.1] * 71
    assert all(a > b for a, b in zip(rates[75:], rates[76:]))  # cosine ramp-down
    assert 0 < rates[-1] < 0.001
    strengths = [noise_strength(step, 100, 0.05, 0.75) for step in range(100)]
    assert strengths[0] == 0.0  # step 0 scores the starting latents themselves
    assert strengths[1] == pytest.approx(0.05 * (1 - 1 / 75) ** 2)
    assert strengths[37] == pytest.approx(0.05 * (1 - 37 / 75) ** 2)
    assert strengths[75:] == [0.0] * 25



@pytest.mark.parametrize("steps_per_execution", [1, 7, 40])
def test_steps_per_execution_only_changes_how_steps_are_batched(small_generator, known,
                                                                 steps_per_execution):
    # 23 steps: 7 leaves a short last execution, 40 runs them all in one. Same seed, same
    # schedule, so every step must see the same latents and losses as with the default.
    _, target = known
    seen = []
    options = dict(steps=23, restarts=3, seed=5, progress=False, frames_every=4)
    reference = recover_latent(small_generator, target, **options)
    result = recover_latent(small_generator, target, steps_per_execution=steps_per_execution,
                            callback=lambda step, losses: seen.append(step), **options)
    assert seen == list(range(23))
    np.testing.assert_allclose(result.loss_history, reference.loss_history, rtol=1e-5)
    np.testing.assert_allclose(result.latent, reference.latent, rtol=1e-5, atol=1e-5)
    assert (result.best_step, result.best_restart) == (reference.best_step,
                                                       reference.best_restart)
    assert len(result.frames) == len(reference.frames) == 6 + 1  # steps 0, 4, ..., 20; best


# --------------------------------------------------------------------------------------------
# Reusing the compiled search
# --------------------------------------------------------------------------------------------


def tracings(generator) -> list[int]:
    return [search.tracings for search in SEARCHES.searches(generator)]


@pytest.mark.parametrize("loss", ["mse", "laplacian", [("perceptual", 1.0), ("ssim", 0.5)]])
def test_a_reused_search_gives_what_a_fresh_one_gives(small_model, known, loss):
    # The second search reuses the first one's graph with a new target, seed and start; any
    # state left over (Adam's moments, the noise generator, the target, its pyramid or
    # features) would make it differ from the same search on a newly loaded generator.
    z_true, target = known
    other_target = load_generator(small_model)(sphere_latent(3))[0].numpy()
    options = dict(steps=15, restarts=3, loss=loss, feature_extractor=tiny_extractor(),
                   steps_per_execution=4, progress=False)
    reused = load_generator(small_model)
    recover_latent(reused, other_target, seed=1, **options)
    second = recover_latent(reused, target, seed=2, initial_latents=z_true, **options)
    assert tracings(reused) == [1]
    fresh = recover_latent(load_generator(small_model), target, seed=2, initial_latents=z_true,
                           **options)
    np.testing.assert_allclose(second.loss_history, fresh.loss_history, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(second.latent, fresh.latent, rtol=1e-5, atol=1e-6)


def test_new_options_get_their_own_search_and_few_are_kept(small_model, known):
    _, target = known
    generator = load_generator(small_model)
    for restarts in (1, 2, 3, 4, 5, 1):
        recover_latent(generator, target, steps=2, restarts=restarts, **FAST)
    kept = [search.options.restarts for search in SEARCHES.searches(generator)]
    assert kept == [3, 4, 5, 1]  # the 4 most recently used; restarts=1 traced again
    assert tracings(generator) == [1, 1, 1, 1]


def test_searches_with_custom_functions_are_traced_afresh(small_model, known):
    # A custom loss may read Python values that a reused trace would have frozen.
    _, target = known
    generator = load_generator(small_model)
    weight = {"value": 1.0}

    def weighted_mse(target, images):
        return weight["value"] * tf.reduce_mean(tf.square(images - target), axis=[1, 2, 3])

    first = recover_latent(generator, target, steps=1, restarts=1, loss=weighted_mse,
                           noise=0.0, **FAST)
    weight["value"] = 3.0
    second = recover_latent(generator, target, steps=1, restarts=1, loss=weighted_mse,
                            noise=0.0, **FAST)
    assert second.loss_history[0, 0] == pytest.approx(3.0 * first.loss_history[0, 0], rel=1e-5)
    # Nor are searches with an extractor function or a discriminator (its stage may move on).
    extractor = tiny_extractor()
    recover_latent(generator, target, steps=1, restarts=1, loss="perceptual",
                   feature_extractor=lambda images: extractor(images), **FAST)
    discriminator = ProgressiveDiscriminator(resolution=SIZE, fmap_max=16, stage_resolution=SIZE)
    recover_latent(generator, target, steps=1, restarts=1, loss="discriminator",
                   discriminator=discriminator, **FAST)
    assert SEARCHES.searches(generator) == []


def test_a_search_started_from_a_callback_does_not_disturb_the_running_one(small_model, known):
    z_true, target = known
    generator = load_generator(small_model)
    options = dict(steps=12, restarts=2, seed=4, steps_per_execution=5, **FAST)
    plain = recover_latent(generator, target, **options)

    def nested(step, losses):
        if step == 6:
            recover_latent(generator, np.zeros_like(target), **options)

    disturbed = recover_latent(generator, target, callback=nested, **options)
    np.testing.assert_allclose(disturbed.loss_history, plain.loss_history, rtol=1e-6)
    assert tracings(generator) == [1]  # the nested search got its own, uncached one

# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def test_weighted_loss_list_is_the_weighted_sum(small_generator, known):
    _, target = known
    start = sphere_latent(9)
    result = recover_latent(small_generator, target, steps=1, restarts=1, initial_latents=start,
                            noise=0.0, loss=[("mse", 1.0), ("ssim", 0.5)], **FAST)
    image = small_generator(start)[0].numpy()
    expected = np.mean((image - target) ** 2) + 0.5 * (1.0 - ssim(image, target))
    assert result.loss_history[0, 0] == pytest.approx(expected, rel=1e-4)


def test_keras_loss_instance_gives_one_loss_per_restart(small_generator, known):
    _, target = known
    start = np.stack([sphere_latent(seed) for seed in (12, 13)])
    result = recover_latent(small_generator, target, steps=1, restarts=2, initial_latents=start,
                            noise=0.0, loss=keras.losses.MeanAbsoluteError(), **FAST)
    images = small_generator(start).numpy()
    expected = np.abs(images - target).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(result.loss_history[0], expected, rtol=1e-4)


@pytest.mark.parametrize("loss", ["mae", "ssim", "laplacian"])
def test_every_pixel_loss_improves_the_match(small_generator, known, loss):
    _, target = known
    start = np.stack([sphere_latent(seed) for seed in (14, 15)])
    result = recover_latent(small_generator, target, steps=40, restarts=2, loss=loss,
                            initial_latents=start, **FAST)
    start_ssim = max(ssim(image, target) for image in small_generator(start))  # ~0.23
    assert result.ssim > start_ssim + 0.4
    assert result.best_loss < 0.5 * result.loss_history[0].min()


def tiny_extractor() -> keras.Model:
    """Two seeded convolutions; the loss compares both outputs."""
    inputs = keras.Input((None, None, 3))
    first = keras.layers.Conv2D(8, 3, activation="relu",
                                kernel_initializer=keras.initializers.HeNormal(seed=0))(inputs)
    second = keras.layers.Conv2D(8, 3, strides=2, activation="relu",
                                 kernel_initializer=keras.initializers.HeNormal(seed=100))(first)
    return keras.Model(inputs, [first, second])


def test_perceptual_loss_compares_unit_normalised_features(small_generator, known):
    _, target = known
    extractor = tiny_extractor()
    start = np.stack([sphere_latent(seed) for seed in (16, 17)])
    result = recover_latent(small_generator, target, steps=1, restarts=2, initial_latents=start,
                            noise=0.0, loss="perceptual", feature_extractor=extractor, **FAST)

    def unit(features):
        norms = np.linalg.norm(features, axis=-1, keepdims=True)
        return features / np.maximum(norms, 1e-6)

    images = small_generator(start).numpy()
    expected = sum(((unit(f.numpy()) - unit(t.numpy())) ** 2).mean(axis=(1, 2, 3))
                   for f, t in zip(extractor(images), extractor(target[np.newaxis])))
    np.testing.assert_allclose(result.loss_history[0], expected, rtol=1e-4)


def test_perceptual_loss_recovers_a_known_latent(small_generator, known):
    z_true, target = known
    result = recover_latent(small_generator, target, steps=150, restarts=4, seed=1,
                            loss="perceptual", feature_extractor=tiny_extractor(), **FAST)
    assert result.best_loss < 0.1 * result.loss_history[0].min()
    assert result.similarity(z_true) > 0.95
    assert result.psnr > 35


def test_discriminator_feature_loss(small_generator, known, tmp_path):
    _, target = known
    keras.utils.set_random_seed(0)
    discriminator = ProgressiveDiscriminator(resolution=SIZE, fmap_max=16, stage_resolution=SIZE)
    features = discriminator_extractor(discriminator)
    batch = tf.constant(np.stack([target, np.zeros_like(target), np.ones_like(target)]))
    # One image's features do not depend on the rest of the batch (no minibatch statistic).
    alone = [f.numpy() for f in features(batch[:1])]
    together = [f[:1].numpy() for f in features(batch)]
    assert len(alone) == 3  # the 16 and 8 blocks, the last convolution
    for a, b in zip(alone, together):
        np.testing.assert_allclose(a, b, atol=1e-5)
    discriminator.save(tmp_path / "discriminator.keras")
    result = recover_latent(small_generator, target, steps=40, restarts=2, loss="discriminator",
                            discriminator=tmp_path, **FAST)  # an export folder
    assert np.nanmin(result.loss_history[-1]) < 0.5 * np.nanmin(result.loss_history[0])


def test_vgg16_offline_says_what_to_do(monkeypatch, tmp_path):
    # Keras' own download code runs and fails as it does without a network.
    def no_network(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr("keras.src.utils.file_utils.urlretrieve", no_network)
    monkeypatch.setattr("keras.src.backend.config.keras_home", lambda: str(tmp_path))
    with pytest.raises(RecoveryError, match=r"could not load VGG16's ImageNet weights.*"
                                            r"Name or service not known.*feature_extractor="):
        perceptual_extractor("vgg16")


# --------------------------------------------------------------------------------------------
# Interrupts and NaN
# --------------------------------------------------------------------------------------------


def test_ctrl_c_returns_the_best_result_so_far(small_generator, known):
    z_true, target = known

    def interrupt(step, losses):
        assert losses.shape == (3,)
        if step == 7:
            raise KeyboardInterrupt

    result = recover_latent(small_generator, target, steps=100, restarts=3, callback=interrupt,
                            **FAST)
    assert result.interrupted
    assert "interrupted after 8 of 100 steps" in result.stopped_reason
    assert result.loss_history.shape == (8, 3)
    assert result.best_step <= 7
    assert result.best_loss == pytest.approx(np.nanmin(result.loss_history))
    assert psnr(small_generator(result.latent)[0], target) == pytest.approx(result.psnr)


def test_nan_loss_stops_and_keeps_the_best_finite_result(small_generator, known):
    _, target = known
    nan_from_step_5 = step_loss(lambda step: tf.where(step >= 5.0, math.nan, 1.0 / (1.0 + step)))
    with pytest.warns(RuntimeWarning, match="NaN/inf at step 5"):
        # candidates=None: screening would call the counting loss before step 0.
        result = recover_latent(small_generator, target, steps=50, restarts=2, candidates=None,
                                loss=nan_from_step_5, progress=False, frames_every=1)
    assert "NaN/inf at step 5" in result.stopped_reason
    assert "kept the best finite result" in result.stopped_reason
    assert not result.interrupted
    assert result.loss_history.shape == (6, 2) and np.isnan(result.loss_history[5]).all()
    assert result.best_step == 4 and result.best_loss == pytest.approx(0.2)
    assert np.isfinite(result.latent).all() and math.isfinite(result.psnr)
    assert len(result.frames) == 6 + 1  # steps 0-5, then the best image


def test_nan_from_the_first_step_raises(small_generator, known):
    _, target = known
    with pytest.warns(RuntimeWarning), \
            pytest.raises(RecoveryError, match="NaN or inf from the first step"):
        recover_latent(small_generator, target, steps=5, restarts=1,
                       loss=lambda target, images: images[:, 0, 0, 0] * math.nan, **FAST)


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def test_target_of_another_size_is_centre_cropped_and_resized(small_generator, known):
    z_true, target = known
    big = np.kron(target, np.ones((4, 4, 1), np.float32))  # 64x64, same picture
    wide = np.concatenate([np.zeros((64, 16, 3)), big, np.ones((64, 16, 3))], axis=1)  # 64x96
    result = recover_latent(small_generator, wide.astype(np.float32), steps=150, restarts=4,
                            seed=1, **FAST)
    assert result.target.shape == (SIZE, SIZE, 3)
    assert psnr(result.target, target) > 25  # the side bands were cropped away
    assert result.similarity(z_true) > 0.95


def test_rgba_target_is_composited_on_white(small_generator, known):
    _, target = known
    alpha = np.zeros((SIZE, SIZE, 1), np.float32)
    alpha[:, :SIZE // 2] = 1.0  # left half opaque, right half transparent
    result = recover_latent(small_generator, np.concatenate([target, alpha], axis=-1),
                            steps=1, restarts=1, **FAST)
    np.testing.assert_allclose(result.target[:, :SIZE // 2], target[:, :SIZE // 2], atol=1e-6)
    np.testing.assert_allclose(result.target[:, SIZE // 2:], 1.0)


def test_grayscale_target_and_generator_batch_output(small_generator, known):
    z_true, target = known
    gray = (target.mean(axis=-1) * 255).astype(np.uint8)  # [H, W] uint8
    result = recover_latent(small_generator, gray, steps=2, restarts=1, **FAST)
    assert result.target.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(result.target[..., 0], result.target[..., 2])
    batched = recover_latent(small_generator, small_generator(z_true), steps=1, restarts=1,
                             **FAST)  # a generator's [1, H, W, 3] output
    np.testing.assert_allclose(batched.target, target, atol=1 / 255)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"steps": 0}, r"steps must be a whole number >= 1. Received: steps=0"),
    ({"steps": -3}, r"steps must be a whole number >= 1. Received: steps=-3"),
    ({"restarts": 0}, r"restarts must be a whole number >= 1. Received: restarts=0"),
    ({"loss": "lpips"}, r"unknown loss 'lpips'; use one of mse, mae"),
    ({"loss": [("mse", -1.0)]}, r"weight of loss 'mse' must be a finite number >= 0"),
    ({"loss": "perceptual"}, r"loss='perceptual' needs feature_extractor="),
    ({"loss": "discriminator"}, r"loss='discriminator' needs discriminator="),
    ({"prior": "ball"}, r"prior must be 'sphere', 'norm' or None. Received: prior='ball'"),
    ({"learning_rate": 0.0}, r"learning_rate must be a finite number > 0"),
    ({"noise_ramp": 1.5}, r"noise_ramp must be a finite number > 0 and <= 1"),
    ({"frames_every": 0}, r"frames_every must be a whole number >= 1"),
    ({"steps_per_execution": 0}, r"steps_per_execution must be a whole number >= 1"),
    ({"steps_per_execution": 2.5}, r"Received: steps_per_execution=2.5"),
    ({"seed": -1}, r"seed must be a whole number >= 0. Received: seed=-1"),
    ({"stepz": 10}, r"recover_latent has no option stepz; its settings are steps, restarts"),
    ({"settings": "fast"}, r"settings must be one of 'default', 'tutorial', 'photo'"),
])
def test_bad_options_are_one_line_errors(small_generator, known, options, message):
    _, target = known
    with pytest.raises(RecoveryError, match=message) as info:
        recover_latent(small_generator, target, progress=False, **options)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ProganError)
    assert "\n" not in str(info.value)


def test_custom_loss_must_return_one_value_per_image(small_generator, known):
    _, target = known
    with pytest.raises(RecoveryError, match=r"returned a single number; return one loss per"):
        recover_latent(small_generator, target, steps=2, restarts=2,
                       loss=lambda target, images: tf.reduce_mean(images), **FAST)


def test_initial_latents_of_the_wrong_size(small_generator, known):
    _, target = known
    with pytest.raises(LatentError, match=r"initial_latents has shape \(3, 32\).*restarts=2"):
        recover_latent(small_generator, target, restarts=2, initial_latents=np.ones((3, 32)),
                       **FAST)


def test_psnr_and_ssim_helpers():
    black, gray = np.zeros((16, 16, 3)), np.full((16, 16, 3), 0.1)
    assert psnr(black, gray) == pytest.approx(20.0)
    assert psnr(gray, gray) == math.inf
    noisy = np.clip(gray + np.random.default_rng(0).normal(0, 0.1, gray.shape), 0, 1)
    assert ssim(gray, gray) == pytest.approx(1.0)
    assert ssim(gray, noisy) < 0.5
    with pytest.raises(MetricError, match=r"shapes \(16, 16, 3\) and \(8, 8, 3\)"):
        psnr(gray, np.zeros((8, 8, 3)))


# --------------------------------------------------------------------------------------------
# Saving and animating
# --------------------------------------------------------------------------------------------


def test_save_writes_every_file_and_animate_writes_a_gif(small_generator, known, tmp_path):
    _, target = known
    result = recover_latent(small_generator, target, steps=12, restarts=2, frames_every=3,
                            progress=False)
    written = result.save(tmp_path / "out")
    folder = tmp_path / "out"
    assert list(written) == list(RESULT_FILES)  # what it wrote, in the documented order
    assert written == {name: folder / name for name in RESULT_FILES}
    assert {path.name for path in folder.iterdir()} == set(RESULT_FILES)  # no temporary files
    np.testing.assert_array_equal(np.load(folder / "latent.npy"), result.latent)
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["psnr"] == pytest.approx(result.psnr) and saved["steps"] == 12
    with Image.open(folder / "comparison.png") as comparison:  # 8x: at least 128 px tall
        width, height = comparison.size
        assert width == 8 * (2 * SIZE + 3 * 2) and height > 8 * (SIZE + 2 * 2)
    recovered = np.asarray(Image.open(folder / "recovered.png"), np.float32) / 255
    np.testing.assert_allclose(recovered, result.image, atol=1 / 255)

    gif = result.animate(tmp_path / "search.gif", fps=5, display=False)
    with Image.open(gif) as animation:
        assert animation.n_frames == len(result.frames) == 12 // 3 + 1


def test_save_without_frames_says_it_wrote_no_search_gif(small_generator, known, tmp_path):
    _, target = known
    result = recover_latent(small_generator, target, steps=2, restarts=1, **FAST)
    written = result.save(tmp_path / "out")
    assert "search.gif" not in written
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(written)
