"""Which ``progan-tf train`` options each ``--arch`` takes, checked in one place, one table.

:data:`TRAIN_OPTIONS` says, for every model family, the ``train`` options it takes besides
those every family takes (the data folder, ``--out``, ``--resolution``, ``--crop``,
``--seed``, ...).  :func:`check_train_arch` refuses, in one line, an option that ``--arch``
does not take and a ``--resume`` of another family's run; :func:`family_options` turns the
arguments into the fields of a single-phase family's options; :func:`run_training` runs the
training and turns a saved interrupt into the exit status.  Standard library and
TensorFlow-free parts of the package only, so that ``progan-tf --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from progan_tf.cli_parser import PROGAN_ONLY_TRAIN_OPTIONS, build_parser
from progan_tf.cli_parser_cyclegan import CYCLEGAN_TRAIN_OPTIONS
from progan_tf.cli_parser_families import PIX2PIX_ONLY_TRAIN_OPTIONS, SRGAN_TRAIN_OPTIONS
from progan_tf.cli_parser_stylegan import STYLEGAN_SHARED_TRAIN_OPTIONS, STYLEGAN_TRAIN_OPTIONS
from progan_tf.errors import OptionError, TrainingInterrupted

__all__ = ["LATENT_DIMS", "TRAIN_OPTIONS", "check_train_arch", "family_options", "flag_value",
           "run_training"]

_SINGLE_PHASE = ("--kimg", "--batch-size", "--width")  # every single-phase family's

TRAIN_OPTIONS = {
    "progan": (*PROGAN_ONLY_TRAIN_OPTIONS, "--latent-dim"),
    "dcgan": ("--latent-dim", *_SINGLE_PHASE, "--grayscale", "--grid-every-kimg"),
    "pix2pix": (*_SINGLE_PHASE, "--grid-every-kimg", *PIX2PIX_ONLY_TRAIN_OPTIONS),
    "srgan": (*_SINGLE_PHASE, *SRGAN_TRAIN_OPTIONS),
    "cyclegan": (*_SINGLE_PHASE, "--grid-every-kimg", *CYCLEGAN_TRAIN_OPTIONS),
    "stylegan": ("--kimg", "--batch-size", "--grid-every-kimg", *STYLEGAN_SHARED_TRAIN_OPTIONS,
                 *STYLEGAN_TRAIN_OPTIONS),
}
"""``--arch`` -> the ``train`` options it takes besides those every family takes.

An option in some family's list and not in ``--arch``'s is refused when it is given (when
its value differs from its default)."""

LATENT_DIMS = {"progan": 512, "dcgan": 100, "stylegan": 128}
"""The default ``--latent-dim`` of the families that take one (the papers')."""

# The families that refuse another family's option by naming themselves ("--fmap-max is not an
# option of --arch srgan"); the others name the family that takes it ("--fmap-max is an
# option of a progressive GAN only; ... or pass --arch progan").
_NAMING_THEMSELVES = ("pix2pix", "srgan", "cyclegan")


def flag_value(args: argparse.Namespace, flag: str) -> Any:
    """The value of ``--flag-name`` in parsed arguments.

    Example:
    >>> flag_value(argparse.Namespace(batch_size=8), "--batch-size")
    8
    """
    return getattr(args, flag[2:].replace("-", "_"))


def _listed(names: list[str], conjunction: str) -> str:
    """``a`` / ``a or b`` / ``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def _takers(flag: str) -> list[str]:
    """The families that take ``flag``, in :data:`TRAIN_OPTIONS`' order."""
    return [arch for arch, flags in TRAIN_OPTIONS.items() if flag in flags]


def _refusal(arch: str, given: list[str]) -> str:
    """The one line that refuses the options ``given`` that ``arch`` does not take."""
    if arch not in _NAMING_THEMSELVES:  # name who takes the first one (and those alike)
        takers = _takers(given[0])
        given = [flag for flag in given if _takers(flag) == takers]
    one = len(given) == 1
    flags, drop = ", ".join(given), f"drop {'it' if one else 'them'}"
    if arch in _NAMING_THEMSELVES:
        return (f"{flags} {'is not an option' if one else 'are not options'} of --arch {arch}; "
                f"{drop}")
    others = [name for name in takers if name != "progan"]
    owners = (["a progressive GAN"] if "progan" in takers else []) + (
        [f"--arch {_listed(others, 'and')}"] if others else [])
    return (f"{flags} {'is an option' if one else 'are options'} of {' and '.join(owners)} "
            f"only; {drop}, or pass --arch {_listed(takers, 'or')}")


def check_train_arch(args: argparse.Namespace) -> str:
    """Check ``train``'s options against ``--arch`` and the run resumed; returns the arch.

    Options ``--arch`` does not take (:data:`TRAIN_OPTIONS`) are refused in one line when
    given (when they differ from their defaults), as is resuming a run of another family;
    ``--latent-dim`` gets the family's default (:data:`LATENT_DIMS`).

    Raises:
        OptionError: naming the options, or the family of the run, and what to do.

    Example:
    >>> args = build_parser().parse_args(["train", "faces", "--out", "run", "--arch", "dcgan"])
    >>> check_train_arch(args), args.latent_dim
    ('dcgan', 100)
    >>> args = build_parser().parse_args(["train", "faces", "--out", "run", "--blocks", "3"])
    >>> check_train_arch(args)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: --blocks is an option of --arch srgan only; drop it, or pass ...
    """
    arch = args.arch
    defaults = build_parser().parse_args(["train", "DATA", "--out", "OUT"])
    others = dict.fromkeys(flag for flags in TRAIN_OPTIONS.values() for flag in flags)
    given = [flag for flag in others if flag not in TRAIN_OPTIONS[arch]
             and flag_value(args, flag) != flag_value(defaults, flag)]
    if given:
        raise OptionError(_refusal(arch, given))
    if args.resume:
        from progan_tf.training.runs import run_arch

        found = run_arch(args.out)
        if found is not None and found != arch:
            raise OptionError(f"{args.out!r} holds a {found} run; resume it with --arch "
                              f"{found}, or choose another --out for a new {arch} run")
    if arch in LATENT_DIMS and args.latent_dim is None:
        args.latent_dim = LATENT_DIMS[arch]
    return arch


def family_options(args: argparse.Namespace) -> dict:
    """``train``'s (checked) arguments as the fields of ``--arch``'s options dataclass.

    The options every family takes, and those of ``--arch``'s own that were given (the
    others keep the dataclass's defaults).  ``--grayscale`` is ``grayscale``: a family that
    takes it turns it into its own field.

    Example:
    >>> args = build_parser().parse_args(["train", "faces", "--out", "run", "--arch",
    ...                                   "srgan", "--blocks", "3"])
    >>> options = family_options(args)
    >>> options["blocks"], "width" in options, options["jit_compile"]
    (3, False, False)
    """
    own = {flag[2:].replace("-", "_"): flag_value(args, flag)
           for flag in TRAIN_OPTIONS[args.arch]}
    return {"data_dir": args.data_dir, "out_dir": args.out, "resolution": args.resolution,
            "crop": args.crop, "mirror": args.mirror, "holdout": args.holdout,
            "checkpoint_minutes": args.checkpoint_minutes, "jit_compile": args.xla,
            "seed": args.seed, "precision": args.precision,
            "command": "progan-tf " + " ".join(sys.argv[1:]),
            **{name: value for name, value in own.items() if value is not None}}


def run_training(train: Callable[..., Any], config: Any, args: argparse.Namespace) -> int:
    """Train (or resume) with ``train(config, ...)``; returns the exit status.

    0 when the run ends, 130 (Ctrl-C) or 143 (SIGTERM) after an interrupt whose checkpoint
    was saved: not an error, the run continues with ``--resume``.
    """
    stop = int(args.stop_after_kimg * 1000) if args.stop_after_kimg else None
    try:
        run_dir = train(config, resume=args.resume, stop_after_images=stop,
                        strategy=getattr(args, "strategy", None))
    except TrainingInterrupted as stopped:  # Ctrl-C or SIGTERM: saved, so not an error
        import signal

        print(f"progan-tf: interrupted: {stopped}", file=sys.stderr)
        return 128 + getattr(signal, stopped.signal, signal.SIGINT)  # 130 Ctrl-C, 143 SIGTERM
    print(f"run saved in {run_dir}; export it with: progan-tf export {run_dir} EXPORT_DIR")
    return 0
