"""How much an edit changes a picture, and the smallest turn that makes it visible.

An edit turns a latent along a direction (:func:`~progan_tf.edit_latent`). Whether anyone can
*see* it depends on the direction, the face and the model: on the bundled model the same turn
of 28° moved notebook 04's hair direction's strip ends by 35/255 on a recovered photo and by
67/255 on random faces. So edits here are measured, not assumed: :func:`effect_size` and
:func:`strip_effect` give an :class:`Effect` in 255ths of the pixel range; :func:`visible_angle`
searches the smallest turn whose effect reaches :data:`VISIBLE_EFFECT`; :func:`edit_strip`
draws a strip of faces at that strength (by default) and measures it, for printing beside it.

A generator is only called (``generator(latents)``), so any callable that maps ``[N, D]``
latents to ``[N, H, W, 3]`` images in [0, 1] works.

Example:
>>> strip = np.stack([np.zeros((2, 2, 3)), np.full((2, 2, 3), 0.25), np.ones((2, 2, 3))])
>>> print(strip_effect(strip))
the ends differ by 255/255 per pixel, the end furthest from the middle by 191/255
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from progan_tf.checks import check_number, check_whole_number
from progan_tf.directions import edit_latent
from progan_tf.errors import OptionError
from progan_tf.latents import as_latent_batch

__all__ = ["VISIBLE_EFFECT", "EditStrip", "Effect", "edit_strip", "edit_strips", "effect_size",
           "show_strips", "strip_effect", "visible_angle"]

VISIBLE_EFFECT = 30.0
"""How much an edit must change a picture to count as visible, in 255ths per pixel.

The measure is :attr:`Effect.ends`: the mean absolute pixel difference between the two ends of
a strip (``-angle`` and ``+angle``), in 255ths of the pixel range. 30/255 is about half the
difference between two unrelated faces: two random faces differ by 64/255 on average on the
earlier, 32x32 bundled model and 68/255 on the 64x64 one (200 seeded faces, 100 pairs). The edit
is then obvious side by side, while each end stays about 15-25/255 from the face it started
from, so it is still that face, changed.
For comparison, notebook 04's earlier strengths moved the ends of its strip by 11-16/255, which
a reader could barely see.
"""

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
    >>> strip = edit_strip(gen, z, pt.random_directions(1, gen.latent_dim)[0], steps=5)
    >>> strip.images.shape, strip.effect.ends >= VISIBLE_EFFECT
    ((5, 64, 64, 3), True)
    """
    steps = _odd_steps(steps)
    if angle is None:
        angle = visible_angle(generator, direction, latent)
    angle = check_number(angle, "angle", exclusive_minimum=0, maximum=180)
    angles = np.linspace(-angle, angle, steps)
    latents = np.stack([edit_latent(latent, direction, value) for value in angles])
    images = _images(generator, latents)
    return EditStrip(images, angles, latents, strip_effect(images))


def edit_strips(generator: Any, latent: Any, directions: Any, angle: float, *,
                steps: int = 5) -> list[EditStrip]:
    """One :class:`EditStrip` per direction, from ``-angle`` to ``+angle``: one generator call.

    Args:
        generator: A :class:`~progan_tf.Generator` (or any callable latents -> images).
        latent: The face to edit, one latent ``[D]``.
        directions: ``[M, D]`` (or one ``[D]``).
        angle: The largest turn, in degrees, in (0, 180].
        steps: Faces per strip; odd, so that the unedited face is in the middle.

    Returns:
        ``M`` strips, in the order of ``directions``.

    Raises:
        LatentError: As :func:`~progan_tf.edit_latent`.
        OptionError: If ``angle`` or ``steps`` is invalid.
    """
    steps = _odd_steps(steps)
    angle = check_number(angle, "angle", exclusive_minimum=0, maximum=180)
    angles = np.linspace(-angle, angle, steps)
    rows = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    latents = np.stack([edit_latent(latent, row, value) for row in rows for value in angles])
    images = _images(generator, latents)
    return [EditStrip(images[start:start + steps], angles, latents[start:start + steps],
                      strip_effect(images[start:start + steps]))
            for start in range(0, len(latents), steps)]


def show_strips(strips: list[EditStrip], names: list[str]) -> Any:
    """Plots strips one per row, each face titled with its angle, the middle one with the effect.

    The middle face's title is the strip's name and, below it, how much its two ends differ
    (:attr:`Effect.ends`), so the measured size of each edit is printed beside its strip.

    Args:
        strips: The strips, e.g. from :func:`edit_strips`.
        names: One name per strip.

    Returns:
        The matplotlib figure (see :func:`progan_tf.show_grid`).

    Raises:
        OptionError: If the names do not match the strips.
    """
    from progan_tf.display import show_grid

    if len(names) != len(strips) or not strips:
        raise OptionError(f"show_strips needs one name per strip ({len(strips)}). Received: "
                          f"names={names!r}")
    titles = []
    for strip, name in zip(strips, names):
        row = [f"{angle:+.0f}°" for angle in strip.angles]
        row[len(row) // 2] = f"{name}\nends differ {strip.effect.ends:.0f}/255"
        titles += row
    steps = len(strips[0].images)
    return show_grid(np.concatenate([strip.images for strip in strips]), titles=titles,
                     ncols=steps, figsize=(2.1 * steps, 2.7 * len(strips)))


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
    >>> small, large = (effect_size(gen, z, pt.random_directions(1)[0], a) for a in (5, 45))
    >>> small.ends < large.ends
    True
    """
    angle = check_number(angle, "angle")
    batch = _batch(latents)
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
    >>> hair = pt.random_directions(1, gen.latent_dim, seed=4)[0]
    >>> angle = visible_angle(gen, hair)
    >>> effect_size(gen, pt.sample_latents(8, gen.latent_dim, 0), hair, angle).ends >= 30
    True
    """
    effect = check_number(effect, "effect", exclusive_minimum=0, maximum=255)
    max_angle = check_number(max_angle, "max_angle", exclusive_minimum=0, maximum=180)
    tolerance = check_number(tolerance, "tolerance", exclusive_minimum=0)
    if latents is None:
        from progan_tf.latents import sample_latents

        seed = check_whole_number(seed, "seed", minimum=0)
        latents = sample_latents(_COUNT, np.shape(direction)[-1] if np.ndim(direction) else 1,
                                 seed)
    batch = _batch(latents)

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


def _odd_steps(steps: Any) -> int:
    steps = check_whole_number(steps, "steps", minimum=3)
    if steps % 2 == 0:
        raise OptionError(f"steps must be odd, so that the unedited face is in the middle of the "
                          f"strip. Received: steps={steps}")
    return steps


def _batch(latents: Any) -> np.ndarray:
    return as_latent_batch(latents, name="latents").astype(np.float64)


def _images(generator: Any, latents: np.ndarray) -> np.ndarray:
    return np.asarray(generator(latents.astype(np.float32)), dtype=np.float32)

