"""The command line's SRGAN commands: ``train --arch srgan`` and ``upscale``.

    progan-tf train    PHOTOS --arch srgan --out runs/srgan [--pretrain-kimg --kimg ...]
    progan-tf upscale  PHOTO [--model bundled-srgan] [--scale N] [--zoom] --out DIR

Kept apart from :mod:`progan_tf.cli` (which dispatches to these functions) so that each module
stays small. Light imports only: TensorFlow is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from progan_tf.cli_parser import PROGAN_ONLY_TRAIN_OPTIONS, SRGAN_TRAIN_OPTIONS, build_parser
from progan_tf.errors import OptionError

__all__ = ["cmd_train_srgan", "cmd_upscale", "srgan_options_given", "srgan_train_options"]


def _flag_value(args: argparse.Namespace, flag: str) -> Any:
    return getattr(args, flag[2:].replace("-", "_"))


def srgan_options_given(args: argparse.Namespace) -> bool:
    """Whether ``train`` got any option of ``--arch srgan`` alone."""
    return any(_flag_value(args, flag) is not None for flag in SRGAN_TRAIN_OPTIONS)


def srgan_train_options(args: argparse.Namespace) -> dict:
    """``train``'s arguments as :class:`~progan_tf.srgan.SRGANConfig` fields, checked.

    Raises:
        OptionError: in one line, for options of ``--arch srgan`` with another ``--arch``,
            options of other families with ``--arch srgan``, or resuming another family's run.
    """
    from progan_tf.training.runs import run_arch  # TensorFlow-free

    if args.arch != "srgan":
        given = [flag for flag in SRGAN_TRAIN_OPTIONS if _flag_value(args, flag) is not None]
        one = len(given) == 1
        raise OptionError(f"{', '.join(given)} {'is an option' if one else 'are options'} of "
                          f"--arch srgan only; drop {'it' if one else 'them'}, or pass --arch "
                          f"srgan")
    defaults = build_parser().parse_args(["train", "DATA", "--out", "OUT"])
    given = [flag for flag in (*PROGAN_ONLY_TRAIN_OPTIONS, "--latent-dim", "--grayscale",
                               "--grid-every-kimg")
             if _flag_value(args, flag) != _flag_value(defaults, flag)]
    if given:
        one = len(given) == 1
        raise OptionError(f"{', '.join(given)} {'is not an option' if one else 'are not options'}"
                          f" of --arch srgan; drop {'it' if one else 'them'}")
    found = run_arch(args.out) if args.resume else None
    if found is not None and found != "srgan":
        raise OptionError(f"{args.out!r} holds a {found} run; resume it with --arch {found}, or "
                          f"choose another --out for a new srgan run")
    names = ("kimg", "batch_size", "width", "pretrain_kimg", "blocks", "disc_width",
             "content_loss", "adversarial_weight", "content_only")
    return {"data_dir": args.data_dir, "out_dir": args.out, "resolution": args.resolution,
            "crop": args.crop, "mirror": args.mirror, "holdout": args.holdout,
            "checkpoint_minutes": args.checkpoint_minutes, "jit_compile": args.xla,
            "seed": args.seed, "precision": args.precision,
            **{name: getattr(args, name) for name in names if getattr(args, name) is not None}}


def cmd_train_srgan(args: argparse.Namespace) -> int:
    """``progan-tf train --arch srgan``: trains (or resumes) an SRGAN (or SRResNet) run."""
    from progan_tf.errors import TrainingInterrupted

    options = srgan_train_options(args)  # one line for options of other families
    from progan_tf.srgan import SRGANConfig, train

    config = SRGANConfig(command="progan-tf " + " ".join(sys.argv[1:]), **options)
    stop = int(args.stop_after_kimg * 1000) if args.stop_after_kimg else None
    try:
        run_dir = train(config, resume=args.resume, stop_after_images=stop,
                        strategy=getattr(args, "strategy", None))
    except TrainingInterrupted as stopped:  # Ctrl-C or SIGTERM: saved, so not an error
        import signal

        print(f"progan-tf: interrupted: {stopped}", file=sys.stderr)
        return 128 + getattr(signal, stopped.signal, signal.SIGINT)
    print(f"run saved in {run_dir}; export it with: progan-tf export {run_dir} EXPORT_DIR")
    return 0


def cmd_upscale(args: argparse.Namespace) -> None:
    """``progan-tf upscale``: low-res | bicubic | SRGAN (| original) as labelled pictures."""
    from progan_tf.upscalers import upscale_photo

    written, labels = upscale_photo(args.photo, args.model, args.out, shrink=args.scale,
                                    zoom=args.zoom)
    print(f"wrote {', '.join(written)} ({' | '.join(labels)}) to {Path(args.out).expanduser()}")
