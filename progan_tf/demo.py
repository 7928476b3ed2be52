"""The demo: everything progan-tf does, on one web page, offline, in about a minute.

``progan-tf demo`` (or :func:`run_demo` in Python) takes a generator -- the bundled one unless
told otherwise -- and writes into one folder:

* ``grid.png``: 16 faces from 16 random latents;
* ``walk.gif``: a looping walk through the first three of them by hypersphere interpolation
  (the TF Hub tutorial's method, which keeps every frame's latent at the first one's length);
* latent recovery of a real photo, scikit-image's astronaut (Eileen Collins), framed by
  :func:`~progan_tf.face.face_crop` as the training faces were: ``photo.png`` (the photo and the
  crop), then what :meth:`RecoveryResult.save <progan_tf.recovery.RecoveryResult.save>` writes --
  ``target.png``, ``recovered.png``, ``comparison.png``, ``search.gif``, ``metrics.json`` and
  ``latent.npy``;
* ``index.html``: one self-contained page showing all of it with the recovery's metrics and the
  model's metadata. Its links are relative, so the folder can be moved, zipped or served as is.

It uses only the package's public functions, so it doubles as a worked example of the API.

**Which folders it writes into.** A missing or empty folder is used; so is a folder that an
earlier demo made (recognised by the small marker file ``.progan-tf-demo`` it writes first, so an
interrupted demo counts too), whose files are simply replaced. Any other non-empty folder is
refused -- the demo's file names (``index.html``, ``grid.png``...) are common ones, and replacing
somebody's files without asking would be rude -- unless ``overwrite=True`` (``--overwrite``).
Even then only the demo's own files are replaced; nothing else in the folder is deleted. Every
file is written atomically (a temporary file renamed into place), so a demo stopped half way
never leaves a half-written image.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import progan_tf as pt
from progan_tf import fileio
from progan_tf.checks import check_whole_number
from progan_tf.constants import BUNDLED, grid_columns
from progan_tf.demo_page import render_page
from progan_tf.errors import DemoError, RunDirectoryError
from progan_tf.recovery.encoder import plan_search

__all__ = ["MARKER", "DemoError", "DemoResult", "run_demo"]

MARKER = ".progan-tf-demo"
"""Written first into every demo folder: later demos may replace the files of this folder."""

GRID_SIZE = 16
WALK_KEYFRAMES = 3
WALK_FPS = 25
LOSS = "mse"  # plain pixels: the fastest loss, and the one PSNR measures
_PHOTO_SIDE = 256  # photo.png, the photo with its face crop marked, is this large at most
_BOX_COLOUR = (1.0, 0.85, 0.0)


@dataclasses.dataclass(frozen=True)
class DemoResult:
    """Where :func:`run_demo` wrote everything (all paths inside ``out_dir``).

    ``files()`` lists them in the order the page shows them, ``index`` last.
    """

    out_dir: Path
    grid: Path
    walk: Path
    photo: Path
    target: Path
    recovered: Path
    comparison: Path
    search: Path
    metrics: Path
    latent: Path
    index: Path
    seconds: float

    def files(self) -> list[Path]:
        """Every file written, in the order the page shows them, ``index`` last."""
        return [self.grid, self.walk, self.photo, self.target, self.recovered, self.comparison,
                self.search, self.metrics, self.latent, self.index]


def run_demo(
    out_dir: str | os.PathLike = "progan-tf-demo",
    model: Any = BUNDLED,
    *,
    seed: int = 0,
    steps: int | None = None,
    restarts: int | None = None,
    frames: int = 50,
    overwrite: bool = False,
    progress: bool = True,
    encoder: Any = None,
    full_search: bool = False,
) -> DemoResult:
    """Samples, a hypersphere walk and the latent recovery of a real face, on one page.

    Args:
        out_dir: The folder to write (see the module docstring for which folders are accepted).
        model: A handle for :func:`~progan_tf.generator.load_generator` (``"bundled"`` works
            offline), or a loaded :class:`~progan_tf.generator.Generator`.
        seed: Seeds the sampled latents and the recovery's starting latents.
        steps: Steps of the latent recovery (:func:`~progan_tf.recovery.recover_latent`):
            by default the fast path's short refinement where an encoder exists for the model
            (the bundled one has one), else the full search's
            (:func:`~progan_tf.recovery.encoder.plan_search`).
        restarts: Starting latents the recovery optimises at once (default: as for ``steps``).
        frames: Frames from one keyframe of the walk to the next; the looping GIF has
            ``3 * (frames - 1)`` frames, played at 25 fps.
        overwrite: Also write into a non-empty folder that no demo made (replacing the demo's
            files only).
        progress: Print what is being done to stderr, with a progress bar for the recovery.
        encoder: Start the recovery from this encoder (a ``progan-tf train-encoder`` folder)
            rather than the bundled model's.
        full_search: Search from random latents even where an encoder exists.

    Returns:
        The paths of everything written.

    Raises:
        DemoError: For invalid options.
        RunDirectoryError: If ``out_dir`` is a file, cannot be created, or is a foreign
            non-empty folder.
        ModelLoadError: If the model cannot be loaded.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "demo"
    >>> result = run_demo(folder, steps=2, restarts=1, frames=2, progress=False)
    >>> [path.name for path in result.files()][-1], result.out_dir == folder
    ('index.html', True)
    """
    began = time.perf_counter()
    seed = check_whole_number(seed, "seed", minimum=0, error=DemoError)
    if steps is not None:
        steps = check_whole_number(steps, "steps", error=DemoError)
    if restarts is not None:
        restarts = check_whole_number(restarts, "restarts", error=DemoError)
    frames = check_whole_number(frames, "frames", minimum=2, error=DemoError)
    folder = Path(out_dir).expanduser()
    _check_folder(folder, overwrite)  # before the slow model load: fail fast, leave nothing
    say = _reporter(progress)

    say(f"loading model {model if isinstance(model, str) else getattr(model, 'handle', model)}")
    generator = model if isinstance(model, pt.Generator) else pt.load_generator(model)
    plan = plan_search(generator, encoder, full_search, steps, restarts)  # before any writing
    _make_folder(folder)
    paths = {name: folder / name for name in _FILE_NAMES}

    say(f"sampling {GRID_SIZE} faces")
    latents = pt.sample_latents(GRID_SIZE, generator.latent_dim, seed=seed)
    pt.save_image(pt.make_grid(generator(latents).numpy(), ncols=grid_columns(GRID_SIZE)),
                  paths["grid.png"])

    # A loop through the first faces of the grid. ProGAN normalises latents, so the walk (which
    # keeps every point at the first keyframe's norm) passes through exactly those faces.
    path = pt.walk(latents[:WALK_KEYFRAMES], frames, method="hypersphere", loop=True)
    say(f"rendering a {len(path)}-frame hypersphere walk")
    pt.animate((image for chunk in generator.iter_images(path) for image in chunk),
               paths["walk.gif"], fps=WALK_FPS, display=False)

    say("cropping the face in scikit-image's astronaut photo")
    photo = _astronaut()
    target, box = pt.face_crop(photo, size=generator.image_shape[:2], return_box=True)
    pt.save_image(_with_box(photo, box), paths["photo.png"])

    say(f"recovering its latent ({plan.label}: {plan.steps} steps x {plan.restarts} restarts)")
    recovery = pt.recover_latent(generator, target, steps=plan.steps, restarts=plan.restarts,
                                 loss=LOSS, seed=seed, progress=progress, init=plan.init)
    recovery.save(folder)  # target, recovered, comparison PNGs, search.gif, metrics.json, latent

    seconds = time.perf_counter() - began
    page = render_page(folder, generator, generator.metadata, recovery, seed=seed,
                       grid_size=GRID_SIZE, walk_keyframes=WALK_KEYFRAMES,
                       walk_frames=len(path), walk_fps=WALK_FPS, loss=LOSS, seconds=seconds)
    fileio.write_text(paths["index.html"], page)
    return DemoResult(out_dir=folder, grid=paths["grid.png"], walk=paths["walk.gif"],
                      photo=paths["photo.png"], target=paths["target.png"],
                      recovered=paths["recovered.png"], comparison=paths["comparison.png"],
                      search=paths["search.gif"], metrics=paths["metrics.json"],
                      latent=paths["latent.npy"], index=paths["index.html"], seconds=seconds)


_FILE_NAMES = ("grid.png", "walk.gif", "photo.png", "target.png", "recovered.png",
               "comparison.png", "search.gif", "metrics.json", "latent.npy", "index.html")


# --------------------------------------------------------------------------------------------
# The output folder
# --------------------------------------------------------------------------------------------


def _check_folder(folder: Path, overwrite: bool) -> None:
    """Refuses a file, and a non-empty folder no demo made (unless ``overwrite``)."""
    if folder.exists() and not folder.is_dir():
        raise RunDirectoryError(f"{str(folder)!r} is a file; pass a folder for the demo's "
                                f"pages and pictures (it is created if missing)")
    if not folder.is_dir() or overwrite or (folder / MARKER).is_file():
        return
    try:
        foreign = sorted(entry.name for entry in folder.iterdir())
    except OSError as error:
        raise RunDirectoryError(f"cannot read folder {str(folder)!r} ({error.strerror}); "
                                f"pick another --out") from None
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise RunDirectoryError(f"{str(folder)!r} is not empty ({shown}) and no demo made it; "
                                f"pick a new folder, or pass --overwrite to replace the demo's "
                                f"files in it (nothing else is deleted)")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if not marker.is_file():
            fileio.write_text(marker, "Made by 'progan-tf demo'; a later demo may replace the "
                                      "files of this folder.\n")
    except OSError as error:
        raise RunDirectoryError(f"cannot write into {str(folder)!r} ({error.strerror}); pick "
                                f"another --out") from None


def _reporter(enabled: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if enabled:
            print(f"progan-tf demo: {message}", file=sys.stderr, flush=True)
    return say


# --------------------------------------------------------------------------------------------
# The photo
# --------------------------------------------------------------------------------------------


def _astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain); shipped, no download."""
    from skimage import data

    return pt.load_image(data.astronaut())


def _with_box(photo: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A small copy of the photo with the face crop drawn on it (clipped to the picture)."""
    scale = _PHOTO_SIDE / max(photo.shape[:2])
    small = pt.load_image(photo, size=(round(photo.shape[0] * scale),
                                        round(photo.shape[1] * scale)))
    height, width = small.shape[:2]
    left, top, box_width, box_height = (round(value * scale) for value in box)
    right, bottom = min(left + box_width, width) - 1, min(top + box_height, height) - 1
    left, top = max(left, 0), max(top, 0)
    for thick in range(2):  # a 2-pixel frame
        small[[top + thick, bottom - thick], left:right + 1] = _BOX_COLOUR
        small[top:bottom + 1, [left + thick, right - thick]] = _BOX_COLOUR
    return small
