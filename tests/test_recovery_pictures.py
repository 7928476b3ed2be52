"""Pictures of a recovery that people can see (issue 10, C15): whole-factor zoom, sharp pixels,
labelled comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from progan_tf.generator import load_generator
from progan_tf.images import make_grid, to_uint8
from progan_tf.latents import sample_latents
from progan_tf.recovery import RecoveryError, recover_latent

SIDE = 32  # tf2_saved_model_dir makes 32x32 images: "auto" zooms them 4x to 128 px


@pytest.fixture(scope="module")
def result(tf2_saved_model_dir):
    generator = load_generator(tf2_saved_model_dir)
    target = generator(sample_latents(1, generator.latent_dim, seed=1)).numpy()[0]
    return recover_latent(generator, target, steps=6, restarts=2, frames_every=3, progress=False)


def native_comparison(result) -> np.ndarray:
    return to_uint8(make_grid([result.target, result.image], ncols=2))


def check_comparison(path, result, zoom: int) -> np.ndarray:
    """The image area is the native comparison with every pixel a zoom x zoom block; returns
    the label strip above it."""
    picture = np.asarray(Image.open(path).convert("RGB"))
    native = native_comparison(result)
    height, width = zoom * native.shape[0], zoom * native.shape[1]
    strip = picture.shape[0] - height
    assert picture.shape[1] == width  # these labels fit above their images
    assert 10 <= strip <= 60
    expected = np.repeat(np.repeat(native, zoom, axis=0), zoom, axis=1)
    np.testing.assert_array_equal(picture[strip:], expected)
    return picture[:strip]


def has_text(strip: np.ndarray) -> bool:
    return bool((strip < 100).any() and (strip == 255).any())


def test_save_zooms_and_labels_the_comparison_and_the_search(result, tmp_path):
    folder = result.save(tmp_path / "out")["target.png"].parent
    assert folder == tmp_path / "out"
    strip = check_comparison(folder / "comparison.png", result, zoom=4)
    half = strip.shape[1] // 2
    assert has_text(strip[:, :half]) and has_text(strip[:, half:])  # a label over each image
    # The data stay at the model's resolution.
    for name in ("target.png", "recovered.png"):
        assert Image.open(folder / name).size == (SIDE, SIDE)
    with Image.open(folder / "search.gif") as gif:
        assert gif.size == (4 * SIDE, 4 * SIDE) and gif.n_frames == len(result.frames)
        frame = np.asarray(gif.convert("RGB"))
    blocks = frame.reshape(SIDE, 4, SIDE, 4, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()  # every pixel a sharp 4x4 square


def test_the_recovered_label_says_the_psnr(result, tmp_path):
    # The same result with another PSNR gets another label over the recovered image only.
    other = type(result)(**{**result.__dict__, "psnr": result.psnr + 10.0})
    strip = check_comparison(result.save(tmp_path / "a")["comparison.png"], result, 4)
    other_strip = check_comparison(other.save(tmp_path / "b")["comparison.png"], result, 4)
    half = strip.shape[1] // 2
    np.testing.assert_array_equal(strip[:, :half], other_strip[:, :half])
    assert not np.array_equal(strip[:, half:], other_strip[:, half:])


@pytest.mark.parametrize("zoom, factor", [(1, 1), (2, 2), ("auto", 4), (None, 4)])
def test_explicit_and_automatic_zoom(result, tmp_path, zoom, factor):
    folder = result.save(tmp_path / "out", zoom=zoom)["target.png"].parent
    if factor > 1:  # at 1x (34 px per image) the labels need a wider picture
        check_comparison(folder / "comparison.png", result, factor)
    with Image.open(folder / "search.gif") as gif:
        assert gif.size == (factor * SIDE, factor * SIDE)
    with Image.open(folder / "comparison.png") as comparison:
        assert comparison.size[0] >= factor * (2 * SIDE + 6)


def test_zoom_factor_reaches_128_pixels():
    from progan_tf.display import zoom_factor  # the one zoom rule the result's pictures use

    assert [zoom_factor((side, side)) for side in (16, 32, 64, 100, 128, 256)] == \
        [8, 4, 2, 2, 1, 1]
    assert zoom_factor((32, 64), "auto") == 4 and zoom_factor((32, 32), 3) == 3


@pytest.mark.parametrize("zoom, message", [
    (0, "zoom must be a whole number >= 1. Received: zoom=0"),
    (-2, "zoom must be a whole number >= 1"),
    (2.5, "zoom must be a whole number >= 1"),
    ("big", "zoom must be one of 'auto'. Received: zoom='big'"),
    (True, "zoom must be a whole number >= 1"),
    (1000, r"zoom=1000 makes 32x32 images larger than 8192 px; use zoom <= 256"),
])
def test_bad_zoom_is_one_line_and_writes_nothing(result, tmp_path, zoom, message):
    with pytest.raises(RecoveryError, match=message) as info:
        result.save(tmp_path / "out", zoom=zoom)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(RecoveryError, match=message):
        result.animate(tmp_path / "search.gif", zoom=zoom, display=False)


def test_animate_zooms_its_frames(result, tmp_path):
    path = result.animate(tmp_path / "search.gif", display=False)
    with Image.open(path) as gif:
        assert gif.size == (4 * SIDE, 4 * SIDE)
    with Image.open(result.animate(tmp_path / "native.gif", display=False, zoom=1)) as gif:
        assert gif.size == (SIDE, SIDE)


def test_compare_draws_sharp_pixels(result):
    import matplotlib.pyplot as plt

    figure = result.compare()
    pictures = [picture for axes in figure.axes for picture in axes.images]
    assert len(pictures) == 2
    assert all(picture.get_interpolation() == "nearest" for picture in pictures)
    assert "PSNR" in figure.axes[1].get_title()
    plt.close(figure)
