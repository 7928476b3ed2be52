"""Tests for progan_tf.display: grids, figures, inline pictures, zoom, enlargement, panels."""

import io

import matplotlib
import numpy as np
import pytest
from PIL import Image

from progan_tf import display, images
from progan_tf.display import (
    MAX_SHOWN_SIDE,
    display_image,
    enlarge,
    labelled_panels,
    make_grid,
    show_grid,
    show_image,
    show_side_by_side,
    zoom_factor,
)
from progan_tf.errors import ImageLoadError, OptionError, RecoveryError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the backend

IPython = pytest.importorskip("IPython")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_images_module_still_exports_the_display_names():
    # They lived in progan_tf.images before; `progan_tf.images.show_grid` keeps working.
    functions = [name for name in display.__all__ if callable(getattr(display, name))]
    assert len(functions) == 9
    for name in functions:
        assert getattr(images, name) is getattr(display, name)


# ------------------------------------------------------------------------------------------
# Zoom and enlargement
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, expected", [
    (32, 4), ((32, 32), 4), ((100, 100), 2), ((128, 128, 3), 1), ((512, 512), 1), (16, 8),
    ((16, 64), 8),   # the smaller side decides: a wide strip is enlarged until it is 128 high
    ((64, 20), 7),   # ceil(128 / 20)
    ((127, 300), 2),
])
def test_automatic_zoom_makes_the_smaller_side_at_least_128(size, expected):
    assert zoom_factor(size) == zoom_factor(size, "auto") == zoom_factor(size, "AUTO") == expected
    smaller = size if isinstance(size, int) else min(size[:2])
    assert smaller * expected >= 128 and (expected == 1 or smaller * (expected - 1) < 128)


def test_zoom_target_and_given_factors():
    assert zoom_factor(32, target=192) == 6 and zoom_factor(100, target=192) == 2
    assert zoom_factor((32, 32), 3) == 3
    assert zoom_factor(32, MAX_SHOWN_SIDE // 32) == 256


@pytest.mark.parametrize("zoom, message", [
    (0, "zoom must be a whole number >= 1. Received: zoom=0"),
    (1.5, "zoom must be a whole number >= 1"),
    (True, "zoom must be a whole number >= 1"),
    ("big", "zoom must be one of 'auto'. Received: zoom='big'"),
    (257, r"zoom=257 makes 32x32 images larger than 8192 px; use zoom <= 256 or zoom='auto'"),
])
def test_bad_zoom_raises_the_callers_error(zoom, message):
    with pytest.raises(OptionError, match=message):
        zoom_factor((32, 32), zoom)
    with pytest.raises(RecoveryError, match=message):
        zoom_factor((32, 32), zoom, error=RecoveryError)


def test_enlarge_repeats_pixels_by_a_whole_factor():
    batch = np.arange(2 * 4 * 3 * 3, dtype=np.float32).reshape(2, 4, 3, 3)
    big = enlarge(batch, 3)
    assert big.shape == (2, 12, 9, 3) and big.dtype == batch.dtype
    assert np.array_equal(big[:, ::3, ::3], batch) and np.array_equal(big[:, 2::3, 2::3], batch)
    single = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert np.array_equal(enlarge(single, 2)[1::2, 1::2], single)
    assert enlarge(single, 1) is single
    for bad in (0, 1.5):
        with pytest.raises(OptionError, match="factor must be a whole number >= 1"):
            enlarge(batch, bad)
    with pytest.raises(ImageLoadError, match=r"enlarge needs an image .* got shape \(4,\)"):
        enlarge(np.zeros(4), 2)


# ------------------------------------------------------------------------------------------
# Labelled panels
# ------------------------------------------------------------------------------------------


def label_strip_height(picture: np.ndarray, grid_height: int) -> int:
    return picture.shape[-3] - grid_height


def test_labelled_panels_of_stills_are_a_zoomed_grid_under_labels():
    rng = np.random.default_rng(0)
    target, recovered = rng.random((16, 16, 3)), rng.random((16, 16, 3))
    zoom = 3
    picture = labelled_panels([target, recovered], ["target", "recovered  PSNR 20.0 dB"], zoom)
    grid = enlarge(make_grid([target, recovered], ncols=2)[np.newaxis], zoom)[0]
    strip = label_strip_height(picture, grid.shape[0])
    assert picture.dtype == np.uint8 and strip > 8
    # The panels' area is make_grid's row, enlarged, at the bottom left; the rest is white.
    np.testing.assert_array_equal(picture[strip:, :grid.shape[1]], images.to_uint8(grid))
    assert (picture[strip:, grid.shape[1]:] == 255).all()
    header = picture[:strip]
    cell = zoom * (16 + 2)
    assert (header[:, :cell] < 128).any() and (header[:, cell:] < 128).any()  # text over each


def test_labelled_panels_put_stills_beside_animations():
    frames = np.zeros((5, 20, 30, 3), np.float32)
    still = np.ones((20, 40, 3), np.float32)
    strip = labelled_panels([frames, still], ["frames", "target"])
    assert strip.ndim == 4 and len(strip) == 5 and strip.dtype == np.uint8
    top = strip.shape[1] - (20 + 4)
    assert strip.shape[2] >= 2 + 30 + 2 + 40 + 2
    assert (strip[:, top + 2:top + 22, 2:32] == 0).all()  # the animation, every frame
    assert (strip[:, top:, 32:] == 255).all()              # white padding and the white still
    header = strip[0, :top]
    assert (header[:, :34] < 128).any() and (header[:, 34:] < 128).any()
    zoomed = labelled_panels([frames, still], ["frames", "target"], zoom=2)
    assert zoomed.shape[1] - zoomed.shape[1] % 2 >= 2 * (20 + 4) and len(zoomed) == 5
    assert labelled_panels([still, still], ["a", "b"]).ndim == 3


def test_long_labels_wrap_and_shrink_or_widen_the_picture():
    tiny = np.zeros((8, 8, 3))
    picture = labelled_panels([tiny, tiny], ["a very long label  with a second part", "b"])
    assert picture.shape[1] > 2 * (8 + 2) + 2  # widened to the right for the text
    assert (picture[-10:, 2 * (8 + 2) + 2:] == 255).all()


@pytest.mark.parametrize("panels, labels, message", [
    ([np.zeros((8, 8, 3))], ["a", "b"], "one label per panel, got 1 panels and 2 labels"),
    ([], [], "one label per panel"),
    ([np.zeros((8, 8, 3)), np.zeros((9, 8, 3))], ["a", "b"], r"one height, got \[8, 9\]"),
    ([np.zeros((3, 8, 8, 3)), np.zeros((4, 8, 8, 3))], ["a", "b"], "different frame counts"),
])
def test_labelled_panels_refuse_mismatched_input(panels, labels, message):
    # A label count that does not match is an option mistake; panels that do not fit, images.
    error = OptionError if "label" in message else ImageLoadError
    with pytest.raises(error, match=message):
        labelled_panels(panels, labels)


# ------------------------------------------------------------------------------------------
# Grids, inline pictures and figures (moved from test_images)
# ------------------------------------------------------------------------------------------


def test_make_grid_layout():
    batch = np.stack([np.full((4, 6, 3), index / 10, np.float32) for index in range(5)])
    grid = make_grid(batch, ncols=3, padding=1, pad_value=0.9)
    assert grid.shape == (2 * (4 + 1) + 1, 3 * (6 + 1) + 1, 3)
    np.testing.assert_allclose(grid[1:5, 1:7], 0.0)
    np.testing.assert_allclose(grid[1:5, 8:14], 0.1)
    np.testing.assert_allclose(grid[6:10, 8:14], 0.4)  # fifth image: second row, second column
    np.testing.assert_allclose(grid[6:10, 15:21], 0.9)  # empty slot
    np.testing.assert_allclose(grid[0], 0.9)  # border
    assert make_grid(batch).shape == (2 * 6 + 2, 3 * 8 + 2, 3)  # default: 3 columns, padding 2


def test_make_grid_colored_padding_and_uint8_input():
    grid = make_grid(np.zeros((2, 3, 3, 3), np.uint8), padding=1, pad_value=(1.0, 0.0, 0.0))
    assert grid.shape == (5, 9, 3) and grid.dtype == np.float32
    np.testing.assert_allclose(grid[0, 0], [1, 0, 0])
    np.testing.assert_allclose(grid[1, 1], [0, 0, 0])


def test_make_grid_bad_input():
    with pytest.raises(ImageLoadError, match="images of one size"):
        make_grid([np.zeros((4, 4, 3)), np.zeros((5, 4, 3))])
    with pytest.raises(ImageLoadError, match="no images"):
        make_grid(np.zeros((0, 4, 4, 3)))
    with pytest.raises(OptionError, match="ncols must be a whole number >= 1. Received: "):
        make_grid(np.zeros((2, 4, 4, 3)), ncols=0)


def test_display_image_outside_ipython_returns_encoded_bytes(monkeypatch):
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # a plain Python process
    pixels = np.random.default_rng(3).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    data = display_image(pixels)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)
    assert display_image(pixels, format="jpg")[:2] == b"\xff\xd8"
    grid = Image.open(io.BytesIO(display_image(np.zeros((4, 5, 7, 3)))))
    assert grid.size == (2 * 9 + 2, 2 * 7 + 2)
    with pytest.raises(OptionError, match="format=.gif. is not supported"):
        display_image(pixels, format="gif")


def test_display_image_in_ipython_displays_once(monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", object)  # any shell: inside a notebook
    monkeypatch.setattr(ipython_display, "display", shown.append)
    assert display_image(np.ones((3, 4, 3))) is None
    assert len(shown) == 1 and isinstance(shown[0], ipython_display.Image)
    assert Image.open(io.BytesIO(shown[0].data)).size == (4, 3)


@pytest.mark.filterwarnings("error")
def test_show_image_hides_axes_and_sets_title():
    figure = show_image(np.zeros((8, 8, 3)), title="target")
    (ax,) = figure.axes
    assert not ax.axison and ax.get_title() == "target"
    assert ax.images[0].get_array().shape == (8, 8, 3)

    _, given = plt.subplots()
    assert show_image(np.zeros((8, 8)), ax=given) is given.figure
    batch_figure = show_image(np.zeros((4, 8, 8, 3)))
    assert batch_figure.axes[0].images[0].get_array().shape == (2 * 10 + 2, 2 * 10 + 2, 3)


@pytest.mark.filterwarnings("error")
def test_show_grid_titles_and_layout():
    batch = np.random.default_rng(4).random((5, 8, 8, 3))
    figure = show_grid(batch, titles=[f"seed {i}" for i in range(5)], ncols=3)
    assert len(figure.axes) == 6
    assert [ax.get_title() for ax in figure.axes[:5]] == [f"seed {i}" for i in range(5)]
    assert all(not ax.axison for ax in figure.axes)
    assert len(figure.axes[5].images) == 0  # the spare slot stays empty
    np.testing.assert_allclose(figure.axes[4].images[0].get_array(), batch[4], atol=1e-6)


def test_pictures_in_figures_keep_sharp_pixels():
    """A 32x32 face drawn on a 250-pixel axis must not be smoothed (issue 10, C15)."""
    single = show_image(np.zeros((8, 8, 3)))
    grid = show_grid(np.zeros((3, 8, 8, 3)))
    pair = show_side_by_side([np.zeros((8, 8, 3)), np.ones((8, 8, 3))], ["a", "b"])
    for figure in (single, grid, pair):
        for ax in figure.axes:
            assert all(image.get_interpolation() == "nearest" for image in ax.images)


def test_show_grid_mixed_sizes_and_bad_titles():
    figure = show_grid([np.zeros((8, 8, 3)), np.zeros((16, 4, 3))])
    assert [ax.images[0].get_array().shape[:2] for ax in figure.axes] == [(8, 8), (16, 4)]
    with pytest.raises(OptionError, match=r"one title per image \(2\)"):
        show_grid(np.zeros((2, 4, 4, 3)), titles=["only one"])
    with pytest.raises(OptionError, match="one title per image"):
        show_grid(np.zeros((2, 4, 4, 3)), titles="ab")


@pytest.mark.filterwarnings("error")
def test_show_side_by_side():
    figure = show_side_by_side([np.zeros((8, 8, 3)), np.ones((8, 8, 3))], ["target", "recovered"])
    assert [ax.get_title() for ax in figure.axes] == ["target", "recovered"]
    positions = [ax.get_position() for ax in figure.axes]
    assert positions[0].y0 == pytest.approx(positions[1].y0)  # one row
    assert positions[0].x0 < positions[1].x0


def test_returned_figures_are_shown_once_in_notebooks(monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(ipython_display, "display", shown.append)
    figure = show_grid(np.zeros((2, 4, 4, 3)))

    figure._ipython_display_()  # a window/widget backend (here Agg) shows open figures itself
    assert shown == [] and figure.number in plt.get_fignums()

    # Inline backend: the first display (the cell's value, or the backend's at the end of the
    # cell) draws the figure and closes it, so the other one does not draw it again.
    monkeypatch.setattr(matplotlib, "get_backend",
                        lambda: "module://matplotlib_inline.backend_inline")
    figure._ipython_display_()
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
    assert figure.number not in plt.get_fignums()

    figure._ipython_display_()  # asked for again in a later cell: shown again
    assert len(shown) == 2


