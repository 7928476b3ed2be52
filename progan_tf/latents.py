"""Latent vectors: draw them, check them, and measure them.

A ProGAN generator turns a latent vector ``z ~ N(0, I)`` into an image. This module holds what
every other part of the toolkit needs to know about latents:

* :func:`sample_latents` draws them reproducibly from a seed;
* :func:`as_latents` and :func:`as_latent_batch` are the *one* place latents handed in by a user
  are checked (a readable array, real numbers, the right rank and size, no NaN/inf), each
  mistake ending in a :class:`~progan_tf.errors.LatentError` that says what to fix;
* :func:`latent_norms` and :func:`cosine_similarity` help to *see* why the way a path is drawn
  matters: in 512 dimensions almost all Gaussian samples have a norm close to
  ``sqrt(512) ~= 22.6``, and the generator has only ever seen latents of that size.

Paths between latents -- :func:`~progan_tf.interpolation.interpolate`, ``slerp``, ``lerp``,
``walk``, ``loop`` -- live in :mod:`progan_tf.interpolation` and are re-exported here on first
use (``progan_tf.latents.walk`` keeps working; the import is lazy because
:mod:`progan_tf.interpolation` itself checks its inputs with the functions of this module).

Everything here is pure NumPy (no TensorFlow import, so it is instant) and accepts anything
``np.asarray`` understands -- lists, NumPy arrays, eager ``tf.Tensor`` objects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from progan_tf.checks import check_whole_number
from progan_tf.constants import INTERPOLATION_METHODS
from progan_tf.errors import LatentError

__all__ = ["METHODS", "as_latent_batch", "as_latents", "cosine_similarity", "interpolate",
           "interpolate_hypersphere", "latent_norms", "lerp", "loop", "sample_latents", "slerp",
           "walk"]

METHODS = INTERPOLATION_METHODS
"""The interpolation methods, ``("hypersphere", "slerp", "lerp")``."""

if TYPE_CHECKING:  # what type checkers and IDEs follow; at run time, __getattr__ below
    from progan_tf.interpolation import (
        interpolate,
        interpolate_hypersphere,
        lerp,
        loop,
        slerp,
        walk,
    )

# Served from progan_tf.interpolation on first use (PEP 562), see the module docstring.
_PATHS = ("interpolate", "interpolate_hypersphere", "lerp", "loop", "slerp", "walk")


def __getattr__(name: str) -> Any:
    if name in _PATHS:
        value = getattr(importlib.import_module("progan_tf.interpolation"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'progan_tf.latents' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PATHS])


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def sample_latents(n: int, latent_dim: int = 512, seed: Any = None) -> np.ndarray:
    """Draws ``n`` latent vectors from the standard normal distribution ``N(0, I)``.

    All ``n * latent_dim`` values come from one ``np.random.default_rng(seed).standard_normal``
    call of shape ``[n, latent_dim]`` (float64, then cast to float32), which fills row by row. So
    the same seed always gives the same latents, and a larger ``n`` only appends rows:
    ``sample_latents(8, seed=7)[:4]`` equals ``sample_latents(4, seed=7)``.

    :func:`~progan_tf.recovery.recover_latent` draws its starting latents from a stream of its
    own (:func:`~progan_tf.recovery.starting_latents`), so a latent sampled here as the "true"
    one of an experiment is never where a search with the same seed starts.

    Args:
        n: Number of latents, at least 1.
        latent_dim: Size of each latent (512 for TF Hub's progan-128).
        seed: An int, a ``numpy.random.Generator`` or ``None``, passed to
            ``np.random.default_rng``; ``None`` draws fresh entropy (not reproducible).

    Returns:
        float32 array of shape ``[n, latent_dim]``.

    Raises:
        LatentError: ``n`` or ``latent_dim`` is not a whole number >= 1, or ``seed`` is not a
            valid seed.

    Example:
    >>> z = sample_latents(4, seed=0)
    >>> z.shape, z.dtype
    ((4, 512), dtype('float32'))
    >>> bool((sample_latents(8, seed=0)[:4] == z).all())
    True
    """
    n = check_whole_number(n, "n", error=LatentError)
    latent_dim = check_whole_number(latent_dim, "latent_dim", error=LatentError)
    try:
        rng = np.random.default_rng(seed)
    except (TypeError, ValueError) as error:
        raise LatentError(f"seed={seed!r} is not a valid random seed ({error}); "
                          "pass a non-negative integer, a numpy Generator, or None") from None
    return rng.standard_normal((n, latent_dim)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Checking latents a user hands in
# --------------------------------------------------------------------------------------------


def as_latents(latents: Any, *, name: str = "latents") -> np.ndarray:
    """Checks one latent ``[D]`` or a batch ``[B, D]`` and returns it as float32, rank kept.

    The one validator of user latents in the package (:func:`as_latent_batch` builds on it):
    anything ``np.asarray`` reads -- a list, a NumPy array, an eager ``tf.Tensor``, bfloat16
    included -- of real numbers, with ``B, D >= 1`` and every value finite in float32.

    Args:
        latents: The latents.
        name: What to call them in an error message (e.g. ``"v1"``, ``"initial_latents"``).

    Returns:
        float32 array of the same shape.

    Raises:
        LatentError: Not readable as an array, not real numbers, another rank, an empty axis,
            or NaN/inf (also values too large for float32).

    Example:
    >>> as_latents([3, 4]).dtype
    dtype('float32')
    >>> as_latents([[1.0, float("nan")]], name="v1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.LatentError: v1 contains NaN or inf (or values too large for float32); ...
    """
    array = _numeric(latents, name)
    if array.ndim not in (1, 2) or array.shape[-1] == 0 or array.size == 0:
        raise LatentError(f"{name} has shape {list(array.shape)}; pass one latent [D] or a batch "
                          "[B, D] with B, D >= 1 (e.g. D = 512 for progan-128)")
    return _finite(array, name)


def as_latent_batch(latents: Any, latent_dim: int | None = None, *,
                    name: str = "latents") -> np.ndarray:
    """Checks latents as :func:`as_latents` does and returns a float32 batch ``[N, D]``.

    A single latent ``[D]`` becomes a batch of one. Use it wherever a function takes "one
    latent or a batch" and works on batches.

    Args:
        latents: One latent ``[D]`` or a batch ``[N, D]``.
        latent_dim: The size ``D`` the caller needs (default ``None``: any size).
        name: What to call them in an error message.

    Returns:
        float32 array ``[N, D]``.

    Raises:
        LatentError: As :func:`as_latents`, or a size other than ``latent_dim``.

    Example:
    >>> as_latent_batch([0.5, -1.0, 2.0]).shape
    (1, 3)
    >>> as_latent_batch(sample_latents(2, 8, seed=0), 512)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.LatentError: latents have size 8, but the generator takes latents of size ...
    """
    batch = np.atleast_2d(as_latents(latents, name=name))
    if latent_dim is not None and batch.shape[1] != latent_dim:
        raise LatentError(f"{name} have size {batch.shape[1]}, but the generator takes latents "
                          f"of size {latent_dim}; pass [N, {latent_dim}] "
                          f"(e.g. sample_latents(n, {latent_dim}))")
    return batch


# --------------------------------------------------------------------------------------------
# Diagnostics
# --------------------------------------------------------------------------------------------


def latent_norms(path: Any) -> np.ndarray:
    """L2 norm of every latent in ``path`` (over the last axis).

    Plot it to see why the method matters: lerp sags in the middle, hypersphere is flat, slerp
    is a straight line from ``|v1|`` to ``|v2|``.

    Args:
        path: ``[D]``, ``[N, D]`` or ``[B, N, D]`` latents.

    Returns:
        float32 norms of shape ``path.shape[:-1]`` (a scalar for a single ``[D]`` latent).

    Raises:
        LatentError: A scalar, or not real numbers.

    Example:
    >>> latent_norms([[3.0, 4.0], [0.0, 1.0]]).tolist()
    [5.0, 1.0]
    """
    array = _numeric(path, "path")
    if array.ndim == 0:
        raise LatentError("path is a scalar; pass latents of shape [D] or [N, D]")
    norms = np.linalg.norm(array.astype(np.float64), axis=-1).astype(np.float32)
    return norms[()]


def cosine_similarity(a: Any, b: Any) -> np.ndarray:
    """Row-wise cosine similarity ``a . b / (|a| |b|)`` over the last axis.

    ``a`` and ``b`` can be ``[D]`` or ``[N, D]``; leading axes broadcast, so
    ``cosine_similarity(path, path[0])`` compares every frame with the first.

    Args:
        a: Latents ``[..., D]``.
        b: Latents with the same last axis ``D``.

    Returns:
        float32 similarities in ``[-1, 1]``, shape ``broadcast(a.shape[:-1], b.shape[:-1])``
        (a scalar for two ``[D]`` vectors).

    Raises:
        LatentError: Different ``D``, shapes that do not broadcast, NaN/inf, or a zero vector
            (it has no direction, so its cosine similarity is undefined).

    Example:
    >>> float(cosine_similarity([1.0, 0.0], [1.0, 1.0]))  # 45 degrees
    0.7071067690849304
    """
    x = _finite(_numeric(a, "a"), "a")
    y = _finite(_numeric(b, "b"), "b")
    if x.ndim == 0 or y.ndim == 0 or x.shape[-1] != y.shape[-1]:
        raise LatentError(f"a has shape {list(x.shape)} and b has shape {list(y.shape)}; "
                          "cosine_similarity needs latents with the same last axis [..., D]")
    try:
        lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except ValueError:
        raise LatentError(f"a has shape {list(x.shape)} and b has shape {list(y.shape)}, which do "
                          "not broadcast; pass [N, D] and [N, D], or one of them as [D]") from None
    x, y = x.astype(np.float64), y.astype(np.float64)
    for name, array in (("a", x), ("b", y)):
        zero = np.argwhere(np.linalg.norm(array, axis=-1) == 0)
        if len(zero):
            where = f"{name}[{', '.join(map(str, zero[0]))}]" if array.ndim > 1 else name
            raise LatentError(f"{where} is a zero vector, which has no direction, so its cosine "
                              "similarity is undefined; drop it or pass a nonzero latent")
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    similarity = np.clip(np.sum(x * y, axis=-1), -1.0, 1.0).astype(np.float32)
    return similarity.reshape(lead)[()]


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


def _numeric(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # e.g. ragged lists
        raise LatentError(f"{name} could not be read as an array ({error}); "
                          "pass a NumPy array or tf.Tensor of shape [D] or [B, D]") from None
    if array.dtype.kind == "V":  # e.g. bfloat16 from a tf.Tensor (an ml_dtypes float)
        try:
            array = array.astype(np.float32)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in "iuf":
        raise LatentError(f"{name} has dtype {array.dtype}, not a real number type; "
                          "pass float latents, e.g. from sample_latents()")
    return array


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        as_float32 = array.astype(np.float32)
    if not np.isfinite(as_float32).all():
        raise LatentError(f"{name} contains NaN or inf (or values too large for float32); "
                          "check where these latents came from, e.g. a diverged optimisation")
    return as_float32
