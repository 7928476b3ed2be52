"""Images in and out: one loader for every way a notebook user can hand over a picture.

Workshop participants bring pictures as file paths, URLs, Colab ``files.upload()`` results,
``ipywidgets.FileUpload`` values, raw bytes, arrays or PIL images. :func:`load_image` turns all of
them into the one thing the rest of progan-tf expects -- a float32 ``[H, W, 3]`` array in
``[0, 1]``, upright (EXIF orientation applied), transparency flattened onto white, optionally
cropped and resized -- and turns everything that can go wrong into a one-line
:class:`~progan_tf.errors.ImageLoadError` that names the file.

**One decoder, one crop geometry.** The training data (:mod:`progan_tf.training.data`), the metrics'
real images, :func:`~progan_tf.face.face_crop` and :func:`load_image` all decode pictures here
and cut them with :func:`crop_box`, so a user's photo and the training data are framed alike:
``load_image(photo, size=32, crop="celeba")`` is the picture exactly as a model trained with
``crop="celeba"`` saw its faces.

Around it: :mod:`progan_tf.image_sources` opens what the user handed over (paths, URLs,
uploads), :mod:`progan_tf.pixels` converts pixel arrays, and :mod:`progan_tf.display` shows
pictures. The public names of the last two are re-exported here (``progan_tf.images.show_grid``
works), as this module was their home before.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS
from progan_tf.display import (
    display_image,
    enlarge,
    in_ipython,
    labelled_panels,
    make_grid,
    show_grid,
    show_image,
    show_side_by_side,
    zoom_factor,
)
from progan_tf.errors import ImageLoadError, OptionError
from progan_tf.fileio import open_atomic
from progan_tf.image_sources import (
    BYTES_TYPES,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_TIMEOUT,
    open_source,
)
from progan_tf.pixels import as_image, as_images, from_signed_unit, to_uint8

__all__ = [
    "CROPS",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TIMEOUT",
    "area_resize",
    "as_image",
    "as_images",
    "crop_box",
    "crop_image",
    "display_image",
    "enlarge",
    "from_signed_unit",
    "in_ipython",
    "labelled_panels",
    "load_image",
    "make_grid",
    "parse_size",
    "save_image",
    "show_grid",
    "show_image",
    "show_side_by_side",
    "single_image",
    "to_uint8",
    "zoom_factor",
]

DEFAULT_MAX_PIXELS = 64_000_000
"""Pictures with more pixels are refused from their header, before they are decoded."""

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

    Args:
        source: A file path (``str`` or ``os.PathLike``); an ``http://`` or ``https://`` URL;
            image file contents as ``bytes``/``bytearray``/``memoryview``; a binary file object;
            the dict that Colab's ``files.upload()`` returns; an ``ipywidgets.FileUpload``
            widget or its ``.value`` (ipywidgets 8 tuple or ipywidgets 7 dict); a PIL image; or
            an already decoded array (``[H, W]``, ``[H, W, 3]`` or ``[H, W, 4]``; uint8, uint16
            or float in ``[0, 1]``).
        size: ``None`` keeps the (cropped) picture's size, an int gives a square,
            ``(height, width)`` anything else.
        crop: How the picture is framed before it is resized (:data:`CROPS`; see
            :func:`crop_box`). ``"center"`` (the default) first crops the largest centred
            region with the target aspect ratio, so nothing is distorted; ``"celeba"`` frames
            it exactly as training with ``crop="celeba"`` frames its faces -- ProGAN's CelebA
            square, then the training data's area filter -- so the result equals the training
            image of the same file; ``"none"`` (or ``None``) resizes the whole picture,
            stretching it if needed.
        max_pixels: Pictures with more pixels than this (:data:`DEFAULT_MAX_PIXELS`, 64
            million, by default) are refused before they are decoded, so a tiny malicious file
            cannot claim gigabytes of memory (a "decompression bomb"). Loaders that read many
            files, such as a training folder, pass their own limit here.
        name: Which file to take from an upload that holds several.
        timeout: Seconds a URL download may take in all: connecting, redirects and every read
            together (a server that trickles bytes cannot stretch it).
        max_download_bytes: Largest URL download accepted.

    Returns:
        float32 ``[H, W, 3]`` in ``[0, 1]``: EXIF orientation applied, transparency composited
        on white, greyscale and palette images expanded to RGB, 16-bit images scaled by 65535,
        and only the first frame of an animation.

    Raises:
        ImageLoadError: If the source is missing, empty, truncated, not an image, too large, or
            cannot be fetched.
        OptionError: If an option (``size``, ``crop``, ``max_pixels``, ``timeout``) is invalid.

    Example:
    >>> pixels = np.zeros((218, 178, 3), np.uint8)  # an aligned CelebA image's size
    >>> load_image(pixels, size=64).shape, load_image(pixels, crop="celeba").shape
    ((64, 64, 3), (128, 128, 3))
    >>> image = load_image("face.jpg", size=128)               # doctest: +SKIP
    >>> image = load_image(files.upload(), size=128)           # Colab  # doctest: +SKIP
    >>> image = load_image(upload_widget, size=(128, 128))     # Jupyter  # doctest: +SKIP
    """
    target = parse_size(size)
    crop = "none" if crop is None else check_choice(crop, "crop", CROPS)
    if crop == "celeba" and target is not None and target[0] != target[1]:
        raise OptionError(f"crop='celeba' cuts CelebA's square, but size={size!r} is not "
                          f"square; pass one side (size={min(target)}) or crop='center'")
    max_pixels = check_whole_number(max_pixels, "max_pixels")
    timeout = check_number(timeout, "timeout", exclusive_minimum=0)

    if isinstance(source, Image.Image):
        # The caller's image: decode it as it is (current frame, no in-place draft mode).
        label = repr(source.filename) if getattr(source, "filename", "") else "<PIL image>"
        with _pillow_errors(label):
            _check_pixels(source, label, max_pixels)
            image = _pil_to_array(source, label)
    elif not isinstance(source, BYTES_TYPES) and hasattr(source, "__array__"):
        image = as_image(source, "<array>")
    else:
        stream, label = open_source(source, name=name, timeout=timeout,
                                    max_download_bytes=max_download_bytes)
        with _pillow_errors(label), Image.open(stream) as opened:
            _check_pixels(opened, label, max_pixels)
            if target is not None and crop != "celeba":  # training decodes at full size
                _draft(opened, target)
            image = _pil_to_array(opened, label)
    return _fit(image, target, crop)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def single_image(image: Any) -> Any:
    """A batch of one ``[1, H, W, C]`` (a generator's output for one latent) as ``[H, W, C]``.

    Anything else -- a path, a URL, one image, a larger batch -- is returned as it is, for
    :func:`load_image` to read or refuse.

    Args:
        image: An array or tensor, or anything :func:`load_image` accepts.

    Returns:
        ``image[0]`` for a batch of one, else ``image``.

    Example:
    >>> single_image(np.zeros((1, 4, 4, 3))).shape, single_image("face.jpg")
    ((4, 4, 3), 'face.jpg')
    """
    if isinstance(image, (str, bytes, os.PathLike)) or not hasattr(image, "shape"):
        return image
    return image[0] if len(image.shape) == 4 and image.shape[0] == 1 else image


def parse_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """Checks a ``size`` argument as :func:`load_image` reads it.

    Args:
        size: ``None``, a positive int (a square) or ``(height, width)``.

    Returns:
        ``None`` or ``(height, width)`` as Python ints.

    Raises:
        OptionError: If ``size`` is anything else.

    Example:
    >>> parse_size(None), parse_size(64), parse_size((48, 32))
    (None, (64, 64), (48, 32))
    """
    if size is None:
        return None
    pair = (size, size) if _is_positive_int(size) else size
    valid = isinstance(pair, (tuple, list)) and len(pair) == 2
    if not (valid and all(map(_is_positive_int, pair))):
        raise OptionError(f"size must be None, a positive int or (height, width), got {size!r}")
    return int(pair[0]), int(pair[1])


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
    return as_image(pixels, label)


def _fit(image: np.ndarray, target: tuple[int, int] | None, crop: str) -> np.ndarray:
    if crop == "celeba":  # the training data's framing, filter included
        image = crop_image(image, "celeba")
        return image if target is None else area_resize(image, target)
    if target is None:
        return image
    height, width = target
    if crop == "center":
        image = crop_image(image, "center", aspect=width / height)
    if image.shape[:2] != (height, width):
        from skimage.transform import resize  # skimage is slow to import

        image = resize(image, (height, width), order=1, anti_aliasing=True)
    return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------------
# Crop geometry and the training data's resize
# --------------------------------------------------------------------------------------------


def crop_box(height: int, width: int, crop: str = "center", *,
             aspect: float = 1.0) -> tuple[int, int, int, int]:
    """Where a picture of ``height`` x ``width`` pixels is cut: THE crop geometry of progan-tf.

    Training data, :func:`load_image`, the metrics' real images and the fallback of
    :func:`~progan_tf.face.face_crop` all cut pictures with this function, so they agree to
    the pixel.

    * ``"center"``: the largest centred region whose width / height is ``aspect``;
    * ``"celeba"``: the ProGAN paper's CelebA square -- 128/178 of the width, centred at
      121/218 of the height (for aligned 178x218 CelebA; it scales to 89x109 exactly), moved
      inside the picture where it would reach out;
    * ``"none"``: the whole picture.

    Offsets are rounded half to even (so a region 3 pixels narrower than the picture starts at
    pixel 2, as it does in training data made with earlier versions), and the CelebA square is
    computed in float32, the arithmetic of the TensorFlow code this replaced.

    Args:
        height: The picture's height in pixels.
        width: The picture's width in pixels.
        crop: One of :data:`CROPS`.
        aspect: Width / height of the ``"center"`` region (default 1: a square). The CelebA
            square takes only 1.

    Returns:
        ``(top, left, crop_height, crop_width)`` in pixels.

    Raises:
        OptionError: If ``crop`` is unknown, or ``aspect`` is not a positive number (or not
            1 for ``"celeba"``).

    Example:
    >>> crop_box(218, 178, "celeba")
    (57, 25, 128, 128)
    >>> crop_box(100, 200, "center"), crop_box(100, 200, "center", aspect=0.5)
    ((0, 50, 100, 100), (0, 75, 100, 50))
    >>> crop_box(109, 89, "none")
    (0, 0, 109, 89)
    """
    crop = check_choice(crop, "crop", CROPS)
    aspect = check_number(aspect, "aspect", exclusive_minimum=0)
    if crop == "celeba":
        if aspect != 1:
            raise OptionError(f"crop='celeba' cuts a square, so aspect must be 1. "
                              f"Received: aspect={aspect!r}")
        f32 = np.float32
        side_h, side_w = f32(height), f32(width)
        side = min(np.round(side_w * f32(128.0) / f32(178.0)), side_h)
        top = np.clip(np.round(side_h * f32(121.0) / f32(218.0) - side / f32(2)), f32(0),
                      side_h - side)
        return int(top), int(np.round((side_w - side) / f32(2))), int(side), int(side)
    if crop == "none":
        return 0, 0, int(height), int(width)
    if width > height * aspect:
        crop_height, crop_width = height, max(1, round(height * aspect))
    else:
        crop_height, crop_width = max(1, round(width / aspect)), width
    # round() rounds halves to even, as np.round did in the training data's crop.
    return (round((height - crop_height) / 2), round((width - crop_width) / 2),
            int(crop_height), int(crop_width))


def crop_image(images: np.ndarray, crop: str = "center", *, aspect: float = 1.0) -> np.ndarray:
    """Cuts :func:`crop_box`'s region out of an image ``[H, W, C]`` or a batch ``[N, H, W, C]``.

    Args:
        images: The pixels (a view of them is returned).
        crop: One of :data:`CROPS`.
        aspect: Width / height of the ``"center"`` region.

    Returns:
        The region, as a view of ``images``.

    Example:
    >>> crop_image(np.zeros((4, 218, 178, 3)), "celeba").shape
    (4, 128, 128, 3)
    """
    pixels = np.asarray(images)
    top, left, crop_height, crop_width = crop_box(pixels.shape[-3], pixels.shape[-2], crop,
                                                  aspect=aspect)
    return pixels[..., top:top + crop_height, left:left + crop_width, :]


def area_resize(images: Any, size: tuple[int, int]) -> np.ndarray:
    """Resizes an image or a batch with the training data's filter: area, antialiased.

    Downscaling averages every source pixel into the result (nothing aliases, as CelebA's
    JPEG noise would with a bilinear filter). TensorFlow's ``tf.image.resize`` does it; it is
    imported only when a resize is needed.

    Args:
        images: ``[H, W, C]`` or ``[N, H, W, C]``, float in ``[0, 1]`` or uint8.
        size: ``(height, width)`` of the result.

    Returns:
        float32 in ``[0, 1]``; pictures already of ``size`` are returned unfiltered.

    Example:
    >>> float(area_resize(np.full((2, 8, 8, 3), 255, np.uint8), (4, 4)).max())
    1.0
    """
    pixels = np.asarray(images)
    pixels = pixels.astype(np.float32) / 255.0 if pixels.dtype == np.uint8 else pixels
    if pixels.shape[-3:-1] != tuple(size):  # an area resize to the same size is exact
        import tensorflow as tf  # only here: the rest of this module works without it

        pixels = tf.image.resize(pixels, list(size), method="area", antialias=True).numpy()
    return np.clip(pixels, 0.0, 1.0).astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------


def save_image(image: Any, path: str | os.PathLike) -> Path:
    """Saves one image atomically; the format follows the file extension (.png, .jpg, ...).

    The picture is written to a hidden temporary file next to ``path`` and then renamed over it
    (:mod:`progan_tf.fileio`), so an interrupted save never leaves a half-written image behind.
    Missing folders are created.

    Args:
        image: ``[H, W, 3]`` (or greyscale / RGBA), float in ``[0, 1]`` or uint8.
        path: The file to write; its extension chooses the format.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ImageLoadError: If the image cannot be converted or the extension names no format.

    Example:
    >>> import tempfile
    >>> path = save_image(np.zeros((8, 8, 3)), Path(tempfile.mkdtemp()) / "out" / "black.png")
    >>> path.name, load_image(path).shape
    ('black.png', (8, 8, 3))
    """
    pixels = to_uint8(as_image(image))
    path = Path(path).expanduser()
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise ImageLoadError(f"cannot tell an image format from the file name {str(path)!r}; "
                             f"end it with .png or .jpg")
    options = {"quality": 95} if image_format == "JPEG" else {}
    with open_atomic(path) as file:
        Image.fromarray(pixels).save(file, format=image_format, **options)
    return path
