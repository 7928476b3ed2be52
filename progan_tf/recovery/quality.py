"""How close two images are: PSNR, SSIM, and a Laplacian pyramid that TensorFlow can differentiate.

These are the scores a :class:`~progan_tf.recovery.RecoveryResult` reports and the pieces its
losses are built from. They belong with the other image metrics in :mod:`progan_tf.metrics`;
until that module offers a graph-safe pyramid, they live here, in one place, for the whole of
:mod:`progan_tf.recovery`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.errors import RecoveryError
from progan_tf.images import load_image

__all__ = ["drop_batch", "laplacian_pyramid", "psnr", "pyramid_levels", "ssim", "ssim_window"]

SSIM_FILTER_SIZE = 11
"""``tf.image.ssim``'s usual window; smaller images use a window as large as they are."""

MAX_PYRAMID_LEVELS = 5
MIN_PYRAMID_SIZE = 4  # the coarsest Laplacian level keeps at least 4x4 pixels


def psnr(a: Any, b: Any) -> float:
    """Peak signal-to-noise ratio of two images in dB (pixel range [0, 1]; higher is closer).

    Args:
        a: An image (anything :func:`~progan_tf.images.load_image` accepts, or a generator's
            ``[1, H, W, 3]`` output).
        b: Another image of the same size.

    Returns:
        The PSNR in dB; ``inf`` for identical images.

    Raises:
        RecoveryError: If the images differ in size.

    Example:
    >>> round(psnr(np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.1)), 3)
    20.0
    """
    x, y = _image_pair(a, b)
    mse = float(np.mean((x.astype(np.float64) - y) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def ssim(a: Any, b: Any) -> float:
    """Structural similarity of two images (``tf.image.ssim``, range [0, 1]; 1 = identical).

    Images smaller than the usual 11x11 window use a window as large as the image.

    Args:
        a: An image, as for :func:`psnr`.
        b: Another image of the same size.

    Returns:
        The SSIM.

    Raises:
        RecoveryError: If the images differ in size.

    Example:
    >>> ssim(np.zeros((16, 16, 3)), np.zeros((16, 16, 3)))
    1.0
    """
    x, y = _image_pair(a, b)
    return float(tf.image.ssim(x, y, max_val=1.0, filter_size=ssim_window(x.shape)))


def ssim_window(shape: Sequence[int]) -> int:
    """The SSIM window for images of ``shape`` (``[..., H, W, C]``): 11, or the smaller side.

    Example:
    >>> ssim_window((1, 16, 16, 3)), ssim_window((8, 6, 3))
    (11, 6)
    """
    return min(SSIM_FILTER_SIZE, int(shape[-3]), int(shape[-2]))


def drop_batch(image: Any) -> Any:
    """``[1, H, W, C]`` (what a generator returns for one latent) as ``[H, W, C]``; else as is.

    Example:
    >>> drop_batch(np.zeros((1, 4, 4, 3))).shape
    (4, 4, 3)
    """
    if isinstance(image, (str, bytes, os.PathLike)) or not hasattr(image, "shape"):
        return image
    return image[0] if len(image.shape) == 4 and image.shape[0] == 1 else image


def _image_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_image(drop_batch(a)), load_image(drop_batch(b))
    if x.shape != y.shape:
        raise RecoveryError(f"cannot compare images of shapes {x.shape} and {y.shape}; resize one "
                            f"with load_image(image, size={x.shape[:2]})")
    return x, y


# Laplacian pyramid in TF: the same filter and borders as progan_tf.metrics.laplacian_pyramid,
# which is NumPy and so cannot be differentiated.


def pyramid_levels(height: int, width: int) -> int:
    """Levels of the recovery loss' pyramid: up to 5, the coarsest at least 4 pixels a side.

    Example:
    >>> pyramid_levels(16, 16), pyramid_levels(128, 128)
    (3, 5)
    """
    levels, side = 1, min(height, width)
    while levels < MAX_PYRAMID_LEVELS and math.ceil(side / 2) >= MIN_PYRAMID_SIZE:
        levels, side = levels + 1, math.ceil(side / 2)
    return levels


def laplacian_pyramid(images: tf.Tensor, levels: int) -> list[tf.Tensor]:
    """Band-pass levels of ``images`` ``[N, H, W, C]``, finest first, as TensorFlow ops.

    Each level but the last is what the next coarser one cannot represent; the last is the
    blurred, downsampled image. A 5x5 binomial filter with mirrored borders, as in
    :func:`progan_tf.metrics.laplacian_pyramid`, but differentiable and usable in a graph.

    Args:
        images: float ``[N, H, W, C]`` with static height and width.
        levels: How many levels (e.g. :func:`pyramid_levels`).

    Returns:
        ``levels`` tensors, sides halved (rounded up) from one to the next.

    Example:
    >>> [level.shape[1] for level in laplacian_pyramid(tf.zeros([1, 16, 16, 3]), 3)]
    [16, 8, 4]
    """
    pyramid = [images]
    for _ in range(levels - 1):
        finer = pyramid[-1]
        coarser = _blur(finer)[:, ::2, ::2]
        pyramid[-1] = finer - _pyramid_up(coarser, finer.shape[1:3])
        pyramid.append(coarser)
    return pyramid


def _blur(images: tf.Tensor) -> tf.Tensor:
    """5x5 binomial filter with mirrored borders, per channel."""
    taps = tf.constant([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = tf.tile(tf.reshape(taps[:, None] * taps[None, :], [5, 5, 1, 1]),
                     [1, 1, images.shape[-1], 1])
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


def _pyramid_up(images: tf.Tensor, size: Sequence[int]) -> tf.Tensor:
    """Zeros between the pixels up to ``size``, then blur x4."""
    height, width = size
    zeros = tf.zeros_like(images)
    columns = tf.stack([images, zeros], axis=3)  # [N, h, w, 2, C]
    shape = tf.shape(images)
    x = tf.reshape(columns, [shape[0], shape[1], 2 * shape[2], shape[3]])[:, :, :width]
    rows = tf.stack([x, tf.zeros_like(x)], axis=2)  # [N, h, 2, W, C]
    x = tf.reshape(rows, [shape[0], 2 * shape[1], width, shape[3]])[:, :height]
    return 4.0 * _blur(x)
