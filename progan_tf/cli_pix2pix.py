"""The command line's Pix2Pix commands: ``train --arch pix2pix`` and ``translate``.

    progan-tf train      PHOTOS --arch pix2pix --out runs/pix2pix [--paired-b B_DIR] [--kimg ...]
    progan-tf translate  PHOTO [--model bundled-pix2pix] [--seed --zoom] --out DIR

Kept apart from :mod:`progan_tf.cli` (which dispatches to these functions) so that each module
stays small.  Light imports only: TensorFlow is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from progan_tf.cli_parser import build_parser
from progan_tf.errors import OptionError

__all__ = ["check_no_pix2pix_options", "cmd_train_pix2pix", "cmd_translate", "pix2pix_config"]




def check_no_pix2pix_options(args: argparse.Namespace) -> None:
    """Refuse Pix2Pix's own ``train`` options without ``--arch pix2pix``, in one line."""
    from progan_tf.cli_parser import PIX2PIX_ONLY_TRAIN_OPTIONS

    given = [flag for flag in PIX2PIX_ONLY_TRAIN_OPTIONS
             if getattr(args, flag[2:].replace("-", "_")) is not None]
    if given:
        one = len(given) == 1
        raise OptionError(f"{', '.join(given)} {'is an option' if one else 'are options'} of "
                          f"--arch pix2pix only; drop {'it' if one else 'them'}, or pass --arch "
                          f"pix2pix")


def pix2pix_config(args: argparse.Namespace) -> Any:
    """The :class:`~progan_tf.pix2pix.Pix2PixConfig` of ``train --arch pix2pix``'s arguments.

    ProGAN's options (those that differ from their defaults), ``--latent-dim`` and
    ``--grayscale`` are refused in one line, as is resuming a run of another family.
    """
    from progan_tf.cli_parser import PROGAN_ONLY_TRAIN_OPTIONS
    from progan_tf.pix2pix import Pix2PixConfig
    from progan_tf.training.runs import run_arch

    def value(flag: str, namespace: argparse.Namespace = args) -> Any:
        return getattr(namespace, flag[2:].replace("-", "_"))

    defaults = build_parser().parse_args(["train", "DATA", "--out", "OUT"])
    given = [flag for flag in PROGAN_ONLY_TRAIN_OPTIONS if value(flag) != value(flag, defaults)]
    given += [flag for flag in ("--latent-dim", "--grayscale") if value(flag) is not None]
    if given:
        one = len(given) == 1
        raise OptionError(f"{', '.join(given)} {'is not an option' if one else 'are not options'}"
                          f" of --arch pix2pix; drop {'it' if one else 'them'}")
    found = run_arch(args.out) if args.resume else None
    if found is not None and found != "pix2pix":
        raise OptionError(f"{args.out!r} holds a {found} run; resume it with --arch {found}, or "
                          f"choose another --out for a new pix2pix run")
    chosen = {"kimg": args.kimg, "batch_size": args.batch_size, "width": args.width,
              "grid_every_kimg": args.grid_every_kimg, "paired_b": args.paired_b,
              "pairs": args.pairs, "direction": args.direction, "hints": args.hints,
              "max_width": args.max_width, "adversarial": args.adversarial,
              "l1_weight": args.l1_weight, "l1_only": args.l1_only}
    return Pix2PixConfig(
        data_dir=args.data_dir, out_dir=args.out, resolution=args.resolution, crop=args.crop,
        mirror=args.mirror, holdout=args.holdout, checkpoint_minutes=args.checkpoint_minutes,
        jit_compile=args.xla, seed=args.seed, precision=args.precision,
        command="progan-tf " + " ".join(sys.argv[1:]),
        **{key: value for key, value in chosen.items() if value is not None})


def cmd_train_pix2pix(args: argparse.Namespace) -> int:
    """``progan-tf train --arch pix2pix``: trains (or resumes) a Pix2Pix run."""
    from progan_tf.errors import TrainingInterrupted
    from progan_tf.pix2pix import train

    config = pix2pix_config(args)
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


def cmd_translate(args: argparse.Namespace) -> None:
    """``progan-tf translate``: a photo, its prepared input and the translation, labelled."""
    import progan_tf as pt
    from progan_tf.display import enlarge, labelled_panels, zoom_factor
    from progan_tf.translators import load_translator

    translator = load_translator(args.model)
    framed = translator.frame(args.photo)
    prepared = translator.prepare(args.photo, seed=args.seed)
    output = translator(prepared)
    zoom = zoom_factor(translator.resolution, args.zoom)  # whole factor, sharp pixels
    sketched = translator.preparation["kind"] == "sketch"
    labels = ["photo", "edges + colour hints" if sketched else "input", "pix2pix output"]
    out = Path(args.out).expanduser()
    written = []
    for name, picture in (("input.png", framed), ("prepared.png", prepared),
                          ("output.png", output)):
        written.append(pt.save_image(enlarge(picture, zoom), out / name).name)
    panels = labelled_panels([framed, prepared, output], labels, zoom=zoom)
    written.append(pt.save_image(panels, out / "translation.png").name)
    print(f"translated {args.photo} with {args.model} ({translator.resolution}x"
          f"{translator.resolution}{f', shown {zoom}x' if zoom > 1 else ''}); wrote "
          f"{', '.join(written)} to {out}")
