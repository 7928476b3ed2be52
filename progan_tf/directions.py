"""Directions in latent space: find them, turn a latent along them, and measure what they do.

An *edit* moves a latent ``z`` along a direction ``n`` and looks at the faces on the way
(InterFaceGAN, Shen et al. 2020). This module holds the computations notebook 04 and
:func:`progan_tf.explore` share:

* :func:`direction_from_labels` -- the unit normal of a linear classifier fitted on labelled
  latents (least squares on the latents' directions, with an intercept);
* :func:`random_directions` -- seeded random unit directions, to see what *any* direction does;
* :func:`edit_latent` -- turns a latent towards a direction by an **angle**. ProGAN normalises its
  input (pixel norm), so the generator only sees a latent's direction: what counts is how far
  the edit turns it, not how long a step is. The latent keeps its length, so it stays on the
  sphere the generator was trained on;
* :func:`effect_size` and :func:`strip_effect` -- how much the picture changes, in 255ths of the
  pixel range (:class:`Effect`);
* :func:`visible_angle` -- the smallest turn whose change is visible
  (:data:`VISIBLE_EFFECT`), and :func:`edit_strip`, a strip of faces at that strength with its
  measured effect.

The maths is NumPy; a generator is only called (``generator(latents)``), so any callable that
maps ``[N, D]`` latents to ``[N, H, W, 3]`` images in [0, 1] works.

Example:
>>> rng = np.random.default_rng(0)
>>> latents = rng.standard_normal((200, 16))
>>> truth = np.eye(16)[3]
>>> found = direction_from_labels(latents, latents @ truth > 0)
>>> float(found @ truth) > 0.95  # the labels' direction, found back
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from progan_tf.checks import check_number, check_whole_number
from progan_tf.errors import LatentError, OptionError

__all__ = ["DIRECTION_STREAM", "VISIBLE_EFFECT", "EditStrip", "Effect", "direction_from_labels", "edit_latent",
           "edit_strip", "effect_size", "random_directions", "strip_effect", "visible_angle"]

VISIBLE_EFFECT = 30.0
"""How much an edit must change a picture to count as visible, in 255ths per pixel.

The measure is :attr:`Effect.ends`: the mean absolute pixel difference between the two ends of
a strip (``-angle`` and ``+angle``), in 255ths of the pixel range. 30/255 is about half the
difference between two unrelated faces: on the bundled 32x32 model two random faces differ by
64/255 on average (200 seeded faces, 100 pairs). The edit is then obvious side by side, while
each end stays about 15-25/255 from the face it started from, so it is still that face, changed.
For comparison, notebook 04's earlier strengths moved the ends of its strip by 11-16/255, which
a reader could barely see.
"""

DIRECTION_STREAM = 0x64697265  # "dire" in ASCII: the spawn_key tag of random_directions' draws
"""Keeps :func:`random_directions` apart from :func:`~progan_tf.sample_latents`: with the same
seed, a direction is never the very latent it is meant to edit."""

_COUNT = 8  # random faces visible_angle calibrates on, when it is given none
_MAX_ANGLE = 90.0  # a turn of 90 degrees reaches a latent unrelated to the start


class Effect(NamedTuple):
    """How much an edit changes a picture, in 255ths of the pixel range (mean over pixels).

    Attributes:
        ends: Mean absolute difference between the two ends of the strip (``-angle`` and
            ``+angle``): the size of the edit. :data:`VISIBLE_EFFECT` is the visible threshold.
        from_middle: The larger of the two ends' differences from the unedited face in the
            middle: how far the edit takes the face from where it started.
    """

    ends: float
    from_middle: float

    def __str__(self) -> str:
        return (f"the ends differ by {self.ends:.0f}/255 per pixel, the end furthest from the "
                f"middle by {self.from_middle:.0f}/255")


class EditStrip(NamedTuple):
    """A strip of faces along a direction (from :func:`edit_strip`).

    Attributes:
        images: float32 ``[steps, H, W, 3]``, from ``-angle`` to ``+angle``; the middle one is
            the unedited face.
        angles: The turn of each face, in degrees.
        latents: float32 ``[steps, D]``: the edited latents.
        effect: The strip's measured :class:`Effect`.
    """

    images: np.ndarray
    angles: np.ndarray
    latents: np.ndarray
    effect: Effect

    def show(self, name: str = "edit") -> Any:
        """Plots the strip in one row, each face titled with its angle and the effect above.

        Args:
            name: What the direction is, for the title (e.g. ``"hair"``).

        Returns:
            The matplotlib figure (see :func:`progan_tf.show_grid`).
        """
        from progan_tf.display import show_grid

        figure = show_grid(self.images, titles=[f"{angle:+.0f}°" for angle in self.angles],
                           ncols=len(self.images), figsize=(2 * len(self.images), 2.7))
        figure.suptitle(f"{name}: {self.effect}")
        return figure


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
    >>> np.round(direction_from_labels(latents, [True, True, False, False]), 2)
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


def edit_strip(generator: Any, latent: Any, direction: Any, angle: float | None = None, *,
               steps: int = 7) -> EditStrip:
    """Faces of a latent turned along a direction from ``-angle`` to ``+angle``, and their effect.

    Args:
        generator: A :class:`~progan_tf.Generator` (or any callable latents -> images).
        latent: The face to edit, one latent ``[D]``.
        direction: The direction ``[D]``.
        angle: The largest turn, in degrees; by default the smallest turn whose edit of *this*
            face is visible (:func:`visible_angle`, :data:`VISIBLE_EFFECT`).
        steps: Faces in the strip; odd, so that the unedited face is in the middle.

    Returns:
        An :class:`EditStrip` (images, angles, latents, effect); ``.show()`` plots it.

    Raises:
        LatentError: As :func:`edit_latent`.
        OptionError: If ``angle`` is not in (0, 180] or ``steps`` is not an odd number >= 3.

    Example:
    >>> import progan_tf as pt
    >>> gen = pt.load_generator("bundled")
    >>> z = pt.sample_latents(1, gen.latent_dim, seed=3)[0]
    >>> strip = edit_strip(gen, z, random_directions(1, gen.latent_dim)[0], steps=5)
    >>> strip.images.shape, strip.effect.ends >= VISIBLE_EFFECT
    ((5, 32, 32, 3), True)
    """
    steps = check_whole_number(steps, "steps", minimum=3)
    if steps % 2 == 0:
        raise OptionError(f"steps must be odd, so that the unedited face is in the middle of the "
                          f"strip. Received: steps={steps}")
    if angle is None:
        angle = visible_angle(generator, direction, latent)
    angle = check_number(angle, "angle", exclusive_minimum=0, maximum=180)
    angles = np.linspace(-angle, angle, steps)
    latents = np.stack([edit_latent(latent, direction, value) for value in angles])
    images = _images(generator, latents)
    return EditStrip(images, angles, latents, strip_effect(images))


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def strip_effect(images: Any) -> Effect:
    """The :class:`Effect` of a strip of pictures whose middle one is the unedited face.

    Args:
        images: ``[K, H, W, C]`` with ``K`` odd, float in [0, 1] (uint8 is scaled); e.g. the
            faces of ``edit_latent`` at ``np.linspace(-angle, angle, K)``.

    Returns:
        ``Effect(ends, from_middle)`` in 255ths.

    Raises:
        OptionError: If ``images`` is not a strip of an odd number (>= 3) of pictures.

    Example:
    >>> strip = np.stack([np.zeros((2, 2, 3)), np.full((2, 2, 3), 0.25), np.ones((2, 2, 3))])
    >>> strip_effect(strip)
    Effect(ends=255.0, from_middle=191.25)
    """
    pixels = np.asarray(images)
    if pixels.ndim != 4 or len(pixels) < 3 or len(pixels) % 2 == 0:
        raise OptionError(f"strip_effect needs an odd number (>= 3) of pictures [K, H, W, C], the "
                          f"unedited face in the middle. Received: shape {pixels.shape}")
    pixels = pixels.astype(np.float64) / (255.0 if pixels.dtype == np.uint8 else 1.0)
    first, middle, last = pixels[0], pixels[len(pixels) // 2], pixels[-1]
    return Effect(float(np.abs(first - last).mean() * 255),
                  float(max(np.abs(first - middle).mean(), np.abs(last - middle).mean()) * 255))


def effect_size(generator: Any, latents: Any, direction: Any, angle: float) -> Effect:
    """How much turning faces by ``±angle`` along ``direction`` changes them, on average.

    For each latent, its faces at ``-angle``, ``0`` and ``+angle``: :attr:`Effect.ends` is the
    mean absolute pixel difference between the two ends, :attr:`Effect.from_middle` the larger
    difference of an end from the unedited face -- both in 255ths, averaged over the latents.

    Args:
        generator: A :class:`~progan_tf.Generator` (or any callable latents -> images).
        latents: One latent ``[D]`` or several ``[N, D]``.
        direction: The direction ``[D]``.
        angle: The turn in degrees.

    Returns:
        ``Effect(ends, from_middle)``.

    Raises:
        LatentError: As :func:`edit_latent`.
        OptionError: If ``angle`` is not a finite number.

    Example:
    >>> import progan_tf as pt
    >>> gen = pt.load_generator("bundled")
    >>> z = pt.sample_latents(4, gen.latent_dim, seed=1)
    >>> small, large = (effect_size(gen, z, random_directions(1)[0], a) for a in (5, 45))
    >>> small.ends < large.ends
    True
    """
    angle = check_number(angle, "angle")
    batch = _latent_batch(latents, "latents")
    edited = np.stack([edit_latent(z, direction, sign * angle) for sign in (-1, 1)
                       for z in batch])
    images = _images(generator, np.concatenate([edited, batch.astype(np.float32)]))
    low, high, middle = np.split(images.astype(np.float64), 3)
    ends = np.abs(low - high).mean()
    from_middle = np.maximum(np.abs(low - middle).mean(axis=(1, 2, 3)),
                             np.abs(high - middle).mean(axis=(1, 2, 3))).mean()
    return Effect(float(ends * 255), float(from_middle * 255))


def visible_angle(generator: Any, direction: Any, latents: Any = None, *,
                  effect: float = VISIBLE_EFFECT, seed: int = 0,
                  max_angle: float = _MAX_ANGLE, tolerance: float = 0.5) -> float:
    """The smallest turn along ``direction`` whose edit is visible: a calibrated strength.

    Directions differ in how much they change a face per degree (on the bundled model a turn
    of 28° moved the notebook's hair direction's ends by 35/255 on a recovered photo and by
    67/255 on random faces), so one fixed strength is invisible for some and too much for
    others. This searches the angle instead: a bisection between 0 and ``max_angle`` for the
    smallest turn at which the two ends of the strip differ by at least ``effect`` 255ths
    (:attr:`Effect.ends`, averaged over ``latents``), to within ``tolerance`` degrees. It costs
    about ``2 * N * log2(max_angle / tolerance)`` images.

    Args:
        generator: A :class:`~progan_tf.Generator` (or any callable latents -> images).
        direction: The direction ``[D]``.
        latents: The faces to calibrate on (``[D]`` or ``[N, D]``), e.g. the face being edited;
            by default 8 random faces (``sample_latents(8, D, seed)``).
        effect: The change wanted, in 255ths (default :data:`VISIBLE_EFFECT`).
        seed: Seed of the random faces when ``latents`` is not given.
        max_angle: The largest turn considered, in degrees.
        tolerance: How close to the smallest such turn the answer is, in degrees.

    Returns:
        The angle in degrees: the edit at it reaches ``effect`` on ``latents``. If even
        ``max_angle`` does not, ``max_angle``, with a warning.

    Raises:
        LatentError: As :func:`edit_latent`.
        OptionError: If an option is out of range.

    Example:
    >>> import progan_tf as pt
    >>> gen = pt.load_generator("bundled")
    >>> hair = random_directions(1, gen.latent_dim, seed=4)[0]
    >>> angle = visible_angle(gen, hair)
    >>> effect_size(gen, pt.sample_latents(8, gen.latent_dim, 0), hair, angle).ends >= 30
    True
    """
    effect = check_number(effect, "effect", exclusive_minimum=0, maximum=255)
    max_angle = check_number(max_angle, "max_angle", exclusive_minimum=0, maximum=180)
    tolerance = check_number(tolerance, "tolerance", exclusive_minimum=0)
    if latents is None:
        from progan_tf.latents import sample_latents

        latent_dim = _directions(direction, None).shape[1]
        latents = sample_latents(_COUNT, latent_dim, check_whole_number(seed, "seed", minimum=0))
    batch = _latent_batch(latents, "latents")

    def ends(angle: float) -> float:
        edited = np.stack([edit_latent(z, direction, sign * angle) for sign in (-1, 1)
                           for z in batch])
        low, high = np.split(_images(generator, edited).astype(np.float64), 2)
        return float(np.abs(low - high).mean() * 255)

    reached = ends(max_angle)
    if reached < effect:
        warnings.warn(f"even a turn of {max_angle:g}° changes these faces by only "
                      f"{reached:.0f}/255 (< {effect:g}/255): the direction barely changes the "
                      f"picture", stacklevel=2)
        return max_angle
    low, high = 0.0, max_angle
    while high - low > tolerance:
        middle = (low + high) / 2
        low, high = (low, middle) if ends(middle) >= effect else (middle, high)
    return high


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


def _images(generator: Any, latents: np.ndarray) -> np.ndarray:
    return np.asarray(generator(latents.astype(np.float32)), dtype=np.float32)
