"""Atomic file writes: the one way progan-tf puts a file on disk.

Every file the package writes (images, animations, JSON, checkpoints' small files, the demo's
page) goes through :func:`atomic_path`: the bytes are written to a hidden temporary file beside
the target, flushed to disk, and renamed over the target with ``os.replace``. A crash, a full
disk or Ctrl-C therefore leaves either the old file or the new one, never half of one, and an
error leaves no temporary file behind.

One permission policy: a new file gets the mode any new file would (``0o666`` less the
process' umask), because the temporary file is created with ``open(..., "x")``, never with
``tempfile.mkstemp`` (whose ``0o600`` would hide results from the user's group).

Folders that are replaced as a whole (a checkpoint, an export) are the training
infrastructure's business; :func:`umask` gives them the same policy (``0o777`` less the umask).

This module imports only the standard library.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["atomic_path", "open_atomic", "umask", "write_bytes", "write_json", "write_text"]


def umask() -> int:
    """The process' file-creation mask, read without changing it for longer than a moment.

    Returns:
        The mask, e.g. ``0o022``: a new folder gets ``0o777 & ~umask()``.
    """
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = "") -> Iterator[Path]:
    """Yields a fresh temporary path beside ``path``; renames it over ``path`` on success.

    Use it where a library writes the file by name (Pillow, imageio, ffmpeg). The caller creates
    the temporary file; if the block raises, the temporary file is removed and ``path`` is left
    as it was. Missing parent folders are created.

    Args:
        path: The file to write.
        suffix: Text to end the temporary name with (default ``""``), e.g. ``".mp4"`` for
            writers that choose the format from the name (ffmpeg, matplotlib).

    Yields:
        The temporary path, ``.NAME.<random>.tmp<suffix>`` in the same folder.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "note.txt") as temporary:
    ...     _ = temporary.write_text("hello")
    >>> (folder / "note.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{suffix}")
    try:
        yield temporary
        if temporary.exists():
            with open(temporary, "rb+") as file:  # flushed to disk before it takes the name
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Opens a fresh binary file that replaces ``path`` when the block ends without error.

    Args:
        path: The file to write.

    Yields:
        A binary file object opened for writing.
    """
    with atomic_path(path) as temporary:
        with open(temporary, "xb") as file:  # "x": never clobber; mode bits follow the umask
            yield file


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    with open_atomic(path) as file:
        file.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` atomically.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, value: Any, **options: Any) -> Path:
    """Writes ``value`` as indented JSON (ending in a newline) to ``path`` atomically.

    Args:
        path: The file to write.
        value: Anything ``json.dumps`` accepts.
        **options: Passed to ``json.dumps`` (``indent`` defaults to 2).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    options.setdefault("indent", 2)
    return write_text(path, json.dumps(value, **options) + "\n")
