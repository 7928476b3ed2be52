"""How alike images are: PSNR and SSIM of one pair, MS-SSIM diversity of a whole set.

* :func:`psnr` and :func:`ssim` score one picture against another -- a recovered face against
  its target, a reconstruction against its original. Latent recovery reports both.
* :func:`ms_ssim_diversity` (Odena et al. 2017, used in the ProGAN paper) is the mean
  multi-scale structural similarity of random pairs of images from *one* set. A collapsed
  generator that draws the same face again and again scores close to 1; lower means more
  varied images, and :func:`ms_ssim_report` puts the real data's value beside it as the target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.errors import ImageLoadError, MetricError
from progan_tf.images import load_image, single_image
from progan_tf.metrics.batches import CHUNK, as_float, check_images, check_same_size

__all__ = ["MS_SSIM_FILTER_SIGMA", "MS_SSIM_FILTER_SIZE", "MS_SSIM_POWER_FACTORS",
           "SSIM_FILTER_SIZE", "ms_ssim_diversity", "ms_ssim_report", "ms_ssim_settings", "psnr",
           "ssim", "ssim_window"]

MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, finest first
MS_SSIM_FILTER_SIZE = 11
MS_SSIM_FILTER_SIGMA = 1.5
SSIM_FILTER_SIZE = 11
"""SSIM's usual window; smaller images use a window as large as the image."""


# --------------------------------------------------------------------------------------------
# One pair
# --------------------------------------------------------------------------------------------


def psnr(a: Any, b: Any) -> float:
    """Peak signal-to-noise ratio of two images in dB (pixel range [0, 1]; higher is closer).

    Args:
        a: An image ``[H, W, 3]`` (or ``[1, H, W, 3]``, as a generator returns one), uint8 or
            float in ``[0, 1]``, or anything :func:`~progan_tf.images.load_image` reads.
        b: The other image, the same size.

    Returns:
        ``10 * log10(1 / mse)``; ``inf`` for identical images.

    Raises:
        MetricError: If the images differ in size.

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
        b: The other image, the same size.

    Returns:
        The SSIM, a float.

    Raises:
        MetricError: If the images differ in size.

    Example:
    >>> ssim(np.zeros((16, 16, 3)), np.zeros((16, 16, 3)))
    1.0
    """
    x, y = _image_pair(a, b)
    return float(tf.image.ssim(x, y, max_val=1.0, filter_size=ssim_window(x.shape)))


def ssim_window(shape: Sequence[int]) -> int:
    """SSIM's filter size for images of ``shape`` (``[..., H, W, C]``): 11, or the smaller side.

    Example:
    >>> ssim_window((1, 32, 32, 3)), ssim_window((8, 12, 3))
    (11, 8)
    """
    return min(SSIM_FILTER_SIZE, int(shape[-3]), int(shape[-2]))


def _image_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_image(single_image(a)), load_image(single_image(b))
    if x.shape != y.shape:
        raise MetricError(f"cannot compare images of shapes {x.shape} and {y.shape}; resize one "
                          f"with load_image(image, size={x.shape[:2]})")
    return x, y


# --------------------------------------------------------------------------------------------
# MS-SSIM diversity of a set
# --------------------------------------------------------------------------------------------


def ms_ssim_settings(height: int, width: int) -> dict:
    """The MS-SSIM scales and filter used for images of this size, and why.

    Standard MS-SSIM (Wang et al. 2003) compares 5 scales, halving the image 4 times, with an
    11x11 Gaussian filter (sigma 1.5) at each; the coarsest scale must still be >= 11 px, so it
    needs images of about 176 px (161 px, as TF halves odd sizes rounding up). For smaller
    images we keep the standard filter and drop the *coarsest* scales: as many scales as keep
    the smallest one >= 11 px, with the first power factors renormalised to sum to 1. That gives
    2 scales at 32x32 (weights 0.136, 0.864), 3 at 64x64, 4 at 128x128 and the standard 5 (with
    the published weights unchanged) from 161x161 on. Images under 11 px use one scale
    (plain SSIM) with a filter as large as the image and sigma scaled down in proportion.

    Args:
        height: The images' height.
        width: The images' width.

    Returns:
        ``{"scales": ..., "power_factors": ..., "filter_size": ..., "filter_sigma": ...}``.

    Example:
    >>> ms_ssim_settings(64, 64)["scales"]
    3
    """
    smallest = min(height, width)
    if smallest < MS_SSIM_FILTER_SIZE:
        return {"scales": 1, "power_factors": (1.0,), "filter_size": smallest,
                "filter_sigma": MS_SSIM_FILTER_SIGMA * smallest / MS_SSIM_FILTER_SIZE}
    scales = 1
    while scales < len(MS_SSIM_POWER_FACTORS) and math.ceil(smallest / 2) >= MS_SSIM_FILTER_SIZE:
        smallest = math.ceil(smallest / 2)
        scales += 1
    factors = MS_SSIM_POWER_FACTORS[:scales]
    if scales < len(MS_SSIM_POWER_FACTORS):
        factors = tuple(factor / sum(factors) for factor in factors)
    return {"scales": scales, "power_factors": factors,
            "filter_size": MS_SSIM_FILTER_SIZE, "filter_sigma": MS_SSIM_FILTER_SIGMA}


def ms_ssim_diversity(images: Any, num_pairs: int = 1000, seed: int = 0) -> float:
    """Mean MS-SSIM over random pairs of distinct images of one set: lower = more diverse.

    Used in the ProGAN paper (after Odena et al. 2017) to spot mode collapse: if a generator
    draws near-copies, its pairs are very similar and the mean approaches 1. Compare with the
    value of real images (:func:`ms_ssim_report`); a generator far *above* it lacks variety.
    Pairs are drawn with replacement among all ordered pairs ``(i, j)`` with ``i != j``.
    :func:`ms_ssim_settings` says which scales and filter are used for the image size.

    Args:
        images: ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``, ``N >= 2``.
        num_pairs: How many pairs to average; 1000 gives about two decimals.
        seed: Fixes the pairs.

    Returns:
        A float in ``[0, 1]``; 1 means every pair was identical.

    Raises:
        ImageLoadError: If ``images`` is not a valid batch of at least 2 images.
        MetricError: If ``num_pairs`` or ``seed`` is not a valid whole number.

    Example:
    >>> copies = np.repeat(np.random.default_rng(0).random((1, 32, 32, 3)), 4, axis=0)
    >>> round(ms_ssim_diversity(copies, num_pairs=8), 4)
    1.0
    """
    pixels = check_images(images, "images")
    if len(pixels) < 2:
        raise ImageLoadError("MS-SSIM diversity needs at least 2 images to form pairs; got 1")
    num_pairs = check_whole_number(num_pairs, "num_pairs", error=MetricError)
    rng = np.random.default_rng(check_whole_number(seed, "seed", minimum=0, error=MetricError))
    first = rng.integers(0, len(pixels), num_pairs)
    second = (first + rng.integers(1, len(pixels), num_pairs)) % len(pixels)  # never == first
    settings = ms_ssim_settings(*pixels.shape[1:3])
    scores = []
    for start in range(0, num_pairs, CHUNK):
        pair = slice(start, start + CHUNK)
        scores.append(tf.image.ssim_multiscale(
            as_float(pixels[first[pair]]), as_float(pixels[second[pair]]), max_val=1.0,
            power_factors=settings["power_factors"], filter_size=settings["filter_size"],
            filter_sigma=settings["filter_sigma"]).numpy())
    return float(np.mean(np.concatenate(scores)))


def ms_ssim_report(real: Any, fake: Any, num_pairs: int = 1000, seed: int = 0) -> dict:
    """MS-SSIM diversity of generated images beside that of real ones, with the same settings.

    The real value is the target: the generated one should be close to it, not as low as
    possible (noise has a lower MS-SSIM than any face).

    Args:
        real: Real images, as for :func:`ms_ssim_diversity`.
        fake: Generated images of the same size.
        num_pairs: As for :func:`ms_ssim_diversity`.
        seed: As for :func:`ms_ssim_diversity`.

    Returns:
        ``{"real": ..., "fake": ..., "scales": ..., "filter_size": ...}``.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> report = ms_ssim_report(rng.random((4, 32, 32, 3)), np.zeros((4, 32, 32, 3)),
    ...                         num_pairs=8)
    >>> round(report["fake"], 4), report["real"] < 0.5, report["scales"]
    (1.0, True, 2)
    """
    real_pixels = check_images(real, "real")
    fake_pixels = check_images(fake, "fake")
    check_same_size(real_pixels, fake_pixels, "real and fake")
    settings = ms_ssim_settings(*real_pixels.shape[1:3])
    return {"real": ms_ssim_diversity(real_pixels, num_pairs, seed),
            "fake": ms_ssim_diversity(fake_pixels, num_pairs, seed),
            "scales": settings["scales"], "filter_size": settings["filter_size"]}
