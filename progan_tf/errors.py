"""Exceptions raised by progan-tf.

Every error a user can cause derives from :class:`ProganError`. Its message is one
line that says what went wrong *and what to do next*; the CLI prints exactly that
line (no traceback) and exits with status 2.
"""

from typing import Any


class ProganError(Exception):
    """Base class for all errors that progan-tf raises on bad input."""


class ModelLoadError(ProganError):
    """A generator handle could not be fetched, read or understood."""


class LatentError(ProganError, ValueError):
    """A latent vector/batch has the wrong size, rank, dtype or non-finite values."""


class ImageLoadError(ProganError, ValueError):
    """An image could not be read (missing, empty, truncated, not an image, too large)."""


class DatasetError(ProganError, ValueError):
    """A training folder holds no usable images, or a training option is invalid."""


class RunDirectoryError(ProganError):
    """A run directory is in a state that does not match the requested action."""


class OutputPathError(ProganError):
    """An output path that cannot be written (the CLI checks it before the work starts)."""


def one_line(error: Any, limit: int = 200) -> str:
    """The first line of an error message, shortened: messages built from it stay one line.

    Args:
        error: An exception (or any object) whose text goes into a message.
        limit: Longest text returned; longer text ends in ``...``.

    Returns:
        The first non-empty line of ``str(error)``, or the type's name if it has none.
    """
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
