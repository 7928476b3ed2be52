"""The command line's SRGAN commands: ``train --arch srgan`` and ``upscale``.

    progan-tf train    PHOTOS --arch srgan --out runs/srgan [--pretrain-kimg --kimg ...]
    progan-tf upscale  PHOTO [--model bundled-srgan] [--scale N] [--zoom] --out DIR

Kept apart from :mod:`progan_tf.cli` (which dispatches to these functions) so that each module
stays small. Light imports only: TensorFlow is imported when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from progan_tf.cli_families import family_options, run_training

__all__ = ["cmd_train_srgan", "cmd_upscale"]


def cmd_train_srgan(args: argparse.Namespace) -> int:
    """``progan-tf train --arch srgan``: trains (or resumes) an SRGAN (or SRResNet) run.

    The arguments are checked against ``--arch`` first
    (:func:`~progan_tf.cli_families.check_train_arch`, as ``progan-tf train`` does).
    """
    from progan_tf.srgan import SRGANConfig, train

    return run_training(train, SRGANConfig(**family_options(args)), args)


def cmd_upscale(args: argparse.Namespace) -> None:
    """``progan-tf upscale``: low-res | bicubic | SRGAN (| original) as labelled pictures."""
    from progan_tf.upscalers import upscale_photo

    written, labels = upscale_photo(args.photo, args.model, args.out, shrink=args.scale,
                                    zoom=args.zoom)
    print(f"wrote {', '.join(written)} ({' | '.join(labels)}) to {Path(args.out).expanduser()}")
