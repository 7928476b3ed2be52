"""Export a CycleGAN's two generators as one translator folder.

The export is a TF2 SavedModel with two signatures, ``a_to_b`` (G) and ``b_to_a`` (F); each
takes ``images``: float32 ``[?, r, r, 3]`` in [0, 1] and returns ``images`` of the same shape in
[0, 1], running its generator in inference mode (U-Net dropout off) with the weights baked in
as constants (:func:`progan_tf.training.export.frozen_function`).  Beside it:
``generator_ab.keras``, ``generator_ba.keras`` and ``metadata.json`` (``"arch": "cyclegan"``,
``"kind": "translator"``, the resolution, what the domains are -- ``"domains": {"a", "b",
"rule"}`` -- and, for a run's export, the training command).  The discriminators stay in the
run's checkpoints: a translator does not need them, and the bundled weights ship smaller.

:func:`progan_tf.translators.load_translator` reads it (``.a_to_b(images)``,
``.b_to_a(images)``); ``load_generator`` refuses it in one line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.cyclegan.config import ARCH
from progan_tf.pixels import from_signed_unit
from progan_tf.training import export as mechanics

__all__ = ["SIGNATURES", "export_run", "export_translators", "serving_function"]

SIGNATURES = ("a_to_b", "b_to_a")
"""The export's signatures: G (A -> B) and F (B -> A)."""


def serving_function(generator: Any) -> Any:
    """A signature: pictures in [0, 1] -> translated pictures in [0, 1], weights as constants."""
    side = generator.resolution
    spec = tf.TensorSpec([None, side, side, 3], tf.float32, name="images")
    signed = mechanics.frozen_function(
        generator, spec, lambda images: {"images": from_signed_unit(tf.cast(images, tf.float32))})

    @tf.function(input_signature=[spec])
    def serve(images: Any) -> dict:
        return signed(images * 2.0 - 1.0)

    return serve


def export_translators(generator_ab: Any, generator_ba: Any, out_dir: str | os.PathLike,
                       metadata: dict | None = None, overwrite: bool = False,
                       protect: tuple = ()) -> Path:
    """Write a CycleGAN's G (A -> B) and F (B -> A) to ``out_dir`` as one translator folder.

    Args:
        generator_ab: G, from :func:`~progan_tf.cyclegan.networks.make_generator`.
        generator_ba: F, of the same size.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        metadata: Extra entries for ``metadata.json`` (a run's: ``dataset``, ``config``, ...;
            ``domains`` is taken from ``dataset`` when not given).
        overwrite: Replace an earlier export (only that; default ``False``).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> from progan_tf.cyclegan.networks import make_generator
    >>> from progan_tf.training.export import is_export
    >>> g, f = (make_generator(resolution=16, width=4, blocks=1) for _ in range(2))
    >>> is_export(export_translators(g, f, Path(tempfile.mkdtemp()) / "export"))
    True
    """
    metadata = dict(metadata or {})
    resolution = generator_ab.resolution
    config = metadata.get("config") or {}
    domains = (metadata.get("dataset") or {}).get("domains") or {"a": "A", "b": "B",
                                                                  "rule": "unknown"}
    info = {
        "arch": ARCH, "kind": "translator", "resolution": resolution,
        "image_shape": [resolution, resolution, 3], "crop": config.get("crop", "center"),
        "generator": type(generator_ab).__name__,
        "domains": {key: domains.get(key) for key in ("a", "b", "rule")},
        "signatures": {name: {"input": "images", "output": "images",
                              "input_range": [0.0, 1.0], "output_range": [0.0, 1.0]}
                       for name in SIGNATURES},
        **metadata}

    def fill(folder: Path) -> None:
        module = tf.Module(name="progan_tf_cyclegan")
        module.a_to_b = serving_function(generator_ab)
        module.b_to_a = serving_function(generator_ba)
        tf.saved_model.save(module, str(folder),
                            signatures={"a_to_b": module.a_to_b, "b_to_a": module.b_to_a})
        generator_ab.save(folder / "generator_ab.keras")
        generator_ba.save(folder / "generator_ba.keras")
        mechanics.write_metadata(folder, info)

    return mechanics.write_export(out_dir, fill, overwrite, protect)


def export_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False,
               allow_fade_in: bool = False) -> Path:
    """Export both generators of the newest checkpoint of a CycleGAN run (``progan-tf export``).

    See :meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.export_run` for the
    arguments and errors (another family's run is refused in one line).
    """
    from progan_tf.cyclegan.family import CYCLEGAN_FAMILY  # the family exports through here

    return CYCLEGAN_FAMILY.export_run(run_dir, out_dir, metrics=metrics, overwrite=overwrite,
                                      allow_fade_in=allow_fade_in)
