"""The ``progan-tf`` command line.

    progan-tf generate     --model HANDLE -n 16 --seed 7 --out grid.png
    progan-tf interpolate  --model HANDLE --steps 100 --method hypersphere --out walk.gif
    progan-tf train        DATA_DIR --resolution 64 --out runs/NAME [--resume]
    progan-tf export       RUN_DIR OUT_DIR [--overwrite --allow-fade-in]
    progan-tf evaluate     --model HANDLE --real DATA_DIR [--out metrics.json --json]
    progan-tf invert       PHOTO --model HANDLE [--steps --restarts --loss --no-face-crop] --out DIR
    progan-tf demo         [--model bundled] [--out DIR] [--seed --steps --restarts --overwrite]

Mistakes a user can make end in one line on stderr (``progan-tf: error: ...``) and exit status
2; Ctrl-C ends with status 130 (SIGTERM during ``train``, after its checkpoint: 143).  Output
paths are checked before any work starts, so a typo in ``--out`` never throws away a finished
result.  TensorFlow is imported only once a command runs, so ``--help`` and ``--version`` are
instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

from progan_tf.errors import OutputPathError, ProganError  # light: no TensorFlow import

DEFAULT_MODEL = "https://tfhub.dev/google/progan-128/1"
METHODS = ("hypersphere", "slerp", "lerp")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _at_least_two(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 frames (both ends), got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or not value > 0:  # inf would train forever, nan never stop
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:  # NumPy's and TensorFlow's seeded generators take non-negative seeds only
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _zoom(text):
    """'auto' (None: enlarge small models to at least 128 px) or a whole factor."""
    return None if text == "auto" else _positive_int(text)


def _batch_sizes(text):
    """'4:64,8:32' -> {4: 64, 8: 32}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item]
        sizes = {int(res): int(size) for res, size in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected RES:BATCH pairs like 4:64,8:32, got {text!r}") from None
    bad = [f"{res}:{size}" for res, size in sizes.items() if res <= 0 or size <= 0]
    if bad:
        raise argparse.ArgumentTypeError(
            f"resolutions and batch sizes must be positive, got {', '.join(bad)}")
    return sizes


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("progan-tf")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _add_model(parser):
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="TF Hub/Kaggle handle, local SavedModel folder, or 'bundled' "
                             "(the offline model shipped with progan-tf); default: progan-128")


def _add_zoom(parser):
    parser.add_argument("--zoom", type=_zoom, default=None, metavar="{auto,N}",
                        help="enlarge each pixel to NxN, sharp (default auto: the smallest "
                             "whole factor that makes each picture at least 128 px)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="progan-tf", description="Progressive GANs in TensorFlow: generate, interpolate, "
                                      "train, export and evaluate.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's logs")
    parser.add_argument("--version", action="version", version=f"progan-tf {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("generate", help="sample images from a generator into a grid PNG",
                            description="Sample N images from random latents and save them as "
                                        "a grid.")
    _add_model(p)
    p.add_argument("-n", "--num-images", type=_positive_int, default=16)
    p.add_argument("--seed", type=_seed, default=0, help="latent seed (same seed, same images)")
    p.add_argument("--ncols", type=_positive_int, default=None, help="grid columns")
    _add_zoom(p)
    p.add_argument("--out", default="grid.png", help="output PNG (default: grid.png)")

    p = commands.add_parser("interpolate", help="animate a walk between random latents",
                            description="Interpolate between random latents and write a GIF or "
                                        "MP4.")
    _add_model(p)
    p.add_argument("--steps", type=_at_least_two, default=100,
                   help="frames per segment, both ends included (default 100)")
    p.add_argument("--method", choices=METHODS, default="hypersphere")
    p.add_argument("--keyframes", type=_positive_int, default=2,
                   help="number of random latents to walk through (default 2)")
    p.add_argument("--loop", action="store_true", help="return to the first latent (seamless)")
    p.add_argument("--boomerang", action="store_true", help="play forward then backward")
    p.add_argument("--fps", type=_positive_float, default=25.0)
    p.add_argument("--seed", type=_seed, default=0)
    _add_zoom(p)
    p.add_argument("--out", default="walk.gif", help="output .gif or .mp4 (default: walk.gif)")

    p = commands.add_parser("train", help="train a progressive GAN on a folder of images",
                            description="Train a Keras progressive GAN on a folder of JPEG/PNG "
                                        "images (recursively). Checkpoints atomically; Ctrl-C "
                                        "saves and stops.")
    p.add_argument("data_dir", help="folder of training images")
    p.add_argument("--out", required=True, help="run folder (new, or existing with --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--resolution", type=int, default=64, help="final resolution (power of two)")
    p.add_argument("--latent-dim", type=_positive_int, default=512)
    p.add_argument("--fmap-base", type=_positive_int, default=8192)
    p.add_argument("--fmap-max", type=_positive_int, default=512)
    p.add_argument("--kimg-per-phase", type=_positive_float, default=100.0,
                   help="thousands of images per fade-in and per stable phase")
    p.add_argument("--final-kimg", type=_positive_float, default=None,
                   help="length of the last stable phase (default: --kimg-per-phase)")
    p.add_argument("--batch-sizes", type=_batch_sizes, default={},
                   help="minibatch per resolution, e.g. 4:64,8:32,16:16")
    p.add_argument("--crop", choices=("center", "celeba", "none"), default="center")
    p.add_argument("--no-mirror", dest="mirror", action="store_false",
                   help="do not mirror images left-right")
    p.add_argument("--holdout", type=_seed, default=0,
                   help="leave the last N images (sorted by path) out for evaluation")
    p.add_argument("--checkpoint-minutes", type=_positive_float, default=10.0)
    p.add_argument("--xla", action="store_true", help="compile train steps with XLA")
    p.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                   help="mixed_bfloat16: compute in bfloat16 with float32 weights; up to ~2x "
                        "faster on CPUs with AVX512_BF16 or AMX, slower elsewhere")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--stop-after-kimg", type=_positive_float, default=None,
                   help="end this session after that many kimg in total (resume later)")

    p = commands.add_parser("export", help="export a run's generator in progan-128's interface",
                            description="Export the EMA generator of a run's newest checkpoint "
                                        "as a SavedModel that tensorflow_hub.load() and "
                                        "load_generator() read.")
    p.add_argument("run_dir")
    p.add_argument("out_dir")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier export in OUT_DIR (never anything else)")
    p.add_argument("--allow-fade-in", action="store_true",
                   help="export a checkpoint taken during a fade-in (its pictures blend two "
                        "resolutions)")
    p.add_argument("--metrics", default=None,
                   help="a JSON file written by 'progan-tf evaluate --out' to store in "
                        "metadata.json")

    p = commands.add_parser("evaluate", help="SWD and MS-SSIM of a generator against real images",
                            description="Sliced Wasserstein distance (ProGAN paper) with its "
                                        "real-vs-real "
                                        "noise floor, and MS-SSIM diversity.")
    _add_model(p)
    p.add_argument("--real", required=True, help="folder of real images")
    p.add_argument("--last", type=_positive_int, default=None,
                   help="use only the last N images of the folder (e.g. a held-out set)")
    p.add_argument("--crop", choices=("center", "celeba", "none"), default="center")
    p.add_argument("-n", "--num-images", type=_positive_int, default=1000)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", default=None, help="also write the metrics to this JSON file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = commands.add_parser("invert", help="find the latent whose image is closest to a photo",
                            description="Latent recovery: optimise several random latents at "
                                        "once (compiled GradientTape steps) and keep the best. "
                                        "Writes the prepared target, the recovered image, a "
                                        "labelled side-by-side PNG, the search GIF, latent.npy "
                                        "and metrics.json.")
    p.add_argument("photo", help="image path or http(s) URL")
    _add_model(p)
    p.add_argument("--steps", type=_positive_int, default=300)
    p.add_argument("--restarts", type=_positive_int, default=8)
    p.add_argument("--loss", choices=("mse", "mae", "ssim", "laplacian", "perceptual"),
                   default="mse", help="perceptual needs VGG16's ImageNet weights (online)")
    p.add_argument("--face-crop", action=argparse.BooleanOptionalAction, default=None,
                   help="frame the largest face like the training crops (default: on when "
                        "OpenCV is installed, pip install \"progan-tf[face]\"; "
                        "--no-face-crop resizes the whole photo)")
    p.add_argument("--seed", type=_seed, default=0)
    _add_zoom(p)
    p.add_argument("--out", required=True, help="output folder")

    p = commands.add_parser("demo", help="samples, a walk and a recovered photo on one web page",
                            description="The whole toolkit on one page, offline: a sample grid, a "
                                        "hypersphere-interpolation GIF and the latent recovery of "
                                        "scikit-image's astronaut photo (face-cropped), with its "
                                        "search GIF and metrics, all shown by index.html.")
    p.add_argument("--model", default="bundled",
                   help="TF Hub/Kaggle handle, local SavedModel folder, or 'bundled' (default: "
                        "the offline model shipped with progan-tf)")
    p.add_argument("--out", default="progan-tf-demo",
                   help="output folder (default: progan-tf-demo); new, empty or an earlier demo's")
    p.add_argument("--seed", type=_seed, default=0, help="latent seed (same seed, same pictures)")
    p.add_argument("--steps", type=_positive_int, default=300, help="recovery steps (default 300)")
    p.add_argument("--restarts", type=_positive_int, default=8,
                   help="recovery restarts optimised at once (default 8)")
    p.add_argument("--frames", type=_at_least_two, default=50,
                   help="walk frames from one keyframe to the next (default 50)")
    p.add_argument("--overwrite", action="store_true",
                   help="also write into a non-empty folder no demo made (only the demo's files "
                        "are replaced)")
    return parser


# --------------------------------------------------------------------------------------------
# Output paths: checked before any work, so a finished result is never thrown away.
# --------------------------------------------------------------------------------------------


def _writable_base(path):
    """The nearest existing folder at or above ``path``, after checking that every existing
    component is a folder and that a file can be created there."""
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


def _check_output_file(path):
    """Raise one line unless a file can be written at ``path`` (an existing file is replaced)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputPathError(f"{str(path)!r} is a folder; pass a file name, e.g. "
                            f"{str(path / ('out' + (path.suffix or '.png')))!r}")
    _writable_base(path.parent)
    return path


def _check_output_folder(path):
    """Raise one line unless ``path`` is, or can become, a folder we can write into."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{str(path)!r} is a file; pass a folder for the outputs")
    _writable_base(path)
    return path


def _check_outputs(args):
    """Refuse an unusable output path at once: before TensorFlow loads and any work starts."""
    if args.command in ("generate", "interpolate") or (args.command == "evaluate" and args.out):
        _check_output_file(args.out)
    elif args.command in ("train", "invert", "demo"):
        _check_output_folder(args.out)
    elif args.command == "export":  # the export's own rules are checked by cmd_export
        _check_output_folder(Path(args.out_dir).expanduser().parent)


def _auto_zoom(zoom, image_shape):
    """``--zoom auto``: the smallest whole factor that makes each picture at least 128 px."""
    return zoom or max(1, math.ceil(128 / min(image_shape[:2])))


def _grid_columns(n, ncols):
    return ncols or int(math.ceil(math.sqrt(n)))


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def cmd_generate(args):
    import progan_tf as pt

    generator = pt.load_generator(args.model)
    latents = pt.sample_latents(args.num_images, generator.latent_dim, seed=args.seed)
    images = generator(latents).numpy()
    zoom = _auto_zoom(args.zoom, generator.image_shape)
    grid = pt.make_grid(images, ncols=_grid_columns(len(images), args.ncols))
    grid = grid.repeat(zoom, axis=0).repeat(zoom, axis=1)  # nearest: no blur
    pt.save_image(grid, args.out)
    print(f"wrote {len(images)} images ({generator.image_shape[0]}x{generator.image_shape[1]}"
          f"{f', shown {zoom}x' if zoom > 1 else ''}) to {args.out}")


def cmd_interpolate(args):
    from tqdm.auto import tqdm

    import progan_tf as pt

    generator = pt.load_generator(args.model)
    keyframes = pt.sample_latents(args.keyframes + (1 if args.keyframes == 1 else 0),
                                  generator.latent_dim, seed=args.seed)
    path = pt.walk(keyframes, args.steps, method=args.method, loop=args.loop)
    zoom = _auto_zoom(args.zoom, generator.image_shape)
    frames = (frame.repeat(zoom, axis=0).repeat(zoom, axis=1)  # nearest: sharp pixels
              for chunk in generator.iter_images(path) for frame in chunk)
    with tqdm(frames, total=len(path), unit="frame", desc="rendering") as frames:
        out = pt.animate(frames, args.out, fps=args.fps, boomerang=args.boomerang, display=False)
    # A boomerang plays the walk forward and back without repeating its ends.
    count = 2 * len(path) - 2 if args.boomerang and len(path) > 1 else len(path)
    print(f"wrote {count} frames ({args.method}{', boomerang' if args.boomerang else ''}) to "
          f"{getattr(out, 'path', out)}")


def cmd_train(args):
    from progan_tf.gan.train import TrainConfig, TrainingInterrupted, train

    config = TrainConfig(
        data_dir=args.data_dir, out_dir=args.out, resolution=args.resolution,
        latent_dim=args.latent_dim, fmap_base=args.fmap_base, fmap_max=args.fmap_max,
        kimg_per_phase=args.kimg_per_phase, final_kimg=args.final_kimg,
        batch_sizes=args.batch_sizes, crop=args.crop, mirror=args.mirror, holdout=args.holdout,
        checkpoint_minutes=args.checkpoint_minutes, jit_compile=args.xla, seed=args.seed,
        precision=args.precision, command="progan-tf " + " ".join(sys.argv[1:]))
    stop = int(args.stop_after_kimg * 1000) if args.stop_after_kimg else None
    try:
        run_dir = train(config, resume=args.resume, stop_after_images=stop)
    except TrainingInterrupted as stopped:  # Ctrl-C or SIGTERM: saved, so not an error
        import signal

        print(f"progan-tf: interrupted: {stopped}", file=sys.stderr)
        return 128 + getattr(signal, stopped.signal, signal.SIGINT)  # 130 Ctrl-C, 143 SIGTERM
    print(f"run saved in {run_dir}; export it with: progan-tf export {run_dir} EXPORT_DIR")
    return 0


def cmd_export(args):
    from progan_tf.errors import RunDirectoryError
    from progan_tf.gan.export import check_export_destination, export_run

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
    print(f"exported to {out}; load it with progan_tf.load_generator({str(out)!r})")


def _metrics_table(result):
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
        "floor is what two halves of the real images score, so a ratio near 1x is the best "
        "possible.",
        f"MS-SSIM diversity: generated {result['ms_ssim_fake']:.3f}, real "
        f"{result['ms_ssim_real']:.3f} (lower is more diverse; far above real = mode collapse)",
        f"{result['num_fake_images']} generated and {result['num_real_images']} real images at "
        f"{height}x{width}",
    ]
    return "\n".join(lines)


def cmd_evaluate(args):
    import progan_tf as pt
    from progan_tf.gan.data import load_image_folder
    from progan_tf.metrics import evaluate_generator

    out = Path(args.out).expanduser() if args.out else None  # checked by _check_outputs
    generator = pt.load_generator(args.model)
    folder = load_image_folder(args.real, generator.image_shape[0], crop=args.crop)
    real = folder.images[-args.last:] if args.last else folder.images
    result = evaluate_generator(generator, real, num_images=args.num_images, seed=args.seed,
                                progress=True)
    text = json.dumps(result, indent=2, default=float)
    if out:
        from progan_tf.gan.checkpoint import write_text_atomic

        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text)
    print(text if args.json else _metrics_table(result))
    if out:
        print(f"wrote {out}")


def _invert_target(args, size):
    import progan_tf as pt

    if args.face_crop is False:
        return pt.load_image(args.photo, size=size)
    try:
        return pt.face_crop(args.photo, size=size)
    except ProganError as error:
        if args.face_crop or "progan-tf[face]" not in str(error):
            raise  # asked for explicitly, or not about the missing detector
        warnings.warn(f"{error}; resizing the whole photo instead (--no-face-crop hides this)")
        return pt.load_image(args.photo, size=size)


def cmd_invert(args):
    import progan_tf as pt

    generator = pt.load_generator(args.model)
    target = _invert_target(args, generator.image_shape[:2])
    extractor = pt.perceptual_extractor() if args.loss == "perceptual" else None
    result = pt.recover_latent(generator, target, steps=args.steps, restarts=args.restarts,
                               loss=args.loss, feature_extractor=extractor, seed=args.seed)
    folder = result.save(args.out, zoom=args.zoom)
    state = "interrupted; best so far" if result.interrupted else "done"
    print(f"{state}: PSNR {result.psnr:.2f} dB, SSIM {result.ssim:.3f} in "
          f"{result.wall_time:.1f} s; "
          f"wrote target.png, recovered.png, comparison.png, search.gif, latent.npy, "
          f"metrics.json to {folder}")


def cmd_demo(args):
    from progan_tf.demo import run_demo

    result = run_demo(args.out, args.model, seed=args.seed, steps=args.steps,
                      restarts=args.restarts, frames=args.frames, overwrite=args.overwrite)
    print(f"demo done in {result.seconds:.0f} s; wrote:")
    for path in result.files():
        print(f"  {path}")
    print(f"open {result.index.resolve().as_uri()}")


COMMANDS = {"invert": cmd_invert, "generate": cmd_generate, "interpolate": cmd_interpolate,
            "train": cmd_train, "export": cmd_export, "evaluate": cmd_evaluate, "demo": cmd_demo}


def _import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 muted: its C++ runtime prints start-up notices
    ("could not find cuda drivers", ...) before any log level applies, which would bury the
    one line a user needs."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf
        import tensorflow_hub  # noqa: F401

        tf.config.list_logical_devices()  # device start-up prints its notices now, muted
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """One line per warning, without the internal source line Python would print."""
    print(f"progan-tf: warning: {message}", file=file or sys.stderr)


def main(argv=None):
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        _check_outputs(args)
        if not args.verbose:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
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
