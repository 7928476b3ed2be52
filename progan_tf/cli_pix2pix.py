"""The command line's Pix2Pix commands: ``train --arch pix2pix`` and ``translate``.

    progan-tf train      PHOTOS --arch pix2pix --out runs/pix2pix [--paired-b B_DIR] [--kimg ...]
    progan-tf translate  PHOTO [--model bundled-pix2pix] [--seed --zoom] --out DIR

Kept apart from :mod:`progan_tf.cli` (which dispatches to these functions) so that each module
stays small.  Light imports only: TensorFlow is imported when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from progan_tf.cli_families import family_options, run_training

__all__ = ["cmd_train_pix2pix", "cmd_translate", "pix2pix_config"]


def pix2pix_config(args: argparse.Namespace) -> Any:
    """The :class:`~progan_tf.pix2pix.Pix2PixConfig` of ``train --arch pix2pix``'s arguments.

    The arguments are checked against ``--arch`` first
    (:func:`~progan_tf.cli_families.check_train_arch`, as ``progan-tf train`` does).
    """
    from progan_tf.pix2pix import Pix2PixConfig

    return Pix2PixConfig(**family_options(args))


def cmd_train_pix2pix(args: argparse.Namespace) -> int:
    """``progan-tf train --arch pix2pix``: trains (or resumes) a Pix2Pix run (options checked)."""
    from progan_tf.pix2pix import train

    return run_training(train, pix2pix_config(args), args)


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
