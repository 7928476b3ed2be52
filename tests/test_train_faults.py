"""Faults around training: kills during checkpoint writes, a second process, hostile images."""

import io
import json
import os
import socket
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import TRAIN_ENV as ENV
from conftest import tiny_config, write_faces
from PIL import Image

from progan_tf.errors import RunDirectoryError
from progan_tf.gan import checkpoint
from progan_tf.gan.callbacks import ProgressBar, describe_step
from progan_tf.gan.runlock import LOCK_FILE, RunLock
from progan_tf.gan.train import train
from progan_tf.training import data

# A model saved twice at the same image count (a periodic save on a phase's last batch, then
# the phase-end save), or saved three times so that rotation deletes the oldest: the process is
# killed (os._exit, no cleanup runs) at the critical moment named on the command line.
KILL = r"""
import os, shutil, sys
from pathlib import Path
from progan_tf.gan import checkpoint
from progan_tf.gan.schedule import Schedule
from progan_tf.gan.train import TrainConfig, build_model

moment, ckpt_dir = sys.argv[1], Path(sys.argv[2])
config = TrainConfig(data_dir=".", out_dir=".", resolution=4, latent_dim=8, fmap_max=8)
model = build_model(config)
model.start_phase(Schedule(4, 0.064).phases[0])
model.images_shown.assign(8)
checkpoint.save(model, ckpt_dir)
model.images_shown.assign(16)
checkpoint.save(model, ckpt_dir)
if moment == "resave":  # killed while the checkpoint of the same count is being replaced
    real_replace = os.replace
    def replace(src, dst):
        if Path(src).name.startswith(".tmp-ckpt-"):
            os._exit(9)
        real_replace(src, dst)
    os.replace = replace
else:  # killed after rotation deleted the first file of the oldest checkpoint
    real_unlink = os.unlink
    def unlink(path, *args, **kwargs):
        real_unlink(path, *args, **kwargs)
        os._exit(9)
    os.unlink = unlink
    model.images_shown.assign(24)
checkpoint.save(model, ckpt_dir)
print("not killed")
"""


@pytest.mark.parametrize("moment", ["resave", "rotation"])
def test_a_kill_while_saving_loses_no_checkpoint(tmp_path, moment):
    ckpt_dir = tmp_path / "checkpoints"
    result = subprocess.run([sys.executable, "-c", KILL, moment, str(ckpt_dir)], env=ENV,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr[-2000:]
    # Every ckpt-* folder left behind is complete; the newest one survived.
    for path in ckpt_dir.glob("ckpt-*"):
        assert checkpoint.problem(path) is None, path
    checkpoint.clean_up(ckpt_dir)
    expected = 16 if moment == "resave" else 24
    assert checkpoint.read_state(checkpoint.latest(ckpt_dir))["images_shown"] == expected
    assert not [p for p in ckpt_dir.iterdir() if p.name.startswith(".") and p.is_dir()]
    assert len(list(ckpt_dir.glob("ckpt-*"))) == 2


def test_clean_up_touches_only_what_checkpointing_leaves(tmp_path):
    ckpt_dir = tmp_path / "checkpoints"
    ours = [".tmp-ckpt-abc123", ".deleting-ckpt-000000000008-1a2b3c4d"]
    theirs = ["notes", ".tmp-other", "ckpt-backup-by-hand"]
    for name in ours + theirs:
        (ckpt_dir / name).mkdir(parents=True)
        (ckpt_dir / name / "file").write_text("x")
    (ckpt_dir / ".latest.k2j3h4").write_text("ckpt-0")
    # A checkpoint renamed aside by a killed re-save comes back when nothing replaced it.
    (ckpt_dir / ".replaced-ckpt-000000000016-0a0b0c0d").mkdir()
    done = checkpoint.clean_up(ckpt_dir)
    assert sorted(p.name for p in ckpt_dir.iterdir()) == sorted(theirs + ["ckpt-000000000016"])
    assert len(done) == 4


def test_a_live_run_is_locked_and_names_its_holder(faces, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(tiny_config(faces, out).to_json())
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (out / LOCK_FILE).write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                 "since": "2026-01-01T10:00:00+00:00"}))
        with pytest.raises(RunDirectoryError, match="in use by another training process") as error:
            train(tiny_config(faces, out), resume=True, progress=False)
        message = str(error.value)
        assert f"pid {holder.pid} on {socket.gethostname()} since 2026-01-01T10:00" in message
        assert (out / LOCK_FILE).exists()  # the holder's lock is left alone
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_released_on_errors_and_refuses_a_second_holder(tmp_path, caplog):
    with pytest.raises(ZeroDivisionError):
        with RunLock(tmp_path, "first"):
            assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
            with pytest.raises(RunDirectoryError, match=f"pid {os.getpid()}"):
                RunLock(tmp_path, "second").acquire()
            raise ZeroDivisionError
    assert not (tmp_path / LOCK_FILE).exists()
    (tmp_path / LOCK_FILE).write_text("")  # left half-written by something else: stale
    with RunLock(tmp_path):
        pass
    assert "stale lock" in caplog.text and not (tmp_path / LOCK_FILE).exists()


def test_training_loader_skips_oversized_pictures_with_a_count(tmp_path, caplog):
    folder = write_faces(tmp_path / "images", count=3)
    Image.new("RGB", (200, 200), (10, 20, 30)).save(folder / "big.png")
    loaded = data.load_image_folder(folder, 8, max_pixels=100 * 100)
    assert len(loaded) == 3 and [p.rsplit("/", 1)[-1] for p in loaded.skipped] == ["big.png"]
    assert "skipped 1 of 4 files: 0 could not be decoded as images, 1 have more than 10,000 " \
           "pixels" in caplog.text


def test_a_decompression_bomb_png_is_skipped_not_decoded(tmp_path, caplog):
    folder = write_faces(tmp_path / "images", count=2)
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")  # ~50 kB file, 400 megapixels
    loaded = data.load_image_folder(folder, 8)
    assert len(loaded) == 2 and loaded.skipped[0].endswith("bomb.png")
    assert "1 have more than 64,000,000 pixels" in caplog.text


def test_training_honours_exif_orientation_like_load_image(tmp_path):
    from progan_tf.images import load_image

    stored = np.zeros((32, 32, 3), np.uint8)
    stored[:16] = (250, 10, 10)  # red on top as stored ...
    stored[16:] = (10, 10, 250)
    exif = Image.Exif()
    exif[0x0112] = 6  # ... shown rotated 90 degrees clockwise: red on the right
    (tmp_path / "images").mkdir()
    Image.fromarray(stored).save(tmp_path / "images" / "phone.jpg", exif=exif, quality=95)
    trained = data.load_image_folder(tmp_path / "images", 8, crop="none").images[0]
    upright = np.rot90(stored, k=-1)
    assert np.abs(trained.astype(int) - upright[::4, ::4].astype(int)).max() < 40
    assert trained[:, 6:, 0].min() > 200 and trained[:, :2, 2].min() > 200
    # One decoder: at full size, training's pixels are exactly load_image's.
    full, _ = data.decode_training_image(tmp_path / "images" / "phone.jpg", 32, crop="none")
    shown = load_image(tmp_path / "images" / "phone.jpg")
    np.testing.assert_array_equal(full, np.round(shown * 255).astype(np.uint8))


def test_progress_bar_never_overshoots_and_closes_at_the_end():
    class Count:
        value = 0

        def numpy(self):
            return np.int64(self.value)

    class Model:
        images_shown = Count()
        phase = type("Phase", (), {"resolution": 4, "fading": False})

    stream = io.StringIO()
    bar = ProgressBar(1000, every_n_batches=1, file=stream, describe=describe_step)
    bar.set_model(Model())
    logs = {"alpha": 1.0, "d_loss": 0.1, "g_loss": 0.2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tqdm's "clamping frac to range [0, 1]"
        for step in range(1, 146):  # batches of 7 images: the last one passes 1000
            Model.images_shown.value = min(step * 7, 1015)
            bar.on_train_batch_end(step, logs)
        bar.close(1015)
    assert bar.bar.n == bar.bar.total == 1000
    assert "1.0/1.0 kimg" in stream.getvalue() and "<-" not in stream.getvalue()
