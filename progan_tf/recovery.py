"""Latent recovery ("GAN inversion"): find the latent vector whose image looks like a picture.

Two ways to do it:

* :func:`find_closest_latent_vector` is the TF Hub progan-128 tutorial's recipe, unchanged:
  one latent, eager Adam steps on a summed mean-absolute error plus a penalty pulling the
  latent's norm towards ``sqrt(latent_dim)``. It is kept as the baseline that notebooks and
  workshop material refer to.
* :func:`recover_latent` is what to use in practice. It optimises several random restarts at
  once as one batch with compiled (``tf.function``) steps, several per call from Python (a
  ``tf.while_loop``: on a CPU each call adds about a third to a small model's step), ramps the
  learning rate up and down and adds decaying noise to the latents early on as the StyleGAN2
  projector does, offers losses that match what people see (SSIM, a multi-scale Laplacian
  pyramid, perceptual features of VGG16 or of a discriminator trained with
  :mod:`progan_tf.gan`), and keeps the best latent found -- also when you interrupt it (Ctrl-C,
  the notebook's stop button) or the loss turns NaN.

**Why a sphere.** ProGAN normalises ``z`` at its input (pixel norm), so only the *direction* of a
latent matters, and ``N(0, I)`` latents in ``D`` dimensions all have norms close to ``sqrt(D)``.
The default ``prior="sphere"`` therefore keeps every latent on the sphere of radius ``sqrt(D)``
(projecting back after each step) rather than penalising the norm as the tutorial does, and
recovered latents are best compared with the true one by cosine similarity, not L2 distance
(:meth:`RecoveryResult.similarity`).

Example::

    import progan_tf as pt
    from progan_tf.recovery import recover_latent
    gen = pt.load_generator(pt.PROGAN_128)
    result = recover_latent(gen, "face.jpg", loss="laplacian", steps=300, restarts=8)
    result.compare()
    result.animate("search.gif")
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.errors import LatentError, ModelLoadError, ProganError, RecoveryError
from progan_tf.generator import Generator
from progan_tf.images import load_image, make_grid, save_image, show_side_by_side, to_uint8

__all__ = [
    "RecoveryError",
    "RecoveryResult",
    "find_closest_latent_vector",
    "recover_latent",
    "starting_latents",
    "RECOVERY_STREAM",
    "labelled_comparison",
    "zoom_factor",
    "perceptual_extractor",
    "discriminator_extractor",
    "psnr",
    "ssim",
    "LOSSES",
    "PRIORS",
]

LOSSES = ("mse", "mae", "ssim", "laplacian", "perceptual", "discriminator")
PRIORS = ("sphere", "norm", None)

_MAX_PYRAMID_LEVELS = 5
_MIN_PYRAMID_SIZE = 4  # the coarsest Laplacian level keeps at least 4x4 pixels
_SSIM_FILTER_SIZE = 11
_RENDER_CHUNK = 32
_VGG16_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
_SHOWN_HEIGHT = 128  # zoom="auto" shows pictures at least this tall
_MAX_SHOWN_SIDE = 8192
_GRID_PADDING = 2  # make_grid's default padding
_LABEL_MARGIN = 4

# recover_latent's random numbers come from their own stream, ``SeedSequence(seed,
# spawn_key=(RECOVERY_STREAM, purpose))``, never from ``default_rng(seed)`` as
# ``sample_latents(n, dim, seed)`` does: a notebook that samples its "true" latent with SEED and
# then recovers it with seed=SEED would otherwise start restart 0 exactly at the answer.
RECOVERY_STREAM = 0x7265636F  # "reco" in ASCII: the purpose tag of recover_latent's streams
_STARTS, _NOISE = 0, 1  # the purposes within that stream


# --------------------------------------------------------------------------------------------
# The tutorial's recipe
# --------------------------------------------------------------------------------------------


def find_closest_latent_vector(
    generator: Any,
    initial_vector: Any,
    target_image: Any,
    num_optimization_steps: int,
    steps_per_image: int,
    loss_fn: str | keras.losses.Loss = "mae",
    *,
    progress: bool = True,
) -> tuple[list[np.ndarray], list[np.float32]]:
    """The TF Hub progan-128 tutorial's latent search, step for step (the baseline).

    Adam (learning rate 0.01) on one latent; the loss is a Keras loss with ``reduction="sum"``
    between the generated image and the target, plus ``|norm(z) - sqrt(latent_dim)|`` -- the
    tutorial's way of keeping the latent at the length typical of ``N(0, I)`` samples. It runs
    eagerly, one step at a time, exactly as written in the tutorial; :func:`recover_latent` is
    the faster and more robust version.

    Parameters
    ----------
    generator : Generator
        From :func:`~progan_tf.generator.load_generator` (or any callable mapping ``[1, D]``
        latents to ``[1, H, W, 3]`` images in [0, 1]).
    initial_vector : array-like
        The starting latent, ``[1, D]`` or ``[D]``.
    target_image : array-like
        ``[H, W, 3]`` or ``[H, W, 4]`` (the alpha channel is dropped, as in the tutorial), float
        in [0, 1] or uint8, the generator's size (resize it with
        ``load_image(path, size=generator.image_shape[:2])``).
    num_optimization_steps : int
        Adam steps (the tutorial uses 200).
    steps_per_image : int
        Keep the generated image of every ``steps_per_image``-th step (the tutorial uses 5).
    loss_fn : {"mae", "mse"} or keras.losses.Loss
        The image difference. ``"mae"`` is the tutorial's ``MeanAbsoluteError(reduction="sum")``.
    progress : bool
        Show a progress bar (the tutorial prints dots).

    Returns
    -------
    images : list of np.ndarray
        ``ceil(num_optimization_steps / steps_per_image)`` float32 arrays ``[1, H, W, 3]``.
    losses : list of np.float32
        The loss of every step, before that step's update.

    Examples
    --------
    >>> z0 = np.random.default_rng(0).standard_normal([1, 512]).astype("float32")  # doctest: +SKIP
    >>> images, losses = find_closest_latent_vector(generator, z0, target, 200, 5)  # doctest: +SKIP
    >>> pt.animate(np.concatenate(images), "search.gif")                           # doctest: +SKIP
    """
    num_optimization_steps = _positive_int(num_optimization_steps, "num_optimization_steps", 200)
    steps_per_image = _positive_int(steps_per_image, "steps_per_image", 5)
    initial_vector = _as_latent_row(initial_vector)
    latent_dim = initial_vector.shape[-1]
    target_image = _tutorial_target(target_image, generator)
    loss_fn = _tutorial_loss(loss_fn)

    images = []
    losses = []
    vector = tf.Variable(initial_vector)
    optimizer = tf.optimizers.Adam(learning_rate=0.01)
    for step in _progress(range(num_optimization_steps), progress, "find_closest_latent_vector"):
        with tf.GradientTape() as tape:
            image = generator(vector.read_value())
            if step % steps_per_image == 0:
                images.append(image.numpy())
            target_image_difference = loss_fn(image, target_image[:, :, :3])
            # The latent vectors were sampled from a normal distribution. We can get more
            # realistic images if we regularize the length of the latent vector to the average
            # length of vector from this distribution.
            regularizer = tf.abs(tf.norm(vector) - np.sqrt(latent_dim))
            loss = target_image_difference + regularizer
            losses.append(loss.numpy())
        grads = tape.gradient(loss, [vector])
        optimizer.apply_gradients(zip(grads, [vector]))
    return images, losses


def _tutorial_target(target: Any, generator: Any) -> np.ndarray:
    pixels = np.asarray(target)
    if pixels.dtype == np.uint8:
        pixels = pixels / np.float32(255.0)
    pixels = pixels.astype(np.float32)
    expected = tuple(getattr(generator, "image_shape", (None, None, 3))[:2])
    if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        raise RecoveryError(f"target_image has shape {pixels.shape}; pass one image [H, W, 3] or "
                            f"[H, W, 4], e.g. load_image(path, size={expected[0]})")
    if None not in expected and pixels.shape[:2] != expected:
        raise RecoveryError(f"target_image is {pixels.shape[0]}x{pixels.shape[1]} but the "
                            f"generator makes {expected[0]}x{expected[1]} images; resize it with "
                            f"load_image(image, size={expected}) or use recover_latent")
    return pixels


def _tutorial_loss(loss_fn: Any) -> keras.losses.Loss:
    if isinstance(loss_fn, keras.losses.Loss):
        return loss_fn
    losses = {"mae": tf.losses.MeanAbsoluteError, "mse": tf.losses.MeanSquaredError}
    if loss_fn not in losses:
        raise RecoveryError(f"loss_fn={loss_fn!r} is not supported; use 'mae' (the tutorial's), "
                            f"'mse' or a keras.losses.Loss instance")
    return losses[loss_fn](reduction="sum")


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class RecoveryResult:
    """What :func:`recover_latent` found, how it got there, and how good it is.

    Attributes
    ----------
    latent : np.ndarray
        float32 ``[D]``: the latent with the lowest loss seen in any restart at any step.
    image : np.ndarray
        float32 ``[H, W, 3]`` in [0, 1]: the generator's image of ``latent``.
    target : np.ndarray
        float32 ``[H, W, 3]``: the target as the search saw it (resized, RGB).
    losses : np.ndarray
        ``[steps]``: the loss history of the restart that found ``latent``.
    loss_history : np.ndarray
        ``[steps, restarts]``: every restart's loss at every step (NaN after a NaN stop).
    frames : np.ndarray
        uint8 ``[n, H, W, 3]``: the winning restart's image every ``frames_every`` steps, and
        ``image`` last (uint8 to save memory; empty if ``frames_every=None``).
    psnr, ssim : float
        ``image`` against ``target`` (PSNR in dB, ``inf`` for identical images).
    wall_time : float
        Seconds the search took, including tracing the step if this search was the first with
        its options on this generator.
    steps_per_second : float
        Optimisation steps (each over all restarts) per second.
    interrupted : bool
        True if the search was stopped with Ctrl-C / the notebook's stop button.
    stopped_reason : str or None
        Why the search ended early (interrupt, NaN/inf loss), ``None`` if it ran to the end.
    best_restart, best_step : int
        Where ``latent`` was found (step 0 is the starting latent itself).
    best_loss : float
        Its loss.
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
        """
        from progan_tf.latents import cosine_similarity  # noqa: PLC0415

        return float(cosine_similarity(self.latent, np.ravel(np.asarray(latent))))

    def compare(self):
        """Shows target | recovered side by side (a matplotlib figure), pixels sharp.

        Matplotlib smooths images it scales up by less than 3x; small models' pixels are
        drawn as sharp squares instead, as in :meth:`save`'s ``comparison.png``.
        """
        figure = show_side_by_side([self.target, self.image],
                                   ["target", f"recovered ({_format_psnr(self.psnr)})"])
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
        from progan_tf.animation import animate  # noqa: PLC0415

        factor = zoom_factor(zoom, self.target.shape[:2])
        if len(self.frames) == 0:
            raise RecoveryError("this result has no frames (frames_every=None); run "
                                "recover_latent with frames_every=5 to record the search")
        return animate(_upscale(self.frames, factor), path, fps=fps, display=display)

    def save(self, directory: str | os.PathLike, zoom: int | str | None = None) -> Path:
        """Writes target.png, recovered.png, comparison.png, search.gif, latent.npy, metrics.json.

        ``target.png`` and ``recovered.png`` are the images themselves, at the model's
        resolution (they are data). ``comparison.png`` and ``search.gif`` are for looking at:
        scaled up by a whole factor with sharp pixels, and the comparison is labelled
        ("target", "recovered  PSNR 23.1 dB") in a strip above the images.

        Every file is written atomically (a temporary file renamed into place), so an interrupted
        save never leaves a half-written file.

        Args:
            directory: The folder to write into (created if missing).
            zoom: The whole factor for ``comparison.png`` and ``search.gif``; ``None`` or
                ``"auto"`` picks the smallest that makes the images at least 128 pixels tall.

        Returns:
            The folder.

        Raises:
            RecoveryError: If ``zoom`` is invalid.
        """
        factor = zoom_factor(zoom, self.target.shape[:2])
        folder = Path(directory).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        save_image(self.target, folder / "target.png")
        save_image(self.image, folder / "recovered.png")
        save_image(labelled_comparison([self.target, self.image],
                                       ["target", f"recovered  {_format_psnr(self.psnr)}"],
                                       factor), folder / "comparison.png")
        if len(self.frames):
            self.animate(folder / "search.gif", display=False, zoom=factor)
        _write_atomic(folder / "latent.npy", lambda file: np.save(file, self.latent))
        text = json.dumps(self.metrics(), indent=2)
        _write_atomic(folder / "metrics.json", lambda file: file.write(text.encode()))
        return folder

    def metrics(self) -> dict:
        """The numbers of this result as a JSON-ready dict (what ``save`` writes)."""
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
    """
    height, width = (int(side) for side in image_size[:2])
    if zoom is None or (isinstance(zoom, str) and zoom.lower() == "auto"):
        return max(1, math.ceil(_SHOWN_HEIGHT / height))
    if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or zoom < 1:
        raise RecoveryError(f"zoom must be a positive int, or None / 'auto' (images at least "
                            f"{_SHOWN_HEIGHT} px tall), got {zoom!r}")
    largest = _MAX_SHOWN_SIDE // max(height, width)
    if zoom > largest:
        raise RecoveryError(f"zoom={zoom} makes {height}x{width} images larger than "
                            f"{_MAX_SHOWN_SIDE} px; use zoom <= {largest} or zoom='auto'")
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
    """
    from PIL import Image, ImageDraw  # noqa: PLC0415

    grid = _upscale(to_uint8(make_grid(list(images), ncols=len(images)))[np.newaxis], zoom)[0]
    cell = (grid.shape[1] - zoom * _GRID_PADDING) // len(images)  # one image and its padding
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for size in range(min(20, max(11, cell // 12)), 7, -1):  # smaller text before a wider canvas
        font = _label_font(size)
        lines = [_wrap(label, font, measure, cell - _LABEL_MARGIN) for label in labels]
        if all(measure.textlength(line, font) <= cell - _LABEL_MARGIN
               for block in lines for line in block):
            break
    line_height = font.getbbox("Hg")[3] + 2
    strip = 2 * _LABEL_MARGIN + line_height * max(len(block) for block in lines)
    text_right = max(zoom * _GRID_PADDING + index * cell + round(measure.textlength(line, font))
                     for index, block in enumerate(lines) for line in block)
    canvas = Image.new("RGB", (max(grid.shape[1], text_right + _LABEL_MARGIN),
                               strip + grid.shape[0]), "white")
    canvas.paste(Image.fromarray(grid), (0, strip))
    draw = ImageDraw.Draw(canvas)
    for index, block in enumerate(lines):
        for row, line in enumerate(block):
            draw.text((zoom * _GRID_PADDING + index * cell, _LABEL_MARGIN + row * line_height),
                      line, fill="black", font=font)
    return np.asarray(canvas)


def _label_font(size: int):
    from PIL import ImageFont  # noqa: PLC0415

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable bundled font
    except TypeError:
        return ImageFont.load_default()  # Pillow 10.0: its small bitmap font


def _wrap(label: str, font: Any, measure: Any, width: int) -> list[str]:
    """``label`` as one line, or split at double spaces where it is wider than ``width``."""
    if measure.textlength(label, font) <= width:
        return [label]
    return [part.strip() for part in label.split("  ") if part.strip()] or [label]


def _upscale(frames: np.ndarray, zoom: int) -> np.ndarray:
    """``[n, H, W, C]`` with each pixel repeated ``zoom`` x ``zoom`` times (nearest)."""
    if zoom == 1:
        return frames
    return np.repeat(np.repeat(frames, zoom, axis=1), zoom, axis=2)


def _format_psnr(value: float) -> str:
    return "identical" if math.isinf(value) else f"PSNR {value:.1f} dB"


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # JSON has no inf/NaN


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# Image quality
# --------------------------------------------------------------------------------------------


def psnr(a: Any, b: Any) -> float:
    """Peak signal-to-noise ratio of two images in dB (pixel range [0, 1]; higher is closer).

    Examples
    --------
    >>> round(psnr(np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.1)), 3)
    20.0
    """
    x, y = _image_pair(a, b)
    mse = float(np.mean((x.astype(np.float64) - y) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def ssim(a: Any, b: Any) -> float:
    """Structural similarity of two images (``tf.image.ssim``, range [0, 1]; 1 = identical).

    Images smaller than the usual 11x11 window use a window as large as the image.

    Examples
    --------
    >>> ssim(np.zeros((16, 16, 3)), np.zeros((16, 16, 3)))
    1.0
    """
    x, y = _image_pair(a, b)
    return float(tf.image.ssim(x, y, max_val=1.0, filter_size=_ssim_window(x.shape)))


def _image_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_image(_drop_batch(a)), load_image(_drop_batch(b))
    if x.shape != y.shape:
        raise RecoveryError(f"cannot compare images of shapes {x.shape} and {y.shape}; resize one "
                            f"with load_image(image, size={x.shape[:2]})")
    return x, y


def _ssim_window(shape: Sequence[int]) -> int:
    return min(_SSIM_FILTER_SIZE, int(shape[-3]), int(shape[-2]))


def _drop_batch(image: Any) -> Any:
    """``[1, H, W, C]`` (what a generator returns for one latent) as ``[H, W, C]``."""
    if isinstance(image, (str, bytes, os.PathLike)) or not hasattr(image, "shape"):
        return image
    return image[0] if len(image.shape) == 4 and image.shape[0] == 1 else image


# --------------------------------------------------------------------------------------------
# Feature extractors
# --------------------------------------------------------------------------------------------


def perceptual_extractor(
    name: str = "vgg16",
    layers: Sequence[str] = _VGG16_LAYERS,
    weights: str | None = "imagenet",
) -> keras.Model:
    """A VGG16 feature extractor for ``recover_latent(..., loss="perceptual")``.

    The model takes images in [0, 1] (it applies VGG16's own preprocessing) and returns the
    activations of ``layers`` -- by default the last convolution of blocks 1-4, the layers that
    perceptual losses and LPIPS compare.

    Parameters
    ----------
    name : {"vgg16"}
        The network.
    layers : sequence of str
        Layer names whose outputs are the features.
    weights : "imagenet" or None
        ``"imagenet"`` downloads the weights once (58 MB) into ``~/.keras/models``.

    Raises
    ------
    RecoveryError
        If the weights cannot be downloaded (offline) or a layer name is unknown.

    Examples
    --------
    >>> extractor = perceptual_extractor()                                        # doctest: +SKIP
    >>> result = recover_latent(gen, "face.jpg", loss=[("perceptual", 1.0), ("mse", 1.0)],
    ...                         feature_extractor=extractor)                      # doctest: +SKIP
    """
    if str(name).lower() != "vgg16":
        raise RecoveryError(f"perceptual_extractor({name!r}) is not available; use 'vgg16' or "
                            f"pass any Keras model as feature_extractor=")
    try:
        vgg = keras.applications.VGG16(weights=weights, include_top=False)
    except Exception as err:  # noqa: BLE001 -- Keras raises a bare Exception for download errors
        raise RecoveryError(
            f"could not load VGG16's ImageNet weights ({_one_line(err)}); they are downloaded "
            f"once (58 MB) into ~/.keras/models: connect to the internet and retry, copy "
            f"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 there, pass your own Keras model "
            f"as feature_extractor=, or use another loss such as loss='laplacian'") from err
    known = [layer.name for layer in vgg.layers]
    unknown = [layer for layer in layers if layer not in known]
    if unknown or not layers:
        raise RecoveryError(f"VGG16 has no layer(s) {unknown or list(layers)}; choose from "
                            f"{', '.join(known[1:])}")
    features = keras.Model(vgg.input, [vgg.get_layer(layer).output for layer in layers])
    images = keras.Input((None, None, 3))
    preprocessed = keras.applications.vgg16.preprocess_input(images * 255.0)
    return keras.Model(images, features(preprocessed), name="vgg16_features")


def discriminator_extractor(discriminator: Any) -> Callable[[tf.Tensor], list[tf.Tensor]]:
    """Features of a :class:`~progan_tf.gan.networks.ProgressiveDiscriminator`, for a loss.

    Returns a function mapping images ``[N, H, W, 3]`` in [0, 1] to the discriminator's
    activations after each block at its current stage and after its last convolution -- all
    the features *before* the final dense layers, which only score realism. Images are resized
    to the stage's resolution and mapped to [-1, 1], as in training.

    The minibatch-stddev feature (a statistic *across* a batch) is replaced by its value for a
    batch of one image, so that the restarts and the target do not influence each other.

    Parameters
    ----------
    discriminator : ProgressiveDiscriminator, str or os.PathLike
        A discriminator (at the stage it should compare), a ``discriminator.keras`` file, or an
        export folder that holds one (``progan-tf export``).

    Examples
    --------
    >>> features = discriminator_extractor("exports/celeba-64")                  # doctest: +SKIP
    >>> result = recover_latent(gen, "face.jpg", loss="discriminator",
    ...                         discriminator=features)                          # doctest: +SKIP
    """
    from progan_tf.gan.networks import ProgressiveDiscriminator  # noqa: PLC0415

    d = _load_discriminator(discriminator)
    if not isinstance(d, ProgressiveDiscriminator):
        raise RecoveryError(f"{type(d).__name__} is not a ProgressiveDiscriminator; pass one from "
                            f"progan_tf.gan, its discriminator.keras file, or an export folder")
    resolution = d.stage_resolution

    def act(x):
        return keras.ops.leaky_relu(x, d.negative_slope)

    def block(level, x):
        for conv in d.blocks[level]:
            x = act(conv(x))
        return d.downsample(x)

    def features(images):
        x = tf.convert_to_tensor(images, tf.float32)
        if x.shape[1] != resolution or x.shape[2] != resolution:
            x = tf.image.resize(x, [resolution, resolution], method="area")
        x = x * 2.0 - 1.0
        level = d.stage_level
        outputs = []
        h = d.from_rgb[level](x)
        if level > 0:
            h = block(level, h)
            if d.fading:
                h = d.fade([d.from_rgb[level - 1](d.downsample(x)), h])
            outputs.append(h)
            for lower in range(level - 1, 0, -1):
                h = block(lower, h)
                outputs.append(h)
        if d.mbstd_group_size > 1:  # the statistic of a group of one image is sqrt(epsilon)
            stddev = math.sqrt(d.minibatch_stddev.epsilon)
            h = tf.concat([h, tf.fill(tf.concat([tf.shape(h)[:3], [1]], 0), stddev)], axis=-1)
        outputs.append(act(d.final_conv(h)))
        return outputs

    return features


def _load_discriminator(source: Any) -> Any:
    if not isinstance(source, (str, os.PathLike)):
        return source
    import progan_tf.gan.networks  # noqa: F401, PLC0415 -- registers the classes for load_model

    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "discriminator.keras"
    if not path.is_file():
        raise ModelLoadError(f"{str(path)!r} does not exist; pass a discriminator.keras file or "
                             f"the export folder that holds one (progan-tf export)")
    try:
        return keras.saving.load_model(path)
    except Exception as err:  # noqa: BLE001 -- Keras raises many types for damaged files
        raise ModelLoadError(f"could not load the discriminator {str(path)!r} "
                             f"({_one_line(err)}); re-export the run") from err


# --------------------------------------------------------------------------------------------
# Losses: each maps images [R, H, W, 3] to one loss per image [R]
# --------------------------------------------------------------------------------------------


def _mean_per_image(values: tf.Tensor) -> tf.Tensor:
    values = tf.convert_to_tensor(values)
    if values.shape.rank == 0:
        raise RecoveryError("a custom loss returned a single number; return one loss per image "
                            "(shape [N]), e.g. tf.reduce_mean(..., axis=[1, 2, 3]), or pass a "
                            "Keras loss instance")
    return tf.reduce_mean(tf.cast(values, tf.float32), axis=list(range(1, values.shape.rank)))


def _feature_distance(extractor: Callable) -> Callable:
    """Mean squared difference of unit-normalised features, summed over the extractor's outputs.

    Each feature vector (the channels at one position) is scaled to unit length first, as LPIPS
    does, so that layers with large activations do not drown the others and the loss has the
    same scale (0..4 per output) for any network.
    """

    def normalised(images):
        return [tf.math.l2_normalize(tf.cast(f, tf.float32), axis=-1)
                for f in tf.nest.flatten(extractor(images))]

    def prepare(target):
        target_features = [tf.stop_gradient(f) for f in normalised(target)]

        def distance(images):
            return tf.add_n([_mean_per_image(tf.square(f - t))
                             for f, t in zip(normalised(images), target_features)])

        return distance

    return prepare


def _single_loss(loss: Any, feature_extractor: Any, discriminator: Any,
                 image_shape: Sequence[int]) -> Callable:
    """``prepare(target) -> loss(images) -> [N]``: what depends on the target alone (its pyramid,
    its features) is computed once by ``prepare``, inside the compiled search."""
    if loss == "mse":
        return lambda target: lambda images: _mean_per_image(tf.square(images - target))
    if loss == "mae":
        return lambda target: lambda images: _mean_per_image(tf.abs(images - target))
    if loss == "ssim":
        window = _ssim_window(image_shape)
        return lambda target: lambda images: 1.0 - tf.image.ssim(
            images, tf.broadcast_to(target, tf.shape(images)), max_val=1.0, filter_size=window)
    if loss == "laplacian":
        levels = _pyramid_levels(*image_shape[:2])

        def prepare_pyramid(target):
            target_pyramid = _laplacian_pyramid(target, levels)
            return lambda images: tf.add_n([
                _mean_per_image(tf.abs(level - target_level))
                for level, target_level in zip(_laplacian_pyramid(images, levels),
                                               target_pyramid)])

        return prepare_pyramid
    if loss == "perceptual":
        if feature_extractor is None:
            raise RecoveryError("loss='perceptual' needs feature_extractor=: e.g. "
                                "perceptual_extractor('vgg16') or any Keras model of images in "
                                "[0, 1]")
        return _feature_distance(feature_extractor)
    if loss == "discriminator":
        if discriminator is None:
            raise RecoveryError("loss='discriminator' needs discriminator=: a "
                                "ProgressiveDiscriminator, a discriminator.keras file or an "
                                "export folder")
        return _feature_distance(discriminator)
    if isinstance(loss, keras.losses.Loss):
        return lambda target: lambda images: _mean_per_image(
            loss.call(tf.broadcast_to(target, tf.shape(images)), images))
    if callable(loss):
        return lambda target: lambda images: _mean_per_image(loss(target, images))
    raise RecoveryError(f"unknown loss {loss!r}; use one of {', '.join(LOSSES)}, a callable "
                        f"loss(target, images) -> [N], a Keras loss, or a list of (loss, weight)")


def _loss_terms(loss: Any) -> list[tuple[Any, float]]:
    """``loss`` as a checked list of ``(loss, weight)`` pairs."""
    if isinstance(loss, list):
        terms = loss
        if not terms:
            raise RecoveryError("loss=[] has no terms; pass e.g. [('mse', 1.0), ('ssim', 0.1)]")
    else:
        terms = [(loss, 1.0)]
    checked = []
    for term in terms:
        if not (isinstance(term, tuple) and len(term) == 2):
            raise RecoveryError(f"loss list entries must be (loss, weight) pairs, got {term!r}")
        weight = term[1]
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
                or not math.isfinite(weight) or weight < 0:
            raise RecoveryError(f"the weight of loss {term[0]!r} must be a finite number >= 0, "
                                f"got {weight!r}")
        checked.append((term[0], float(weight)))
    return checked


def _objective(terms: list[tuple[Any, float]], feature_extractor: Any, discriminator: Any,
               image_shape: Sequence[int]) -> Callable:
    """``prepare(target) -> objective(images) -> [N]``, the weighted sum of the loss terms."""
    parts = [(term, weight, _single_loss(term, feature_extractor, discriminator, image_shape))
             for term, weight in terms]

    def prepare(target):
        prepared = [(term, weight, part(target)) for term, weight, part in parts]

        def objective(images):
            values = []
            for term, weight, part in prepared:
                value = part(images)
                # A custom term that ignores the images adds nothing to the search (alone, it
                # would end in Keras' "No gradients provided"): say so while tracing.
                if (not isinstance(term, str) and not tf.executing_eagerly()
                        and tf.gradients(value, images)[0] is None):
                    raise RecoveryError(_no_gradient_message([term]))
                values.append(weight * value)
            return tf.add_n(values)

        return objective

    return prepare


# Laplacian pyramid in TF (the same filter and borders as progan_tf.metrics.laplacian_pyramid,
# which is NumPy and so cannot be differentiated).


def _pyramid_levels(height: int, width: int) -> int:
    levels, side = 1, min(height, width)
    while levels < _MAX_PYRAMID_LEVELS and math.ceil(side / 2) >= _MIN_PYRAMID_SIZE:
        levels, side = levels + 1, math.ceil(side / 2)
    return levels


def _blur(images: tf.Tensor) -> tf.Tensor:
    """5x5 binomial filter with mirrored borders, per channel."""
    taps = tf.constant([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = tf.tile(tf.reshape(taps[:, None] * taps[None, :], [5, 5, 1, 1]),
                     [1, 1, images.shape[-1], 1])
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


def _pyramid_up(images: tf.Tensor, size: Sequence[int]) -> tf.Tensor:
    """Zeros between the pixels up to ``size``, then blur x4."""
    height, width = size
    zeros = tf.zeros_like(images)
    columns = tf.stack([images, zeros], axis=3)  # [N, h, w, 2, C]
    shape = tf.shape(images)
    x = tf.reshape(columns, [shape[0], shape[1], 2 * shape[2], shape[3]])[:, :, :width]
    rows = tf.stack([x, tf.zeros_like(x)], axis=2)  # [N, h, 2, W, C]
    x = tf.reshape(rows, [shape[0], 2 * shape[1], width, shape[3]])[:, :height]
    return 4.0 * _blur(x)


def _laplacian_pyramid(images: tf.Tensor, levels: int) -> list[tf.Tensor]:
    pyramid = [images]
    for _ in range(levels - 1):
        finer = pyramid[-1]
        coarser = _blur(finer)[:, ::2, ::2]
        pyramid[-1] = finer - _pyramid_up(coarser, finer.shape[1:3])
        pyramid.append(coarser)
    return pyramid


# --------------------------------------------------------------------------------------------
# Schedules (StyleGAN2 projector)
# --------------------------------------------------------------------------------------------


def _learning_rate(step: int, steps: int, base: float, rampup: float, rampdown: float) -> float:
    """Linear ramp-up over the first ``rampup`` fraction, cosine ramp-down over the last
    ``rampdown`` fraction; neither end is exactly zero, so every step moves the latents."""
    factor = 1.0
    if rampup > 0:
        factor *= min(1.0, (step + 1) / (steps * rampup))
    if rampdown > 0:
        factor *= 0.5 - 0.5 * math.cos(math.pi * min(1.0, (steps - step) / (steps * rampdown)))
    return base * factor


def _noise_strength(step: int, steps: int, noise: float, noise_ramp: float) -> float:
    """Standard deviation of the noise added to the latents: quadratic decay to 0.

    None at step 0: the first loss is then the starting latents' own, so they are candidates
    for the best result too, and a search started at the answer returns it.
    """
    if step == 0:
        return 0.0
    return noise * max(0.0, 1.0 - step / (steps * noise_ramp)) ** 2


# --------------------------------------------------------------------------------------------
# recover_latent
# --------------------------------------------------------------------------------------------


def recover_latent(
    generator: Any,
    image: Any,
    *,
    steps: int = 300,
    restarts: int = 8,
    loss: Any = "mse",
    feature_extractor: Any = None,
    discriminator: Any = None,
    prior: str | None = "sphere",
    prior_weight: float = 0.01,
    learning_rate: float = 0.4,
    lr_rampup: float = 0.05,
    lr_rampdown: float = 0.25,
    noise: float = 0.05,
    noise_ramp: float = 0.75,
    stochastic_clip: float | None = None,
    frames_every: int | None = 5,
    steps_per_execution: int = 10,
    seed: int = 0,
    progress: bool = True,
    initial_latents: Any = None,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> RecoveryResult:
    """Finds the latent whose generated image is closest to ``image``.

    ``restarts`` random latents are optimised together, as one batch, with Adam in a compiled
    step; the latent with the lowest loss seen in any restart at any step is returned.

    The first search on a :class:`Generator` traces and optimises the step's graph (about half
    a second on a CPU); later searches with the same restarts, loss and prior reuse it -- when
    the loss is built from the named losses other than ``"discriminator"`` and any
    ``feature_extractor`` is a Keras model. Other searches are traced afresh each time: a custom
    function may read Python values that a reused trace would have frozen, and a discriminator
    may have moved to another stage or file since.

    Parameters
    ----------
    generator : Generator
        From :func:`~progan_tf.generator.load_generator` (or any callable with ``latent_dim``
        and ``image_shape`` that maps ``[N, D]`` latents to ``[N, H, W, 3]`` images in [0, 1]).
    image
        The target: anything :func:`~progan_tf.images.load_image` accepts (path, URL, upload,
        array ``[H, W]``/``[H, W, 3]``/``[H, W, 4]``, PIL image, a generator's ``[1, H, W, 3]``
        output). Transparency is composited on white; a picture of another size is centre-cropped
        to the generator's aspect ratio and resized to its size.
    steps : int
        Optimisation steps (each one updates all restarts).
    restarts : int
        Random starting latents optimised in parallel; more find better optima, at the cost of
        a larger batch.
    loss
        ``"mse"``, ``"mae"``, ``"ssim"`` (``1 - SSIM``), ``"laplacian"`` (mean absolute difference
        of every level of a 5x5-binomial Laplacian pyramid, so coarse layout and fine detail
        count alike), ``"perceptual"`` (mean squared difference of ``feature_extractor``
        features, each feature vector unit-normalised as in LPIPS), ``"discriminator"`` (the
        same with ``discriminator``'s features); a callable
        ``loss(target [1, H, W, 3], images [N, H, W, 3]) -> [N]``; a Keras loss instance; or a
        list of ``(loss, weight)`` pairs, summed. Losses see the generator's unclipped output, so
        pixels beyond [0, 1] still get a gradient. The step is compiled without AutoGraph, so a
        custom loss that needs Python ``if``/``for`` on tensors must be a ``tf.function`` itself.
    feature_extractor : keras.Model or callable, optional
        Maps images in [0, 1] to a tensor or a list of tensors; e.g. :func:`perceptual_extractor`.
    discriminator : optional
        A ProgressiveDiscriminator, its ``discriminator.keras`` file, an export folder, or a
        function from :func:`discriminator_extractor`.
    prior : {"sphere", "norm", None}
        ``"sphere"`` keeps every latent on the sphere of radius ``sqrt(D)`` (where ``N(0, I)``
        samples live; ProGAN ignores the norm anyway); ``"norm"`` adds the tutorial's penalty
        ``prior_weight * |norm(z) - sqrt(D)|``; ``None`` leaves the latents free.
    prior_weight : float
        Weight of the ``"norm"`` penalty, relative to the per-pixel losses above.
    learning_rate, lr_rampup, lr_rampdown : float
        Adam's peak learning rate, reached linearly over the first ``lr_rampup`` fraction of the
        steps and lowered on a cosine over the last ``lr_rampdown`` fraction.
        The default 0.4 is large for Adam on purpose: the latent lives on a sphere of radius
        ``sqrt(D)`` (22.6 for 512), so steps of this size still only turn it by a few degrees.
        Measured on the bundled model (4 known-latent and 4 held-out CelebA targets, 300 steps,
        8 restarts), mean real-face PSNR was 23.6 / 24.2 / 24.5 / 24.2 / 23.7 dB at 0.1 / 0.2 /
        0.4 / 0.8 / 1.6.
    noise, noise_ramp : float
        Gaussian noise of standard deviation ``noise`` is added to the latents the generator
        sees, decaying quadratically to zero at ``noise_ramp`` of the steps: it helps restarts
        escape poor early optima. Step 0 sees the starting latents without noise, so they are
        candidates too: a search started at the answer (``initial_latents``) never returns a
        worse one.
    stochastic_clip : float, optional
        After each step, latent components beyond ``+-stochastic_clip`` are resampled from
        ``N(0, 1)`` (stochastic clipping), keeping latents typical of the prior.
    frames_every : int or None
        Record the winning restart's image every ``frames_every`` steps (for ``animate``).
    steps_per_execution : int
        Steps run by one call of the compiled step function (as in Keras' ``compile``): on a
        CPU a call from Python adds about 1.5 ms to a small generator's ~5 ms step, so running
        several per call makes the search faster; the progress bar, ``callback`` and
        Ctrl-C then act once per ``steps_per_execution`` steps.
    seed : int
        Seeds the starting latents (:func:`starting_latents`) and the noise. They come from
        their own stream (tagged :data:`RECOVERY_STREAM`), so a latent drawn with
        ``sample_latents(n, dim, seed=seed)`` is never where a search with the same seed starts.
    progress : bool
        Show a progress bar (tqdm: a widget in notebooks, text in terminals).
    initial_latents : array-like, optional
        ``[D]`` or ``[n, D]`` latents for the first ``n <= restarts`` restarts; the rest are
        random.
    callback : callable, optional
        Called after every step as ``callback(step, losses)`` with the ``[restarts]`` losses,
        e.g. for a live plot (in bursts of ``steps_per_execution`` steps). Raising
        ``KeyboardInterrupt`` in it stops the search like Ctrl-C.

    Returns
    -------
    RecoveryResult
        Ctrl-C, the notebook's stop button, or a NaN/inf loss end the search early with the best
        result found so far (``interrupted`` / ``stopped_reason`` say so).

    Raises
    ------
    RecoveryError
        For invalid options, or if no step produced a finite loss.

    Examples
    --------
    >>> result = recover_latent(generator, "face.jpg",
    ...                         loss=[("laplacian", 1.0), ("ssim", 0.2)])         # doctest: +SKIP
    >>> result.psnr, result.similarity(true_latent)                               # doctest: +SKIP
    >>> result.save("recovered/")                                                 # doctest: +SKIP
    """
    steps = _positive_int(steps, "steps", 300)
    restarts = _positive_int(restarts, "restarts", 8)
    learning_rate = _number(learning_rate, "learning_rate", low=0.0, low_open=True)
    lr_rampup = _number(lr_rampup, "lr_rampup", low=0.0, high=1.0)
    lr_rampdown = _number(lr_rampdown, "lr_rampdown", low=0.0, high=1.0)
    noise = _number(noise, "noise", low=0.0)
    noise_ramp = _number(noise_ramp, "noise_ramp", low=0.0, high=1.0, low_open=True)
    prior_weight = _number(prior_weight, "prior_weight", low=0.0)
    if stochastic_clip is not None:
        stochastic_clip = _number(stochastic_clip, "stochastic_clip", low=0.0, low_open=True)
    if frames_every is not None:
        frames_every = _positive_int(frames_every, "frames_every", 5)
    steps_per_execution = _positive_int(steps_per_execution, "steps_per_execution", 10)
    seed = _seed(seed)
    if prior not in PRIORS:
        raise RecoveryError(f"prior={prior!r} is not supported; use 'sphere', 'norm' or None")
    if callback is not None and not callable(callback):
        raise RecoveryError(f"callback must be callable, got {type(callback).__name__}")

    synthesize, latent_dim, image_shape = _synthesizer(generator)
    target = load_image(_drop_batch(image), size=image_shape[:2])
    terms = _loss_terms(loss)
    names = {term for term, _ in terms if isinstance(term, str)}
    features = discriminator
    if "discriminator" in names and discriminator is not None and (
            not callable(discriminator) or isinstance(discriminator, keras.Model)):
        features = discriminator_extractor(discriminator)
    objective = _objective(terms, feature_extractor, features, image_shape)
    start = _initial_latents(initial_latents, restarts, latent_dim, seed)
    if prior == "sphere":
        start = _to_sphere(start, math.sqrt(latent_dim)).numpy()
    options = _SearchOptions(restarts, prior, prior_weight, stochastic_clip, tuple(terms),
                             feature_extractor if "perceptual" in names else None,
                             discriminator if "discriminator" in names else None)
    search = _search_for(generator, options, lambda: _CompiledSearch(
        synthesize, objective, options, latent_dim, image_shape))
    search.reset(start, target, _noise_seed(seed))
    try:
        search.in_use = True
        return _search(search, synthesize, target, image_shape, steps, learning_rate, lr_rampup,
                       lr_rampdown, noise, noise_ramp, frames_every, steps_per_execution,
                       progress, callback)
    finally:
        search.in_use = False


def _search(search: _CompiledSearch, synthesize: Callable, target: np.ndarray,
            image_shape: tuple, steps: int, learning_rate: float, lr_rampup: float,
            lr_rampdown: float, noise: float, noise_ramp: float, frames_every: int | None,
            steps_per_execution: int, progress: bool,
            callback: Callable | None) -> RecoveryResult:
    """recover_latent's loop: runs the compiled steps, keeps the best latent, stops cleanly."""
    restarts = search.latents.shape[0]
    history = np.full((steps, restarts), np.nan, np.float32)
    best = _Best()
    snapshots = []
    done, interrupted, reason = 0, False, None
    began = time.perf_counter()
    try:
        with _progress_bar(steps, progress) as bar:
            for first in range(0, steps, steps_per_execution):
                chunk = range(first, min(first + steps_per_execution, steps))
                losses, evaluated = search.run_steps(
                    tf.constant([_learning_rate(step, steps, learning_rate, lr_rampup,
                                                lr_rampdown) for step in chunk], tf.float32),
                    tf.constant([_noise_strength(step, steps, noise, noise_ramp)
                                 for step in chunk], tf.float32))
                losses, evaluated = losses.numpy(), evaluated.numpy()
                for step, step_losses, step_latents in zip(chunk, losses, evaluated):
                    history[step], done = step_losses, step + 1
                    if frames_every is not None and step % frames_every == 0:
                        snapshots.append(step_latents)
                    best.update(step, step_losses, step_latents)
                    if not np.isfinite(step_losses).all():
                        reason = _nan_message(step, step_losses, best)
                        break
                    if callback is not None:
                        callback(step, step_losses)
                if reason is not None:
                    warnings.warn(reason, RuntimeWarning, stacklevel=3)
                    break
                bar.update(len(chunk))
                bar.set_postfix(best_loss=f"{best.loss:.4g}", refresh=False)
    except KeyboardInterrupt:
        if best.latent is None:
            raise  # nothing to return yet
        interrupted = True
        reason = (f"interrupted after {done} of {steps} steps; returning the best result so far "
                  f"(step {best.step}, restart {best.restart})")
    wall_time = time.perf_counter() - began
    if best.latent is None:
        raise RecoveryError(f"the loss was NaN or inf from the first step ({history[0].tolist()}); "
                            f"check the loss function (a custom loss may divide by zero or take "
                            f"the log of 0) or lower learning_rate")

    return _result(synthesize, target, best, history[:done], snapshots, image_shape, wall_time,
                   interrupted, reason)


@dataclasses.dataclass(frozen=True)
class _SearchOptions:
    """What a compiled search is traced for; equal options can share one."""

    restarts: int
    prior: str | None
    prior_weight: float
    stochastic_clip: float | None
    terms: tuple
    feature_extractor: Any
    discriminator: Any

    def reusable(self) -> bool:
        """Whether a later search may reuse the graph traced for these options.

        Built-in losses read only tensors and Keras models' variables, so their graph stays
        right. A custom loss or extractor function may read Python values that the trace froze
        (change one and a reused graph would silently use the old value), and a discriminator's
        features depend on its current stage (which training moves on) or on a file that may
        have been re-exported: those are traced afresh every time.
        """
        return (all(isinstance(term, str) for term, _ in self.terms)
                and self.discriminator is None
                and (self.feature_extractor is None
                     or isinstance(self.feature_extractor, keras.Model)))


_CACHED_SEARCHES = 4  # compiled searches a Generator keeps (each holds a traced graph)


def _search_for(generator: Any, options: _SearchOptions,
                build: Callable[[], _CompiledSearch]) -> _CompiledSearch:
    """A compiled search for ``options``: the generator's cached one, or a new one.

    Tracing and optimising the step graph takes about half a second on a CPU -- as long as a
    hundred steps of a 32x32 model -- so a :class:`Generator` keeps its last few searches (in
    ``_recovery_searches``) for later calls with the same options.
    """
    cache = getattr(generator, "_recovery_searches", None)
    if not isinstance(cache, dict) or not options.reusable():
        return build()
    search = cache.pop(options, None)
    if search is not None and search.in_use:  # a search started from another one's callback
        cache[options] = search
        return build()
    cache[options] = search = search or build()
    while len(cache) > _CACHED_SEARCHES:
        cache.pop(next(iter(cache)))  # the least recently used
    return search


class _CompiledSearch:
    """The variables of one search and its Adam steps compiled as a ``tf.function``.

    Each call of ``run_steps`` takes the learning rate and the noise strength of each step to
    run (``[n]`` tensors, so neither the schedule nor ``n`` retraces it) and runs the ``n`` steps
    in a ``tf.while_loop``: one call from Python per ``n`` steps, not per step. That matters on
    a CPU, where a small generator's step is a few milliseconds and each call from Python, with
    its tensor conversions, adds about a third. It returns each step's per-restart
    losses ``[n, restarts]`` and the latents they were computed for ``[n, restarts, D]``.

    The target is a variable too, so that :meth:`reset` can start a new search on another image
    without tracing again.
    """

    def __init__(self, synthesize: Callable, objective: Callable, options: _SearchOptions,
                 latent_dim: int, image_shape: tuple):
        self.latents = tf.Variable(tf.zeros([options.restarts, latent_dim]), name="latents")
        self.target = tf.Variable(tf.zeros([1, *image_shape]), name="target")
        self.optimizer = keras.optimizers.Adam()
        self.optimizer.build([self.latents])  # its variables must exist before tracing
        self.rng = tf.random.Generator.from_seed(0)
        self.in_use = False
        self.run_steps = self._compile(synthesize, objective, options)

    def reset(self, start: np.ndarray, target: np.ndarray, noise_seed: int) -> None:
        """Starts a new search: new latents and target, fresh Adam moments, seeded noise."""
        self.latents.assign(start)
        self.target.assign(target[np.newaxis])
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.rng.reset_from_seed(noise_seed)

    def _compile(self, synthesize: Callable, objective: Callable,
                 options: _SearchOptions) -> Callable:
        latents, optimizer, rng = self.latents, self.optimizer, self.rng
        radius = math.sqrt(latents.shape[1])
        prior, prior_weight, clip = options.prior, options.prior_weight, options.stochastic_clip

        def step(loss_of, learning_rate, noise_std):
            optimizer.learning_rate.assign(learning_rate)
            # Only the latents need a gradient; by default the tape would also watch the
            # generator's weights, which the function call it records reads.
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(latents)
                evaluated = latents + noise_std * rng.normal(tf.shape(latents))
                if prior == "sphere":
                    evaluated = _to_sphere(evaluated, radius)
                images = synthesize(evaluated)
                per_restart = loss_of(images)
                if prior == "norm":
                    per_restart += prior_weight * tf.abs(tf.norm(evaluated, axis=1) - radius)
                total = tf.reduce_sum(per_restart)  # a sum: each restart's gradient is its own
            gradients = tape.gradient(total, [latents])
            if gradients[0] is None:  # known while tracing: Keras would say "No gradients"
                raise RecoveryError(
                    _no_gradient_message([term for term, _ in options.terms])
                    if tf.gradients(total, images)[0] is None else
                    "the generator's images do not depend on its latents as TensorFlow sees "
                    "them (no gradient from images to latents); pass a differentiable "
                    "generator, e.g. one from load_generator")
            optimizer.apply_gradients(zip(gradients, [latents]))
            if clip is not None:
                outside = tf.abs(latents) > clip
                latents.assign(tf.where(outside, rng.normal(tf.shape(latents)), latents))
            if prior == "sphere":
                latents.assign(_to_sphere(latents, radius))
            return per_restart, evaluated

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)] * 2, autograph=False)
        def run_steps(learning_rates, noise_stds):
            loss_of = objective(tf.convert_to_tensor(self.target))  # the target's pyramid etc.
            count = tf.shape(learning_rates)[0]

            def body(i, losses, evaluated):
                per_restart, latents_seen = step(loss_of, learning_rates[i], noise_stds[i])
                return i + 1, losses.write(i, per_restart), evaluated.write(i, latents_seen)

            _, losses, evaluated = tf.while_loop(
                lambda i, *_: i < count, body,
                (tf.constant(0), tf.TensorArray(tf.float32, count),
                 tf.TensorArray(tf.float32, count)))
            return losses.stack(), evaluated.stack()

        return run_steps


def _result(synthesize: Callable, target: np.ndarray, best: _Best, history: np.ndarray,
            snapshots: list[np.ndarray], image_shape: tuple, wall_time: float,
            interrupted: bool, reason: str | None) -> RecoveryResult:
    """Renders the best latent and the frames of its restart, and scores the image."""
    image = _render(synthesize, best.latent[np.newaxis])[0]
    frames = np.zeros((0, *image_shape), np.uint8)
    path = [snapshot[best.restart] for snapshot in snapshots
            if np.isfinite(snapshot[best.restart]).all()]
    if path:
        frames = to_uint8(np.concatenate([_render(synthesize, np.stack(path)),
                                          image[np.newaxis]]))
    return RecoveryResult(
        latent=best.latent, image=image, target=target, losses=history[:, best.restart],
        loss_history=history, frames=frames, psnr=psnr(image, target), ssim=ssim(image, target),
        wall_time=wall_time, steps_per_second=len(history) / wall_time if wall_time else math.inf,
        interrupted=interrupted, stopped_reason=reason, best_restart=best.restart,
        best_step=best.step, best_loss=best.loss)


class _Best:
    """The lowest finite loss seen so far, and the latent that scored it."""

    def __init__(self):
        self.loss, self.latent, self.step, self.restart = math.inf, None, -1, -1

    def update(self, step: int, losses: np.ndarray, latents: np.ndarray) -> None:
        finite = np.where(np.isfinite(losses), losses, np.inf)
        restart = int(np.argmin(finite))
        if finite[restart] < self.loss:
            self.loss, self.step, self.restart = float(finite[restart]), step, restart
            self.latent = latents[restart].copy()


def _no_gradient_message(losses: Sequence[Any]) -> str:
    """The one line for ``losses`` (a term, or all of them) that do not depend on the images."""
    names = ", ".join(_loss_name(loss) for loss in losses)
    extractors = {"perceptual": " (or its feature_extractor)",
                  "discriminator": " (or its discriminator)"}
    hint = "".join(extractors.get(loss, "") for loss in losses if isinstance(loss, str))
    return (f"the loss {names}{hint} does not depend on the generated images (it has no "
            f"gradient with respect to them); compute it from its `images` argument with "
            f"TensorFlow ops (tf.*, keras.ops), not NumPy, constants or tf.stop_gradient")


def _loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        return repr(loss)
    name = getattr(loss, "__name__", None) or getattr(loss, "name", None)
    if name == "<lambda>":
        return "(a lambda)"
    return repr(name) if isinstance(name, str) and name else type(loss).__name__


def _nan_message(step: int, losses: np.ndarray, best: _Best) -> str:
    bad = np.flatnonzero(~np.isfinite(losses))
    kept = (f"kept the best finite result (loss {best.loss:.5g} at step {best.step})"
            if best.latent is not None else "no finite result to keep")
    return (f"the loss became NaN/inf at step {step} (restart(s) {bad.tolist()}); stopped and "
            f"{kept}; check the loss function or lower learning_rate")


def _synthesizer(generator: Any) -> tuple[Callable[[tf.Tensor], tf.Tensor], int, tuple]:
    """A function latents -> raw float32 images for use inside ``tf.function``.

    For a :class:`Generator` this calls its SavedModel signature directly rather than
    ``generator(z)``: the wrapper's NaN check becomes a ``CheckNumerics`` op in a graph, and its
    gradient aborts the whole step with an ``InvalidArgumentError`` as soon as a loss turns NaN --
    the search should instead stop cleanly and keep its best result. The latents are checked
    once, up front, instead.
    """
    if isinstance(generator, Generator):
        signature, input_key, output_key = (generator.signature, generator.input_key,
                                            generator.output_key)
        args, kwargs = signature.structured_input_signature
        dtype = (kwargs[input_key] if input_key else args[0]).dtype

        def synthesize(latents):
            z = tf.cast(latents, dtype)
            outputs = signature(**{input_key: z}) if input_key else signature(z)
            return tf.cast(outputs if output_key is None else outputs[output_key], tf.float32)

        return synthesize, generator.latent_dim, tuple(generator.image_shape)
    latent_dim = getattr(generator, "latent_dim", None)
    image_shape = getattr(generator, "image_shape", None)
    if not callable(generator) or latent_dim is None or image_shape is None:
        raise ModelLoadError(f"{type(generator).__name__} is not a generator: it must be callable "
                             f"and have latent_dim and image_shape; load one with load_generator")
    return (lambda latents: tf.cast(generator(latents), tf.float32), int(latent_dim),
            tuple(int(side) for side in image_shape))


def _render(synthesize: Callable, latents: np.ndarray) -> np.ndarray:
    chunks = [synthesize(tf.constant(latents[i:i + _RENDER_CHUNK]))
              for i in range(0, len(latents), _RENDER_CHUNK)]
    return np.clip(tf.concat(chunks, axis=0).numpy(), 0.0, 1.0)


def _to_sphere(latents: Any, radius: float) -> tf.Tensor:
    return tf.math.l2_normalize(latents, axis=-1) * radius


def starting_latents(restarts: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """The random starting latents of ``recover_latent(..., restarts=restarts, seed=seed)``.

    They are standard normal (``recover_latent`` then scales them onto its sphere) and come from
    their own stream, ``np.random.SeedSequence(seed, spawn_key=(RECOVERY_STREAM, 0))``, which
    differs from :func:`~progan_tf.latents.sample_latents`' ``default_rng(seed)``: a latent
    sampled with a seed is never a search's start with the same seed. Like ``sample_latents``,
    more restarts only append rows. Use this to start another method where ``recover_latent``
    starts (a benchmark, say).

    Args:
        restarts: How many latents (rows).
        latent_dim: Their size.
        seed: ``recover_latent``'s ``seed``, an int >= 0.

    Returns:
        float32 ``[restarts, latent_dim]``.

    Raises:
        RecoveryError: If an argument is not a valid count or seed.
    """
    restarts = _positive_int(restarts, "restarts", 8)
    latent_dim = _positive_int(latent_dim, "latent_dim", 512)
    return _stream(_seed(seed), _STARTS).standard_normal((restarts, latent_dim)).astype(np.float32)


def _seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RecoveryError(f"seed must be an int >= 0, got {seed!r}; try seed=0")
    return int(seed)


def _stream(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed,
                                                        spawn_key=(RECOVERY_STREAM, purpose)))


def _noise_seed(seed: int) -> int:
    """The seed of the TF generator that draws the noise (and stochastic clipping's values)."""
    return int(_stream(seed, _NOISE).integers(0, 2**63 - 1))


def _initial_latents(initial: Any, restarts: int, latent_dim: int, seed: int) -> np.ndarray:
    start = starting_latents(restarts, latent_dim, seed)
    if initial is None:
        return start
    given = _as_latent_row(initial)
    if given.shape[1] != latent_dim or len(given) > restarts:
        raise LatentError(f"initial_latents has shape {tuple(given.shape)}; pass [{latent_dim}] "
                          f"or [n, {latent_dim}] with n <= restarts={restarts}")
    start[:len(given)] = given
    return start


def _as_latent_row(latents: Any) -> np.ndarray:
    try:
        array = np.asarray(latents, dtype=np.float32)
    except (TypeError, ValueError):
        raise LatentError(f"cannot use a {type(latents).__name__} as latents; pass a float array "
                          f"[D] or [n, D]") from None
    if array.ndim == 1:
        array = array[np.newaxis]
    if array.ndim != 2 or array.shape[1] == 0 or array.shape[0] == 0:
        raise LatentError(f"latents must have shape [D] or [n, D], got {array.shape}")
    if not np.isfinite(array).all():
        raise LatentError("the initial latents contain NaN or inf values; re-sample them")
    return array


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _progress(iterable, enabled: bool, description: str):
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(iterable, desc=description, disable=not enabled, leave=False)


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(total=total, desc="recover_latent", unit="step", disable=not enabled)


def _positive_int(value: Any, name: str, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise RecoveryError(f"{name} must be a positive int, got {value!r}; try {name}={example}")
    return int(value)


def _number(value: Any, name: str, *, low: float, high: float = math.inf,
            low_open: bool = False) -> float:
    valid = (not isinstance(value, bool) and isinstance(value, (int, float, np.number))
             and math.isfinite(value) and (value > low if low_open else value >= low)
             and value <= high)
    if not valid:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        bound += f" and <= {high:g}" if math.isfinite(high) else ""
        raise RecoveryError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


def _one_line(err: Any, limit: int = 200) -> str:
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
