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
import datetime
import html
import importlib.resources
import json
import math
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

import progan_tf as pt
from progan_tf.errors import DemoError, ProganError, RunDirectoryError

__all__ = ["DemoError", "DemoResult", "run_demo", "MARKER"]

MARKER = ".progan-tf-demo"
"""Written first into every demo folder: later demos may replace the files of this folder."""

GRID_SIZE = 16
WALK_KEYFRAMES = 3
WALK_FPS = 25
LOSS = "mse"  # plain pixels: the fastest loss, and the one PSNR measures
# Displayed sizes: small models make tiny images, so the page scales them up by whole factors
# (crisp pixels) to about these widths.
_SINGLE_WIDTH = 192
_WIDE_WIDTH = 512
_PHOTO_SIDE = 256
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
        return [self.grid, self.walk, self.photo, self.target, self.recovered, self.comparison,
                self.search, self.metrics, self.latent, self.index]


def run_demo(
    out_dir: str | os.PathLike = "progan-tf-demo",
    model: Any = "bundled",
    *,
    seed: int = 0,
    steps: int = 300,
    restarts: int = 8,
    frames: int = 50,
    overwrite: bool = False,
    progress: bool = True,
) -> DemoResult:
    """Samples, a hypersphere walk and the latent recovery of a real face, on one page.

    Parameters
    ----------
    out_dir
        The folder to write (see the module docstring for which folders are accepted).
    model
        A handle for :func:`~progan_tf.generator.load_generator` (``"bundled"`` works offline),
        or a loaded :class:`~progan_tf.generator.Generator`.
    seed
        Seeds the sampled latents and the recovery's starting latents.
    steps, restarts
        Of the latent recovery (:func:`~progan_tf.recovery.recover_latent`). The defaults take
        15-20 s for a 32x32 model the size of the bundled one on two busy CPU cores; the whole
        demo, start-up included, about half a minute.
    frames
        Frames from one keyframe of the walk to the next; the looping GIF has
        ``3 * (frames - 1)`` frames, played at 25 fps.
    overwrite
        Also write into a non-empty folder that no demo made (replacing the demo's files only).
    progress
        Print what is being done to stderr, with a progress bar for the recovery.

    Returns
    -------
    DemoResult
        The paths of everything written.

    Raises
    ------
    DemoError
        For invalid options.
    RunDirectoryError
        If ``out_dir`` is a file, cannot be created, or is a foreign non-empty folder.
    ModelLoadError
        If the model cannot be loaded.

    Examples
    --------
    >>> result = run_demo("demo", steps=100)   # doctest: +SKIP
    >>> result.index.resolve().as_uri()         # open it in a browser  # doctest: +SKIP
    """
    began = time.perf_counter()
    seed = _whole_number(seed, "seed", minimum=0)
    steps = _whole_number(steps, "steps", minimum=1)
    restarts = _whole_number(restarts, "restarts", minimum=1)
    frames = _whole_number(frames, "frames", minimum=2)
    folder = Path(out_dir).expanduser()
    _check_folder(folder, overwrite)  # before the slow model load: fail fast, leave nothing
    say = _reporter(progress)

    say(f"loading model {model if isinstance(model, str) else getattr(model, 'handle', model)}")
    generator = model if isinstance(model, pt.Generator) else pt.load_generator(model)
    _make_folder(folder)
    paths = {name: folder / name for name in _FILE_NAMES}

    say(f"sampling {GRID_SIZE} faces")
    latents = pt.sample_latents(GRID_SIZE, generator.latent_dim, seed=seed)
    pt.save_image(pt.make_grid(generator(latents).numpy(), ncols=4), paths["grid.png"])

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

    say(f"recovering its latent ({steps} steps x {restarts} restarts)")
    recovery = pt.recover_latent(generator, target, steps=steps, restarts=restarts, loss=LOSS,
                                 seed=seed, progress=progress)
    recovery.save(folder)  # target, recovered, comparison PNGs, search.gif, metrics.json, latent

    seconds = time.perf_counter() - began
    page = _page(generator, _model_metadata(model), recovery, seed=seed, walk_frames=len(path),
                 seconds=seconds, comparison_shape=_picture_shape(paths["comparison.png"]),
                 search_shape=_picture_shape(paths["search.gif"]))
    _write_text(paths["index.html"], page)
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
            _write_text(marker, "Made by 'progan-tf demo'; a later demo may replace the files "
                                "of this folder.\n")
    except OSError as error:
        raise RunDirectoryError(f"cannot write into {str(folder)!r} ({error.strerror}); pick "
                                f"another --out") from None


def _write_text(path: Path, text: str) -> None:
    """Writes ``text`` through a temporary file renamed into place."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _whole_number(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DemoError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _reporter(enabled: bool):
    def say(message: str) -> None:
        if enabled:
            print(f"progan-tf demo: {message}", file=sys.stderr, flush=True)
    return say


# --------------------------------------------------------------------------------------------
# The photo
# --------------------------------------------------------------------------------------------


def _astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain); shipped, no download."""
    from skimage import data  # noqa: PLC0415

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


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _model_metadata(model: Any) -> dict:
    """``metadata.json`` of an exported model (the bundled one, or a local folder), else {}."""
    handle = getattr(model, "handle", model)
    if handle == pt.BUNDLED:
        source = importlib.resources.files("progan_tf").joinpath("bundled", "generator",
                                                                  "metadata.json")
    elif isinstance(handle, (str, os.PathLike)):
        source = Path(handle).expanduser() / "metadata.json"
    else:
        return {}
    try:
        metadata = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


_METADATA_ROWS = (("resolution", "resolution"), ("kimg", "trained on (kimg)"),
                  ("images_shown", "images shown"), ("phase", "phase"),
                  ("exported", "exported"), ("training_command", "training command"))

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
section { margin: 2rem 0; }
figure { display: inline-block; margin: 0 1.5rem 1rem 0; vertical-align: top; }
figcaption { font-size: 0.9rem; color: #555; max-width: 32rem; }
img { image-rendering: pixelated; border: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { padding: 0.2rem 0.8rem 0.2rem 0; text-align: left; vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
code { font-size: 0.85rem; }
"""


def _picture_shape(path: Path) -> tuple[int, int]:
    """(height, width) of a written picture: ``RecoveryResult.save`` labels comparison.png and
    enlarges it and search.gif by a whole factor, so the page asks the files."""
    from PIL import Image  # noqa: PLC0415

    with Image.open(path) as picture:
        return picture.height, picture.width


def _page(generator: Any, metadata: dict, recovery: Any, *, seed: int, walk_frames: int,
          seconds: float, comparison_shape: tuple[int, int],
          search_shape: tuple[int, int]) -> str:
    """index.html: every picture, the recovery's metrics and the model's metadata."""
    height, width = generator.image_shape[:2]
    size = f"{height}x{width}"
    metrics = recovery.metrics()
    model_rows = [("handle", generator.handle), ("latent size", generator.latent_dim),
                  ("image size", size)]
    model_rows += [(label, metadata[key]) for key, label in _METADATA_ROWS
                   if metadata.get(key) not in (None, "", {})]
    metric_rows = [("PSNR", _number(metrics["psnr"], " dB", 2)),
                   ("SSIM", _number(metrics["ssim"], "", 3)),
                   ("loss", LOSS), ("steps", metrics["steps"]),
                   ("restarts", metrics["restarts"]),
                   ("best restart, step", f"{metrics['best_restart']}, {metrics['best_step']}"),
                   ("wall time", _number(metrics["wall_time"], " s", 1)),
                   ("steps per second", _number(metrics["steps_per_second"], "", 1))]
    if metrics["stopped_reason"]:
        metric_rows.append(("stopped", metrics["stopped_reason"]))
    made = datetime.datetime.now().astimezone().isoformat(timespec="seconds")

    def img(name, shape, alt, wide=False):
        natural_height, natural_width = shape[:2]
        scale = max(1, (_WIDE_WIDTH if wide else _SINGLE_WIDTH) // natural_width)
        return (f'<img src="{_href(name)}" alt="{_esc(alt)}" width="{natural_width * scale}" '
                f'height="{natural_height * scale}">')

    def figure(image_tag, caption):
        return f"<figure>{image_tag}<figcaption>{caption}</figcaption></figure>"

    grid_shape = _grid_shape(GRID_SIZE, 4, height, width)
    photo_shape = (_PHOTO_SIDE, _PHOTO_SIDE)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="progan-tf {_esc(pt.__version__)} demo">
<title>progan-tf demo: {_esc(generator.handle)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>progan-tf demo</h1>
<p>Made {_esc(made)} in {seconds:.0f} s with progan-tf {_esc(pt.__version__)}, seed {seed}.</p>

<section id="model">
<h2>Model</h2>
{_table(model_rows)}
{_metrics_table(metadata.get("metrics"))}
</section>

<section id="samples">
<h2>Samples</h2>
{figure(img("grid.png", grid_shape, f"{GRID_SIZE} generated faces", wide=True),
        f"{GRID_SIZE} faces from {GRID_SIZE} random latents "
        f"(<code>sample_latents({GRID_SIZE}, seed={seed})</code>), {_esc(size)} each.")}
</section>

<section id="walk">
<h2>Hypersphere interpolation</h2>
{figure(img("walk.gif", (height, width), "an animated walk between faces"),
        f"A seamless loop through the first {WALK_KEYFRAMES} faces of the grid, "
        f"{walk_frames} frames at {WALK_FPS} fps, by the TF Hub tutorial's "
        f"<code>interpolate_hypersphere</code>: every point of the path keeps the first "
        f"latent's length. A ProGAN generator normalises its latents, so the length does not "
        f"change the faces; a straight-line walk passes through the same faces, only paced "
        f"differently (notebook 01 measures both).")}
</section>

<section id="recovery">
<h2>Latent recovery of a real photo</h2>
<p>The latent whose image comes closest to a face the model never saw: scikit-image's
astronaut photo (Eileen Collins, NASA), face-cropped as the training faces were and searched
with <code>recover_latent</code> ({metrics['restarts']} restarts optimised at once, the best
kept). The model can only draw what it learned, so the result is the nearest face it can make.
</p>
{figure(img("photo.png", photo_shape, "the astronaut photo with the face crop marked"),
        "The photo; the box is <code>face_crop</code>'s CelebA-like framing.")}
{figure(img("target.png", (height, width), "the face crop, the search's target"),
        f"Target: the crop at {_esc(size)}.")}
{figure(img("recovered.png", (height, width), "the recovered face"),
        f"Recovered: {_esc(_number(metrics['psnr'], ' dB', 1))} PSNR.")}
{figure(img("search.gif", search_shape, "an animation of the search"),
        "The search: the winning restart every 5 steps.")}
{figure(img("comparison.png", comparison_shape, "target beside recovered",
            wide=True), "Target and recovered side by side.")}
{_table(metric_rows)}
<p>Files: <a href="{_href('metrics.json')}">metrics.json</a>,
<a href="{_href('latent.npy')}">latent.npy</a> (the recovered latent,
<code>numpy.load</code>).</p>
</section>
</body>
</html>
"""


def _grid_shape(count: int, ncols: int, height: int, width: int, padding: int = 2) -> tuple:
    """The size of ``make_grid``'s picture of ``count`` images (for the page's img sizes)."""
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    return (nrows * (height + padding) + padding, ncols * (width + padding) + padding)


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "\n".join(f"<tr><th>{_esc(label)}</th><td>{_cell(value)}</td></tr>"
                      for label, value in rows)
    return f"<table>\n{cells}\n</table>"


def _cell(value: Any) -> str:
    text = _esc(value)
    return f"<code>{text}</code>" if isinstance(value, str) and len(value) > 60 else text


_METRICS_NOTE = (
    "How close the model's pictures are to real ones, measured without any pretrained network "
    "(<code>progan-tf evaluate</code>). <b>SWD</b>, the sliced Wasserstein distance of the "
    "ProGAN paper, compares small patches of generated and held-out real faces at each scale: "
    "lower is better, and the <i>noise floor</i> -- real faces against other real faces -- is "
    "as low as it can usefully go. <b>MS-SSIM</b> between random pairs measures how alike the "
    "pictures are to each other: a model much above the real faces' value draws too little "
    "variety.")


def _metrics_table(metrics: Any) -> str:
    """The stored quality metrics as a small readable table with a note, or "" if there are none.

    ``metadata.json`` keeps what ``progan-tf evaluate`` wrote (``swd``, ``swd_noise_floor``,
    ``ms_ssim_fake``, ``ms_ssim_real``, counts); a table of raw keys would mean nothing to a
    reader, so SWD is shown per level beside its noise floor, and MS-SSIM beside the real value.
    """
    if not isinstance(metrics, dict):
        return ""
    swd, floor = metrics.get("swd"), metrics.get("swd_noise_floor")
    swd = swd if isinstance(swd, dict) else {}
    floor = floor if isinstance(floor, dict) else {}
    levels, floor_levels = swd.get("levels") or {}, floor.get("levels") or {}
    rows = [(f"SWD at {level}x{level} (x1e3)", _rounded(value), _rounded(floor_levels.get(level)))
            for level, value in sorted(levels.items(), key=lambda item: -int(item[0]))
            if str(level).isdigit()]
    if "average" in swd:
        rows.append(("SWD, average of the scales", _rounded(swd["average"]),
                     _rounded(floor.get("average"))))
    if "ms_ssim_fake" in metrics:
        rows.append(("MS-SSIM of random pairs", _rounded(metrics["ms_ssim_fake"]),
                     _rounded(metrics.get("ms_ssim_real"))))
    if not rows:
        return ""
    body = "\n".join(f"<tr><th>{_esc(label)}</th><td>{_esc(model)}</td><td>{_esc(real)}</td></tr>"
                     for label, model, real in rows)
    return (f'<table class="metrics">\n<tr><th>quality</th><th>model</th>'
            f'<th>real faces (noise floor)</th></tr>\n{body}\n</table>\n'
            f"<p>{_METRICS_NOTE}</p>")


def _rounded(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"


def _number(value: float | None, unit: str, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _href(name: str) -> str:
    return _esc(quote(name))
