"""Export a Pix2Pix generator as a translator: pictures in [0, 1] to pictures in [0, 1].

The export is a TF2 SavedModel whose ``default`` signature takes ``default``: float32
``[?, r, r, 3]`` in [0, 1] (a prepared input, such as a sketch) and returns ``default``:
float32 ``[?, r, r, 3]`` in [0, 1], with ``generator.keras``, ``discriminator.keras`` (not for
an L1-only U-Net) and ``metadata.json`` beside it.  The metadata says ``"arch": "pix2pix"``
and how an input is prepared (``"preparation"``: the sketch's settings, or ``"paired"``), so
:func:`progan_tf.translators.load_translator` can prepare a photo as training did.  The
signature runs the generator in inference mode (dropout off) with its weights baked in as
constants (:func:`progan_tf.training.export.frozen_function`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.pix2pix.config import ARCH
from progan_tf.pix2pix.sketch import BILATERAL, CANNY, default_hints, dot_radius
from progan_tf.pixels import from_signed_unit
from progan_tf.training import export as mechanics

__all__ = ["export_run", "export_translator", "preparation", "serving_function"]


def serving_function(generator: Any) -> Any:
    """The ``default`` signature: inputs in [0, 1] -> outputs in [0, 1], weights as constants."""
    side = generator.resolution
    signed = mechanics.frozen_function(
        generator, tf.TensorSpec([None, side, side, 3], tf.float32, name="default"),
        lambda images: {"default": from_signed_unit(tf.cast(images, tf.float32))})

    @tf.function(input_signature=[tf.TensorSpec([None, side, side, 3], tf.float32,
                                                name="default")])
    def serve(images: Any) -> dict:
        return signed(images * 2.0 - 1.0)

    return serve


def preparation(metadata: dict, resolution: int) -> dict:
    """How an input is made from a photo, as the export records it.

    ``{"kind": "sketch", ...the sketch's settings}`` for a run on photos, else
    ``{"kind": "paired"}`` (the inputs were given: a photo is only framed and resized).

    Example:
    >>> preparation({"dataset": {"pairs": "sketch"}, "config": {"hints": None}}, 64)["hints"]
    19
    >>> preparation({"dataset": {"pairs": "folders"}}, 64)
    {'kind': 'paired'}
    """
    if (metadata.get("dataset") or {}).get("pairs") != "sketch":
        return {"kind": "paired"}
    hints = (metadata.get("config") or {}).get("hints")
    return {"kind": "sketch", "hints": default_hints(resolution) if hints is None else hints,
            "radius": dot_radius(resolution), "bilateral": list(BILATERAL),
            "canny": list(CANNY)}


def export_translator(generator: Any, out_dir: str | os.PathLike, discriminator: Any = None,
                      metadata: dict | None = None, overwrite: bool = False,
                      protect: tuple = ()) -> Path:
    """Write a Pix2Pix ``generator`` to ``out_dir`` as a translator.

    Args:
        generator: A :class:`~progan_tf.pix2pix.networks.UNetGenerator`.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: Saved beside it as ``discriminator.keras`` when given.
        metadata: Extra entries for ``metadata.json`` (a run's: ``dataset``, ``config``, ...).
        overwrite: Replace an earlier export (only that; default ``False``).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.pix2pix.networks import UNetGenerator
    >>> from progan_tf.training.export import is_export
    >>> unet = UNetGenerator(resolution=16, width=4, max_width=8)
    >>> is_export(export_translator(unet, Path(tempfile.mkdtemp()) / "export"))
    True
    """
    metadata = dict(metadata or {})
    resolution = generator.resolution
    config = metadata.get("config") or {}
    return mechanics.export_networks(out_dir, serving_function, generator, discriminator, {
        "arch": ARCH, "kind": "translator", "resolution": resolution,
        "image_shape": [resolution, resolution, 3],
        "preparation": preparation(metadata, resolution),
        "crop": config.get("crop", "center"), "l1_only": bool(config.get("l1_only")),
        "signature": {"name": "default", "input": "default", "output": "default",
                      "input_range": [0.0, 1.0], "output_range": [0.0, 1.0]},
        **metadata}, overwrite, protect, name="progan_tf_translator")


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export the generator of the newest checkpoint of a Pix2Pix run (``progan-tf export``).

    See :meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.export_run` for the
    arguments and errors (another family's run is refused in one line).
    """
    from progan_tf.pix2pix.family import PIX2PIX_FAMILY  # the family exports through this module

    return PIX2PIX_FAMILY.export_run(run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                     allow_fade_in=allow_fade_in)
