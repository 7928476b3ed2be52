"""Pixel arrays: the one image format every function of progan-tf takes and gives.

Pictures arrive as uint8 from files, float32 in ``[0, 1]`` from a generator, float in
``[-1, 1]`` from a network's last layer, as NumPy arrays or tensors, one image
``[H, W, C]`` or a batch ``[N, H, W, C]``. The functions here convert between those forms, and
turn a mistake (a wrong layout, a value range that cannot be an image) into a one-line
:class:`~progan_tf.errors.ImageLoadError`. They sit below :mod:`progan_tf.images` (loading and
saving) and :mod:`progan_tf.display` (showing), which both re-export them; this module imports
neither TensorFlow nor an image library.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from progan_tf.errors import ImageLoadError

__all__ = ["as_image", "as_images", "from_signed_unit", "to_uint8"]


def from_signed_unit(images: Any) -> Any:
    """Maps pixels from a network's ``[-1, 1]`` to an image's ``[0, 1]``, clipping the overshoot.

    ProGAN's generator ends in a linear layer trained towards images in ``[-1, 1]``, so its raw
    output slightly overshoots that range; everything that shows or saves images wants
    ``[0, 1]``. A ``tf.Tensor`` stays a tensor (graph-safe: usable inside a ``tf.function``);
    anything else becomes a NumPy array.

    Args:
        images: Pixels in about ``[-1, 1]``, any shape.

    Returns:
        ``clip(images * 0.5 + 0.5, 0, 1)``, of the input's float dtype.

    Example:
    >>> from_signed_unit(np.array([-1.2, -1.0, 0.0, 1.0]))
    array([0. , 0. , 0.5, 1. ])
    """
    tf = sys.modules.get("tensorflow")  # a tensor means TensorFlow is imported already
    if tf is not None and tf.is_tensor(images):
        return tf.clip_by_value(images * 0.5 + 0.5, 0.0, 1.0)
    return np.clip(np.asarray(images) * 0.5 + 0.5, 0.0, 1.0)


def to_uint8(images: Any) -> np.ndarray:
    """Converts float images in ``[0, 1]`` to uint8 ``[0, 255]``, e.g. for saving or video frames.

    Accepts NumPy arrays and tensors of any shape -- one image or a batch. Values are
    clipped to ``[0, 1]`` and rounded; uint8 input is returned unchanged.

    Args:
        images: Float pixels in ``[0, 1]`` (or uint8).

    Returns:
        A uint8 array of the same shape.

    Raises:
        ImageLoadError: If the values cannot be an image (NaN, floats far outside ``[0, 1]``).

    Example:
    >>> to_uint8(np.array([0.0, 0.5, 1.0]))
    array([  0, 128, 255], dtype=uint8)
    """
    pixels = np.asarray(images)
    if pixels.dtype == np.uint8:
        return pixels
    return np.round(_to_unit_float(pixels, "images") * 255.0).astype(np.uint8)


def as_image(image: Any, label: str = "image") -> np.ndarray:
    """One image (array, tensor, PIL image, ...) as float32 RGB ``[H, W, 3]`` in ``[0, 1]``.

    Greyscale (``[H, W]`` or one channel) is expanded to RGB, transparency (2 or 4 channels) is
    composited on white; uint8 is divided by 255, uint16 by 65535.

    Args:
        image: The pixels.
        label: How error messages name it.

    Returns:
        float32 ``[H, W, 3]`` in ``[0, 1]``.

    Raises:
        ImageLoadError: If it is not one image of a pixel dtype and range.

    Example:
    >>> as_image(np.full((2, 2), 255, np.uint8)).shape
    (2, 2, 3)
    """
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4) or 0 in pixels.shape:
        raise ImageLoadError(f"{label} has shape {pixels.shape}, but one image must be "
                             f"[height, width, 3] (or [height, width] / [height, width, 4]); "
                             f"use make_grid or show_grid for batches")
    return _to_rgb(_to_unit_float(pixels, label))


def as_images(images: Any) -> list[np.ndarray]:
    """A batch ``[N, H, W, C]``, a sequence of images, or one image, as a list of RGB images.

    Args:
        images: The pictures; each is converted as :func:`as_image` does.

    Returns:
        A list of float32 ``[H, W, 3]`` arrays (sizes may differ for a sequence).

    Raises:
        ImageLoadError: If a picture cannot be converted.

    Example:
    >>> [image.shape for image in as_images(np.zeros((2, 4, 4, 3)))]
    [(4, 4, 3), (4, 4, 3)]
    """
    if isinstance(images, (list, tuple)):
        return [as_image(image, f"image {index}") for index, image in enumerate(images)]
    pixels = np.asarray(images)
    if pixels.ndim == 4:
        if pixels.shape[-1] not in (1, 2, 3, 4) or 0 in pixels.shape[1:]:
            raise ImageLoadError(f"batch has shape {pixels.shape}, but a batch must be "
                                 f"[n, height, width, 3]; move channels last if they come first")
        return list(_to_rgb(_to_unit_float(pixels, "batch")))
    return [as_image(pixels)]


def _to_unit_float(pixels: np.ndarray, label: str) -> np.ndarray:
    """Any pixel dtype as float32 in [0, 1]; the shape is unchanged."""
    kind = pixels.dtype.kind
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255.0
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) / 65535.0
    if kind == "b":
        return pixels.astype(np.float32)
    if kind in "iu":
        if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
            raise ImageLoadError(f"{label} holds {pixels.dtype} values outside 0..255; "
                                 f"cast 8-bit data to uint8, 16-bit data to uint16")
        return pixels.astype(np.float32) / 255.0
    if kind == "f":
        pixels = pixels.astype(np.float32)
        if pixels.size:
            if not np.isfinite(pixels).all():
                raise ImageLoadError(f"{label} holds NaN or infinite values; "
                                     f"check the computation that produced it")
            low, high = float(pixels.min()), float(pixels.max())
            if high > 2.0:
                raise ImageLoadError(f"{label} holds floats up to {high:g}, but float images "
                                     f"must be in [0, 1]; divide 0..255 data by 255")
            if low < -0.5:
                raise ImageLoadError(f"{label} holds floats down to {low:g}, but float images "
                                     f"must be in [0, 1]; map [-1, 1] data with (x + 1) / 2")
        return np.clip(pixels, 0.0, 1.0)
    raise ImageLoadError(f"{label} has dtype {pixels.dtype}, which is not an image dtype; "
                         f"pass uint8, uint16 or float pixels")


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """Float pixels with 1 (grey), 2 (grey + alpha), 3 or 4 (RGBA) channels as RGB on white."""
    channels = pixels.shape[-1]
    if channels in (2, 4):
        color, alpha = pixels[..., :-1], pixels[..., -1:]
        pixels = color * alpha + (1.0 - alpha)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels
