"""What a latent search returns, and how it is shown and written to disk.

:class:`RecoveryResult` holds the best latent, its image, the loss history and the search's
frames; it draws them (:meth:`~RecoveryResult.compare`, :meth:`~RecoveryResult.animate`) and
writes them (:meth:`~RecoveryResult.save`, the files named once in :data:`RESULT_FILES`). The
pictures meant for looking at -- ``comparison.png`` and ``search.gif`` -- are enlarged by a whole
factor (:func:`progan_tf.display.zoom_factor`) so that a small model's pixels stay sharp squares.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf import fileio
from progan_tf.display import enlarge, labelled_panels, zoom_factor
from progan_tf.errors import RecoveryError
from progan_tf.images import save_image, show_side_by_side

__all__ = ["RESULT_FILES", "RecoveryResult"]

RESULT_FILES = ("target.png", "recovered.png", "comparison.png", "search.gif", "latent.npy",
                "metrics.json")
"""The files :meth:`RecoveryResult.save` writes (``search.gif`` only if it recorded frames)."""



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

        factor = zoom_factor(self.target.shape[:2], zoom, error=RecoveryError)
        if len(self.frames) == 0:
            raise RecoveryError("this result has no frames (frames_every=None); run "
                                "recover_latent with frames_every=5 to record the search")
        return animate(enlarge(self.frames, factor), path, fps=fps, display=display)

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
        factor = zoom_factor(self.target.shape[:2], zoom, error=RecoveryError)
        folder = Path(directory).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / name for name in RESULT_FILES}
        save_image(self.target, paths["target.png"])
        save_image(self.image, paths["recovered.png"])
        save_image(labelled_panels([self.target, self.image],
                                   ["target", f"recovered  {format_psnr(self.psnr)}"],
                                   zoom=factor), paths["comparison.png"])
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


def format_psnr(value: float) -> str:
    """A PSNR as the result's pictures label it: ``"PSNR 23.1 dB"``, or ``"identical"``."""
    return "identical" if math.isinf(value) else f"PSNR {value:.1f} dB"


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # JSON has no inf/NaN
