"""Image-to-image translators: load a Pix2Pix export and turn prepared pictures into pictures.

:func:`load_translator` takes a handle -- ``"bundled-pix2pix"`` (the model shipped with
progan-tf, trained on faces) or a folder written by ``progan-tf export`` from a Pix2Pix run --
and returns a :class:`Translator`:

* ``translator.prepare(photo)`` makes the model's input from a photo exactly as training made
  it: framed and resized to the model's size, then (for a model trained on photos) sketched:
  inverted Canny edges plus a few dots of the photo's colours
  (:func:`progan_tf.pix2pix.sketch.sketch`);
* ``translator(inputs)`` runs the generator: one picture ``[r, r, 3]`` or a batch
  ``[N, r, r, 3]`` in [0, 1] (or uint8) to pictures of the same shape in [0, 1].

A generator's handle (``"bundled"``, progan-128, a DCGAN export) is refused in one line: it
makes pictures from latents, not from pictures -- load it with ``load_generator``.

Example:
>>> load_translator("bundled")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
progan_tf.errors.ModelLoadError: 'bundled' is a generator (latents -> images), not a translator; ...
"""

from __future__ import annotations

import importlib.resources
import json
import os
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.constants import BUNDLED, BUNDLED_DCGAN, BUNDLED_PIX2PIX, KAGGLE_PREFIX
from progan_tf.cycle_translators import is_cycle_handle, load_cycle_translator
from progan_tf.errors import ImageLoadError, ModelLoadError
from progan_tf.pixels import as_image, as_images, to_uint8

__all__ = ["BUNDLED_PIX2PIX", "Translator", "bundled_pix2pix_folder", "load_translator"]

_GENERATOR_HANDLES = (BUNDLED, BUNDLED_DCGAN)


def bundled_pix2pix_folder() -> Traversable:
    """Where the bundled translator (``"bundled-pix2pix"``) lives inside the installed package.

    Example:
    >>> bundled_pix2pix_folder().name
    'pix2pix'
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "pix2pix")


def _not_a_translator(handle: str, why: str) -> ModelLoadError:
    return ModelLoadError(f"{handle!r} is a generator (latents -> images), not a translator; "
                          f"{why}load it with load_generator({handle!r}), or pass "
                          f"{BUNDLED_PIX2PIX!r} or a Pix2Pix export folder to load_translator")


def _folder(handle: Any) -> Path:
    """The export folder a handle names, or a one-line ModelLoadError."""
    if not isinstance(handle, (str, os.PathLike)):
        raise ModelLoadError(f"a translator handle is {BUNDLED_PIX2PIX!r} or a folder written "
                             f"by 'progan-tf export'. Received: handle={handle!r}")
    text = str(handle)
    if text == BUNDLED_PIX2PIX:
        folder = bundled_pix2pix_folder()
        if not folder.joinpath("saved_model.pb").is_file():
            raise ModelLoadError(
                f"{BUNDLED_PIX2PIX!r}: this version of progan-tf ships no Pix2Pix weights yet "
                f"(no folder {folder}); train one with 'progan-tf train PHOTOS --arch pix2pix' "
                f"and pass its export folder")
        return Path(str(folder))
    if text in _GENERATOR_HANDLES or text.startswith(("http://", "https://", KAGGLE_PREFIX)):
        raise _not_a_translator(text, "")
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise ModelLoadError(f"no translator at {text!r}: not a folder; pass "
                             f"{BUNDLED_PIX2PIX!r} or a folder written by 'progan-tf export' "
                             f"from a Pix2Pix run")
    return folder


def _metadata(folder: Path, handle: str) -> dict:
    if not (folder / "saved_model.pb").is_file():
        raise ModelLoadError(f"no translator at {handle!r}: the folder holds no saved_model.pb; "
                             f"pass a folder written by 'progan-tf export' from a Pix2Pix run")
    try:
        metadata = json.loads((folder / "metadata.json").read_text())
    except FileNotFoundError:
        raise _not_a_translator(handle, "it has no metadata.json of a Pix2Pix export; ") from None
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"cannot read {str(folder / 'metadata.json')!r} ({error}); "
                             f"export the run again") from None
    if not isinstance(metadata, dict) or metadata.get("arch") != "pix2pix":
        arch = metadata.get("arch", "progan") if isinstance(metadata, dict) else "unknown"
        raise _not_a_translator(handle, f"its export says arch {arch!r}; ")
    return metadata


class Translator:
    """A Pix2Pix generator, loaded: ``prepare`` a photo, then call it on the prepared input.

    Attributes:
        resolution: The side of the pictures it takes and makes.
        metadata: The export's ``metadata.json``.
        preparation: How :meth:`prepare` makes an input (``metadata["preparation"]``).
        handle: What it was loaded from.

    Example:
    >>> translator = load_translator("exports/pix2pix")             # doctest: +SKIP
    >>> sketch = translator.prepare("face.jpg")                      # doctest: +SKIP
    >>> face = translator(sketch)                                    # doctest: +SKIP
    """

    def __init__(self, function: Any, metadata: dict, handle: str) -> None:
        self.function, self.metadata, self.handle = function, metadata, handle
        self.resolution = int(metadata["resolution"])
        self.preparation = metadata.get("preparation") or {"kind": "paired"}
        self.crop = metadata.get("crop", "center")

    def __repr__(self) -> str:
        return (f"Translator({self.handle!r}, {self.resolution}x{self.resolution}, "
                f"input: {self.preparation['kind']})")

    def frame(self, photo: Any) -> np.ndarray:
        """``photo`` framed and resized as training framed its pictures: float32 ``[r, r, 3]``.

        ``photo`` is anything :func:`progan_tf.load_image` reads (a path, a URL, an array,
        grey or transparent pictures included); the framing is the training folder's
        (:func:`progan_tf.pix2pix.sketch.frame`), so a training photo gives its training pair.
        """
        from progan_tf.pix2pix.sketch import frame  # the training code: same framing

        return frame(photo, self.resolution, self.crop).astype(np.float32) / 255.0

    def prepare(self, photo: Any, seed: int = 0) -> np.ndarray:
        """The model's input made from ``photo``, as in training: float32 ``[r, r, 3]`` in [0, 1].

        Args:
            photo: Anything :func:`progan_tf.load_image` reads.
            seed: Where the colour dots go (a model trained on sketches; same seed, same dots).

        Returns:
            The sketch (inverted edges and colour dots) of the framed photo, or, for a model
            trained on given pairs, the framed photo itself.

        Raises:
            ImageLoadError: The photo cannot be read.
        """
        framed = self.frame(photo)
        if self.preparation["kind"] != "sketch":
            return framed
        from progan_tf.pix2pix.sketch import sketch  # the training code: same sketch

        drawn = sketch(to_uint8(framed), hints=self.preparation.get("hints"), seed=seed,
                       radius=self.preparation.get("radius"))
        return drawn.astype(np.float32) / 255.0

    def __call__(self, inputs: Any) -> np.ndarray:
        """Translate prepared inputs: ``[r, r, 3]`` or ``[N, r, r, 3]`` -> the same shape in [0, 1].

        Grey (one channel) and transparent (four) inputs are read as RGB on white.

        Raises:
            ImageLoadError: The inputs are not pictures of the model's size.
        """
        pixels = np.asarray(inputs)
        single = pixels.ndim in (2, 3) and not (pixels.ndim == 3 and pixels.shape[-1] > 4)
        batch = [as_image(pixels, "inputs")] if single else as_images(pixels)
        wrong = [image.shape[:2] for image in batch
                 if image.shape[:2] != (self.resolution, self.resolution)]
        if wrong or not batch:
            raise ImageLoadError(
                f"this translator takes {self.resolution}x{self.resolution} pictures (what "
                f".prepare(photo) returns). Received: shape={tuple(pixels.shape)}")
        import tensorflow as tf

        outputs = self.function(tf.constant(np.stack(batch), tf.float32))["default"].numpy()
        return outputs[0] if single else outputs


def load_translator(handle: str | os.PathLike = BUNDLED_PIX2PIX) -> Translator:
    """Load a Pix2Pix translator (or a CycleGAN's pair of them).

    Args:
        handle: ``"bundled-pix2pix"`` (the default), or a folder written by ``progan-tf
            export`` (or :func:`progan_tf.pix2pix.export_run`) from a Pix2Pix run; or
            ``"bundled-cyclegan"`` or a CycleGAN run's export.

    Returns:
        A :class:`Translator`; for a CycleGAN handle a
        :class:`~progan_tf.cycle_translators.CycleTranslator` (``.a_to_b``, ``.b_to_a``).

    Raises:
        ModelLoadError: in one line -- the bundled weights are not shipped in this version,
            the folder is missing or not an export, or the handle is a generator's.
    """
    if is_cycle_handle(handle):
        return load_cycle_translator(handle)
    folder = _folder(handle)
    metadata = _metadata(folder, str(handle))
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(folder))
        function = loaded.signatures["default"]
    except (OSError, ValueError, KeyError) as error:
        raise ModelLoadError(f"cannot load the translator at {str(handle)!r} "
                             f"({type(error).__name__}); export the run again") from None
    translator = Translator(function, metadata, str(handle))
    translator.module = loaded  # keeps the signature's object alive
    return translator
