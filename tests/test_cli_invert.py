"""``progan-tf invert``: latent recovery of a photo from the command line."""

import json

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_line_error, progan_tf

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
    assert result.returncode == 2 and "must be positive" in result.stderr
