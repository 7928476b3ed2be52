"""Training data: a folder of images decoded once with ``tf.data``, then streamed per phase.

Decoding JPEGs is the slow part on a CPU, so every image is decoded (by
:func:`progan_tf.images.load_image`, the loader the notebooks use), cropped (by
:func:`progan_tf.images.crop_box`, the crop geometry everything shares) and area-resized to the
final resolution once and cached in memory as uint8 (8,000 images at 64x64 are 98 MB).  Each
phase then gets a ``tf.data`` pipeline that area-downsamples the cache to its resolution, draws
minibatches in a shuffled order, mirrors half of them and prefetches.

The order is a pure function of ``(seed, image counter)`` -- epoch ``e`` is a stateless shuffle
seeded with ``(seed, e)`` -- so a run resumed from a checkpoint sees exactly the images the
uninterrupted run would have seen.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_choice
from progan_tf.constants import CROPS
from progan_tf.errors import DatasetError, ImageLoadError
from progan_tf.images import DEFAULT_MAX_PIXELS, area_resize, crop_image, load_image, to_uint8

__all__ = ["CROPS", "IMAGE_SUFFIXES", "ImageFolder", "decode_training_image", "describe",
           "list_image_files", "load_image_folder", "training_dataset"]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# Crops up to this many pixels are resized together in batches; larger ones one by one.
_BATCHED_PIXELS = 512 * 512


@dataclasses.dataclass
class ImageFolder:
    """Decoded training images (uint8, [N, R, R, 3]) and what was found while decoding."""

    directory: str
    images: np.ndarray
    files: list
    skipped: list
    upscaled: int

    @property
    def resolution(self) -> int:
        """The side of the decoded squares."""
        return self.images.shape[1]

    def __len__(self) -> int:
        return len(self.images)


def list_image_files(directory: str | os.PathLike) -> list[str]:
    """Image files under ``directory`` (recursively, sorted, by suffix).

    Args:
        directory: The folder.

    Returns:
        The paths, sorted.

    Raises:
        DatasetError: If the folder does not exist or holds no image files.
    """
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise DatasetError(f"training data folder {str(root)!r} does not exist or is not a "
                           f"folder; pass a folder of JPEG/PNG images")
    files = sorted(str(p) for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DatasetError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) found under "
                           f"{str(root)!r}; pass a folder that holds your training images")
    return files


def _too_large(path: str, max_pixels: int) -> bool:
    """Whether a file that failed to load was refused for its size, judged from its header.

    :func:`~progan_tf.images.load_image` refuses such a picture before decoding a byte of it;
    the folder loader only asks afterwards, to count big pictures apart from broken files.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():  # the pixel limit decides, not Pillow's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:  # reads the header only
                return opened.width * opened.height > max_pixels
    except Image.DecompressionBombError:
        return True
    except Exception:  # not an image at all: broken, not large
        return False


def decode_training_image(path: str | os.PathLike, resolution: int, crop: str = "center",
                          max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, bool]:
    """One image exactly as training sees it: decoded upright, cropped, area-resized.

    ``progan_tf.images.load_image(path, size=resolution, crop="celeba")`` gives the same picture
    (as float32 in ``[0, 1]``, before rounding to uint8), so a user's photo can be framed as the
    training faces were.

    Args:
        path: An image file.
        resolution: The side of the square result.
        crop: One of :data:`CROPS` (see :func:`progan_tf.images.crop_box`).
        max_pixels: Larger pictures are refused before they are decoded.

    Returns:
        ``(uint8 [resolution, resolution, 3], upscaled)``; ``upscaled`` says the crop was
        smaller than ``resolution``.

    Raises:
        ImageLoadError: If the file cannot be decoded or is too large, or ``crop`` is unknown.

    Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from progan_tf.images import save_image
    >>> path = save_image(np.zeros((218, 178, 3)), Path(tempfile.mkdtemp()) / "face.png")
    >>> image, upscaled = decode_training_image(path, 64, crop="celeba")
    >>> image.shape, image.dtype, upscaled
    ((64, 64, 3), dtype('uint8'), False)
    """
    image, small = _cropped(str(path), resolution, crop, max_pixels)
    return _resize(image, resolution), small


def _cropped(path: str, resolution: int, crop: str,
             max_pixels: int) -> tuple[np.ndarray, bool]:
    """The crop of one file (float32) and whether it is smaller than ``resolution``.

    The file goes through :func:`~progan_tf.images.load_image`, the notebooks' loader, so
    training sees what ``load_image`` shows: EXIF orientation applied, transparency on white,
    greyscale expanded, 16-bit scaled -- and a picture with more than ``max_pixels`` pixels is
    refused from its header, before a byte of it is decoded.
    """
    image = crop_image(load_image(path, crop="none", max_pixels=max_pixels), crop)
    return image, min(image.shape[:2]) < resolution


def _resize(images: np.ndarray, resolution: int) -> np.ndarray:
    """Float crops (one ``[H, W, 3]`` or a batch of one size) as uint8 at ``resolution``."""
    return to_uint8(area_resize(images, (resolution, resolution)))


def load_image_folder(directory: str | os.PathLike, resolution: int, crop: str = "center",
                      batch_size: int = 256,
                      max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFolder:
    """Decode every image under ``directory`` to uint8 ``[N, resolution, resolution, 3]``.

    Files are decoded by :func:`progan_tf.images.load_image` in a thread pool (Pillow and
    TensorFlow release the GIL while they work), so they train as they look: upright by their
    EXIF orientation.  Undecodable files and files of more than ``max_pixels`` pixels are
    skipped and counted in one warning; images smaller than ``resolution`` are *upscaled*
    (with one warning giving their number), because refusing a whole data set for a few small
    images helps nobody -- but upscaled images are blurry, so a data set of mostly small images
    is better trained at a lower resolution.

    Args:
        directory: The folder (searched recursively).
        resolution: The side of the decoded squares.
        crop: One of :data:`CROPS`.
        batch_size: Unused; kept for older callers.
        max_pixels: Larger pictures are skipped without being decoded.

    Returns:
        An :class:`ImageFolder`.

    Raises:
        DatasetError: If the folder holds no image files, none can be decoded, or ``crop`` is
            unknown.
    """
    del batch_size
    crop = check_choice(crop, "crop", CROPS, error=DatasetError)
    files = list_image_files(directory)

    def decode(path):
        try:
            image, small = _cropped(path, resolution, crop, max_pixels)
        except ImageLoadError:
            return "large" if _too_large(path, max_pixels) else "broken"
        if image.shape[0] * image.shape[1] > _BATCHED_PIXELS:
            image = _resize(image, resolution)  # now, so that big crops are not kept around
        return image, small

    # Small crops are resized in batches of one size (one TensorFlow call for many images,
    # which matters at thousands of images); the pool is bounded, and so are the chunks.
    results = []
    with concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(files), 512):
            chunk = list(pool.map(decode, files[start:start + 512]))
            groups = {}
            for index, result in enumerate(chunk):
                if not isinstance(result, str) and result[0].dtype != np.uint8:
                    groups.setdefault(result[0].shape, []).append(index)
            for indices in groups.values():
                batch = _resize(np.stack([chunk[i][0] for i in indices]), resolution)
                for index, image in zip(indices, batch):
                    chunk[index] = image, chunk[index][1]
            results += chunk
    decoded = [(path, result) for path, result in zip(files, results)
               if not isinstance(result, str)]
    skipped = [path for path, result in zip(files, results) if isinstance(result, str)]
    if skipped:
        large = results.count("large")
        log.warning("skipped %d of %d files: %d could not be decoded as images, %d have more "
                    "than %s pixels (first: %s)", len(skipped), len(files),
                    len(skipped) - large, large, f"{max_pixels:,}", skipped[0])
    if not decoded:
        raise DatasetError(f"none of the {len(files)} image files under {str(directory)!r} could "
                           f"be decoded (first: {files[0]!r}); check that they are JPEG/PNG "
                           f"images")
    upscaled = sum(small for _, (_, small) in decoded)
    if upscaled:
        log.warning("%d of %d images are smaller than %dx%d after cropping and were upscaled",
                    upscaled, len(decoded), resolution, resolution)
    images = np.stack([image for _, (image, _) in decoded])
    return ImageFolder(str(directory), images, [path for path, _ in decoded], skipped, upscaled)


def training_dataset(images: np.ndarray, resolution: int, batch_size: int,
                     start_index: int = 0, seed: int = 0, mirror: bool = True) -> tf.data.Dataset:
    """An endless ``tf.data.Dataset`` of float32 batches in [-1, 1] at ``resolution``.

    Args:
        images: The decoded cache, uint8 ``[N, R, R, 3]`` (an :class:`ImageFolder`'s images).
        resolution: The phase's resolution; the cache is area-downsampled to it.
        batch_size: Images per batch.
        start_index: The number of images already shown: the stream starts exactly where a
            run with the same seed would be after showing that many images.
        seed: Fixes the order and the mirroring.
        mirror: Mirror half of the images left to right (a function of the stream position).

    Returns:
        The dataset.
    """
    count = len(images)
    if images.shape[1] != resolution:
        images = tf.image.resize(images, [resolution, resolution], method="area")
        images = tf.cast(tf.round(images), tf.uint8).numpy()
    images = tf.constant(images)
    start_epoch, offset = divmod(int(start_index), count)

    def epoch_order(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        positions = epoch * count + tf.range(count, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((positions, order))

    def to_batch(positions, indices):
        batch = tf.cast(tf.gather(images, indices), tf.float32) / 127.5 - 1.0
        if mirror:
            # Mirror decision is a function of the stream position, hence reproducible.
            flips = tf.random.stateless_uniform([tf.shape(indices)[0]],
                                                seed=tf.stack([positions[0], seed + 1])) < 0.5
            batch = tf.where(flips[:, None, None, None], tf.reverse(batch, axis=[2]), batch)
        return batch

    return (tf.data.Dataset.range(start_epoch, 2 ** 62)
            .flat_map(epoch_order)
            .skip(offset)
            .batch(batch_size, drop_remainder=True)
            .map(to_batch, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def describe(folder: ImageFolder) -> str:
    """One line for logs and metadata."""
    return (f"{len(folder)} images from {os.path.abspath(folder.directory)} at "
            f"{folder.resolution}x{folder.resolution} ({len(folder.skipped)} skipped, "
            f"{folder.upscaled} upscaled)")
