"""The Laplacian pyramid: one implementation, in TensorFlow, for SWD and for latent recovery.

ProGAN's sliced Wasserstein distance compares images one band of spatial frequencies at a
time, and :func:`progan_tf.recover_latent`'s ``loss="laplacian"`` weighs a mismatch in coarse
layout as much as one in fine detail. Both split images the same way -- the 5x5 binomial filter
and mirrored borders of ``cv2.pyrDown``/``cv2.pyrUp`` -- so the split lives here once, written
with TensorFlow ops: differentiable and safe inside a ``tf.function`` (the recovery's loss is
traced into its compiled search), and fast enough on NumPy batches, which it converts on the
way in and out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.errors import MetricError
from progan_tf.metrics.batches import as_float, check_images

__all__ = ["MIN_LEVEL_SIZE", "binomial_kernel", "laplacian_level", "laplacian_pyramid",
           "pyramid_sizes", "reconstruct_laplacian_pyramid"]

MIN_LEVEL_SIZE = 16
"""SWD's coarsest pyramid level is 16x16, as in ProGAN."""

_TAPS = (1.0, 4.0, 6.0, 4.0, 1.0)  # the binomial filter's 1-D taps, before dividing by 16


def binomial_kernel() -> np.ndarray:
    """The 5x5 binomial filter of ProGAN's (and OpenCV's) image pyramids.

    It is the outer product of ``[1, 4, 6, 4, 1]`` with itself, divided by 256 so it sums to 1:
    a cheap approximation of a Gaussian with sigma ~1 that removes what 2x subsampling would alias.

    Returns:
        A float32 ``[5, 5]`` array.

    Example:
    >>> binomial_kernel()[2] * 256
    array([ 6., 24., 36., 24.,  6.], dtype=float32)
    """
    taps = np.array(_TAPS, np.float32)
    return np.outer(taps, taps) / np.float32(256.0)


def pyramid_sizes(height: int, width: int, *, min_size: int = MIN_LEVEL_SIZE,
                  max_levels: int | None = None) -> list[tuple[int, int]]:
    """The ``(height, width)`` of each pyramid level, finest first.

    Sides halve, rounding up, from one level to the next, down to the last level whose sides
    are both still >= ``min_size`` (and no more than ``max_levels`` levels). The full
    resolution is always the first level, however small.

    Args:
        height: The images' height.
        width: The images' width.
        min_size: Smallest side a level below the first may have (default 16, SWD's).
        max_levels: Most levels to return (default ``None``: no limit).

    Returns:
        A list of ``(height, width)`` pairs; its length is the number of levels.

    Example:
    >>> pyramid_sizes(128, 128)
    [(128, 128), (64, 64), (32, 32), (16, 16)]
    >>> len(pyramid_sizes(32, 24, min_size=4, max_levels=5))  # latent recovery's pyramid
    3
    """
    sizes = [(int(height), int(width))]
    while max_levels is None or len(sizes) < max_levels:
        coarser = (math.ceil(sizes[-1][0] / 2), math.ceil(sizes[-1][1] / 2))
        if min(coarser) < min_size:
            break
        sizes.append(coarser)
    return sizes


def laplacian_pyramid(images: Any, num_levels: int | None = None) -> list[Any]:
    """Splits images into band-pass levels, finest first, as in ProGAN's SWD.

    Each level but the last holds what the next coarser level cannot represent
    (``level - up(down(level))``); the last one is the blurred, downsampled image itself. Summing
    the levels back up (:func:`reconstruct_laplacian_pyramid`) gives the input exactly.

    NumPy in, NumPy out: arrays (and lists of images) are checked like every metric's input and
    the levels come back as float32 arrays. A ``tf.Tensor`` in, tensors out: nothing is
    converted or checked beyond the static shape, so the call is differentiable and can be
    traced inside a ``tf.function`` (latent recovery's loss does).

    Args:
        images: ``[N, H, W, C]``: uint8, or float in ``[0, 1]`` (tensors may hold any floats).
        num_levels: ``None`` goes down to the last level whose sides are still >= 16 px (32x32
            images give levels 32 and 16; 128x128 give 128, 64, 32, 16); images under 31 px
            give one level. Tensors whose height or width is not known while tracing need it.

    Returns:
        A list of ``[N, h, w, C]`` levels, sides halved (rounded up) from one to the next:
        float32 arrays for NumPy input, tensors of the input's float dtype for tensors.

    Raises:
        ImageLoadError: If a NumPy batch is not ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``.
        MetricError: If ``num_levels`` is not a whole number >= 1, or so large that a level
            would be under 3 px (the 5x5 filter's mirrored border needs 3).

    Example:
    >>> levels = laplacian_pyramid(np.zeros((2, 32, 32, 3), np.uint8))
    >>> [level.shape[1] for level in levels]
    [32, 16]
    >>> tensor_levels = laplacian_pyramid(tf.zeros((1, 32, 24, 3)), num_levels=3)
    >>> [tuple(level.shape[1:3]) for level in tensor_levels]
    [(32, 24), (16, 12), (8, 6)]
    """
    if tf.is_tensor(images):
        return _pyramid(_as_float_tensor(images), num_levels)
    pixels = tf.constant(as_float(check_images(images, "images")))
    return [level.numpy() for level in _pyramid(pixels, num_levels)]


def laplacian_level(images: Any, index: int, num_levels: int) -> Any:
    """Level ``index`` of the ``num_levels``-level pyramid, computing no more than it needs.

    The same numbers as ``laplacian_pyramid(images, num_levels)[index]`` without building the
    finer levels' band-pass images: SWD cuts patches from one level at a time.

    Args:
        images: As for :func:`laplacian_pyramid`.
        index: Which level, 0 (finest) to ``num_levels - 1`` (the blurred image itself).
        num_levels: The pyramid's depth.

    Returns:
        A float32 array (NumPy input) or a tensor (tensor input).

    Raises:
        MetricError: If ``index`` is outside the pyramid (or as :func:`laplacian_pyramid`).

    Example:
    >>> images = np.random.default_rng(0).random((1, 32, 32, 3))
    >>> np.allclose(laplacian_level(images, 1, 3), laplacian_pyramid(images, 3)[1])
    True
    """
    as_tensor = tf.is_tensor(images)
    pixels = (_as_float_tensor(images) if as_tensor
              else tf.constant(as_float(check_images(images, "images"))))
    num_levels = _check_depth(pixels, num_levels)
    index = check_whole_number(index, "index", minimum=0, maximum=num_levels - 1,
                               error=MetricError)
    for _ in range(index):
        pixels = _pyramid_down(pixels)
    if index < num_levels - 1:
        pixels = pixels - _pyramid_up(_pyramid_down(pixels), _size(pixels))
    return pixels if as_tensor else pixels.numpy()


def reconstruct_laplacian_pyramid(pyramid: list[Any]) -> Any:
    """Inverts :func:`laplacian_pyramid`: upsample the coarsest level and add the finer ones back.

    Args:
        pyramid: The levels, finest first, as :func:`laplacian_pyramid` returned them.

    Returns:
        The images, a float32 array (NumPy levels) or a tensor (tensor levels).

    Example:
    >>> images = np.random.default_rng(0).random((1, 32, 32, 3))
    >>> np.allclose(reconstruct_laplacian_pyramid(laplacian_pyramid(images)), images, atol=1e-5)
    True
    """
    as_tensor = tf.is_tensor(pyramid[-1])
    images = tf.convert_to_tensor(pyramid[-1])
    for finer in pyramid[-2::-1]:
        finer = tf.convert_to_tensor(finer)
        images = finer + _pyramid_up(images, _size(finer))
    return images if as_tensor else images.numpy()


def _as_float_tensor(images: tf.Tensor) -> tf.Tensor:
    if images.shape.rank is not None and images.shape.rank != 4:
        raise MetricError(f"images must be a batch [n, height, width, channels]. Received: "
                          f"a tensor of shape {images.shape}")
    if images.dtype.is_floating:
        return images
    return tf.image.convert_image_dtype(images, tf.float32)  # uint8 -> [0, 1]


def _check_depth(images: tf.Tensor, num_levels: int | None) -> int:
    """``num_levels`` checked against the images' static size (``None``: SWD's default depth)."""
    height, width = images.shape[1:3]
    if num_levels is None:
        if height is None or width is None:
            raise MetricError("num_levels=None needs images whose height and width are known "
                              "while tracing; pass num_levels")
        return len(pyramid_sizes(height, width))
    num_levels = check_whole_number(num_levels, "num_levels", error=MetricError)
    if height is not None and width is not None and num_levels > 1:
        smallest_downsampled = min(height, width)
        for _ in range(num_levels - 2):
            smallest_downsampled = math.ceil(smallest_downsampled / 2)
        if smallest_downsampled < 3:
            raise MetricError(f"num_levels={num_levels} is too many for {height}x{width} images "
                              f"(the 5x5 filter needs >= 3 px); use fewer")
    return num_levels


def _pyramid(images: tf.Tensor, num_levels: int | None) -> list[tf.Tensor]:
    num_levels = _check_depth(images, num_levels)
    pyramid = [images]
    for _ in range(num_levels - 1):
        finer = pyramid[-1]
        coarser = _pyramid_down(finer)
        pyramid[-1] = finer - _pyramid_up(coarser, _size(finer))
        pyramid.append(coarser)
    return pyramid


def _blur(images: tf.Tensor) -> tf.Tensor:
    """Separable 5x5 binomial filter per channel, mirrored borders (as ``cv2.pyrDown``).

    TF's ``"REFLECT"`` padding is ``d c b | a b c d | c b a``: OpenCV's BORDER_REFLECT_101.
    """
    channels = images.shape[-1]
    taps = tf.constant(_TAPS, images.dtype) / 16.0
    rows = tf.tile(tf.reshape(taps, [5, 1, 1, 1]), [1, 1, channels, 1])
    columns = tf.reshape(rows, [1, 5, channels, 1])
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    blurred = tf.nn.depthwise_conv2d(padded, rows, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.depthwise_conv2d(blurred, columns, strides=[1, 1, 1, 1], padding="VALID")


def _pyramid_down(images: tf.Tensor) -> tf.Tensor:
    return _blur(images)[:, ::2, ::2]


def _size(images: tf.Tensor) -> tuple[Any, Any]:
    """``(height, width)``: Python ints where known while tracing (keeps static shapes)."""
    height, width = images.shape[1:3]
    dynamic = tf.shape(images)
    return (dynamic[1] if height is None else height, dynamic[2] if width is None else width)


def _pyramid_up(images: tf.Tensor, size: tuple[Any, Any]) -> tf.Tensor:
    """Doubles the size to ``size``: zeros between the pixels, then blur x4 (3 of 4 are zeros)."""
    height, width = size
    shape = tf.shape(images)
    columns = tf.stack([images, tf.zeros_like(images)], axis=3)  # [N, h, w, 2, C]
    wide = tf.reshape(columns, [shape[0], shape[1], 2 * shape[2], shape[3]])[:, :, :width]
    rows = tf.stack([wide, tf.zeros_like(wide)], axis=2)  # [N, h, 2, W, C]
    upsampled = tf.reshape(rows, [shape[0], 2 * shape[1], width, shape[3]])[:, :height]
    upsampled.set_shape([images.shape[0],
                         height if isinstance(height, int) else None,
                         width if isinstance(width, int) else None, images.shape[-1]])
    return 4.0 * _blur(upsampled)
