"""The command line's style-based commands: ``train --arch stylegan`` and ``mix``.

    progan-tf train  FACES --arch stylegan --out runs/stylegan [--kimg --batch-size ...]
    progan-tf mix    A B [--model bundled-stylegan] [--layers coarse] [--zoom] --out DIR

Kept apart from :mod:`progan_tf.cli` (which dispatches to these functions) so that each module
stays small. Light imports only: TensorFlow is imported when a command runs.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from progan_tf.cli_families import family_options, run_training
from progan_tf.cli_parser import build_parser
from progan_tf.cli_parser_stylegan import STYLEGAN_SHARED_TRAIN_OPTIONS
from progan_tf.errors import OptionError

__all__ = ["cmd_mix", "cmd_train_stylegan", "mix_faces", "parse_face", "stylegan_options"]


def stylegan_options(args: argparse.Namespace) -> dict:
    """``train --arch stylegan``'s (checked) arguments as :class:`StyleGANConfig` fields.

    The progressive GAN's options it shares (``--fmap-base``, ``--loss``, ...) are taken when
    given; left at the parser's defaults (the progressive GAN's: ``--fmap-base 8192``), the
    run keeps its own (1024).
    """
    defaults = build_parser().parse_args(["train", "DATA", "--out", "OUT"])
    options = family_options(args)
    for flag in STYLEGAN_SHARED_TRAIN_OPTIONS:
        name = flag[2:].replace("-", "_")
        value = getattr(args, name)
        options.pop(name, None)
        if value is not None and value != getattr(defaults, name):
            options[name] = value
    return options


def cmd_train_stylegan(args: argparse.Namespace) -> int:
    """``progan-tf train --arch stylegan``: trains (or resumes) a style-based run."""
    from progan_tf.stylegan import StyleGANConfig, train

    return run_training(train, StyleGANConfig(**stylegan_options(args)), args)


def parse_face(text: str, name: str) -> tuple[str, Any]:
    """``("seed", 7)`` for a whole number, ``("photo", path)`` for an existing picture file.

    Raises:
        OptionError: Neither, in one line.

    Example:
    >>> parse_face("7", "A")
    ('seed', 7)
    """
    if re.fullmatch(r"\d+", text.strip()):
        seed = int(text)
        if seed >= 2 ** 32:
            raise OptionError(f"{name} must be a seed from 0 to {2 ** 32 - 1} or a photo. "
                              f"Received: {name}={text}")
        return "seed", seed
    path = Path(text).expanduser()
    if not path.is_file():
        raise OptionError(f"{name} must be a seed (a whole number) or the path of a photo; "
                          f"{text!r} is neither (no such file)")
    return "photo", path


def mix_faces(a: str, b: str, handle: str, out_dir: str, layers: Any = "coarse",
              truncation_psi: float | None = None, zoom: Any = None,
              steps: int = 300) -> tuple[list, list]:
    """``progan-tf mix``: B with A's ``layers`` styles, saved and labelled.

    Writes ``a.png``, ``b.png``, ``mix.png`` at the model's size and ``comparison.png``: the
    three side by side, labelled, enlarged by a whole factor.  Every file is written
    atomically, after the mixing succeeded.

    Args:
        a: The source: a seed or a photo path (see :func:`parse_face`).
        b: The destination: the same.
        handle: A style-based generator for :func:`progan_tf.load_generator`.
        out_dir: The output folder (created if missing).
        layers: What :func:`progan_tf.style_mix` takes (default ``"coarse"``).
        truncation_psi: Truncation of the seeds' faces (default ``None``: the model's).
        zoom: The enlargement of ``comparison.png`` (default ``None``: automatic).
        steps: Search steps of a photo's projection into w+ (default 300;
            :func:`progan_tf.projection.project`, Laplacian-pyramid loss).

    Returns:
        ``(file names written, labels)``.

    Raises:
        OptionError: A or B neither a seed nor a photo, bad ``layers``, or a generator
            without a synthesis path.
        ImageLoadError: A photo that cannot be read.
        ModelLoadError: The model cannot be loaded.
    """
    import progan_tf as pt
    from progan_tf.display import labelled_panels, zoom_factor

    faces = {"A": parse_face(a, "A"), "B": parse_face(b, "B")}
    generator = pt.load_generator(handle)
    if not hasattr(generator, "synthesis"):
        raise OptionError(f"{handle!r} has no synthesis path (it is not a style-based "
                          f"generator); pass --model bundled-stylegan or an export of "
                          f"'progan-tf train --arch stylegan'")
    psi = generator.truncation_psi if truncation_psi is None else truncation_psi
    ws, labels = {}, []
    for name, (kind, value) in faces.items():
        if kind == "photo":
            projection = pt.project(generator, str(value), loss="laplacian", steps=steps)
            ws[name] = projection.ws
            labels.append(f"{name}: {value.name} (projected, {projection.result.psnr:.1f} dB)")
        else:
            ws[name] = generator.mapping(pt.sample_latents(1, generator.latent_dim, seed=value),
                                         truncation_psi=psi).numpy()
            labels.append(f"{name}: seed {value}")
    mix = pt.style_mix(generator, ws["A"], ws["B"], layers=layers)
    what = layers if isinstance(layers, str) else f"layers {', '.join(map(str, mix.layers))}"
    labels.append(f"B with A's {what}")
    pictures = {"a": mix.sources[0], "b": mix.destinations[0], "mix": mix.mixed[0, 0]}
    panels = list(pictures.values())
    comparison = labelled_panels(panels, labels, zoom=zoom_factor(panels[0].shape[:2], zoom))
    out = Path(out_dir).expanduser()
    for name, picture in pictures.items():
        pt.save_image(picture, out / f"{name}.png")
    pt.save_image(comparison, out / "comparison.png")
    return [f"{name}.png" for name in pictures] + ["comparison.png"], labels


def cmd_mix(args: argparse.Namespace) -> None:
    """``progan-tf mix``: B with A's styles of ``--layers``, as labelled pictures."""
    written, labels = mix_faces(args.a, args.b, args.model, args.out, layers=args.layers,
                                truncation_psi=args.truncation_psi, zoom=args.zoom,
                                steps=args.steps)
    print(f"wrote {', '.join(written)} ({' | '.join(labels)}) to {Path(args.out).expanduser()}")
