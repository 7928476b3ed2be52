"""ProGAN's sliced Wasserstein distance (SWD) between two sets of images, and its noise floor.

Karras et al. (2018, appendix D.1) compare the *distributions* of small patches of real and
generated images, one Laplacian-pyramid level at a time, so that a score says at which scale a
generator falls short: the finest level scores fine detail (hair, skin texture), the 16x16
level the coarse layout. Lower is better, but SWD between two finite samples is never 0, so
:func:`swd_report` puts the real-vs-real "noise floor" beside it.

The patches and projections are vectorised NumPy; the pyramid is :mod:`progan_tf.metrics.pyramid`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from progan_tf.checks import check_whole_number
from progan_tf.errors import ImageLoadError, MetricError
from progan_tf.metrics.batches import CHUNK, check_images, check_same_size, subsample
from progan_tf.metrics.pyramid import laplacian_level, pyramid_sizes

__all__ = ["PATCH_SIZE", "normalise_descriptors", "sliced_wasserstein",
           "sliced_wasserstein_distance", "swd_report"]

PATCH_SIZE = 7
"""ProGAN's descriptors are 7x7 neighbourhoods: 7 * 7 * 3 = 147 numbers."""


def normalise_descriptors(descriptors: np.ndarray) -> np.ndarray:
    """Per colour channel: subtract the set's mean, divide by its std; flatten to ``[M, 147]``.

    A channel with no variation at all (std 0) is only centred, so flat images give zeros.

    Args:
        descriptors: ``[M, 7, 7, 3]`` patches of one set.

    Returns:
        float32 ``[M, 147]``, each channel with mean 0 and std 1 over the whole set.

    Example:
    >>> normalise_descriptors(np.ones((10, 7, 7, 3), np.float32)).shape
    (10, 147)
    """
    flat = descriptors.reshape(len(descriptors), -1)  # [M, 147], channel = column % 3
    # Statistics per column in float64 (float32 sums over ~10^7 values lose 3 digits), then
    # pooled per channel over the 49 patch positions: their counts are equal, so the channel
    # mean is the mean of column means and the variance adds the spread of those means.
    column_mean = flat.mean(axis=0, dtype=np.float64).reshape(-1, 3)
    column_var = flat.var(axis=0, dtype=np.float64).reshape(-1, 3)
    mean = column_mean.mean(axis=0)
    std = np.sqrt((column_var + (column_mean - mean) ** 2).mean(axis=0))
    std = np.where(std > 0, std, 1.0)
    count = len(column_mean)
    return ((flat - np.tile(mean, count).astype(np.float32))
            / np.tile(std, count).astype(np.float32))


def sliced_wasserstein(first: np.ndarray, second: np.ndarray, directions: int, repeats: int,
                       rng: np.random.Generator) -> float:
    """Mean 1-D Wasserstein distance of two equally sized point sets along random unit vectors.

    Along each direction the distance is the mean absolute difference of the *sorted*
    projections; ``repeats`` draws of ``directions`` unit vectors are averaged.

    Args:
        first: ``[M, D]`` points.
        second: ``[M, D]`` points.
        directions: Unit vectors per draw.
        repeats: Draws.
        rng: Where the directions come from.

    Returns:
        The mean distance (0 for identical sets).

    Example:
    >>> points = np.random.default_rng(0).standard_normal((100, 4)).astype(np.float32)
    >>> sliced_wasserstein(points, points, 8, 1, np.random.default_rng(1))
    0.0
    """
    distances = []
    for _ in range(repeats):
        axes = rng.standard_normal((first.shape[1], directions)).astype(np.float32)
        axes /= np.linalg.norm(axes, axis=0, keepdims=True)
        # [directions, M], sorted in place along the last, contiguous axis (much faster).
        first_projected = axes.T @ first.T
        second_projected = axes.T @ second.T
        first_projected.sort(axis=1)
        second_projected.sort(axis=1)
        distances.append(np.mean(np.abs(first_projected - second_projected)))
    return float(np.mean(distances))


def sliced_wasserstein_distance(
    real_images: Any,
    fake_images: Any,
    *,
    descriptors_per_image: int = 128,
    directions: int = 128,
    repeats: int = 4,
    seed: int = 0,
) -> dict:
    """ProGAN's sliced Wasserstein distance between two image sets, x1e3, per pyramid level.

    Following Karras et al. (2018, appendix D.1) and their ``metrics/sliced_wasserstein.py``:

    1. Each image is split into a Laplacian pyramid
       (:func:`~progan_tf.metrics.laplacian_pyramid`), from the full resolution down to 16x16.
    2. From every level of every image, ``descriptors_per_image`` 7x7 patches (147 numbers each)
       are cut out at random positions.
    3. Each set of patches is normalised on its own, per colour channel, to mean 0 and std 1.
       This makes SWD blind to a global change of brightness or contrast per channel (only its
       side effects, such as clipped highlights, show) and focuses it on structure.
    4. The two patch sets are projected onto ``repeats`` x ``directions`` random unit vectors;
       the 1-D Wasserstein distance along each is the mean absolute difference of the *sorted*
       projections. Their average, x1e3, is the level's score; ``"average"`` is the mean over
       levels, as in the paper's tables.

    Patch positions and directions come from ``seed`` and are the *same* for both sets (common
    random numbers): identical sets score exactly 0, and comparisons run with one seed differ
    only through the images. Sorting pairs patches one to one, so both sets must be equally
    large; the larger set is randomly (seeded) subsampled to the size of the smaller one.

    Images under 31 px, whose next level would be under 16 px, use a single level: the image
    itself. Images must be at least 7x7. The pyramid matches ``cv2.pyrDown``/``cv2.pyrUp``
    (and the official code) for even sizes.

    Args:
        real_images: ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``; an array or a
            ``tf.Tensor``.
        fake_images: The same, of the same ``H`` and ``W``.
        descriptors_per_image: Patches per image and level (the paper uses 128).
        directions: Random directions per repeat (the paper uses 128).
        repeats: Draws of directions (the paper uses 4).
        seed: Fixes patch positions, directions and subsampling.

    Returns:
        ``{"levels": {128: ..., 64: ..., 32: ..., 16: ...}, "average": ..., "num_images": n}``:
        SWD x1e3 per level (keyed by the level's height), its mean, and the images per set used.

    Raises:
        ImageLoadError: If a set is not ``[N, H, W, 3]``, is not uint8 or float in [0, 1], is
            smaller than 7x7, or the sets differ in size.
        MetricError: If a count or the seed is not a valid whole number.

    Example:
    >>> images = np.random.default_rng(0).random((8, 16, 16, 3))
    >>> sliced_wasserstein_distance(images, images)
    {'levels': {16: 0.0}, 'average': 0.0, 'num_images': 8}
    """
    real = check_images(real_images, "real_images")
    fake = check_images(fake_images, "fake_images")
    check_same_size(real, fake, "real_images and fake_images")
    height, width = real.shape[1:3]
    if min(height, width) < PATCH_SIZE:
        raise ImageLoadError(f"images are {height}x{width}, but SWD needs at least "
                             f"{PATCH_SIZE}x{PATCH_SIZE} for its 7x7 patches; use larger images")
    per_image = check_whole_number(descriptors_per_image, "descriptors_per_image",
                                   error=MetricError)
    directions = check_whole_number(directions, "directions", error=MetricError)
    repeats = check_whole_number(repeats, "repeats", error=MetricError)
    seed = check_whole_number(seed, "seed", minimum=0, error=MetricError)

    count = min(len(real), len(fake))
    subset_rng = np.random.default_rng([seed, 2])
    real, fake = subsample(real, count, subset_rng), subsample(fake, count, subset_rng)

    sizes = pyramid_sizes(height, width)
    levels = {}
    for index, size in enumerate(sizes):
        centres = _patch_centres(np.random.default_rng([seed, 0, index]), count, per_image, size)
        real_descriptors = normalise_descriptors(_descriptors(real, index, len(sizes), centres))
        fake_descriptors = normalise_descriptors(_descriptors(fake, index, len(sizes), centres))
        distance = sliced_wasserstein(real_descriptors, fake_descriptors, directions, repeats,
                                      np.random.default_rng([seed, 1, index]))
        levels[size[0]] = distance * 1e3
    return {"levels": levels, "average": float(np.mean(list(levels.values()))),
            "num_images": count}


def swd_report(
    real_a: Any,
    real_b: Any,
    fake: Any,
    *,
    descriptors_per_image: int = 128,
    directions: int = 128,
    repeats: int = 4,
    seed: int = 0,
) -> dict:
    """SWD of generated images next to the SWD between two halves of the real data.

    SWD compares finite samples, so it is never 0: two disjoint sets of real images from the
    *same* distribution still score some value that depends on the image content, the resolution
    and the number of images. That "noise floor" is the best score a generator can expect, and
    the only sensible scale for its SWD: 30 is excellent when the floor is 25 and poor when it
    is 3. Both numbers are computed with the same seed and the same number of images, so they
    are directly comparable.

    Args:
        real_a: Real images.
        real_b: Other real images, *disjoint* from ``real_a`` (e.g. the two halves of a
            shuffled held-out set).
        fake: Generated images, the same size as the real ones.
        descriptors_per_image: As for :func:`sliced_wasserstein_distance`.
        directions: As for :func:`sliced_wasserstein_distance`.
        repeats: As for :func:`sliced_wasserstein_distance`.
        seed: As for :func:`sliced_wasserstein_distance`.

    Returns:
        ``{"fake": swd(real_a, fake), "noise_floor": swd(real_a, real_b)}``, each a dict as
        returned by :func:`sliced_wasserstein_distance`. All three sets are subsampled to the
        smallest one.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> real, fake = rng.random((20, 16, 16, 3)), np.zeros((12, 16, 16, 3))
    >>> report = swd_report(real[:10], real[10:], fake)
    >>> report["fake"]["average"] > report["noise_floor"]["average"], report["fake"]["num_images"]
    (True, 10)
    """
    sets = [check_images(images, name)
            for images, name in ((real_a, "real_a"), (real_b, "real_b"), (fake, "fake"))]
    check_same_size(sets[0], sets[1], "real_a and real_b")
    check_same_size(sets[0], sets[2], "real_a and fake")
    seed = check_whole_number(seed, "seed", minimum=0, error=MetricError)
    options = {"descriptors_per_image": descriptors_per_image, "directions": directions,
               "repeats": repeats, "seed": seed}
    count = min(len(images) for images in sets)
    rng = np.random.default_rng([seed, 3])
    real_a, real_b, fake = (subsample(images, count, rng) for images in sets)
    return {"fake": sliced_wasserstein_distance(real_a, fake, **options),
            "noise_floor": sliced_wasserstein_distance(real_a, real_b, **options)}


def _patch_centres(rng: np.random.Generator, count: int, per_image: int,
                   size: tuple[int, int]) -> np.ndarray:
    """``[count, per_image, 2]`` random (row, column) centres of whole 7x7 patches."""
    half = PATCH_SIZE // 2
    rows = rng.integers(half, size[0] - half, size=(count, per_image))
    cols = rng.integers(half, size[1] - half, size=(count, per_image))
    return np.stack([rows, cols], axis=-1)


def _descriptors(pixels: np.ndarray, index: int, num_levels: int,
                 centres: np.ndarray) -> np.ndarray:
    """The 7x7x3 patches of pyramid level ``index`` around ``centres``, ``[N * k, 7, 7, 3]``."""
    offsets = np.arange(PATCH_SIZE) - PATCH_SIZE // 2
    patches = []
    for start in range(0, len(pixels), CHUNK):
        level = laplacian_level(pixels[start:start + CHUNK], index, num_levels)
        chunk_centres = centres[start:start + CHUNK]
        image = np.arange(len(level))[:, None, None, None]
        rows = (chunk_centres[..., 0, None] + offsets)[:, :, :, None]
        cols = (chunk_centres[..., 1, None] + offsets)[:, :, None, :]
        patches.append(level[image, rows, cols].reshape(-1, PATCH_SIZE, PATCH_SIZE, 3))
    return np.concatenate(patches)
