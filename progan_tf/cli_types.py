"""Argument types of the ``progan-tf`` command line: the package's checks, worded for argparse.

Shared by :mod:`progan_tf.cli_parser` and :mod:`progan_tf.cli_parser_families`. Standard library
and TensorFlow-free parts of the package only, so that ``progan-tf --help`` stays instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from progan_tf.checks import check_number, check_whole_number
from progan_tf.errors import OptionError

__all__ = ["add_zoom", "at_least_two", "batch_sizes", "checked", "non_negative_float",
           "non_negative_int", "positive_float", "positive_int", "seed_int", "zoom_factor"]


def checked(text: str, parse: Callable[[str], Any], check: Callable[..., Any],
             **bounds: Any) -> Any:
    """Parses ``text`` and checks it as the package would, in the package's words.

    argparse prefixes the message with ``argument --name:``, so the check runs with an empty
    name and its ``Received: =value`` becomes ``Received: value``.
    """
    try:
        value = parse(text)
    except ValueError:
        value = text  # not a number at all: the check says what is expected
    try:
        return check(value, "", **bounds)
    except OptionError as error:
        message = str(error).strip().replace("Received: =", "Received: ")
        raise argparse.ArgumentTypeError(message) from None


def positive_int(text: str) -> int:
    return checked(text, int, check_whole_number, minimum=1)


def at_least_two(text: str) -> int:
    """Frames along a path: both ends count, so a path needs two."""
    return checked(text, int, check_whole_number, minimum=2)


def positive_float(text: str) -> float:
    # Finite too: an infinite --kimg-per-phase would train forever, a NaN one never stop.
    return checked(text, float, check_number, exclusive_minimum=0)


def non_negative_float(text: str) -> float:
    return checked(text, float, check_number, minimum=0)


def seed_int(text: str) -> int:
    # NumPy's and TensorFlow's seeded generators take non-negative seeds only.
    return checked(text, int, check_whole_number, minimum=0)


def zoom_factor(text: str) -> int | None:
    """'auto' (None: enlarge small models to at least 128 px) or a whole factor."""
    return None if text == "auto" else positive_int(text)


def batch_sizes(text: str) -> dict[int, int]:
    """'4:64,8:32' -> {4: 64, 8: 32}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item]
        sizes = {int(res): int(size) for res, size in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected RES:BATCH pairs like 4:64,8:32. Received: {text!r}") from None
    bad = [f"{res}:{size}" for res, size in sizes.items() if res <= 0 or size <= 0]
    if bad:
        raise argparse.ArgumentTypeError(
            f"resolutions and batch sizes must be whole numbers >= 1. Received: {', '.join(bad)}")
    return sizes


def non_negative_int(text: str) -> int:
    return checked(text, int, check_whole_number, minimum=0)


def add_zoom(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--zoom", type=zoom_factor, default=None, metavar="{auto,N}",
                        help="enlarge each pixel to NxN, sharp (default auto: the smallest "
                             "whole factor that makes each picture at least 128 px)")
