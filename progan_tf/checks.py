"""Argument checks shared by every public function: one message style, the caller's error.

Each check returns the value it accepted (converted: a NumPy integer becomes an ``int``) or
raises ``error`` -- by default :class:`~progan_tf.errors.OptionError`, but a caller passes its
own class (``RecoveryError``, ``DatasetError``, ...) so that users catch what the function
documents. Messages follow Keras' argument validation: what is expected, then
``Received: name=value``.

This module imports only the standard library and NumPy's type names lazily; it is safe to use
from the CLI before TensorFlow is imported.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from progan_tf.errors import OptionError

__all__ = ["check_choice", "check_number", "check_whole_number"]


def check_whole_number(value: Any, name: str, *, minimum: int = 1, maximum: int | None = None,
                       error: type[Exception] = OptionError) -> int:
    """Accepts a whole number in ``[minimum, maximum]`` (``bool`` is not one).

    Args:
        value: The argument.
        name: Its name, as the user typed it.
        minimum: Smallest value allowed (default 1).
        maximum: Largest value allowed (default ``None``: no limit).
        error: The exception class to raise (default :class:`OptionError`).

    Returns:
        ``value`` as an ``int``.

    Example:
    >>> check_whole_number(3, "steps")
    3
    >>> check_whole_number(0, "steps")
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: steps must be a whole number >= 1. Received: steps=0
    """
    whole = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if not whole or value < minimum or (maximum is not None and value > maximum):
        bound = f" >= {minimum}" if maximum is None else f" in [{minimum}, {maximum}]"
        raise error(f"{name} must be a whole number{bound}. Received: {name}={value!r}")
    return int(value)


def check_number(value: Any, name: str, *, minimum: float | None = None,
                 exclusive_minimum: float | None = None, maximum: float | None = None,
                 error: type[Exception] = OptionError) -> float:
    """Accepts a finite real number within the given bounds.

    Args:
        value: The argument.
        name: Its name, as the user typed it.
        minimum: Smallest value allowed, inclusive (default ``None``).
        exclusive_minimum: The value must be greater than this (default ``None``).
        maximum: Largest value allowed, inclusive (default ``None``).
        error: The exception class to raise (default :class:`OptionError`).

    Returns:
        ``value`` as a ``float``.

    Example:
    >>> check_number(0.5, "learning_rate", exclusive_minimum=0)
    0.5
    """
    bounds = [f">= {minimum}" if minimum is not None else "",
              f"> {exclusive_minimum}" if exclusive_minimum is not None else "",
              f"<= {maximum}" if maximum is not None else ""]
    wanted = " and ".join(bound for bound in bounds if bound)
    message = f"{name} must be a finite number{' ' + wanted if wanted else ''}. " \
              f"Received: {name}={value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(message)
    value = float(value)
    if (not math.isfinite(value) or (minimum is not None and value < minimum)
            or (exclusive_minimum is not None and value <= exclusive_minimum)
            or (maximum is not None and value > maximum)):
        raise error(message)
    return value


def check_choice(value: Any, name: str, choices: Iterable[str], *,
                 error: type[Exception] = OptionError) -> str:
    """Accepts one of ``choices`` (compared exactly).

    Args:
        value: The argument.
        name: Its name, as the user typed it.
        choices: The names allowed.
        error: The exception class to raise (default :class:`OptionError`).

    Returns:
        ``value``.

    Example:
    >>> check_choice("mse", "loss", ("mse", "ssim"))
    'mse'
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise error(f"{name} must be one of {', '.join(map(repr, choices))}. "
                    f"Received: {name}={value!r}")
    return value
