"""Directions in latent space: find them and turn a latent along them.

An *edit* moves a latent along a direction and looks at the faces on the way (InterFaceGAN,
Shen et al. 2020). This module finds directions -- :func:`direction_from_labels` (the unit
normal of a linear classifier fitted on labelled latents, as notebook 04 does),
:func:`random_directions`, and :func:`named_directions` (what :func:`progan_tf.explore` accepts)
-- and applies them: :func:`edit_latent` turns a latent towards a direction by an **angle**.
ProGAN normalises its input (pixel norm), so it only sees a latent's direction: what counts is
how far an edit turns it, not how long a step is. How much an edit changes the *picture*, and
which angle makes it visible, is measured by :mod:`progan_tf.edits`.

Everything here is NumPy.

Example:
>>> latents = np.random.default_rng(0).standard_normal((200, 16))
>>> found = direction_from_labels(latents, latents[:, 3] > 0)
>>> float(found[3]) > 0.95  # the labels' direction, found back
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from progan_tf.checks import check_whole_number
from progan_tf.errors import LatentError, OptionError

__all__ = ["DIRECTION_STREAM", "direction_from_labels", "edit_latent", "named_directions",
           "random_directions"]

DIRECTION_STREAM = 0x64697265  # "dire" in ASCII: the spawn_key tag of random_directions' draws
"""Keeps :func:`random_directions` apart from :func:`~progan_tf.sample_latents`: with the same
seed, a direction is never the very latent it is meant to edit."""

# --------------------------------------------------------------------------------------------
# Finding directions
# --------------------------------------------------------------------------------------------


def direction_from_labels(latents: Any, labels: Any) -> np.ndarray:
    """The unit normal of a linear classifier that separates labelled latents.

    A least-squares fit of ``+1`` (has the attribute) / ``-1`` (does not) on the latents'
    *directions* (each latent divided by its norm, since the generator ignores the norm), with
    an intercept. With fewer labels than dimensions the fit is exact and ``lstsq`` returns the
    smallest such weight vector; more labels make it cleaner. The weights, without the
    intercept, normalised, are the direction: moving a latent along it adds the attribute
    (InterFaceGAN; a logistic regression or a linear SVM gives a similar normal).

    Args:
        latents: ``[N, D]`` latents of labelled faces.
        labels: ``N`` labels: booleans, or numbers where ``> 0`` means "has the attribute"
            (e.g. ``0``/``1`` or ``-1``/``+1``). Both kinds must occur.

    Returns:
        float64 ``[D]`` of norm 1, pointing towards the faces labelled True.

    Raises:
        LatentError: If the latents are not a batch ``[N, D]`` of finite numbers, or one is
            zero.
        OptionError: If the labels do not match the latents, or are all of one kind.

    Example:
    >>> latents = np.array([[1.0, 0.2], [1.0, -0.2], [-1.0, 0.2], [-1.0, -0.2]])
    >>> np.round(direction_from_labels(latents, [True, True, False, False]), 2) + 0.0  # no -0.
    array([1., 0.])
    """
    batch = _latent_batch(latents, "latents")
    marks = np.asarray(labels)
    if marks.dtype.kind not in "biuf" or marks.shape != (len(batch),):
        raise OptionError(f"labels must be {len(batch)} booleans or numbers, one per latent. "
                          f"Received: labels of shape {marks.shape} and dtype {marks.dtype}")
    has = marks > 0
    if has.all() or not has.any():
        raise OptionError(f"labels must mark some latents True and some False: a direction needs "
                          f"examples of both kinds. Received: {int(has.sum())} of {len(has)} "
                          f"True")
    norms = np.linalg.norm(batch, axis=1, keepdims=True)
    if (norms == 0).any():
        raise LatentError(f"latents[{int(np.argmin(norms))}] is a zero vector, which has no "
                          f"direction; drop it. Received: a zero row in latents")
    design = np.hstack([batch / norms, np.ones((len(batch), 1))])
    weights = np.linalg.lstsq(design, np.where(has, 1.0, -1.0), rcond=None)[0][:-1]
    return _unit(weights, "the fitted direction")


def random_directions(count: int, latent_dim: int = 512, seed: int = 0) -> np.ndarray:
    """Random unit directions, the same for the same seed.

    Gaussian vectors divided by their norms: uniform on the sphere, so no direction is
    preferred. In 512 dimensions any two are nearly perpendicular. They are drawn from a stream
    of their own (``SeedSequence(seed, spawn_key=(DIRECTION_STREAM,))``), not the
    ``default_rng(seed)`` of :func:`~progan_tf.sample_latents`: a direction and a face drawn
    with the same seed are unrelated, rather than the same vector.

    Args:
        count: How many directions.
        latent_dim: Their size ``D`` (the generator's ``latent_dim``).
        seed: Seed of the random draw (a whole number >= 0).

    Returns:
        float64 ``[count, latent_dim]``, each row of norm 1.

    Raises:
        OptionError: If ``count``, ``latent_dim`` or ``seed`` is not a whole number in range.

    Example:
    >>> directions = random_directions(3, 512, seed=1)
    >>> directions.shape, np.allclose(np.linalg.norm(directions, axis=1), 1)
    ((3, 512), True)
    >>> np.array_equal(directions, random_directions(3, 512, seed=1))
    True
    """
    count = check_whole_number(count, "count")
    latent_dim = check_whole_number(latent_dim, "latent_dim")
    seed = check_whole_number(seed, "seed", minimum=0)
    stream = np.random.SeedSequence(seed, spawn_key=(DIRECTION_STREAM,))
    vectors = np.random.default_rng(stream).standard_normal((count, latent_dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def named_directions(directions: Any, latent_dim: int, *,
                     seed: int = 0) -> tuple[tuple[str, ...], np.ndarray]:
    """Names and unit directions from a count, a dict or an array (what the explorer takes).

    Args:
        directions: A whole number (that many :func:`random_directions` of ``seed``, named
            ``random 1`` ...), a dict ``{name: direction}``, or one direction ``[D]`` or
            several ``[M, D]`` (named ``direction 1`` ...). Any length but zero.
        latent_dim: The size ``D`` every direction must have.
        seed: The seed of random directions.

    Returns:
        ``(names, directions)``: a tuple of ``M`` names and float64 ``[M, D]`` of unit rows.

    Raises:
        OptionError: If ``directions`` is none of these kinds, an empty dict, or a count
            outside [1, 20].
        LatentError: If a direction has another size, is zero or not finite.

    Example:
    >>> names, found = named_directions({"hair": [0.0, 3.0], "light": [1.0, 1.0]}, 2)
    >>> names, found[0].tolist()
    (('hair', 'light'), [0.0, 1.0])
    """
    if isinstance(directions, (int, np.integer)) and not isinstance(directions, bool):
        count = check_whole_number(directions, "directions", maximum=20)
        names = tuple(f"random {index + 1}" for index in range(count))
        return names, random_directions(count, latent_dim, seed)
    if isinstance(directions, Mapping):
        if not directions:
            raise OptionError("directions must name at least one direction. Received: "
                              "directions={}")
        names, rows = tuple(str(name) for name in directions), list(directions.values())
    else:
        try:
            array = np.asarray(directions, dtype=np.float64)
        except (TypeError, ValueError):
            raise OptionError(f"directions must be a count, a dict {{name: direction}} or an "
                              f"array [M, {latent_dim}]. Received: "
                              f"{type(directions).__name__}") from None
        if array.ndim not in (1, 2) or not array.size:
            raise LatentError(f"directions must be one direction [{latent_dim}] or several [M, "
                              f"{latent_dim}]. Received: directions of shape {array.shape}")
        rows = list(np.atleast_2d(array))
        names = tuple(f"direction {index + 1}" for index in range(len(rows)))
    return names, np.stack([_named_unit(row, name, latent_dim) for name, row in zip(names, rows)])


# --------------------------------------------------------------------------------------------
# Editing
# --------------------------------------------------------------------------------------------


def edit_latent(latent: Any, directions: Any, angles: float | Sequence[float]) -> np.ndarray:
    """Turns a latent towards one or more directions by angles in degrees, keeping its length.

    With ``r = |z|``, ``u = z / r`` and ``p`` the part of a unit direction ``n`` perpendicular
    to ``u`` (normalised), a turn by ``θ`` is ``r (cos θ u + sin θ p)``: a rotation in the
    plane of ``z`` and ``n``, along the sphere the generator's latents live on. Positive angles
    move towards ``+n`` (more of the attribute), negative ones away from it. Several directions
    combine into one turn along ``Σ θ_i p_i``; for one direction it is exactly the rotation.

    Args:
        latent: One latent ``[D]`` (or ``[1, D]``).
        directions: One direction ``[D]`` or several ``[M, D]``; any length but zero (each is
            normalised).
        angles: One angle in degrees per direction (a number for a single direction).

    Returns:
        float32 ``[D]``: the edited latent, with the same norm as ``latent``.

    Raises:
        LatentError: If the latent, a direction or their sizes are wrong, a direction is zero,
            or one points exactly along the latent (then it cannot turn it).
        OptionError: If the angles do not match the directions or are not finite.

    Example:
    >>> z = np.array([3.0, 0.0, 0.0])
    >>> np.round(edit_latent(z, [0.0, 1.0, 0.0], 90), 6)
    array([0., 3., 0.], dtype=float32)
    >>> round(float(edit_latent(z, [0.0, 1.0, 0.0], -45)[1]), 3)  # away from +n
    -2.121
    """
    start = _latent_batch(latent, "latent")
    if len(start) != 1:
        raise LatentError(f"latent must be one latent [D]. Received: latent of shape "
                          f"{tuple(np.shape(latent))}")
    start = start[0].astype(np.float64)
    radius = float(np.linalg.norm(start))
    if radius == 0:
        raise LatentError("latent is a zero vector, which has no direction to turn. Received: "
                          "a latent of norm 0")
    unit = start / radius
    turns = _directions(directions, len(start))
    degrees = np.atleast_1d(np.asarray(angles, dtype=np.float64)) if _numbers(angles) else None
    if degrees is None or degrees.shape != (len(turns),) or not np.isfinite(degrees).all():
        raise OptionError(f"angles must be {len(turns)} finite number(s) in degrees, one per "
                          f"direction. Received: angles={angles!r}")
    tangent = np.zeros_like(unit)
    for index, (direction, angle) in enumerate(zip(turns, np.radians(degrees))):
        across = direction - (direction @ unit) * unit
        size = float(np.linalg.norm(across))
        if size < 1e-6:
            raise LatentError(f"direction {index} points along the latent, so turning towards it "
                              f"changes nothing; use another direction or latent. Received: "
                              f"cosine {float(direction @ unit):+.6f} with the latent")
        tangent += angle * across / size
    angle = float(np.linalg.norm(tangent))
    if angle == 0:
        return start.astype(np.float32)
    edited = radius * (math.cos(angle) * unit + math.sin(angle) * tangent / angle)
    return edited.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


def _numbers(value: Any) -> bool:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "iuf" and array.ndim <= 1


def _latent_batch(latents: Any, name: str) -> np.ndarray:
    """``[N, D]`` float64 from one latent or a batch; LatentError (ending in Received) if not."""
    try:
        array = np.asarray(latents, dtype=np.float64)
    except (TypeError, ValueError):
        raise LatentError(f"{name} must be float latents [D] or [N, D]. Received: "
                          f"{type(latents).__name__}") from None
    if array.ndim not in (1, 2) or array.size == 0:
        raise LatentError(f"{name} must be one latent [D] or a batch [N, D]. Received: "
                          f"{name} of shape {array.shape}")
    if not np.isfinite(array).all():
        raise LatentError(f"{name} contains NaN or inf; check how it was computed. Received: "
                          f"{int((~np.isfinite(array)).sum())} non-finite value(s)")
    return np.atleast_2d(array)


def _directions(directions: Any, latent_dim: int | None) -> np.ndarray:
    """Unit directions ``[M, D]`` from ``[D]`` or ``[M, D]``, checked against ``latent_dim``."""
    batch = _latent_batch(directions, "direction")
    if latent_dim is not None and batch.shape[1] != latent_dim:
        raise LatentError(f"direction has size {batch.shape[1]}, but the latents have size "
                          f"{latent_dim}; find it in the same latent space. Received: direction "
                          f"of shape {np.shape(directions)}")
    return np.stack([_unit(row, f"direction {index}") for index, row in enumerate(batch)])


def _unit(vector: np.ndarray, name: str) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        raise LatentError(f"{name} is a zero vector, which points nowhere. Received: a "
                          f"direction of norm 0")
    return vector / norm


def _named_unit(value: Any, name: str, latent_dim: int) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LatentError(f"direction {name!r} must be a vector of {latent_dim} numbers. "
                          f"Received: {type(value).__name__}") from None
    if vector.shape != (latent_dim,):
        raise LatentError(f"direction {name!r} must have the generator's latent size "
                          f"{latent_dim}. Received: shape {vector.shape}")
    norm = float(np.linalg.norm(vector)) if np.isfinite(vector).all() else math.nan
    if not norm > 0:
        raise LatentError(f"direction {name!r} must be finite and nonzero (a zero vector points "
                          f"nowhere). Received: norm {norm}")
    return vector / norm
