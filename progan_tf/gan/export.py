"""Export a trained generator in progan-128's TF Hub interface.

The exported folder is a TF2 SavedModel whose ``default`` signature takes ``default``: float32
``[?, latent_dim]`` and returns ``default``: float32 ``[?, H, W, 3]`` in [0, 1] -- exactly what
``tensorflow_hub.load("https://tfhub.dev/google/progan-128/1").signatures["default"]`` offers,
so every notebook written for progan-128 runs on it unchanged.  Beside it::

    generator.keras, discriminator.keras   Keras models, to fine-tune
    metadata.json                          resolution, latent size, images shown, data, metrics,
                                           the training command

The signature holds the weights of the exported stage as constants, so it keeps working when
only the signature is kept (the TF Hub tutorial's loop); ``saved_model.pb`` carries the weights
of that stage only (layers of higher resolutions are not traced in), and fine-tuning uses
``generator.keras`` anyway.  Why, and how an export replaces an earlier one atomically, is
explained in :mod:`progan_tf.training.export`, which every family shares; this module holds
what is ProGAN's: the signature and the run's metadata.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.pixels import from_signed_unit
from progan_tf.training import export as mechanics
from progan_tf.training import runs
from progan_tf.training.export import (
    EXPORT_ENTRIES,
    FORMAT,
    METADATA,
    check_export_destination,
    is_export,
)

__all__ = ["EXPORT_ENTRIES", "FORMAT", "METADATA", "check_export_destination", "export_generator",
           "export_run", "hub_function", "is_export", "reexport"]


def hub_function(generator: Any) -> Any:
    """The ``default`` signature: latents -> images in [0, 1], weights baked in as constants.

    Args:
        generator: A ``ProgressiveGenerator`` at the stage to export.

    Returns:
        A ``tf.function`` taking ``default``: float32 ``[?, latent_dim]``.
    """
    spec = tf.TensorSpec([None, generator.latent_dim], tf.float32, name="default")

    def to_unit_range(images: Any) -> dict:
        return {"default": from_signed_unit(tf.cast(images, tf.float32))}

    return mechanics.frozen_function(generator, spec, to_unit_range)


def export_generator(generator: Any, out_dir: str | os.PathLike, discriminator: Any = None,
                     metadata: dict | None = None, overwrite: bool = False,
                     protect: tuple = ()) -> Path:
    """Write ``generator`` (at its current stage) to ``out_dir`` in the hub interface.

    Args:
        generator: A ``ProgressiveGenerator``.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: Saved beside it as ``discriminator.keras`` when given (default ``None``).
        metadata: Extra entries for ``metadata.json`` (default ``None``).
        overwrite: Replace an earlier export (see :func:`check_export_destination`; default
            ``False``).
        protect: Folders that must not be replaced by or lie inside ``out_dir`` (default none).

    Returns:
        ``out_dir`` as a ``Path``.  It is either the complete new export or left as it was.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.gan.networks import ProgressiveGenerator
    >>> generator = ProgressiveGenerator(resolution=8, latent_dim=8, fmap_max=8,
    ...                                  stage_resolution=8)
    >>> out = export_generator(generator, Path(tempfile.mkdtemp()) / "export")
    >>> is_export(out)
    True
    """
    def fill(tmp: Path) -> None:
        mechanics.save_signature(hub_function(generator), tmp)
        generator.save(tmp / "generator.keras")
        if discriminator is not None:
            discriminator.save(tmp / "discriminator.keras")
        resolution = generator.stage_resolution
        mechanics.write_metadata(tmp, {
            "latent_dim": generator.latent_dim, "resolution": resolution,
            "image_shape": [resolution, resolution, 3], "fading": generator.fading,
            "signature": {"name": "default", "input": "default", "output": "default",
                          "output_range": [0.0, 1.0]},
            **(metadata or {})})

    return mechanics.write_export(out_dir, fill, overwrite, protect)


def reexport(export_dir: str | os.PathLike) -> Path:
    """Rewrite an earlier export's SavedModel from its ``generator.keras``, in place.

    Exports written before the signature held its weights as constants fail the TF Hub
    tutorial's loop (see :mod:`progan_tf.training.export`); this brings them up to date.  The
    Keras files and ``metadata.json`` are copied byte for byte; only the SavedModel is new.

    Args:
        export_dir: An export folder (see :func:`is_export`).

    Returns:
        ``export_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``export_dir`` is not an export, or writing failed.
    """
    import progan_tf.gan.networks  # noqa: F401 -- registers the Keras classes for loading

    return mechanics.rewrite_saved_model(export_dir, "generator.keras", hub_function)


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export the EMA generator of the newest checkpoint in ``run_dir`` (``progan-tf export``).

    Args:
        run_dir: A training run folder (``progan-tf train --out``).
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        metrics: Stored under ``"metrics"`` in ``metadata.json`` (``progan-tf evaluate --out``;
            default ``None``).
        overwrite: Replace an earlier export (only that; see :func:`check_export_destination`;
            default ``False``).
        allow_fade_in: Export a checkpoint taken during a fade-in (its images blend the two
            resolutions, so it is refused by default); ``metadata.json`` then says
            ``"fading": true``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: not a run, no checkpoint yet, a fade-in checkpoint, or ``out_dir``
            may not be written.
    """
    from progan_tf.gan.family import PROGAN  # the family exports through this module

    runs.check_run_arch(run_dir, "progan", advice="export it with 'progan-tf export', which "
                                                  "reads the family from run.json")

    return mechanics.export_run(PROGAN, run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                allow_fade_in=allow_fade_in)
