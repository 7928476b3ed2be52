"""The ``progan-tf`` arguments of CycleGAN: ``train --arch cyclegan`` and ``translate --direction``.

Kept apart from :mod:`progan_tf.cli_parser` (which calls these functions while building the
parser) so that each module stays small; the same rule holds: standard library and
TensorFlow-free parts only.
"""

from __future__ import annotations

import argparse

from progan_tf.cli_types import non_negative_float, non_negative_int
from progan_tf.constants import (
    BUNDLED_CYCLEGAN,
    CYCLEGAN_DIRECTIONS,
    CYCLEGAN_DOMAINS,
    CYCLEGAN_GENERATORS,
)

__all__ = ["CYCLEGAN_TRAIN_OPTIONS", "DIRECTION_HELP", "add_cyclegan_train_arguments",
           "add_translate_direction"]

CYCLEGAN_TRAIN_OPTIONS = ("--unpaired-b", "--domains", "--generator", "--resnet-blocks",
                          "--lambda-cycle", "--lambda-identity", "--pool-size")
"""``train`` options of ``--arch cyclegan`` only (with ``--kimg``, ``--batch-size``, ``--width``
and ``--grid-every-kimg``)."""

DIRECTION_HELP = (f"a CycleGAN translator's direction: a2b (default: A -> B, e.g. dark -> fair "
                  f"hair for {BUNDLED_CYCLEGAN!r}) or b2a; writes A | A->B | A->B->A. Not for "
                  f"Pix2Pix, which has one direction")
"""``translate --direction``'s help."""


def add_cyclegan_train_arguments(parser: argparse.ArgumentParser) -> None:
    """``--arch cyclegan``'s own options (their defaults are CycleGANConfig's: None here)."""
    group = parser.add_argument_group(
        "cyclegan", "options of --arch cyclegan (Zhu et al. 2017: two unpaired folders; least "
                    "squares + 10 x cycle + 5 x identity, a pool of 50, Adam 2e-4, beta1 0.5, "
                    "the rate falling linearly to 0 over the second half of --kimg, which "
                    "therefore cannot change on --resume). DATA_DIR holds A/ and B/ (pictures "
                    "of any size and mode: each is framed by --crop and resized); each domain "
                    "needs 64 pictures plus --holdout (held out per domain). Also takes --kimg "
                    "(default 20, counting pictures of A), --batch-size (4), --width (16) and "
                    "--grid-every-kimg (1)")
    group.add_argument("--unpaired-b", default=None, metavar="DIR",
                       help="domain B's folder: DATA_DIR itself is then domain A (as "
                            "--paired-b of pix2pix, but no file names need to match)")
    group.add_argument("--domains", choices=CYCLEGAN_DOMAINS, default=None,
                       help="folders (default): DATA_DIR/A and DATA_DIR/B, or DATA_DIR and "
                            "--unpaired-b; hair: split DATA_DIR, a folder of aligned faces "
                            "(the CelebA sample), without labels: A = dark hair (the 30%% "
                            "whose hair region's 75th-percentile brightness is lowest), B = "
                            "fair hair (the 20%% whose 25th percentile is highest), the rest "
                            "left out (progan_tf.cyclegan.domains)")
    group.add_argument("--generator", choices=CYCLEGAN_GENERATORS, default=None,
                       help="unet: Pix2Pix's (default: it learns faster on a CPU); resnet: "
                            "the paper's residual blocks (smaller weights)")
    group.add_argument("--resnet-blocks", type=non_negative_int, default=None,
                       help="residual blocks of the ResNet generator (default 6, the paper's "
                            "at 128x128)")
    group.add_argument("--lambda-cycle", type=non_negative_float, default=None,
                       help="lambda, the weight of each cycle loss (default 10)")
    group.add_argument("--lambda-identity", type=non_negative_float, default=None,
                       help="the identity loss's weight as a fraction of lambda (default 0.5; "
                            "0: none)")
    group.add_argument("--pool-size", type=non_negative_int, default=None,
                       help="earlier pictures each discriminator learns from (default 50)")


def add_translate_direction(parser: argparse.ArgumentParser) -> None:
    """``translate --direction a2b|b2a`` (default ``None``: a2b for a CycleGAN)."""
    parser.add_argument("--direction", choices=CYCLEGAN_DIRECTIONS, default=None,
                        help=DIRECTION_HELP)
