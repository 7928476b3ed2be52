"""Shared pytest fixtures.

Stand-in generators are built once per test session (each takes well under a second) with
:mod:`progan_tf.testing`, so no test needs the network or the real progan-128.
"""

from __future__ import annotations

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
