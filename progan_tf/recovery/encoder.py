"""An encoder for instant inversion: one forward pass from an image to a latent of a generator.

A latent search (:func:`~progan_tf.recovery.recover_latent`) starts from random latents and
needs hundreds of steps. An encoder trained for one generator predicts a good latent at once
(in-domain GAN inversion, Zhu et al. 2020: trained so that the generator's image of the
prediction comes back, not only the latent), and a short search refines it:
``recover_latent(generator, photo, init="encoder")``.

An encoder belongs to one generator. Its folder (:data:`ENCODER_FILES`) holds the network,
``encoder.keras``, and ``encoder.json``: the format tag, the latent size, the image shape, the
generator's **fingerprint**, how it was trained and how well it did. The fingerprint
(:func:`generator_fingerprint`) is what the generator makes of a few fixed latents, pooled to a
few numbers per image, so it identifies the generator by what it computes -- wherever it was
loaded from -- and :meth:`Encoder.check` refuses, in one line, an encoder used with another
generator. ``progan-tf train-encoder`` (:mod:`progan_tf.recovery.encoder_training`) trains one
for any generator; the one for the bundled generator ships in ``progan_tf/bundled/encoder/``.

Like the search, encoded latents lie on the sphere of radius ``sqrt(D)``: ProGAN normalises its
input, so only a latent's direction matters.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib.resources
import json
import math
import os
import weakref
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf import fileio
from progan_tf.constants import (
    BUNDLED,
    ENCODER_REFINE_RESTARTS,
    ENCODER_REFINE_STEPS,
    RECOVERY_RESTARTS,
    RECOVERY_STEPS,
)
from progan_tf.errors import ModelLoadError, RecoveryError, one_line
from progan_tf.images import load_image, single_image
from progan_tf.recovery.fingerprint import fingerprint_mismatch
from progan_tf.recovery.starts import starting_latents

__all__ = ["ENCODER_FILES", "ENCODER_FORMAT", "Encoder", "SearchPlan", "SphereProjection",
           "build_encoder", "bundled_encoder_folder", "encoder_for", "is_encoder_folder",
           "load_encoder", "matching_encoder", "plan_search"]

ENCODER_FORMAT = "progan-tf encoder 1"
"""The ``format`` tag of ``encoder.json``."""

ENCODER_FILES = ("encoder.keras", "encoder.json")
"""The files of an encoder folder: the network, then its description (written last)."""

START_SPREAD = 0.5
"""How far from the encoder's latent the other restarts of a search start: the prediction's
direction plus this much of a random unit direction (0.5: about 27 degrees away)."""


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="progan_tf")
class SphereProjection(keras.layers.Layer):
    """Scales vectors to norm ``sqrt(D)``, where ``N(0, I)`` latents (and searches) live."""

    def call(self, inputs: Any) -> Any:
        """``inputs`` ``[N, D]`` scaled to norm ``sqrt(D)`` along the last axis."""
        radius = math.sqrt(inputs.shape[-1])
        return tf.math.l2_normalize(inputs, axis=-1) * radius


def build_encoder(latent_dim: int, image_shape: tuple, width: int = 32,
                  max_width: int = 96) -> keras.Model:
    """A small convolutional encoder: images ``[N, H, W, 3]`` in [0, 1] to latents ``[N, D]``.

    Two 3x3 convolutions per resolution (the second of stride 2) halve the image down to 4x4
    or less, doubling the channels from ``width`` up to ``max_width``; a 1x1 convolution
    narrows them, and a dense layer maps what is left to the latent, projected on the sphere
    of radius ``sqrt(D)``. Sized for a CPU: 0.69 M weights (2.8 MB) for 32x32 images and
    512-d latents.

    Args:
        latent_dim: The generator's latent size ``D``.
        image_shape: The generator's ``(H, W, 3)``.
        width: Channels at full resolution.
        max_width: Most channels of any convolution.

    Returns:
        The Keras model (``name="encoder"``).

    Example:
    >>> encoder = build_encoder(64, (16, 16, 3), width=8, max_width=16)
    >>> latents = encoder(np.zeros((2, 16, 16, 3), np.float32))
    >>> latents.shape, round(float(np.linalg.norm(latents[0])), 3)
    (TensorShape([2, 64]), 8.0)
    """
    height, wide, _ = (int(side) for side in image_shape)
    images = keras.Input((height, wide, 3), name="images")
    x = keras.layers.Rescaling(2.0, offset=-1.0)(images)
    channels = width
    x = keras.layers.Conv2D(channels, 3, padding="same", activation="leaky_relu")(x)
    while min(height, wide) > 4:
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="leaky_relu")(x)
        channels = min(2 * channels, max_width)
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="same",
                                activation="leaky_relu")(x)
        height, wide = (height + 1) // 2, (wide + 1) // 2
    x = keras.layers.Conv2D(max(channels // 2, 1), 1, activation="leaky_relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(latent_dim)(x)
    return keras.Model(images, SphereProjection()(x), name="encoder")


# --------------------------------------------------------------------------------------------
# A trained encoder and its folder
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class Encoder:
    """A trained encoder: the network and what ``encoder.json`` says about it.

    Attributes:
        network: The Keras model, images ``[N, H, W, 3]`` in [0, 1] -> latents ``[N, D]``.
        metadata: ``encoder.json``: ``format``, ``latent_dim``, ``image_shape``,
            ``generator`` (its ``handle`` and ``fingerprint``), ``training_command``,
            ``train_seconds``, ``metrics``, ...
        source: Where it was loaded from (``"bundled"``, a folder), or ``None``.
    """

    network: keras.Model
    metadata: dict
    source: str | None = None

    def __post_init__(self) -> None:
        self._checked: weakref.WeakSet = weakref.WeakSet()
        self._encode = tf.function(lambda images: self.network(images, training=False),
                                   reduce_retracing=True)

    def __repr__(self) -> str:
        return (f"Encoder(source={self.source!r}, latent_dim={self.latent_dim}, "
                f"image_shape={self.image_shape}, generator={self.fingerprint['digest']!r})")

    @property
    def latent_dim(self) -> int:
        """The latent size ``D`` it predicts."""
        return int(self.metadata["latent_dim"])

    @property
    def image_shape(self) -> tuple:
        """The ``(H, W, 3)`` images it reads."""
        return tuple(int(side) for side in self.metadata["image_shape"])

    @property
    def fingerprint(self) -> dict:
        """The :func:`generator_fingerprint` of the generator it was trained for."""
        return self.metadata["generator"]["fingerprint"]

    def check(self, generator: Any) -> None:
        """Raises unless this encoder was trained for ``generator`` (checked once per generator).

        Raises:
            RecoveryError: One line naming both and saying how to get a matching encoder.
        """
        if generator in self._checked:
            return
        problem = fingerprint_mismatch(self.fingerprint, generator)
        if problem is not None:
            handle = getattr(generator, "handle", type(generator).__name__)
            trained_for = self.metadata["generator"].get("handle", "another generator")
            raise RecoveryError(
                f"the encoder {self.source or ''} belongs to {trained_for!r}, not to "
                f"{handle!r}: {problem}; train one for this generator with 'progan-tf "
                f"train-encoder --model {handle} --out DIR' and pass init=DIR".replace("  ", " "))
        try:
            self._checked.add(generator)
        except TypeError:  # not weakly referable: check again next time
            pass

    def predict(self, images: Any) -> np.ndarray:
        """Latents of ``images``: float32 ``[N, D]`` on the sphere of radius ``sqrt(D)``.

        Args:
            images: ``[N, H, W, 3]`` or ``[H, W, 3]`` float images in [0, 1] at the encoder's
                size.

        Returns:
            The latents (``[1, D]`` for one image).

        Raises:
            RecoveryError: If the images are not of the encoder's size.
        """
        batch = np.asarray(images, np.float32)
        batch = batch[np.newaxis] if batch.ndim == 3 else batch
        if batch.ndim != 4 or tuple(batch.shape[1:]) != self.image_shape:
            raise RecoveryError(f"the encoder reads images of shape {self.image_shape}, got "
                                f"{tuple(np.shape(images))}; resize them with "
                                f"load_image(image, size={self.image_shape[:2]})")
        return self._encode(tf.constant(batch)).numpy()

    def encode(self, image: Any) -> np.ndarray:
        """The latent ``[D]`` of one picture, resized (centre-cropped) to the encoder's size.

        Args:
            image: Anything :func:`~progan_tf.images.load_image` accepts.

        Returns:
            float32 ``[D]`` on the sphere of radius ``sqrt(D)``.

        Example:
        >>> encoder = load_encoder("bundled")
        >>> encoder.encode(np.full((40, 40, 3), 0.5, np.float32)).shape
        (512,)
        """
        target = load_image(single_image(image), size=self.image_shape[:2])
        return self.predict(target)[0]

    def starts(self, target: Any, restarts: int, seed: int = 0) -> np.ndarray:
        """Starting latents for a search: the prediction, then latents near it.

        Restart ``i > 0`` starts at the prediction turned by :data:`START_SPREAD` towards the
        search's ``i``-th random start (:func:`~progan_tf.recovery.starting_latents`), so the
        restarts explore around the encoder's answer rather than all from one point.

        Args:
            target: The image ``[H, W, 3]`` at the encoder's size.
            restarts: Rows wanted.
            seed: The search's seed.

        Returns:
            float32 ``[restarts, D]`` on the sphere of radius ``sqrt(D)``.

        Example:
        >>> encoder = load_encoder("bundled")
        >>> rows = encoder.starts(np.full(encoder.image_shape, 0.5, np.float32), 3)
        >>> rows.shape, bool(np.allclose(np.linalg.norm(rows, axis=1), np.sqrt(512)))
        ((3, 512), True)
        """
        predicted = self.predict(target)[0]
        radius = math.sqrt(self.latent_dim)
        directions = starting_latents(restarts, self.latent_dim, seed)
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        rows = predicted / radius + START_SPREAD * directions
        rows[0] = predicted / radius
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True) * radius).astype(np.float32)

    def save(self, folder: str | os.PathLike) -> Path:
        """Writes :data:`ENCODER_FILES` into ``folder`` (created if missing), atomically.

        ``encoder.json`` is written last and records the SHA-256 of ``encoder.keras``, so a
        save cut short is recognised as incomplete when it is loaded.

        Returns:
            The folder.
        """
        folder = Path(folder).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        with fileio.atomic_path(folder / ENCODER_FILES[0], suffix=".keras") as tmp:
            self.network.save(tmp)
        digest = hashlib.sha256((folder / ENCODER_FILES[0]).read_bytes()).hexdigest()
        self.metadata = {**self.metadata, "format": ENCODER_FORMAT, "keras_sha256": digest,
                         "parameters": int(self.network.count_params()),
                         "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(
                             timespec="seconds")}
        fileio.write_json(folder / ENCODER_FILES[1], self.metadata)
        return folder


def bundled_encoder_folder() -> Traversable:
    """Where the encoder of the bundled generator lives inside the installed package.

    Example:
    >>> bundled_encoder_folder().joinpath("encoder.json").is_file()
    True
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "encoder")


def is_encoder_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds an encoder's description (``encoder.json`` with its format tag).

    Example:
    >>> is_encoder_folder(str(bundled_encoder_folder())), is_encoder_folder("no-such-folder")
    (True, False)
    """
    try:
        text = (Path(folder).expanduser() / ENCODER_FILES[1]).read_text(encoding="utf-8")
        return json.loads(text).get("format") == ENCODER_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


_LOADED: dict = {}  # (resolved folder, encoder.json's mtime and size) -> Encoder


def load_encoder(source: str | os.PathLike = BUNDLED) -> Encoder:
    """Loads the encoder in a folder written by ``progan-tf train-encoder``, or the bundled one.

    Loads are cached per folder (until its ``encoder.json`` changes), so a notebook or a
    benchmark that recovers many pictures loads the network once.

    Args:
        source: ``"bundled"`` (the encoder of the bundled generator) or an encoder folder.

    Returns:
        The :class:`Encoder`.

    Raises:
        RecoveryError: If there is no encoder there (no bundled encoder, a folder without
            ``encoder.json``, another kind of folder).
        ModelLoadError: If its files are damaged or incomplete.

    Example:
    >>> load_encoder("bundled").latent_dim
    512
    """
    bundled = isinstance(source, str) and source == BUNDLED
    folder = Path(str(bundled_encoder_folder())) if bundled else Path(source).expanduser()
    described = folder / ENCODER_FILES[1]
    if not described.is_file():
        if bundled:
            raise RecoveryError("no encoder is installed for the bundled generator (no "
                                f"{described}); reinstall progan-tf, or pass init=None for a "
                                f"full search")
        what = "does not exist" if not folder.exists() else "holds no encoder.json"
        raise RecoveryError(f"{str(folder)!r} {what}; pass a folder written by 'progan-tf "
                            f"train-encoder --out DIR' (or init='encoder' for the bundled one)")
    stat = described.stat()
    key = (str(folder.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _LOADED:
        return _LOADED[key]
    try:
        metadata = json.loads(described.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{str(described)!r} cannot be read ({one_line(error)}); train the "
                             f"encoder again or restore the folder") from None
    if not isinstance(metadata, dict) or metadata.get("format") != ENCODER_FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise RecoveryError(f"{str(described)!r} is not an encoder description (format "
                            f"{found!r}, expected {ENCODER_FORMAT!r})")
    network_file = folder / ENCODER_FILES[0]
    try:
        data = network_file.read_bytes()
        if metadata.get("keras_sha256") not in (None, hashlib.sha256(data).hexdigest()):
            raise ValueError("its checksum does not match encoder.json: the save was cut short "
                             "or the file was replaced")
        network = keras.saving.load_model(network_file, compile=False)
    except Exception as error:  # Keras raises many types for damaged files
        raise ModelLoadError(f"the encoder network {str(network_file)!r} cannot be loaded "
                             f"({one_line(error)}); train the encoder again or restore the "
                             f"folder") from None
    encoder = Encoder(network, metadata, BUNDLED if bundled else str(folder))
    _LOADED[key] = encoder
    return encoder


def encoder_for(generator: Any, init: Any) -> Encoder:
    """The encoder that ``init`` names, checked against ``generator``.

    Args:
        generator: The generator the latents are for.
        init: ``"encoder"`` (the bundled generator's encoder), an encoder folder, or an
            :class:`Encoder`.

    Returns:
        The encoder.

    Raises:
        RecoveryError: If there is no such encoder, or it belongs to another generator.
    """
    if isinstance(init, Encoder):
        encoder = init
    elif isinstance(init, str) and init == "encoder":
        encoder = load_encoder(BUNDLED)
    elif isinstance(init, (str, os.PathLike)):
        encoder = load_encoder(init)
    else:
        raise RecoveryError(f"init must be None, 'encoder', an encoder folder or an Encoder. "
                            f"Received: init={init!r}")
    encoder.check(generator)
    return encoder


def matching_encoder(generator: Any) -> Encoder | None:
    """The bundled encoder if it belongs to ``generator``, else ``None`` (never raises).

    What ``progan-tf invert`` and the demo use to take the fast path where an encoder exists.

    Example:
    >>> from progan_tf.generator import load_generator
    >>> matching_encoder(load_generator("bundled")) is not None
    True
    """
    try:
        return encoder_for(generator, "encoder")
    except (RecoveryError, ModelLoadError):
        return None


@dataclasses.dataclass(frozen=True)
class SearchPlan:
    """How to recover a latent: the fast path or the full search (see :func:`plan_search`).

    Attributes:
        init: The :class:`Encoder` to start from, or ``None`` (random starts).
        steps: Steps of the search.
        restarts: Restarts of the search.
        label: ``"encoder + refinement"`` or ``"full search"``, for people.
    """

    init: Encoder | None
    steps: int
    restarts: int
    label: str


def plan_search(generator: Any, encoder: Any = None, full_search: bool = False,
                steps: int | None = None, restarts: int | None = None) -> SearchPlan:
    """The fast path where an encoder exists for ``generator``, else the full search.

    What ``progan-tf invert`` and the demo do: ``encoder`` (a folder or an :class:`Encoder`)
    if given, else the encoder shipped for the bundled generator when it belongs to
    ``generator``, then a short refinement; with ``full_search`` or without an encoder, the
    default search from random latents. ``steps``/``restarts`` left ``None`` are the chosen
    path's defaults.

    Raises:
        RecoveryError: If ``encoder`` is given but cannot be used for ``generator``.

    Example:
    >>> from progan_tf.generator import load_generator
    >>> plan = plan_search(load_generator("bundled"))
    >>> plan.label, plan.steps == ENCODER_REFINE_STEPS
    ('encoder + refinement', True)
    >>> plan_search(load_generator("bundled"), full_search=True).steps
    300
    """
    if encoder is not None:
        init = encoder_for(generator, encoder)
    else:
        init = None if full_search else matching_encoder(generator)
    if init is None:
        return SearchPlan(None, steps or RECOVERY_STEPS, restarts or RECOVERY_RESTARTS,
                          "full search")
    return SearchPlan(init, steps or ENCODER_REFINE_STEPS, restarts or ENCODER_REFINE_RESTARTS,
                      "encoder + refinement")
