"""Load a super-resolution model and enlarge pictures with it: :func:`load_upscaler`.

An upscaler is what ``progan-tf train --arch srgan`` exports (:mod:`progan_tf.srgan`): it takes
RGB pictures of any size in [0, 1] and returns them :attr:`Upscaler.scale` times larger.  It
was trained on *faces*, 16x16 -> 64x64 crops of CelebA: on other photos it still sharpens edges
(all it learned is local), but it invents face-like texture where a face's detail would be,
and it has never seen text, foliage or large flat areas -- compare with bicubic before
trusting it.

Any photo, any size
-------------------
The generator is fully convolutional, so a picture is enlarged as a whole when it is small
(both sides at most :attr:`Upscaler.tile` pixels).  A larger picture is cut into tiles of
``tile`` x ``tile`` pixels, each enlarged with ``margin`` pixels of its surroundings (mirrored
at the picture's edges) that are then cut away, so the seams do not show: the network's
receptive field is smaller than the margin, and every output pixel sees what it would see in
one piece.  Memory stays that of one tile.  A picture of more than ``max_pixels`` input pixels
(:data:`~progan_tf.constants.UPSCALER_MAX_PIXELS`, 1024 x 1024, by default) is *refused* in one
line rather than tiled: its 4x result (16.8 million pixels and more) is larger than any screen
or notebook shows, takes minutes on a CPU, and is almost always a mistake (shrink the photo,
or pass a larger ``max_pixels`` on purpose).

Grey pictures are enlarged as RGB; transparent ones are laid on white first, as
:func:`progan_tf.load_image` does.

Example:
>>> load_upscaler("bundled")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
progan_tf.errors.ModelLoadError: 'bundled' is a generator (latents -> images), not an upscaler...
"""

from __future__ import annotations

import importlib.resources
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.constants import (
    BUNDLED,
    BUNDLED_DCGAN,
    BUNDLED_SRGAN,
    KAGGLE_PREFIX,
    UPSCALER_MAX_PIXELS,
)
from progan_tf.errors import ImageLoadError, ModelLoadError

__all__ = ["BUNDLED_SRGAN", "Upscaler", "bicubic", "bundled_srgan_folder", "comparison_panels",
           "load_upscaler", "model_label", "upscale_photo", "upscaler_from_generator"]

_ADVICE = (f"pass {BUNDLED_SRGAN!r} or a folder exported from a 'progan-tf train --arch srgan' "
           f"run ('progan-tf export RUN DIR')")


class Upscaler:
    """Enlarges pictures ``scale`` times: ``upscaler(images)`` -> pictures in [0, 1].

    Args:
        function: Maps float32 ``[N, H, W, 3]`` in [0, 1] to ``[N, scale*H, scale*W, 3]``.
        scale: The enlargement.
        metadata: What the export recorded (``{}`` for a network in memory).
        handle: Where it was loaded from, for messages.
        tile: Pictures with a side above this are enlarged in tiles of this side (input px).
        margin: Input pixels of context around each tile, cut away afterwards.

    Example:
    >>> nearest = Upscaler(lambda x: np.repeat(np.repeat(x, 2, 1), 2, 2), scale=2)
    >>> nearest(np.zeros((3, 5, 3), "uint8")).shape
    (6, 10, 3)
    """

    def __init__(self, function: Callable[[Any], Any], scale: int, metadata: dict | None = None,
                 handle: str = "<in memory>", tile: int = 128, margin: int = 16) -> None:
        self.function = function
        self.scale = int(scale)
        self.metadata = dict(metadata or {})
        self.handle = handle
        self.tile, self.margin = int(tile), int(margin)

    def __repr__(self) -> str:
        return f"Upscaler({self.handle!r}, scale={self.scale})"

    def __call__(self, images: Any, max_pixels: int = UPSCALER_MAX_PIXELS) -> np.ndarray:
        """Enlarge one picture ``[H, W, C]`` (or ``[H, W]``) or a batch ``[N, H, W, C]``.

        Args:
            images: uint8, or float in [0, 1]; 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
                channels.
            max_pixels: Refuse pictures of more input pixels than this.

        Returns:
            float32 RGB in [0, 1], ``scale`` times larger; one picture for one picture.

        Raises:
            ImageLoadError: not a picture (wrong rank, channels, values), empty, or larger
                than ``max_pixels``.
        """
        batch, single = _as_batch(images)
        height, width = batch.shape[1:3]
        if height * width > max_pixels:
            raise ImageLoadError(
                f"a {width}x{height} picture is too large to upscale ({height * width:,} "
                f"pixels, more than {max_pixels:,}; {self.scale}x would make "
                f"{width * self.scale}x{height * self.scale}); shrink it first, or pass a "
                f"larger max_pixels on purpose")
        out = np.stack([self._one(image) for image in batch])
        return out[0] if single else out

    def _run(self, pixels: np.ndarray) -> np.ndarray:
        result = self.function(pixels[None].astype(np.float32))
        return np.clip(np.asarray(result, dtype=np.float32)[0], 0.0, 1.0)

    def _one(self, image: np.ndarray) -> np.ndarray:
        """One picture, whole when small, else in tiles with a margin of context."""
        height, width = image.shape[:2]
        if height <= self.tile and width <= self.tile:
            return self._run(image)
        m, s = self.margin, self.scale
        mode = "reflect" if min(height, width) > m else "edge"
        padded = np.pad(image, ((m, m), (m, m), (0, 0)), mode=mode)
        out = np.empty((height * s, width * s, 3), np.float32)
        for top in range(0, height, self.tile):
            for left in range(0, width, self.tile):
                bottom, right = min(top + self.tile, height), min(left + self.tile, width)
                piece = self._run(padded[top:bottom + 2 * m, left:right + 2 * m])
                out[top * s:bottom * s, left * s:right * s] = \
                    piece[m * s:(m + bottom - top) * s, m * s:(m + right - left) * s]
        return out


def _as_batch(images: Any) -> tuple[np.ndarray, bool]:
    """float32 RGB ``[N, H, W, 3]`` in [0, 1], and whether one picture was given."""
    try:
        pixels = np.asarray(images)
    except (TypeError, ValueError) as error:
        raise ImageLoadError(f"cannot read the pictures to upscale as an array ({error})") from None
    if pixels.dtype == np.uint8:
        pixels = pixels.astype(np.float32) / 255.0
    elif pixels.dtype.kind == "f":
        pixels = pixels.astype(np.float32)
        if pixels.size and (not np.isfinite(pixels).all() or pixels.min() < -1e-3
                            or pixels.max() > 1 + 1e-3):
            raise ImageLoadError("pictures to upscale must be uint8 or float in [0, 1]. "
                                 f"Received: values from {np.nanmin(pixels):.3g} to "
                                 f"{np.nanmax(pixels):.3g}")
        pixels = np.clip(pixels, 0.0, 1.0)
    else:
        raise ImageLoadError(f"pictures to upscale must be uint8 or float in [0, 1]. "
                             f"Received: dtype={pixels.dtype}")
    single = pixels.ndim in (2, 3)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim == 3:
        pixels = pixels[None]
    if pixels.ndim != 4 or pixels.shape[-1] not in (1, 2, 3, 4):
        raise ImageLoadError(f"an upscaler takes a picture [H, W, C] or a batch [N, H, W, C] "
                             f"with 1-4 channels. Received: shape={tuple(np.shape(images))}")
    if 0 in pixels.shape:
        raise ImageLoadError(f"there is nothing to upscale: an empty picture. Received: "
                             f"shape={tuple(np.shape(images))}")
    if pixels.shape[-1] in (2, 4):  # transparency: on white, as load_image does
        alpha = pixels[..., -1:]
        pixels = pixels[..., :-1] * alpha + (1.0 - alpha)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels, single


def bundled_srgan_folder() -> Any:
    """Where the bundled SRGAN (``"bundled-srgan"``) lives inside the package; may not exist.

    Example:
    >>> bundled_srgan_folder().name
    'srgan'
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "srgan")


def _folder(handle: str) -> Path:
    """The export folder of ``handle``, or a one-line error saying what it is instead."""
    if handle == BUNDLED_SRGAN:
        folder = bundled_srgan_folder()
        if not folder.joinpath("saved_model.pb").is_file():
            raise ModelLoadError(
                f"{BUNDLED_SRGAN!r}: this version of progan-tf ships no SRGAN weights yet (no "
                f"{folder}); train one with 'progan-tf train DATA --arch srgan', export it with "
                f"'progan-tf export RUN DIR' and pass DIR")
        return Path(str(folder))
    if handle in (BUNDLED, BUNDLED_DCGAN) or handle.startswith(("http://", "https://",
                                                                KAGGLE_PREFIX)):
        raise ModelLoadError(f"{handle!r} is a generator (latents -> images), not an upscaler; "
                             f"load it with load_generator, or {_ADVICE}")
    path = Path(handle).expanduser()
    if not path.exists():
        raise ModelLoadError(f"{handle!r} is not an existing folder; {_ADVICE}")
    if not path.is_dir():
        raise ModelLoadError(f"{handle!r} is a file, not an export folder; {_ADVICE}")
    try:
        metadata = json.loads((path / "metadata.json").read_text())
    except (OSError, ValueError):
        metadata = None
    arch = metadata.get("arch", "progan") if isinstance(metadata, dict) else None
    if arch != "srgan":
        what = (f"a {arch} generator export (latents -> images)" if arch
                else "not a progan-tf export (no readable metadata.json)")
        raise ModelLoadError(f"{handle!r} is {what}, not an upscaler; {_ADVICE}")
    return path


def load_upscaler(handle: str | os.PathLike | Upscaler = BUNDLED_SRGAN) -> Upscaler:
    """Load a super-resolution model: ``"bundled-srgan"`` or an SRGAN export folder.

    Args:
        handle: ``"bundled-srgan"`` (shipped inside the package), a folder written by
            ``progan-tf export`` from an SRGAN run, or an :class:`Upscaler` (returned as is).

    Returns:
        An :class:`Upscaler`: ``.scale`` and ``upscaler(images)`` -> images in [0, 1].

    Raises:
        ModelLoadError: in one line, for a handle that is not an upscaler (a generator's, a
            missing folder, the bundled weights not shipped yet).
    """
    if isinstance(handle, Upscaler):
        return handle
    if not isinstance(handle, (str, os.PathLike)):
        raise ModelLoadError(f"an upscaler handle is a string or a folder. Received: "
                             f"{type(handle).__name__}")
    folder = _folder(os.fspath(handle))
    import tensorflow as tf

    metadata = json.loads((folder / "metadata.json").read_text())
    try:
        signature = tf.saved_model.load(str(folder)).signatures["default"]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the upscaler in {str(folder)!r} "
                             f"({type(error).__name__}); export it again") from None

    def function(images: Any) -> Any:
        return signature(default=tf.constant(images))["default"].numpy()

    return Upscaler(function, metadata.get("scale", 4), metadata, handle=os.fspath(handle))


def upscaler_from_generator(generator: Any, scale: int = 4) -> Upscaler:
    """An :class:`Upscaler` from an SRResNet generator in memory (e.g. one just trained).

    Args:
        generator: A Keras network mapping low-res pictures in [-1, 1] to ``scale`` times
            larger ones in [-1, 1] (:func:`progan_tf.srgan.build_generator`).
        scale: Its enlargement.

    Returns:
        The upscaler (batch norm in inference mode).
    """
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(images: Any) -> Any:
        return generator(images * 2.0 - 1.0, training=False) * 0.5 + 0.5

    return Upscaler(lambda images: run(tf.constant(images)).numpy(), scale,
                    handle=f"<{getattr(generator, 'name', 'generator')} in memory>")


# ---------------------------------------------------------------------------------------------
# The course's comparison: low-res | bicubic | SRGAN (| original)
# ---------------------------------------------------------------------------------------------


def bicubic(images: Any, scale: int) -> np.ndarray:
    """``[..., H, W, 3]`` in [0, 1] enlarged ``scale`` times by bicubic interpolation, clipped.

    Example:
    >>> bicubic(np.zeros((2, 3, 3)), 4).shape
    (8, 12, 3)
    """
    import tensorflow as tf

    pixels = np.asarray(images, np.float32)
    size = [pixels.shape[-3] * scale, pixels.shape[-2] * scale]
    return np.clip(tf.image.resize(pixels, size, method="bicubic").numpy(), 0.0, 1.0)


def model_label(upscaler: Upscaler) -> str:
    """``"SRResNet"`` for a content-only export, else ``"SRGAN"``."""
    config = getattr(upscaler, "metadata", {}).get("config", {})
    return "SRResNet" if config.get("content_only") else "SRGAN"


def comparison_panels(upscaler: Upscaler, photo: Any,
                      shrink: int | None = None) -> tuple[dict, dict, list]:
    """The pictures of the course's figure, and the same enlarged to one height with labels.

    Args:
        upscaler: An :class:`Upscaler`.
        photo: float ``[H, W, 3]`` in [0, 1] (:func:`progan_tf.load_image`).
        shrink: Shrink the photo this many times first (area filter), so that the original
            can be shown beside the result (default ``None``: enlarge the photo itself).

    Returns:
        ``(pictures, labels, panels)``: ``{name: picture at its own size}`` for the names
        ``lowres``, ``bicubic``, ``srgan`` (and ``original``), ``{name: label}``, and the
        pictures enlarged to the result's size (low-res with sharp pixels), in that order.

    Raises:
        ImageLoadError: the photo is smaller than ``shrink`` pixels, or too large to upscale.
    """
    from progan_tf.display import enlarge
    from progan_tf.images import area_resize

    scale = upscaler.scale
    photo = np.asarray(photo, np.float32)
    original = None
    if shrink:
        height, width = (photo.shape[0] // shrink) * shrink, (photo.shape[1] // shrink) * shrink
        if not height or not width:
            raise ImageLoadError(f"a {photo.shape[1]}x{photo.shape[0]} photo cannot be shrunk "
                                 f"{shrink} times; pass a larger photo or a smaller --scale")
        original = photo[:height, :width]
        low = area_resize(original, (height // shrink, width // shrink))
    else:
        low = photo
    result = upscaler(low)
    h, w = low.shape[:2]
    name = model_label(upscaler)
    pictures = {"lowres": low, "bicubic": bicubic(low, scale), "srgan": result}
    labels = {"lowres": f"low-res {w}x{h} (shown {scale}x)", "bicubic": f"bicubic {scale}x",
              "srgan": f"{name} {scale}x"}
    panels = [enlarge(low, scale), pictures["bicubic"], result]
    if original is not None:
        pictures["original"] = original
        labels["original"] = f"original {original.shape[1]}x{original.shape[0]}"
        shown = original if original.shape[:2] == result.shape[:2] \
            else area_resize(original, result.shape[:2])
        panels.append(shown)
    return pictures, labels, panels


def upscale_photo(photo: Any, handle: str | os.PathLike | Upscaler, out_dir: str | os.PathLike,
                  shrink: int | None = None, zoom: int | None = None) -> tuple[list, list]:
    """``progan-tf upscale``: the pictures of :func:`comparison_panels`, saved, and labelled.

    Writes ``lowres.png``, ``bicubic.png``, ``srgan.png`` (and ``original.png``) at their own
    sizes and ``comparison.png``: them side by side, labelled, enlarged by a whole factor
    (``zoom``; default: at least 128 px tall).  Every file is written atomically, and only
    after the upscaling succeeded.

    Args:
        photo: Anything :func:`progan_tf.load_image` reads (grey and transparent pictures too).
        handle: For :func:`load_upscaler`.
        out_dir: The output folder (created if missing).
        shrink: Shrink the photo this many times first, so that the original is shown too.
        zoom: The whole enlargement of ``comparison.png`` (default ``None``: automatic).

    Returns:
        ``(file names written, labels of the panels)``.
    """
    from progan_tf.display import labelled_panels, zoom_factor
    from progan_tf.images import load_image, save_image

    upscaler = load_upscaler(handle)
    pictures, labels, panels = comparison_panels(upscaler, load_image(photo, crop=None),
                                                 shrink=shrink)
    comparison = labelled_panels(panels, list(labels.values()),
                                 zoom=zoom_factor(panels[0].shape[:2], zoom))
    out = Path(out_dir).expanduser()
    for name, picture in pictures.items():
        save_image(picture, out / f"{name}.png")
    save_image(comparison, out / "comparison.png")
    return [f"{name}.png" for name in pictures] + ["comparison.png"], list(labels.values())
