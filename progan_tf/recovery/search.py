"""The latent search: :func:`recover_latent`, read top to bottom like NVlabs' ``projector.py``.

One function holds the algorithm, phase by phase: set up (settings, generator, target, loss),
starting latents, compile the step (or reuse a compiled one), optimise with the schedules while
keeping the best latent seen, build the result. What it relies on sits beside it at module
level: the schedules (:func:`learning_rate`, :func:`noise_strength`), the record of the best
latent (:class:`Best`) and the generator as a graph-safe function (:func:`synthesizer`). The
compiled step, its variables and the cache of compiled searches live in
:mod:`progan_tf.recovery.compiled`; recovery owns that cache -- a generator knows nothing of
it.

**Why a sphere.** ProGAN normalises ``z`` at its input (pixel norm), so only the *direction* of
a latent matters, and ``N(0, I)`` latents in ``D`` dimensions all have norms close to
``sqrt(D)``. The default ``prior="sphere"`` therefore keeps every latent on the sphere of radius
``sqrt(D)`` (projecting back after each step) rather than penalising the norm as the tutorial
does, and recovered latents are best compared with the true one by cosine similarity, not L2
distance (:meth:`RecoveryResult.similarity`).
"""

from __future__ import annotations

import math
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.errors import ModelLoadError, RecoveryError
from progan_tf.generator import Generator
from progan_tf.images import load_image, single_image, to_uint8
from progan_tf.metrics.similarity import psnr, ssim
from progan_tf.recovery import losses, starts
from progan_tf.recovery.compiled import SEARCHES, CompiledSearch, SearchOptions
from progan_tf.recovery.encoder import encoder_for
from progan_tf.recovery.result import RecoveryResult
from progan_tf.recovery.settings import RecoverySettings, settings_for

__all__ = ["Best", "learning_rate", "nan_message", "noise_strength", "recover_latent", "render",
           "synthesizer"]

RENDER_CHUNK = 32  # latents rendered at once when the result is built


def recover_latent(
    generator: Any,
    image: Any,
    *,
    settings: RecoverySettings | str | None = None,
    seed: int = 0,
    progress: bool = True,
    initial_latents: Any = None,
    init: Any = None,
    callback: Callable[[int, np.ndarray], None] | None = None,
    **overrides: Any,
) -> RecoveryResult:
    """Finds the latent whose generated image is closest to ``image``.

    ``restarts`` random latents are optimised together, as one batch, with Adam in a compiled
    step; the latent with the lowest loss seen in any restart at any step is returned. How the
    search runs -- steps, restarts, loss, prior, schedules -- is a :class:`RecoverySettings`:
    the defaults, a preset of :data:`~progan_tf.recovery.PRESETS` (``settings="tutorial"``,
    ``"photo"``), or your own, and any of its fields may be given as a keyword to change just
    that (``steps=500``).

    The first search on a :class:`~progan_tf.generator.Generator` traces and optimises the
    step's graph (about half a second on a CPU); later searches with the same restarts, loss
    and prior reuse it when the loss is built from the named losses other than
    ``"discriminator"`` and any feature extractor is a Keras model. Other searches are traced
    afresh each time: a custom function may read Python values that a reused trace would have
    frozen, and a discriminator may have moved to another stage or file since.

    Args:
        generator: From :func:`~progan_tf.generator.load_generator` (or any callable with
            ``latent_dim`` and ``image_shape`` that maps ``[N, D]`` latents to
            ``[N, H, W, 3]`` images in [0, 1]).
        image: The target: anything :func:`~progan_tf.images.load_image` accepts (path, URL,
            upload, array ``[H, W]``/``[H, W, 3]``/``[H, W, 4]``, PIL image, a generator's
            ``[1, H, W, 3]`` output). Transparency is composited on white; a picture of another
            size is centre-cropped to the generator's aspect ratio and resized to its size.
        settings: ``None`` (the defaults), a preset name, or a :class:`RecoverySettings`.
        seed: Seeds the starting latents (:func:`~progan_tf.recovery.starting_latents`) and
            the noise. They come from their own stream (tagged ``RECOVERY_STREAM``), so a latent
            drawn with ``sample_latents(n, dim, seed=seed)`` is never where a search with the
            same seed starts.
        progress: Show a progress bar (tqdm: a widget in notebooks, text in terminals).
        initial_latents: ``[D]`` or ``[n, D]`` latents for the first ``n <= restarts``
            restarts; the rest are random.
        init: Start from an encoder's prediction instead (the fast path): ``"encoder"``, the
            encoder shipped for the bundled generator, or a folder written by ``progan-tf
            train-encoder`` (or an :class:`~progan_tf.recovery.encoder.Encoder`). The first
            restart starts at its latent, the others near it. Unless ``settings`` says
            otherwise, the search is then the short refinement of the ``"encoder"`` preset.
        callback: Called after every step as ``callback(step, losses)`` with the
            ``[restarts]`` losses, e.g. for a live plot (in bursts of ``steps_per_execution``
            steps). Raising ``KeyboardInterrupt`` in it stops the search like Ctrl-C.
        **overrides: Fields of :class:`RecoverySettings` (``steps=``, ``loss=``, ...), and
            ``feature_extractor=`` / ``discriminator=``, the older way to give the
            ``"perceptual"`` / ``"discriminator"`` loss its network.

    Returns:
        The :class:`RecoveryResult`. Ctrl-C, the notebook's stop button, or a NaN/inf loss end
        the search early with the best result found so far (``interrupted`` /
        ``stopped_reason`` say so).

    Raises:
        RecoveryError: For an invalid or unknown option, if no step produced a finite loss, or
            if ``init`` names no encoder or one trained for another generator.
        LatentError: If ``initial_latents`` has the wrong shape or values.

    Example:
    >>> from progan_tf.generator import load_generator
    >>> generator = load_generator("bundled")
    >>> target = generator(starts.starting_latents(1, generator.latent_dim, seed=99))[0]
    >>> result = recover_latent(generator, target, steps=40, restarts=2, progress=False)
    >>> result.loss_history.shape, bool(result.best_loss < result.loss_history[0].min())
    ((40, 2), True)
    >>> tutorial = recover_latent(generator, target, settings="tutorial", steps=20,
    ...                           progress=False)
    >>> tutorial.loss_history.shape
    (20, 1)
    >>> from progan_tf.recovery.settings import PRESETS
    >>> fast = recover_latent(generator, target, init="encoder", progress=False)
    >>> fast.loss_history.shape == (PRESETS["encoder"].steps, PRESETS["encoder"].restarts)
    True
    """
    # Set up: the options, the generator as a function of latents, the target and the loss.
    settings = settings_for("encoder" if settings is None and init is not None else settings,
                            overrides)
    seed = starts.check_seed(seed)
    if callback is not None and not callable(callback):
        raise RecoveryError(f"callback must be callable, got {type(callback).__name__}")
    synthesize, latent_dim, image_shape = synthesizer(generator)
    target = load_image(single_image(image), size=image_shape[:2])
    loss = losses.get(settings.loss)
    steps, restarts, every = settings.steps, settings.restarts, settings.frames_every

    # Starting latents: the encoder's prediction and latents near it, or the caller's first,
    # then seeded random ones; on the sphere if that is the prior, so that step 0 scores the
    # very latents the search starts from.
    if init is not None:
        if initial_latents is not None:
            raise RecoveryError("pass init (an encoder) or initial_latents, not both")
        initial_latents = encoder_for(generator, init).starts(target, restarts, seed)
    radius = math.sqrt(latent_dim) if settings.prior == "sphere" else None
    start = starts.initial_latents(
        initial_latents, restarts, latent_dim, seed, settings.candidates,
        score=lambda latents: screening_losses(synthesize, loss, target, latents, radius))
    if radius is not None:
        start = starts.to_sphere(start, radius).numpy()

    # Compile the step, or reuse the graph traced for the same options on this generator.
    options = SearchOptions(restarts, settings.prior, settings.prior_weight_for(image_shape),
                            settings.stochastic_clip, loss)
    search = SEARCHES.get(generator, options, lambda: CompiledSearch(
        synthesize, options, latent_dim, image_shape))
    search.reset(start, target, starts.noise_seed(seed))

    # Optimise with the schedules, several steps per call, keeping the best latent seen.
    rates = [learning_rate(step, steps, settings.learning_rate, settings.lr_rampup,
                           settings.lr_rampdown) for step in range(steps)]
    noise = [noise_strength(step, steps, settings.noise, settings.noise_ramp)
             for step in range(steps)]
    history = np.full((steps, restarts), np.nan, np.float32)
    best = Best()
    snapshots = []  # the latents of every frames_every-th step, all restarts
    done, interrupted, reason = 0, False, None
    began = time.perf_counter()
    from tqdm.auto import tqdm  # tqdm.auto picks its notebook widget at import

    search.in_use = True
    try:
        with tqdm(total=steps, desc="recover_latent", unit="step", disable=not progress) as bar:
            for first in range(0, steps, settings.steps_per_execution):
                chunk = range(first, min(first + settings.steps_per_execution, steps))
                step_losses, step_latents = (values.numpy() for values in search.run_steps(
                    tf.constant(rates[chunk.start:chunk.stop], tf.float32),
                    tf.constant(noise[chunk.start:chunk.stop], tf.float32)))
                for step, losses_now, latents_now in zip(chunk, step_losses, step_latents):
                    history[step], done = losses_now, step + 1
                    if every is not None and step % every == 0:
                        snapshots.append(latents_now)
                    best.update(step, losses_now, latents_now)
                    if not np.isfinite(losses_now).all():
                        reason = nan_message(step, losses_now, best)
                        break
                    if callback is not None:
                        callback(step, losses_now)
                if reason is not None:
                    warnings.warn(reason, RuntimeWarning, stacklevel=2)
                    break
                bar.update(len(chunk))
                bar.set_postfix(best_loss=f"{best.loss:.4g}", refresh=False)
    except KeyboardInterrupt:
        if best.latent is None:
            raise  # nothing to return yet
        interrupted = True
        reason = (f"interrupted after {done} of {steps} steps; returning the best result so far "
                  f"(step {best.step}, restart {best.restart})")
    finally:
        search.in_use = False
    wall_time = time.perf_counter() - began
    if best.latent is None:
        raise RecoveryError(f"the loss was NaN or inf from the first step ({history[0].tolist()}); "
                            f"check the loss function (a custom loss may divide by zero or take "
                            f"the log of 0) or lower learning_rate")

    # Build the result: render the best latent and the frames of its restart, score the image.
    image = render(synthesize, best.latent[np.newaxis])[0]
    path = [snapshot[best.restart] for snapshot in snapshots
            if np.isfinite(snapshot[best.restart]).all()]
    frames = (to_uint8(np.concatenate([render(synthesize, np.stack(path)), image[np.newaxis]]))
              if path else np.zeros((0, *image_shape), np.uint8))
    history = history[:done]
    return RecoveryResult(
        latent=best.latent, image=image, target=target, losses=history[:, best.restart],
        loss_history=history, frames=frames, psnr=psnr(image, target), ssim=ssim(image, target),
        wall_time=wall_time, steps_per_second=len(history) / wall_time if wall_time else math.inf,
        interrupted=interrupted, stopped_reason=reason, best_restart=best.restart,
        best_step=best.step, best_loss=best.loss)


# --------------------------------------------------------------------------------------------
# Schedules (StyleGAN2 projector)
# --------------------------------------------------------------------------------------------


def learning_rate(step: int, steps: int, base: float, rampup: float, rampdown: float) -> float:
    """The learning rate of ``step`` of ``steps``: ``base`` ramped up, then down.

    Linear ramp-up over the first ``rampup`` fraction, cosine ramp-down over the last
    ``rampdown`` fraction; neither end is exactly zero, so every step moves the latents.

    Example:
    >>> [round(learning_rate(step, 100, 0.1, 0.05, 0.25), 4) for step in (0, 4, 50, 99)]
    [0.02, 0.1, 0.1, 0.0004]
    """
    factor = 1.0
    if rampup > 0:
        factor *= min(1.0, (step + 1) / (steps * rampup))
    if rampdown > 0:
        factor *= 0.5 - 0.5 * math.cos(math.pi * min(1.0, (steps - step) / (steps * rampdown)))
    return base * factor


def noise_strength(step: int, steps: int, noise: float, noise_ramp: float) -> float:
    """Standard deviation of the noise added to the latents at ``step``: quadratic decay to 0.

    None at step 0: the first loss is then the starting latents' own, so they are candidates
    for the best result too, and a search started at the answer returns it.

    Example:
    >>> [round(noise_strength(step, 100, 0.05, 0.75), 4) for step in (0, 1, 75)]
    [0.0, 0.0487, 0.0]
    """
    if step == 0:
        return 0.0
    return noise * max(0.0, 1.0 - step / (steps * noise_ramp)) ** 2


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class Best:
    """The lowest finite loss seen so far, and the latent that scored it."""

    def __init__(self):
        self.loss, self.latent, self.step, self.restart = math.inf, None, -1, -1

    def update(self, step: int, step_losses: np.ndarray, latents: np.ndarray) -> None:
        """Keeps the best of ``step``'s restarts if it beats the best so far."""
        finite = np.where(np.isfinite(step_losses), step_losses, np.inf)
        restart = int(np.argmin(finite))
        if finite[restart] < self.loss:
            self.loss, self.step, self.restart = float(finite[restart]), step, restart
            self.latent = latents[restart].copy()


def nan_message(step: int, step_losses: np.ndarray, best: Best) -> str:
    """The warning (and ``stopped_reason``) of a search stopped by a NaN/inf loss."""
    bad = np.flatnonzero(~np.isfinite(step_losses))
    kept = (f"kept the best finite result (loss {best.loss:.5g} at step {best.step})"
            if best.latent is not None else "no finite result to keep")
    return (f"the loss became NaN/inf at step {step} (restart(s) {bad.tolist()}); stopped and "
            f"{kept}; check the loss function or lower learning_rate")


def synthesizer(generator: Any) -> tuple[Callable[[tf.Tensor], tf.Tensor], int, tuple]:
    """A graph-safe function latents -> unclipped float32 images, the latent size, the shape.

    For a :class:`~progan_tf.generator.Generator` it is :meth:`Generator.synthesize` (no
    checks: the wrapper's NaN check would become a ``CheckNumerics`` op whose gradient aborts
    the whole step as soon as a loss turns NaN -- the search should instead stop cleanly and
    keep its best result; the latents are checked once, up front, instead), reached through a
    weak reference so that the cached search does not keep the generator alive.

    Raises:
        ModelLoadError: If ``generator`` is not callable or lacks ``latent_dim`` /
            ``image_shape``.
    """
    if isinstance(generator, Generator):
        owner = weakref.ref(generator)

        def synthesize(latents: tf.Tensor) -> tf.Tensor:
            return owner().synthesize(latents, clip=False)

        return synthesize, generator.latent_dim, tuple(generator.image_shape)
    latent_dim = getattr(generator, "latent_dim", None)
    image_shape = getattr(generator, "image_shape", None)
    if not callable(generator) or latent_dim is None or image_shape is None:
        raise ModelLoadError(f"{type(generator).__name__} is not a generator: it must be callable "
                             f"and have latent_dim and image_shape; load one with load_generator")
    return (lambda latents: tf.cast(generator(latents), tf.float32), int(latent_dim),
            tuple(int(side) for side in image_shape))


def screening_losses(synthesize: Callable[[tf.Tensor], tf.Tensor], loss: losses.RecoveryLoss,
                     target: np.ndarray, latents: np.ndarray, radius: float | None) -> np.ndarray:
    """The loss of each candidate start, as step 0 would score it (on the sphere if ``radius``).

    The prior's penalty is left out: it is zero on the sphere and would only prefer latents of
    typical norm otherwise.
    """
    if radius is not None:
        latents = starts.to_sphere(latents, radius).numpy()
    per_image = loss.prepare(tf.convert_to_tensor(target[np.newaxis], tf.float32))
    chunks = [per_image(synthesize(tf.constant(latents[i:i + RENDER_CHUNK])))
              for i in range(0, len(latents), RENDER_CHUNK)]
    return tf.concat(chunks, axis=0).numpy()


def render(synthesize: Callable[[tf.Tensor], tf.Tensor], latents: np.ndarray) -> np.ndarray:
    """Images of ``latents`` in chunks, clipped to [0, 1], as a NumPy array."""
    chunks = [synthesize(tf.constant(latents[i:i + RENDER_CHUNK]))
              for i in range(0, len(latents), RENDER_CHUNK)]
    return np.clip(tf.concat(chunks, axis=0).numpy(), 0.0, 1.0)
