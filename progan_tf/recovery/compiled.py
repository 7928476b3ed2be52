"""A latent search compiled: its variables, its step, and the cache that lets searches share one.

Tracing and optimising the step graph takes about half a second on a CPU -- as long as a
hundred steps of a 32x32 model -- so :func:`~progan_tf.recovery.recover_latent` keeps the
compiled searches of each generator (:data:`SEARCHES`) and reuses one when the options allow
(:meth:`SearchOptions.key`). The cache belongs to recovery: a generator holds nothing of it,
and the cache holds generators only weakly.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.errors import RecoveryError
from progan_tf.generator import Generator
from progan_tf.recovery import losses
from progan_tf.recovery.starts import to_sphere

__all__ = ["SEARCHES", "CompiledSearch", "SearchCache", "SearchOptions", "optimisation_step"]


@dataclasses.dataclass(frozen=True)
class SearchOptions:
    """What a compiled search is traced for; searches with equal :meth:`key` can share one."""

    restarts: int
    prior: str | None
    prior_weight: float
    stochastic_clip: float | None
    loss: losses.RecoveryLoss

    def key(self) -> Hashable | None:
        """The cache key, or ``None`` if the loss must be traced afresh (see its cache_key)."""
        loss_key = self.loss.cache_key()
        if loss_key is None:
            return None
        return (self.restarts, self.prior, self.prior_weight, self.stochastic_clip, loss_key)


def optimisation_step(search: CompiledSearch, synthesize: Callable[[tf.Tensor], tf.Tensor],
                      loss_of: Callable[[tf.Tensor], tf.Tensor], rate: tf.Tensor,
                      noise_std: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One Adam step of every restart, traced inside :attr:`CompiledSearch.run_steps`.

    Args:
        search: Holds the latents, the optimizer, the noise generator and the options.
        synthesize: Latents -> unclipped float32 images, graph-safe.
        loss_of: Images -> ``[restarts]`` losses against the prepared target.
        rate: This step's learning rate.
        noise_std: This step's noise strength.

    Returns:
        The ``[restarts]`` losses and the ``[restarts, D]`` latents they were computed for.
    """
    latents, options = search.latents, search.options
    radius = math.sqrt(latents.shape[1])
    search.optimizer.learning_rate.assign(rate)
    # Only the latents need a gradient; by default the tape would also watch the generator's
    # weights, which the function call it records reads.
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(latents)
        evaluated = latents + noise_std * search.rng.normal(tf.shape(latents))
        if options.prior == "sphere":
            evaluated = to_sphere(evaluated, radius)
        images = synthesize(evaluated)
        per_restart = loss_of(images)
        if options.prior == "norm":
            per_restart += options.prior_weight * tf.abs(tf.norm(evaluated, axis=1) - radius)
        total = tf.reduce_sum(per_restart)  # a sum: each restart's gradient is its own
    gradients = tape.gradient(total, [latents])
    if gradients[0] is None:  # known while tracing: Keras would say "No gradients provided"
        raise RecoveryError(
            losses.no_gradient_message([term for term, _ in options.loss.terms()])
            if tf.gradients(total, images)[0] is None else
            "the generator's images do not depend on its latents as TensorFlow sees them (no "
            "gradient from images to latents); pass a differentiable generator, e.g. one from "
            "load_generator")
    search.optimizer.apply_gradients(zip(gradients, [latents]))
    if options.stochastic_clip is not None:
        outside = tf.abs(latents) > options.stochastic_clip
        latents.assign(tf.where(outside, search.rng.normal(tf.shape(latents)), latents))
    if options.prior == "sphere":
        latents.assign(to_sphere(latents, radius))
    return per_restart, evaluated


class CompiledSearch:
    """The variables of one search and its Adam steps compiled as a ``tf.function``.

    Each call of :attr:`run_steps` takes the learning rate and the noise strength of each step
    to run (``[n]`` tensors, so neither the schedule nor ``n`` retraces it) and runs the ``n``
    steps in a ``tf.while_loop``: one call from Python per ``n`` steps, not per step. That
    matters on a CPU, where a small generator's step is a few milliseconds and each call from
    Python, with its tensor conversions, adds about a third. It returns each step's per-restart
    losses ``[n, restarts]`` and the latents they were computed for ``[n, restarts, D]``.

    The target is a variable too, so that :meth:`reset` can start a new search on another image
    without tracing again; the loss prepares it (its pyramid, its features) once per call.

    Args:
        synthesize: Latents -> unclipped float32 images, graph-safe.
        options: What the step is traced for.
        latent_dim: ``D``.
        image_shape: ``(H, W, 3)``.
    """

    def __init__(self, synthesize: Callable[[tf.Tensor], tf.Tensor], options: SearchOptions,
                 latent_dim: int, image_shape: tuple):
        self.options = options
        self.latents = tf.Variable(tf.zeros([options.restarts, latent_dim]), name="latents")
        self.target = tf.Variable(tf.zeros([1, *image_shape]), name="target")
        self.optimizer = keras.optimizers.Adam()
        self.optimizer.build([self.latents])  # its variables must exist before tracing
        self.rng = tf.random.Generator.from_seed(0)
        self.in_use = False

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)] * 2, autograph=False)
        def run_steps(rates: tf.Tensor, noise_stds: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            loss_of = options.loss.prepare(tf.convert_to_tensor(self.target))
            count = tf.shape(rates)[0]

            def body(i, losses_so_far, latents_so_far):
                per_restart, seen = optimisation_step(self, synthesize, loss_of, rates[i],
                                                      noise_stds[i])
                return i + 1, losses_so_far.write(i, per_restart), latents_so_far.write(i, seen)

            _, step_losses, step_latents = tf.while_loop(
                lambda i, *_: i < count, body,
                (tf.constant(0), tf.TensorArray(tf.float32, count),
                 tf.TensorArray(tf.float32, count)))
            return step_losses.stack(), step_latents.stack()

        self.run_steps = run_steps

    @property
    def tracings(self) -> int:
        """How many times :attr:`run_steps` was traced (1 for a search that was reused)."""
        return self.run_steps.experimental_get_tracing_count()

    def reset(self, start: np.ndarray, target: np.ndarray, noise_seed: int) -> None:
        """Starts a new search: new latents and target, fresh Adam moments, seeded noise."""
        self.latents.assign(start)
        self.target.assign(target[np.newaxis])
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.rng.reset_from_seed(noise_seed)


class SearchCache:
    """The last few compiled searches of each :class:`~progan_tf.generator.Generator`.

    Tracing and optimising the step graph takes about half a second on a CPU -- as long as a
    hundred steps of a 32x32 model -- so later calls with the same options reuse it. Generators
    are held weakly (a search reaches its generator through a weak reference too), so the cache
    never keeps a model alive.

    Args:
        size: Searches kept per generator, the least recently used dropped first.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self._by_generator: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, generator: Any, options: SearchOptions,
            build: Callable[[], CompiledSearch]) -> CompiledSearch:
        """The cached search for ``options`` on ``generator``, or a new one from ``build``.

        Only :class:`~progan_tf.generator.Generator` searches whose options have a key are
        kept; a search already running (one started from another's callback) is not shared.
        """
        key = options.key()
        if key is None or not isinstance(generator, Generator):
            return build()
        cache = self._by_generator.setdefault(generator, {})
        search = cache.pop(key, None)
        if search is not None and search.in_use:
            cache[key] = search
            return build()
        cache[key] = search = search or build()
        while len(cache) > self.size:
            cache.pop(next(iter(cache)))  # the least recently used
        return search

    def searches(self, generator: Any) -> list[CompiledSearch]:
        """The searches kept for ``generator``, least recently used first."""
        return list(self._by_generator.get(generator, {}).values())


SEARCHES = SearchCache()
"""The compiled searches :func:`recover_latent` keeps, by generator."""
