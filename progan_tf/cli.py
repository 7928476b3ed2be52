"""The ``progan-tf`` command line.

    progan-tf generate     --model HANDLE -n 16 --seed 7 --out grid.png
    progan-tf interpolate  --model HANDLE --steps 100 --method hypersphere --out walk.gif
    progan-tf train        DATA_DIR --resolution 64 --out runs/NAME [--resume]
    progan-tf export       RUN_DIR OUT_DIR
    progan-tf evaluate     --model HANDLE --real DATA_DIR
    progan-tf invert       PHOTO --model HANDLE [--steps --restarts --loss --face-crop --seed] --out DIR
    progan-tf demo         [--model bundled] [--out DIR] [--seed --steps --restarts --overwrite]

Mistakes a user can make end in one line on stderr (``progan-tf: error: ...``) and exit status
2; Ctrl-C ends with status 130.  TensorFlow is imported only once a command runs, so ``--help``
is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

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
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _batch_sizes(text):
    """'4:64,8:32' -> {4: 64, 8: 32}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item]
        return {int(res): int(size) for res, size in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected RES:BATCH pairs like 4:64,8:32, got {text!r}") from None


def _add_model(parser):
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="TF Hub/Kaggle handle, local SavedModel folder, or 'bundled' "
                             "(the offline model shipped with progan-tf); default: progan-128")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="progan-tf", description="Progressive GANs in TensorFlow: generate, interpolate, "
                                      "train, export and evaluate.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("generate", help="sample images from a generator into a grid PNG",
                            description="Sample N images from random latents and save them as a grid.")
    _add_model(p)
    p.add_argument("-n", "--num-images", type=_positive_int, default=16)
    p.add_argument("--seed", type=int, default=0, help="latent seed (same seed, same images)")
    p.add_argument("--ncols", type=_positive_int, default=None, help="grid columns")
    p.add_argument("--zoom", type=_positive_int, default=1,
                   help="enlarge each pixel to ZOOMxZOOM (sharp pictures of small models)")
    p.add_argument("--out", default="grid.png", help="output PNG (default: grid.png)")

    p = commands.add_parser("interpolate", help="animate a walk between random latents",
                            description="Interpolate between random latents and write a GIF or MP4.")
    _add_model(p)
    p.add_argument("--steps", type=_at_least_two, default=100,
                   help="frames per segment, both ends included (default 100)")
    p.add_argument("--method", choices=METHODS, default="hypersphere")
    p.add_argument("--keyframes", type=_positive_int, default=2,
                   help="number of random latents to walk through (default 2)")
    p.add_argument("--loop", action="store_true", help="return to the first latent (seamless)")
    p.add_argument("--boomerang", action="store_true", help="play forward then backward")
    p.add_argument("--fps", type=_positive_float, default=25.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="walk.gif", help="output .gif or .mp4 (default: walk.gif)")

    p = commands.add_parser("train", help="train a progressive GAN on a folder of images",
                            description="Train a Keras progressive GAN on a folder of JPEG/PNG images "
                                        "(recursively). Checkpoints atomically; Ctrl-C saves and stops.")
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
    p.add_argument("--holdout", type=int, default=0,
                   help="leave the last N images (sorted by path) out for evaluation")
    p.add_argument("--checkpoint-minutes", type=_positive_float, default=10.0)
    p.add_argument("--xla", action="store_true", help="compile train steps with XLA")
    p.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                   help="mixed_bfloat16: compute in bfloat16 with float32 weights; up to ~2x "
                        "faster on CPUs with AVX512_BF16 or AMX, slower elsewhere")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stop-after-kimg", type=_positive_float, default=None,
                   help="end this session after that many kimg in total (resume later)")

    p = commands.add_parser("export", help="export a run's generator in progan-128's interface",
                            description="Export the EMA generator of a run's newest checkpoint as a "
                                        "SavedModel that tensorflow_hub.load() and load_generator() read.")
    p.add_argument("run_dir")
    p.add_argument("out_dir")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--metrics", default=None,
                   help="a JSON file written by 'progan-tf evaluate --out' to store in metadata.json")

    p = commands.add_parser("evaluate", help="SWD and MS-SSIM of a generator against real images",
                            description="Sliced Wasserstein distance (ProGAN paper) with its real-vs-real "
                                        "noise floor, and MS-SSIM diversity.")
    _add_model(p)
    p.add_argument("--real", required=True, help="folder of real images")
    p.add_argument("--last", type=_positive_int, default=None,
                   help="use only the last N images of the folder (e.g. a held-out set)")
    p.add_argument("--crop", choices=("center", "celeba", "none"), default="center")
    p.add_argument("-n", "--num-images", type=_positive_int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="also write the metrics to this JSON file")

    p = commands.add_parser("invert", help="find the latent whose image is closest to a photo",
                            description="Latent recovery: optimise several random latents at once "
                                        "(compiled GradientTape steps) and keep the best. Writes the "
                                        "prepared target, the recovered image, a side-by-side PNG, "
                                        "the search GIF, latent.npy and metrics.json.")
    p.add_argument("photo", help="image path or http(s) URL")
    _add_model(p)
    p.add_argument("--steps", type=_positive_int, default=300)
    p.add_argument("--restarts", type=_positive_int, default=8)
    p.add_argument("--loss", choices=("mse", "mae", "ssim", "laplacian", "perceptual"),
                   default="mse", help="perceptual needs VGG16's ImageNet weights (online)")
    p.add_argument("--face-crop", action="store_true",
                   help="frame the largest face like CelebA's crops (needs opencv-python-headless)")
    p.add_argument("--seed", type=int, default=0)
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
    p.add_argument("--seed", type=int, default=0, help="latent seed (same seed, same pictures)")
    p.add_argument("--steps", type=_positive_int, default=300, help="recovery steps (default 300)")
    p.add_argument("--restarts", type=_positive_int, default=8,
                   help="recovery restarts optimised at once (default 8)")
    p.add_argument("--frames", type=_at_least_two, default=50,
                   help="walk frames from one keyframe to the next (default 50)")
    p.add_argument("--overwrite", action="store_true",
                   help="also write into a non-empty folder no demo made (only the demo's files "
                        "are replaced)")
    return parser


def _grid_columns(n, ncols):
    import math
    return ncols or int(math.ceil(math.sqrt(n)))


def cmd_generate(args):
    import progan_tf as pt

    generator = pt.load_generator(args.model)
    latents = pt.sample_latents(args.num_images, generator.latent_dim, seed=args.seed)
    images = generator(latents).numpy()
    grid = pt.make_grid(images, ncols=_grid_columns(len(images), args.ncols))
    grid = grid.repeat(args.zoom, axis=0).repeat(args.zoom, axis=1)  # nearest: no blur
    pt.save_image(grid, args.out)
    print(f"wrote {len(images)} images ({generator.image_shape[0]}x{generator.image_shape[1]}) "
          f"to {args.out}")


def cmd_interpolate(args):
    from tqdm.auto import tqdm

    import progan_tf as pt

    generator = pt.load_generator(args.model)
    keyframes = pt.sample_latents(args.keyframes + (1 if args.keyframes == 1 else 0),
                                  generator.latent_dim, seed=args.seed)
    path = pt.walk(keyframes, args.steps, method=args.method, loop=args.loop)
    frames = (frame for chunk in generator.iter_images(path) for frame in chunk)
    with tqdm(frames, total=len(path), unit="frame", desc="rendering") as frames:
        out = pt.animate(frames, args.out, fps=args.fps, boomerang=args.boomerang, display=False)
    print(f"wrote {len(path)} frames ({args.method}) to {getattr(out, 'path', out)}")


def cmd_train(args):
    from progan_tf.gan.train import TrainConfig, train

    config = TrainConfig(
        data_dir=args.data_dir, out_dir=args.out, resolution=args.resolution,
        latent_dim=args.latent_dim, fmap_base=args.fmap_base, fmap_max=args.fmap_max,
        kimg_per_phase=args.kimg_per_phase, final_kimg=args.final_kimg,
        batch_sizes=args.batch_sizes, crop=args.crop, mirror=args.mirror, holdout=args.holdout,
        checkpoint_minutes=args.checkpoint_minutes, jit_compile=args.xla, seed=args.seed,
        precision=args.precision, command="progan-tf " + " ".join(sys.argv[1:]))
    stop = int(args.stop_after_kimg * 1000) if args.stop_after_kimg else None
    run_dir = train(config, resume=args.resume, stop_after_images=stop)
    print(f"run saved in {run_dir}; export it with: progan-tf export {run_dir} EXPORT_DIR")


def cmd_export(args):
    from progan_tf.errors import RunDirectoryError
    from progan_tf.gan.export import export_run

    metrics = None
    if args.metrics:
        try:
            with open(args.metrics) as handle:
                metrics = json.load(handle)
        except (OSError, ValueError) as error:
            raise RunDirectoryError(f"cannot read metrics file {args.metrics!r} ({error}); pass "
                                    f"the JSON written by 'progan-tf evaluate --out'") from None
    out = export_run(args.run_dir, args.out_dir, metrics=metrics, overwrite=args.overwrite)
    print(f"exported to {out}; load it with progan_tf.load_generator({str(out)!r})")


def cmd_evaluate(args):
    import progan_tf as pt
    from progan_tf.gan.data import load_image_folder
    from progan_tf.metrics import evaluate_generator

    generator = pt.load_generator(args.model)
    folder = load_image_folder(args.real, generator.image_shape[0], crop=args.crop)
    real = folder.images[-args.last:] if args.last else folder.images
    result = evaluate_generator(generator, real, num_images=args.num_images, seed=args.seed)
    text = json.dumps(result, indent=2, default=float)
    if args.out:
        from progan_tf.gan.checkpoint import write_text_atomic
        write_text_atomic(args.out, text)
    print(text)


def cmd_invert(args):
    import progan_tf as pt

    generator = pt.load_generator(args.model)
    size = generator.image_shape[:2]
    if args.face_crop:
        target = pt.face_crop(args.photo, size=size)
    else:
        target = pt.load_image(args.photo, size=size)
    extractor = pt.perceptual_extractor() if args.loss == "perceptual" else None
    result = pt.recover_latent(generator, target, steps=args.steps, restarts=args.restarts,
                               loss=args.loss, feature_extractor=extractor, seed=args.seed)
    folder = result.save(args.out)
    state = "interrupted; best so far" if result.interrupted else "done"
    print(f"{state}: PSNR {result.psnr:.2f} dB, SSIM {result.ssim:.3f} in {result.wall_time:.1f} s; "
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


COMMANDS = {"invert": cmd_invert, "generate": cmd_generate, "interpolate": cmd_interpolate, "train": cmd_train,
            "export": cmd_export, "evaluate": cmd_evaluate, "demo": cmd_demo}


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


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not args.verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        _import_tensorflow_quietly()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="progan-tf: %(message)s")
    from progan_tf.errors import ProganError

    try:
        COMMANDS[args.command](args)
    except ProganError as error:
        print(f"progan-tf: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("progan-tf: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
