"""face_crop on tilted heads: found in turned copies and aligned by the eyes (issue 10, C16)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from progan_tf.face import face_crop
from progan_tf.images import load_image

CELEBA = Path("/work/shared/data/celeba-8k")
HELD_OUT = range(7900, 7950, 10)  # near the end of the sample: not what the framing was fit on


@pytest.fixture(scope="module")
def cv2():
    module = pytest.importorskip("cv2")
    if not hasattr(module, "CascadeClassifier"):
        pytest.skip(f"OpenCV {module.__version__} has no Haar cascades (needs opencv < 5)")
    return module


def turned(picture: np.ndarray, degrees: float) -> np.ndarray:
    """``picture`` turned counter-clockwise (PIL), enlarged so that nothing is cut off."""
    image = Image.fromarray(picture).rotate(degrees, resample=Image.BICUBIC, expand=True,
                                            fillcolor=(128, 128, 128))
    return np.asarray(image)


def crop_without_warnings(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return face_crop(*args, return_box=True, **kwargs)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def eye_angle(eyes) -> float:
    (x1, y1), (x2, y2) = eyes
    return math.degrees(math.atan2(y2 - y1, x2 - x1))


@pytest.fixture(scope="module")
def upright(cv2):
    """The astronaut's crop (32x32, as a small model sees it) and its box."""
    return crop_without_warnings(data.astronaut(), 32)


@pytest.mark.parametrize("degrees", [30, -30])
def test_a_tilted_astronaut_is_found_and_turned_upright(upright, degrees):
    upright_crop, upright_box = upright
    assert upright_box.found and upright_box.angle == 0.0 and upright_box.eyes is not None
    crop, box = crop_without_warnings(turned(data.astronaut(), degrees), 32)
    assert box.found and box.eyes is not None
    # Her eyes are 3 degrees off level in the photo (under the 5 degrees face_crop leaves
    # alone); turned by `degrees`, their line is at eye_angle - degrees in the picture, and the
    # crop turns the picture by box.angle: what is left must be within a few degrees of level.
    assert abs(eye_angle(upright_box.eyes) - degrees - box.angle) < 3
    # Measured: correlation 0.78-0.79 with the upright crop. The same face found but left
    # tilted scores about 0.5, and the old fallback (a centre crop) about 0.
    assert correlation(crop, upright_crop) > 0.7


@pytest.mark.parametrize("degrees", [30, -30])
def test_align_false_looks_only_at_the_picture_as_it_is(cv2, degrees):
    with pytest.warns(UserWarning, match="no face found"):
        _, box = face_crop(turned(data.astronaut(), degrees), 32, align=False, return_box=True)
    assert not box.found and box.angle == 0.0


def test_the_box_corners_are_the_picture_points_the_crop_shows(cv2):
    picture = turned(data.astronaut(), 30)
    crop, box = crop_without_warnings(picture)
    assert crop.shape[:2] == (box[3], box[2]) and abs(box.angle) > 20
    pixels = load_image(picture)
    left, top, width, height = box
    inner = type(box)((left + width // 10, top + height // 10, width - 2 * (width // 10),
                       height - 2 * (height // 10)), found=True, angle=box.angle)
    inset = [(height // 10, width // 10), (height // 10, width - 1 - width // 10),
             (height - 1 - height // 10, width - 1 - width // 10),
             (height - 1 - height // 10, width // 10)]  # (row, column), clockwise from top left
    for (x, y), (row, column) in zip(inner.corners(), inset):
        seen = pixels[round(y) - 2:round(y) + 3, round(x) - 2:round(x) + 3].mean(axis=(0, 1))
        shown = crop[row - 2:row + 3, column - 2:column + 3].mean(axis=(0, 1))
        np.testing.assert_allclose(shown, seen, atol=0.08)


def test_an_upright_box_has_rectangle_corners(upright):
    _, box = upright
    left, top, width, height = box
    np.testing.assert_allclose(box.corners(), [[left, top], [left + width, top],
                                               [left + width, top + height],
                                               [left, top + height]])


def test_no_face_says_so_in_the_warning_and_the_box(cv2):
    from progan_tf.face import FaceNotFoundWarning  # noqa: PLC0415 -- new in issue 10

    ramp = np.tile(np.linspace(0, 1, 100, dtype=np.float32), (60, 1))[..., None].repeat(3, 2)
    with pytest.warns(FaceNotFoundWarning, match="no face found in the image; using a centre"):
        crop, box = face_crop(ramp, 32, return_box=True)
    assert box == (20, 0, 60, 60) and not box.found and box.eyes is None
    np.testing.assert_array_equal(crop, load_image(ramp, 32, crop="center"))


@pytest.mark.skipif(not CELEBA.is_dir(), reason=f"{CELEBA} (CelebA sample) is not available")
def test_tilted_celeba_faces_are_found_and_aligned(cv2):
    """Five held-out CelebA faces (2x, as 178x218), turned 30 degrees either way."""
    found, close = 0, []
    for number in HELD_OUT:
        picture = np.asarray(Image.open(CELEBA / f"{number:06d}.jpg").convert("RGB").resize(
            (178, 218), Image.BICUBIC))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            upright_crop, upright_box = face_crop(picture, 32, return_box=True)
        if caught:
            continue  # no face upright either: not what this test is about
        for degrees in (30, -30):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                crop, box = face_crop(turned(picture, degrees), 32, return_box=True)
            if not caught and box.found:
                found += 1
                close.append(correlation(crop, upright_crop))
    # Measured: the old face_crop found 0 of these 10 turned faces; now all 10, with a median
    # correlation of 0.94 to their upright crops (a face left tilted 15 degrees: about 0.65).
    assert found >= 8
    assert np.median(close) > 0.85
