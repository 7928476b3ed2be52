"""Which generator an encoder belongs to: a fingerprint of what the generator computes.

An encoder is trained for one generator, and used with another it predicts latents that mean
nothing there. A generator's **fingerprint** (:func:`generator_fingerprint`) is what it makes
of a few fixed latents, each image averaged down to a few numbers: two loads of one generator
agree wherever they come from (a folder, a copy, a URL), and any other generator -- retrained,
fine-tuned, another resolution -- differs, so ``encoder.json`` records it and
:meth:`~progan_tf.recovery.encoder.Encoder.check` compares it (:func:`fingerprint_mismatch`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["PROBE_TOLERANCE", "fingerprint_mismatch", "generator_fingerprint"]

PROBE_LATENTS = 4  # fixed latents the fingerprint renders
PROBE_SIDE = 4  # each image average-pooled to PROBE_SIDE x PROBE_SIDE x 3 numbers
PROBE_TOLERANCE = 0.01
"""Largest difference of a pooled value between two runs of one generator (float rounding on
other machines is far below it; another generator differs by far more)."""
PROBE_SEED = 0x66707274  # "fprt": the stream of the probe latents, no one else's seed




def _probe(generator: Any) -> np.ndarray:
    """What ``generator`` makes of the probe latents, pooled: ``[PROBE_LATENTS, s, s, 3]``."""
    latents = np.random.default_rng(PROBE_SEED).standard_normal(
        (PROBE_LATENTS, int(generator.latent_dim))).astype(np.float32)
    images = tf.convert_to_tensor(generator(latents), tf.float32)
    return tf.image.resize(images, [PROBE_SIDE, PROBE_SIDE], method="area").numpy()


def _digest(probe: np.ndarray) -> str:
    """A short hash of a probe, for people (the comparison itself allows for rounding)."""
    return hashlib.sha256(np.round(probe, 2).tobytes()).hexdigest()[:12]


def generator_fingerprint(generator: Any) -> dict:
    """What identifies ``generator`` for an encoder: its sizes and what it computes.

    ``probe`` is the generator's images of four fixed latents, each averaged down to 4x4x3
    numbers (rounded to 4 decimals), so two loads of one generator agree wherever they come
    from (a folder, a copy, a URL), and any other generator -- retrained, fine-tuned, another
    resolution -- differs. ``digest`` is a short hash of it, for people.

    Args:
        generator: A :class:`~progan_tf.generator.Generator` (or any callable with
            ``latent_dim`` and ``image_shape`` mapping latents to images in [0, 1]).

    Returns:
        ``{"latent_dim", "image_shape", "digest", "probe"}``, JSON-ready.

    Example:
    >>> from progan_tf.generator import load_generator
    >>> fingerprint = generator_fingerprint(load_generator("bundled"))
    >>> fingerprint["latent_dim"], fingerprint["image_shape"], len(fingerprint["probe"])
    (512, [64, 64, 3], 192)
    """
    probe = np.round(_probe(generator).ravel().astype(np.float64), 4)
    return {"latent_dim": int(generator.latent_dim),
            "image_shape": [int(side) for side in generator.image_shape],
            "digest": _digest(probe), "probe": probe.tolist()}


def fingerprint_mismatch(recorded: dict, generator: Any) -> str | None:
    """Why ``generator`` is not the one ``recorded`` describes (a phrase), or ``None``.

    Args:
        recorded: A :func:`generator_fingerprint` (from ``encoder.json``).
        generator: The generator to compare.
    """
    if int(recorded["latent_dim"]) != int(generator.latent_dim):
        return (f"it takes {recorded['latent_dim']}-d latents, this generator "
                f"{generator.latent_dim}-d")
    if [int(side) for side in recorded["image_shape"]] != list(generator.image_shape):
        return (f"its generator makes {tuple(recorded['image_shape'])} images, this one "
                f"{tuple(generator.image_shape)}")
    probe = _probe(generator).ravel()
    expected = np.asarray(recorded["probe"], np.float64)
    if expected.shape != probe.shape:
        return "its fingerprint is damaged"
    difference = float(np.max(np.abs(probe - expected)))
    if difference > PROBE_TOLERANCE:
        return (f"this generator draws other pictures from the same latents (fingerprint "
                f"{_digest(np.round(probe.astype(np.float64), 4))}, the encoder's "
                f"{recorded['digest']}; largest difference {difference:.3f})")
    return None
