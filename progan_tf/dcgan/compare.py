"""Why progressive?  Two families trained for the same wall time, measured the same way.

:func:`race` trains one run for a fixed *training* time (its
:class:`~progan_tf.training.callbacks.TrainingClock`: the steps, not start-up, evaluation or
pictures) with :class:`~progan_tf.dcgan.callbacks.TimeBudget`, and measures what its generator
draws at that moment: the sliced Wasserstein distance per pyramid level against held-out faces
(a run still growing, ProGAN, at the resolution it reached, upscaled), beside the real-vs-real
floor of :func:`floor` -- the same number of images, the same seed.  ``bench/dcgan_vs_progan.py``
races a DCGAN and a ProGAN for minutes; notebook 05 for seconds, live.

Nothing here depends on a family: ``train_fn`` is ``progan_tf.dcgan.train`` or
``progan_tf.gan.train.train`` (anything with their signature).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from progan_tf.dcgan.callbacks import TimeBudget
from progan_tf.errors import DatasetError, TrainingInterrupted
from progan_tf.metrics import sliced_wasserstein_distance

__all__ = ["draw", "floor", "measure", "race"]


def draw(sample: Callable[[Any], Any], latent_dim: int, count: int, seed: int,
         resolution: int) -> np.ndarray:
    """``count`` images in [0, 1] from seeded latents, upscaled (nearest) to ``resolution``.

    Args:
        sample: ``sample(latents) -> images in [0, 1]`` (a training model's ``sample``).
        latent_dim: The latent size.
        count: How many images.
        seed: Seeds the latents.
        resolution: The size to show them at (a whole multiple of theirs).

    Returns:
        float32 ``[count, resolution, resolution, 3]``.

    Example:
    >>> draw(lambda z: np.zeros((len(z), 4, 4, 3)), 8, 2, seed=0, resolution=16).shape
    (2, 16, 16, 3)
    """
    latents = np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")
    fakes = np.concatenate([np.asarray(sample(latents[i:i + 250]))
                            for i in range(0, count, 250)])
    factor = resolution // fakes.shape[1]  # a run stopped before its final resolution
    return np.clip(fakes.repeat(factor, axis=1).repeat(factor, axis=2), 0, 1).astype("float32")


def floor(held_out: np.ndarray, other_real: np.ndarray, seed: int = 0) -> dict[int, float]:
    """SWD x1e3 per level between two sets of real images: the best a generator can score.

    Args:
        held_out: The held-out faces (uint8 ``[N, r, r, 3]``).
        other_real: As many other real faces (the training faces), disjoint from them.
        seed: SWD's seed (the same as the generators are measured with).

    Returns:
        ``{level: SWD}``, from the finest level down.
    """
    levels = sliced_wasserstein_distance(held_out, other_real, seed=seed)["levels"]
    return {int(level): float(value) for level, value in levels.items()}


def measure(model: Any, held_out: np.ndarray, seed: int = 0, grid: int = 16) -> dict:
    """What a training model draws now: SWD per level against ``held_out``, and a few images.

    Args:
        model: A training model (``sample``, ``latent_dim``, ``images_shown``, ``phase``,
            ``training_clock``: what :func:`progan_tf.training.train` trains).
        held_out: The held-out faces, uint8 ``[N, r, r, 3]`` at the final resolution.
        seed: Seeds the latents and SWD.
        grid: How many of the images to keep for a picture (default 16).

    Returns:
        ``{"kimg", "phase", "train_minutes", "cpu_minutes", "images_per_second", "swd":
        {level: value}, "images": [grid, r, r, 3]}``.
    """
    resolution = held_out.shape[1]
    fakes = draw(model.sample, model.latent_dim, len(held_out), seed, resolution)
    levels = sliced_wasserstein_distance(held_out, fakes, seed=seed)["levels"]
    phase = model.phase.name + (", upscaled" if getattr(model.phase, "resolution", resolution)
                                < resolution else "")
    shown, clock = int(model.images_shown.numpy()), model.training_clock
    return {"kimg": shown / 1000, "phase": phase,
            "train_minutes": clock.train_seconds / 60, "cpu_minutes": clock.cpu_seconds / 60,
            "images_per_second": shown / max(clock.train_seconds, 1e-9),
            "swd": {int(level): float(value) for level, value in levels.items()},
            "images": fakes[:grid]}


def race(train_fn: Callable[..., Any], config: Any, seconds: float, held_out: np.ndarray,
         seed: int = 0, extra_callbacks: Sequence = ()) -> dict:
    """Train ``config`` with ``train_fn`` for ``seconds`` of training time, then :func:`measure`.

    Args:
        train_fn: ``progan_tf.dcgan.train``, ``progan_tf.gan.train.train`` or alike.
        config: The run's options; give it more images than the time allows (the budget,
            not the schedule, ends the run).
        seconds: The training time.
        held_out: The held-out faces (see :func:`measure`).
        seed: Seeds the measurement.
        extra_callbacks: More callbacks for the run (``QualityLog``, progress grids).

    Returns:
        What :func:`measure` returns when the time was up.

    Raises:
        DatasetError: the run's schedule ended before its time did.
        TrainingInterrupted: the run was stopped by something else (Ctrl-C), saved.
    """
    budget = TimeBudget(seconds, on_stop=lambda model: measure(model, held_out, seed))
    try:
        train_fn(config, progress=False, extra_callbacks=[*extra_callbacks, budget])
    except TrainingInterrupted:
        if not budget.fired:
            raise
    if budget.result is None:
        raise DatasetError(f"the run in {config.out_dir!r} finished its schedule before its "
                           f"{seconds:g} s of training; give it more images (kimg)")
    return budget.result
