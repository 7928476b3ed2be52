"""Everything at once: how good a generator is, measured against held-out real images.

:func:`evaluate_generator` draws images from a generator, frames the real images as the
generator's (crop to its aspect ratio, antialiased resize) and reports SWD beside its real-vs-real
noise floor and MS-SSIM diversity beside the real data's -- the numbers ``progan-tf evaluate``
prints and writes to ``metrics.json``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from progan_tf.checks import check_whole_number
from progan_tf.errors import ImageLoadError, MetricError, ModelLoadError
from progan_tf.images import crop_image
from progan_tf.metrics.batches import CHUNK, as_float, check_images
from progan_tf.metrics.similarity import ms_ssim_report
from progan_tf.metrics.swd import swd_report

__all__ = ["evaluate_generator"]


def evaluate_generator(
    generator: Any,
    real_images: Any,
    num_images: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    *,
    num_pairs: int = 1000,
    floor_images: Any = None,
    progress: bool = False,
) -> dict:
    """SWD (with its noise floor) and MS-SSIM diversity of a generator against real images.

    The real images are shuffled (seeded) and split into two disjoint halves of ``num_images``
    each: generated images are compared with the first half, the second half gives the
    real-vs-real noise floor (see :func:`~progan_tf.metrics.swd_report`). MS-SSIM diversity is
    computed for the generated images and for both real halves together.

    With ``floor_images`` the real images are not split: generated images are compared with
    all of them (the first ``num_images``), and the floor is ``floor_images`` against them --
    held-out faces against as many training faces, as the ProGAN paper's table and this
    project's quality targets measure it (see
    :func:`progan_tf.training.quality.held_out_and_floor`).

    Args:
        generator: Any callable mapping float32 latents ``[N, latent_dim]`` to images
            ``[N, H, W, 3]`` in ``[0, 1]`` with attributes ``latent_dim`` and ``image_shape``
            ``(H, W, 3)``, e.g. what :func:`progan_tf.load_generator` returns. Latents are
            standard normal, from ``seed``.
        real_images: ``[M, h, w, 3]`` uint8 or float in ``[0, 1]``, ideally images the
            generator was *not* trained on. Other sizes are centre-cropped to the generator's
            aspect ratio and resized with an antialiasing filter.
        num_images: Generated images (and real images per half). ``None`` uses ``M // 2``
            (with ``floor_images``: ``M``, and no more than there are floor images); larger
            values are reduced to that with a warning. The paper uses 16384; a few thousand
            give stable numbers, 1000 a quick look.
        seed: Fixes latents, the real split, SWD patches/directions and MS-SSIM pairs.
        batch_size: Latents per generator call.
        num_pairs: Image pairs for each MS-SSIM value.
        floor_images: Other real images for the floor, disjoint from ``real_images`` (default
            ``None``: split ``real_images`` in two halves instead).
        progress: Show a progress bar (tqdm, on stderr) over generating, SWD and MS-SSIM; a
            thousand images take a while on a CPU.

    Returns:
        A dict: ``swd`` and ``swd_noise_floor`` (dicts as from
        :func:`~progan_tf.metrics.sliced_wasserstein_distance`), ``ms_ssim_fake``,
        ``ms_ssim_real``, ``num_fake_images``, ``num_real_images`` (both halves, or the
        compared and the floor images), ``resolution`` ``[H, W]`` and ``noise_floor_of``
        (what the floor compares, in words).

    Raises:
        ModelLoadError: If ``generator`` lacks the interface or returns the wrong shape or
            values.
        ImageLoadError: If ``real_images`` is not a valid batch of at least 4 images.
        MetricError: If a count or the seed is not a valid whole number.

    Example:
    >>> import progan_tf
    >>> generator = progan_tf.load_generator("bundled")
    >>> real = np.random.default_rng(0).random((16, 48, 48, 3))  # stand-ins for held-out faces
    >>> result = evaluate_generator(generator, real, num_images=8, num_pairs=10)
    >>> result["resolution"], result["num_fake_images"], list(result["swd"]["levels"])
    ([64, 64], 8, [64, 32, 16])
    """
    latent_dim, size = _generator_shape(generator)
    real = check_images(real_images, "real_images")
    seed = check_whole_number(seed, "seed", minimum=0, error=MetricError)
    batch_size = check_whole_number(batch_size, "batch_size", error=MetricError)
    if floor_images is None:
        available, needs = len(real) // 2, (f"needs {{}} real images (two halves: one to compare "
                                            f"with, one for the noise floor) but only {len(real)} "
                                            f"were given")
        if available < 2:
            raise ImageLoadError(f"real_images holds {len(real)} images, but evaluation needs at "
                                 f"least 4 (two halves of 2 or more); pass more real images")
    else:
        floor = check_images(floor_images, "floor_images")
        available = min(len(real), len(floor))
        needs = (f"needs {{}} real images and as many floor images, but {len(real)} and "
                 f"{len(floor)} were given")
        if available < 2:
            raise ImageLoadError(f"real_images and floor_images hold {len(real)} and "
                                 f"{len(floor)} images, but evaluation needs at least 2 of each")
    count = available if num_images is None else check_whole_number(
        num_images, "num_images", minimum=2, error=MetricError)
    if count > available:
        wanted = 2 * count if floor_images is None else count
        warnings.warn(f"num_images={count} {needs.format(wanted)}; using {available}",
                      stacklevel=2)
        count = available

    if floor_images is None:
        order = np.random.default_rng([seed, 5]).permutation(len(real))[:2 * count]
        real = _resize(real[order], size)  # two shuffled, disjoint halves
    else:  # the first ``count`` of each, in the order given
        real = _resize(np.concatenate([real[:count], floor[:count]]), size)
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
            "num_fake_images": count, "num_real_images": 2 * count, "resolution": list(size),
            "noise_floor_of": ("two halves of the real images" if floor_images is None
                               else "the real images and as many floor images")}


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
    cropped = crop_image(pixels, "center", aspect=size[1] / size[0])  # as load_image frames
    resized = [tf.image.resize(as_float(cropped[start:start + CHUNK]), size, method="bilinear",
                               antialias=True).numpy()
               for start in range(0, len(cropped), CHUNK)]
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
            batches.append(check_images(batch, "the generator's output"))
        except ImageLoadError as error:
            raise ModelLoadError(f"{error}; fix the generator so it returns images in [0, 1]") \
                from None
        if bar is not None:
            bar.update(len(batch))
    return np.concatenate(batches)
