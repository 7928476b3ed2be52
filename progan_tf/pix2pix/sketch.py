"""The course's sketch of a photo: inverted Canny edges plus a few dots of the photo's colours.

This is Pix2Pix's input on faces, computed the same way for training (every face of the folder,
:mod:`progan_tf.pix2pix.data`) and for a user's photo (``Translator.prepare``):

1. grey version of the photo, smoothed by a **bilateral filter** (diameter 5, colour and space
   sigmas 50): flat regions lose their noise, edges stay sharp;
2. **Canny** edges with hysteresis thresholds 45 and 100;
3. **inverted**: black lines on white, as a pencil sketch, then RGB;
4. **colour hints**: dots of the photo's own colour at a few random places where the photo is
   not white, so that the generator knows the skin, hair and background colours.

The course draws up to 300 dots on 256x256 pictures; here the count scales with the area
(:func:`default_hints`: 19 at 64x64) and each dot is a small disc of radius
:func:`dot_radius` (1 pixel -- a 3x3 cross -- up to 255x255).  The dots' places come from a
seeded generator, so a photo prepared twice with one seed gives the same sketch.

Only NumPy and OpenCV (``opencv-python-headless``, a dependency) are used: no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from progan_tf.checks import check_whole_number
from progan_tf.errors import ImageLoadError, MissingDependencyError

__all__ = ["BILATERAL", "CANNY", "default_hints", "dot_radius", "edges", "frame", "sketch",
           "sketch_batch"]

BILATERAL = (5, 50, 50)
"""``cv2.bilateralFilter``'s diameter, colour sigma and space sigma (the course's)."""

CANNY = (45, 100)
"""``cv2.Canny``'s low and high hysteresis thresholds (the course's)."""

_WHITE = 250  # a pixel with every channel above this counts as white: no hint is taken there


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:  # pragma: no cover - a dependency of the package
        raise MissingDependencyError("the Pix2Pix sketch needs OpenCV; pip install "
                                     "opencv-python-headless") from None
    return cv2


def frame(picture: Any, resolution: int, crop: str = "center") -> np.ndarray:
    """A picture as training frames it: decoded, cropped, area-resized, uint8 ``[r, r, 3]``.

    The framing of :func:`progan_tf.training.data.decode_training_image` (and so of every
    training folder), for anything :func:`progan_tf.load_image` reads: a path, a URL, an
    array; grey pictures expanded to RGB, transparency on white.

    Example:
    >>> frame(np.zeros((218, 178, 3), np.uint8), 64, "celeba").shape
    (64, 64, 3)
    """
    from progan_tf.images import area_resize, crop_image, load_image
    from progan_tf.pixels import to_uint8

    cropped = crop_image(load_image(picture, crop="none"), crop)
    return to_uint8(area_resize(cropped, (int(resolution), int(resolution))))


def default_hints(resolution: int) -> int:
    """The course's 300 dots per 256x256 picture, scaled by area (at least 1).

    Example:
    >>> default_hints(256), default_hints(64), default_hints(16)
    (300, 19, 1)
    """
    return max(1, round(300 * (int(resolution) / 256) ** 2))


def dot_radius(resolution: int) -> int:
    """The radius of a colour dot: 1 pixel below 256x256, growing with the picture.

    Example:
    >>> dot_radius(64), dot_radius(256)
    (1, 2)
    """
    return max(1, int(resolution) // 128)


def _as_uint8_rgb(photo: Any) -> np.ndarray:
    pixels = np.asarray(photo)
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or 0 in pixels.shape:
        raise ImageLoadError(f"a photo to sketch must be one RGB image [height, width, 3]. "
                             f"Received: shape={pixels.shape}")
    if pixels.dtype != np.uint8:
        from progan_tf.pixels import to_uint8

        pixels = to_uint8(pixels)
    return np.ascontiguousarray(pixels)


def edges(photo: Any) -> np.ndarray:
    """Black Canny lines on white: uint8 ``[H, W, 3]``.

    Args:
        photo: uint8 (or float in [0, 1]) RGB ``[H, W, 3]``.

    Returns:
        The inverted edge map, repeated to three channels.

    Example:
    >>> flat = np.full((16, 16, 3), 128, np.uint8)
    >>> int(edges(flat).min())  # nothing to draw: all white
    255
    """
    cv2 = _cv2()
    grey = cv2.cvtColor(_as_uint8_rgb(photo), cv2.COLOR_RGB2GRAY)
    smooth = cv2.bilateralFilter(grey, *BILATERAL)
    lines = cv2.Canny(smooth, *CANNY)
    return np.repeat((255 - lines)[..., None], 3, axis=-1)


def sketch(photo: Any, hints: int | None = None, seed: int = 0,
           radius: int | None = None) -> np.ndarray:
    """The Pix2Pix input of ``photo``: its inverted edges with ``hints`` dots of its colours.

    Args:
        photo: uint8 (or float in [0, 1]) RGB ``[H, W, 3]``, already at the model's size.
        hints: How many colour dots (default ``None``: :func:`default_hints` of the height;
            0: edges only).
        seed: Where the dots go (same seed, same places).
        radius: The dots' radius (default ``None``: :func:`dot_radius` of the height).

    Returns:
        uint8 ``[H, W, 3]``.

    Raises:
        ImageLoadError: ``photo`` is not one RGB image.
        OptionError: ``hints``, ``seed`` or ``radius`` is not a whole number.

    Example:
    >>> photo = np.zeros((64, 64, 3), np.uint8)
    >>> photo[16:48, 16:48] = (200, 120, 90)  # a skin-coloured square on black
    >>> drawn = sketch(photo, seed=1)
    >>> drawn.shape, drawn.dtype, bool((drawn == 0).all(axis=-1).any())  # black lines
    ((64, 64, 3), dtype('uint8'), True)
    >>> bool((drawn == (200, 120, 90)).all(axis=-1).any())  # dots of the photo's colours
    True
    """
    pixels = _as_uint8_rgb(photo)
    size = pixels.shape[0]
    hints = default_hints(size) if hints is None else check_whole_number(hints, "hints",
                                                                         minimum=0)
    radius = dot_radius(size) if radius is None else check_whole_number(radius, "radius")
    seed = check_whole_number(seed, "seed", minimum=0)
    drawn = np.ascontiguousarray(edges(pixels))
    candidates = np.argwhere(~(pixels > _WHITE).all(axis=-1))
    if hints and len(candidates):
        cv2 = _cv2()
        rng = np.random.default_rng(seed)
        chosen = candidates[rng.choice(len(candidates), min(hints, len(candidates)),
                                       replace=False)]
        for row, column in chosen:
            colour = tuple(int(value) for value in pixels[row, column])
            cv2.circle(drawn, (int(column), int(row)), radius, colour, thickness=-1)
    return drawn


def sketch_batch(photos: Any, hints: int | None = None, seed: int = 0) -> np.ndarray:
    """:func:`sketch` of every photo of a batch; photo ``i`` gets the seed ``seed + i``.

    Args:
        photos: uint8 ``[N, H, W, 3]``.
        hints: Dots per photo (see :func:`sketch`).
        seed: The first photo's seed.

    Returns:
        uint8 ``[N, H, W, 3]``.

    Example:
    >>> sketch_batch(np.zeros((2, 16, 16, 3), np.uint8)).shape
    (2, 16, 16, 3)
    """
    photos = np.asarray(photos)
    if photos.ndim != 4:
        raise ImageLoadError(f"sketch_batch needs a batch [N, height, width, 3]. Received: "
                             f"shape={photos.shape}")
    return np.stack([sketch(photo, hints, seed + index) for index, photo in enumerate(photos)])
