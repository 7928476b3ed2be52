"""Export a DCGAN generator in progan-128's TF Hub interface.

The export is what :mod:`progan_tf.gan.export` writes for a progressive GAN: a TF2 SavedModel
whose ``default`` signature takes ``default``: float32 ``[?, latent_dim]`` and returns
``default``: float32 ``[?, H, W, 3]`` in [0, 1], with ``generator.keras``,
``discriminator.keras`` and ``metadata.json`` (``"arch": "dcgan"``) beside it.  So
``load_generator``, interpolation, latent recovery, ``progan-tf evaluate`` and the demo work
on it unchanged.  The signature runs the generator in inference mode (batch norm with its
moving averages: every image depends on its own latent only) with its weights baked in as
constants (see :mod:`progan_tf.training.export`); a grey generator's images are repeated to
three channels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.dcgan.config import ARCH
from progan_tf.pixels import from_signed_unit
from progan_tf.training import export as mechanics

__all__ = ["export_generator", "export_run", "hub_function"]


def hub_function(generator: Any) -> Any:
    """The ``default`` signature: latents -> RGB images in [0, 1], weights as constants.

    Args:
        generator: A :class:`~progan_tf.dcgan.networks.DCGANGenerator`.

    Returns:
        A ``tf.function`` taking ``default``: float32 ``[?, latent_dim]``.
    """
    spec = tf.TensorSpec([None, generator.latent_dim], tf.float32, name="default")

    def to_rgb_unit_range(images: Any) -> dict:
        images = from_signed_unit(tf.cast(images, tf.float32))
        if images.shape[-1] == 1:
            images = tf.repeat(images, 3, axis=-1)
        return {"default": images}

    return mechanics.frozen_function(generator, spec, to_rgb_unit_range)


def export_generator(generator: Any, out_dir: str | os.PathLike, discriminator: Any = None,
                     metadata: dict | None = None, overwrite: bool = False,
                     protect: tuple = ()) -> Path:
    """Write a DCGAN ``generator`` to ``out_dir`` in the hub interface.

    Args:
        generator: A :class:`~progan_tf.dcgan.networks.DCGANGenerator`.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: Saved beside it as ``discriminator.keras`` when given (default ``None``).
        metadata: Extra entries for ``metadata.json`` (default ``None``).
        overwrite: Replace an earlier export (only that; default ``False``).
        protect: Folders that must not be replaced by or lie inside ``out_dir`` (default none).

    Returns:
        ``out_dir`` as a ``Path``: the complete new export, or left as it was on error.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.dcgan.networks import DCGANGenerator
    >>> from progan_tf.training.export import is_export
    >>> generator = DCGANGenerator(latent_dim=8, resolution=16, width=4)
    >>> is_export(export_generator(generator, Path(tempfile.mkdtemp()) / "export"))
    True
    """
    resolution = generator.resolution
    return mechanics.export_networks(out_dir, hub_function, generator, discriminator, {
        "arch": ARCH, "latent_dim": generator.latent_dim, "resolution": resolution,
        "image_shape": [resolution, resolution, 3], "channels": generator.channels,
        "fading": False,
        "signature": {"name": "default", "input": "default", "output": "default",
                      "output_range": [0.0, 1.0]},
        **(metadata or {})}, overwrite, protect)


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export the generator of the newest checkpoint of a DCGAN run (``progan-tf export``).

    See :meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.export_run` for the
    arguments and errors (another family's run is refused in one line).
    """
    from progan_tf.dcgan.family import DCGAN_FAMILY  # the family exports through this module

    return DCGAN_FAMILY.export_run(run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                   allow_fade_in=allow_fade_in)
