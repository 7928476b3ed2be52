"""Animations from frames: a looping GIF or an MP4 on disk, shown inline in Jupyter and Colab.

A latent walk is a few hundred to a few thousand frames, and it often comes out of a generator
function one batch at a time. :func:`animate` therefore *streams*: each frame is checked,
converted to uint8 and encoded as soon as it arrives, so a 1,000-frame animation never holds
more than one batch in memory. Both writers stream:

* **GIF** is encoded here, frame by frame, because Pillow (and imageio's Pillow plugin) keep
  every frame until the file is closed. Pillow still quantizes and compresses each frame; this
  module only stitches the frames into one file, each with its own 256-colour palette.
* **MP4** pipes frames into ffmpeg through imageio's ffmpeg plugin (``pip install
  imageio-ffmpeg``), as H.264 in yuv420p so that every browser and Colab can play it.

Files are written atomically (:func:`progan_tf.fileio.atomic_path`: a hidden temporary file
next to the target, renamed over it at the end), so a crash or a ``KeyboardInterrupt`` mid-way
never leaves a half-written animation behind, and an older file at that path survives
untouched.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import io
import itertools
import math
import os
import secrets
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from progan_tf.checks import check_number, check_whole_number
from progan_tf.display import in_ipython
from progan_tf.errors import ImageLoadError, MissingDependencyError, OptionError
from progan_tf.fileio import atomic_path

__all__ = ["FORMATS", "MAX_EMBED_BYTES", "MAX_GIF_FPS", "animate"]

FORMATS = ("gif", "mp4")
MAX_GIF_FPS = 50  # browsers play GIF delays under 20 ms as 100 ms
MAX_EMBED_BYTES = 20_000_000  # bigger files are named, not embedded in the notebook


def animate(
    frames: Any,
    path: str | os.PathLike | None = None,
    *,
    fps: float = 25,
    boomerang: bool = False,
    loop: int = 0,
    display: bool = True,
    format: str | None = None,  # shadows the builtin: the usual name, as in PIL and IPython
    quality: float = 8,
) -> Path:
    """Writes frames to a GIF or MP4 file and shows it inline in Jupyter or Colab.

    Args:
        frames: A batch ``[N, H, W, 3]`` (NumPy array or ``tf.Tensor``), or any iterable -- a
            list, a generator, a ``tf.data.Dataset`` -- of single frames ``[H, W, 3]`` and/or
            batches ``[n, H, W, 3]``. Pixels are uint8, or floats in ``[0, 1]`` (clipped and
            rounded). Iterables are consumed lazily and frames are encoded as they arrive.
        path: Where to write; ``.gif`` or ``.mp4`` (the suffix picks the format). Missing
            folders are created. ``None`` writes to a new file in the system's temporary folder
            -- handy for just looking at an animation.
        fps: Frames per second. GIFs store delays in hundredths of a second, so for rates like
            30 fps the delays alternate (30 ms, 40 ms, ...) to keep the total length right. GIFs
            are limited to 50 fps, since browsers slow faster GIFs down to 10 fps.
        boomerang: Play forward, then backward back to the start (``2N - 2`` frames; the end
            frames are not repeated), so a loop has no jump. Streamed frames are spilled to an
            anonymous temporary file for the way back, so memory still holds one frame; an array
            is simply read twice.
        loop: How many times a GIF plays: ``0`` (the default) forever, ``1`` once, ``n`` n
            times. An MP4 file cannot ask to loop; ``0`` makes the inline player loop.
        display: Show the result inline when running in IPython (Jupyter, Colab). Files over
            20 MB are only named, not embedded, so the notebook stays small.
        format: ``"gif"`` or ``"mp4"``; needed only when ``path`` is ``None`` or has another
            suffix.
        quality: MP4 quality from 0 (worst) to 10 (best), as in imageio; GIFs ignore it.

    Returns:
        The written file. (End the cell with ``;`` to hide it under the inline animation.)

    Raises:
        ImageLoadError: No frames, a NaN, a frame that is not ``[H, W, 3]``, or a frame of
            another size than frame 0 (the message names the frame).
        OptionError: A bad option, an unknown suffix, or an MP4 without ``imageio-ffmpeg``.

    Example:
    >>> import tempfile
    >>> from progan_tf import load_generator, sample_latents, walk
    >>> generator = load_generator("bundled")
    >>> folder = Path(tempfile.mkdtemp())
    >>> path = walk(sample_latents(3, generator.latent_dim, seed=1), 11, loop=True)
    >>> frames = (image for batch in generator.iter_images(path) for image in batch)
    >>> animate(frames, folder / "walk.gif", fps=20, display=False).name  # 30 frames, streamed
    'walk.gif'
    >>> animate(generator(path[:5]), folder / "there-and-back.gif", boomerang=True,
    ...         display=False).stat().st_size > 0
    True
    """
    file_format = _file_format(path, format)
    fps = _checked_fps(fps, file_format)
    # 0 plays forever; a GIF stores the number of repeats in 16 bits.
    play_count = check_whole_number(loop, "loop", minimum=0, maximum=65536)
    quality = check_number(quality, "quality", minimum=0, maximum=10)
    if file_format == "mp4":
        _require_ffmpeg()

    stream = _uint8_frames(frames, boomerang)
    if path is None:
        name = f"progan-animation-{secrets.token_hex(6)}.{file_format}"
        target = Path(tempfile.gettempdir()) / name
    else:
        target = Path(path).expanduser()
    _write_atomically(target, file_format, stream, fps=fps, play_count=play_count, quality=quality)
    if display and in_ipython():
        _show_inline(target, file_format, loop_forever=play_count == 0)
    return target


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def _file_format(path, requested: str | None) -> str:
    suffix = Path(path).suffix.lower().lstrip(".") if path is not None else ""
    if requested is not None:
        requested = str(requested).lower().lstrip(".")
        if requested not in FORMATS:
            raise OptionError(f'format={requested!r} is not supported; use "gif" or "mp4"')
        if suffix in FORMATS and suffix != requested:
            raise OptionError(f"{str(path)!r} ends in .{suffix} but format={requested!r}; "
                              f"drop format= or change the suffix")
        return requested
    if path is None:
        return "gif"
    if suffix not in FORMATS:
        raise OptionError(f"cannot tell an animation format from the file name {str(path)!r}; "
                          f"end it with .gif or .mp4")
    return suffix


def _checked_fps(fps: Any, file_format: str) -> float:
    fps = check_number(fps, "fps", exclusive_minimum=0)
    if file_format == "gif" and fps > MAX_GIF_FPS:
        raise OptionError(f"fps={fps:g} is too fast for a GIF (browsers play GIFs faster than "
                          f"{MAX_GIF_FPS} fps at 10 fps); use fps<={MAX_GIF_FPS} or an .mp4")
    return fps


def _require_ffmpeg() -> None:
    try:
        importlib.import_module("imageio_ffmpeg").get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise MissingDependencyError("writing .mp4 needs ffmpeg: run `pip install "
                                     "imageio-ffmpeg`, or save a .gif instead") from None


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _uint8_frames(frames: Any, boomerang: bool) -> Iterator[np.ndarray]:
    """Checked uint8 ``[H, W, 3]`` frames, lazily; the boomerang's way back included."""
    if isinstance(frames, (str, bytes, os.PathLike)):
        raise ImageLoadError(f"frames must be an array or an iterable of arrays, got "
                             f"{type(frames).__name__} {str(frames)[:60]!r}")
    if hasattr(frames, "shape") and hasattr(frames, "__array__"):  # NumPy array, tf.Tensor
        batch = np.asarray(frames)
        if batch.ndim != 4:
            raise ImageLoadError(f"frames has shape {batch.shape}, but animate needs a batch "
                                 f"[n, height, width, 3] (or an iterable of frames)")
        if len(batch) == 0:
            raise ImageLoadError("frames is empty; pass at least one frame")
        order = range(len(batch))
        if boomerang:
            order = itertools.chain(order, range(len(batch) - 2, 0, -1))
        return _checked_sizes((index, batch[index]) for index in order)
    try:
        items = iter(frames)
    except TypeError:
        raise ImageLoadError(f"frames must be an array or an iterable of arrays, got "
                             f"{type(frames).__name__}") from None
    stream = _checked_sizes(enumerate(_split_batches(items)))
    return _there_and_back(stream) if boomerang else stream


def _split_batches(items: Iterator[Any]) -> Iterator[np.ndarray]:
    for item in items:
        pixels = np.asarray(item)
        if pixels.ndim == 4:
            yield from pixels
        else:
            yield pixels


def _checked_sizes(indexed_frames: Iterable[tuple[int, Any]]) -> Iterator[np.ndarray]:
    first_shape = None
    for index, frame in indexed_frames:
        pixels = _to_uint8(np.asarray(frame), index)
        if first_shape is None:
            first_shape = pixels.shape
        elif pixels.shape != first_shape:
            raise ImageLoadError(f"frame {index} is {pixels.shape[0]}x{pixels.shape[1]} "
                                 f"(height x width) but frame 0 is {first_shape[0]}x"
                                 f"{first_shape[1]}; resize all frames to one size")
        yield pixels


def _to_uint8(pixels: np.ndarray, index: int) -> np.ndarray:
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or 0 in pixels.shape:
        raise ImageLoadError(f"frame {index} has shape {pixels.shape}, but frames must be "
                             f"[height, width, 3] (RGB, channels last)")
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype.kind in "iu":
        if pixels.min() < 0 or pixels.max() > 255:
            raise ImageLoadError(f"frame {index} holds {pixels.dtype} values outside 0..255; "
                                 f"pass uint8 or floats in [0, 1]")
        return pixels.astype(np.uint8)
    if pixels.dtype.kind != "f":
        raise ImageLoadError(f"frame {index} has dtype {pixels.dtype}; pass uint8 or floats "
                             f"in [0, 1]")
    pixels = pixels.astype(np.float32, copy=False)
    if not np.isfinite(pixels).all():
        raise ImageLoadError(f"frame {index} holds NaN or infinite values; check the "
                             f"computation that produced it")
    high, low = float(pixels.max()), float(pixels.min())
    if high > 2.0:  # clipping would silently give a white animation
        raise ImageLoadError(f"frame {index} holds floats up to {high:g}, but float frames "
                             f"must be in [0, 1]; divide 0..255 data by 255")
    if low < -0.5:
        raise ImageLoadError(f"frame {index} holds floats down to {low:g}, but float frames "
                             f"must be in [0, 1]; map [-1, 1] data with (x + 1) / 2")
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


def _there_and_back(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Frames forward, then backward without repeating either end frame.

    The forward frames are copied to an anonymous temporary file (deleted when closed), so a
    long stream costs disk space, not memory.
    """
    with tempfile.TemporaryFile() as spill:
        count, shape = 0, None
        for frame in frames:
            yield frame
            spill.write(np.ascontiguousarray(frame).tobytes())
            count, shape = count + 1, frame.shape
        frame_bytes = math.prod(shape) if shape else 0
        for index in range(count - 2, 0, -1):
            spill.seek(index * frame_bytes)
            yield np.frombuffer(spill.read(frame_bytes), np.uint8).reshape(shape)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _write_atomically(target: Path, file_format: str, frames: Iterator[np.ndarray], *,
                      fps: float, play_count: int, quality: float) -> None:
    # The temporary name ends in the format: imageio's ffmpeg writer picks the container from it
    # (and refuses other names), whatever the target is called when format= is given.
    with atomic_path(target, suffix=f".{file_format}") as temporary:
        if file_format == "gif":
            count = _write_gif(temporary, frames, fps, play_count)
        else:
            count = _write_mp4(temporary, frames, fps, quality)
        if count == 0:
            raise ImageLoadError("frames is empty; pass at least one frame")


def _write_gif(path: Path, frames: Iterator[np.ndarray], fps: float, play_count: int) -> int:
    count = 0
    with open(path, "xb") as file:  # "x": a fresh file; mode bits follow the umask
        for count, frame in enumerate(frames, start=1):
            if count == 1:
                _write_gif_header(file, frame.shape, play_count)
            # Delays are whole hundredths of a second; rounding the running total instead of
            # each delay keeps the animation's length right (30 fps -> 3, 4, 3, 3, 4, ...).
            delay = round(count * 100 / fps) - round((count - 1) * 100 / fps)
            _write_gif_frame(file, frame, delay)
        file.write(b";")  # trailer
    return count


def _write_gif_header(file: BinaryIO, shape: tuple[int, ...], play_count: int) -> None:
    height, width = shape[:2]
    # Logical screen without a global colour table: every frame brings its own palette.
    file.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0))
    if play_count != 1:  # no NETSCAPE block plays once; its count is the number of *repeats*
        repeats = 0 if play_count == 0 else play_count - 1
        file.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", repeats) + b"\x00")


def _write_gif_frame(file: BinaryIO, frame: np.ndarray, delay: int) -> None:
    """Lets Pillow quantize and LZW-compress one frame, then moves its palette into the frame."""
    image = Image.fromarray(frame)
    # Frames with at most 256 colours keep them exactly; others get a fast octree palette
    # (about 50x faster than Pillow's default median cut, and nearly as close).
    exact = image.getcolors(256) is not None  # gives up as soon as it counts 257
    method = Image.Quantize.MEDIANCUT if exact else Image.Quantize.FASTOCTREE
    buffer = io.BytesIO()
    image.quantize(256, method=method).save(buffer, format="GIF", interlace=False)
    palette_flags, palette, image_data = _split_single_frame_gif(buffer.getvalue())
    height, width = frame.shape[:2]
    # Graphic control extension: disposal 1 (leave the frame in place), delay, no transparency.
    file.write(b"!\xf9\x04" + struct.pack("<BHBB", 1 << 2, delay, 0, 0))
    file.write(b"," + struct.pack("<HHHHB", 0, 0, width, height, palette_flags))
    file.write(palette)
    file.write(image_data)


def _split_single_frame_gif(data: bytes) -> tuple[int, bytes, bytes]:
    """A one-frame GIF as (local colour table flags, colour table, LZW image data)."""
    screen_flags = data[10]
    position = 13
    palette_flags, palette = 0, b""
    if screen_flags & 0x80:  # global colour table
        palette_size = 3 * 2 ** ((screen_flags & 0x07) + 1)
        palette = data[position:position + palette_size]
        palette_flags = 0x80 | (screen_flags & 0x07)
        position += palette_size
    while data[position:position + 1] == b"!":  # skip extensions: label, then sub-blocks
        position += 2
        position = _skip_sub_blocks(data, position)
    if data[position:position + 1] != b",":
        raise RuntimeError("Pillow wrote a GIF frame without an image block")
    descriptor_flags = data[position + 9]
    position += 10
    if descriptor_flags & 0x80:  # the frame brought its own (local) colour table
        palette_size = 3 * 2 ** ((descriptor_flags & 0x07) + 1)
        palette = data[position:position + palette_size]
        palette_flags = 0x80 | (descriptor_flags & 0x07)
        position += palette_size
    palette_flags |= descriptor_flags & 0x40  # keep the interlace bit
    start = position
    position = _skip_sub_blocks(data, position + 1)  # LZW minimum code size, then sub-blocks
    return palette_flags, palette, data[start:position]


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while data[position]:
        position += data[position] + 1
    return position + 1  # past the zero-length terminator


def _write_mp4(path: Path, frames: Iterator[np.ndarray], fps: float, quality: float) -> int:
    import imageio.v2 as imageio  # only MP4 needs it

    count = 0
    writer = imageio.get_writer(
        path, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=quality,
        pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],  # playable while it loads
    )
    # Not `with`: on an error it would leave ffmpeg running, to finish (and with +faststart,
    # rewrite) the file after the caller has deleted it.
    try:
        for frame in frames:
            writer.append_data(_even_sized(frame))
            count += 1
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            writer.close()
        raise
    writer.close()
    return count


def _even_sized(frame: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs an even width and height; odd ones get their last pixels repeated."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


# --------------------------------------------------------------------------------------------
# Showing
# --------------------------------------------------------------------------------------------


def _show_inline(path: Path, file_format: str, loop_forever: bool) -> None:
    from IPython.display import HTML, Video, display
    from IPython.display import Image as IPythonImage

    size = path.stat().st_size
    if size > MAX_EMBED_BYTES:
        display(HTML(f"<p>Saved <code>{html.escape(str(path))}</code> "
                     f"({size / 1e6:.0f} MB): too big to show inline, open the file "
                     f"instead.</p>"))
    elif file_format == "gif":
        display(IPythonImage(data=path.read_bytes(), format="gif"))
    else:
        attributes = "loop autoplay muted controls" if loop_forever else "controls"
        display(Video(str(path), embed=True, mimetype="video/mp4", html_attributes=attributes))
