"""Face crops framed like the CelebA images that progan-128 was trained on.

Latent recovery compares a generated face with the target pixel by pixel, so the target must be
framed the way the training faces were: ProGAN's CelebA crop -- a square of 128/178 of the width
of an aligned 178x218 CelebA image, centred at 121/218 of its height -- shows the face filling
most of the square, the eyes at about 40-45% of the height and the chin near the bottom edge. An
uploaded photo (a selfie, a portrait with shoulders and background) is framed very differently,
and a recovery started from it spends its effort on the background. :func:`face_crop` finds the
face with OpenCV's Haar cascade and cuts out a square around it that reproduces that framing.

**Why any picture comes back as a face.** Inverting a cat, a landscape or a coffee cup still gives
a face, and that is not a bug. The generator can only draw images from the distribution it was
trained on -- for progan-128, celebrity faces -- so every latent vector maps to *some* face.
Recovery searches the latent space for the generated image closest to the target in pixel (or
feature) space; for a target that is not a face, the closest thing the generator can make is the
face whose colours, brightness and rough layout best match it: a dark blob becomes dark hair, a
bright sky a bright forehead. The recovered image shows what the model knows, not what the photo
holds. Cropping real faces as the training data was cropped simply makes that closest face a much
closer one.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

import numpy as np

from progan_tf.errors import ProganError
from progan_tf.images import _parse_size, load_image

# Framing, measured on 2 x 1,000 images of the aligned CelebA sample (89x109; ids 1-1000 and
# 4001-5000, ~96% with a face found): ProGAN's crop of each image, measured in units of the face
# box that `_detect_faces` finds in it, is a square 1.22x the box's side (median; 10th-90th
# percentile 1.10-1.39), centred on the box horizontally (median offset 0.00 box sides) and
# 0.03 box sides *above* the box's centre. Faces upscaled 4-12x (to photo sizes) agree within 0.02.
DEFAULT_MARGIN = 0.11  # extra space on each side, in face-box sides: 1 + 2 * 0.11 = 1.22
_CENTRE_SHIFT = -0.03  # vertical offset of the crop centre from the box centre, in box sides

# Faces are searched in a copy whose longer side is 320-1024 pixels: Haar cascades need faces
# of at least 24 pixels (small pictures are upscaled, at most 4x), and they slow down with the
# square of the size (large photos are downscaled). The measurement above used the same copy.
_DETECT_MIN_SIDE = 320
_DETECT_MAX_SIDE = 1024
_DETECT_MAX_UPSCALE = 4.0
_MIN_FACE_PIXELS = 24

_CASCADE_FILE = "haarcascade_frontalface_default.xml"
_INSTALL_HINT = 'pip install "progan-tf[face]" (or pip install "opencv-python-headless<5")'


def face_crop(
    image: Any,
    size: int | tuple[int, int] | None = None,
    *,
    margin: float = DEFAULT_MARGIN,
    cascade: Any = None,
    return_box: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[int, int, int, int]]:
    """Crops the largest face in a picture the way ProGAN's CelebA training images are cropped.

    The face is found with OpenCV's frontal-face Haar cascade (``pip install "progan-tf[face]"``).
    Around the largest face the function cuts a square ``1 + 2 * margin`` times the size of the
    detected face box, slightly above its centre; with the default margin this reproduces the
    framing of the training data (eyes at about 40-45% of the height, chin near the bottom).
    Where the square reaches past the picture's border, the border pixels are repeated outward.
    If no face is found, a warning says so and the largest centred crop is returned instead.
    Haar cascades are fast but not infallible: they miss strongly turned faces and now and then
    take a texture for one, so look at the crop (or draw ``return_box``) before a long recovery.

    Parameters
    ----------
    image
        Anything :func:`~progan_tf.images.load_image` accepts: a path, URL, bytes, upload, PIL
        image or array (greyscale and RGBA too).
    size
        ``None`` keeps the crop at the picture's resolution; an int gives a square, and
        ``(height, width)`` a crop with that aspect ratio (the face's framing then holds along
        the shorter side). Resizing is antialiased.
    margin
        Extra space on each side of the detected face box, as a fraction of the box's side.
        ``0`` gives the bare box; the default ``0.11`` matches CelebA; larger values show more
        hair and background.
    cascade
        The face detector: ``None`` for OpenCV's bundled ``haarcascade_frontalface_default.xml``,
        the path of another cascade XML file, or a loaded ``cv2.CascadeClassifier``.
    return_box
        Also return the region of the picture that the crop shows.

    Returns
    -------
    np.ndarray or (np.ndarray, tuple)
        The crop, float32 ``[H, W, 3]`` in ``[0, 1]``; with ``return_box=True`` also its region
        ``(left, top, width, height)`` in the picture's pixels (it may reach past the borders).

    Raises
    ------
    ProganError
        If OpenCV is not installed, ``margin`` is invalid, or ``cascade`` cannot be loaded.
    ImageLoadError
        If the picture cannot be loaded or ``size`` is invalid.

    Examples
    --------
    >>> target = face_crop("selfie.jpg", size=128)                # doctest: +SKIP
    >>> target, box = face_crop(upload_widget, 128, return_box=True)  # doctest: +SKIP
    """
    target = _parse_size(size)
    if (not isinstance(margin, (int, float, np.integer, np.floating)) or isinstance(margin, bool)
            or not math.isfinite(margin) or margin < 0):
        raise ProganError(f"margin must be a number >= 0 (the default {DEFAULT_MARGIN} matches "
                          f"CelebA), got {margin!r}")
    cv2 = _import_cv2()
    detector = _load_cascade(cv2, cascade)
    pixels = load_image(image)
    height, width = pixels.shape[:2]
    aspect = 1.0 if target is None else target[1] / target[0]  # width / height

    faces = _detect_faces(cv2, detector, pixels)
    if not faces:
        warnings.warn(f"no face found in {_describe(image)}; using a centre crop", stacklevel=2)
        if target is None:
            side = min(height, width)
            target = (side, side)
        box = _centre_box(height, width, target[1] / target[0])
        crop = load_image(pixels, size=target, crop="center")
    else:
        box = _framing_box(max(faces, key=lambda face: face[2] * face[3]), margin, aspect)
        crop = load_image(_cut(pixels, box), size=target, crop=None)
    return (crop, box) if return_box else crop


def _import_cv2():
    """OpenCV, imported only when a face is wanted: it is an optional, 60 MB dependency."""
    try:
        import cv2  # noqa: PLC0415
    except ImportError:
        raise ProganError(f"face_crop needs OpenCV, which is not installed; "
                          f"{_INSTALL_HINT}") from None
    if not hasattr(cv2, "CascadeClassifier"):  # OpenCV 5 moved Haar cascades to opencv-contrib
        raise ProganError(f"OpenCV {cv2.__version__} has no Haar face detector (OpenCV 5 removed "
                          f'it); pip install "opencv-python-headless<5"')
    return cv2


def _load_cascade(cv2, cascade):
    """A ready ``cv2.CascadeClassifier`` for ``cascade`` (None, an XML path or a classifier)."""
    if cascade is not None and hasattr(cascade, "detectMultiScale"):
        return cascade
    if cascade is None:
        folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
        path = os.path.join(folder, _CASCADE_FILE)
        if not os.path.isfile(path):
            raise ProganError(f"OpenCV {cv2.__version__} does not ship {_CASCADE_FILE}; "
                              f'pip install "opencv-python-headless<5", or pass cascade= '
                              f"the path of a cascade XML file")
    elif isinstance(cascade, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(cascade))
        if not os.path.isfile(path):
            raise ProganError(f"cascade file {path!r} does not exist; pass the path of an "
                              f"OpenCV cascade XML file, or cascade=None for the bundled one")
    else:
        raise ProganError(f"cascade must be None, a path or a cv2.CascadeClassifier, got a "
                          f"{type(cascade).__name__}")
    try:
        detector = cv2.CascadeClassifier(path)
    except (cv2.error, SystemError):  # OpenCV raises on malformed XML, returns empty on others
        detector = None
    if detector is None or detector.empty():
        raise ProganError(f"{path!r} is not an OpenCV cascade XML file; pass a file like "
                          f"{_CASCADE_FILE}, or cascade=None for the bundled one")
    return detector


def _detect_faces(cv2, detector, pixels: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Face boxes ``(left, top, width, height)`` in the picture's pixels, in no order."""
    height, width = pixels.shape[:2]
    longer = max(height, width)
    scale = min(max(1.0, _DETECT_MIN_SIDE / longer), _DETECT_MAX_SIDE / longer,
                _DETECT_MAX_UPSCALE)
    grey = cv2.cvtColor(np.round(pixels * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else
                          cv2.INTER_LINEAR)
    if min(grey.shape) < _MIN_FACE_PIXELS:
        return []  # too small to hold a face the detector could see
    grey = cv2.equalizeHist(grey)  # Haar features compare brightness; this evens out lighting
    faces = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                      minSize=(_MIN_FACE_PIXELS, _MIN_FACE_PIXELS))
    return [tuple(float(value) / scale for value in face) for face in faces]


def _framing_box(face, margin: float, aspect: float) -> tuple[int, int, int, int]:
    """The region ``(left, top, width, height)`` around ``face`` with CelebA's framing."""
    left, top, width, height = face
    side = width * (1.0 + 2.0 * margin)
    centre_x = left + width / 2
    centre_y = top + height / 2 + _CENTRE_SHIFT * width
    # The shorter side of the region gets the square's side, so a wide crop shows more
    # background to the left and right, a tall one more above and below -- never a squeezed face.
    if aspect >= 1:
        box_height, box_width = round(side), round(side * aspect)
    else:
        box_height, box_width = round(side / aspect), round(side)
    box_height, box_width = max(1, box_height), max(1, box_width)
    return (round(centre_x - box_width / 2), round(centre_y - box_height / 2),
            box_width, box_height)


def _centre_box(height: int, width: int, aspect: float) -> tuple[int, int, int, int]:
    """The region ``(left, top, width, height)`` of ``load_image``'s centre crop."""
    if width > height * aspect:
        crop_width = max(1, round(height * aspect))
        return (width - crop_width) // 2, 0, crop_width, height
    crop_height = max(1, round(width / aspect))
    return 0, (height - crop_height) // 2, width, crop_height


def _cut(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels inside ``box``, with the picture's border pixels repeated where it reaches out.

    ``box`` always holds the centre of a face found in the picture, so it overlaps the picture.

    Repeating the border (rather than mirroring the picture) matters near a face: a mirror would
    add half a second face, which recovery would then try to reproduce.
    """
    left, top, box_width, box_height = box
    height, width = pixels.shape[:2]
    inside = pixels[max(top, 0):min(top + box_height, height),
                    max(left, 0):min(left + box_width, width)]
    padding = ((max(-top, 0), box_height - max(-top, 0) - inside.shape[0]),
               (max(-left, 0), box_width - max(-left, 0) - inside.shape[1]), (0, 0))
    return np.pad(inside, padding, mode="edge")


def _describe(image: Any) -> str:
    """How the warning names the picture: its file name where it has one."""
    if isinstance(image, (str, os.PathLike)):
        return repr(os.fsdecode(os.fspath(image)))
    name = getattr(image, "filename", "") or getattr(image, "name", "")
    if isinstance(name, str) and name:
        return repr(name)
    return "the image" if hasattr(image, "__array__") else f"the {type(image).__name__}"
