"""Face crops framed like the CelebA images that progan-128 was trained on.

Latent recovery compares a generated face with the target pixel by pixel, so the target must be
framed the way the training faces were: ProGAN's CelebA crop -- a square of 128/178 of the width
of an aligned 178x218 CelebA image, centred at 121/218 of its height -- shows the face filling
most of the square, the eyes at about 40-45% of the height and the chin near the bottom edge. An
uploaded photo (a selfie, a portrait with shoulders and background) is framed very differently,
and a recovery started from it spends its effort on the background. :func:`face_crop` finds the
face with OpenCV's Haar cascade and cuts out a square around it that reproduces that framing.

**Why align by the eyes.** CelebA's aligned images have the eyes level, and the generator draws
faces that way; a tilted head in a photo would be a face the generator cannot draw. And OpenCV's
frontal-face cascade only finds faces within about 15 degrees of upright, so a 30-degree tilt
finds no face at all. :func:`face_crop` therefore also looks in copies of the picture turned by
15, 30 and 45 degrees either way, finds the two eyes with the eye cascade that ships with OpenCV
(``haarcascade_eye.xml``: offline, no extra dependency), and turns the crop so the eyes are level.

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
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from progan_tf.checks import check_number
from progan_tf.errors import FaceNotFoundWarning, MissingDependencyError, OptionError
from progan_tf.images import crop_box, load_image, parse_size

__all__ = ["DEFAULT_MARGIN", "DETECTION_ANGLES", "FaceBox", "FaceNotFoundWarning", "face_crop"]

# Framing, measured on 2 x 1,000 images of the aligned CelebA sample (89x109; ids 1-1000 and
# 4001-5000, ~96% with a face found): ProGAN's crop of each image, measured in units of the face
# box that `_find_face` finds in it, is a square 1.22x the box's side (median; 10th-90th
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
_EYE_CASCADE_FILE = "haarcascade_eye.xml"
# Turns of the picture tried, in this order, until a face is found; the frontal-face cascade
# itself tolerates about +-15 degrees, so these cover heads tilted up to about 60 degrees.
DETECTION_ANGLES = (0, 15, -15, 30, -30, 45, -45)
# Eye lines tilted less than this are left alone: it is about the error of the angle measured
# from Haar eye boxes (their centres are a few pixels off on a 40-60 pixel eye distance).
_MIN_ALIGN_DEGREES = 5.0
_EYE_FACE_WIDTH = 200  # pixels: eyes of about 30, comfortably above the eye cascade's 20
_MAX_EYE_TILT = 20.0  # degrees: eye pairs more tilted than this (in the turned copy) are not eyes
_INSTALL_HINT = 'pip install "progan-tf[face]" (or pip install "opencv-python-headless<5")'


class FaceBox(tuple):
    """``(left, top, width, height)`` of the picture region a :func:`face_crop` crop shows.

    It unpacks and compares like that plain tuple, and also says how it was found:

    Attributes:
        found: Whether a face was found (``False``: the box is the centre crop's).
        angle: Degrees (counter-clockwise, as in ``cv2.getRotationMatrix2D``) by which the
            picture was turned about the box's centre to make the eyes level; the crop shows
            the box turned by this angle. ``0.0`` for an upright face or no face.
        eyes: The eye centres ``((x, y), (x, y))`` in the picture's pixels, where the eye
            detector found both, else ``None``.
    """

    found: bool
    angle: float
    eyes: tuple[tuple[float, float], tuple[float, float]] | None

    def __new__(cls, box: Any, *, found: bool, angle: float = 0.0, eyes: Any = None):
        self = super().__new__(cls, (int(value) for value in box))
        self.found, self.angle, self.eyes = bool(found), float(angle), eyes
        return self

    def corners(self) -> np.ndarray:
        """The region's corners in the picture's pixels, ``[4, 2]`` (x, y).

        Clockwise from the top left -- a turned square where ``angle`` is not 0 (e.g. to draw
        it).

        Returns:
            float ``[4, 2]`` array of (x, y) corners.
        """
        left, top, width, height = self
        centre = np.array([left + width / 2, top + height / 2])
        offsets = np.array([[-width, -height], [width, -height], [width, height],
                            [-width, height]]) / 2
        theta = math.radians(self.angle)  # the crop is the region turned by -angle on screen
        turn = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
        return centre + offsets @ turn

    def __repr__(self) -> str:
        return (f"FaceBox({tuple(self)}, found={self.found}, angle={self.angle:.1f}, "
                f"eyes={self.eyes})")


def face_crop(
    image: Any,
    size: int | tuple[int, int] | None = None,
    *,
    margin: float = DEFAULT_MARGIN,
    cascade: Any = None,
    align: bool = True,
    return_box: bool = False,
) -> np.ndarray | tuple[np.ndarray, FaceBox]:
    """Crops the largest face in a picture the way ProGAN's CelebA training images are cropped.

    The face is found with OpenCV's frontal-face Haar cascade (``pip install "progan-tf[face]"``).
    Around the largest face the function cuts a square ``1 + 2 * margin`` times the size of the
    detected face box, slightly above its centre; with the default margin this reproduces the
    framing of the training data (eyes at about 40-45% of the height, chin near the bottom).
    Where the square reaches past the picture's border, the border pixels are repeated outward.

    With ``align=True`` (the default), a tilted head is found too and turned upright, as in
    CelebA's aligned images: where no face is found in the picture as it is, copies turned by
    the :data:`DETECTION_ANGLES` (15, 30, 45 degrees either way) are searched, and the eyes,
    found with OpenCV's eye cascade inside the face, set the angle by which the crop is turned
    so that they are level (tilts under 5 degrees are left alone).

    If no face is found, a :class:`FaceNotFoundWarning` says so and the largest centred crop
    is returned instead; ``return_box=True`` tells a caller which happened (``box.found``).
    Haar cascades are fast but not infallible: they miss faces turned sideways and now and then
    take a texture for one, so look at the crop (or draw ``return_box``) before a long recovery.

    Args:
        image: Anything :func:`~progan_tf.images.load_image` accepts: a path, URL, bytes,
            upload, PIL image or array (greyscale and RGBA too).
        size: ``None`` keeps the crop at the picture's resolution; an int gives a square, and
            ``(height, width)`` a crop with that aspect ratio (the face's framing then holds
            along the shorter side). Resizing is antialiased.
        margin: Extra space on each side of the detected face box, as a fraction of the box's
            side. ``0`` gives the bare box; the default ``0.11`` matches CelebA; larger values
            show more hair and background.
        cascade: The face detector: ``None`` for OpenCV's bundled
            ``haarcascade_frontalface_default.xml``, the path of another cascade XML file, or a
            loaded ``cv2.CascadeClassifier``.
        align: Find tilted faces and turn the crop so the eyes are level (see above); ``False``
            looks only at the picture as it is and never turns the crop.
        return_box: Also return the region of the picture that the crop shows, as a
            :class:`FaceBox`.

    Returns:
        The crop, float32 ``[H, W, 3]`` in ``[0, 1]``; with ``return_box=True`` a pair
        ``(crop, box)``, the box being its region ``(left, top, width, height)`` in the
        picture's pixels (it may reach past the borders), with ``found``, ``angle`` and
        ``eyes`` attributes.

    Raises:
        OptionError: If ``margin`` or ``cascade`` is invalid.
        MissingDependencyError: If OpenCV (with its Haar cascades) is not installed.
        ImageLoadError: If the picture cannot be loaded or ``size`` is invalid.

    Example:
    >>> import warnings
    >>> from progan_tf.errors import FaceNotFoundWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FaceNotFoundWarning)
    ...     crop, box = face_crop(np.zeros((60, 80, 3)), size=32, return_box=True)
    >>> crop.shape, tuple(box), box.found  # no face in a black picture: the centre crop
    ((32, 32, 3), (10, 0, 60, 60), False)
    >>> target = face_crop("selfie.jpg", size=128)                # doctest: +SKIP
    """
    target = parse_size(size)
    margin = check_number(margin, "margin", minimum=0, error=OptionError)
    cv2 = _import_cv2()
    detector = _load_cascade(cv2, cascade)
    pixels = load_image(image)
    height, width = pixels.shape[:2]
    aspect = 1.0 if target is None else target[1] / target[0]  # width / height

    grey, scale = _detection_copy(cv2, pixels)
    if align:
        face, eyes = _find_face_and_eyes(cv2, detector, grey, DETECTION_ANGLES)
    else:
        face, eyes = _find_face(cv2, detector, grey, (0,)), None
    if face is None:
        warnings.warn(f"no face found in {_describe(image)}; using a centre crop",
                      FaceNotFoundWarning, stacklevel=2)
        if target is None:
            side = min(height, width)
            target = (side, side)
        top, left, box_height, box_width = crop_box(height, width, "center",
                                                    aspect=target[1] / target[0])
        box = FaceBox((left, top, box_width, box_height), found=False)
        crop = load_image(pixels, size=target, crop="center")
        return (crop, box) if return_box else crop

    angle = face.angle
    if eyes is not None:
        (x1, y1), (x2, y2) = eyes
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
        eyes = tuple((float(x / scale), float(y / scale)) for x, y in eyes)
    if abs(angle) < _MIN_ALIGN_DEGREES:
        angle = 0.0
    centre = face.centre / scale
    if angle == 0.0 and face.angle == 0:  # upright: cut the picture's own pixels
        box = _framing_box(face.box / scale, margin, aspect)
        crop = _cut(pixels, box)
    else:
        # The framing was measured on the boxes of upright faces: find the face again in the
        # picture turned upright (it stays where it was: the turn is about its centre).
        upright = _find_face(cv2, detector, _turned(cv2, grey, face.centre, angle)[0], (0,),
                             near=face.centre) or face
        side = upright.box[2] / scale
        framed = _framing_box(np.r_[upright.centre / scale - side / 2, side, side], margin,
                              aspect)
        crop, box = _cut_turned(cv2, pixels, framed, centre, angle)
    crop = load_image(crop, size=target, crop=None)
    box = FaceBox(box, found=True, angle=angle, eyes=eyes)
    return (crop, box) if return_box else crop


def _import_cv2():
    """OpenCV, imported only when a face is wanted: it is an optional, 60 MB dependency."""
    try:
        import cv2
    except ImportError:
        raise MissingDependencyError(f"face_crop needs OpenCV, which is not installed; "
                                     f"{_INSTALL_HINT}") from None
    if not hasattr(cv2, "CascadeClassifier"):  # OpenCV 5 moved Haar cascades to opencv-contrib
        raise MissingDependencyError(f"OpenCV {cv2.__version__} has no Haar face detector (OpenCV "
                                     f'5 removed it); pip install "opencv-python-headless<5"')
    return cv2


def _load_cascade(cv2, cascade):
    """A ready ``cv2.CascadeClassifier`` for ``cascade`` (None, an XML path or a classifier)."""
    if cascade is not None and hasattr(cascade, "detectMultiScale"):
        return cascade
    if cascade is None:
        return _bundled_cascade(cv2, _CASCADE_FILE)
    if isinstance(cascade, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(cascade))
        if not os.path.isfile(path):
            raise OptionError(f"cascade file {path!r} does not exist; pass the path of an "
                              f"OpenCV cascade XML file, or cascade=None for the bundled one")
    else:
        raise OptionError(f"cascade must be None, a path or a cv2.CascadeClassifier, got a "
                          f"{type(cascade).__name__}")
    try:
        detector = cv2.CascadeClassifier(path)
    except (cv2.error, SystemError):  # OpenCV raises on malformed XML, returns empty on others
        detector = None
    if detector is None or detector.empty():
        raise OptionError(f"{path!r} is not an OpenCV cascade XML file; pass a file like "
                          f"{_CASCADE_FILE}, or cascade=None for the bundled one")
    return detector


# Cascades that ship with OpenCV, by file name, loaded once per thread: loading one takes
# longer than a detection, and OpenCV does not promise that one classifier can serve two
# threads at once.
_BUNDLED = threading.local()


def _bundled_cascade(cv2, name: str):
    """One of the cascades that ship with OpenCV, loaded once per thread."""
    loaded = _BUNDLED.__dict__
    if name not in loaded:
        path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""), name)
        detector = cv2.CascadeClassifier(path) if os.path.isfile(path) else None
        if detector is None or detector.empty():
            raise MissingDependencyError(f"OpenCV {cv2.__version__} does not ship {name}; "
                                         f'pip install "opencv-python-headless<5", or pass '
                                         f"cascade= the path of a cascade XML file")
        loaded[name] = detector
    return loaded[name]


def _detection_copy(cv2, pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The grey copy faces are searched in, and its scale to the picture."""
    height, width = pixels.shape[:2]
    longer = max(height, width)
    scale = min(max(1.0, _DETECT_MIN_SIDE / longer), _DETECT_MAX_SIDE / longer,
                _DETECT_MAX_UPSCALE)
    grey = cv2.cvtColor(np.round(pixels * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else
                          cv2.INTER_LINEAR)
    return grey, scale


class _Face:
    """A face found at ``box`` in ``image``, the detection copy turned by ``angle`` degrees.

    ``turn`` maps the copy's pixels to ``image``'s.
    """

    def __init__(self, box: np.ndarray, angle: float, image: np.ndarray, turn: np.ndarray):
        self.box, self.angle, self.image, self.turn = box, angle, image, turn
        self.centre = _apply(_inverse(turn), box[:2] + box[2:] / 2)  # in the copy


def _find_face(cv2, detector, grey: np.ndarray, angles: Sequence[float],
               near: np.ndarray | None = None) -> _Face | None:
    """The largest face (or the one nearest ``near``) at the first of ``angles`` that has one."""
    return next((face for face, _ in _faces(cv2, detector, grey, angles, near)), None)


def _find_face_and_eyes(cv2, detector, grey: np.ndarray,
                        angles: Sequence[float]) -> tuple[_Face | None, tuple | None]:
    """The first face in which both eyes are found, trying ``angles`` in turn, and its eyes.

    A face box without two level eyes in it is a tilted face seen at the wrong angle (the face
    cascade tolerates about 15 degrees, the eye pair test a little more) or not a face at all,
    so the search goes on; if no face anywhere shows two eyes, the largest face at the first
    angle that has one is used, without eyes.
    """
    first = None
    for face, _ in _faces(cv2, detector, grey, angles):
        eyes = _find_eyes(cv2, face)
        if eyes is not None:
            return face, eyes
        first = first or face
    return first, None


def _faces(cv2, detector, grey: np.ndarray, angles: Sequence[float],
           near: np.ndarray | None = None):
    """Yields ``(face, angle)`` for every face found, angle by angle, largest first.

    With ``near``, the nearest first, and only those within a face's width of it.
    """
    if min(grey.shape) < _MIN_FACE_PIXELS:
        return  # too small to hold a face the detector could see
    centre = np.array([grey.shape[1], grey.shape[0]]) / 2
    for angle in angles:
        turned, turn = (_turned(cv2, grey, centre, angle, expand=True) if angle else
                        (grey, np.eye(3)[:2]))
        # Haar features compare brightness: even out the lighting first.
        boxes = detector.detectMultiScale(cv2.equalizeHist(turned), scaleFactor=1.1,
                                          minNeighbors=5,
                                          minSize=(_MIN_FACE_PIXELS, _MIN_FACE_PIXELS))
        faces = [_Face(np.asarray(box, float), angle, turned, turn) for box in boxes]
        if near is None:
            faces.sort(key=lambda face: -face.box[2] * face.box[3])
        else:
            faces = sorted((face for face in faces
                            if np.all(np.abs(face.centre - near) < face.box[2])),
                           key=lambda face: np.hypot(*(face.centre - near)))
        for face in faces:
            yield face, angle


def _find_eyes(cv2, face: _Face) -> tuple | None:
    """The two eye centres ``(left, right)`` in the detection copy, or None if not both found.

    The eyes are searched in the upper part of the face in the turned copy where the face was
    found (so within about 15 degrees of upright, where the eye cascade works); of the boxes
    found, the pair that is most like two eyes -- one in each half, level within 20 degrees,
    0.25-0.65 face widths apart -- wins.
    """
    left, top, width, height = (int(round(value)) for value in face.box)
    region = face.image[max(top + height // 8, 0):max(top + height * 6 // 10, 0),
                        max(left, 0):max(left + width, 0)]
    if min(region.shape) < 8:
        return None
    # The eye cascade sees eyes of 20 pixels or more: faces are enlarged to _EYE_FACE_WIDTH.
    zoom = max(1.0, _EYE_FACE_WIDTH / width)
    if zoom > 1:
        region = cv2.resize(region, (round(region.shape[1] * zoom), round(region.shape[0] * zoom)),
                            interpolation=cv2.INTER_LINEAR)
    minimum = round(zoom * width / 10)
    boxes = _bundled_cascade(cv2, _EYE_CASCADE_FILE).detectMultiScale(
        cv2.equalizeHist(region), scaleFactor=1.1, minNeighbors=3, minSize=(minimum, minimum),
        maxSize=(round(zoom * width / 2),) * 2)
    offset = np.array([max(left, 0), max(top + height // 8, 0)])
    centres = [offset + (box[:2] + box[2:] / 2) / zoom for box in np.asarray(boxes, float)]
    pairs = [(a, b) for a in centres for b in centres
             if a[0] < left + width / 2 <= b[0]
             and 0.25 * width <= b[0] - a[0] <= 0.65 * width
             and abs(b[1] - a[1]) <= math.tan(math.radians(_MAX_EYE_TILT)) * (b[0] - a[0])]
    if not pairs:
        return None
    best = min(pairs, key=lambda pair: abs(pair[1][0] - pair[0][0] - 0.42 * width))
    back = _inverse(face.turn)
    return tuple(tuple(_apply(back, point)) for point in best)


def _turned(cv2, grey: np.ndarray, centre: np.ndarray, angle: float,
            expand: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``grey`` turned by ``angle`` degrees about ``centre``, and the map to the turned copy.

    The angle follows ``cv2.getRotationMatrix2D``'s convention; the map is 2x3, from ``grey``'s
    pixels to the turned copy's. ``expand`` enlarges the copy so that no corner is cut off.
    """
    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), 1.0)
    height, width = grey.shape[:2]
    if expand:
        corners = _apply(turn, np.array([[0, 0], [width, 0], [0, height], [width, height]]))
        low, high = corners.min(axis=0), corners.max(axis=0)
        turn[:, 2] -= low
        width, height = (int(math.ceil(side)) for side in high - low)
    turned = cv2.warpAffine(grey, turn, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return turned, turn


def _apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, float) @ affine[:, :2].T + affine[:, 2]


def _inverse(affine: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(affine[:, :2])
    return np.hstack([linear, -(linear @ affine[:, 2])[:, np.newaxis]])


def _cut_turned(cv2, pixels: np.ndarray, framed: tuple[int, int, int, int], centre: np.ndarray,
                angle: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The region ``framed`` of the picture turned by ``angle`` about ``centre``, and its box.

    The box is that region's in the picture: the same size, about the point it came from.
    """
    left, top, width, height = framed
    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), 1.0)
    turn[:, 2] -= (left, top)  # one resampling: turn, then shift the region to the origin
    crop = cv2.warpAffine(np.ascontiguousarray(pixels, np.float32), turn, (width, height),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    middle = _apply(_inverse(turn), np.array([width / 2, height / 2]))
    return np.clip(crop, 0.0, 1.0), (round(middle[0] - width / 2), round(middle[1] - height / 2),
                                     width, height)


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
