"""Pix2Pix's training pairs: decoded once, checked, then streamed in a seeded order.

Three sources (:class:`~progan_tf.pix2pix.config.Pix2PixConfig`'s ``pairs``):

* ``"sketch"`` -- a folder of photos, decoded like every training folder
  (:func:`progan_tf.training.data.load_image_folder`); each photo's input is its sketch
  (:func:`progan_tf.pix2pix.sketch.sketch`, photo ``i`` with seed ``seed + i``);
* ``"folders"`` -- ``data_dir`` (A) and ``paired_b`` (B), paired by file name without its
  suffix (``a/0001.jpg`` with ``b/0001.png``); a name without its partner is refused, naming
  it;
* ``"side-by-side"`` -- every file is A|B; one that is not twice as wide as high is refused,
  naming it.

Every picture goes through :func:`progan_tf.images.load_image` (grey expanded to RGB,
transparency on white), is framed by ``crop`` and area-resized to the run's resolution.  The
stream is :func:`progan_tf.training.data.training_dataset`'s: an order that is a function of the
seed and the position alone, so a resumed run sees what an uninterrupted one would; a mirrored
pair is mirrored on both sides.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.errors import DatasetError, ImageLoadError
from progan_tf.images import load_image
from progan_tf.pix2pix.config import Pix2PixConfig
from progan_tf.pix2pix.sketch import frame, sketch
from progan_tf.training import data

__all__ = ["Pairs", "list_pairs", "load_pairs", "pair_dataset", "resolve_pairs"]


@dataclasses.dataclass
class Pairs:
    """Decoded pairs: inputs and targets, uint8 ``[N, R, R, 3]`` each, and their files."""

    inputs: np.ndarray
    targets: np.ndarray
    files: list
    mode: str

    def __len__(self) -> int:
        return len(self.inputs)

    def head(self, count: int) -> Pairs:
        """The first ``count`` pairs."""
        return Pairs(self.inputs[:count], self.targets[:count], self.files[:count], self.mode)

    def tail(self, count: int) -> Pairs:
        """The last ``count`` pairs (the held-out ones)."""
        start = len(self) - count
        return Pairs(self.inputs[start:], self.targets[start:], self.files[start:], self.mode)


def _is_side_by_side(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as opened:
            return opened.width == 2 * opened.height
    except Exception:  # not an image: the loader says so
        return False


def resolve_pairs(config: Pix2PixConfig) -> str:
    """``config.pairs``, with ``"auto"`` decided from the options and the files.

    Example:
    >>> resolve_pairs(Pix2PixConfig("a", "run", paired_b="b"))
    'folders'
    """
    if config.pairs != "auto":
        return config.pairs
    if config.paired_b:
        return "folders"
    files = data.list_image_files(config.data_dir)
    return "side-by-side" if all(_is_side_by_side(path) for path in files) else "sketch"


def _stem(root: Path, path: str) -> str:
    return str(Path(path).relative_to(root).with_suffix(""))


def list_pairs(config: Pix2PixConfig) -> list[tuple[str, str | None]]:
    """The files of every pair, sorted: ``(a, b)``, or ``(file, None)`` for one-file pairs.

    Raises:
        DatasetError: a folder is missing or empty, or names in the two folders do not match
            (the message names the first unmatched ones).
    """
    files = data.list_image_files(config.data_dir)
    if resolve_pairs(config) != "folders":
        return [(path, None) for path in files]
    root_a, root_b = Path(config.data_dir).expanduser(), Path(config.paired_b).expanduser()
    a = {_stem(root_a, path): path for path in files}
    b = {_stem(root_b, path): path for path in data.list_image_files(config.paired_b)}
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        said = []
        for names, here, there in ((only_a, config.data_dir, config.paired_b),
                                   (only_b, config.paired_b, config.data_dir)):
            if names:
                said.append(f"{len(names)} in {str(here)!r} have no file of the same name in "
                            f"{str(there)!r} (first: {names[0]!r})")
        raise DatasetError(f"the folders are not paired: {'; '.join(said)}; pairs are matched "
                           f"by file name without its suffix")
    return [(a[name], b[name]) for name in sorted(a)]


def _framed(picture: Any, config: Pix2PixConfig) -> np.ndarray:
    return frame(picture, config.resolution, config.crop)


def _decode(pair: tuple[str, str | None], mode: str, config: Pix2PixConfig) -> tuple:
    a_path, b_path = pair
    if mode == "folders":
        a, b = (_framed(path, config) for path in (a_path, b_path))
    else:
        whole = load_image(a_path, crop="none")
        height, width = whole.shape[:2]
        if width != 2 * height:
            raise DatasetError(f"{a_path!r} is {width}x{height}, but a side-by-side pair is "
                               f"twice as wide as high (A|B); pass a folder of A|B images, or "
                               f"two folders with --paired-b")
        a, b = _framed(whole[:, :height], config), _framed(whole[:, height:], config)
    return (b, a) if config.direction == "BtoA" else (a, b)


def load_pairs(config: Pix2PixConfig, limit: int | None = None, last: bool = False) -> Pairs:
    """Decode the run's pairs at its resolution (all of them, or ``limit`` of them).

    Args:
        config: The run's options.
        limit: Decode only this many pairs (default ``None``: all).
        last: With ``limit``, the last ones (the held-out end) rather than the first.

    Returns:
        :class:`Pairs`, inputs and targets uint8 ``[N, R, R, 3]``.

    Raises:
        DatasetError: unusable folders, unmatched names, a file that cannot be decoded or
            is not an A|B pair, naming it.
    """
    mode = resolve_pairs(config)
    pairs = list_pairs(config)
    if limit is not None:
        pairs = pairs[-limit:] if last else pairs[:limit]
    if mode == "sketch":
        if limit is None:
            folder = data.load_image_folder(config.data_dir, config.resolution, crop=config.crop)
            photos, files = folder.images, folder.files
        else:
            photos = np.stack([_checked(lambda path: _framed(path, config), path)
                               for path, _ in pairs])
            files = [path for path, _ in pairs]
        offset = len(list_pairs(config)) - len(files) if last else 0
        sketches = np.stack([sketch(photo, config.hints, config.seed + offset + index)
                             for index, photo in enumerate(photos)])
        return Pairs(sketches, photos, list(files), mode)
    with concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(lambda pair: _checked(lambda p: _decode(p, mode, config), pair),
                                pairs))
    inputs = np.stack([a for a, _ in decoded])
    targets = np.stack([b for _, b in decoded])
    return Pairs(inputs, targets, [a for a, _ in pairs], mode)


def _checked(decode: Any, item: Any) -> Any:
    """``decode(item)``, with an unreadable picture as one DatasetError naming it."""
    try:
        return decode(item)
    except ImageLoadError as error:
        raise DatasetError(f"cannot use {item!r} as a training pair: {error}") from None


def pair_dataset(pairs: Pairs, batch_size: int, start_index: int = 0, seed: int = 0,
                 mirror: bool = True) -> tf.data.Dataset:
    """An endless dataset of ``(inputs, targets)`` float32 batches in [-1, 1].

    The inputs and targets are stacked along the channels and streamed by
    :func:`progan_tf.training.data.training_dataset`, so both halves of a pair are shuffled
    and mirrored together.

    Example:
    >>> pairs = Pairs(np.zeros((4, 16, 16, 3), np.uint8), np.full((4, 16, 16, 3), 255, np.uint8),
    ...               ["a", "b", "c", "d"], "sketch")
    >>> x, y = next(iter(pair_dataset(pairs, 2)))
    >>> tuple(x.shape), float(x.numpy().max()), float(y.numpy().min())
    ((2, 16, 16, 3), -1.0, 1.0)
    """
    stacked = np.concatenate([pairs.inputs, pairs.targets], axis=-1)
    stream = data.training_dataset(stacked, stacked.shape[1], batch_size,
                                   start_index=start_index, seed=seed, mirror=mirror)
    return stream.map(lambda batch: (batch[..., :3], batch[..., 3:]))
