"""Exceptions raised by progan-tf.

Every error a user can cause derives from :class:`ProganError`. Its message is one
line that says what went wrong *and what to do next*; the CLI prints exactly that
line (no traceback) and exits with status 2.
"""


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
