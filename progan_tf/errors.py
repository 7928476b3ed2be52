"""Every exception and warning progan-tf raises: the one place they are defined.

Every error a user can cause derives from :class:`ProganError`. Its message is one line that
says what went wrong *and what to do next*; the CLI prints exactly that line (no traceback) and
exits with status 2. Errors about an option's *value* (a count that must be positive, a choice
from a list) are :class:`OptionError`, which is also a ``ValueError`` as Python code expects;
the other classes say which part of the toolkit refused (a model, an image, a run folder, ...).

This module imports nothing heavier than the standard library: the CLI imports it before
deciding whether TensorFlow is needed at all.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Any

__all__ = ["DatasetError", "DemoError", "DownloadFailed", "DownloadTimeout", "FaceNotFoundWarning",
           "HubLockHeld", "ImageLoadError", "LatentError", "MetricError", "MissingDependencyError",
           "ModelLoadError", "NotebookStop", "OptionError", "OutputPathError", "ProganError",
           "RecoveryError", "RedirectRefused", "RunDirectoryError", "TrainingInterrupted",
           "one_line"]


class ProganError(Exception):
    """Base class for all errors that progan-tf raises on bad input."""


class OptionError(ProganError, ValueError):
    """An option's value is invalid: a count that must be positive, a name not in a list, ...

    Raised by :mod:`progan_tf.checks` unless the caller names a more specific class; the message
    names the option and ends in ``Received: name=value``, as Keras' own checks do.
    """


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


class MissingDependencyError(ProganError, ImportError):
    """An optional library a feature needs is not installed (OpenCV, ffmpeg, kagglehub, ...).

    The message names the ``pip install`` line that adds it.
    """


class MetricError(ProganError, ValueError):
    """A metric option (count, seed, ...) is invalid."""


class RecoveryError(ProganError, ValueError):
    """An option of a latent recovery is invalid, or the search could not produce a result."""


class DemoError(ProganError, ValueError):
    """An option of the demo is invalid."""


class TrainingInterrupted(ProganError):
    """Training stopped on SIGINT/SIGTERM after writing a checkpoint.

    Attributes:
        signal: The name of the signal that stopped it (``"SIGINT"`` or ``"SIGTERM"``); the CLI
            exits with 128 + its number, as a shell reports a process ended by that signal.
    """

    def __init__(self, message: str, signal: str = "SIGINT"):
        super().__init__(message)
        self.signal = signal


class NotebookStop(ProganError):
    """Stops a notebook cell with one line: what went wrong and what to change.

    IPython asks an exception for ``_render_traceback_`` before formatting a traceback, so
    raising this (``from None``, to drop the chained error) shows only the message -- and still
    stops *Run all*, since later cells would fail on what this one could not make.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


# Download failures are the standard library's kinds (a timeout, a URL error), so code that
# already handles ``TimeoutError``/``URLError`` handles them; :mod:`progan_tf.loading` turns them
# into a one-line :class:`ModelLoadError` for the user.


class DownloadTimeout(TimeoutError):
    """A download took longer than its deadline allows.

    Attributes:
        url: What was being downloaded.
        seconds: The deadline, in seconds from the start of the download.
    """

    def __init__(self, url: str, seconds: float):
        super().__init__(f"downloading {url} took longer than {seconds:g} s")
        self.url = url
        self.seconds = seconds


class HubLockHeld(DownloadTimeout):
    """Another live process kept downloading the same model past our deadline.

    Attributes:
        lock: The lock file, ``<TFHUB_CACHE_DIR>/<sha1(url)>.lock``.
        owner: Its contents, ``host.pid.uid`` of the process that holds it.
    """

    def __init__(self, url: str, seconds: float, lock: Path, owner: str):
        super().__init__(url, seconds)
        self.args = (f"another process ({owner}) is downloading {url} and did not finish "
                     f"within {seconds:g} s",)
        self.lock = lock
        self.owner = owner


class DownloadFailed(Exception):
    """One route (tfhub.dev, Kaggle, a URL) could not fetch a model; another may still work.

    :func:`progan_tf.load_generator` tries the next route, and only when every one failed tells
    the user, in one :class:`ModelLoadError` line built from the routes' ``problem`` texts.

    Attributes:
        problem: Why, in a few words ("HTTP 404", "no network connection", ...).
        offline: Whether the machine looked offline (a host name did not resolve).
    """

    def __init__(self, problem: str, offline: bool = False):
        super().__init__(problem)
        self.problem = problem
        self.offline = offline


class RedirectRefused(urllib.error.URLError):
    """A server redirected to something other than http:// or https:// (e.g. ftp://, file://)."""


class FaceNotFoundWarning(UserWarning):
    """:func:`progan_tf.face_crop` found no face and returned a centre crop instead."""


def one_line(error: Any, limit: int = 200) -> str:
    r"""The first line of an error message, shortened: messages built from it stay one line.

    Args:
        error: An exception (or any object) whose text goes into a message.
        limit: Longest text returned; longer text ends in ``...``.

    Returns:
        The first non-empty line of ``str(error)``, or the type's name if it has none.

    Example:
    >>> one_line(ValueError("first line\nsecond line"))
    'first line'
    """
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
