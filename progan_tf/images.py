"""Images in and out: one loader for every way a notebook user can hand over a picture.

Workshop participants bring pictures as file paths, URLs, Colab ``files.upload()`` results,
``ipywidgets.FileUpload`` values, raw bytes, arrays or PIL images. :func:`load_image` turns all of
them into the one thing the rest of progan-tf expects -- a float32 ``[H, W, 3]`` array in
``[0, 1]``, upright (EXIF orientation applied), transparency flattened onto white, optionally
centre-cropped and resized -- and turns everything that can go wrong into a one-line
:class:`~progan_tf.errors.ImageLoadError` that names the file.

The display helpers take the same arrays (or ``tf.Tensor``s), single images ``[H, W, 3]`` or
batches ``[N, H, W, 3]``. They never call ``plt.show()``: in Jupyter and Colab the inline backend
shows new figures at the end of the cell, and the returned figures know not to show up twice.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import math
import os
import secrets
import urllib.error
import urllib.parse
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageOps, UnidentifiedImageError

from progan_tf.downloads import DownloadTimeout, RedirectRefused, open_url
from progan_tf.errors import ImageLoadError

DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_DOWNLOAD_BYTES = 50_000_000

_BYTES_TYPES = (bytes, bytearray, memoryview)
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_EXIF_ORIENTATION = 0x0112
_SIDEWAYS_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that rotate by 90 degrees


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_image(
    source: Any,
    size: int | tuple[int, int] | None = None,
    *,
    crop: str | None = "center",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
) -> np.ndarray:
    """Loads a picture from almost anything as a float32 ``[H, W, 3]`` array in ``[0, 1]``.

    Parameters
    ----------
    source
        A file path (``str`` or ``os.PathLike``); an ``http://`` or ``https://`` URL; image file
        contents as ``bytes``/``bytearray``/``memoryview``; a binary file object; the dict that
        Colab's ``files.upload()`` returns; an ``ipywidgets.FileUpload`` widget or its ``.value``
        (ipywidgets 8 tuple or ipywidgets 7 dict); a PIL image; or an already decoded array
        (``[H, W]``, ``[H, W, 3]`` or ``[H, W, 4]``; uint8, uint16 or float in ``[0, 1]``).
    size
        ``None`` keeps the original size, an int gives a square, ``(height, width)`` anything else.
    crop
        ``"center"`` first crops the largest centred region with the target aspect ratio, so
        nothing is distorted; ``None`` resizes the whole picture, stretching it if needed.
    max_pixels
        Pictures with more pixels than this (:data:`DEFAULT_MAX_PIXELS`, 64 million, by
        default) are refused before they are decoded, so a tiny malicious file cannot claim
        gigabytes of memory (a "decompression bomb"). Loaders that read many files, such as a
        training folder, pass their own limit here.
    name
        Which file to take from an upload that holds several.
    timeout
        Seconds a URL download may take in all: connecting, redirects and every read together
        (a server that trickles bytes cannot stretch it).
    max_download_bytes
        Largest URL download accepted.

    Returns
    -------
    np.ndarray
        float32 ``[H, W, 3]`` in ``[0, 1]``: EXIF orientation applied, transparency composited on
        white, greyscale and palette images expanded to RGB, 16-bit images scaled by 65535, and
        only the first frame of an animation.

    Raises
    ------
    ImageLoadError
        If the source is missing, empty, truncated, not an image, too large, or cannot be fetched.

    Examples
    --------
    >>> image = load_image("face.jpg", size=128)               # doctest: +SKIP
    >>> image = load_image(files.upload(), size=128)           # Colab  # doctest: +SKIP
    >>> image = load_image(upload_widget, size=(128, 128))     # Jupyter  # doctest: +SKIP
    >>> image.shape, image.dtype                               # doctest: +SKIP
    ((128, 128, 3), dtype('float32'))
    """
    target = parse_size(size)
    if crop not in ("center", None):
        raise ImageLoadError(f'crop={crop!r} is not supported; use crop="center" or crop=None')
    if not _is_positive_int(max_pixels):
        raise ImageLoadError(f"max_pixels must be a positive int, got {max_pixels!r}")
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.integer, np.floating))
            or not 0 < timeout < math.inf):
        raise ImageLoadError(f"timeout must be a positive number of seconds, got {timeout!r}")

    if isinstance(source, Image.Image):
        # The caller's image: decode it as it is (current frame, no in-place draft mode).
        label = repr(source.filename) if getattr(source, "filename", "") else "<PIL image>"
        with _pillow_errors(label):
            _check_pixels(source, label, max_pixels)
            image = _pil_to_array(source, label)
    elif not isinstance(source, _BYTES_TYPES) and hasattr(source, "__array__"):
        image = _as_image(source, "<array>")
    else:
        stream, label = _open_source(source, name, timeout, max_download_bytes)
        with _pillow_errors(label), Image.open(stream) as opened:
            _check_pixels(opened, label, max_pixels)
            if target is not None:
                _draft(opened, target)
            image = _pil_to_array(opened, label)
    return _fit(image, target, crop)


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def parse_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """Checks a ``size`` argument as :func:`load_image` reads it.

    Args:
        size: ``None``, a positive int (a square) or ``(height, width)``.

    Returns:
        ``None`` or ``(height, width)`` as Python ints.

    Raises:
        ImageLoadError: If ``size`` is anything else.
    """
    if size is None:
        return None
    pair = (size, size) if _is_positive_int(size) else size
    valid = isinstance(pair, (tuple, list)) and len(pair) == 2
    if not (valid and all(map(_is_positive_int, pair))):
        raise ImageLoadError(f"size must be None, a positive int or (height, width), got {size!r}")
    return int(pair[0]), int(pair[1])


_parse_size = parse_size  # the old private name, still imported by progan_tf.face


def _open_source(source, name, timeout, max_download_bytes) -> tuple[Any, str]:
    """What ``Image.open`` accepts for ``source``, and a label naming it in error messages."""
    if isinstance(source, _BYTES_TYPES):
        return _bytes_stream(source, "<bytes>"), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        text = os.fsdecode(os.fspath(source))
        if "://" in text:
            scheme = urllib.parse.urlsplit(text).scheme.lower()
            if scheme not in ("http", "https"):
                raise ImageLoadError(f"refusing to load {text!r}: only http:// and https:// URLs "
                                     f"are supported; download the file and pass its path")
            return io.BytesIO(_download(text, timeout, max_download_bytes)), text
        return _checked_path(text), repr(text)
    if isinstance(source, (dict, list, tuple)):
        upload_name, content = _pick_upload(_upload_entries(source), name)
        label = repr(upload_name)
        return _bytes_stream(content, label), label
    if hasattr(source, "read"):
        file_name = getattr(source, "name", None)
        return source, repr(file_name) if isinstance(file_name, str) else "<file object>"
    value = getattr(source, "value", None)
    if isinstance(value, (dict, list, tuple)):  # an ipywidgets.FileUpload widget
        return _open_source(value, name, timeout, max_download_bytes)
    raise ImageLoadError(f"cannot load an image from a {type(source).__name__}; pass a file path, "
                         f"URL, bytes, file object, upload, PIL image or array")


def _checked_path(path: str) -> str:
    """The path, after ruling out the mistakes Pillow would report confusingly."""
    resolved = Path(path).expanduser()
    if resolved.is_dir():
        raise ImageLoadError(f"{path!r} is a folder, not an image file; "
                             f"pass the path of one image inside it")
    if not resolved.exists():
        where = "" if resolved.is_absolute() else f" (relative to {os.getcwd()!r})"
        raise ImageLoadError(f"image file {path!r} does not exist{where}; "
                             f"check the spelling and the folder")
    if resolved.stat().st_size == 0:
        raise ImageLoadError(f"image file {path!r} is empty (0 bytes); re-download or re-export it")
    return str(resolved)


def _bytes_stream(data, label: str) -> io.BytesIO:
    if not isinstance(data, _BYTES_TYPES):
        raise ImageLoadError(f"upload {label} holds a {type(data).__name__}, not file contents; "
                             f"pass the upload result unchanged")
    if len(data) == 0:
        raise ImageLoadError(f"image data {label} is empty (0 bytes); upload or read it again")
    return io.BytesIO(data)


def _upload_entries(value) -> list[tuple[str, Any]]:
    """``(file name, contents)`` pairs from a Colab or ipywidgets 7/8 upload value."""
    if isinstance(value, dict):
        if "name" in value and "content" in value:  # one ipywidgets 8 entry, e.g. ``value[0]``
            return [(str(value["name"]), value["content"])]
        # Colab: {name: bytes}; ipywidgets 7: {name: {"metadata": ..., "content": bytes}}.
        return [(str(key), item.get("content") if isinstance(item, dict) else item)
                for key, item in value.items()]
    entries = []
    for item in value:  # ipywidgets 8: ({"name": ..., "type": ..., "size": ..., "content": ...},)
        if not isinstance(item, dict) or "content" not in item:
            raise ImageLoadError(f"cannot load an image from a {type(value).__name__} of "
                                 f"{type(item).__name__}; pass an upload value, or np.asarray(...) "
                                 f"for pixel data")
        entries.append((str(item.get("name", "<upload>")), item["content"]))
    return entries


def _pick_upload(entries: list[tuple[str, Any]], name: str | None) -> tuple[str, Any]:
    if not entries:
        raise ImageLoadError("the upload is empty; run the upload cell again and choose an image")
    names = ", ".join(repr(n) for n, _ in entries)
    if name is not None:
        for entry in entries:
            if entry[0] == name:
                return entry
        raise ImageLoadError(f"no uploaded file is named {name!r}; the upload holds {names}")
    if len(entries) > 1:
        raise ImageLoadError(f"the upload holds {len(entries)} files ({names}); choose one with "
                             f"name=, e.g. load_image(upload, name={entries[0][0]!r})")
    return entries[0]


def _download(url: str, timeout: float, max_bytes: int) -> bytes:
    """The body of ``url``, bounded in size and in total time (connection and all reads)."""
    too_large = ImageLoadError(f"{url} is larger than the download limit of "
                               f"{_format_bytes(max_bytes)}; download it yourself and pass the "
                               f"file path, or pass a larger max_download_bytes")
    chunks, total = [], 0
    try:
        with open_url(url, timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise too_large
            while chunk := response.read1(1 << 16):
                total += len(chunk)
                if total > max_bytes:
                    raise too_large
                chunks.append(chunk)
    except ImageLoadError:
        raise
    except DownloadTimeout:
        raise ImageLoadError(f"downloading {url} took longer than {timeout:g} s; check the "
                             f"address, or pass a larger timeout") from None
    except RedirectRefused as exc:
        raise ImageLoadError(str(exc.reason)) from None
    except urllib.error.HTTPError as exc:
        raise ImageLoadError(f"downloading {url} failed with HTTP {exc.code} {exc.reason}; "
                             f"check the address in a browser") from None
    except urllib.error.URLError as exc:
        raise ImageLoadError(f"could not reach {url} ({exc.reason}); check the address and the "
                             f"internet connection") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ImageLoadError(f"downloading {url} failed ({type(exc).__name__}: {exc}); "
                             f"try again, or download it yourself and pass the path") from None
    if total == 0:
        raise ImageLoadError(f"{url} returned no data; check the address in a browser")
    return b"".join(chunks)


def _format_bytes(count: int) -> str:
    return f"{count / 1e6:g} MB" if count >= 1_000_000 else f"{count} bytes"


@contextlib.contextmanager
def _pillow_errors(label: str):
    """Turns Pillow's many exception types into one ImageLoadError naming ``label``."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own pixel limit; _check_pixels decides instead, so a
            # caller's larger max_pixels is honoured (up to Pillow's hard error at twice it).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{label} is too large to decode safely ({exc}); "
                             f"shrink it with an image editor first") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{label} is not an image file Pillow can read; pass a JPEG, PNG, "
                             f"GIF, BMP, TIFF or WebP file") from None
    except PermissionError:
        raise ImageLoadError(f"no permission to read {label}; "
                             f"check the file's permissions") from None
    except MemoryError:
        raise
    except Exception as exc:  # Pillow's decoders raise OSError, SyntaxError, ValueError, ...
        raise ImageLoadError(f"could not decode {label} ({type(exc).__name__}: {exc}); the file "
                             f"may be truncated or corrupt, re-download or re-export it") from exc


def _check_pixels(image: Image.Image, label: str, max_pixels: int) -> None:
    """Refuses oversized images using only the header (``Image.open`` has decoded nothing yet)."""
    width, height = image.size
    if width * height > max_pixels:
        raise ImageLoadError(f"{label} is {width}x{height} = {width * height:,} pixels, more than "
                             f"max_pixels={max_pixels:,}; shrink it first, or pass a larger "
                             f"max_pixels if you trust the file")


def _draft(image: Image.Image, target: tuple[int, int]) -> None:
    """Lets the JPEG decoder shrink by 2, 4 or 8 while decoding, never below ``target``.

    A 12-megapixel phone photo wanted at 128x128 then decodes in a fraction of the time and memory.
    """
    if image.format not in ("JPEG", "MPO"):
        return
    height, width = target
    if image.getexif().get(_EXIF_ORIENTATION) in _SIDEWAYS_ORIENTATIONS:
        height, width = width, height  # the target is upright; the stored pixels are not
    scale = min(image.width / width, image.height / height)
    if scale >= 2:
        image.draft(image.mode, (math.ceil(image.width / scale), math.ceil(image.height / scale)))


def _pil_to_array(image: Image.Image, label: str) -> np.ndarray:
    """Decodes ``image`` upright as float32 RGB in [0, 1]."""
    image = ImageOps.exif_transpose(image)  # a transposed copy; the caller's image is untouched
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16/32-bit greyscale: Pillow's convert("RGB") would clip at 255, so scale in NumPy.
        pixels = np.asarray(image)
        if image.mode == "I":  # Pillow's 32-bit mode, which some plugins use for 16-bit data
            pixels = pixels.clip(0, 65535).astype(np.uint16)
    elif image.mode in _ALPHA_MODES or "transparency" in image.info:
        pixels = np.asarray(image.convert("RGBA"))
    else:
        pixels = np.asarray(image.convert("RGB"))  # also CMYK, YCbCr, palette, 1-bit, ...
    return _as_image(pixels, label)


def _fit(image: np.ndarray, target: tuple[int, int] | None, crop: str | None) -> np.ndarray:
    if target is None:
        return image
    height, width = target
    if crop == "center":
        image = _center_crop(image, width / height)
    if image.shape[:2] != (height, width):
        from skimage.transform import resize  # noqa: PLC0415 -- skimage is slow to import

        image = resize(image, (height, width), order=1, anti_aliasing=True)
    return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)


def _center_crop(image: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred region of ``image`` whose width / height is ``aspect``."""
    height, width = image.shape[:2]
    if width > height * aspect:
        new_width = max(1, round(height * aspect))
        left = (width - new_width) // 2
        return image[:, left:left + new_width]
    new_height = max(1, round(width / aspect))
    top = (height - new_height) // 2
    return image[top:top + new_height]


# --------------------------------------------------------------------------------------------
# Array conversions
# --------------------------------------------------------------------------------------------


def _to_unit_float(pixels: np.ndarray, label: str) -> np.ndarray:
    """Any pixel dtype as float32 in [0, 1]; the shape is unchanged."""
    kind = pixels.dtype.kind
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255.0
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) / 65535.0
    if kind == "b":
        return pixels.astype(np.float32)
    if kind in "iu":
        if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
            raise ImageLoadError(f"{label} holds {pixels.dtype} values outside 0..255; "
                                 f"cast 8-bit data to uint8, 16-bit data to uint16")
        return pixels.astype(np.float32) / 255.0
    if kind == "f":
        pixels = pixels.astype(np.float32)
        if pixels.size:
            if not np.isfinite(pixels).all():
                raise ImageLoadError(f"{label} holds NaN or infinite values; "
                                     f"check the computation that produced it")
            low, high = float(pixels.min()), float(pixels.max())
            if high > 2.0:
                raise ImageLoadError(f"{label} holds floats up to {high:g}, but float images "
                                     f"must be in [0, 1]; divide 0..255 data by 255")
            if low < -0.5:
                raise ImageLoadError(f"{label} holds floats down to {low:g}, but float images "
                                     f"must be in [0, 1]; map [-1, 1] data with (x + 1) / 2")
        return np.clip(pixels, 0.0, 1.0)
    raise ImageLoadError(f"{label} has dtype {pixels.dtype}, which is not an image dtype; "
                         f"pass uint8, uint16 or float pixels")


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """Float pixels with 1 (grey), 2 (grey + alpha), 3 or 4 (RGBA) channels as RGB on white."""
    channels = pixels.shape[-1]
    if channels in (2, 4):
        color, alpha = pixels[..., :-1], pixels[..., -1:]
        pixels = color * alpha + (1.0 - alpha)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels


def _as_image(image: Any, label: str = "image") -> np.ndarray:
    """One image (array, tensor, PIL image, ...) as float32 ``[H, W, 3]`` in [0, 1]."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4) or 0 in pixels.shape:
        raise ImageLoadError(f"{label} has shape {pixels.shape}, but one image must be "
                             f"[height, width, 3] (or [height, width] / [height, width, 4]); "
                             f"use make_grid or show_grid for batches")
    return _to_rgb(_to_unit_float(pixels, label))


def _as_images(images: Any) -> list[np.ndarray]:
    """A batch ``[N, H, W, C]``, a sequence of images, or one image as a list of RGB images."""
    if isinstance(images, (list, tuple)):
        return [_as_image(image, f"image {index}") for index, image in enumerate(images)]
    pixels = np.asarray(images)
    if pixels.ndim == 4:
        return list(_as_image_batch(pixels))
    return [_as_image(pixels)]


def _as_image_batch(pixels: np.ndarray) -> np.ndarray:
    if pixels.shape[-1] not in (1, 2, 3, 4) or 0 in pixels.shape[1:]:
        raise ImageLoadError(f"batch has shape {pixels.shape}, but a batch must be "
                             f"[n, height, width, 3]; move channels last if they come first")
    return _to_rgb(_to_unit_float(pixels, "batch"))


def to_uint8(images: Any) -> np.ndarray:
    """Converts float images in ``[0, 1]`` to uint8 ``[0, 255]``, e.g. for saving or video frames.

    Accepts NumPy arrays and ``tf.Tensor``s of any shape -- one image or a batch. Values are
    clipped to ``[0, 1]`` and rounded; uint8 input is returned unchanged.

    Examples
    --------
    >>> to_uint8(np.array([0.0, 0.5, 1.0]))
    array([  0, 128, 255], dtype=uint8)
    """
    pixels = np.asarray(images)
    if pixels.dtype == np.uint8:
        return pixels
    return np.round(_to_unit_float(pixels, "images") * 255.0).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Saving and showing
# --------------------------------------------------------------------------------------------


def save_image(image: Any, path: str | os.PathLike) -> Path:
    """Saves one image atomically; the format follows the file extension (.png, .jpg, ...).

    The picture is written to a hidden temporary file next to ``path`` and then renamed over it,
    so an interrupted save never leaves a half-written image behind. Missing folders are created.

    Examples
    --------
    >>> save_image(np.zeros((8, 8, 3)), "out/black.png")      # doctest: +SKIP
    PosixPath('out/black.png')
    """
    pixels = to_uint8(_as_image(image))
    path = Path(path).expanduser()
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise ImageLoadError(f"cannot tell an image format from the file name {str(path)!r}; "
                             f"end it with .png or .jpg")
    options = {"quality": 95} if image_format == "JPEG" else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:  # "x": never clobber; mode bits follow the umask
            Image.fromarray(pixels).save(file, format=image_format, **options)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def make_grid(
    images: Any,
    ncols: int | None = None,
    padding: int = 2,
    pad_value: float | Sequence[float] = 1.0,
) -> np.ndarray:
    """Tiles a batch ``[N, H, W, 3]`` into one float32 image, row by row.

    Parameters
    ----------
    images
        A batch array or tensor, or a sequence of equally sized images.
    ncols
        Images per row; by default about square (``ceil(sqrt(N))``), at most ``N``.
    padding
        Pixels between images and around the border.
    pad_value
        Colour of the padding, a grey level or an RGB triple in ``[0, 1]`` (white by default).

    Examples
    --------
    >>> make_grid(np.zeros((6, 32, 32, 3)), ncols=3).shape
    (70, 104, 3)
    """
    tiles = _as_images(images)
    if not tiles:
        raise ImageLoadError("make_grid got no images; pass a batch with at least one image")
    if len({tile.shape for tile in tiles}) > 1:
        raise ImageLoadError(f"make_grid needs images of one size, got "
                             f"{sorted({tile.shape[:2] for tile in tiles})}; resize them first "
                             f"or use show_grid")
    if not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ImageLoadError(f"padding must be a non-negative int, got {padding!r}")
    ncols = _column_count(len(tiles), ncols)
    nrows = math.ceil(len(tiles) / ncols)
    height, width, _ = tiles[0].shape
    grid = np.empty((nrows * (height + padding) + padding,
                     ncols * (width + padding) + padding, 3), np.float32)
    grid[...] = pad_value
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top:top + height, left:left + width] = tile
    return grid


def _column_count(count: int, ncols: int | None) -> int:
    if ncols is None:
        return math.ceil(math.sqrt(count))
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ImageLoadError(f"ncols must be a positive int or None, got {ncols!r}")
    return min(int(ncols), count)


def display_image(image: Any, format: str = "png") -> bytes | None:  # noqa: A002 -- IPython's name
    """Shows an image (or a batch, as a grid) inline in Jupyter or Colab, without matplotlib.

    The picture is shown at its true pixel size. Outside IPython nothing is displayed and the
    encoded file contents are returned instead, e.g. to write them somewhere.

    Parameters
    ----------
    image
        ``[H, W, 3]`` or a batch ``[N, H, W, 3]``; float in ``[0, 1]`` or uint8.
    format
        ``"png"`` (lossless) or ``"jpeg"`` (smaller, for big grids).

    Returns
    -------
    bytes or None
        ``None`` once displayed (so the notebook does not print it again), else the encoded bytes.

    Examples
    --------
    >>> display_image(generator(latents))                     # doctest: +SKIP
    """
    image_format = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}.get(str(format).lower())
    if image_format is None:
        raise ImageLoadError(f'format={format!r} is not supported; use "png" or "jpeg"')
    tiles = _as_images(image)
    picture = tiles[0] if len(tiles) == 1 else make_grid(tiles)
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(picture)).save(buffer, format=image_format.upper())
    data = buffer.getvalue()
    if not _in_ipython():
        return data
    from IPython.display import Image as IPythonImage, display  # noqa: PLC0415

    display(IPythonImage(data=data, format=image_format))
    return None


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython  # noqa: PLC0415
    except ImportError:
        return False
    return get_ipython() is not None


class _NotebookFigure(Figure):
    """A Figure that a notebook shows once, even when a cell ends with the call that made it.

    The inline backend shows each open figure when a cell finishes, and a Figure returned as the
    cell's value would be shown a second time. So whichever display comes first -- the cell's
    value or the backend's -- draws the PNG and closes the figure, and the other finds nothing.
    """

    def _ipython_display_(self) -> None:
        import matplotlib  # noqa: PLC0415
        import matplotlib.pyplot as plt  # noqa: PLC0415
        from IPython.display import Image as IPythonImage, display  # noqa: PLC0415
        from matplotlib._pylab_helpers import Gcf  # noqa: PLC0415 -- as the inline backend does

        open_in_pyplot = any(m.canvas.figure is self for m in Gcf.get_all_fig_managers())
        if open_in_pyplot and "inline" not in matplotlib.get_backend():
            return  # a widget or window backend already shows it
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        if open_in_pyplot:
            plt.close(self)
        display(IPythonImage(data=buffer.getvalue(), format="png"))


def show_image(image: Any, title: str | None = None, ax: Any = None) -> Figure:
    """Plots one image (or a batch, as a grid) with matplotlib, without axes.

    Parameters
    ----------
    image
        ``[H, W, 3]`` or a batch ``[N, H, W, 3]``; float in ``[0, 1]`` or uint8.
    title
        Optional title above the image.
    ax
        A matplotlib Axes to draw into; a new figure is made if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the plot (``ax.figure`` when ``ax`` is given). Notebooks show it
        below the cell (once, even as the cell's value); scripts call ``plt.show()``.

    Examples
    --------
    >>> fig = show_image(load_image("face.jpg"), title="target")  # doctest: +SKIP
    """
    tiles = _as_images(image)
    picture = tiles[0] if len(tiles) == 1 else make_grid(tiles)
    if ax is None:
        import matplotlib.pyplot as plt  # noqa: PLC0415

        _, ax = plt.subplots(figsize=(5, 5), FigureClass=_NotebookFigure)
    ax.imshow(picture, interpolation="nearest")  # sharp pixels: no blur on small models
    ax.set_axis_off()
    if title is not None:
        ax.set_title(str(title))
    return ax.figure


def show_grid(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Plots images in a grid of subplots, each with an optional title.

    Unlike :func:`make_grid`, the images may differ in size.

    Parameters
    ----------
    images
        A batch ``[N, H, W, 3]`` or a sequence of images; float in ``[0, 1]`` or uint8.
    titles
        One title per image, or ``None``.
    ncols
        Images per row; by default about square.
    figsize
        Figure size in inches; by default about 2.5 inches per image.

    Returns
    -------
    matplotlib.figure.Figure
        Notebooks show it below the cell (once, even as the cell's value); scripts call
        ``plt.show()``.

    Examples
    --------
    >>> fig = show_grid(generator(latents), titles=[f"seed {s}" for s in seeds])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    tiles = _as_images(images)
    if not tiles:
        raise ImageLoadError("show_grid got no images; pass a batch with at least one image")
    if titles is not None:
        if isinstance(titles, (str, bytes)) or len(titles) != len(tiles):
            raise ImageLoadError(f"titles must be a list with one title per image ({len(tiles)}), "
                                 f"got {titles!r}")
    ncols = _column_count(len(tiles), ncols)
    nrows = math.ceil(len(tiles) / ncols)
    if figsize is None:
        figsize = (2.5 * ncols, (2.8 if titles is not None else 2.5) * nrows)
    figure, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                                layout="constrained", FigureClass=_NotebookFigure)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(tiles):
            ax.imshow(tiles[index], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[index]))
    return figure


def show_side_by_side(images: Sequence[Any], titles: Sequence[str] | None = None) -> Figure:
    """Plots a few images in one row for comparison, e.g. target | recovered.

    Examples
    --------
    >>> fig = show_side_by_side([target, recovered], ["target", "recovered"])  # doctest: +SKIP
    """
    tiles = _as_images(images)
    height = 4.4 if titles is not None else 4.0
    return show_grid(tiles, titles=titles, ncols=max(1, len(tiles)),
                     figsize=(4.0 * max(1, len(tiles)), height))
