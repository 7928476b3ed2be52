"""Where a latent search starts: seeded random latents on their own stream, or the user's.

:func:`~progan_tf.recovery.recover_latent`'s random numbers come from their own stream,
``SeedSequence(seed, spawn_key=(RECOVERY_STREAM, purpose))``, never from ``default_rng(seed)``
as ``sample_latents(n, dim, seed)`` does: a notebook that samples its "true" latent with SEED
and then recovers it with ``seed=SEED`` would otherwise start restart 0 exactly at the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.errors import LatentError, RecoveryError
from progan_tf.latents import as_latent_batch

__all__ = ["RECOVERY_STREAM", "check_seed", "initial_latents", "noise_seed",
           "starting_latents", "to_sphere"]

RECOVERY_STREAM = 0x7265636F  # "reco" in ASCII: the purpose tag of recover_latent's streams
"""The ``spawn_key`` tag of every random stream a latent recovery draws from."""

STARTS, NOISE = 0, 1  # the purposes within that stream


def check_seed(seed: Any) -> int:
    """Accepts a search's seed, a whole number >= 0.

    Raises:
        RecoveryError: If ``seed`` is anything else.
    """
    return check_whole_number(seed, "seed", minimum=0, error=RecoveryError)


def starting_latents(restarts: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """The random latents ``recover_latent(..., seed=seed)`` draws, first ``restarts`` of them.

    Unscreened (``candidates=None``) these are its random starting latents; with
    ``candidates=N`` its first ``N`` rows are the candidates it screens.

    They are standard normal (``recover_latent`` then scales them onto its sphere) and come from
    their own stream, ``np.random.SeedSequence(seed, spawn_key=(RECOVERY_STREAM, 0))``, which
    differs from :func:`~progan_tf.latents.sample_latents`' ``default_rng(seed)``: a latent
    sampled with a seed is never a search's start with the same seed. Like ``sample_latents``,
    more restarts only append rows. Use this to start another method where ``recover_latent``'s
    unscreened search starts (a benchmark, say).

    Args:
        restarts: How many latents (rows).
        latent_dim: Their size.
        seed: ``recover_latent``'s ``seed``, an int >= 0.

    Returns:
        float32 ``[restarts, latent_dim]``.

    Raises:
        RecoveryError: If an argument is not a valid count or seed.

    Example:
    >>> starting_latents(3, 512, seed=1).shape
    (3, 512)
    >>> bool((starting_latents(3, 512, seed=1)[:2] == starting_latents(2, 512, seed=1)).all())
    True
    """
    restarts = check_whole_number(restarts, "restarts", error=RecoveryError)
    latent_dim = check_whole_number(latent_dim, "latent_dim", error=RecoveryError)
    return _stream(check_seed(seed), STARTS).standard_normal((restarts, latent_dim)).astype(
        np.float32)


def noise_seed(seed: int) -> int:
    """The seed of the TF generator that draws a search's noise (and stochastic clipping's).

    Example:
    >>> noise_seed(0) == noise_seed(0) != noise_seed(1)
    True
    """
    return int(_stream(check_seed(seed), NOISE).integers(0, 2**63 - 1))


def initial_latents(initial: Any, restarts: int, latent_dim: int, seed: int,
                    candidates: int | None = None,
                    score: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The ``[restarts, latent_dim]`` starts: ``initial``'s rows first, then random ones.

    Without screening the random rows are rows ``n..restarts-1`` of :func:`starting_latents`
    (``n`` given rows). With ``candidates > restarts`` and a ``score``, rows ``n..candidates-1``
    are scored and the ``restarts - n`` lowest fill the random rows, lowest first.

    Args:
        initial: ``None``, or ``[D]`` / ``[n, D]`` latents with ``n <= restarts``.
        restarts: Rows wanted.
        latent_dim: The generator's latent size ``D``.
        seed: Seeds the random rows (:func:`starting_latents`).
        candidates: How many random latents to screen; ``None``: no screening.
        score: ``[k, D]`` latents -> ``[k]`` losses (lower is better); needed to screen.

    Returns:
        float32 ``[restarts, latent_dim]``.

    Raises:
        LatentError: If ``initial`` has the wrong shape or holds NaN/inf.

    Example:
    >>> start = initial_latents(None, 2, 4, seed=0, candidates=5,
    ...                         score=lambda z: -np.abs(z).sum(axis=1))
    >>> pool = starting_latents(5, 4, seed=0)
    >>> bool((start == pool[np.argsort(-np.abs(pool).sum(axis=1))[:2]]).all())
    True
    """
    given = np.zeros((0, latent_dim), np.float32)
    if initial is not None:
        given = as_latent_batch(initial, name="initial_latents")
        if given.shape[1] != latent_dim or len(given) > restarts:
            raise LatentError(f"initial_latents has shape {tuple(given.shape)}; pass "
                              f"[{latent_dim}] or [n, {latent_dim}] with n <= "
                              f"restarts={restarts}")
    free = restarts - len(given)
    screen = candidates is not None and candidates > restarts and score is not None and free
    pool = starting_latents(candidates if screen else restarts, latent_dim, seed)[len(given):]
    if screen:
        losses = np.asarray(score(pool), np.float64)
        pool = pool[np.argsort(np.where(np.isfinite(losses), losses, np.inf), kind="stable")]
    return np.concatenate([given, pool[:free]]).astype(np.float32)


def to_sphere(latents: Any, radius: float) -> tf.Tensor:
    """``latents`` scaled to norm ``radius`` along the last axis."""
    return tf.math.l2_normalize(latents, axis=-1) * radius


def _stream(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed,
                                                        spawn_key=(RECOVERY_STREAM, purpose)))
