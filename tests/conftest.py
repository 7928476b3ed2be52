"""Shared pytest fixtures and helpers.

Stand-in generators are built once per test session (each takes well under a second) with
:mod:`progan_tf.testing`, so no test needs the network or the real progan-128.  Training tests
share one folder of synthetic faces and the helpers below (``from conftest import
tiny_config``), defined once here.
"""

from __future__ import annotations

import csv
import os

import pytest

from progan_tf import testing


@pytest.fixture(scope="session")
def tf1_hub_module_dir(tmp_path_factory):
    """A TF1 Hub module with progan-128's interface: ``default`` [?, 512] -> [?, 128, 128, 3]."""
    return testing.build_tf1_hub_module(tmp_path_factory.mktemp("tf1_hub") / "progan-128-stand-in")


@pytest.fixture(scope="session")
def tf2_saved_model_dir(tmp_path_factory):
    """A TF2 SavedModel, ``serving_default``: ``z`` [?, 64] to ``images`` [?, 32, 32, 3]."""
    return testing.build_tf2_saved_model(tmp_path_factory.mktemp("tf2") / "small-generator")


@pytest.fixture(scope="session")
def overshooting_saved_model_dir(tmp_path_factory):
    """Like ``tf2_saved_model_dir``, but its outputs span [-0.2, 1.2] (to test clipping)."""
    return testing.build_tf2_saved_model(
        tmp_path_factory.mktemp("tf2_overshoot") / "overshooting-generator",
        output_range=(-0.2, 1.2))


@pytest.fixture(scope="session")
def stand_in_generator(tf1_hub_module_dir):
    """``load_generator`` on ``tf1_hub_module_dir``. Shared: do not modify it in a test."""
    from progan_tf.generator import load_generator

    return load_generator(tf1_hub_module_dir)


# ---------------------------------------------------------------------------------------------
# Training: tiny synthetic data and options small enough to train in seconds
# ---------------------------------------------------------------------------------------------

TRAIN_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
"""The environment of training subprocesses (the CLI, kill tests)."""


def write_faces(folder, count=48, size=20, seed=0):
    """Tiny synthetic 'faces': a bright ellipse on a dark background, jittered."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for i in range(count):
        cy, cx = size / 2 + rng.normal(0, 1, 2)
        face = ((yy - cy) / (size * 0.35)) ** 2 + ((xx - cx) / (size * 0.25)) ** 2 < 1
        image = np.zeros((size, size, 3), np.uint8) + rng.integers(0, 60, 3).astype(np.uint8)
        image[face] = rng.integers(150, 255, 3)
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    return folder


def tiny_config(data_dir, out_dir, **overrides):
    """A ``TrainConfig`` of an 8x8 ProGAN (latent 16, 8 feature maps) that trains in seconds."""
    from progan_tf.gan.train import TrainConfig

    config = dict(data_dir=str(data_dir), out_dir=str(out_dir), resolution=8, latent_dim=16,
                  fmap_max=8, kimg_per_phase=0.064, batch_sizes={4: 8, 8: 8}, seed=3)
    config.update(overrides)
    return TrainConfig(**config)


def read_csv(path):
    """The rows of a CSV file (``losses.csv``) as dicts of strings."""
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def faces(tmp_path_factory):
    """48 synthetic 20x20 'faces' (:func:`write_faces`). Shared: do not modify them."""
    return write_faces(tmp_path_factory.mktemp("faces") / "images")
