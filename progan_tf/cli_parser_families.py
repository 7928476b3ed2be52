"""The ``progan-tf`` arguments of the model families that train in one phase, beside DCGAN.

``train --arch pix2pix`` and ``translate``; ``train --arch srgan`` and ``upscale``. Kept apart
from :mod:`progan_tf.cli_parser` (which calls these functions while building the parser) so that
each module stays small; the same rule holds: standard library and TensorFlow-free parts only.
"""

from __future__ import annotations

import argparse
from typing import Any

from progan_tf.cli_parser_cyclegan import add_translate_direction
from progan_tf.cli_types import (
    add_zoom,
    at_least_two,
    non_negative_float,
    non_negative_int,
    positive_int,
    seed_int,
)
from progan_tf.constants import BUNDLED_PIX2PIX, PIX2PIX_ADVERSARIAL, PIX2PIX_PAIRS

__all__ = ["PIX2PIX_ONLY_TRAIN_OPTIONS", "SRGAN_TRAIN_OPTIONS", "add_pix2pix_train_arguments",
           "add_srgan_train_arguments", "add_translate_command", "add_upscale_command"]


# --------------------------------------------------------------------------------------------
# train --arch pix2pix, and translate
# --------------------------------------------------------------------------------------------

PIX2PIX_ONLY_TRAIN_OPTIONS = ("--paired-b", "--pairs", "--direction", "--hints", "--max-width",
                              "--adversarial", "--l1-weight", "--l1-only")
"""``train`` options of Pix2Pix only: refused with ``--arch progan`` and ``--arch dcgan``."""


def add_pix2pix_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Pix2Pix's own ``train`` options (defaults are Pix2PixConfig's: None here).

    ``--arch pix2pix`` also takes the DCGAN group's ``--kimg``, ``--batch-size``, ``--width``
    and ``--grid-every-kimg``.
    """
    group = parser.add_argument_group(
        "pix2pix", "options of --arch pix2pix (the course's recipe: U-Net + PatchGAN, least "
                   "squares + 100 x L1, Adam 2e-4, beta1 0.5; also takes --kimg (default 20), "
                   "--batch-size (16), --width (32) and --grid-every-kimg (2))")
    group.add_argument("--paired-b", default=None, metavar="DIR",
                       help="the folder of targets (B) whose file names match DATA_DIR's "
                            "inputs (A)")
    group.add_argument("--pairs", choices=PIX2PIX_PAIRS, default=None,
                       help="sketch: each photo's input is its sketch (edges + colour dots); "
                            "folders: DATA_DIR and --paired-b; side-by-side: A|B images; auto "
                            "(default): folders with --paired-b, side-by-side when every image "
                            "is twice as wide as high, else sketch")
    group.add_argument("--direction", choices=("AtoB", "BtoA"), default=None,
                       help="which half of a pair is the input (default AtoB)")
    group.add_argument("--hints", type=non_negative_int, default=None,
                       help="colour dots per sketch (default: 300 per 256x256, by area: 19 at "
                            "64x64)")
    group.add_argument("--max-width", type=positive_int, default=None,
                       help="the widest block's feature maps (default 128; the paper's 512)")
    group.add_argument("--adversarial", choices=PIX2PIX_ADVERSARIAL, default=None,
                       help="mse: least squares (the course's, default); bce: the paper's")
    group.add_argument("--l1-weight", type=non_negative_float, default=None,
                       help="lambda, the weight of the L1 loss (default 100)")
    group.add_argument("--l1-only", action="store_true", default=None,
                       help="train the U-Net with L1 alone, no discriminator (the baseline)")


def add_translate_command(commands: Any) -> None:
    """``progan-tf translate PHOTO --model HANDLE --out DIR``."""
    p = commands.add_parser("translate", help="turn a photo into its sketch and back (Pix2Pix), "
                                              "or dark into fair hair (CycleGAN)",
                            description="Prepare a photo as the translator's training did (for "
                                        "the bundled model: its sketch, inverted edges plus "
                                        "colour dots) and translate it. Writes the framed "
                                        "input, the prepared input, the output and a labelled "
                                        "side-by-side PNG, enlarged by a whole factor. "
                                        "With a CycleGAN (--model bundled-cyclegan or its "
                                        "export) and --direction: the photo, its translation "
                                        "and the translation back (A | A->B | A->B->A).")
    p.add_argument("photo", help="image path or http(s) URL")
    p.add_argument("--model", default=BUNDLED_PIX2PIX,
                   help=f"{BUNDLED_PIX2PIX!r} (default) or a folder exported from a Pix2Pix "
                        f"run; or 'bundled-cyclegan' or a CycleGAN run's export (with "
                        f"--direction)")
    p.add_argument("--seed", type=seed_int, default=0, help="where the colour dots go")
    add_translate_direction(p)  # CycleGAN's two directions
    add_zoom(p)
    p.add_argument("--out", required=True, help="output folder")


# --------------------------------------------------------------------------------------------
# SRGAN: train --arch srgan's options, and the upscale command
# --------------------------------------------------------------------------------------------

SRGAN_TRAIN_OPTIONS = ("--pretrain-kimg", "--blocks", "--disc-width", "--content-loss",
                       "--adversarial-weight", "--content-only", "--bicubic-skip")
"""``train`` options of ``--arch srgan`` only (with ``--kimg``, ``--batch-size``, ``--width``)."""


def add_srgan_train_arguments(parser: argparse.ArgumentParser) -> None:
    """``--arch srgan``'s own options (their defaults are SRGANConfig's: None here)."""
    from progan_tf.constants import SRGAN_ARCH

    srgan = parser.add_argument_group(
        SRGAN_ARCH, "options of --arch srgan (4x super-resolution, Ledig et al. 2017: --resolution "
                    "is the high-res side, the generator sees it shrunk 4x; --kimg is the "
                    "adversarial phase, --width the generator's feature maps)")
    srgan.add_argument("--pretrain-kimg", type=non_negative_float, default=None,
                       help="kimg of content loss alone before the GAN starts (SRResNet; "
                            "default 20)")
    srgan.add_argument("--blocks", type=positive_int, default=None,
                       help="residual blocks of the generator (default 8; the paper's 16)")
    srgan.add_argument("--disc-width", type=positive_int, default=None,
                       help="feature maps of the discriminator's first layer (default 32)")
    srgan.add_argument("--content-loss", choices=("pixel", "vgg"), default=None,
                       help="pixel: MSE + Laplacian pyramid (offline, the default); vgg: the "
                            "paper's VGG19 features (downloads ImageNet weights)")
    srgan.add_argument("--adversarial-weight", type=non_negative_float, default=None,
                       help="weight of the adversarial loss (default 1e-3, the paper's)")
    srgan.add_argument("--content-only", action="store_true", default=None,
                       help="train SRResNet: the content loss alone, no discriminator")
    srgan.add_argument("--bicubic-skip", action=argparse.BooleanOptionalAction, default=None,
                       help="the generator draws the detail over a bicubic enlargement, "
                            "starting as bicubic (default); --no-bicubic-skip: the paper's "
                            "network")


def add_upscale_command(commands: Any) -> None:
    """``progan-tf upscale PHOTO --model HANDLE [--scale N] --out DIR``."""
    from progan_tf.constants import BUNDLED_SRGAN

    p = commands.add_parser("upscale", help="enlarge a photo 4x with an SRGAN, beside bicubic",
                            description="Super-resolution: enlarge a photo with an SRGAN "
                                        "upscaler (trained on faces; tiled on large photos) and "
                                        "write low-res | bicubic | SRGAN (| original with "
                                        "--scale) as labelled pictures.")
    p.add_argument("photo", help="image path or http(s) URL (grey and transparent images work)")
    p.add_argument("--model", default=BUNDLED_SRGAN,
                   help=f"{BUNDLED_SRGAN!r} (default) or a folder exported from 'progan-tf train "
                        f"--arch srgan'")
    p.add_argument("--scale", type=at_least_two, default=None, metavar="N",
                   help="shrink the photo N times first (area filter, as training pairs are "
                        "made; usually the model's 4), so the result can be compared with the "
                        "original, as the course does")
    add_zoom(p)
    p.add_argument("--out", required=True, help="output folder")
