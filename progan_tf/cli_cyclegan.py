"""The command line's CycleGAN commands: ``train --arch cyclegan`` and ``translate --direction``.

    progan-tf train      DATA --arch cyclegan --out runs/cyclegan [--unpaired-b B | --domains hair]
    progan-tf translate  PHOTO --model bundled-cyclegan|EXPORT --direction a2b|b2a --out DIR

``translate`` is one command for both translator kinds: a CycleGAN handle
(:func:`progan_tf.cycle_translators.is_cycle_handle`, read from the export's metadata before
TensorFlow starts) translates one way and back; anything else goes to Pix2Pix's
(:func:`progan_tf.cli_pix2pix.cmd_translate`), which refuses ``--direction`` in one line: a
Pix2Pix translator has one direction.  Light imports only: TensorFlow is imported when a
command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from progan_tf.cli_families import family_options, run_training
from progan_tf.cli_pix2pix import cmd_translate as cmd_translate_pix2pix
from progan_tf.errors import OptionError

__all__ = ["cmd_train_cyclegan", "cmd_translate", "cmd_translate_cycle"]


def cmd_train_cyclegan(args: argparse.Namespace) -> int:
    """``progan-tf train --arch cyclegan``: trains (or resumes) a CycleGAN run.

    The arguments are checked against ``--arch`` first
    (:func:`~progan_tf.cli_families.check_train_arch`, as ``progan-tf train`` does).
    """
    from progan_tf.cyclegan import CycleGANConfig, train

    return run_training(train, CycleGANConfig(**family_options(args)), args)


def cmd_translate(args: argparse.Namespace) -> None:
    """``progan-tf translate``: a CycleGAN one way and back, or a Pix2Pix translation.

    Raises:
        OptionError: ``--direction`` given for a Pix2Pix translator.
    """
    from progan_tf.cycle_translators import is_cycle_handle  # NumPy: not for --help

    if is_cycle_handle(args.model):
        return cmd_translate_cycle(args)
    if args.direction is not None:
        raise OptionError(f"--direction is for CycleGAN translators (two directions); "
                          f"{args.model!r} is not one (Pix2Pix translates one way): drop "
                          f"--direction, or pass --model bundled-cyclegan or a CycleGAN export")
    return cmd_translate_pix2pix(args)


def cmd_translate_cycle(args: argparse.Namespace) -> None:
    """The photo, its translation and the translation back, labelled: A | A->B | A->B->A."""
    import progan_tf as pt
    from progan_tf.display import enlarge, labelled_panels, zoom_factor
    from progan_tf.translators import load_translator

    translator = load_translator(args.model)
    there, back = ((translator.a_to_b, translator.b_to_a) if args.direction != "b2a"
                   else (translator.b_to_a, translator.a_to_b))
    source, target = (("a", "b") if args.direction != "b2a" else ("b", "a"))
    names = {key: str(translator.domains.get(key) or key.upper()) for key in ("a", "b")}
    framed = translator.frame(args.photo)
    translated = there(framed)
    cycled = back(translated)
    zoom = zoom_factor(translator.resolution, args.zoom)  # whole factor, sharp pixels
    labels = [f"photo ({names[source]})", f"-> {names[target]}", f"back -> {names[source]}"]
    out = Path(args.out).expanduser()
    written = []
    for name, picture in (("input.png", framed), ("translated.png", translated),
                          ("cycled.png", cycled)):
        written.append(pt.save_image(enlarge(picture, zoom), out / name).name)
    panels = labelled_panels([framed, translated, cycled], labels, zoom=zoom)
    written.append(pt.save_image(panels, out / "translation.png").name)
    print(f"translated {args.photo} {names[source]} -> {names[target]} -> {names[source]} with "
          f"{args.model} ({translator.resolution}x{translator.resolution}"
          f"{f', shown {zoom}x' if zoom > 1 else ''}); wrote {', '.join(written)} to {out}")
