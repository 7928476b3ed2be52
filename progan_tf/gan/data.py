"""Training data: a folder of images decoded once with ``tf.data``, then streamed per phase.

Decoding JPEGs is the slow part on a CPU, so every image is decoded, cropped and resized to the
final resolution once and cached in memory as uint8 (8,000 images at 64x64 are 98 MB).  Each
phase then gets a ``tf.data`` pipeline that area-downsamples the cache to its resolution, draws
minibatches in a shuffled order, mirrors half of them and prefetches.

The order is a pure function of ``(seed, image counter)`` -- epoch ``e`` is a stateless shuffle
seeded with ``(seed, e)`` -- so a run resumed from a checkpoint sees exactly the images the
uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from progan_tf.errors import DatasetError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
CROPS = ("center", "celeba", "none")


@dataclasses.dataclass
class ImageFolder:
    """Decoded training images (uint8, [N, R, R, 3]) and what was found while decoding."""

    directory: str
    images: np.ndarray
    files: list
    skipped: list
    upscaled: int

    @property
    def resolution(self):
        return self.images.shape[1]

    def __len__(self):
        return len(self.images)


def list_image_files(directory):
    """Image files under ``directory`` (recursively, sorted, by suffix)."""
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


def _crop_box(height, width, crop):
    """(top, left, size_h, size_w) of the crop, as float tensors."""
    height, width = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    if crop == "celeba":
        # The ProGAN paper's CelebA crop: a square of 128/178 of the width, centred at
        # 121/218 of the height (for aligned 178x218 CelebA; scales to 89x109 exactly).
        size = tf.minimum(tf.round(width * 128.0 / 178.0), height)
        top = tf.clip_by_value(tf.round(height * 121.0 / 218.0 - size / 2), 0.0, height - size)
        left = tf.round((width - size) / 2)
        return top, left, size, size
    if crop == "center":
        size = tf.minimum(height, width)
        return tf.round((height - size) / 2), tf.round((width - size) / 2), size, size
    return 0.0, 0.0, height, width


def _decode(path, resolution, crop):
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=0, expand_animations=False, dtype=tf.float32)
    channels = tf.shape(image)[-1]
    # Grayscale -> RGB; an alpha channel is composited on white (transparent PNGs don't go black).
    color = tf.cond(channels >= 3, lambda: image[..., :3],
                    lambda: tf.image.grayscale_to_rgb(image[..., :1]))
    alpha = tf.cond(tf.equal(channels, 4) | tf.equal(channels, 2),
                    lambda: image[..., -1:], lambda: tf.ones_like(image[..., :1]))
    image = color * alpha + (1.0 - alpha)
    shape = tf.shape(image)
    top, left, size_h, size_w = _crop_box(shape[0], shape[1], crop)
    image = tf.image.crop_to_bounding_box(image, tf.cast(top, tf.int32), tf.cast(left, tf.int32),
                                          tf.cast(size_h, tf.int32), tf.cast(size_w, tf.int32))
    small = tf.minimum(size_h, size_w) < resolution
    image = tf.image.resize(image, [resolution, resolution], method="area", antialias=True)
    image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8)
    return path, image, small


def load_image_folder(directory, resolution, crop="center", batch_size=256):
    """Decode every image under ``directory`` to uint8 ``[N, resolution, resolution, 3]``.

    Undecodable files are skipped with a warning and counted; images smaller than
    ``resolution`` are *upscaled* (with one warning giving their number), because refusing a
    whole data set for a few small images helps nobody -- but upscaled images are blurry, so a
    data set of mostly small images is better trained at a lower resolution.
    """
    if crop not in CROPS:
        raise DatasetError(f"unknown crop {crop!r}; use one of {', '.join(CROPS)}")
    files = list_image_files(directory)
    dataset = (tf.data.Dataset.from_tensor_slices(files)
               .map(lambda p: _decode(p, resolution, crop),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .ignore_errors()
               .batch(batch_size))
    decoded_files, images, upscaled = [], [], 0
    for paths, batch, small in dataset:
        decoded_files += [p.decode() for p in paths.numpy()]
        images.append(batch.numpy())
        upscaled += int(small.numpy().sum())
    skipped = sorted(set(files) - set(decoded_files))
    if skipped:
        log.warning("skipped %d of %d files that could not be decoded as images (first: %s)",
                    len(skipped), len(files), skipped[0])
    if not images:
        raise DatasetError(f"none of the {len(files)} image files under {str(directory)!r} could "
                           f"be decoded (first: {files[0]!r}); check that they are JPEG/PNG images")
    if upscaled:
        log.warning("%d of %d images are smaller than %dx%d after cropping and were upscaled",
                    upscaled, len(decoded_files), resolution, resolution)
    return ImageFolder(str(directory), np.concatenate(images), decoded_files, skipped, upscaled)


def training_dataset(images, resolution, batch_size, start_index=0, seed=0, mirror=True):
    """An endless ``tf.data.Dataset`` of float32 batches in [-1, 1] at ``resolution``.

    ``start_index`` is the number of images already shown: the stream starts exactly where a
    run with the same seed would be after showing that many images.
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


def describe(folder: ImageFolder):
    """One line for logs and metadata."""
    return (f"{len(folder)} images from {os.path.abspath(folder.directory)} at "
            f"{folder.resolution}x{folder.resolution} ({len(folder.skipped)} skipped, "
            f"{folder.upscaled} upscaled)")
