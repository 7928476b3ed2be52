"""Network weights as NumPy arrays under stable structural names: what a checkpoint stores.

Why names and not ``tf.train.Checkpoint``: ``tf.train.Checkpoint`` matches variables through
the tracked object graph, but Keras 3 layers kept in Python lists (ProGAN's per-resolution
blocks) are not tracked by it -- a ``tf.train.Checkpoint`` of a generator holds only the
variables its optimizer happens to reference, so it would silently drop the weights of every
resolution not being trained.  Keras' own variable paths are not stable either (layer names get
a process-wide counter: ``equalized_conv2d_6``).  So each network's weights are stored under
*structural* names (``blocks.1.0.kernel``, the attribute path inside the network), matched by
name on restore and checked for shape.  Files written in the older positional format
(``arr_0``, ``arr_1``, ...) are still read, with their count and every shape checked.

Nothing here knows about a model family: any ``keras.Model`` (or layer) can be named, saved and
matched.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["READ_ERRORS", "file_digest", "load_arrays", "match_arrays", "positional",
           "save_arrays", "variable_names"]

# What reading a damaged .npz raises: truncated/zeroed/bit-flipped zips, bad headers, ...
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
               zlib.error)


def variable_names(network: Any) -> list[str]:
    """Stable names of ``network.weights``, in that order: their attribute paths.

    ``generator.blocks[1][0].kernel`` is named ``blocks.1.0.kernel`` however many layers the
    process created before (Keras' own paths carry a global counter).  A variable that cannot
    be reached through public attributes falls back to its position, ``weights.<index>``.

    Args:
        network: A Keras layer or model.

    Returns:
        One name per entry of ``network.weights``.

    Example:
    >>> import keras
    >>> layer = keras.layers.BatchNormalization()
    >>> layer.build((None, 3))
    >>> variable_names(layer)
    ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """
    import keras

    found, seen = {}, set()

    def visit(obj: Any, name: str) -> None:
        if isinstance(obj, keras.Variable):
            found.setdefault(id(obj), name)
        elif isinstance(obj, keras.layers.Layer) and id(obj) not in seen:
            seen.add(id(obj))
            for attr, value in vars(obj).items():
                if not attr.startswith("_"):
                    visit(value, f"{name}.{attr}" if name else attr)
        elif isinstance(obj, (list, tuple)):
            for index, item in enumerate(obj):
                visit(item, f"{name}.{index}")

    visit(network, "")
    names = [found.get(id(v), f"weights.{i}") for i, v in enumerate(network.weights)]
    if len(set(names)) != len(names):  # shared variables: positions are the only safe names
        names = [f"weights.{i}" for i in range(len(names))]
    return names


def file_digest(path: str | os.PathLike) -> str:
    """The SHA-256 digest of a file, as a checkpoint's ``state.json`` records it.

    Args:
        path: The file.

    Returns:
        64 hexadecimal digits.
    """
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def save_arrays(path: str | os.PathLike, arrays: dict | Sequence) -> None:
    """Write ``arrays`` to an ``.npz`` file and flush it to disk.

    Args:
        path: The file to create (inside a checkpoint's temporary folder: the folder, not the
            file, is what is renamed into place).
        arrays: A dict by name, or a list (stored as ``arr_<i>``).
    """
    with open(path, "wb") as handle:
        if isinstance(arrays, dict):
            np.savez(handle, **arrays)
        else:
            np.savez(handle, *arrays)
        handle.flush()
        os.fsync(handle.fileno())


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` by name, read completely (so that damage shows here).

    Raises:
        One of :data:`READ_ERRORS` when the file is missing or damaged.
    """
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def positional(arrays: dict[str, np.ndarray]) -> list[np.ndarray] | None:
    """The arrays of an ``arr_<i>`` file in order, or None when it holds named arrays."""
    keys = [f"arr_{i}" for i in range(len(arrays))]
    return [arrays[k] for k in keys] if set(keys) == set(arrays) else None


def match_arrays(network: Any, arrays: dict[str, np.ndarray], label: str) -> list[np.ndarray]:
    """The arrays for ``network.weights`` in order, matched by name and checked for shape.

    Args:
        network: The Keras layer or model to load into.
        arrays: What :func:`load_arrays` read.
        label: The file's name, for messages.

    Returns:
        One array per entry of ``network.weights``.

    Raises:
        ValueError: if a name is missing or unknown, a count or a shape differs (the caller
            turns it into its own one-line error).
    """
    weights = network.weights
    values = positional(arrays)
    if values is not None:  # the older positional format: the count and every shape must fit
        if len(values) != len(weights):
            raise ValueError(f"{label} holds {len(values)} arrays, the model has {len(weights)}")
        names = [f"weights.{i}" for i in range(len(weights))]
    else:
        names = variable_names(network)
        missing = [n for n in names if n not in arrays]
        extra = sorted(set(arrays) - set(names))
        if missing or extra:
            raise ValueError(f"{label} does not fit the model (missing: {missing[:3] or 'none'}; "
                             f"unknown: {extra[:3] or 'none'})")
        values = [arrays[n] for n in names]
    for name, variable, value in zip(names, weights, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{label}: {name} has shape {value.shape}, the model's is "
                             f"{tuple(variable.shape)}")
    return values
