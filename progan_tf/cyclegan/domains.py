"""Two unlabelled domains from one folder of aligned faces, and the checks two domains pass.

CycleGAN needs two folders of pictures that differ in one way.  CelebA comes without the
attribute labels here, so :func:`split_domains` splits a folder by a rule anyone can check by
eye: **dark hair (A) against fair hair (B), by the brightness of the hair region**.

The rule, on the ``"celeba"`` crop every training picture gets
(:func:`progan_tf.images.crop_box`: a square of 128/178 of the aligned picture's width, centred
at 121/218 of its height -- the eyes sit at about 0.42 of the square's height, the top of the
head is cut off just above the hairline):

1. the **hair region** (:func:`hair_region`) is the band above the forehead -- the square's
   top eighth, between a quarter and three quarters of its width -- and the two strips beside
   the temples -- from an eighth to three eighths of its height, the outer eighth on either
   side.  Outside the band, the strips can hold background for short hair; the band rarely
   does;
2. a picture's **scores** are percentiles of the brightness (Rec. 601 luma, 0-255) over that
   region (:func:`hair_brightness`): the 75th -- how bright its *brighter* quarter is -- and the
   25th -- how bright its *darker* quarter is;
3. domain A (dark hair) holds the faces whose 75th percentile is below the ``low`` quantile of
   all 75th percentiles: even the brighter part of the region is dark.  Domain B (fair hair)
   holds those whose 25th percentile is above the ``high`` quantile of all 25th percentiles:
   even the darker part is bright.  Everything else -- brown hair, mixed lighting, dark hair
   in front of a bright background -- is left out, so that the two domains differ clearly
   (defaults 0.3 and 0.8, so A is 30 % of the faces and B 20 %: fair hair is rarer than dark
   in CelebA).  Asking the *whole* region to agree is what keeps B clean: with the median,
   dark short hair beside a white background or a bare forehead under the band passed as
   fair (measured on the 8,000-face sample: about 18 of 32 random B faces fair-haired with
   the median, about 25 of 32 with these percentiles).

It is a rule of pixels, not of hair: grey and white hair and bald heads count as fair, a hat
counts as whatever colour it is, a blonde in deep shadow can count as dark.
Check a split by eye on grids of each side before training on it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.checks import check_number, check_whole_number
from progan_tf.errors import DatasetError

__all__ = ["DomainSplit", "MIN_DOMAIN_IMAGES", "check_domains", "hair_brightness",
           "hair_region", "split_domains", "split_scored"]

MIN_DOMAIN_IMAGES = 64
"""Pictures a domain needs at least: a few minibatches besides held-out faces to measure on."""


@dataclasses.dataclass
class DomainSplit:
    """The two domains of a folder, and the evidence.

    Attributes:
        a_files: Domain A (dark hair), sorted by file name.
        b_files: Domain B (fair hair), sorted by file name.
        files: Every scored file, in folder order.
        scores: float32 ``[len(files), 2]``: each file's 25th and 75th percentile of hair
            brightness (0-255).
        thresholds: ``(dark, fair)``: A's 75th percentiles are below ``dark``, B's 25th
            percentiles above ``fair``.
    """

    a_files: list
    b_files: list
    files: list
    scores: np.ndarray
    thresholds: tuple

    def describe(self) -> str:
        """One line: the counts and the thresholds."""
        low, high = self.thresholds
        return (f"{len(self.a_files)} dark-hair (A, 75th percentile < {low:.1f}) and "
                f"{len(self.b_files)} fair-hair (B, 25th percentile > {high:.1f}) of "
                f"{len(self.files)} faces; "
                f"{len(self.files) - len(self.a_files) - len(self.b_files)} left out")


def hair_region(resolution: int) -> np.ndarray:
    """The hair region of a ``"celeba"``-cropped square face, as a boolean mask.

    Args:
        resolution: The square's side in pixels (at least 8).

    Returns:
        bool ``[resolution, resolution]``: the top eighth between a quarter and three quarters
        of the width, and the outer eighths of the width from an eighth to three eighths of
        the height.

    Example:
    >>> hair_region(8).astype(int)
    array([[0, 0, 1, 1, 1, 1, 0, 0],
           [1, 0, 0, 0, 0, 0, 0, 1],
           [1, 0, 0, 0, 0, 0, 0, 1],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])
    """
    side = check_whole_number(resolution, "resolution", minimum=8)
    eighth = side // 8
    mask = np.zeros((side, side), bool)
    mask[:eighth, side // 4:side - side // 4] = True
    mask[eighth:3 * side // 8, :eighth] = True
    mask[eighth:3 * side // 8, side - eighth:] = True
    return mask


def hair_brightness(images: Any, percentile: float = 50.0) -> np.ndarray:
    """Each face's score: a percentile of the luma (0-255) over :func:`hair_region`.

    Args:
        images: ``"celeba"``-cropped faces, uint8 ``[N, r, r, 3]`` (as
            :func:`progan_tf.training.data.load_image_folder` decodes them).
        percentile: Which percentile of the region's pixels (default 50: the median).

    Returns:
        float32 ``[N]``.

    Example:
    >>> dark, fair = np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 200, np.uint8)
    >>> hair_brightness(np.stack([dark, fair])).tolist()
    [0.0, 200.0]
    """
    pixels = np.asarray(images)
    if pixels.ndim != 4 or pixels.shape[-1] != 3 or pixels.shape[1] != pixels.shape[2]:
        raise DatasetError(f"hair_brightness takes square RGB faces [n, r, r, 3]. Received: "
                           f"shape={pixels.shape}")
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    region = luma[:, hair_region(pixels.shape[1])]
    percentile = check_number(percentile, "percentile", minimum=0, maximum=100)
    return np.percentile(region, percentile, axis=1).astype(np.float32)


def split_domains(directory: str | os.PathLike, low: float = 0.3, high: float = 0.8,
                  resolution: int = 64) -> DomainSplit:
    """Split a folder of aligned faces into dark hair (A) and fair hair (B), unlabelled.

    Every picture is decoded as training decodes it (``"celeba"`` crop, area-resized to
    ``resolution``; files that cannot be decoded are skipped with a warning), scored by
    :func:`hair_brightness` (25th and 75th percentiles), and split by the rule of this
    module's introduction.

    Args:
        directory: A folder of aligned CelebA-like faces (searched recursively).
        low: A is the faces whose 75th percentile is below this quantile (default 0.3).
        high: B is the faces whose 25th percentile is above this quantile (default 0.8);
            the faces between are left out.
        resolution: The side the faces are scored at (default 64).

    Returns:
        A :class:`DomainSplit`.

    Raises:
        DatasetError: the folder holds no usable images.
        OptionError: ``low`` and ``high`` are not quantiles with ``low <= high``.
    """
    from progan_tf.training.data import load_image_folder

    check_number(low, "low", minimum=0, maximum=1)
    check_number(high, "high", minimum=low, maximum=1)
    folder = load_image_folder(directory, resolution, crop="celeba")
    return split_scored(folder.files, folder.images, low, high)


def split_scored(files: list, images: Any, low: float = 0.3, high: float = 0.8) -> DomainSplit:
    """:func:`split_domains` on faces already decoded (``"celeba"`` crop, uint8).

    Example:
    >>> tops = [0, 10, 20, 120, 140, 160, 240, 250]  # the brightness of each face's top
    >>> faces = np.zeros((8, 16, 16, 3), np.uint8)
    >>> for face, top in zip(faces, tops):
    ...     face[:6] = top
    >>> split = split_scored(list("abcdefgh"), faces, low=0.25, high=0.75)
    >>> split.a_files, split.b_files
    (['a', 'b'], ['g', 'h'])
    """
    low = check_number(low, "low", minimum=0, maximum=1)
    high = check_number(high, "high", minimum=low, maximum=1)
    fair, dark = hair_brightness(images, 25), hair_brightness(images, 75)
    dark_line, fair_line = float(np.quantile(dark, low)), float(np.quantile(fair, high))
    is_a, is_b = dark < dark_line, fair > fair_line
    is_a, is_b = is_a & ~is_b, is_b & ~is_a  # never both (possible only with odd quantiles)
    files = [str(f) for f in files]
    return DomainSplit(sorted(f for f, x in zip(files, is_a) if x),
                       sorted(f for f, x in zip(files, is_b) if x), files,
                       np.stack([fair, dark], axis=1), (dark_line, fair_line))


def _files_of(domain: Any) -> list[str]:
    """A domain given as a folder (its image files) or as a list of files."""
    if isinstance(domain, (str, os.PathLike)):
        from progan_tf.training.data import list_image_files

        return list_image_files(domain)
    return [str(path) for path in domain]


def check_domains(a: Any, b: Any, min_images: int = MIN_DOMAIN_IMAGES) -> tuple[list, list]:
    """The files of two domains, checked before anything is decoded.

    Pictures may differ in size and mode within and between the domains: the loader
    (:func:`progan_tf.images.load_image`) expands grey to RGB, puts transparency on white and
    scales 16-bit pictures, and every picture is cropped and area-resized to the run's
    resolution, so nothing is refused for it.  What is refused, each in one line:

    * the same folder, or the same files, given as both domains;
    * a domain with fewer than ``min_images`` pictures.

    Args:
        a: Domain A: a folder, or a list of image files.
        b: Domain B, the same way.
        min_images: Pictures each domain needs at least (default :data:`MIN_DOMAIN_IMAGES`).

    Returns:
        ``(a_files, b_files)``.

    Raises:
        DatasetError: a folder is missing or holds no images, the two domains share files, or
            a domain is too small.

    Example:
    >>> check_domains(["a1.png", "a2.png"], ["a2.png", "b.png"], min_images=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.DatasetError: 1 file is in both domains (first: 'a2.png'); ...
    """
    min_images = check_whole_number(min_images, "min_images")
    if isinstance(a, (str, os.PathLike)) and isinstance(b, (str, os.PathLike)):
        if os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b)):
            raise DatasetError(f"domain A and domain B are the same folder {str(a)!r}; CycleGAN "
                               f"translates between two different folders (A/ and B/)")
    a_files, b_files = _files_of(a), _files_of(b)
    shared = sorted({os.path.realpath(f) for f in a_files} & {os.path.realpath(f) for f in b_files})
    if shared:
        first = Path(shared[0]).name
        count = f"{len(shared)} file is" if len(shared) == 1 else f"{len(shared)} files are"
        raise DatasetError(f"{count} in both domains (first: {first!r}); CycleGAN translates "
                           f"between two different sets of pictures: pass two different folders")
    for name, files in (("A", a_files), ("B", b_files)):
        if len(files) < min_images:
            raise DatasetError(f"domain {name} has {len(files)} picture"
                               f"{'' if len(files) == 1 else 's'}, but CycleGAN needs at least "
                               f"{min_images} per domain; add pictures to it")
    return a_files, b_files
