"""Fine-tuning (``TrainConfig.init`` / ``progan-tf train --init``) on tiny 8x8 exports."""

import json
import re
import shutil
import sys

import keras
import numpy as np
import pytest
from conftest import tiny_config

from progan_tf import cli
from progan_tf.errors import DatasetError, RunDirectoryError
from progan_tf.gan import checkpoint
from progan_tf.gan.export import export_generator, export_run
from progan_tf.gan.finetune import INIT_FILE, prepare, read_init, typed_options
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.schedule import Schedule
from progan_tf.gan.train import TrainConfig, train
from progan_tf.pixels import from_signed_unit

ARCHITECTURE = {"resolution": 8, "latent_dim": 16, "fmap_max": 8}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """An 8x8 export (latent 16, 8 feature maps) whose weights no fresh run starts with."""
    keras.utils.set_random_seed(1234)
    common = {"resolution": 8, "fmap_max": 8, "stage_resolution": 8}
    generator = ProgressiveGenerator(latent_dim=16, name="ema_generator", **common)
    discriminator = ProgressiveDiscriminator(name="discriminator", **common)
    return export_generator(generator, tmp_path_factory.mktemp("init") / "export", discriminator,
                            {"kimg": 1.0, "training_command": "progan-tf train made-up"})


def finetune_config(faces, out, init, **overrides):
    """A fine-tuning config that names no architecture: all of it comes from ``init``."""
    values = dict(data_dir=str(faces), out_dir=str(out), init=str(init), kimg_per_phase=0.032,
                  batch_sizes={8: 8}, seed=3)
    return TrainConfig(**{**values, **overrides})


class Capture(keras.callbacks.Callback):
    """What the model draws and scores when training begins (after the init weights)."""

    def __init__(self, latents, images):
        super().__init__()
        self.latents, self.images, self.seen = latents, images, []

    def on_train_begin(self, logs=None):
        model = self.model
        self.seen.append({"shown": int(model.images_shown.numpy()),
                          "ema": model.sample(self.latents).numpy(),
                          "generator": model.sample(self.latents, use_ema=False).numpy(),
                          "scores": model.discriminator(self.images).numpy()})


def test_schedule_is_one_stable_phase_at_the_export_resolution(export):
    config, callbacks = prepare(finetune_config("faces", "run", export, final_kimg=0.048))
    assert len(callbacks) == 1
    phases = config.schedule().phases
    assert [(p.name, p.start_images, p.num_images, p.batch_size) for p in phases] == \
        [("8x8 stable", 0, 48, 8)]
    schedule = Schedule(32, kimg_per_phase=2, grow=False)
    assert [p.name for p in schedule.phases] == ["32x32 stable"] and schedule.total_images == 2000
    assert Schedule.from_dict(schedule.to_dict()) == schedule
    assert "grow" not in Schedule(32).to_dict()  # growing schedules are stored as before


def test_weights_are_loaded_and_the_run_records_its_init(export, faces, tmp_path):
    config = finetune_config(faces, tmp_path / "run", export)
    assert config.resolution == 64 and config.latent_dim == 512  # the defaults, not the export's
    latents = np.random.default_rng(0).standard_normal((4, 16)).astype("float32")
    images = np.random.default_rng(1).uniform(-1, 1, (8, 8, 8, 3)).astype("float32")
    capture = Capture(latents, images)
    train(config, stop_after_images=16, progress=False, extra_callbacks=[capture])

    generator = keras.models.load_model(export / "generator.keras")
    discriminator = keras.models.load_model(export / "discriminator.keras")
    expected = from_signed_unit(generator(latents)).numpy()
    first = capture.seen[0]
    assert first["shown"] == 0
    np.testing.assert_allclose(first["ema"], expected, atol=1e-6)
    np.testing.assert_allclose(first["generator"], expected, atol=1e-6)
    np.testing.assert_allclose(first["scores"], discriminator(images).numpy(), atol=1e-5)
    fresh = TrainConfig(**{**vars(config), "init": None, **ARCHITECTURE})
    from progan_tf.gan.family import build_model

    untrained = build_model(fresh)
    untrained.start_phase(fresh.schedule().phases[-1])
    assert np.abs(untrained.sample(latents).numpy() - expected).max() > 1e-3  # a real test

    stored = json.loads((tmp_path / "run" / "run.json").read_text())
    assert stored["init"] == str(export.resolve())
    assert {key: stored[key] for key in ARCHITECTURE} == ARCHITECTURE
    recorded = json.loads((tmp_path / "run" / INIT_FILE).read_text())
    assert recorded["init"] == str(export.resolve()) and recorded["kimg"] == 1.0


def test_resume_continues_without_the_export_and_the_export_says_where_from(
        export, faces, tmp_path):
    own = shutil.copytree(export, tmp_path / "model")
    run = tmp_path / "run"
    config = finetune_config(faces, run, own)
    train(config, stop_after_images=16, progress=False)
    before = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))["images_shown"]
    assert before == 16

    with pytest.raises(RunDirectoryError, match="init"):  # another --init: refused
        train(finetune_config(faces, run, export), resume=True, progress=False)

    moved = own.rename(tmp_path / "moved")  # the checkpoint, not the export, is read now
    capture = Capture(np.zeros((1, 16), "float32"), np.zeros((8, 8, 8, 3), "float32"))
    train(config, resume=True, progress=False, extra_callbacks=[capture], log_every=1)
    assert capture.seen[0]["shown"] == 16
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert state["images_shown"] == 32 == config.schedule().total_images
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["phase-00-8px-stable.png"]
    assert (run / "losses.csv").read_text().count("\n") == 1 + 2  # the resumed steps

    metadata = json.loads((export_run(run, tmp_path / "export") / "metadata.json").read_text())
    assert metadata["phase"] == "8x8 stable" and metadata["schedule"]["grow"] is False
    assert metadata["fine_tuned_from"]["init"] == str(moved.parent / "model")
    assert metadata["config"]["init"] == str(moved.parent / "model")
    assert metadata["fine_tuned_from"]["architecture"]["latent_dim"] == 16


def test_bundled_is_read_from_the_package():
    bundled = read_init("bundled")
    assert bundled.init == "bundled" and bundled.architecture["resolution"] >= 32
    config = finetune_config("faces", "run", "bundled")
    assert config.schedule().phases[0].resolution == 64  # TrainConfig alone does not read it


@pytest.mark.parametrize("damage, message", [
    ("missing", "does not exist"),
    ("no-keras", "has no generator.keras or discriminator.keras"),
    ("format", "another format"),
    ("no-metadata", "is not a progan-tf export"),
    ("run", "is a training run, not an export; export it first"),
    ("damaged", "damaged: its generator.keras cannot be read"),
])
def test_unusable_exports_are_refused_in_one_line(export, faces, tmp_path, damage, message):
    folder = tmp_path / "init"
    if damage != "missing":
        shutil.copytree(export, folder)
    if damage == "no-keras":
        for path in folder.glob("*.keras"):
            path.unlink()
    elif damage == "format":
        info = json.loads((folder / "metadata.json").read_text())
        (folder / "metadata.json").write_text(json.dumps({**info, "format": "other 2"}))
    elif damage == "no-metadata":
        (folder / "metadata.json").unlink()
    elif damage == "run":
        (folder / "run.json").write_text("{}")
    elif damage == "damaged":
        (folder / "generator.keras").write_bytes(b"not a zip file")
    with pytest.raises(DatasetError, match=message) as caught:
        train(finetune_config(faces, tmp_path / "run", folder), progress=False)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_options_that_contradict_the_export_are_refused(export, faces, tmp_path):
    with pytest.raises(DatasetError, match=r"8x8 model .* resolution 16 \(export: 8\); "
                                           r"fmap_max 32 \(export: 8\)"):
        train(finetune_config(faces, tmp_path / "run", export, resolution=16, fmap_max=32))
    # the export's own values are fine, whether given or not
    assert tiny_config(faces, "run", init=str(export)).resolution == 8
    with pytest.raises(DatasetError, match="init must be None"):
        TrainConfig("faces", "run", init=5).validate()
    assert not (tmp_path / "run").exists()


def test_typed_options_come_from_the_command_line():
    assert typed_options("progan-tf train faces --init bundled --out run") == set()
    assert typed_options("progan-tf train faces --resolution 64 --latent-dim=8 --fmap-d 1") == \
        {"resolution", "latent_dim", "fmap_decay"}
    assert typed_options("python train.py --resolution 64") is None


@pytest.mark.parametrize("extra, message", [
    (["--init", "no-such-export"], "--init 'no-such-export' does not exist"),
    (["--resolution", "64"], r"resolution 64 \(export: 8\)"),  # typed, though the default
])
def test_cli_init_errors_are_one_line_and_leave_no_run(export, faces, tmp_path, monkeypatch,
                                                       capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    args = ["train", str(faces), "--out", "run", "--init", str(export), *extra]
    monkeypatch.setattr(sys, "argv", ["progan-tf", *args])
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("progan-tf: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()
