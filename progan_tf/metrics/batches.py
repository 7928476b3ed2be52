"""What every metric does to its image batches before measuring them.

The metrics accept what users have at hand -- uint8 arrays from files, float arrays or tensors
in ``[0, 1]`` from a generator -- and refuse, in one line each, what would give a meaningless
number (a wrong layout, values outside ``[0, 1]``, NaNs, two sets of different sizes). These
helpers are shared by the metric modules of this package; users call the metrics, not them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from progan_tf.errors import ImageLoadError

__all__ = ["CHUNK", "as_float", "check_images", "check_same_size", "subsample"]

CHUNK = 256
"""Images per pyramid pass and pairs per MS-SSIM call: bounds memory, never changes results."""


def check_images(images: Any, name: str) -> np.ndarray:
    """A batch ``[N, H, W, 3]`` as given (uint8 or float in ``[0, 1]``), as a NumPy array.

    Args:
        images: The batch: an array, a tensor or a list of equally sized images.
        name: The argument's name, for the error message.

    Returns:
        The batch as a NumPy array of its own dtype (uint8 stays uint8: converting a large set
        to float at once would quadruple its memory; :func:`as_float` converts chunks).

    Raises:
        ImageLoadError: If the batch has the wrong layout or dtype, is empty, or holds values
            outside ``[0, 1]`` (floats), NaN or infinities.

    Example:
    >>> check_images(np.zeros((2, 8, 8, 3), np.uint8), "images").shape
    (2, 8, 8, 3)
    """
    try:
        pixels = np.asarray(images)
    except Exception as error:  # e.g. a ragged list of images
        raise ImageLoadError(f"{name} could not be read as one array ({error}); pass a batch "
                             f"[n, height, width, 3] of equally sized images") from None
    if pixels.ndim != 4 or pixels.shape[-1] != 3 or 0 in pixels.shape:
        raise ImageLoadError(f"{name} has shape {pixels.shape}, but it must be a non-empty batch "
                             f"[n, height, width, 3] (channels last, RGB)")
    if pixels.dtype == np.uint8:
        return pixels
    if not np.issubdtype(pixels.dtype, np.floating):
        raise ImageLoadError(f"{name} has dtype {pixels.dtype}; pass uint8 in [0, 255] or floats "
                             f"in [0, 1]")
    low, high = float(np.min(pixels)), float(np.max(pixels))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ImageLoadError(f"{name} contains NaN or infinite values; check the model or data "
                             f"that produced them")
    if low < 0.0 or high > 1.0:
        hint = "; map [-1, 1] images with (x + 1) / 2" if low < 0.0 else ""
        raise ImageLoadError(f"{name} has values in [{low:.3g}, {high:.3g}], but float images "
                             f"must be in [0, 1]{hint}")
    return pixels


def as_float(pixels: np.ndarray) -> np.ndarray:
    """A checked batch as float32 in ``[0, 1]`` (uint8 is divided by 255).

    Example:
    >>> as_float(np.full((1, 1, 1, 3), 255, np.uint8))[0, 0, 0]
    array([1., 1., 1.], dtype=float32)
    """
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255.0
    return pixels.astype(np.float32, copy=False)


def check_same_size(first: np.ndarray, second: np.ndarray, names: str) -> None:
    """Refuses two batches whose images differ in height or width.

    Raises:
        ImageLoadError: If they do, naming both sizes.
    """
    if first.shape[1:3] != second.shape[1:3]:
        raise ImageLoadError(f"{names} have different sizes {first.shape[1:3]} and "
                             f"{second.shape[1:3]}; resize them to one resolution first")


def subsample(pixels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` images of the batch drawn without replacement, in their original order."""
    if len(pixels) == count:
        return pixels
    return pixels[np.sort(rng.choice(len(pixels), count, replace=False))]
