"""CycleGAN translators: load an export of both generators and translate either way.

:func:`progan_tf.translators.load_translator` hands a CycleGAN handle here --
``"bundled-cyclegan"`` (dark hair <-> fair hair, shipped with progan-tf once trained) or a
folder written by ``progan-tf export`` from a CycleGAN run -- and returns a
:class:`CycleTranslator`:

* ``translator.a_to_b(images)`` runs G (A -> B), ``translator.b_to_a(images)`` runs F
  (B -> A): one picture ``[r, r, 3]`` or a batch ``[N, r, r, 3]`` in [0, 1] (or uint8; grey and
  transparent pictures are read as RGB on white) to pictures of the same shape in [0, 1], as
  :class:`progan_tf.translators.Translator` does;
* ``translator.frame(photo)`` frames and resizes a photo as training framed its pictures;
* ``translator.domains``: what A and B are, and the rule that made them.

There is nothing to prepare: a CycleGAN translates pictures of its domain as they are.

Example:
>>> is_cycle_handle("bundled-cyclegan"), is_cycle_handle("bundled-pix2pix")
(True, False)
"""

from __future__ import annotations

import importlib.resources
import json
import os
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.constants import BUNDLED_CYCLEGAN, CYCLEGAN_ARCH
from progan_tf.errors import ImageLoadError, ModelLoadError
from progan_tf.pixels import as_image, as_images

__all__ = ["BUNDLED_CYCLEGAN", "CycleTranslator", "bundled_cyclegan_folder", "is_cycle_handle",
           "load_cycle_translator"]

TRAIN_ADVICE = ("train one with 'progan-tf train FACES --arch cyclegan --domains hair' (or on "
                "DATA/A and DATA/B) and pass its export folder")
"""What to do while no CycleGAN weights are shipped."""


def bundled_cyclegan_folder() -> Traversable:
    """Where ``"bundled-cyclegan"`` lives inside the installed package.

    Example:
    >>> bundled_cyclegan_folder().name
    'cyclegan'
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "cyclegan")


def _export_arch(folder: Path) -> str | None:
    try:
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return metadata.get("arch") if isinstance(metadata, dict) else None


def is_cycle_handle(handle: Any) -> bool:
    """Whether ``handle`` names a CycleGAN translator: ``"bundled-cyclegan"`` or its export.

    Standard library only: the command line asks before TensorFlow starts.
    """
    if not isinstance(handle, (str, os.PathLike)):
        return False
    if str(handle) == BUNDLED_CYCLEGAN:
        return True
    folder = Path(str(handle)).expanduser()
    return folder.is_dir() and _export_arch(folder) == CYCLEGAN_ARCH


def _folder(handle: Any) -> Path:
    if str(handle) == BUNDLED_CYCLEGAN:
        folder = bundled_cyclegan_folder()
        if not folder.joinpath("saved_model.pb").is_file():
            raise ModelLoadError(f"{BUNDLED_CYCLEGAN!r}: this version of progan-tf ships no "
                                 f"CycleGAN weights yet (no folder {folder}); {TRAIN_ADVICE}")
        return Path(str(folder))
    return Path(str(handle)).expanduser()


class CycleTranslator:
    """A CycleGAN's two generators, loaded: ``a_to_b`` and ``b_to_a``.

    Attributes:
        resolution: The side of the pictures it takes and makes.
        metadata: The export's ``metadata.json``.
        domains: ``{"a": ..., "b": ..., "rule": ...}``: what the two domains are.
        handle: What it was loaded from.

    Example:
    >>> translator = load_translator("bundled-cyclegan")             # doctest: +SKIP
    >>> fair = translator.a_to_b(translator.frame("dark-haired.jpg"))  # doctest: +SKIP
    >>> back = translator.b_to_a(fair)                                 # doctest: +SKIP
    """

    def __init__(self, functions: dict, metadata: dict, handle: str) -> None:
        self.functions, self.metadata, self.handle = functions, metadata, handle
        self.resolution = int(metadata["resolution"])
        self.crop = metadata.get("crop", "center")
        self.domains = metadata.get("domains") or {"a": "A", "b": "B", "rule": "unknown"}

    def __repr__(self) -> str:
        return (f"CycleTranslator({self.handle!r}, {self.resolution}x{self.resolution}, "
                f"A: {self.domains.get('a')}, B: {self.domains.get('b')})")

    def frame(self, photo: Any) -> np.ndarray:
        """``photo`` framed and resized as training framed its pictures: float32 ``[r, r, 3]``.

        ``photo`` is anything :func:`progan_tf.load_image` reads (a path, a URL, an array, grey
        or transparent pictures included).
        """
        from progan_tf.pix2pix.sketch import frame  # the training folder's framing

        return frame(photo, self.resolution, self.crop).astype(np.float32) / 255.0

    def a_to_b(self, images: Any) -> np.ndarray:
        """G: pictures of A -> pictures of B, ``[r, r, 3]`` or ``[N, r, r, 3]`` in [0, 1].

        Raises:
            ImageLoadError: The images are not pictures of the model's size.
        """
        return self._run("a_to_b", images)

    def b_to_a(self, images: Any) -> np.ndarray:
        """F: pictures of B -> pictures of A (as :meth:`a_to_b`)."""
        return self._run("b_to_a", images)

    def _run(self, name: str, images: Any) -> np.ndarray:
        pixels = np.asarray(images)
        single = pixels.ndim in (2, 3) and not (pixels.ndim == 3 and pixels.shape[-1] > 4)
        batch = [as_image(pixels, "images")] if single else as_images(pixels)
        wrong = [image.shape[:2] for image in batch
                 if image.shape[:2] != (self.resolution, self.resolution)]
        if wrong or not batch:
            raise ImageLoadError(
                f"this translator takes {self.resolution}x{self.resolution} pictures (what "
                f".frame(photo) returns). Received: shape={tuple(pixels.shape)}")
        import tensorflow as tf

        outputs = self.functions[name](images=tf.constant(np.stack(batch), tf.float32))
        outputs = outputs["images"].numpy()
        return outputs[0] if single else outputs


def load_cycle_translator(handle: str | os.PathLike = BUNDLED_CYCLEGAN) -> CycleTranslator:
    """Load a CycleGAN translator (what ``load_translator`` does with a CycleGAN handle).

    Args:
        handle: ``"bundled-cyclegan"`` or a folder exported from a CycleGAN run.

    Returns:
        A :class:`CycleTranslator`.

    Raises:
        ModelLoadError: in one line -- the bundled weights are not shipped in this version,
            or the folder is not a CycleGAN export or cannot be loaded.
    """
    folder = _folder(handle)
    if _export_arch(folder) != CYCLEGAN_ARCH or not (folder / "saved_model.pb").is_file():
        raise ModelLoadError(f"no CycleGAN translator at {str(handle)!r}: pass "
                             f"{BUNDLED_CYCLEGAN!r} or a folder written by 'progan-tf export' "
                             f"from a CycleGAN run")
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(folder))
        functions = {name: loaded.signatures[name] for name in ("a_to_b", "b_to_a")}
    except (OSError, ValueError, KeyError) as error:
        raise ModelLoadError(f"cannot load the translator at {str(handle)!r} "
                             f"({type(error).__name__}); export the run again") from None
    translator = CycleTranslator(functions, metadata, str(handle))
    translator.module = loaded  # keeps the signatures' object alive
    return translator
