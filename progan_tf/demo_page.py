"""The demo's web page: ``index.html`` from the pictures and numbers :func:`run_demo` made.

Kept apart from :mod:`progan_tf.demo`, which does the work (sampling, the walk, the recovery),
because the page is a different concern: HTML, escaping, and showing small pictures large
without blurring them. The page is self-contained (one inline style sheet, no script) and links
only relative file names, so the demo folder can be moved, zipped or served as it is.

Every value that reaches the page is escaped; the model's ``metadata.json`` is shown as a small
table, with the stored quality metrics (``progan-tf evaluate``) explained in words.
"""

from __future__ import annotations

import datetime
import html
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image

import progan_tf

__all__ = ["picture_shape", "render_page"]

# Displayed sizes: small models make tiny images, so the page scales them up by whole factors
# (crisp pixels) to about these widths.
_SINGLE_WIDTH = 192
_WIDE_WIDTH = 512

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


def picture_shape(path: Path) -> tuple[int, int]:
    """The ``(height, width)`` of a picture file (PNG, GIF, ...).

    Args:
        path: The file.

    Returns:
        Its height and width in pixels.
    """
    with Image.open(path) as picture:
        return picture.height, picture.width


def render_page(folder: Path, generator: Any, metadata: dict, recovery: Any, *, seed: int,
                grid_size: int, walk_keyframes: int, walk_frames: int, walk_fps: float,
                loss: str, seconds: float) -> str:
    """The demo's ``index.html``: every picture, the recovery's metrics and the model's metadata.

    Pictures are shown at whole multiples of their size (crisp pixels), so the page asks the
    files in ``folder`` how big they are: ``RecoveryResult.save`` labels ``comparison.png`` and
    enlarges it and ``search.gif``, and ``make_grid`` pads the grid.

    Args:
        folder: The demo folder, holding every picture the page shows.
        generator: The :class:`~progan_tf.generator.Generator` the pictures came from.
        metadata: The model's ``metadata.json`` (``{}`` if it has none).
        recovery: The :class:`~progan_tf.recovery.RecoveryResult` of the photo.
        seed: The seed of the sampled latents and of the recovery.
        grid_size: How many faces ``grid.png`` shows.
        walk_keyframes: How many of them the walk passes through.
        walk_frames: Frames in ``walk.gif``.
        walk_fps: Its frame rate.
        loss: The recovery's loss.
        seconds: How long the demo took.

    Returns:
        The page, as text.
    """
    height, width = generator.image_shape[:2]
    size = f"{height}x{width}"
    metrics = recovery.metrics()
    model_rows = [("handle", generator.handle), ("latent size", generator.latent_dim),
                  ("image size", size)]
    model_rows += [(label, metadata[key]) for key, label in _METADATA_ROWS
                   if metadata.get(key) not in (None, "", {})]
    metric_rows = [("PSNR", _number(metrics["psnr"], " dB", 2)),
                   ("SSIM", _number(metrics["ssim"], "", 3)),
                   ("loss", loss), ("steps", metrics["steps"]),
                   ("restarts", metrics["restarts"]),
                   ("best restart, step", f"{metrics['best_restart']}, {metrics['best_step']}"),
                   ("wall time", _number(metrics["wall_time"], " s", 1)),
                   ("steps per second", _number(metrics["steps_per_second"], "", 1))]
    if metrics["stopped_reason"]:
        metric_rows.append(("stopped", metrics["stopped_reason"]))
    made = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    version = _esc(progan_tf.__version__)

    def img(name: str, shape: tuple[int, int], alt: str, wide: bool = False) -> str:
        natural_height, natural_width = shape[:2]
        scale = max(1, (_WIDE_WIDTH if wide else _SINGLE_WIDTH) // natural_width)
        return (f'<img src="{_href(name)}" alt="{_esc(alt)}" width="{natural_width * scale}" '
                f'height="{natural_height * scale}">')

    def figure(image_tag: str, caption: str) -> str:
        return f"<figure>{image_tag}<figcaption>{caption}</figcaption></figure>"

    grid_shape, photo_shape, comparison_shape, search_shape = (
        picture_shape(folder / name)
        for name in ("grid.png", "photo.png", "comparison.png", "search.gif"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="progan-tf {version} demo">
<title>progan-tf demo: {_esc(generator.handle)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>progan-tf demo</h1>
<p>Made {_esc(made)} in {seconds:.0f} s with progan-tf {version}, seed {seed}.</p>

<section id="model">
<h2>Model</h2>
{_table(model_rows)}
{_metrics_table(metadata.get("metrics"))}
</section>

<section id="samples">
<h2>Samples</h2>
{figure(img("grid.png", grid_shape, f"{grid_size} generated faces", wide=True),
        f"{grid_size} faces from {grid_size} random latents "
        f"(<code>sample_latents({grid_size}, seed={seed})</code>), {_esc(size)} each.")}
</section>

<section id="walk">
<h2>Hypersphere interpolation</h2>
{figure(img("walk.gif", (height, width), "an animated walk between faces"),
        f"A seamless loop through the first {walk_keyframes} faces of the grid, "
        f"{walk_frames} frames at {walk_fps} fps, by the TF Hub tutorial's "
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
    """The stored quality metrics as a small readable table with a note, or "" if none.

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
