"""Training, resuming, checkpointing and exporting the Keras progressive GAN."""

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import TRAIN_ENV as ENV
from conftest import read_csv, tiny_config, write_faces
from PIL import Image
from test_cli import progan_tf_here

from progan_tf import fileio
from progan_tf.errors import DatasetError, RunDirectoryError
from progan_tf.gan import checkpoint
from progan_tf.gan.schedule import Schedule
from progan_tf.gan.train import train
from progan_tf.training import data

__all__ = ["ENV", "read_csv", "tiny_config", "write_faces"]  # older tests import them from here


def test_schedule_phases_alpha_and_batches():
    schedule = Schedule(16, kimg_per_phase=1, batch_sizes={8: 7}, final_kimg=3)
    names = [p.name for p in schedule.phases]
    assert names == ["4x4 stable", "8x8 fade-in", "8x8 stable", "16x16 fade-in", "16x16 stable"]
    assert [p.num_images for p in schedule.phases] == [1000, 1000, 1000, 1000, 3000]
    assert schedule.total_images == 7000
    fade = schedule.phases[1]
    assert fade.batch_size == 7 and fade.alpha(1000) == 0 and fade.alpha(1500) == 0.5
    assert schedule.phases[2].alpha(2100) == 1.0
    assert schedule.phase_at(2999).name == "8x8 stable"
    assert schedule.phase_at(10 ** 9).name == "16x16 stable"
    with pytest.raises(ValueError, match="power of two"):
        Schedule(48)


def test_image_folder_handles_modes_and_skips_broken_files(tmp_path, caplog):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (16, 16), (255, 0, 0)).save(folder / "rgb.jpg")
    Image.new("L", (16, 16), 128).save(folder / "sub" / "gray.png")
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(folder / "clear.png")
    Image.new("RGB", (4, 4), (0, 0, 255)).save(folder / "small.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    loaded = data.load_image_folder(folder, 8)
    assert loaded.images.shape == (4, 8, 8, 3) and loaded.images.dtype == np.uint8
    by_name = {Path(f).name: img for f, img in zip(loaded.files, loaded.images)}
    assert np.all(by_name["clear.png"] == 255)          # transparent -> white
    assert np.all(np.abs(by_name["gray.png"].astype(int) - 128) <= 1)
    assert by_name["rgb.jpg"][..., 0].min() > 240
    assert [Path(p).name for p in loaded.skipped] == ["broken.jpg"]
    assert loaded.upscaled == 1
    assert "skipped 1 of 5" in caplog.text and "upscaled" in caplog.text


def test_celeba_crop_is_the_papers_square(tmp_path):
    image = np.zeros((109, 89, 3), np.uint8)
    image[28:92, 12:76] = 255  # the 64x64 square the paper's crop takes from 89x109
    Image.fromarray(image).save(tmp_path / "face.png")
    loaded = data.load_image_folder(tmp_path, 64, crop="celeba")
    assert loaded.images.min() >= 250


@pytest.mark.parametrize("make,message", [
    (lambda d: None, "no image files"),
    (lambda d: (d / "a.jpg").write_bytes(b"garbage"), "could be decoded"),
])
def test_image_folder_errors(tmp_path, make, message):
    folder = tmp_path / "data"
    folder.mkdir()
    make(folder)
    with pytest.raises(DatasetError, match=message):
        data.load_image_folder(folder, 8)
    with pytest.raises(DatasetError, match="does not exist"):
        data.load_image_folder(tmp_path / "missing", 8)


def test_training_stream_resumes_at_any_image_index():
    images = np.random.default_rng(0).integers(0, 255, (10, 4, 4, 3), dtype=np.uint8)
    stream = data.training_dataset(images, 4, 3, seed=5)
    full = np.concatenate([b.numpy() for b, _ in zip(stream, range(8))])
    later = next(iter(data.training_dataset(images, 4, 3, start_index=12, seed=5))).numpy()
    np.testing.assert_array_equal(full[12:15], later)
    # Every epoch shows every image once (before mirroring).
    unflipped = data.training_dataset(images, 4, 10, seed=5, mirror=False)
    epoch = next(iter(unflipped)).numpy()
    originals = images.astype(np.float32) / 127.5 - 1
    assert sorted(map(bytes, epoch.round(4))) == sorted(map(bytes, originals.round(4)))


def test_train_writes_run_folder(faces, tmp_path):
    run = train(tiny_config(faces, tmp_path / "run"), progress=False, log_every=2)
    assert (run / "run.json").exists() and (run / "losses.png").exists()
    # Written with a new file's mode, not mkstemp's 0600.
    assert (run / "run.json").stat().st_mode & 0o777 == 0o666 & ~fileio.umask()
    samples = sorted(p.name for p in (run / "samples").glob("*.png"))
    assert samples == ["phase-00-4px-stable.png", "phase-01-8px-fade.png",
                       "phase-02-8px-stable.png"]
    rows = read_csv(run / "losses.csv")
    assert {r["resolution"] for r in rows} == {"4", "8"}
    assert all(np.isfinite(float(r["d_loss"])) for r in rows)
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert state["images_shown"] >= 192
    assert list((run / "logs").glob("events.out.tfevents.*"))


def test_refuses_existing_run_and_bad_options(faces, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(faces, out, resolution=4), progress=False)
    with pytest.raises(RunDirectoryError, match="already holds a run; pass --resume"):
        train(tiny_config(faces, out, resolution=4), progress=False)
    with pytest.raises(RunDirectoryError, match="no run to resume"):
        train(tiny_config(faces, tmp_path / "new"), resume=True, progress=False)
    with pytest.raises(DatasetError, match="power of two"):
        train(tiny_config(faces, tmp_path / "r2", resolution=48), progress=False)
    with pytest.raises(DatasetError, match="leaves nothing"):
        train(tiny_config(faces, tmp_path / "r3", holdout=48), progress=False)


def test_seeded_resume_reproduces_uninterrupted_run(faces, tmp_path):
    straight = train(tiny_config(faces, tmp_path / "straight"), progress=False)
    split = tmp_path / "split"
    train(tiny_config(faces, split), stop_after_images=96, progress=False)  # mid fade-in
    assert checkpoint.read_state(checkpoint.latest(split / "checkpoints"))["images_shown"] == 96
    train(tiny_config(faces, split), resume=True, progress=False)
    a, b = read_csv(straight / "losses.csv"), read_csv(split / "losses.csv")
    after = [r for r in a if float(r["kimg"]) > 0.096]
    resumed = [r for r in b if float(r["kimg"]) > 0.096]
    assert [r["kimg"] for r in after] == [r["kimg"] for r in resumed]
    for x, y in zip(after, resumed):
        np.testing.assert_allclose(float(x["d_loss"]), float(y["d_loss"]), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(float(x["g_loss"]), float(y["g_loss"]), rtol=1e-4, atol=1e-4)


def test_full_disk_keeps_previous_checkpoint(faces, tmp_path, monkeypatch):
    run = train(tiny_config(faces, tmp_path / "run", resolution=4), progress=False)
    ckpt_dir = run / "checkpoints"
    before = checkpoint.latest(ckpt_dir)
    from progan_tf.gan.train import build_model
    model = build_model(tiny_config(faces, run, resolution=4))
    model.start_phase(Schedule(4, 0.064).phases[0])
    checkpoint.restore(model, before)
    model.images_shown.assign_add(8)

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", no_space)
    with pytest.raises(RunDirectoryError, match="No space left on device.*intact"):
        checkpoint.save(model, ckpt_dir)
    assert checkpoint.latest(ckpt_dir) == before
    assert not list(ckpt_dir.glob(".tmp-*"))
    checkpoint.restore(model, before)  # still loads


def test_export_loads_like_progan128_through_tensorflow_hub(faces, tmp_path):
    import tensorflow_hub as hub

    from progan_tf.gan.export import export_run

    run = train(tiny_config(faces, tmp_path / "run"), progress=False)
    out = export_run(run, tmp_path / "export")
    signature = hub.load(str(out)).signatures["default"]
    _, kwargs = signature.structured_input_signature
    assert list(kwargs) == ["default"] and kwargs["default"].shape.as_list() == [None, 16]
    assert signature.structured_outputs["default"].shape.as_list() == [None, 8, 8, 3]
    images = signature(default=tf.random.normal([3, 16]))["default"].numpy()
    assert images.shape == (3, 8, 8, 3) and images.min() >= 0 and images.max() <= 1
    assert images.std() > 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["resolution"] == 8 and meta["latent_dim"] == 16 and meta["images_shown"] >= 192
    assert (out / "generator.keras").exists()
    assert out.stat().st_mode & 0o777 == 0o777 & ~fileio.umask()  # readable
    with pytest.raises(RunDirectoryError, match="already exists"):
        export_run(run, out)
    with pytest.raises(RunDirectoryError, match="not a training run"):
        export_run(tmp_path, tmp_path / "x")


def _cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "progan_tf.cli", *args], env=ENV,
                          capture_output=True, text=True, timeout=300, **kwargs)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_continues_schedule(faces, tmp_path):
    out = tmp_path / "run"
    args = ["train", str(faces), "--out", str(out), "--resolution", "8", "--latent-dim", "16",
            "--fmap-max", "8", "--kimg-per-phase", "2", "--batch-sizes", "4:8,8:8",
            "--checkpoint-minutes", "0.002", "--seed", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "progan_tf.cli", *args], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        latest = checkpoint.latest(out / "checkpoints")
        if latest and checkpoint.read_state(latest)["images_shown"] > 2500:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = checkpoint.read_state(checkpoint.latest(out / "checkpoints"))["images_shown"]
    for ckpt in (out / "checkpoints").glob("ckpt-*"):
        checkpoint.read_state(ckpt)  # every checkpoint left behind is complete
        names = {p.name for p in ckpt.iterdir()}
        assert names >= {"generator.npz", "state.json", "g_optimizer.npz"}
    assert (out / "train.lock").exists()  # the killed process could not remove its lock
    result = _cli(*args, "--resume", "--stop-after-kimg", str(killed_at / 1000 + 0.3))
    assert result.returncode == 0, result.stderr
    assert "stale lock" in result.stderr and not (out / "train.lock").exists()
    state = checkpoint.read_state(checkpoint.latest(out / "checkpoints"))
    assert killed_at < state["images_shown"] <= killed_at + 300 + 8
    kimg = [float(r["kimg"]) for r in read_csv(out / "losses.csv")]
    assert kimg == sorted(set(kimg))  # the log was cut back to the checkpoint: no repeats
    assert kimg[-1] > killed_at / 1000  # continued, did not restart at 0


@pytest.mark.slow
def test_sigterm_writes_checkpoint_and_says_how_to_resume(faces, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "progan_tf.cli", "train", str(faces), "--out", str(out),
         "--resolution", "8", "--latent-dim", "16", "--fmap-max", "8", "--kimg-per-phase", "50",
         "--batch-sizes", "4:8,8:8"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "losses.csv").exists():
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM  # 143, as a shell reports SIGTERM
    assert "stopped by SIGTERM" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    assert checkpoint.latest(out / "checkpoints") is not None


def test_cli_train_bad_input_one_line_errors(faces, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["train", str(empty), "--out", str(tmp_path / "a")], "no image files"),
        (["train", str(faces), "--out", str(tmp_path / "b"), "--resolution", "48"], "power of two"),
        (["train", str(faces), "--out", str(tmp_path / "c"), "--resume"], "no run to resume"),
        (["train", str(faces), "--out", str(tmp_path / "d"), "--quality-every-kimg", "5"],
         "give a holdout too. Received: holdout=0"),
        (["export", str(tmp_path), str(tmp_path / "e")], "not a training run"),
        (["export", str(tmp_path), str(tmp_path / "f"), "--metrics", str(tmp_path / "no.json")],
         "cannot read metrics file"),
    ]
    for args, message in cases:
        result = progan_tf_here(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("progan-tf: error:") and message in lines[-1], result.stderr
        assert "Traceback" not in result.stderr


MIRRORED = r"""
import os, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from progan_tf.gan.train import TrainConfig, train
from progan_tf.gan import checkpoint
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
config = TrainConfig(data_dir=sys.argv[1], out_dir=sys.argv[2], resolution=8, latent_dim=16,
                     fmap_max=8, kimg_per_phase=0.032, batch_sizes={4: 8, 8: 8})
run = train(config, strategy=strategy, progress=False)
state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
print("IMAGES", state["images_shown"])
# The second recipe: lazy R1 under tf.cond, and ADA's statistic gathered over the replicas;
# one 4x4 phase is enough for both (the phase changes were trained above).
config.out_dir, config.loss, config.augment, config.r1_interval = sys.argv[3], "ns-r1", "ada", 2
config.ada_kimg, config.resolution, config.batch_sizes = 0.05, 4, {4: 8}
run = train(config, strategy=strategy, progress=False)
state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
print("ADA", state["images_shown"], state["augment_p"])
"""


@pytest.mark.slow
def test_trains_under_mirrored_strategy_on_two_logical_cpus(faces, tmp_path):
    result = subprocess.run([sys.executable, "-c", MIRRORED, str(faces), str(tmp_path / "run"),
                             str(tmp_path / "ada")],
                            env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "IMAGES 96" in result.stdout
    images, probability = result.stdout.split("ADA ")[1].split()
    assert images == "32" and 0 <= float(probability) <= 1
    rows = read_csv(tmp_path / "run" / "losses.csv")
    assert all(np.isfinite(float(r["d_loss"])) for r in rows)


def test_plot_losses_leaves_the_notebook_backend_alone(tmp_path):
    """Training from a notebook must not switch matplotlib to Agg (it blanks later inline plots)."""
    import matplotlib
    import matplotlib.pyplot as plt

    from progan_tf.gan.callbacks import LOSS_FIELDS, plot_losses

    assert plot_losses(tmp_path) is None  # nothing logged yet
    with open(tmp_path / "losses.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOSS_FIELDS)
        writer.writeheader()
        for step in range(6):
            row = dict.fromkeys(LOSS_FIELDS, 0.5)
            row.update(kimg=step, resolution=4 if step < 3 else 8)
            writer.writerow(row)
    previous = matplotlib.get_backend()
    plt.switch_backend("svg")  # stands in for the notebook's inline backend
    try:
        figures = plt.get_fignums()
        path = plot_losses(tmp_path)
        assert matplotlib.get_backend() == "svg" and plt.get_fignums() == figures
    finally:
        plt.switch_backend(previous)
    assert path == tmp_path / "losses.png" and Image.open(path).size == (800, 400)
    assert not list(tmp_path.glob(".*tmp*"))


def test_mixed_bfloat16_trains_and_exports_float32(faces, tmp_path):
    import keras

    from progan_tf.gan.export import export_run
    from progan_tf.gan.train import build_model
    from progan_tf.generator import load_generator

    config = tiny_config(faces, tmp_path / "run", precision="mixed_bfloat16")
    model = build_model(config)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left alone
    assert model.generator.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.generator.weights)  # float32 master weights
    run = train(config, progress=False, log_every=2)
    rows = read_csv(run / "losses.csv")
    assert rows and all(np.isfinite(float(r[k])) for r in rows for k in ("d_loss", "g_loss"))
    assert json.loads((run / "run.json").read_text())["precision"] == "mixed_bfloat16"
    generator = load_generator(str(export_run(run, tmp_path / "export")))
    images = generator(np.random.default_rng(0).standard_normal((2, 16)))
    assert images.dtype == tf.float32 and images.shape == (2, 8, 8, 3)
    with pytest.raises(DatasetError, match="precision must be one of"):
        train(tiny_config(faces, tmp_path / "bad", precision="float16"), progress=False)
