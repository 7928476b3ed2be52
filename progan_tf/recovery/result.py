"""What a latent search returns, and how it is shown and written to disk.

:class:`RecoveryResult` holds the best latent, its image, the loss history and the search's
frames; it draws them (:meth:`~RecoveryResult.compare`, :meth:`~RecoveryResult.animate`) and
writes them (:meth:`~RecoveryResult.save`, the files named once in :data:`RESULT_FILES`). The
pictures meant for looking at -- ``comparison.png`` and ``search.gif`` -- are enlarged by a whole
factor (:func:`zoom_factor`) so that a small model's pixels stay sharp squares.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf import fileio
from progan_tf.errors import RecoveryError
from progan_tf.images import make_grid, save_image, show_side_by_side, to_uint8

__all__ = ["RESULT_FILES", "RecoveryResult", "labelled_comparison", "zoom_factor"]

RESULT_FILES = ("target.png", "recovered.png", "comparison.png", "search.gif", "latent.npy",
                "metrics.json")
"""The files :meth:`RecoveryResult.save` writes (``search.gif`` only if it recorded frames)."""

SHOWN_HEIGHT = 128  # zoom="auto" shows pictures at least this tall
MAX_SHOWN_SIDE = 8192
GRID_PADDING = 2  # make_grid's default padding
LABEL_MARGIN = 4


@dataclasses.dataclass(eq=False)
class RecoveryResult:
    """What :func:`~progan_tf.recovery.recover_latent` found, how it got there, how good it is.

    Attributes:
        latent: float32 ``[D]``: the latent with the lowest loss seen in any restart at any step.
        image: float32 ``[H, W, 3]`` in [0, 1]: the generator's image of ``latent``.
        target: float32 ``[H, W, 3]``: the target as the search saw it (resized, RGB).
        losses: ``[steps]``: the loss history of the restart that found ``latent``.
        loss_history: ``[steps, restarts]``: every restart's loss at every step (NaN after a
            NaN stop).
        frames: uint8 ``[n, H, W, 3]``: the winning restart's image every ``frames_every``
            steps, and ``image`` last (uint8 to save memory; empty if ``frames_every=None``).
        psnr: ``image`` against ``target`` in dB (``inf`` for identical images).
        ssim: ``image`` against ``target``.
        wall_time: Seconds the search took, including tracing the step if this search was the
            first with its options on this generator.
        steps_per_second: Optimisation steps (each over all restarts) per second.
        interrupted: True if the search was stopped with Ctrl-C / the notebook's stop button.
        stopped_reason: Why the search ended early (interrupt, NaN/inf loss), ``None`` if it
            ran to the end.
        best_restart: The restart where ``latent`` was found.
        best_step: The step where it was found (step 0 is the starting latent itself).
        best_loss: Its loss.
    """

    latent: np.ndarray
    image: np.ndarray
    target: np.ndarray
    losses: np.ndarray
    loss_history: np.ndarray
    frames: np.ndarray
    psnr: float
    ssim: float
    wall_time: float
    steps_per_second: float
    interrupted: bool = False
    stopped_reason: str | None = None
    best_restart: int = 0
    best_step: int = 0
    best_loss: float = math.nan

    def __repr__(self) -> str:
        status = f", stopped_reason={self.stopped_reason!r}" if self.stopped_reason else ""
        return (f"RecoveryResult(psnr={self.psnr:.2f} dB, ssim={self.ssim:.3f}, "
                f"best_loss={self.best_loss:.5g}, steps={len(self.loss_history)}, "
                f"restarts={self.loss_history.shape[1]}, wall_time={self.wall_time:.1f} s{status})")

    def similarity(self, latent: Any) -> float:
        """Cosine similarity between the recovered latent and ``latent`` (e.g. the true one).

        The right score for ProGAN latents, whose norm the generator ignores.

        Args:
            latent: ``[D]`` (or ``[1, D]``).

        Returns:
            The cosine, in [-1, 1].
        """
        from progan_tf.latents import cosine_similarity  # latents is not needed until here

        return float(cosine_similarity(self.latent, np.ravel(np.asarray(latent))))

    def compare(self) -> Any:
        """Shows target | recovered side by side (a matplotlib figure), pixels sharp.

        Matplotlib smooths images it scales up by less than 3x; small models' pixels are
        drawn as sharp squares instead, as in :meth:`save`'s ``comparison.png``.

        Returns:
            The figure.
        """
        figure = show_side_by_side([self.target, self.image],
                                   ["target", f"recovered ({format_psnr(self.psnr)})"])
        for axes in figure.axes:
            for picture in axes.images:
                picture.set_interpolation("nearest")
        return figure

    def animate(self, path: str | os.PathLike | None = None, fps: float = 10,
                display: bool = True, zoom: int | str | None = None) -> Path:
        """Writes the search as a GIF or MP4 (see :func:`progan_tf.animation.animate`).

        Args:
            path: Where to write (``.gif`` or ``.mp4``); ``None`` for a temporary file.
            fps: Frames per second.
            display: Show it inline in a notebook.
            zoom: Scale the frames up by this whole factor, each pixel a sharp square;
                ``None`` or ``"auto"`` picks the smallest factor that makes them at least
                128 pixels tall (4 for a 32x32 model, 1 for 128x128).

        Returns:
            The path written.

        Raises:
            RecoveryError: If the result has no frames or ``zoom`` is invalid.
        """
        from progan_tf.animation import animate  # imageio is imported only to animate

        factor = zoom_factor(zoom, self.target.shape[:2])
        if len(self.frames) == 0:
            raise RecoveryError("this result has no frames (frames_every=None); run "
                                "recover_latent with frames_every=5 to record the search")
        return animate(upscale(self.frames, factor), path, fps=fps, display=display)

    def save(self, directory: str | os.PathLike,
             zoom: int | str | None = None) -> dict[str, Path]:
        """Writes the files of :data:`RESULT_FILES` into ``directory``.

        ``target.png`` and ``recovered.png`` are the images themselves, at the model's
        resolution (they are data). ``comparison.png`` and ``search.gif`` are for looking at:
        scaled up by a whole factor with sharp pixels, and the comparison is labelled
        ("target", "recovered  PSNR 23.1 dB") in a strip above the images. ``latent.npy`` holds
        the latent and ``metrics.json`` what :meth:`metrics` returns.

        Every file is written atomically (a temporary file renamed into place), so an interrupted
        save never leaves a half-written file.

        Args:
            directory: The folder to write into (created if missing).
            zoom: The whole factor for ``comparison.png`` and ``search.gif``; ``None`` or
                ``"auto"`` picks the smallest that makes the images at least 128 pixels tall.

        Returns:
            What was written: file name -> path, in the order of :data:`RESULT_FILES`
            (``search.gif`` is left out when the result has no frames).

        Raises:
            RecoveryError: If ``zoom`` is invalid.
        """
        factor = zoom_factor(zoom, self.target.shape[:2])
        folder = Path(directory).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / name for name in RESULT_FILES}
        save_image(self.target, paths["target.png"])
        save_image(self.image, paths["recovered.png"])
        save_image(labelled_comparison([self.target, self.image],
                                       ["target", f"recovered  {format_psnr(self.psnr)}"],
                                       factor), paths["comparison.png"])
        if len(self.frames):
            self.animate(paths["search.gif"], display=False, zoom=factor)
        else:
            del paths["search.gif"]
        with fileio.open_atomic(paths["latent.npy"]) as file:
            np.save(file, self.latent)
        fileio.write_json(paths["metrics.json"], self.metrics())
        return paths

    def metrics(self) -> dict:
        """The numbers of this result as a JSON-ready dict (what ``save`` writes).

        Returns:
            PSNR, SSIM, the best loss and where it was found, the search's size and speed, and
            why it stopped; ``inf``/NaN become ``None`` (JSON has neither).
        """
        return {
            "psnr": _json_float(self.psnr), "ssim": _json_float(self.ssim),
            "best_loss": _json_float(self.best_loss), "best_restart": self.best_restart,
            "best_step": self.best_step, "steps": int(len(self.loss_history)),
            "restarts": int(self.loss_history.shape[1]),
            "latent_norm": float(np.linalg.norm(self.latent)),
            "wall_time": self.wall_time, "steps_per_second": _json_float(self.steps_per_second),
            "interrupted": self.interrupted, "stopped_reason": self.stopped_reason,
        }


def zoom_factor(zoom: int | str | None, image_size: Sequence[int]) -> int:
    """The whole factor by which pictures of ``image_size`` ``(height, width)`` are shown.

    Args:
        zoom: A positive int, or ``None`` / ``"auto"`` for the smallest factor that makes the
            images at least 128 pixels tall (32x32 -> 4, 100x100 -> 2, 128x128 -> 1).
        image_size: The images' ``(height, width)``.

    Returns:
        The factor, an int >= 1.

    Raises:
        RecoveryError: If ``zoom`` is not a positive int, None or "auto", or makes the images
            larger than 8192 pixels.

    Example:
    >>> zoom_factor(None, (32, 32)), zoom_factor("auto", (100, 100)), zoom_factor(3, (16, 16))
    (4, 2, 3)
    """
    height, width = (int(side) for side in image_size[:2])
    if zoom is None or (isinstance(zoom, str) and zoom.lower() == "auto"):
        return max(1, math.ceil(SHOWN_HEIGHT / height))
    if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or zoom < 1:
        raise RecoveryError(f"zoom must be a positive int, or None / 'auto' (images at least "
                            f"{SHOWN_HEIGHT} px tall), got {zoom!r}")
    largest = MAX_SHOWN_SIDE // max(height, width)
    if zoom > largest:
        raise RecoveryError(f"zoom={zoom} makes {height}x{width} images larger than "
                            f"{MAX_SHOWN_SIDE} px; use zoom <= {largest} or zoom='auto'")
    return int(zoom)


def labelled_comparison(images: Sequence[Any], labels: Sequence[str], zoom: int) -> np.ndarray:
    """Images side by side, scaled up by ``zoom`` with sharp pixels, each labelled above.

    The images (each ``[H, W, 3]``, one size) are tiled with :func:`make_grid`, every pixel
    repeated ``zoom`` x ``zoom`` times (nearest neighbour: small models' pixels stay sharp
    squares instead of smearing), and a white strip above holds each label, left-aligned over
    its image in PIL's default font (no font files needed). A label too wide for its image
    wraps at a double space, then gets a smaller font (down to 8 px); the picture widens to
    the right if it still does not fit.

    Args:
        images: The pictures, float in [0, 1] or uint8.
        labels: One label per picture.
        zoom: The whole factor, from :func:`zoom_factor`.

    Returns:
        uint8 ``[strip + zoom * grid_height, >= zoom * grid_width, 3]``; the images' area is
        ``zoom`` times ``make_grid(images, ncols=len(images))``, at the bottom left.

    Example:
    >>> picture = labelled_comparison([np.zeros((16, 16, 3)), np.ones((16, 16, 3))],
    ...                               ["black", "white"], zoom=2)
    >>> picture.dtype, picture.shape[1]
    (dtype('uint8'), 76)
    """
    from PIL import Image, ImageDraw  # Pillow is needed only to draw labels

    grid = upscale(to_uint8(make_grid(list(images), ncols=len(images)))[np.newaxis], zoom)[0]
    cell = (grid.shape[1] - zoom * GRID_PADDING) // len(images)  # one image and its padding
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for size in range(min(20, max(11, cell // 12)), 7, -1):  # smaller text before a wider canvas
        font = _label_font(size)
        lines = [_wrap(label, font, measure, cell - LABEL_MARGIN) for label in labels]
        if all(measure.textlength(line, font) <= cell - LABEL_MARGIN
               for block in lines for line in block):
            break
    line_height = font.getbbox("Hg")[3] + 2
    strip = 2 * LABEL_MARGIN + line_height * max(len(block) for block in lines)
    text_right = max(zoom * GRID_PADDING + index * cell + round(measure.textlength(line, font))
                     for index, block in enumerate(lines) for line in block)
    canvas = Image.new("RGB", (max(grid.shape[1], text_right + LABEL_MARGIN),
                               strip + grid.shape[0]), "white")
    canvas.paste(Image.fromarray(grid), (0, strip))
    draw = ImageDraw.Draw(canvas)
    for index, block in enumerate(lines):
        for row, line in enumerate(block):
            draw.text((zoom * GRID_PADDING + index * cell, LABEL_MARGIN + row * line_height),
                      line, fill="black", font=font)
    return np.asarray(canvas)


def upscale(frames: np.ndarray, zoom: int) -> np.ndarray:
    """``[n, H, W, C]`` with each pixel repeated ``zoom`` x ``zoom`` times (nearest).

    Example:
    >>> upscale(np.zeros((1, 2, 3, 3)), 4).shape
    (1, 8, 12, 3)
    """
    if zoom == 1:
        return frames
    return np.repeat(np.repeat(frames, zoom, axis=1), zoom, axis=2)


def format_psnr(value: float) -> str:
    """A PSNR as the result's pictures label it: ``"PSNR 23.1 dB"``, or ``"identical"``."""
    return "identical" if math.isinf(value) else f"PSNR {value:.1f} dB"


def _label_font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable bundled font
    except TypeError:
        return ImageFont.load_default()  # Pillow 10.0: its small bitmap font


def _wrap(label: str, font: Any, measure: Any, width: int) -> list[str]:
    """``label`` as one line, or split at double spaces where it is wider than ``width``."""
    if measure.textlength(label, font) <= width:
        return [label]
    return [part.strip() for part in label.split("  ") if part.strip()] or [label]


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # JSON has no inf/NaN
