"""Export a style generator in progan-128's interface, plus its mapping and synthesis paths.

The export is a TF2 SavedModel with three signatures, weights baked in as constants
(:func:`progan_tf.training.export.frozen_function`), and every layer's noise its stored
constant map, so a latent always gives the same image:

* ``default``: ``default`` float32 ``[?, latent_dim]`` (z) -> ``default`` ``[?, R, R, 3]`` in
  [0, 1], with the truncation ``truncation_psi`` of ``metadata.json``: progan-128's interface,
  so ``load_generator``, interpolation, latent recovery, ``progan-tf evaluate`` and the demo
  work on it unchanged;
* ``mapping``: ``z`` ``[?, latent_dim]`` -> ``ws`` ``[?, num_ws, w_dim]`` (w repeated on every
  layer, not truncated) and ``w_avg`` ``[?, w_dim]`` (the tracked average w, the truncation
  trick's centre, one row per latent);
* ``synthesis``: ``ws`` ``[?, num_ws, w_dim]`` (w+: one w per layer) -> ``default``
  ``[?, R, R, 3]`` in [0, 1].

Beside it: ``generator.keras`` (the moving-average generator), ``discriminator.keras`` and
``metadata.json`` (``"arch": "stylegan"``, ``num_ws``, ``w_dim``, the named layer ranges, the
truncation psi and the training command).  :func:`progan_tf.load_generator` returns a
:class:`~progan_tf.style_generator.StyleBasedGenerator` for it, whose ``mapping`` and
``synthesis`` methods call the two extra signatures.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from progan_tf.checks import check_number
from progan_tf.pixels import from_signed_unit
from progan_tf.stylegan.config import ARCH
from progan_tf.stylegan.mixing import layer_ranges
from progan_tf.training import export as mechanics

__all__ = ["SIGNATURES", "export_run", "export_style_generator", "serving_functions"]

SIGNATURES = ("default", "mapping", "synthesis")
"""The signatures of a style-based export."""


class _Served(keras.Model):
    """One path of the generator as a Keras model of one input (what frozen_function serves)."""

    def __init__(self, generator: Any, path: str, truncation_psi: float = 1.0) -> None:
        super().__init__(name=f"served_{path}")
        self.generator, self.served, self.truncation_psi = generator, path, truncation_psi

    def call(self, inputs: Any, training: bool = False) -> Any:
        if self.served == "default":
            return self.generator(inputs, truncation_psi=self.truncation_psi,
                                  noise_mode="const")
        if self.served == "synthesis":
            return self.generator.synthesis(inputs, noise_mode="const")
        ws = self.generator.mapping(inputs)
        w_avg = keras.ops.broadcast_to(keras.ops.cast(self.generator.w_avg, ws.dtype)[None],
                                       keras.ops.shape(ws[:, 0]))
        return ws, w_avg


def _images(images: Any) -> dict:
    return {"default": from_signed_unit(tf.cast(images, tf.float32))}


def serving_functions(generator: Any, truncation_psi: float = 1.0) -> dict:
    """The three signatures of :data:`SIGNATURES` for a ``StyleGenerator``, by name.

    Args:
        generator: A :class:`~progan_tf.stylegan.networks.StyleGenerator`.
        truncation_psi: The truncation of the ``default`` signature (default 1: none).

    Returns:
        ``{"default": ..., "mapping": ..., "synthesis": ...}``: one ``tf.function`` each,
        referencing no variable.
    """
    psi = check_number(truncation_psi, "truncation_psi", minimum=0, maximum=1)
    z_spec = tf.TensorSpec([None, generator.latent_dim], tf.float32, name="default")
    ws_spec = tf.TensorSpec([None, generator.num_ws, generator.w_dim], tf.float32, name="ws")
    return {
        "default": mechanics.frozen_function(_Served(generator, "default", psi), z_spec,
                                             _images),
        "mapping": mechanics.frozen_function(
            _Served(generator, "mapping"),
            tf.TensorSpec([None, generator.latent_dim], tf.float32, name="z"),
            lambda outputs: {"ws": tf.cast(outputs[0], tf.float32),
                             "w_avg": tf.cast(outputs[1], tf.float32)}),
        "synthesis": mechanics.frozen_function(_Served(generator, "synthesis"), ws_spec,
                                               _images),
    }


def export_style_generator(generator: Any, out_dir: str | os.PathLike,
                           discriminator: Any = None, metadata: dict | None = None,
                           truncation_psi: float = 1.0, overwrite: bool = False,
                           protect: tuple = ()) -> Path:
    """Write a ``StyleGenerator`` to ``out_dir`` with the signatures of :data:`SIGNATURES`.

    Args:
        generator: A :class:`~progan_tf.stylegan.networks.StyleGenerator` (a run's average).
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: Saved beside it as ``discriminator.keras`` when given (default ``None``).
        metadata: Extra entries for ``metadata.json`` (default ``None``).
        truncation_psi: The ``default`` signature's truncation (default 1: none).
        overwrite: Replace an earlier export (only that; default ``False``).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``: the complete new export, or left as it was on error.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.stylegan.networks import StyleGenerator
    >>> from progan_tf.training.export import is_export
    >>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=8, fmap_base=16,
    ...                            fmap_max=8, mapping_layers=2)
    >>> is_export(export_style_generator(generator, Path(tempfile.mkdtemp()) / "export"))
    True
    """
    resolution, num_ws = generator.resolution, generator.num_ws
    info = {
        "arch": ARCH, "latent_dim": generator.latent_dim, "w_dim": generator.w_dim,
        "num_ws": num_ws, "resolution": resolution, "image_shape": [resolution, resolution, 3],
        "fading": False, "truncation_psi": float(truncation_psi), "noise": "const",
        "layer_ranges": layer_ranges(resolution),
        "signature": {"name": "default", "input": "default", "output": "default",
                      "output_range": [0.0, 1.0]},
        "signatures": {
            "default": {"inputs": {"default": ["N", generator.latent_dim]},
                        "outputs": {"default": ["N", resolution, resolution, 3]}},
            "mapping": {"inputs": {"z": ["N", generator.latent_dim]},
                        "outputs": {"ws": ["N", num_ws, generator.w_dim],
                                    "w_avg": ["N", generator.w_dim]}},
            "synthesis": {"inputs": {"ws": ["N", num_ws, generator.w_dim]},
                          "outputs": {"default": ["N", resolution, resolution, 3]}}},
        **(metadata or {})}

    def fill(tmp: Path) -> None:
        functions = serving_functions(generator, truncation_psi)
        module = tf.Module(name="progan_tf_style_generator")
        for name, function in functions.items():
            setattr(module, name, function)
        tf.saved_model.save(module, str(tmp), signatures=functions)
        generator.save(tmp / "generator.keras")
        if discriminator is not None:
            discriminator.save(tmp / "discriminator.keras")
        mechanics.write_metadata(tmp, info)

    return mechanics.write_export(out_dir, fill, overwrite, protect)


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export the average generator of a style-based run's newest checkpoint.

    See :meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.export_run` for the
    arguments and errors (another family's run is refused in one line).
    """
    from progan_tf.stylegan.family import STYLEGAN_FAMILY  # the family exports through here

    return STYLEGAN_FAMILY.export_run(run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                      allow_fade_in=allow_fade_in)
