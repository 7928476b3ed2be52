"""The command line's encoder command: ``train-encoder``.

    progan-tf train-encoder --model HANDLE --out DIR [--data FACES --minutes --steps --resume]

Kept apart from :mod:`progan_tf.cli` (which dispatches to it) so that each module stays small.
Light imports only: TensorFlow is imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["cmd_train_encoder"]


_ENCODER_OPTIONS = {"data": "data_dir", "crop": "crop", "holdout": "holdout", "steps": "steps",
                    "minutes": "minutes", "batch_size": "batch_size",
                    "real_batch_size": "real_batch_size", "latent_weight": "latent_weight",
                    "learning_rate": "learning_rate", "seed": "seed", "width": "width",
                    "max_width": "max_width",
                    "checkpoint_minutes": "checkpoint_minutes", "model": "model"}


def cmd_train_encoder(args: argparse.Namespace) -> int:
    """``progan-tf train-encoder``: trains (or resumes) an encoder for a generator."""
    import dataclasses
    import signal

    from progan_tf.constants import ENCODER_TRAIN_STEPS
    from progan_tf.errors import OptionError, TrainingInterrupted
    from progan_tf.recovery.encoder_training import (
        EncoderConfig,
        read_encoder_run,
        train_encoder,
    )

    given = {field: getattr(args, option) for option, field in _ENCODER_OPTIONS.items()
             if getattr(args, option) is not None}
    given["command"] = "progan-tf " + " ".join(sys.argv[1:])
    if args.resume:  # the run's options, with those given on the command line
        config = dataclasses.replace(read_encoder_run(args.out), **given)
    elif args.model is None:
        raise OptionError("train-encoder needs --model (the generator to train an encoder for), "
                          "e.g. --model bundled")
    else:
        config = EncoderConfig(out_dir=args.out, **{"steps": ENCODER_TRAIN_STEPS, **given})
    try:
        run_dir = train_encoder(config, resume=args.resume, stop_after_steps=args.stop_after_steps)
    except TrainingInterrupted as stopped:  # Ctrl-C or SIGTERM: saved, so not an error
        print(f"progan-tf: interrupted: {stopped}", file=sys.stderr)
        return 128 + getattr(signal, stopped.signal, signal.SIGINT)
    from progan_tf.recovery.encoder import is_encoder_folder

    if is_encoder_folder(run_dir):
        print(f"encoder saved in {run_dir}; use it with: progan-tf invert PHOTO --model "
              f"{config.model} --encoder {run_dir}")
    else:
        print(f"session ended with a checkpoint in {run_dir}; continue with: progan-tf "
              f"train-encoder --out {run_dir} --resume")
    return 0
