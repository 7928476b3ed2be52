"""``progan-tf invert``: latent recovery of a photo from the command line."""

import json
import os

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_line_error, progan_tf

from progan_tf.recovery import RESULT_FILES

OUTPUTS = {"target.png", "recovered.png", "comparison.png", "search.gif", "latent.npy",
           "metrics.json"}


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory):
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def test_invert_face_crop_writes_everything(tf2_saved_model_dir, astronaut_png, tmp_path):
    out = tmp_path / "inv"
    result = progan_tf("invert", astronaut_png, "--model", tf2_saved_model_dir, "--steps", 15,
                       "--restarts", 2, "--face-crop", "--out", out)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert Image.open(out / "target.png").size == (32, 32)   # resized to the model's size
    assert np.load(out / "latent.npy").shape == (64,)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 15 and metrics["restarts"] == 2 and metrics["psnr"] > 0
    assert "PSNR" in result.stdout
    # The summary names every file written, once, and the folder (save() returns them).
    assert f"wrote {', '.join(RESULT_FILES)} to {out}" \
        in result.stdout


@pytest.mark.parametrize("mode", ["RGBA", "L", "tiny"])
def test_invert_odd_images(tf2_saved_model_dir, tmp_path, mode):
    path = tmp_path / f"{mode}.png"
    if mode == "tiny":
        Image.new("RGB", (5, 7), (200, 10, 10)).save(path)
    else:
        Image.new(mode, (40, 30), 0).save(path)   # fully transparent RGBA; black grayscale
    out = tmp_path / "out"
    args = ["invert", path, "--model", tf2_saved_model_dir, "--steps", 5, "--restarts", 1,
            "--out", out]
    if mode == "tiny":
        args.append("--face-crop")  # no face in a 5x7 image: centre crop with a warning
    result = progan_tf(*args)
    assert result.returncode == 0, result.stderr
    target = np.asarray(Image.open(out / "target.png"))
    assert target.shape == (32, 32, 3)
    if mode == "RGBA":
        assert target.min() == 255  # transparent composited on white
    if mode == "tiny":
        assert "no face" in result.stderr


def test_invert_bad_input(tf2_saved_model_dir, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert_one_line_error(progan_tf("invert", text, "--model", tf2_saved_model_dir, "--out",
                                    tmp_path / "a"), "notes.png")
    assert_one_line_error(progan_tf("invert", tmp_path / "missing.jpg", "--model",
                                    tf2_saved_model_dir, "--out", tmp_path / "b"), "missing.jpg")
    assert_one_line_error(progan_tf("invert", text, "--model", tmp_path / "no-model", "--out",
                                    tmp_path / "c"), "no-model")
    result = progan_tf("invert", text, "--steps", "0", "--out", tmp_path / "d")
    assert result.returncode == 2 and "must be a whole number >= 1. Received: 0" in result.stderr


def test_invert_zoom_enlarges_the_comparison(tf2_saved_model_dir, astronaut_png, tmp_path):
    """Needs ``RecoveryResult.save(directory, zoom=...)`` (the recovery side of issue 10)."""
    sizes = {}
    for zoom in ("3", "auto"):
        out = tmp_path / zoom
        result = progan_tf("invert", astronaut_png, "--model", tf2_saved_model_dir, "--steps", 2,
                           "--restarts", 1, "--no-face-crop", "--zoom", zoom, "--out", out)
        assert result.returncode == 0, result.stderr
        assert Image.open(out / "target.png").size == (32, 32)  # the data stays native
        sizes[zoom] = Image.open(out / "comparison.png").size
    # Two 32 px pictures with 2 px padding are 70 x 36 px; the labels add a strip on top.
    assert sizes["3"][0] >= 3 * 70 and sizes["3"][1] > 3 * 36
    assert sizes["auto"][0] >= 4 * 70 and sizes["auto"][1] > 4 * 36  # auto: 128 px pictures


def test_invert_frames_faces_by_default(tf2_saved_model_dir, tmp_path):
    photo = tmp_path / "plain.png"
    Image.new("RGB", (60, 40), (90, 120, 30)).save(photo)
    args = ["invert", photo, "--model", tf2_saved_model_dir, "--steps", 2, "--restarts", 1]
    result = progan_tf(*args, "--out", tmp_path / "a")
    assert result.returncode == 0, result.stderr
    assert "progan-tf: warning: no face" in result.stderr  # the face crop ran by default
    assert "warnings.warn" not in result.stderr  # one line, no source line
    result = progan_tf(*args, "--no-face-crop", "--out", tmp_path / "b")
    assert result.returncode == 0, result.stderr
    assert "no face" not in result.stderr


def test_invert_without_opencv_falls_back_with_a_warning(tf2_saved_model_dir, tmp_path):
    from test_cli import ENV

    blocker = tmp_path / "no_cv2" / "cv2"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('cv2 is blocked for this test')\n")
    path = os.pathsep.join([str(blocker.parent), ENV.get("PYTHONPATH", "")])
    env = {**ENV, "PYTHONPATH": path}
    photo = tmp_path / "plain.png"
    Image.new("RGB", (60, 40), (90, 120, 30)).save(photo)
    args = ["invert", photo, "--model", tf2_saved_model_dir, "--steps", 2, "--restarts", 1]
    result = progan_tf(*args, "--out", tmp_path / "a", env=env)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "progan-tf[face]" in line]
    assert warning and warning[0].startswith("progan-tf: warning:"), result.stderr
    assert (tmp_path / "a" / "target.png").exists()
    # Asked for explicitly, a missing detector is an error.
    assert_one_line_error(progan_tf(*args, "--face-crop", "--out", tmp_path / "b", env=env),
                          "progan-tf[face]")
