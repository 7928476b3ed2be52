"""The recovery package gives what the single-module recovery.py gave, number for number.

The numbers below were measured once by running the module as it stood before it became a
package (commit eb36ce5, ``progan_tf/recovery.py``) on the same tiny stand-in: a seeded
SavedModel of 32-d latents -> 16x16 images, a target generated from a known latent, and each
search's options. The package must reproduce them to float tolerance -- also when the search
is spelled the new way (a preset, a loss object) instead of the old keywords. Screening of
starting candidates came later (``candidates``, on by default since); it is switched off here
(``candidates=None``), which must give the old module's search exactly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from test_recovery import tiny_extractor  # the seeded extractor the reference used

from progan_tf import testing
from progan_tf.gan.networks import ProgressiveDiscriminator
from progan_tf.generator import load_generator
from progan_tf.recovery import (
    DiscriminatorLoss,
    PerceptualLoss,
    find_closest_latent_vector,
    recover_latent,
)

# Measured with the code of eb36ce5 (see the module docstring): PSNR, best loss, where it was
# found, the last step's losses and the first four components of the recovered latent.
REFERENCE = {
    "default": (37.876310438023125, 0.0001630681799724698, 29, 0,
                [0.00016306818, 0.000402743259, 0.000412297784],
                [0.068691656, 1.50047553, 1.08561647, -1.29330003]),
    "laplacian_clip": (25.149255363471678, 0.0571635365486145, 14, 1,
                       [0.0843806565, 0.107708484],
                       [-0.756442547, 1.36218119, 1.54817033, 0.174866825]),
    "mse_ssim_norm": (25.9381686089065, 0.03288588672876358, 19, 0,
                      [0.0328858867, 0.0455406792],
                      [0.460459054, 1.26088059, 0.896372378, -1.07247448]),
    "tutorial": (16.612833151636796, 0.1172233372926712, 24, 0, [0.117223337],
                 [-0.596811473, -1.12122464, -0.0159928724, 0.221920982]),
    "perceptual": (21.742872834267835, 0.0006950777024030685, 9, 0,
                   [0.000695077702, 0.00109611894],
                   [-1.55259013, 0.492256075, 1.0430547, 0.739297092]),
    "discriminator": (28.878139815789893, 0.04141223058104515, 9, 0,
                      [0.0414122306, 0.0550335571],
                      [0.291774154, 1.57709897, 0.913188756, -1.36670995]),
}
TUTORIAL_LOSSES = [35.3852463, 35.1488266, 34.9154091, 34.6891594, 34.4698639, 34.2590218,
                   34.0497475, 33.8435059, 33.6452217, 33.4519577]
TUTORIAL_LAST_PIXEL = 0.656286358833313


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = testing.build_tf2_saved_model(tmp_path_factory.mktemp("reference") / "g",
                                           latent_dim=32, image_shape=(16, 16, 3))
    generator = load_generator(folder)
    z = np.random.default_rng(11).standard_normal(32).astype(np.float32)
    z *= np.float32(math.sqrt(32) / np.linalg.norm(z))
    start = np.random.default_rng(5).standard_normal((1, 32)).astype(np.float32)
    return generator, generator(z)[0].numpy(), start


def seeded_discriminator() -> ProgressiveDiscriminator:
    keras.utils.set_random_seed(0)
    return ProgressiveDiscriminator(resolution=16, fmap_max=16, stage_resolution=16)


def old_calls(start):
    """The searches as the reference measured them, with the old keyword arguments."""
    return {
        "default": dict(steps=30, restarts=3, seed=2),
        "laplacian_clip": dict(steps=20, restarts=2, seed=3, loss="laplacian",
                               stochastic_clip=2.0),
        "mse_ssim_norm": dict(steps=20, restarts=2, seed=4, loss=[("mse", 1.0), ("ssim", 0.5)],
                              prior="norm", prior_weight=0.1),
        "tutorial": dict(steps=25, restarts=1, initial_latents=start, loss="mae", prior="norm",
                         prior_weight=1 / (16 * 16 * 3), learning_rate=0.01, lr_rampup=0,
                         lr_rampdown=0, noise=0, seed=1),
        "perceptual": dict(steps=10, restarts=2, seed=6, loss="perceptual",
                           feature_extractor=tiny_extractor()),
        "discriminator": dict(steps=10, restarts=2, seed=7,
                              loss=[("laplacian", 1.0), ("discriminator", 0.1)],
                              discriminator=seeded_discriminator()),
    }


def new_calls(start):
    """The same searches spelled with presets and loss objects."""
    return {
        "tutorial": dict(settings="tutorial", steps=25, initial_latents=start, seed=1),
        "perceptual": dict(steps=10, restarts=2, seed=6, loss=PerceptualLoss(tiny_extractor())),
        "discriminator": dict(steps=10, restarts=2, seed=7,
                              loss=[("laplacian", 1.0),
                                    (DiscriminatorLoss(seeded_discriminator()), 0.1)]),
    }


# The reference was measured on one CPU. TensorFlow's oneDNN kernels (on by default where the CPU
# has AVX-512) sum in another order, so on such a machine the same search agrees to about 2e-5
# relative (measured: best loss 0.0328865 against 0.0328859); a changed search differs by far
# more, and the best step and restart must still match exactly.
RTOL = 1e-4


def assert_reproduces(result, name):
    psnr, best_loss, best_step, best_restart, last_losses, latent_head = REFERENCE[name]
    assert result.psnr == pytest.approx(psnr, rel=RTOL)
    assert result.best_loss == pytest.approx(best_loss, rel=RTOL)
    assert (result.best_step, result.best_restart) == (best_step, best_restart)
    np.testing.assert_allclose(result.loss_history[-1], last_losses, rtol=RTOL)
    np.testing.assert_allclose(result.latent[:4], latent_head, rtol=RTOL, atol=1e-5)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_old_keyword_calls_reproduce_the_single_module(setup, name):
    generator, target, start = setup
    options = old_calls(start)[name]
    result = recover_latent(generator, target, progress=False, frames_every=None,
                            candidates=None, **options)
    assert_reproduces(result, name)


@pytest.mark.parametrize("name", ["tutorial", "perceptual", "discriminator"])
def test_new_shape_calls_reproduce_the_single_module(setup, name):
    generator, target, start = setup
    options = new_calls(start)[name]
    result = recover_latent(generator, target, progress=False, frames_every=None,
                            candidates=None, **options)
    assert_reproduces(result, name)


def test_the_tutorial_recipe_reproduces_the_single_module(setup):
    generator, target, start = setup
    images, losses = find_closest_latent_vector(generator, start, target, 10, 5, progress=False)
    np.testing.assert_allclose(losses, TUTORIAL_LOSSES, rtol=1e-6)
    assert images[-1][0, 8, 8, 0] == pytest.approx(TUTORIAL_LAST_PIXEL, rel=1e-6)
