"""The TF Hub progan-128 tutorial's latent search, kept step for step as the baseline.

Notebooks and workshop material compare :func:`~progan_tf.recovery.recover_latent` with this
recipe: one latent, eager Adam steps on a summed mean-absolute error plus a penalty pulling the
latent's norm towards ``sqrt(latent_dim)``. ``recover_latent(..., settings="tutorial")`` runs
the same recipe through the compiled search.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.errors import RecoveryError
from progan_tf.latents import as_latent_batch

__all__ = ["find_closest_latent_vector"]


def find_closest_latent_vector(
    generator: Any,
    initial_vector: Any,
    target_image: Any,
    num_optimization_steps: int,
    steps_per_image: int,
    loss_fn: str | keras.losses.Loss = "mae",
    *,
    progress: bool = True,
) -> tuple[list[np.ndarray], list[np.float32]]:
    """The TF Hub progan-128 tutorial's latent search, step for step (the baseline).

    Adam (learning rate 0.01) on one latent; the loss is a Keras loss with ``reduction="sum"``
    between the generated image and the target, plus ``|norm(z) - sqrt(latent_dim)|`` -- the
    tutorial's way of keeping the latent at the length typical of ``N(0, I)`` samples. It runs
    eagerly, one step at a time, exactly as written in the tutorial; :func:`recover_latent` is
    the faster and more robust version.

    Args:
        generator: From :func:`~progan_tf.generator.load_generator` (or any callable mapping
            ``[1, D]`` latents to ``[1, H, W, 3]`` images in [0, 1]).
        initial_vector: The starting latent, ``[1, D]`` or ``[D]``.
        target_image: ``[H, W, 3]`` or ``[H, W, 4]`` (the alpha channel is dropped, as in the
            tutorial), float in [0, 1] or uint8, the generator's size (resize it with
            ``load_image(path, size=generator.image_shape[:2])``).
        num_optimization_steps: Adam steps (the tutorial uses 200).
        steps_per_image: Keep the generated image of every ``steps_per_image``-th step (the
            tutorial uses 5).
        loss_fn: ``"mae"`` (the tutorial's ``MeanAbsoluteError(reduction="sum")``), ``"mse"``
            or a ``keras.losses.Loss``.
        progress: Show a progress bar (the tutorial prints dots).

    Returns:
        ``(images, losses)``: ``ceil(num_optimization_steps / steps_per_image)`` float32 arrays
        ``[1, H, W, 3]``, and the loss of every step, before that step's update.

    Raises:
        RecoveryError: If a count is not a whole number >= 1, or the target's shape or the loss
            is wrong.

    Example:
    >>> from progan_tf.generator import load_generator
    >>> generator = load_generator("bundled")
    >>> z0 = np.random.default_rng(0).standard_normal([1, generator.latent_dim])
    >>> target = generator(np.random.default_rng(1).standard_normal([1, generator.latent_dim]))
    >>> images, losses = find_closest_latent_vector(generator, z0, target[0].numpy(), 10, 5,
    ...                                             progress=False)
    >>> len(images), len(losses), bool(losses[-1] < losses[0])
    (2, 10, True)
    """
    num_optimization_steps = check_whole_number(num_optimization_steps, "num_optimization_steps",
                                                error=RecoveryError)
    steps_per_image = check_whole_number(steps_per_image, "steps_per_image", error=RecoveryError)
    initial_vector = as_latent_batch(initial_vector, name="initial_vector")
    latent_dim = initial_vector.shape[-1]
    target_image = _tutorial_target(target_image, generator)
    loss_fn = _tutorial_loss(loss_fn)

    from tqdm.auto import tqdm  # tqdm.auto picks its notebook widget at import

    images = []
    losses = []
    vector = tf.Variable(initial_vector)
    optimizer = tf.optimizers.Adam(learning_rate=0.01)
    for step in tqdm(range(num_optimization_steps), desc="find_closest_latent_vector",
                     disable=not progress, leave=False):
        with tf.GradientTape() as tape:
            image = generator(vector.read_value())
            if step % steps_per_image == 0:
                images.append(image.numpy())
            target_image_difference = loss_fn(image, target_image[:, :, :3])
            # The latent vectors were sampled from a normal distribution. We can get more
            # realistic images if we regularize the length of the latent vector to the average
            # length of vector from this distribution.
            regularizer = tf.abs(tf.norm(vector) - np.sqrt(latent_dim))
            loss = target_image_difference + regularizer
            losses.append(loss.numpy())
        grads = tape.gradient(loss, [vector])
        optimizer.apply_gradients(zip(grads, [vector]))
    return images, losses


def _tutorial_target(target: Any, generator: Any) -> np.ndarray:
    pixels = np.asarray(target)
    if pixels.dtype == np.uint8:
        pixels = pixels / np.float32(255.0)
    pixels = pixels.astype(np.float32)
    expected = tuple(getattr(generator, "image_shape", (None, None, 3))[:2])
    if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        raise RecoveryError(f"target_image has shape {pixels.shape}; pass one image [H, W, 3] or "
                            f"[H, W, 4], e.g. load_image(path, size={expected[0]})")
    if None not in expected and pixels.shape[:2] != expected:
        raise RecoveryError(f"target_image is {pixels.shape[0]}x{pixels.shape[1]} but the "
                            f"generator makes {expected[0]}x{expected[1]} images; resize it with "
                            f"load_image(image, size={expected}) or use recover_latent")
    return pixels


def _tutorial_loss(loss_fn: Any) -> keras.losses.Loss:
    if isinstance(loss_fn, keras.losses.Loss):
        return loss_fn
    losses = {"mae": tf.losses.MeanAbsoluteError, "mse": tf.losses.MeanSquaredError}
    if loss_fn not in losses:
        raise RecoveryError(f"loss_fn={loss_fn!r} is not supported; use 'mae' (the tutorial's), "
                            f"'mse' or a keras.losses.Loss instance")
    return losses[loss_fn](reduction="sum")
