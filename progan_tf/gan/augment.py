"""Differentiable augmentation of everything the discriminator sees (DiffAugment and ADA).

With a few thousand images the discriminator memorises the training set, its verdicts stop
carrying information and the generator's images degrade.  Augmenting the *real* images alone
would teach the generator to produce augmented images; augmenting both reals and fakes with
operations that gradients flow through -- in the discriminator step *and* in the generator
step -- lets the discriminator see many variants of each image while the generator still learns
the un-augmented distribution (Zhao et al., 2020).  ADA (Karras et al., 2020) applies each
operation with a probability ``p`` and adapts ``p`` during training from an overfitting
heuristic, ``r_t = E[sign(D(real))]``: near 0 while D cannot tell reals from fakes, towards 1 as
it memorises them; ``p`` rises while ``r_t`` is above a target (about 0.6) and falls below it,
so a data set large enough not to overfit trains (almost) unaugmented.

The operations are DiffAugment's, on images in [-1, 1]:

* ``color``: brightness (+U(-0.5, 0.5)), saturation (x U(0, 2) around the pixel's grey) and
  contrast (x U(0.5, 1.5) around the image mean);
* ``translation``: a shift of up to 1/8 of the size in each direction, filling with zeros;
* ``cutout``: a square of half the size, at a random place, set to zero.

Mirroring is not here: the data pipeline mirrors the training images (``--no-mirror`` turns it
off), which is not a leak because a mirrored face is a face.

Import rule: TensorFlow only; no other module of the package.

Reference:
    Zhao et al., 2020, `Differentiable Augmentation for Data-Efficient GAN Training
    <https://arxiv.org/abs/2006.10738>`_; Karras et al., 2020, `Training Generative Adversarial
    Networks with Limited Data <https://arxiv.org/abs/2006.06676>`_.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

__all__ = ["OPERATIONS", "augment", "color", "cutout", "translation", "update_probability"]

TRANSLATION_RATIO = 1 / 8
"""The largest shift of ``translation``, as a fraction of the image size (DiffAugment's)."""

CUTOUT_RATIO = 1 / 2
"""The side of ``cutout``'s square, as a fraction of the image size (DiffAugment's)."""


def _uniform(rng: tf.random.Generator, batch: Any, low: float = 0.0,
             high: float = 1.0) -> tf.Tensor:
    return rng.uniform([batch, 1, 1, 1], low, high)


def color(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
    """Random brightness, saturation and contrast per image (``[N, H, W, C]`` in [-1, 1]).

    Example:
    >>> rng = tf.random.Generator.from_seed(0)
    >>> color(tf.zeros([2, 4, 4, 3]), rng).shape
    TensorShape([2, 4, 4, 3])
    """
    batch = tf.shape(images)[0]
    images = images + _uniform(rng, batch, -0.5, 0.5)
    grey = tf.reduce_mean(images, axis=3, keepdims=True)
    images = (images - grey) * _uniform(rng, batch, 0.0, 2.0) + grey
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _uniform(rng, batch, 0.5, 1.5) + mean


def translation(images: tf.Tensor, rng: tf.random.Generator,
                ratio: float = TRANSLATION_RATIO) -> tf.Tensor:
    """Shift each image by up to ``ratio`` of its size in each direction, filling with zeros.

    Example:
    >>> rng = tf.random.Generator.from_seed(0)
    >>> moved = translation(tf.ones([8, 8, 8, 1]), rng)
    >>> float(tf.reduce_min(tf.reduce_sum(moved, axis=[1, 2, 3]))) >= 49  # at most 1 px off
    True
    """
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    shift_y = int(images.shape[1] * ratio + 0.5)
    shift_x = int(images.shape[2] * ratio + 0.5)
    dy = rng.uniform([batch, 1], -shift_y, shift_y + 1, dtype=tf.int32)
    dx = rng.uniform([batch, 1], -shift_x, shift_x + 1, dtype=tf.int32)
    # Gather rows, then columns, from the image padded by one zero pixel: indices that fall
    # outside the image are clamped onto the padding, so they read zeros.
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    rows = tf.clip_by_value(tf.range(height)[None, :] + dy + 1, 0, height + 1)
    cols = tf.clip_by_value(tf.range(width)[None, :] + dx + 1, 0, width + 1)
    moved = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(moved, cols, axis=2, batch_dims=1)


def cutout(images: tf.Tensor, rng: tf.random.Generator, ratio: float = CUTOUT_RATIO) -> tf.Tensor:
    """Zero a square of ``ratio`` of the size at a random place in each image.

    Example:
    >>> rng = tf.random.Generator.from_seed(0)
    >>> cut = cutout(tf.ones([4, 8, 8, 1]), rng)
    >>> [int(n) for n in tf.reduce_sum(1 - cut, axis=[1, 2, 3])]  # 4x4 squares, maybe clipped
    [16, 8, 16, 16]
    """
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # The square's centre, as in DiffAugment: anywhere, so the square may hang over an edge.
    centre_y = rng.uniform([batch, 1, 1], 0, height + (1 - size_y % 2), dtype=tf.int32)
    centre_x = rng.uniform([batch, 1, 1], 0, width + (1 - size_x % 2), dtype=tf.int32)
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    ys = tf.range(height)[None, :, None]
    xs = tf.range(width)[None, None, :]
    inside = (ys >= top) & (ys < top + size_y) & (xs >= left) & (xs < left + size_x)
    return images * tf.cast(~inside, images.dtype)[..., None]


OPERATIONS = {"color": color, "translation": translation, "cutout": cutout}
"""The augmentations by the names an ``augment_policy`` uses."""


def augment(images: tf.Tensor, operations: Sequence[str], rng: tf.random.Generator,
            probability: Any = None) -> tf.Tensor:
    """Apply ``operations`` in order; each to every image, or to each with ``probability``.

    Args:
        images: ``[N, H, W, C]`` in [-1, 1].
        operations: Names from :data:`OPERATIONS`, e.g. ``("color", "translation")``.
        rng: The ``tf.random.Generator`` to draw from (the model's, so that it is
            checkpointed).
        probability: ``None`` (default): always, as DiffAugment does.  A scalar (ADA's ``p``):
            each operation is applied to each image independently with that probability.

    Returns:
        The augmented images, differentiable with respect to ``images``.

    Example:
    >>> rng = tf.random.Generator.from_seed(0)
    >>> images = tf.random.uniform([4, 8, 8, 3], -1, 1)
    >>> bool(tf.reduce_all(augment(images, ["color", "cutout"], rng, probability=0.0) == images))
    True
    """
    for name in operations:
        changed = OPERATIONS[name](images, rng)
        if probability is None:
            images = changed
        else:
            chosen = rng.uniform([tf.shape(images)[0], 1, 1, 1]) < probability
            images = tf.where(chosen, changed, images)
    return images


def update_probability(probability: Any, sign_mean: Any, target: float, images: Any,
                       ada_kimg: float) -> tf.Tensor:
    """ADA's step: move ``p`` towards keeping ``E[sign(D(real))]`` at ``target``.

    ``p`` changes by ``images / (ada_kimg * 1000)`` per update -- so it can go from 0 to 1 in
    ``ada_kimg`` thousand images -- up while the discriminator is more sure of the reals than
    the target, down otherwise, and stays in [0, 1].

    Args:
        probability: The current ``p``.
        sign_mean: ``r_t``, the mean of ``sign(D(real))`` over the images since the last update.
        target: The ``r_t`` to hold (ADA's 0.6).
        images: How many images ``sign_mean`` was measured on.
        ada_kimg: Thousands of images for ``p`` to cross [0, 1].

    Returns:
        The new ``p``.

    Example:
    >>> round(float(update_probability(0.5, 0.9, 0.6, images=1000, ada_kimg=10)), 6)
    0.6
    >>> float(update_probability(0.05, 0.0, 0.6, images=1000, ada_kimg=10))
    0.0
    """
    step = tf.cast(images, tf.float32) / (ada_kimg * 1000.0)
    adjust = tf.sign(tf.cast(sign_mean, tf.float32) - target) * step
    return tf.clip_by_value(tf.cast(probability, tf.float32) + adjust, 0.0, 1.0)
