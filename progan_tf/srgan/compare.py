"""The course's comparison: low-res | bicubic | SRGAN (| original), as one labelled picture.

Used by ``progan-tf upscale``, ``bench/srgan.py`` and notebook 07.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from progan_tf.errors import ImageLoadError

__all__ = ["bicubic", "comparison_panels", "model_label"]


def bicubic(images: Any, scale: int) -> np.ndarray:
    """``[..., H, W, 3]`` in [0, 1] enlarged ``scale`` times by bicubic interpolation, clipped.

    Example:
    >>> bicubic(np.zeros((2, 3, 3)), 4).shape
    (8, 12, 3)
    """
    import tensorflow as tf

    pixels = np.asarray(images, np.float32)
    size = [pixels.shape[-3] * scale, pixels.shape[-2] * scale]
    return np.clip(tf.image.resize(pixels, size, method="bicubic").numpy(), 0.0, 1.0)


def model_label(upscaler: Any) -> str:
    """``"SRResNet"`` for a content-only export, else ``"SRGAN"``."""
    config = getattr(upscaler, "metadata", {}).get("config", {})
    return "SRResNet" if config.get("content_only") else "SRGAN"


def comparison_panels(upscaler: Any, photo: Any,
                      shrink: int | None = None) -> tuple[dict, dict, list]:
    """The pictures of the course's figure, and the same enlarged to one height with labels.

    Args:
        upscaler: A :class:`~progan_tf.upscalers.Upscaler`.
        photo: float ``[H, W, 3]`` in [0, 1] (:func:`progan_tf.load_image`).
        shrink: Shrink the photo this many times first (area filter), so that the original
            can be shown beside the result (default ``None``: enlarge the photo itself).

    Returns:
        ``(pictures, labels, panels)``: ``{name: picture at its own size}`` for the names
        ``lowres``, ``bicubic``, ``srgan`` (and ``original``), ``{name: label}``, and the
        pictures enlarged to the result's size (low-res with sharp pixels), in that order.

    Raises:
        ImageLoadError: the photo is smaller than ``shrink`` pixels, or too large to upscale.
    """
    from progan_tf.display import enlarge
    from progan_tf.images import area_resize

    scale = upscaler.scale
    photo = np.asarray(photo, np.float32)
    original = None
    if shrink:
        height, width = (photo.shape[0] // shrink) * shrink, (photo.shape[1] // shrink) * shrink
        if not height or not width:
            raise ImageLoadError(f"a {photo.shape[1]}x{photo.shape[0]} photo cannot be shrunk "
                                 f"{shrink} times; pass a larger photo or a smaller --scale")
        original = photo[:height, :width]
        low = area_resize(original, (height // shrink, width // shrink))
    else:
        low = photo
    result = upscaler(low)
    h, w = low.shape[:2]
    name = model_label(upscaler)
    pictures = {"lowres": low, "bicubic": bicubic(low, scale), "srgan": result}
    labels = {"lowres": f"low-res {w}x{h} (shown {scale}x)", "bicubic": f"bicubic {scale}x",
              "srgan": f"{name} {scale}x"}
    panels = [enlarge(low, scale), pictures["bicubic"], result]
    if original is not None:
        pictures["original"] = original
        labels["original"] = f"original {original.shape[1]}x{original.shape[0]}"
        shown = original if original.shape[:2] == result.shape[:2] \
            else area_resize(original, result.shape[:2])
        panels.append(shown)
    return pictures, labels, panels
