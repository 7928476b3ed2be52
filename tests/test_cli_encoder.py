"""``progan-tf train-encoder`` and the fast path of ``progan-tf invert``, from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_line_error, progan_tf, progan_tf_here

from progan_tf import testing


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 16-d, 8x8 stand-in generator folder."""
    return testing.build_tf2_saved_model(tmp_path_factory.mktemp("gen") / "g", latent_dim=16,
                                         image_shape=(8, 8, 3))


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 3), np.uint8)).save(path)
    return path


def test_train_encoder_help_needs_no_tensorflow():
    import subprocess
    import sys

    from test_cli_help import RUNNER

    result = subprocess.run([sys.executable, "-c", RUNNER, "train-encoder", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "tensorflow" not in result.stdout.split() and "keras" not in result.stdout.split()
    text = progan_tf("train-encoder", "--help").stdout
    for option in ("--model", "--out", "--data", "--steps", "--minutes", "--resume"):
        assert option in text
    for command in ("invert", "demo"):
        assert "--full-search" in progan_tf(command, "--help").stdout


@pytest.mark.parametrize("option, value, message", [
    ("--steps", "0", "must be a whole number >= 1. Received: 0"),
    ("--minutes", "-1", "must be a finite number > 0. Received: -1.0"),
    ("--holdout", "many", "Received: 'many'"),
])
def test_train_encoder_bad_numbers(option, value, message, tmp_path):
    result = progan_tf_here("train-encoder", "--model", "bundled", option, value, "--out",
                            tmp_path / "run")
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "run").exists()


def test_train_encoder_refuses_what_it_cannot_use(tiny_model, tmp_path):
    assert_one_line_error(progan_tf_here("train-encoder", "--out", tmp_path / "a"), "needs --model")
    assert_one_line_error(progan_tf_here("train-encoder", "--model", tmp_path / "no-model",
                                         "--out", tmp_path / "b"), "no-model")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert_one_line_error(progan_tf_here("train-encoder", "--model", tiny_model, "--out", foreign),
                          "not empty")
    assert_one_line_error(progan_tf_here("train-encoder", "--out", foreign, "--resume"),
                          "no run to resume")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_train_resume_and_invert_with_the_encoder(tiny_model, photo, tmp_path):
    run = tmp_path / "run"
    first = progan_tf("train-encoder", "--model", tiny_model, "--out", run, "--steps", 4,
                      "--batch-size", 2, "--stop-after-steps", 2)
    assert first.returncode == 0, first.stderr
    assert "--resume" in first.stdout and not (run / "encoder.json").exists()
    second = progan_tf("train-encoder", "--out", run, "--resume")
    assert second.returncode == 0, second.stderr
    assert "encoder saved in" in second.stdout
    metadata = json.loads((run / "encoder.json").read_text())
    assert metadata["steps"] == 4 and metadata["training_command"].startswith(
        "progan-tf train-encoder --model")

    invert = ["invert", photo, "--model", tiny_model, "--no-face-crop"]
    fast = progan_tf(*invert, "--encoder", run, "--out", tmp_path / "fast")
    assert fast.returncode == 0, fast.stderr
    assert "(encoder + refinement, 250 steps x 1 restarts)" in fast.stdout
    full = progan_tf(*invert, "--steps", 3, "--restarts", 1, "--out", tmp_path / "full")
    assert full.returncode == 0, full.stderr
    assert "(full search, 3 steps x 1 restarts)" in full.stdout  # no encoder for this model
    both = progan_tf(*invert, "--encoder", run, "--full-search", "--out", tmp_path / "both")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_invert_takes_the_fast_path_on_the_bundled_model(photo, tmp_path):
    invert = ["invert", photo, "--model", "bundled", "--no-face-crop"]
    fast = progan_tf(*invert, "--out", tmp_path / "fast")
    assert fast.returncode == 0, fast.stderr
    assert "(encoder + refinement, 250 steps x 1 restarts)" in fast.stdout
    metrics = json.loads((tmp_path / "fast" / "metrics.json").read_text())
    assert (metrics["steps"], metrics["restarts"]) == (250, 1)
    full = progan_tf(*invert, "--full-search", "--steps", 5, "--out", tmp_path / "full")
    assert full.returncode == 0, full.stderr
    assert "(full search, 5 steps x 8 restarts)" in full.stdout
