"""Quality metrics for generated images that need no pretrained network (they work offline).

* **Sliced Wasserstein distance (SWD)**, exactly as in the ProGAN paper (Karras et al. 2018,
  appendix D.1): compare the distributions of small 7x7 patches of real and generated images,
  one Laplacian-pyramid level at a time. The finest level scores fine detail (hair, skin
  texture), the 16x16 level the coarse layout. Lower is better.
* **MS-SSIM diversity** (Odena et al. 2017): the mean multi-scale structural similarity of random
  pairs of images from *one* set. A collapsed generator that draws the same face again and again
  scores close to 1; lower means more varied images.

Neither number means much on its own. SWD between two *finite* samples is never 0, even when
both come from the same distribution, so :func:`swd_report` and :func:`evaluate_generator`
report the real-vs-real "noise floor" beside it; MS-SSIM is reported for the real images beside
the generated ones. A generator is good when its SWD approaches the floor and its MS-SSIM
approaches the real data's.

Both metrics are CPU friendly: SWD is vectorised NumPy, MS-SSIM uses ``tf.image.ssim_multiscale``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from progan_tf.errors import ImageLoadError, MetricError, ModelLoadError, ProganError

__all__ = [
    "MetricError",
    "binomial_kernel",
    "laplacian_pyramid",
    "reconstruct_laplacian_pyramid",
    "sliced_wasserstein_distance",
    "swd_report",
    "ms_ssim_settings",
    "ms_ssim_diversity",
    "ms_ssim_report",
    "evaluate_generator",
]

PATCH_SIZE = 7  # ProGAN's descriptors are 7x7 neighbourhoods: 7 * 7 * 3 = 147 numbers
MIN_LEVEL_SIZE = 16  # the coarsest pyramid level is 16x16
MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, finest first
MS_SSIM_FILTER_SIZE = 11
MS_SSIM_FILTER_SIGMA = 1.5

_CHUNK = 256  # images per pyramid pass and pairs per MS-SSIM call: bounds memory, not results


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise MetricError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_images(images: Any, name: str) -> np.ndarray:
    """A batch ``[N, H, W, 3]`` as given (uint8 or float in [0, 1]), converted chunk by chunk."""
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


def _as_float(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255.0
    return pixels.astype(np.float32, copy=False)


def _check_same_size(first: np.ndarray, second: np.ndarray, names: str) -> None:
    if first.shape[1:3] != second.shape[1:3]:
        raise ImageLoadError(f"{names} have different sizes {first.shape[1:3]} and "
                             f"{second.shape[1:3]}; resize them to one resolution first")


def _subsample(pixels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    if len(pixels) == count:
        return pixels
    return pixels[np.sort(rng.choice(len(pixels), count, replace=False))]


# --------------------------------------------------------------------------------------------
# Laplacian pyramid
# --------------------------------------------------------------------------------------------


def binomial_kernel() -> np.ndarray:
    """The 5x5 binomial filter of ProGAN's (and OpenCV's) image pyramids.

    It is the outer product of ``[1, 4, 6, 4, 1]`` with itself, divided by 256 so it sums to 1:
    a cheap approximation of a Gaussian with sigma ~1 that removes what 2x subsampling would alias.

    Examples
    --------
    >>> binomial_kernel()[2] * 256
    array([ 6., 24., 36., 24.,  6.], dtype=float32)
    """
    taps = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32)
    return np.outer(taps, taps) / np.float32(256.0)


def _blur(images: np.ndarray) -> np.ndarray:
    """Separable 5x5 binomial filter on ``[N, H, W, C]``, mirrored borders (as ``cv2.pyrDown``)."""
    taps = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / np.float32(16.0)
    height, width = images.shape[1:3]
    # numpy's "reflect" is d c b | a b c d | c b a: OpenCV's BORDER_REFLECT_101, scipy's "mirror".
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    rows = sum(tap * padded[:, i:i + height] for i, tap in enumerate(taps))
    return sum(tap * rows[:, :, i:i + width] for i, tap in enumerate(taps))


def _pyramid_down(images: np.ndarray) -> np.ndarray:
    return _blur(images)[:, ::2, ::2]


def _pyramid_up(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Doubles the size to ``size``: zeros between the pixels, then blur x4 (3 of 4 are zeros)."""
    upsampled = np.zeros((images.shape[0], *size, images.shape[3]), np.float32)
    upsampled[:, ::2, ::2] = images
    return np.float32(4.0) * _blur(upsampled)


def _pyramid_levels(height: int, width: int) -> list[tuple[int, int]]:
    """Level sizes from full resolution down to the last one with both sides >= 16."""
    sizes = [(height, width)]
    while min(math.ceil(sizes[-1][0] / 2), math.ceil(sizes[-1][1] / 2)) >= MIN_LEVEL_SIZE:
        sizes.append((math.ceil(sizes[-1][0] / 2), math.ceil(sizes[-1][1] / 2)))
    return sizes


def laplacian_pyramid(images: Any, num_levels: int | None = None) -> list[np.ndarray]:
    """Splits images into band-pass levels, finest first, as in ProGAN's SWD.

    Each level but the last holds what the next coarser level cannot represent
    (``level - up(down(level))``); the last one is the blurred, downsampled image itself. Summing
    the levels back up (:func:`reconstruct_laplacian_pyramid`) gives the input exactly.

    Parameters
    ----------
    images
        ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``.
    num_levels
        ``None`` goes down to the last level whose sides are still >= 16 px (32x32 images give
        levels 32 and 16; 128x128 give 128, 64, 32, 16); images under 31 px give one level.

    Returns
    -------
    list of np.ndarray
        float32 ``[N, h, w, 3]`` arrays, sides halved (rounded up) from one level to the next.

    Examples
    --------
    >>> levels = laplacian_pyramid(np.zeros((2, 32, 32, 3), np.uint8))
    >>> [level.shape[1] for level in levels]
    [32, 16]
    """
    pixels = _as_float(_check_images(images, "images"))
    if num_levels is None:
        num_levels = len(_pyramid_levels(*pixels.shape[1:3]))
    num_levels = _check_count(num_levels, "num_levels")
    smallest_downsampled = min(pixels.shape[1:3])
    for _ in range(num_levels - 2):
        smallest_downsampled = math.ceil(smallest_downsampled / 2)
    if num_levels > 1 and smallest_downsampled < 3:
        raise MetricError(f"num_levels={num_levels} is too many for {pixels.shape[1]}x"
                          f"{pixels.shape[2]} images (the 5x5 filter needs >= 3 px); use fewer")
    pyramid = [pixels]
    for _ in range(num_levels - 1):
        coarser = _pyramid_down(pyramid[-1])
        pyramid[-1] = pyramid[-1] - _pyramid_up(coarser, pyramid[-1].shape[1:3])
        pyramid.append(coarser)
    return pyramid


def reconstruct_laplacian_pyramid(pyramid: list[np.ndarray]) -> np.ndarray:
    """Inverts :func:`laplacian_pyramid`: upsample the coarsest level and add the finer ones back.

    Examples
    --------
    >>> images = np.random.default_rng(0).random((1, 32, 32, 3))
    >>> np.allclose(reconstruct_laplacian_pyramid(laplacian_pyramid(images)), images, atol=1e-5)
    True
    """
    images = pyramid[-1]
    for finer in pyramid[-2::-1]:
        images = finer + _pyramid_up(images, finer.shape[1:3])
    return images


def _laplacian_level(images: np.ndarray, index: int, num_levels: int) -> np.ndarray:
    """Level ``index`` of the pyramid of a float batch, computing no more than it needs."""
    for _ in range(index):
        images = _pyramid_down(images)
    if index == num_levels - 1:
        return images
    return images - _pyramid_up(_pyramid_down(images), images.shape[1:3])


# --------------------------------------------------------------------------------------------
# Sliced Wasserstein distance
# --------------------------------------------------------------------------------------------


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
    for start in range(0, len(pixels), _CHUNK):
        level = _laplacian_level(_as_float(pixels[start:start + _CHUNK]), index, num_levels)
        chunk_centres = centres[start:start + _CHUNK]
        image = np.arange(len(level))[:, None, None, None]
        rows = (chunk_centres[..., 0, None] + offsets)[:, :, :, None]
        cols = (chunk_centres[..., 1, None] + offsets)[:, :, None, :]
        patches.append(level[image, rows, cols].reshape(-1, PATCH_SIZE, PATCH_SIZE, 3))
    return np.concatenate(patches)


def _normalise_descriptors(descriptors: np.ndarray) -> np.ndarray:
    """Per colour channel: subtract the set's mean, divide by its std; flatten to ``[M, 147]``.

    A channel with no variation at all (std 0) is only centred, so flat images give zeros.
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


def _sliced_wasserstein(first: np.ndarray, second: np.ndarray, directions: int, repeats: int,
                        rng: np.random.Generator) -> float:
    """Mean 1-D Wasserstein distance of two equally sized point sets along random unit vectors."""
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

    1. Each image is split into a Laplacian pyramid (:func:`laplacian_pyramid`), from the full
       resolution down to 16x16.
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
    (and the official code) exactly for even sizes.

    Parameters
    ----------
    real_images, fake_images
        ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``, both of the same ``H`` and ``W``; arrays
        or ``tf.Tensor``\\ s.
    descriptors_per_image, directions, repeats
        The paper uses 128, 128 and 4.
    seed
        Fixes patch positions, directions and subsampling.

    Returns
    -------
    dict
        ``{"levels": {128: ..., 64: ..., 32: ..., 16: ...}, "average": ..., "num_images": n}``:
        SWD x1e3 per level (keyed by the level's height), its mean, and the images per set used.

    Raises
    ------
    ImageLoadError
        If a set is not ``[N, H, W, 3]``, is not uint8 or float in [0, 1], is smaller than 7x7,
        or the sets differ in size.
    MetricError
        If a count or the seed is not a valid int.

    Examples
    --------
    >>> swd = sliced_wasserstein_distance(real_batch, generated_batch)   # doctest: +SKIP
    >>> swd["levels"], swd["average"]                                     # doctest: +SKIP
    ({32: 12.3, 16: 8.1}, 10.2)
    """
    real = _check_images(real_images, "real_images")
    fake = _check_images(fake_images, "fake_images")
    _check_same_size(real, fake, "real_images and fake_images")
    height, width = real.shape[1:3]
    if min(height, width) < PATCH_SIZE:
        raise ImageLoadError(f"images are {height}x{width}, but SWD needs at least "
                             f"{PATCH_SIZE}x{PATCH_SIZE} for its 7x7 patches; use larger images")
    per_image = _check_count(descriptors_per_image, "descriptors_per_image")
    directions = _check_count(directions, "directions")
    repeats = _check_count(repeats, "repeats")
    seed = _check_count(seed, "seed", minimum=0)

    count = min(len(real), len(fake))
    subset_rng = np.random.default_rng([seed, 2])
    real, fake = _subsample(real, count, subset_rng), _subsample(fake, count, subset_rng)

    sizes = _pyramid_levels(height, width)
    levels = {}
    for index, size in enumerate(sizes):
        centres = _patch_centres(np.random.default_rng([seed, 0, index]), count, per_image, size)
        real_descriptors = _normalise_descriptors(_descriptors(real, index, len(sizes), centres))
        fake_descriptors = _normalise_descriptors(_descriptors(fake, index, len(sizes), centres))
        distance = _sliced_wasserstein(real_descriptors, fake_descriptors, directions, repeats,
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

    Parameters
    ----------
    real_a, real_b
        Two *disjoint* sets of real images (e.g. the two halves of a shuffled held-out set).
    fake
        Generated images, the same size as the real ones.
    descriptors_per_image, directions, repeats, seed
        As for :func:`sliced_wasserstein_distance`.

    Returns
    -------
    dict
        ``{"fake": swd(real_a, fake), "noise_floor": swd(real_a, real_b)}``, each a dict as
        returned by :func:`sliced_wasserstein_distance`. All three sets are subsampled to the
        smallest one.

    Examples
    --------
    >>> report = swd_report(real[:1000], real[1000:2000], generated)     # doctest: +SKIP
    >>> report["fake"]["average"], report["noise_floor"]["average"]      # doctest: +SKIP
    (14.2, 4.9)
    """
    sets = [_check_images(images, name)
            for images, name in ((real_a, "real_a"), (real_b, "real_b"), (fake, "fake"))]
    _check_same_size(sets[0], sets[1], "real_a and real_b")
    _check_same_size(sets[0], sets[2], "real_a and fake")
    seed = _check_count(seed, "seed", minimum=0)
    options = {"descriptors_per_image": descriptors_per_image, "directions": directions,
               "repeats": repeats, "seed": seed}
    count = min(len(images) for images in sets)
    rng = np.random.default_rng([seed, 3])
    real_a, real_b, fake = (_subsample(images, count, rng) for images in sets)
    return {"fake": sliced_wasserstein_distance(real_a, fake, **options),
            "noise_floor": sliced_wasserstein_distance(real_a, real_b, **options)}


# --------------------------------------------------------------------------------------------
# MS-SSIM diversity
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

    Examples
    --------
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

    Parameters
    ----------
    images
        ``[N, H, W, 3]`` uint8 or float in ``[0, 1]``, ``N >= 2``.
    num_pairs
        How many pairs to average; 1000 gives about two decimals.
    seed
        Fixes the pairs.

    Returns
    -------
    float
        In ``[0, 1]``; 1 means every pair was identical.

    Examples
    --------
    >>> ms_ssim_diversity(generated, num_pairs=500)                       # doctest: +SKIP
    0.21
    """
    pixels = _check_images(images, "images")
    if len(pixels) < 2:
        raise ImageLoadError("MS-SSIM diversity needs at least 2 images to form pairs; got 1")
    num_pairs = _check_count(num_pairs, "num_pairs")
    rng = np.random.default_rng(_check_count(seed, "seed", minimum=0))
    first = rng.integers(0, len(pixels), num_pairs)
    second = (first + rng.integers(1, len(pixels), num_pairs)) % len(pixels)  # never == first
    settings = ms_ssim_settings(*pixels.shape[1:3])
    scores = []
    for start in range(0, num_pairs, _CHUNK):
        pair = slice(start, start + _CHUNK)
        scores.append(tf.image.ssim_multiscale(
            _as_float(pixels[first[pair]]), _as_float(pixels[second[pair]]), max_val=1.0,
            power_factors=settings["power_factors"], filter_size=settings["filter_size"],
            filter_sigma=settings["filter_sigma"]).numpy())
    return float(np.mean(np.concatenate(scores)))


def ms_ssim_report(real: Any, fake: Any, num_pairs: int = 1000, seed: int = 0) -> dict:
    """MS-SSIM diversity of generated images beside that of real ones, with the same settings.

    The real value is the target: the generated one should be close to it, not as low as
    possible (noise has a lower MS-SSIM than any face).

    Returns
    -------
    dict
        ``{"real": ..., "fake": ..., "scales": ..., "filter_size": ...}``.

    Examples
    --------
    >>> ms_ssim_report(real_batch, generated_batch)                       # doctest: +SKIP
    {'real': 0.19, 'fake': 0.23, 'scales': 4, 'filter_size': 11}
    """
    real_pixels = _check_images(real, "real")
    fake_pixels = _check_images(fake, "fake")
    _check_same_size(real_pixels, fake_pixels, "real and fake")
    settings = ms_ssim_settings(*real_pixels.shape[1:3])
    return {"real": ms_ssim_diversity(real_pixels, num_pairs, seed),
            "fake": ms_ssim_diversity(fake_pixels, num_pairs, seed),
            "scales": settings["scales"], "filter_size": settings["filter_size"]}


# --------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------


def _generator_shape(generator: Any) -> tuple[int, tuple[int, int]]:
    latent_dim = getattr(generator, "latent_dim", None)
    image_shape = getattr(generator, "image_shape", None)
    if not callable(generator) or latent_dim is None or image_shape is None:
        raise ModelLoadError(f"{type(generator).__name__} is not a generator: it must be callable "
                             f"and have latent_dim and image_shape; load one with load_generator")
    try:
        latent_dim = int(latent_dim)
        height, width, channels = (int(side) for side in image_shape)
    except (TypeError, ValueError):
        raise ModelLoadError(f"generator has latent_dim={latent_dim!r}, image_shape="
                             f"{image_shape!r}; expected an int and (height, width, 3)") from None
    if latent_dim < 1 or channels != 3 or min(height, width) < 1:
        raise ModelLoadError(f"generator has latent_dim={latent_dim}, image_shape="
                             f"{tuple(image_shape)}; expected latent_dim >= 1 and an RGB "
                             f"(height, width, 3) image shape")
    return latent_dim, (height, width)


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crops to the aspect ratio of ``size``, then resizes with an antialiasing filter."""
    height, width = pixels.shape[1:3]
    if (height, width) == size:
        return pixels
    if height < size[0] or width < size[1]:
        warnings.warn(f"real images are {height}x{width}, smaller than the generator's "
                      f"{size[0]}x{size[1]}; upscaling blurs them, which inflates SWD at the "
                      f"finest levels; use real images of at least the generator's size",
                      stacklevel=3)
    crop_h = min(height, round(width * size[0] / size[1]))
    crop_w = min(width, round(height * size[1] / size[0]))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    resized = [tf.image.resize(_as_float(pixels[start:start + _CHUNK,
                                                top:top + crop_h, left:left + crop_w]),
                               size, method="bilinear", antialias=True).numpy()
               for start in range(0, len(pixels), _CHUNK)]
    return np.clip(np.concatenate(resized), 0.0, 1.0)


def _generate(generator: Any, count: int, latent_dim: int, size: tuple[int, int],
              batch_size: int, seed: int, bar: Any = None) -> np.ndarray:
    latents = np.random.default_rng([seed, 4]).standard_normal((count, latent_dim))
    batches = []
    for start in range(0, count, batch_size):
        batch = np.asarray(generator(latents[start:start + batch_size].astype(np.float32)))
        expected = (min(batch_size, count - start), *size, 3)
        if batch.shape != expected:
            raise ModelLoadError(f"generator returned shape {batch.shape} for {expected[0]} "
                                 f"latents; expected {expected} as its image_shape says")
        try:
            batches.append(_check_images(batch, "the generator's output"))
        except ImageLoadError as error:
            raise ModelLoadError(f"{error}; fix the generator so it returns images in [0, 1]") \
                from None
        if bar is not None:
            bar.update(len(batch))
    return np.concatenate(batches)


def evaluate_generator(
    generator: Any,
    real_images: Any,
    num_images: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    *,
    num_pairs: int = 1000,
    progress: bool = False,
) -> dict:
    """SWD (with its noise floor) and MS-SSIM diversity of a generator against real images.

    The real images are shuffled (seeded) and split into two disjoint halves of ``num_images``
    each: generated images are compared with the first half, the second half gives the
    real-vs-real noise floor (see :func:`swd_report`). MS-SSIM diversity is computed for the
    generated images and for both real halves together.

    Parameters
    ----------
    generator
        Any callable mapping float32 latents ``[N, latent_dim]`` to images ``[N, H, W, 3]`` in
        ``[0, 1]`` with attributes ``latent_dim`` and ``image_shape`` ``(H, W, 3)``, e.g. what
        :func:`progan_tf.load_generator` returns. Latents are standard normal, from ``seed``.
    real_images
        ``[M, h, w, 3]`` uint8 or float in ``[0, 1]``, ideally images the generator was *not*
        trained on. Other sizes are centre-cropped to the generator's aspect ratio and resized
        with an antialiasing filter.
    num_images
        Generated images (and real images per half). ``None`` uses ``M // 2``; larger values are
        reduced to ``M // 2`` with a warning. The paper uses 16384; a few thousand give stable
        numbers, 1000 a quick look.
    seed
        Fixes latents, the real split, SWD patches/directions and MS-SSIM pairs.
    batch_size
        Latents per generator call.
    num_pairs
        Image pairs for each MS-SSIM value.
    progress
        Show a progress bar (tqdm, on stderr) over generating, SWD and MS-SSIM; a thousand
        images take a while on a CPU.

    Returns
    -------
    dict
        ``swd`` and ``swd_noise_floor`` (dicts as from :func:`sliced_wasserstein_distance`),
        ``ms_ssim_fake``, ``ms_ssim_real``, ``num_fake_images``, ``num_real_images`` (both
        halves) and ``resolution`` ``[H, W]``.

    Raises
    ------
    ModelLoadError
        If ``generator`` lacks the interface or returns the wrong shape or values.
    ImageLoadError
        If ``real_images`` is not a valid batch of at least 4 images.

    Examples
    --------
    >>> generator = progan_tf.load_generator()                           # doctest: +SKIP
    >>> result = evaluate_generator(generator, held_out_faces, num_images=1000)  # doctest: +SKIP
    >>> result["swd"]["average"], result["swd_noise_floor"]["average"]   # doctest: +SKIP
    (21.5, 6.3)
    """
    latent_dim, size = _generator_shape(generator)
    real = _check_images(real_images, "real_images")
    seed = _check_count(seed, "seed", minimum=0)
    batch_size = _check_count(batch_size, "batch_size")
    available = len(real) // 2
    if available < 2:
        raise ImageLoadError(f"real_images holds {len(real)} images, but evaluation needs at least "
                             f"4 (two halves of 2 or more); pass more real images")
    count = available if num_images is None else _check_count(num_images, "num_images", 2)
    if count > available:
        warnings.warn(f"num_images={count} needs {2 * count} real images (two halves: one to "
                      f"compare with, one for the noise floor) but only {len(real)} were given; "
                      f"using {available}", stacklevel=2)
        count = available

    order = np.random.default_rng([seed, 5]).permutation(len(real))[:2 * count]
    real = _resize(real[order], size)  # two shuffled, disjoint halves
    # One bar in three stages of ``count`` units: generating (per batch), SWD, MS-SSIM.
    with tqdm(total=3 * count, unit="img", desc="generating", disable=not progress,
              leave=False) as bar:
        fake = _generate(generator, count, latent_dim, size, batch_size, seed, bar)
        bar.set_description("SWD")
        swd = swd_report(real[:count], real[count:], fake, seed=seed)
        bar.update(count)
        bar.set_description("MS-SSIM")
        ms_ssim = ms_ssim_report(real, fake, num_pairs=num_pairs, seed=seed)
        bar.update(count)
        # tqdm redraws at most every ``mininterval`` seconds, so a fast last stage would
        # otherwise never show its end; draw the finished bar once before it is cleared.
        bar.refresh()
    return {"swd": swd["fake"], "swd_noise_floor": swd["noise_floor"],
            "ms_ssim_fake": ms_ssim["fake"], "ms_ssim_real": ms_ssim["real"],
            "num_fake_images": count, "num_real_images": 2 * count, "resolution": list(size)}
