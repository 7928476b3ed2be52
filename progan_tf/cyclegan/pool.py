"""The history of generated pictures CycleGAN's discriminators learn from (Shrivastava et al.).

A discriminator that only ever sees the generator's *latest* pictures chases it around: the
generator moves, the discriminator forgets what it rejected a moment ago, and the two
oscillate.  Shrivastava et al. (2017) keep a pool of earlier generated pictures instead;
CycleGAN uses one of 50 per domain.  For every generated picture: while the pool is not full,
store it and pass it on; once it is full, with probability 1/2 pass it on unchanged, otherwise
pass on a stored picture chosen at random and store the new one in its place.

Keras has no such layer, and the reference implementation is Python with ``random`` over a
list, which cannot run inside a compiled ``train_step``.  So it is written here as TensorFlow
code: the pool is a Keras layer whose buffer, fill count and draw counter are non-trainable
variables -- checkpoints store them like weights -- and its randomness is stateless, drawn
from ``(seed, draw number)``, so a run resumed from a checkpoint draws what an uninterrupted
one would.  Pictures of a batch go through the pool one after another, as in the reference
code (a ``tf.while_loop`` over the batch, updating a copy of the buffer that is written back
once).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from progan_tf.checks import check_whole_number

__all__ = ["ImagePool"]


@keras.saving.register_keras_serializable(package="progan_tf.cyclegan")
class ImagePool(keras.layers.Layer):
    """A pool of ``size`` earlier pictures: ``pool(pictures)`` returns what D should see.

    Args:
        size: How many pictures it keeps (the paper's 50; 0 passes every picture on).
        seed: Fixes which pictures are swapped, and when.
        **kwargs: ``keras.layers.Layer`` arguments.

    Attributes:
        images: float32 ``[size, H, W, C]``, the stored pictures (after :meth:`build`).
        count: How many slots are filled (int32, up to ``size``).
        draws: How many pictures have gone through (int64): the stream position of the draws.

    Several replicas (``tf.distribute``) share the first replica's pool.

    Example:
    >>> pool = ImagePool(size=2, seed=0)
    >>> first = pool(tf.fill([2, 4, 4, 3], 1.0))  # fills the pool, passes both on
    >>> int(pool.count), float(tf.reduce_min(first))
    (2, 1.0)
    >>> out = pool(tf.fill([8, 4, 4, 3], 2.0))    # now about half are older pictures
    >>> sorted(set(tf.reduce_mean(out, axis=[1, 2, 3]).numpy().tolist()))
    [1.0, 2.0]
    """

    def __init__(self, size: int = 50, seed: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.size = check_whole_number(size, "pool_size", minimum=0)
        self.seed = check_whole_number(seed, "seed", minimum=0)

    def build(self, input_shape: Any) -> None:
        shared = {"trainable": False, "aggregation": "only_first_replica"}
        self.images = self.add_weight(shape=(self.size, *input_shape[1:]), initializer="zeros",
                                      dtype="float32", name="images", **shared)
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                     name="count", **shared)
        self.draws = self.add_weight(shape=(), initializer="zeros", dtype="int64",
                                     name="draws", **shared)
        self.built = True

    def call(self, pictures: Any) -> tf.Tensor:
        pictures = tf.cast(pictures, tf.float32)
        if self.size == 0:
            return pictures
        size, total = self.size, tf.shape(pictures)[0]
        seed = tf.constant(self.seed, tf.int64)

        def body(index, buffer, count, out):
            picture = pictures[index]
            # Two uniform numbers per picture, a pure function of (seed, draw number).
            coins = tf.random.stateless_uniform(
                [2], seed=tf.stack([seed, self.draws + tf.cast(index, tf.int64)]))
            slot = tf.minimum(tf.cast(coins[1] * size, tf.int32), size - 1)
            filling = count < size
            swap = tf.logical_and(tf.logical_not(filling), coins[0] < 0.5)
            where = tf.where(filling, count, slot)
            passed = tf.where(swap, buffer[slot], picture)
            if_stored = tf.tensor_scatter_nd_update(buffer, [[where]], picture[None])
            buffer = tf.where(tf.logical_or(filling, swap), if_stored, buffer)
            count = count + tf.cast(filling, tf.int32)
            return index + 1, buffer, count, out.write(index, passed)

        out = tf.TensorArray(tf.float32, size=total, element_shape=pictures.shape[1:])
        _, buffer, count, out = tf.while_loop(
            lambda index, *_: index < total, body,
            (tf.constant(0), tf.convert_to_tensor(self.images), tf.convert_to_tensor(self.count),
             out))
        self.images.assign(buffer)
        self.count.assign(count)
        self.draws.assign_add(tf.cast(total, tf.int64))
        return tf.reshape(out.stack(), tf.shape(pictures))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "seed": self.seed}
