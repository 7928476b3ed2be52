"""Export an SRGAN generator as an upscaler that :func:`progan_tf.load_upscaler` reads.

The export folder is a TF2 SavedModel whose ``default`` signature takes ``default``: float32
``[?, ?, ?, 3]`` (RGB pictures of any size in [0, 1]) and returns ``default``: float32
``[?, 4H, 4W, 3]`` in [0, 1], with ``generator.keras``, ``discriminator.keras`` and
``metadata.json`` (``"arch": "srgan"``, ``"scale": 4``) beside it.  The signature runs the
generator in inference mode (batch norm with its moving averages) with its weights baked in as
constants (:func:`progan_tf.training.export.frozen_function`).  It is *not* a generator: it
takes pictures, not latents, and ``load_generator`` is the wrong loader for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.pixels import from_signed_unit
from progan_tf.srgan.config import ARCH, SCALE
from progan_tf.training import export as mechanics

__all__ = ["export_run", "export_upscaler", "serving_function"]


def serving_function(generator: Any) -> Any:
    """The ``default`` signature: pictures in [0, 1] -> 4x larger pictures in [0, 1]."""
    spec = tf.TensorSpec([None, None, None, 3], tf.float32, name="default")
    frozen = mechanics.frozen_function(
        generator, spec, lambda images: {"default": from_signed_unit(tf.cast(images,
                                                                             tf.float32))})

    @tf.function(input_signature=[spec])
    def serve(images: Any) -> dict:
        return frozen(images * 2.0 - 1.0)

    return serve


def export_upscaler(generator: Any, out_dir: str | os.PathLike, discriminator: Any = None,
                    metadata: dict | None = None, overwrite: bool = False,
                    protect: tuple = ()) -> Path:
    """Write an SRResNet/SRGAN ``generator`` to ``out_dir`` as an upscaler export.

    Args:
        generator: From :func:`~progan_tf.srgan.networks.build_generator`.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: Saved beside it as ``discriminator.keras`` when given.
        metadata: Extra entries for ``metadata.json``.
        overwrite: Replace an earlier export (only that).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.srgan.networks import build_generator
    >>> from progan_tf.training.export import is_export
    >>> is_export(export_upscaler(build_generator(4, 1), Path(tempfile.mkdtemp()) / "sr"))
    True
    """
    return mechanics.export_networks(out_dir, serving_function, generator, discriminator, {
        "arch": ARCH, "scale": SCALE,
        "signature": {"name": "default", "input": "default", "output": "default",
                      "input_range": [0.0, 1.0], "output_range": [0.0, 1.0]},
        **(metadata or {})}, overwrite, protect, name="progan_tf_upscaler")


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export the generator of the newest checkpoint of an SRGAN run (``progan-tf export``).

    See :meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.export_run` for the
    arguments and errors (another family's run is refused in one line).
    """
    from progan_tf.srgan.family import SRGAN_FAMILY  # the family exports through this module

    return SRGAN_FAMILY.export_run(run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                   allow_fade_in=allow_fade_in)
