"""The ``progan-tf`` arguments of the style-based generator: ``train --arch stylegan`` and ``mix``.

Kept apart from :mod:`progan_tf.cli_parser` (which calls these functions while building the
parser) so that each module stays small; the same rule holds: standard library and
TensorFlow-free parts only.
"""

from __future__ import annotations

import argparse
from typing import Any

from progan_tf.cli_types import add_zoom, positive_int
from progan_tf.constants import BUNDLED_STYLEGAN, STYLE_LAYER_RANGES, STYLEGAN_ARCH

__all__ = ["STYLEGAN_SHARED_TRAIN_OPTIONS", "STYLEGAN_TRAIN_OPTIONS", "add_mix_command",
           "add_stylegan_train_arguments", "fraction", "layers_option"]

STYLEGAN_TRAIN_OPTIONS = ("--w-dim", "--mapping-layers", "--mixing-probability",
                          "--truncation-psi", "--discriminator")
"""``train`` options of ``--arch stylegan`` only."""

STYLEGAN_SHARED_TRAIN_OPTIONS = ("--latent-dim", "--fmap-base", "--fmap-max", "--fmap-decay",
                                 "--loss", "--r1-gamma", "--r1-interval", "--augment",
                                 "--augment-policy", "--ada-target", "--ada-kimg")
"""The progressive GAN's ``train`` options ``--arch stylegan`` takes too; where the parser's
default is the progressive GAN's (``--fmap-base 8192``), the style-based run keeps its own."""


def fraction(text: str) -> float:
    """A number in [0, 1] (``--mixing-probability``, ``--truncation-psi``).

    Example:
    >>> fraction("0.7")
    0.7
    """
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1. Received: {text}")
    return value


def layers_option(text: str) -> Any:
    """``--layers``: a name of the ranges, or comma-separated w+ layer indices.

    Example:
    >>> layers_option("coarse"), layers_option("0,1,5")
    ('coarse', [0, 1, 5])
    """
    if text in STYLE_LAYER_RANGES:
        return text
    try:
        indices = [int(part) for part in text.split(",")]
    except ValueError:
        indices = None
    if not indices or any(index < 0 for index in indices):
        raise argparse.ArgumentTypeError(
            f"must be {', '.join(STYLE_LAYER_RANGES)} or comma-separated layer indices (0, 1, "
            f"...). Received: {text}")
    return indices


def add_stylegan_train_arguments(parser: argparse.ArgumentParser) -> None:
    """``--arch stylegan``'s own options (their defaults are StyleGANConfig's: None here)."""
    group = parser.add_argument_group(
        STYLEGAN_ARCH, "options of --arch stylegan (a style-based generator, Karras et al. "
                       "2019/2020: mapping network, modulated convolutions, noise, style "
                       "mixing; the recipe's WGAN-GP loss; also takes --kimg (default 100), "
                       "--batch-size (16), --grid-every-kimg (5), --latent-dim (128), "
                       "--fmap-base (1024), --fmap-max (128) and the recipe group)")
    group.add_argument("--w-dim", type=positive_int, default=None,
                       help="size of w, the mapping network's output (default 128)")
    group.add_argument("--mapping-layers", type=positive_int, default=None,
                       help="layers of the mapping network (default 4; the paper's 8)")
    group.add_argument("--mixing-probability", type=fraction, default=None,
                       help="share of fakes made from two latents' styles (default 0.9)")
    group.add_argument("--truncation-psi", type=fraction, default=None,
                       help="the export's truncation of w towards the average (default 1: "
                            "none; 0.7: cleaner, less varied faces)")
    group.add_argument("--discriminator", choices=("progan", "residual"), default=None,
                       help="progan: ProGAN's (default); residual: StyleGAN2's")


def add_mix_command(commands: Any) -> None:
    """``progan-tf mix A B --model HANDLE --layers coarse --out DIR``."""
    p = commands.add_parser("mix", help="mix the styles of two faces (style-based generator)",
                            description="Style mixing: take the --layers styles of face A and "
                                        "the rest from face B. A and B are each a seed (a whole "
                                        "number: that seed's random face) or a photo (projected "
                                        "into the model's w+ space). Writes a.png, b.png, "
                                        "mix.png and a labelled side-by-side picture, enlarged "
                                        "by a whole factor.")
    p.add_argument("a", metavar="A", help="seed or photo whose styles are taken (the source)")
    p.add_argument("b", metavar="B", help="seed or photo that receives them (the destination)")
    p.add_argument("--model", default=BUNDLED_STYLEGAN,
                   help=f"{BUNDLED_STYLEGAN!r} (default) or a folder exported from 'progan-tf "
                        f"train --arch stylegan'")
    p.add_argument("--layers", type=layers_option, default="coarse",
                   help="coarse (pose, face shape; default), middle (features, hair), fine "
                        "(colours), or comma-separated w+ layer indices")
    p.add_argument("--truncation-psi", type=fraction, default=None,
                   help="truncation of the seeds' faces (default: the model's)")
    p.add_argument("--steps", type=positive_int, default=300,
                   help="search steps of a photo's projection into w+ (default 300)")
    add_zoom(p)
    p.add_argument("--out", required=True, help="output folder")
