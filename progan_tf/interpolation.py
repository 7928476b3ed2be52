"""Paths between latents: interpolate two of them, walk through several, loop back.

A ProGAN generator turns a latent vector ``z ~ N(0, I)`` into an image. Nearby latents give
similar images, so a smooth *path* of latents renders as a morphing animation. How the path is
drawn matters: in 512 dimensions almost all Gaussian samples have a norm close to
``sqrt(512) ~= 22.6``, and the generator has only ever seen latents of that size. The straight
line between two of them (:func:`lerp`) cuts through the inside of that shell -- its midpoint is
~30% shorter -- and the images halfway tend to look washed out and generic. The two spherical
methods keep every frame at a typical norm:

* ``"hypersphere"`` -- exactly the TF Hub progan-128 tutorial: walk the straight line from ``v1``
  to ``v2`` (rescaled to ``|v1|``) and push every point back onto the sphere of radius ``|v1|``.
* ``"slerp"`` -- spherical linear interpolation: constant angular speed along the great circle,
  norm going linearly from ``|v1|`` to ``|v2|``, both endpoints exact.

Everything here is pure NumPy (no TensorFlow import, so it is instant), accepts anything
:func:`~progan_tf.latents.as_latents` accepts -- lists, NumPy arrays, eager ``tf.Tensor`` objects --
and returns float32 arrays ready to feed a generator. Maths is done in float64 on the
float32-rounded inputs.

Shapes: a single latent is ``[D]``; two ``[B, D]`` batches interpolate ``B`` independent pairs.
Drawing latents, checking them and measuring paths (:func:`~progan_tf.latents.latent_norms`,
:func:`~progan_tf.latents.cosine_similarity`) live in :mod:`progan_tf.latents`, which also
re-exports every function here under its old name (``progan_tf.latents.walk``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from progan_tf.checks import check_choice, check_whole_number
from progan_tf.constants import INTERPOLATION_METHODS
from progan_tf.errors import LatentError
from progan_tf.latents import as_latents

__all__ = ["METHODS", "interpolate", "interpolate_hypersphere", "lerp", "loop", "slerp", "walk"]

METHODS = INTERPOLATION_METHODS
"""The interpolation methods, ``("hypersphere", "slerp", "lerp")``."""

# Below this sin(angle) a pair counts as parallel or antipodal: the part of v2 orthogonal to v1
# is then float32 rounding noise (e.g. in `-2.5 * v`), too small to define a plane to turn in.
_DEGENERATE_SIN = 1e-6


# --------------------------------------------------------------------------------------------
# Interpolation between two latents
# --------------------------------------------------------------------------------------------


def interpolate_hypersphere(v1: Any, v2: Any, num_steps: int) -> np.ndarray:
    """Interpolates on the sphere of radius ``|v1|``, exactly as the TF Hub progan-128 tutorial.

    ``v2`` is rescaled to the norm of ``v1``; each point on the straight line from ``v1`` to the
    rescaled ``v2`` is then rescaled to norm ``|v1|``. Every frame therefore has the norm of
    ``v1`` (the last frame points along ``v2`` but is *not* ``v2`` unless ``|v1| == |v2|``). The
    path follows the great circle, but faster in the middle than at the ends.

    Deviations from the tutorial, all for inputs where it breaks:

    * ``num_steps == 1`` returns ``[v1]`` (the tutorial divides by ``num_steps - 1 == 0``);
      ``num_steps == 0`` returns an empty ``[0, D]`` array.
    * Zero vectors, and ``v1``/``v2`` pointing in opposite directions (to float32 rounding: an
      angle within ~1e-6 rad of 180 degrees; the line then runs through the origin and the
      tutorial returns NaN), raise :class:`LatentError` instead -- use :func:`slerp` for such
      pairs. Nearly opposite pairs are allowed, but their path flips abruptly from the ``v1``
      side to the ``v2`` side halfway.

    Args:
        v1: Start latent, ``[D]``, or ``[B, D]`` for ``B`` independent pairs.
        v2: End latent, the same shape as ``v1``.
        num_steps: Number of frames, endpoints included (0 or more).

    Returns:
        float32, ``[num_steps, D]`` (or ``[B, num_steps, D]`` for batched inputs).

    Example:
    >>> from progan_tf.latents import latent_norms, sample_latents
    >>> v1, v2 = sample_latents(2, seed=0)
    >>> path = interpolate_hypersphere(v1, v2, 10)
    >>> path.shape
    (10, 512)
    >>> bool(np.allclose(latent_norms(path), np.linalg.norm(v1)))
    True
    """
    return interpolate(v1, v2, num_steps, method="hypersphere")


def slerp(v1: Any, v2: Any, num_steps: int) -> np.ndarray:
    """Spherical linear interpolation: constant angular speed, norm going linearly.

    The direction turns from ``v1`` to ``v2`` along the great circle through both, by the same
    angle every step; the norm goes linearly from ``|v1|`` to ``|v2|``. The first frame is ``v1``
    and the last is ``v2``.

    Degenerate pairs still give a smooth path that never passes through zero:

    * (nearly) parallel ``v1`` and ``v2`` (angle below ~1e-6 rad, i.e. float32 rounding) --
      there is no arc to follow, so the path is :func:`lerp`; identical vectors give a constant
      path.
    * antipodal ``v1`` and ``v2`` (``v2 = -c * v1``, ``c > 0``, to the same tolerance) -- every
      great circle through ``v1`` reaches ``v2``, so one is picked deterministically: halfway,
      the path points along ``e_j - v1[j] v1 / |v1|^2``, the coordinate axis on which
      ``|v1[j]|`` is smallest (the first such ``j``) made orthogonal to ``v1``. In one
      dimension there is no such arc and :class:`LatentError` is raised.

    Edge cases as in :func:`interpolate_hypersphere`: ``num_steps == 0`` gives ``[0, D]``,
    ``num_steps == 1`` gives ``[v1]``, zero vectors raise :class:`LatentError` (a zero vector has
    no direction; :func:`lerp` accepts them).

    Args:
        v1: Start latent, ``[D]``, or ``[B, D]`` for ``B`` independent pairs.
        v2: End latent, the same shape as ``v1``.
        num_steps: Number of frames, endpoints included (0 or more).

    Returns:
        float32, ``[num_steps, D]`` (or ``[B, num_steps, D]`` for batched inputs).

    Example:
    >>> path = slerp([1.0, 0.0], [0.0, 2.0], 3)
    >>> print(np.round(path, 4))  # halfway: 45 degrees, norm 1.5
    [[1.     0.    ]
     [1.0607 1.0607]
     [0.     2.    ]]
    """
    return interpolate(v1, v2, num_steps, method="slerp")


def lerp(v1: Any, v2: Any, num_steps: int) -> np.ndarray:
    """Straight-line interpolation ``(1 - t) * v1 + t * v2`` for ``t`` evenly spaced in [0, 1].

    The simplest path, and the baseline the spherical methods improve on: between two typical
    Gaussian latents its midpoint is ~30% shorter than either end (see
    :func:`~progan_tf.latents.latent_norms`). Works with zero vectors. ``num_steps == 0`` gives
    ``[0, D]``, ``num_steps == 1`` ``[v1]``.

    Args:
        v1: Start latent, ``[D]``, or ``[B, D]`` for ``B`` independent pairs.
        v2: End latent, the same shape as ``v1``.
        num_steps: Number of frames, endpoints included (0 or more).

    Returns:
        float32, ``[num_steps, D]`` (or ``[B, num_steps, D]`` for batched inputs).

    Example:
    >>> lerp([0.0, 0.0], [2.0, 4.0], 3).tolist()
    [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]]
    """
    return interpolate(v1, v2, num_steps, method="lerp")


def interpolate(v1: Any, v2: Any, num_steps: int, method: str = "hypersphere") -> np.ndarray:
    """Interpolates from ``v1`` to ``v2`` with the named method.

    Args:
        v1: Start latent, ``[D]``, or ``[B, D]`` for ``B`` independent pairs.
        v2: End latent, the same shape as ``v1``.
        num_steps: Number of frames, endpoints included. ``0`` gives an empty ``[0, D]`` array,
            ``1`` gives ``[v1]``.
        method: One of :data:`METHODS`; see :func:`interpolate_hypersphere`, :func:`slerp` and
            :func:`lerp`.

    Returns:
        float32, ``[num_steps, D]`` (or ``[B, num_steps, D]`` for batched inputs).

    Raises:
        LatentError: Unknown method; bad ``num_steps``; shapes that differ or are not
            ``[D]``/``[B, D]``; NaN/inf; zero or (hypersphere) antipodal vectors.

    Example:
    >>> from progan_tf.latents import sample_latents
    >>> v1, v2 = sample_latents(2, seed=1)
    >>> interpolate(v1, v2, 60, method="slerp").shape
    (60, 512)
    """
    method = check_choice(method, "method", METHODS, error=LatentError)
    num_steps = check_whole_number(num_steps, "num_steps", minimum=0, error=LatentError)
    a = _float64(v1, "v1")
    b = _float64(v2, "v2")
    if a.shape != b.shape:
        raise LatentError(f"v1 has shape {list(a.shape)} but v2 has shape {list(b.shape)}; "
                          "pass two latents of the same size (or two [B, D] batches)")
    batched = a.ndim == 2
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    if batched:
        names = ([f"v1[{i}]" for i in range(len(a2))], [f"v2[{i}]" for i in range(len(b2))])
    else:
        names = (["v1"], ["v2"])
    path = _paths(a2, b2, num_steps, method, *names)
    return path if batched else path[0]


# --------------------------------------------------------------------------------------------
# Walks and loops through several latents
# --------------------------------------------------------------------------------------------


def walk(keyframes: Any, steps_per_segment: int, method: str = "hypersphere",
         loop: bool = False) -> np.ndarray:
    """One continuous path through ``K`` keyframe latents, for animations.

    Each segment between consecutive keyframes is ``interpolate(k[i], k[i + 1],
    steps_per_segment, method)``; the keyframe two segments share appears once. So
    ``walk([v1, v2], n)`` equals ``interpolate(v1, v2, n)``, and an open walk has
    ``(K - 1) * (steps_per_segment - 1) + 1`` frames.

    With ``loop=True`` a last segment leads back to the first keyframe, and the path stops one
    step *before* reaching it: ``K * (steps_per_segment - 1)`` frames. Played on repeat (a looping
    GIF), the frame after the last is the first one again, so the motion is seamless -- ending on
    a copy of the first frame would show it twice and make the animation stutter.

    With ``method="hypersphere"`` the whole walk stays on the sphere of radius
    ``|keyframes[0]|``: later keyframes are rescaled onto it (the tutorial does the same to
    ``v2``), so consecutive segments join without a jump in norm. ``"slerp"`` and ``"lerp"`` pass
    through every keyframe exactly.

    Args:
        keyframes: ``[K, D]`` latents (or a list of ``K`` vectors), ``K >= 2``.
        steps_per_segment: Frames per segment, both keyframes included, at least 2.
        method: How each segment is interpolated, one of :data:`METHODS`.
        loop: Return to the first keyframe for a seamless repeating animation.

    Returns:
        float32, ``[M, D]``.

    Example:
    >>> from progan_tf.latents import sample_latents
    >>> keys = sample_latents(3, seed=0)
    >>> walk(keys, 10).shape                # 2 segments * 9 + the final keyframe
    (19, 512)
    >>> walk(keys, 10, loop=True).shape     # 3 segments * 9, first keyframe not repeated
    (27, 512)
    """
    method = check_choice(method, "method", METHODS, error=LatentError)
    steps = check_whole_number(steps_per_segment, "steps_per_segment", minimum=2,
                               error=LatentError)
    keys = _float64(keyframes, "keyframes")
    if keys.ndim != 2 or len(keys) < 2:
        raise LatentError(f"keyframes has shape {list(keys.shape)}; walk needs at least 2 "
                          "keyframes stacked as [K, D] (or a list of K latents)")
    if method == "hypersphere":
        norms = np.linalg.norm(keys, axis=-1, keepdims=True)
        _check_nonzero(norms[:, 0], [f"keyframes[{i}]" for i in range(len(keys))], method)
        keys = keys * (norms[0] / norms)
    count = len(keys)
    ends = list(range(1, count)) + ([0] if loop else [])
    starts = list(range(len(ends)))
    path = _paths(keys[starts], keys[ends], steps, method,
                  [f"keyframes[{i}]" for i in starts], [f"keyframes[{j}]" for j in ends])
    frames = path[:, :-1].reshape(-1, keys.shape[-1])  # each segment minus its end keyframe
    if not loop:
        frames = np.concatenate([frames, path[-1, -1:]])
    return frames


def loop(v1: Any, v2: Any, num_steps: int, method: str = "hypersphere") -> np.ndarray:
    """A seamless closed loop ``v1 -> v2 -> v1`` (``walk([v1, v2], num_steps, loop=True)``).

    The first ``num_steps`` frames are ``interpolate(v1, v2, num_steps, method)``; the way back
    follows the same path in reverse and stops one step before ``v1``, so a looping animation
    does not show ``v1`` twice in a row. That makes ``2 * (num_steps - 1)`` frames.

    Args:
        v1: The first latent, ``[D]``.
        v2: The second latent, ``[D]``.
        num_steps: Frames from ``v1`` to ``v2``, both included, at least 2.
        method: How to interpolate, one of :data:`METHODS`.

    Returns:
        float32, ``[2 * (num_steps - 1), D]``.

    Example:
    >>> from progan_tf.latents import sample_latents
    >>> v1, v2 = sample_latents(2, seed=0)
    >>> loop(v1, v2, 30, method="slerp").shape
    (58, 512)
    """
    num_steps = check_whole_number(num_steps, "num_steps", minimum=2, error=LatentError)
    a = _float64(v1, "v1")
    b = _float64(v2, "v2")
    if a.ndim != 1 or b.ndim != 1:
        raise LatentError(f"loop takes two single latents [D], got shapes {list(a.shape)} and "
                          f"{list(b.shape)}; for more latents use walk(keyframes, ..., loop=True)")
    if a.shape != b.shape:
        raise LatentError(f"v1 has shape {list(a.shape)} but v2 has shape {list(b.shape)}; "
                          "pass two latents of the same size")
    return walk(np.stack([a, b]), num_steps, method=method, loop=True)


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


def _float64(value: Any, name: str) -> np.ndarray:
    """Checked latents ``[D]`` or ``[B, D]``, rounded to float32, as float64 for the maths."""
    return as_latents(value, name=name).astype(np.float64)


def _paths(a: np.ndarray, b: np.ndarray, num_steps: int, method: str,
           names_a: list[str], names_b: list[str]) -> np.ndarray:
    """``[B, num_steps, D]`` float32 paths from rows of ``a`` to rows of ``b`` (float64, valid)."""
    t = np.linspace(0.0, 1.0, num_steps)  # [] for 0 steps, [0.0] for 1 step
    if method == "lerp":
        return _lerp(a, b, t).astype(np.float32)
    norm_a = np.linalg.norm(a, axis=-1, keepdims=True)
    norm_b = np.linalg.norm(b, axis=-1, keepdims=True)
    _check_nonzero(norm_a[:, 0], names_a, method)
    _check_nonzero(norm_b[:, 0], names_b, method)
    unit_a, unit_b = a / norm_a, b / norm_b
    angle = _angle(unit_a, unit_b)
    degenerate = np.sin(angle) < _DEGENERATE_SIN
    antipodal = degenerate & (angle > np.pi / 2)
    if method == "hypersphere":
        _check_not_antipodal(antipodal, names_a, names_b)
        path = _hypersphere(a, b, norm_a, norm_b, t)
    elif antipodal.any() and a.shape[-1] == 1:
        raise LatentError(f"{names_a[int(np.argmax(antipodal))]} and "
                          f"{names_b[int(np.argmax(antipodal))]} point in opposite directions in "
                          "1 dimension, where every path between them passes through zero; "
                          "use method='lerp'")
    elif (degenerate & ~antipodal).all():
        path = _lerp(a, b, t)  # includes D == 1, where there are no great circles at all
    else:
        path = _slerp(a, b, unit_a, unit_b, norm_a, norm_b, degenerate, antipodal, t)
    return path.astype(np.float32)


def _angle(unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    """Angle between unit rows from |u_a - u_b| and |u_a + u_b|: accurate near 0 and pi."""
    diff = np.linalg.norm(unit_a - unit_b, axis=-1)
    total = np.linalg.norm(unit_a + unit_b, axis=-1)
    return 2.0 * np.arctan2(diff, total)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[None, :, None]
    return (1.0 - t) * a[:, None] + t * b[:, None]  # exact at both ends


def _hypersphere(a, b, norm_a, norm_b, t):
    """The tutorial's loop, vectorised over pairs and steps."""
    b_rescaled = b * (norm_a / norm_b)
    line = a[:, None] + (b_rescaled - a)[:, None] * t[None, :, None]
    return line * (norm_a[:, None] / np.linalg.norm(line, axis=-1, keepdims=True))


def _slerp(a, b, unit_a, unit_b, norm_a, norm_b, degenerate, antipodal, t):
    """Slerp rows; parallel rows become lerp, antipodal rows go via a fixed orthogonal midpoint."""
    middle = _orthogonal_axis(unit_a)
    # Degenerate rows get a harmless stand-in target here and are replaced below.
    directions = _great_circle(unit_a, np.where(degenerate[:, None], middle, unit_b), t)
    rows = np.flatnonzero(antipodal)
    if len(rows):
        # Every great circle through v1 reaches -v1: take the one through `middle`, as two
        # quarter circles (each well conditioned, so both endpoints stay exact).
        first = _great_circle(unit_a[rows], middle[rows], np.minimum(2 * t, 1.0))
        second = _great_circle(middle[rows], unit_b[rows], np.maximum(2 * t - 1, 0.0))
        directions[rows] = np.where(t[None, :, None] <= 0.5, first, second)
    radius = (1.0 - t[None, :, None]) * norm_a[:, None] + t[None, :, None] * norm_b[:, None]
    parallel = (degenerate & ~antipodal)[:, None, None]
    return np.where(parallel, _lerp(a, b, t), radius * directions)


def _great_circle(unit_from, unit_to, s):
    """Unit directions ``[B, S, D]`` at fractions ``s`` of the arc, at constant angular speed.

    Uses ``cos(s*angle) u + sin(s*angle) w`` with ``w`` the unit vector orthogonal to ``u`` in
    the plane of both, so nothing divides by ``sin(angle)``. Rows must not be (anti)parallel.
    """
    angle = _angle(unit_from, unit_to)
    toward = unit_to
    for _ in range(2):  # Gram-Schmidt twice: w orthogonal to u to float64 precision
        toward = toward - np.sum(toward * unit_from, axis=-1, keepdims=True) * unit_from
        toward = toward / np.linalg.norm(toward, axis=-1, keepdims=True)
    theta = s[None, :, None] * angle[:, None, None]
    return np.cos(theta) * unit_from[:, None] + np.sin(theta) * toward[:, None]


def _orthogonal_axis(unit: np.ndarray) -> np.ndarray:
    """Per row, the unit vector towards the axis ``e_j`` where ``|unit[j]|`` is smallest.

    The first such ``j`` is taken, and the axis is made orthogonal to ``unit``.

    ``|unit[j]| <= 1/sqrt(D)``, so ``e_j - unit[j] * unit`` has norm >= ``sqrt(1 - 1/D)`` (well
    conditioned) for ``D >= 2``. It depends on ``unit`` only: the antipodal arc is deterministic.
    """
    rows = np.arange(len(unit))
    j = np.argmin(np.abs(unit), axis=-1)
    axis = np.zeros_like(unit)
    axis[rows, j] = 1.0
    axis = axis - unit[rows, j][:, None] * unit
    return axis / np.linalg.norm(axis, axis=-1, keepdims=True)


def _check_nonzero(norms: np.ndarray, names: list[str], method: str) -> None:
    zero = np.flatnonzero(norms == 0)
    if len(zero):
        raise LatentError(f"{names[zero[0]]} is a zero vector, which has no direction for "
                          f"method={method!r} to follow; pass a nonzero latent or use "
                          "method='lerp'")


def _check_not_antipodal(antipodal: np.ndarray, names_a: list[str], names_b: list[str]) -> None:
    if antipodal.any():
        i = int(np.argmax(antipodal))
        raise LatentError(f"{names_a[i]} and {names_b[i]} point in opposite directions, so the "
                          "hypersphere path would pass through zero; use method='slerp', which "
                          "picks a deterministic arc between them")
