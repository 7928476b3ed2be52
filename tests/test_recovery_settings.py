"""Recovery's public seams: settings and presets, loss objects, the discriminator's features,
the search cache (owned by recovery, holding generators weakly), and the layering rule."""

from __future__ import annotations

import dataclasses
import gc
import subprocess
import sys
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

from progan_tf import testing
from progan_tf.errors import RecoveryError
from progan_tf.gan.networks import ProgressiveDiscriminator
from progan_tf.generator import load_generator
from progan_tf.recovery import (
    PRESETS,
    DiscriminatorLoss,
    FunctionLoss,
    LaplacianLoss,
    MeanSquaredError,
    PerceptualLoss,
    RecoverySettings,
    SSIMLoss,
    WeightedLoss,
    discriminator_extractor,
    recover_latent,
)
from progan_tf.recovery.compiled import SEARCHES
from progan_tf.recovery.losses import get

FAST = {"progress": False, "frames_every": None}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    return testing.build_tf2_saved_model(tmp_path_factory.mktemp("settings") / "g",
                                         latent_dim=16, image_shape=(16, 16, 3))


@pytest.fixture(scope="module")
def target(small_model):
    generator = load_generator(small_model)
    return generator(np.random.default_rng(3).standard_normal(16))[0].numpy()


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def test_settings_are_frozen_and_checked():
    settings = RecoverySettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.steps = 3
    assert settings.replace(steps=np.int64(7)).steps == 7 and settings.steps == 300
    assert type(settings.replace(steps=np.int64(7)).steps) is int
    with pytest.raises(RecoveryError, match=r"lr_rampup must be a finite number >= 0 and <= 1"):
        RecoverySettings(lr_rampup=2)
    with pytest.raises(RecoveryError, match=r"unknown loss 'lpips'"):
        settings.replace(loss="lpips")
    with pytest.raises(RecoveryError, match=r"has no option restart; its settings are steps, "
                                            r"restarts, candidates, loss"):
        settings.replace(restart=4)


def test_presets_name_the_recipes():
    assert set(PRESETS) >= {"default", "tutorial", "photo"}
    assert RecoverySettings.preset("default") == RecoverySettings()
    tutorial = RecoverySettings.preset("tutorial")
    assert (tutorial.restarts, tutorial.loss, tutorial.prior, tutorial.learning_rate,
            tutorial.noise, tutorial.lr_rampup, tutorial.lr_rampdown, tutorial.candidates) == (
        1, "mae", "norm", 0.01, 0.0, 0.0, 0.0, None)
    assert tutorial.prior_weight_for((128, 128, 3)) == 1 / (128 * 128 * 3)
    assert RecoverySettings.preset("photo").loss == "laplacian"


def test_a_preset_with_overrides_is_the_same_search_as_keywords(small_model, target):
    generator = load_generator(small_model)
    start = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    by_keywords = recover_latent(generator, target, steps=12, restarts=1, initial_latents=start,
                                 loss="mae", prior="norm", prior_weight=1 / (16 * 16 * 3),
                                 learning_rate=0.01, lr_rampup=0, lr_rampdown=0, noise=0,
                                 **FAST)
    by_preset = recover_latent(generator, target, settings="tutorial", steps=12,
                               initial_latents=start, **FAST)
    by_object = recover_latent(generator, target, initial_latents=start, progress=False,
                               settings=PRESETS["tutorial"].replace(steps=12, frames_every=None))
    np.testing.assert_array_equal(by_preset.loss_history, by_keywords.loss_history)
    np.testing.assert_array_equal(by_object.latent, by_keywords.latent)


def test_settings_of_the_wrong_type_are_one_line(small_model, target):
    with pytest.raises(RecoveryError, match=r"settings must be a preset name"):
        recover_latent(load_generator(small_model), target, settings={"steps": 3}, **FAST)


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def test_get_turns_what_users_pass_into_loss_objects():
    extractor = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)])
    assert isinstance(get("mse"), MeanSquaredError)
    combined = get([("laplacian", 1.0), ("perceptual", 0.5)], feature_extractor=extractor)
    assert isinstance(combined, WeightedLoss)
    (first, w1), (second, w2) = combined.terms()
    assert isinstance(first, LaplacianLoss) and isinstance(second, PerceptualLoss)
    assert (w1, w2) == (1.0, 0.5) and second.extractor is extractor
    assert isinstance(get(keras.losses.MeanAbsoluteError()), FunctionLoss)
    ssim_loss = SSIMLoss()
    assert get(ssim_loss) is ssim_loss


def test_what_a_compiled_search_may_be_reused_for():
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)])
    assert get("mse").cache_key() == get("mse").cache_key()
    assert get("mse").cache_key() != get("mae").cache_key()
    assert PerceptualLoss(model).cache_key() is not None  # a Keras model: weights are variables
    assert PerceptualLoss(lambda images: images).cache_key() is None  # may read Python values
    assert FunctionLoss(lambda target, images: images[:, 0, 0, 0]).cache_key() is None
    critic = ProgressiveDiscriminator(resolution=16, fmap_max=16, stage_resolution=16)
    assert DiscriminatorLoss(critic).cache_key() is None  # its stage may move on
    assert get([("mse", 1.0), ("ssim", 0.2)]).cache_key() is not None
    assert WeightedLoss([(get("mse"), 1.0), (DiscriminatorLoss(critic), 0.1)]).cache_key() is None


def test_losses_give_one_value_per_image_like_keras_losses():
    target = np.zeros((1, 16, 16, 3), np.float32)
    images = np.stack([np.zeros((16, 16, 3)), np.full((16, 16, 3), 0.5)]).astype(np.float32)
    np.testing.assert_allclose(MeanSquaredError()(target, images).numpy(), [0.0, 0.25])
    np.testing.assert_allclose(get([("mse", 2.0), ("mae", 1.0)])(target, images).numpy(),
                               [0.0, 2 * 0.25 + 0.5])
    laplacian = LaplacianLoss()(target, images).numpy()
    assert laplacian[0] == 0.0 and laplacian[1] > 0.0


# --------------------------------------------------------------------------------------------
# The discriminator's features
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage, fading", [(4, False), (8, True), (16, False)])
def test_call_is_the_last_of_the_features_walk(stage, fading):
    keras.utils.set_random_seed(1)
    critic = ProgressiveDiscriminator(resolution=16, fmap_max=16, stage_resolution=stage,
                                      fading=fading)
    images = tf.random.stateless_uniform([4, stage, stage, 3], seed=[1, 2]) * 2 - 1
    features = critic.features(images)
    np.testing.assert_array_equal(critic(images).numpy(), features[-1].numpy())
    assert features[-1].shape == (4, 1)
    # Per image: the minibatch statistic is that of a batch of one, so nothing leaks across.
    alone = critic.features(images[:1], batch_statistics=False)
    together = critic.features(images, batch_statistics=False)
    for a, b in zip(alone, together):
        np.testing.assert_allclose(a.numpy(), b[:1].numpy(), atol=1e-5)


def test_the_discriminator_loss_follows_the_networks_walk():
    critic = ProgressiveDiscriminator(resolution=16, fmap_max=16, stage_resolution=8)
    images = tf.random.stateless_uniform([2, 16, 16, 3], seed=[3, 4])
    walked = critic.features(tf.image.resize(images, [8, 8], method="area") * 2 - 1,
                             batch_statistics=False)
    extracted = discriminator_extractor(critic)(images)
    assert len(extracted) == len(walked) - 2  # all but the dense layer and the score
    for a, b in zip(extracted, walked):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_discriminator_without_features_is_refused():
    with pytest.raises(RecoveryError, match="is not a ProgressiveDiscriminator"):
        discriminator_extractor(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]))


# --------------------------------------------------------------------------------------------
# The cache and the layering
# --------------------------------------------------------------------------------------------


def test_the_search_cache_does_not_keep_a_generator_alive(small_model, target):
    generator = load_generator(small_model)
    recover_latent(generator, target, steps=2, restarts=1, **FAST)
    assert len(SEARCHES.searches(generator)) == 1
    alive = weakref.ref(generator)
    del generator
    gc.collect()
    assert alive() is None


def test_importing_recovery_imports_no_training_code():
    code = ("import sys, progan_tf.recovery; "
            "print(sorted(m for m in sys.modules if m.startswith('progan_tf.gan')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "[]"
