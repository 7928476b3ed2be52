"""The ``progan-tf`` command line.

    progan-tf generate     --model HANDLE -n 16 --seed 7 --out grid.png
    progan-tf interpolate  --model HANDLE --steps 100 --method hypersphere --out walk.gif
    progan-tf train        DATA_DIR --resolution 64 --out runs/NAME [--resume]
    progan-tf export       RUN_DIR OUT_DIR [--overwrite --allow-fade-in]
    progan-tf evaluate     --model HANDLE --real DATA_DIR [--out metrics.json --json]
    progan-tf invert       PHOTO --model HANDLE [--steps --restarts --loss --no-face-crop]
                           [--encoder DIR | --full-search] --out DIR
    progan-tf train-encoder --model HANDLE --out DIR [--data FACES --minutes --steps --resume]
    progan-tf translate    PHOTO [--model bundled-pix2pix] [--seed --zoom] --out DIR
    progan-tf mix          A B [--model bundled-stylegan] [--layers coarse --zoom] --out DIR
    progan-tf demo         [--model bundled] [--out DIR] [--seed --steps --restarts --overwrite]
                           [--full-search]

Mistakes a user can make end in one line on stderr (``progan-tf: error: ...``) and exit status
2; Ctrl-C ends with status 130 (SIGTERM during ``train``, after its checkpoint: 143).  Output
paths are checked before any work starts, so a typo in ``--out`` never throws away a finished
result.  TensorFlow is imported only once a command runs, so ``--help`` and ``--version`` are
instant.

The arguments (every option, default and choice) live in :mod:`progan_tf.cli_parser`; this
module checks the output paths, runs the commands and turns every user mistake into one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from progan_tf.cli_cyclegan import cmd_train_cyclegan, cmd_translate
from progan_tf.cli_encoder import cmd_train_encoder
from progan_tf.cli_families import check_train_arch, family_options, run_training

# Light imports only (no TensorFlow): `--help` and `--version` answer at once.
from progan_tf.cli_parser import build_parser
from progan_tf.cli_pix2pix import cmd_train_pix2pix
from progan_tf.cli_srgan import cmd_train_srgan, cmd_upscale
from progan_tf.cli_stylegan import cmd_mix, cmd_train_stylegan
from progan_tf.constants import grid_columns
from progan_tf.errors import DatasetError, MissingDependencyError, OutputPathError, ProganError

__all__ = ["COMMANDS", "build_parser", "main"]

# --------------------------------------------------------------------------------------------
# Output paths: checked before any work, so a finished result is never thrown away.
# --------------------------------------------------------------------------------------------


def _writable_base(path: Path) -> Path:
    """The nearest existing folder at or above ``path``.

    Checks on the way that every existing component is a folder and that a file can be created
    there.
    """
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    for folder in [existing, *existing.parents]:
        if folder.exists() and not folder.is_dir():
            raise OutputPathError(f"cannot write {str(path)!r}: {str(folder)!r} is a file, not a "
                                f"folder; choose another path")
    # os.access() says yes to root even on a read-only mount, so really try: make and remove a
    # temporary file where the output (or its first missing folder) will go.
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".progan-tf-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise OutputPathError(f"cannot write to {str(existing)!r} ({error.strerror}); choose a "
                            f"folder you can write to") from None
    return existing


def _check_output_file(path: str | os.PathLike) -> Path:
    """Raise one line unless a file can be written at ``path`` (an existing file is replaced)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputPathError(f"{str(path)!r} is a folder; pass a file name, e.g. "
                            f"{str(path / ('out' + (path.suffix or '.png')))!r}")
    _writable_base(path.parent)
    return path


def _check_output_folder(path: str | os.PathLike) -> Path:
    """Raise one line unless ``path`` is, or can become, a folder we can write into."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{str(path)!r} is a file; pass a folder for the outputs")
    _writable_base(path)
    return path


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse an unusable output path at once: before TensorFlow loads and any work starts."""
    if args.command in ("generate", "interpolate") or (args.command == "evaluate" and args.out):
        _check_output_file(args.out)
    elif args.command in ("train", "invert", "demo", "translate", "upscale", "train-encoder",
                          "mix"):
        _check_output_folder(args.out)
    elif args.command == "export":  # the export's own rules are checked by cmd_export
        _check_output_folder(Path(args.out_dir).expanduser().parent)


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> None:
    """``progan-tf generate``: N images from seeded random latents, saved as one grid PNG."""
    import progan_tf as pt
    from progan_tf.display import enlarge, zoom_factor

    generator = pt.load_generator(args.model)
    latents = pt.sample_latents(args.num_images, generator.latent_dim, seed=args.seed)
    images = generator(latents).numpy()
    zoom = zoom_factor(generator.image_shape, args.zoom)  # whole factor, sharp pixels
    grid = enlarge(pt.make_grid(images, ncols=grid_columns(len(images), args.ncols)), zoom)
    pt.save_image(grid, args.out)
    print(f"wrote {len(images)} images ({generator.image_shape[0]}x{generator.image_shape[1]}"
          f"{f', shown {zoom}x' if zoom > 1 else ''}) to {args.out}")


def cmd_interpolate(args: argparse.Namespace) -> None:
    """``progan-tf interpolate``: a walk between random latents, streamed into a GIF or MP4."""
    from tqdm.auto import tqdm

    import progan_tf as pt
    from progan_tf.display import enlarge, zoom_factor

    generator = pt.load_generator(args.model)
    keyframes = pt.sample_latents(args.keyframes + (1 if args.keyframes == 1 else 0),
                                  generator.latent_dim, seed=args.seed)
    path = pt.walk(keyframes, args.steps, method=args.method, loop=args.loop)
    zoom = zoom_factor(generator.image_shape, args.zoom)  # whole factor, sharp pixels
    frames = (frame for chunk in generator.iter_images(path) for frame in enlarge(chunk, zoom))
    with tqdm(frames, total=len(path), unit="frame", desc="rendering") as frames:
        out = pt.animate(frames, args.out, fps=args.fps, boomerang=args.boomerang, display=False)
    # A boomerang plays the walk forward and back without repeating its ends.
    count = 2 * len(path) - 2 if args.boomerang and len(path) > 1 else len(path)
    print(f"wrote {count} frames ({args.method}{', boomerang' if args.boomerang else ''}) to "
          f"{getattr(out, 'path', out)}")


def cmd_train(args: argparse.Namespace) -> int:
    """``progan-tf train``: trains (or resumes) a run; returns 130/143 after a saved interrupt.

    The options are checked against ``--arch`` first (:func:`~progan_tf.cli_families.
    check_train_arch`); a family other than ProGAN trains in its own command.
    """
    from progan_tf.gan.train import TrainConfig, train

    arch = check_train_arch(args)  # one line for options of other families
    if arch != "progan":
        return FAMILY_TRAIN_COMMANDS[arch](args)
    config = TrainConfig(
        data_dir=args.data_dir, out_dir=args.out, resolution=args.resolution,
        latent_dim=args.latent_dim, fmap_base=args.fmap_base, fmap_max=args.fmap_max,
        kimg_per_phase=args.kimg_per_phase, final_kimg=args.final_kimg,
        batch_sizes=args.batch_sizes, crop=args.crop, mirror=args.mirror, holdout=args.holdout,
        checkpoint_minutes=args.checkpoint_minutes, jit_compile=args.xla, seed=args.seed,
        precision=args.precision, fmap_decay=args.fmap_decay, loss=args.loss,
        r1_gamma=args.r1_gamma, r1_interval=args.r1_interval, augment=args.augment,
        augment_policy=args.augment_policy, ada_target=args.ada_target, ada_kimg=args.ada_kimg,
        init=args.init, quality_every_kimg=args.quality_every_kimg,
        quality_images=args.quality_images, command="progan-tf " + " ".join(sys.argv[1:]))
    return run_training(train, config, args)


def cmd_train_dcgan(args: argparse.Namespace) -> int:
    """``progan-tf train --arch dcgan``: trains (or resumes) a DCGAN run (options checked)."""
    from progan_tf.dcgan import DCGANConfig, train

    options = family_options(args)
    if options.pop("grayscale", None):
        options["channels"] = 1
    return run_training(train, DCGANConfig(**options), args)


FAMILY_TRAIN_COMMANDS = {"dcgan": cmd_train_dcgan, "pix2pix": cmd_train_pix2pix,
                         "srgan": cmd_train_srgan, "cyclegan": cmd_train_cyclegan,
                         "stylegan": cmd_train_stylegan}
"""``--arch`` -> the command that trains it, for every family but ProGAN."""


def _train_strategy(args: argparse.Namespace) -> Any:
    """``train --distribute``'s strategy (None without), made before TensorFlow starts.

    ``MultiWorkerMirroredStrategy`` must configure the runtime before anything else uses it,
    so :func:`main` calls this first; a missing ``TF_CONFIG`` or TPU is one line.
    """
    if args.command != "train" or args.distribute is None:
        return None
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        if not args.verbose:  # TensorFlow's start-up notices, as in _import_tensorflow_quietly
            os.dup2(devnull, 2)
        from progan_tf.training.distribute import make_strategy

        return make_strategy(args.distribute)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def cmd_export(args: argparse.Namespace) -> None:
    """``progan-tf export``: the EMA generator of a run as a SavedModel in progan-128's shape."""
    from progan_tf.errors import RunDirectoryError
    from progan_tf.gan.export import check_export_destination, export_run
    from progan_tf.training.runs import run_arch

    arch = run_arch(args.run_dir)
    loader = {"pix2pix": "load_translator", "cyclegan": "load_translator",
              "srgan": "load_upscaler"}.get(arch, "load_generator")  # what reads the export
    if arch == "dcgan":  # the run.json says which family exports it
        from progan_tf.dcgan.export import export_run
    if arch == "pix2pix":
        from progan_tf.pix2pix.export import export_run
    if arch == "srgan":
        from progan_tf.srgan.export import export_run
    if arch == "cyclegan":
        from progan_tf.cyclegan.export import export_run
    if arch == "stylegan":
        from progan_tf.stylegan.export import export_run

    check_export_destination(args.out_dir, overwrite=args.overwrite, protect=(args.run_dir,))
    metrics = None
    if args.metrics:
        try:
            with open(args.metrics) as handle:
                metrics = json.load(handle)
        except (OSError, ValueError) as error:
            raise RunDirectoryError(f"cannot read metrics file {args.metrics!r} ({error}); pass "
                                    f"the JSON written by 'progan-tf evaluate --out'") from None
    out = export_run(args.run_dir, args.out_dir, metrics=metrics, overwrite=args.overwrite,
                     allow_fade_in=args.allow_fade_in)
    print(f"exported to {out}; load it with progan_tf.{loader}({str(out)!r})")


def _metrics_table(result: dict) -> str:
    """The evaluation as a short table: SWD per level beside its real-vs-real noise floor."""
    swd, floor = result["swd"], result["swd_noise_floor"]
    rows = [("level", "SWD x1e3", "noise floor", "ratio")]
    levels = sorted(swd["levels"], key=int, reverse=True)
    for name, fake, real in [(f"{int(level)}px", swd["levels"][level], floor["levels"][level])
                             for level in levels] + [("average", swd["average"],
                                                      floor["average"])]:
        ratio = f"{fake / real:.1f}x" if real > 0 else "-"
        rows.append((name, f"{fake:.2f}", f"{real:.2f}", ratio))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    height, width = result["resolution"]
    lines += [
        "SWD: sliced Wasserstein distance to held-out real images (lower is better); the noise "
        f"floor is what {result.get('noise_floor_of', 'two halves of the real images')} score, "
        "so a ratio near 1x is the best possible.",
        f"MS-SSIM diversity: generated {result['ms_ssim_fake']:.3f}, real "
        f"{result['ms_ssim_real']:.3f} (lower is more diverse; far above real = mode collapse)",
        f"{result['num_fake_images']} generated and {result['num_real_images']} real images at "
        f"{height}x{width}",
    ]
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> None:
    """``progan-tf evaluate``: SWD with its noise floor and MS-SSIM, as a table or JSON."""
    import progan_tf as pt
    from progan_tf.gan.data import load_image_folder
    from progan_tf.metrics import evaluate_generator

    out = Path(args.out).expanduser() if args.out else None  # checked by _check_outputs
    generator = pt.load_generator(args.model)
    folder = load_image_folder(args.real, generator.image_shape[0], crop=args.crop)
    real, floor = folder.images[-args.last:] if args.last else folder.images, None
    if args.holdout:
        from progan_tf.training.quality import held_out_and_floor

        if args.holdout >= len(folder.images):
            raise DatasetError(f"--holdout {args.holdout} leaves no training images for the "
                               f"floor: {args.real} holds {len(folder.images)} images")
        real, floor = held_out_and_floor(folder.images, args.holdout, seed=args.seed)
    result = evaluate_generator(generator, real, num_images=args.num_images, seed=args.seed,
                                floor_images=floor, progress=True)
    if args.holdout:
        result["noise_floor_of"] = "the held-out images and as many training images"
    if out:
        from progan_tf.fileio import write_json

        write_json(out, result, default=float)
    print(json.dumps(result, indent=2, default=float) if args.json else _metrics_table(result))
    if out:
        print(f"wrote {out}")


def _invert_target(args: argparse.Namespace, size: tuple[int, int]) -> Any:
    import progan_tf as pt

    if args.face_crop is False:
        return pt.load_image(args.photo, size=size)
    try:
        return pt.face_crop(args.photo, size=size)
    except MissingDependencyError as error:
        if args.face_crop:
            raise  # asked for explicitly
        # stacklevel: _show_warning prints the message only, so where it came from is moot.
        warnings.warn(f"{error}; resizing the whole photo instead (--no-face-crop hides this)",
                      stacklevel=2)
        return pt.load_image(args.photo, size=size)


def cmd_invert(args: argparse.Namespace) -> None:
    """``progan-tf invert``: the latent whose image comes closest to a photo, with its files.

    The fast path (an encoder's latent, then a short search) where an encoder exists for the
    model, else the full search (:func:`~progan_tf.recovery.encoder.plan_search`).
    """
    import progan_tf as pt
    from progan_tf.recovery.encoder import plan_search

    generator = pt.load_generator(args.model)
    plan = plan_search(generator, args.encoder, args.full_search, args.steps, args.restarts)
    target = _invert_target(args, generator.image_shape[:2])
    extractor = pt.perceptual_extractor() if args.loss == "perceptual" else None
    result = pt.recover_latent(generator, target, steps=plan.steps, restarts=plan.restarts,
                               loss=args.loss, feature_extractor=extractor, seed=args.seed,
                               init=plan.init)
    written = result.save(args.out, zoom=args.zoom)  # file name -> path
    state = "interrupted; best so far" if result.interrupted else "done"
    print(f"{state} ({plan.label}, {plan.steps} steps x {plan.restarts} restarts): PSNR "
          f"{result.psnr:.2f} dB, SSIM {result.ssim:.3f} in {result.wall_time:.1f} s; wrote "
          f"{', '.join(written)} to {Path(args.out).expanduser()}")


def cmd_demo(args: argparse.Namespace) -> None:
    """``progan-tf demo``: samples, a walk and a recovered photo on one offline web page."""
    from progan_tf.demo import run_demo

    result = run_demo(args.out, args.model, seed=args.seed, steps=args.steps,
                      restarts=args.restarts, frames=args.frames, overwrite=args.overwrite,
                      encoder=args.encoder, full_search=args.full_search)
    print(f"demo done in {result.seconds:.0f} s; wrote:")
    for path in result.files():
        print(f"  {path}")
    print(f"open {result.index.resolve().as_uri()}")


COMMANDS = {"invert": cmd_invert, "generate": cmd_generate, "interpolate": cmd_interpolate,
            "train": cmd_train, "export": cmd_export, "evaluate": cmd_evaluate, "demo": cmd_demo,
            "translate": cmd_translate, "upscale": cmd_upscale,
            "train-encoder": cmd_train_encoder, "mix": cmd_mix}


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow with file descriptor 2 muted.

    Its C++ runtime prints start-up notices ("could not find cuda drivers", ...) before any log
    level applies, which would bury the one line a user needs.
    """
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        from progan_tf.downloads import import_tensorflow_hub

        import_tensorflow_hub()  # without its pkg_resources warning, which muting fd 2 misses

        tf.config.list_logical_devices()  # device start-up prints its notices now, muted
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """One line per warning, without the internal source line Python would print."""
    print(f"progan-tf: warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Runs ``progan-tf`` with ``argv`` (default: the process' arguments).

    Args:
        argv: The arguments after the program name, e.g. ``["generate", "-n", "4"]``.

    Returns:
        The exit status: 0 on success, 2 for a user's mistake (one line on stderr), 130 after
        Ctrl-C (143 when ``train`` stopped on SIGTERM).
    """
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        _check_outputs(args)
        if not args.verbose:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        args.strategy = _train_strategy(args)  # first: multi-worker must set TensorFlow up
        if not args.verbose:
            _import_tensorflow_quietly()
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="progan-tf: %(message)s")
        return COMMANDS[args.command](args) or 0
    except ProganError as error:
        print(f"progan-tf: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("progan-tf: interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # disk full, permissions changed mid-run, ...
        where = f" ({error.filename})" if error.filename else ""
        print(f"progan-tf: error: {error.strerror or error}{where}; check free space and "
              f"permissions, then run the command again", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
