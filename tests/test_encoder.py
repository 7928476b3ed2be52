"""Encoders for instant inversion: training, resuming, the folder format, fingerprints, init=.

Everything runs on tiny stand-in generators (16-d latents, 8x8 images) and trains for a few
steps, so each test takes seconds; the shipped encoder is checked against the shipped
generator.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from conftest import write_faces

from progan_tf import testing
from progan_tf.errors import ModelLoadError, OptionError, RecoveryError, RunDirectoryError
from progan_tf.generator import load_generator
from progan_tf.recovery import encoder as encoding
from progan_tf.recovery import recover_latent
from progan_tf.recovery.encoder import (
    ENCODER_FILES,
    ENCODER_FORMAT,
    is_encoder_folder,
    load_encoder,
    plan_search,
)
from progan_tf.recovery.encoder_training import EncoderConfig, read_encoder_run, train_encoder
from progan_tf.recovery.fingerprint import fingerprint_mismatch, generator_fingerprint

STEPS = 12


def tiny_encoder_config(model, out, **overrides) -> EncoderConfig:
    options = dict(model=str(model), out_dir=str(out), steps=STEPS, batch_size=4,
                   real_batch_size=4, width=8, max_width=16, validation=4, seed=1)
    options.update(overrides)
    return EncoderConfig(**options)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 16-d, 8x8 stand-in generator: (its folder, the loaded generator)."""
    folder = testing.build_tf2_saved_model(tmp_path_factory.mktemp("gen") / "g", latent_dim=16,
                                           image_shape=(8, 8, 3))
    return folder, load_generator(folder)


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """Another generator of the same sizes (other weights)."""
    folder = testing.build_tf2_saved_model(tmp_path_factory.mktemp("gen") / "h", latent_dim=16,
                                           image_shape=(8, 8, 3), seed=5)
    return load_generator(folder)


@pytest.fixture(scope="module")
def small_faces(tmp_path_factory):
    return write_faces(tmp_path_factory.mktemp("faces") / "faces", count=24, size=12)


@pytest.fixture(scope="module")
def trained(tiny, small_faces, tmp_path_factory):
    """An encoder trained on generated pairs and real faces, in one session: its run folder."""
    out = tmp_path_factory.mktemp("encoders") / "run"
    config = tiny_encoder_config(tiny[0], out, data_dir=str(small_faces), holdout=2,
                                 command="progan-tf train-encoder ...")
    return train_encoder(config, generator=tiny[1], progress=False)


# --------------------------------------------------------------------------------------------
# The folder format
# --------------------------------------------------------------------------------------------


def test_training_writes_an_encoder_folder(trained, tiny):
    assert is_encoder_folder(trained)
    metadata = json.loads((trained / "encoder.json").read_text())
    assert metadata["format"] == ENCODER_FORMAT
    assert metadata["latent_dim"] == 16 and metadata["image_shape"] == [8, 8, 3]
    assert metadata["generator"]["fingerprint"] == generator_fingerprint(tiny[1])
    assert metadata["training_command"] == "progan-tf train-encoder ..."
    assert metadata["steps"] == STEPS and metadata["train_seconds"] > 0
    assert metadata["data"]["images"] == 24 - 2 - 4  # less the holdout and the validation
    assert set(metadata["metrics"]) == {"generated", "real_validation"}
    assert math.isfinite(metadata["metrics"]["real_validation"]["psnr"])
    assert (trained / "samples" / "encoder.png").is_file()
    assert not list(trained.glob(".*encoder*"))  # no temporary files left


def test_save_and_load_round_trip(trained, tiny, tmp_path):
    encoder = load_encoder(trained)
    images = tiny[1](np.random.default_rng(0).standard_normal((3, 16))).numpy()
    latents = encoder.predict(images)
    assert latents.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(latents, axis=1), 4.0, rtol=1e-5)  # sqrt(16)
    encoder.save(tmp_path / "copy")
    copy = load_encoder(tmp_path / "copy")
    np.testing.assert_allclose(copy.predict(images), latents, atol=1e-6)
    assert copy.fingerprint == encoder.fingerprint


def test_damaged_or_missing_encoder_files_are_one_line(trained, tmp_path):
    with pytest.raises(RecoveryError, match="holds no encoder.json"):
        load_encoder(tmp_path)
    with pytest.raises(RecoveryError, match="does not exist"):
        load_encoder(tmp_path / "missing")
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ENCODER_FILES:
        (copy / name).write_bytes((trained / name).read_bytes())
    (copy / "encoder.keras").write_bytes(b"cut short")
    with pytest.raises(ModelLoadError, match="checksum does not match") as error:
        load_encoder(copy)
    assert "\n" not in str(error.value)
    (copy / "encoder.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(RecoveryError, match="not an encoder description"):
        load_encoder(copy)


# --------------------------------------------------------------------------------------------
# Fingerprints and init=
# --------------------------------------------------------------------------------------------


def test_fingerprint_tells_generators_apart(tiny, other):
    again = load_generator(tiny[0])
    assert fingerprint_mismatch(generator_fingerprint(tiny[1]), again) is None
    problem = fingerprint_mismatch(generator_fingerprint(tiny[1]), other)
    assert problem and "other pictures" in problem


def test_init_dir_starts_from_the_encoders_latent(trained, tiny):
    generator = tiny[1]
    target = generator(np.random.default_rng(3).standard_normal((1, 16))).numpy()[0]
    predicted = load_encoder(trained).predict(target)[0]
    seen = []
    result = recover_latent(generator, target, init=str(trained), steps=4, restarts=2,
                            frames_every=1, progress=False,
                            callback=lambda step, losses: seen.append(losses.copy()))
    assert result.loss_history.shape == (4, 2)
    encoded_loss = float(np.mean((generator(predicted[np.newaxis]).numpy()[0] - target) ** 2))
    assert seen[0][0] == pytest.approx(encoded_loss, rel=1e-4)  # step 0 scores the prediction
    assert result.best_loss <= encoded_loss + 1e-7  # refining never returns worse


def test_init_defaults_to_the_short_refinement(trained, tiny):
    from progan_tf.recovery.settings import PRESETS

    target = np.full((8, 8, 3), 0.5, np.float32)
    result = recover_latent(tiny[1], target, init=load_encoder(trained), progress=False)
    assert result.loss_history.shape == (PRESETS["encoder"].steps, PRESETS["encoder"].restarts)


def test_encoder_of_another_generator_is_refused(trained, other):
    with pytest.raises(RecoveryError, match="belongs to") as error:
        recover_latent(other, np.zeros((8, 8, 3)), init=str(trained), progress=False)
    message = str(error.value)
    assert "train-encoder" in message and "\n" not in message


def test_init_encoder_without_an_encoder_for_this_generator(tiny, tmp_path, monkeypatch):
    # The bundled encoder belongs to the bundled generator, not to this one.
    with pytest.raises(RecoveryError, match="belongs to 'bundled'"):
        recover_latent(tiny[1], np.zeros((8, 8, 3)), init="encoder", progress=False)
    # No encoder installed at all.
    monkeypatch.setattr(encoding, "bundled_encoder_folder", lambda: tmp_path)
    with pytest.raises(RecoveryError, match="no encoder is installed"):
        recover_latent(tiny[1], np.zeros((8, 8, 3)), init="encoder", progress=False)
    assert plan_search(tiny[1]).init is None


def test_init_bad_values(trained, tiny):
    with pytest.raises(RecoveryError, match="not both"):
        recover_latent(tiny[1], np.zeros((8, 8, 3)), init=str(trained),
                       initial_latents=np.ones(16), progress=False)
    with pytest.raises(RecoveryError, match="Received: init=3"):
        recover_latent(tiny[1], np.zeros((8, 8, 3)), init=3, progress=False)


def test_plan_search_paths(trained, tiny):
    plan = plan_search(tiny[1])
    assert (plan.init, plan.label, plan.steps, plan.restarts) == (None, "full search", 300, 8)
    plan = plan_search(tiny[1], encoder=str(trained), steps=7)
    assert plan.label == "encoder + refinement" and plan.steps == 7
    assert plan_search(tiny[1], encoder=str(trained), full_search=True).init is not None


def test_shipped_encoder_belongs_to_the_shipped_generator():
    """Fails when the bundled model changes without its encoder being retrained."""
    bundled = encoding.bundled_encoder_folder()
    encoder = load_encoder("bundled")
    encoder.check(load_generator("bundled"))  # raises on a fingerprint mismatch
    size = sum(bundled.joinpath(name).stat().st_size for name in ENCODER_FILES)
    assert size < 3 * 2**20
    assert "train-encoder --model bundled" in encoder.metadata["training_command"]


# --------------------------------------------------------------------------------------------
# Training: resuming, budgets, folders refused
# --------------------------------------------------------------------------------------------


def test_an_interrupted_training_resumes_exactly(tiny, small_faces, tmp_path):
    options = dict(data_dir=str(small_faces), holdout=2, steps=8)
    straight = train_encoder(tiny_encoder_config(tiny[0], tmp_path / "a", **options),
                             generator=tiny[1], progress=False)
    stopped = train_encoder(tiny_encoder_config(tiny[0], tmp_path / "b", **options),
                            generator=tiny[1], progress=False, stop_after_steps=3)
    assert not is_encoder_folder(stopped) and list((stopped / "checkpoints").glob("ckpt-*"))
    resumed = train_encoder(tiny_encoder_config(tiny[0], tmp_path / "b", **options),
                            resume=True, generator=tiny[1], progress=False)
    for a, b in zip(load_encoder(straight).network.weights, load_encoder(resumed).network.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    assert json.loads((resumed / "encoder.json").read_text())["steps"] == 8


def test_time_budget_and_training_on_generated_pairs_only(tiny, tmp_path):
    out = train_encoder(tiny_encoder_config(tiny[0], tmp_path / "run", minutes=1e-6,
                                            steps=1000), generator=tiny[1], progress=False)
    metadata = json.loads((out / "encoder.json").read_text())
    assert metadata["steps"] == 1 and set(metadata["metrics"]) == {"generated"}


def test_folders_that_cannot_hold_a_new_training_are_refused(trained, tiny, other, tmp_path):
    config = read_encoder_run(trained)
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        train_encoder(config, generator=tiny[1], progress=False)
    with pytest.raises(RunDirectoryError, match="trains an encoder for"):
        train_encoder(config, resume=True, generator=other, progress=False)
    with pytest.raises(RunDirectoryError, match=r"other options: seed 9 \(run: 1\)"):
        train_encoder(dataclasses.replace(config, seed=9), resume=True, generator=tiny[1],
                      progress=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(RunDirectoryError, match="not empty"):
        train_encoder(tiny_encoder_config(tiny[0], foreign), generator=tiny[1], progress=False)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    gan_run = tmp_path / "gan"
    gan_run.mkdir()
    (gan_run / "run.json").write_text(json.dumps({"data_dir": "faces", "resolution": 8}))
    for resume in (False, True):
        with pytest.raises(RunDirectoryError, match="another kind of run"):
            train_encoder(tiny_encoder_config(tiny[0], gan_run), resume=resume,
                          generator=tiny[1], progress=False)
    with pytest.raises(RunDirectoryError, match="no run to resume"):
        train_encoder(tiny_encoder_config(tiny[0], tmp_path / "none"), resume=True,
                      generator=tiny[1], progress=False)
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("option, value", [("steps", 0), ("learning_rate", -1.0),
                                           ("crop", "oval"), ("minutes", math.nan)])
def test_bad_options(tiny, tmp_path, option, value):
    with pytest.raises(OptionError, match=f"Received: {option}="):
        train_encoder(tiny_encoder_config(tiny[0], tmp_path / "run", **{option: value}),
                      generator=tiny[1], progress=False)
    assert not (tmp_path / "run").exists()
