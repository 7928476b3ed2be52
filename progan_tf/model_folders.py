"""Local model folders: is this a SavedModel folder a generator loads from, and if not, why not.

:mod:`progan_tf.loading` resolves a handle to a folder (a download, the bundled model, a path
the user gave) and loads it; this module checks a local folder before it is loaded, so that
each mistake ends in one line that says what to pass instead: a file instead of its folder, an
interrupted TF Hub download, a folder that holds the model one level down, or one of this
package's own exports that is not a generator (a Pix2Pix translator, an SRGAN upscaler).
Standard library only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from progan_tf.errors import ModelLoadError

__all__ = ["SAVED_MODEL_FILES", "checked_folder", "looks_like_hub_download",
           "refuse_other_kinds"]

SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
"""The files that make a folder a SavedModel."""


def checked_folder(path: Path) -> str:
    """The SavedModel folder ``path`` names, as a string; anything else explained in one line.

    Args:
        path: A folder, or its ``saved_model.pb``.

    Returns:
        The folder that holds ``saved_model.pb``.

    Raises:
        ModelLoadError: for a file that is not ``saved_model.pb``, a folder without one, an
            interrupted TF Hub download, or an export of this package that is not a generator.
    """
    if path.is_file():
        if path.name in SAVED_MODEL_FILES:
            return checked_folder(path.parent)
        suffix = "".join(path.suffixes[-2:]).lower()
        if suffix.endswith((".keras", ".h5")):
            advice = ("Keras model files are not supported yet; save the generator as a "
                      "SavedModel (progan-tf export) and pass that folder")
        elif suffix.endswith((".tar.gz", ".tgz", ".tar")):
            advice = "extract the archive (tar -xzf) and pass the folder that holds saved_model.pb"
        else:
            advice = "pass the folder that holds saved_model.pb"
        raise ModelLoadError(f"{str(path)!r} is a file, not a model folder; {advice}")
    if any((path / name).is_file() for name in SAVED_MODEL_FILES):
        refuse_other_kinds(path)
        return str(path)
    if looks_like_hub_download(path):
        raise ModelLoadError(
            f"{str(path)!r} looks like an interrupted TF Hub download (no saved_model.pb); "
            f"delete that folder and load the model again")
    nested = sorted(str(p.parent) for p in path.glob("*/saved_model.pb"))
    hint = f"; did you mean {nested[0]!r}?" if nested else ""
    raise ModelLoadError(
        f"{str(path)!r} is not a SavedModel folder (it has no saved_model.pb); pass the folder "
        f"that holds saved_model.pb, a TF Hub URL, or 'bundled'{hint}")


_OTHER_KINDS = {"pix2pix": ("a Pix2Pix translator", "load_translator", "progan-tf translate"),
                "srgan": ("an SRGAN upscaler", "load_upscaler", "progan-tf upscale"),
                "cyclegan": ("a CycleGAN translator", "load_translator",
                             "progan-tf translate --direction")}
"""Exports of our own that are SavedModels but not generators: ``metadata["arch"]`` -> (what it
is, the function that loads it, the command that uses it)."""


def refuse_other_kinds(path: Path) -> None:
    """Refuses our own exports of image-to-image models, which take pictures, not latents.

    Their serving signatures would fail later with a shape error that names no cause; their
    ``metadata.json`` says what they are. A folder without (readable) metadata is left to load.
    """
    try:
        arch = json.loads((path / "metadata.json").read_text(encoding="utf-8")).get("arch")
    except (OSError, ValueError, AttributeError):
        return
    if arch in _OTHER_KINDS:
        what, loader, command = _OTHER_KINDS[arch]
        raise ModelLoadError(f"{str(path)!r} is {what}: it turns pictures into pictures, not "
                             f"latents into images; load it with {loader}() or use "
                             f"'{command}'")


def looks_like_hub_download(path: Path) -> bool:
    """TF Hub caches each model in a folder named by the SHA-1 of its URL, beside a descriptor."""
    return (re.fullmatch(r"[0-9a-f]{40}", path.name) is not None
            or Path(f"{path}.descriptor.txt").exists() or Path(f"{path}.lock").exists())
