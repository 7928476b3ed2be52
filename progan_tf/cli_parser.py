"""The ``progan-tf`` command line's arguments: every command, option, default and choice.

Kept apart from the command bodies (:mod:`progan_tf.cli`) so that the whole interface reads in
one place, and so that ``progan-tf --help`` stays instant: this module imports only the standard
library and TensorFlow-free parts of the package. Defaults and choices come from
:mod:`progan_tf.constants`, the same tuples the package checks its arguments against, so the
command line and the Python API cannot disagree.

Numbers are checked while parsing, by the same checks the package uses
(:mod:`progan_tf.checks`), so ``--seed -1`` reads ``argument --seed: must be a whole number >=
0. Received: -1`` and ends with argparse's usage line and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from progan_tf.cli_parser_cyclegan import add_cyclegan_train_arguments
from progan_tf.cli_parser_families import (
    PIX2PIX_ONLY_TRAIN_OPTIONS,
    SRGAN_TRAIN_OPTIONS,
    add_pix2pix_train_arguments,
    add_srgan_train_arguments,
    add_translate_command,
    add_upscale_command,
)
from progan_tf.cli_parser_stylegan import add_mix_command, add_stylegan_train_arguments
from progan_tf.cli_types import (
    add_zoom,
    at_least_two,
    batch_sizes,
    non_negative_float,
    positive_float,
    positive_int,
    seed_int,
)
from progan_tf.constants import (
    ARCHS,
    AUGMENT_OPS,
    AUGMENTS,
    BUNDLED,
    CROPS,
    DCGAN_RESOLUTIONS,
    DEFAULT_MODEL,
    DISTRIBUTE_STRATEGIES,
    ENCODER_REFINE_RESTARTS,
    ENCODER_REFINE_STEPS,
    ENCODER_TRAIN_STEPS,
    INTERPOLATION_METHODS,
    LOSSES,
    PRECISIONS,
    RECOVERY_LOSSES,
    RECOVERY_RESTARTS,
    RECOVERY_STEPS,
)

__all__ = ["INVERT_LOSSES", "PIX2PIX_ONLY_TRAIN_OPTIONS",
           "PROGAN_ONLY_TRAIN_OPTIONS", "SRGAN_TRAIN_OPTIONS", "build_parser"]

INVERT_LOSSES = tuple(loss for loss in RECOVERY_LOSSES if loss != "discriminator")
"""The recovery losses ``progan-tf invert`` offers: all but ``"discriminator"``, which needs a
trained discriminator that an exported generator does not carry."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("progan-tf")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="TF Hub/Kaggle handle, local SavedModel folder, or 'bundled' "
                             "(the offline model shipped with progan-tf); default: progan-128")


# --------------------------------------------------------------------------------------------
# train --arch: which model family trains (progan, the default, dcgan, pix2pix or srgan)
# --------------------------------------------------------------------------------------------

PROGAN_ONLY_TRAIN_OPTIONS = ("--init", "--fmap-base", "--fmap-max", "--kimg-per-phase",
                             "--final-kimg", "--batch-sizes", "--fmap-decay", "--loss",
                             "--r1-gamma", "--r1-interval", "--augment", "--augment-policy",
                             "--ada-target", "--ada-kimg", "--quality-every-kimg",
                             "--quality-images")
"""``train`` options that shape a progressive GAN only: refused with ``--arch dcgan``."""

def _add_train_arch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--arch`` and the DCGAN's own options (their defaults are DCGANConfig's: None here)."""
    parser.add_argument("--arch", choices=ARCHS, default=ARCHS[0],
                        help="the model family: progan (progressive growing, the default), "
                             "dcgan (Radford et al. 2016, one resolution: "
                             f"{', '.join(map(str, DCGAN_RESOLUTIONS))}), pix2pix (Isola et "
                             "al. 2017: paired pictures, e.g. photos and their sketches) or "
                             "srgan (Ledig et al. 2017: 4x super-resolution), cyclegan (Zhu "
                             "et al. 2017: two unpaired folders, DATA_DIR/A and DATA_DIR/B) or "
                             "stylegan (Karras et al. 2019/2020: a style-based generator)")
    dcgan = parser.add_argument_group(
        "dcgan", "options of --arch dcgan (the recipe is the paper's: binary cross-entropy, "
                 "Adam 2e-4, beta1 0.5); --kimg, --batch-size and --width are also those of "
                 "--arch pix2pix and srgan, --grid-every-kimg also pix2pix's (which families "
                 "take which option: progan_tf.cli_families.TRAIN_OPTIONS)")
    dcgan.add_argument("--kimg", type=positive_float, default=None,
                       help="thousands of images to train on (default 100; with --resume, a "
                            "new length continues a finished run)")
    dcgan.add_argument("--batch-size", type=positive_int, default=None,
                       help="minibatch size (default 64)")
    dcgan.add_argument("--width", type=positive_int, default=None,
                       help="feature maps of the largest hidden layer; the others double "
                            "towards the 4x4 map (default 64; the paper's 128 at 64x64)")
    dcgan.add_argument("--grayscale", action="store_true", default=None,
                       help="train on the grey version of the images (MNIST-like digits)")
    dcgan.add_argument("--grid-every-kimg", type=positive_float, default=None,
                       help="draw the fixed latents every this many kimg into "
                            "samples/progress-*.png (default 5)")



def _add_search(parser: argparse.ArgumentParser, what: str) -> None:
    """``--steps``/``--restarts`` and the choice between the fast path and the full search."""
    parser.add_argument("--steps", type=positive_int, default=None,
                        help=f"{what}steps (default {ENCODER_REFINE_STEPS} after an encoder, "
                             f"{RECOVERY_STEPS} for the full search)")
    parser.add_argument("--restarts", type=positive_int, default=None,
                        help=f"{what}restarts optimised at once (default "
                             f"{ENCODER_REFINE_RESTARTS} after an encoder, {RECOVERY_RESTARTS} "
                             f"for the full search)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--encoder", default=None, metavar="DIR",
                       help="start from this encoder's latent (a 'progan-tf train-encoder' "
                            "folder); default: the encoder shipped for the bundled model, when "
                            "the model is that one")
    start.add_argument("--full-search", action="store_true",
                       help="search from random latents only, even where an encoder exists "
                            "(slower; the fast path is an encoder's latent plus a short search)")


def _add_train_encoder(commands: Any) -> None:
    p = commands.add_parser("train-encoder", help="train an encoder for instant inversion",
                            description="Train an encoder (image -> latent) for a generator, "
                                        "with the generator frozen: on generated pairs (latent "
                                        "and image must come back) and, with --data, on real "
                                        "faces (the image must come back). Checkpoints "
                                        "atomically; Ctrl-C saves and stops; --resume "
                                        "continues. The encoder is written into --out, for "
                                        "'invert --encoder' and recover_latent(init=DIR).")
    p.add_argument("--model", default=None,
                   help="the generator: TF Hub/Kaggle handle, local SavedModel folder, or "
                        "'bundled' (needed for a new run; --resume uses the run's)")
    p.add_argument("--out", required=True, help="run folder (new, or existing with --resume)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (options not given are the run's)")
    p.add_argument("--data", default=None, help="folder of real faces to train on too")
    p.add_argument("--crop", choices=CROPS, default=None,
                   help=f"framing of the real faces (default {CROPS[0]})")
    p.add_argument("--holdout", type=seed_int, default=None,
                   help="leave the last N faces (sorted by path) out, as training did")
    p.add_argument("--steps", type=positive_int, default=None,
                   help=f"training steps in all (default {ENCODER_TRAIN_STEPS})")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="or stop after this much training time in all (all sessions)")
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="generated pairs per step (default 4)")
    p.add_argument("--real-batch-size", type=positive_int, default=None,
                   help="real faces per step (default 12)")
    p.add_argument("--latent-weight", type=non_negative_float, default=None,
                   help="weight of the latent loss against the pixel loss (default 0.05)")
    p.add_argument("--learning-rate", type=positive_float, default=None,
                   help="Adam's learning rate (default 0.001)")
    p.add_argument("--width", type=positive_int, default=None,
                   help="channels of the encoder's first convolutions (default 32)")
    p.add_argument("--max-width", type=positive_int, default=None,
                   help="most channels of any convolution (default 96: 2.8 MB at 32x32; 80 "
                        "keeps a 64x64 model's encoder under 3 MB)")
    p.add_argument("--seed", type=seed_int, default=None)
    p.add_argument("--checkpoint-minutes", type=positive_float, default=None,
                   help="minutes between checkpoints (default 5)")
    p.add_argument("--stop-after-steps", type=positive_int, default=None,
                   help="end this session after that many steps in all (resume later)")


def build_parser() -> argparse.ArgumentParser:
    """The ``progan-tf`` parser with its commands.

    Returns:
        An :class:`argparse.ArgumentParser`; ``parse_args`` gives a namespace whose ``command``
        names the command to run.

    Example:
    >>> args = build_parser().parse_args(["generate", "-n", "4", "--seed", "7"])
    >>> args.command, args.num_images, args.seed, args.out
    ('generate', 4, 7, 'grid.png')
    """
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
    p.add_argument("-n", "--num-images", type=positive_int, default=16)
    p.add_argument("--seed", type=seed_int, default=0, help="latent seed (same seed, same images)")
    p.add_argument("--ncols", type=positive_int, default=None, help="grid columns")
    add_zoom(p)
    p.add_argument("--out", default="grid.png", help="output PNG (default: grid.png)")

    p = commands.add_parser("interpolate", help="animate a walk between random latents",
                            description="Interpolate between random latents and write a GIF or "
                                        "MP4.")
    _add_model(p)
    p.add_argument("--steps", type=at_least_two, default=100,
                   help="frames per segment, both ends included (default 100)")
    p.add_argument("--method", choices=INTERPOLATION_METHODS, default=INTERPOLATION_METHODS[0])
    p.add_argument("--keyframes", type=positive_int, default=2,
                   help="number of random latents to walk through (default 2)")
    p.add_argument("--loop", action="store_true", help="return to the first latent (seamless)")
    p.add_argument("--boomerang", action="store_true", help="play forward then backward")
    p.add_argument("--fps", type=positive_float, default=25.0)
    p.add_argument("--seed", type=seed_int, default=0)
    add_zoom(p)
    p.add_argument("--out", default="walk.gif", help="output .gif or .mp4 (default: walk.gif)")

    p = commands.add_parser("train", help="train a progressive GAN (or a DCGAN, Pix2Pix or "
                                          "SRGAN) on a folder of images",
                            description="Train a Keras progressive GAN (or, with --arch, a DCGAN, "
                                        "a Pix2Pix translator or an SRGAN upscaler) on a folder "
                                        "of JPEG/PNG images (recursively). "
                                        "Checkpoints atomically; Ctrl-C saves and stops.")
    p.add_argument("data_dir", help="folder of training images")
    p.add_argument("--out", required=True, help="run folder (new, or existing with --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--init", default=None, metavar="{bundled,EXPORT_DIR}",
                   help="fine-tune: start from a trained model ('bundled' or a 'progan-tf "
                        "export' folder) at its resolution and architecture, in one stable "
                        "phase of --final-kimg (else --kimg-per-phase) kimg")
    p.add_argument("--resolution", type=int, default=64, help="final resolution (power of two)")
    p.add_argument("--latent-dim", type=positive_int, default=None,
                   help="latent size (default 512; --arch dcgan: 100)")
    p.add_argument("--fmap-base", type=positive_int, default=8192)
    p.add_argument("--fmap-max", type=positive_int, default=512)
    p.add_argument("--kimg-per-phase", type=positive_float, default=100.0,
                   help="thousands of images per fade-in and per stable phase")
    p.add_argument("--final-kimg", type=positive_float, default=None,
                   help="length of the last stable phase (default: --kimg-per-phase)")
    p.add_argument("--batch-sizes", type=batch_sizes, default={},
                   help="minibatch per resolution, e.g. 4:64,8:32,16:16")
    p.add_argument("--crop", choices=CROPS, default=CROPS[0])
    p.add_argument("--no-mirror", dest="mirror", action="store_false",
                   help="do not mirror images left-right")
    p.add_argument("--holdout", type=seed_int, default=0,
                   help="leave the last N images (sorted by path) out for evaluation")
    p.add_argument("--checkpoint-minutes", type=positive_float, default=10.0)
    p.add_argument("--xla", action="store_true", help="compile train steps with XLA")
    p.add_argument("--distribute", choices=DISTRIBUTE_STRATEGIES, default=None,
                   help="train with tf.distribute: mirrored (all local GPUs), multi-worker "
                        "(machines listed in TF_CONFIG; only the chief writes) or tpu (Colab's "
                        "TPU); batch sizes are global (default: one device)")
    p.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0],
                   help="mixed_bfloat16: compute in bfloat16 with float32 weights; up to ~2x "
                        "faster on CPUs with AVX512_BF16 or AMX, slower elsewhere")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--stop-after-kimg", type=positive_float, default=None,
                   help="end this session after that many kimg in total (resume later)")
    p.add_argument("--quality-every-kimg", type=non_negative_float, default=0.0,
                   help="at the final resolution, measure SWD against the --holdout images "
                        "every N kimg into quality.csv, beside the real-vs-real floor "
                        "(default 0: never)")
    p.add_argument("--quality-images", type=positive_int, default=1000,
                   help="images per set for --quality-every-kimg (default 1000)")
    recipe = p.add_argument_group("recipe", "the loss, augmentation and widths")
    recipe.add_argument("--fmap-decay", type=non_negative_float, default=1.0,
                        help="widths fmap_base / 2**(stage * decay), at most --fmap-max "
                             "(default 1.0, the paper's)")
    recipe.add_argument("--loss", choices=LOSSES, default=LOSSES[0],
                        help="wgan-gp: the paper's Wasserstein loss with gradient penalty; "
                             "ns-r1: non-saturating logistic loss with lazy R1 penalty")
    recipe.add_argument("--r1-gamma", type=non_negative_float, default=None,
                        help="R1 weight (default: 0.0002 * resolution**2 / batch)")
    recipe.add_argument("--r1-interval", type=positive_int, default=16,
                        help="apply R1 every N steps, scaled by N (default 16, lazy)")
    recipe.add_argument("--augment", choices=AUGMENTS, default=AUGMENTS[0],
                        help="differentiable augmentation of everything D sees: diffaugment "
                             "(always) or ada (adaptive probability); default none")
    recipe.add_argument("--augment-policy", default="color,translation,cutout",
                        help="comma-separated: " + ", ".join(AUGMENT_OPS))
    recipe.add_argument("--ada-target", type=positive_float, default=0.6,
                        help="ADA's target for E[sign(D(real))] (default 0.6)")
    recipe.add_argument("--ada-kimg", type=positive_float, default=100.0,
                        help="kimg for ADA's probability to move from 0 to 1 (default 100)")
    _add_train_arch_arguments(p)
    add_pix2pix_train_arguments(p)
    add_srgan_train_arguments(p)
    add_cyclegan_train_arguments(p)
    add_stylegan_train_arguments(p)

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
    which = p.add_mutually_exclusive_group()
    which.add_argument("--last", type=positive_int, default=None,
                       help="use only the last N images of the folder (e.g. a held-out set), "
                            "split in two halves: one to compare with, one for the floor")
    which.add_argument("--holdout", type=positive_int, default=None,
                       help="compare with the last N images (those 'progan-tf train --holdout "
                            "N' left out) and measure the floor with as many of the others: "
                            "held-out against training faces, at equal sample sizes")
    p.add_argument("--crop", choices=CROPS, default=CROPS[0])
    p.add_argument("-n", "--num-images", type=positive_int, default=1000)
    p.add_argument("--seed", type=seed_int, default=0)
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
    _add_search(p, "")
    p.add_argument("--loss", choices=INVERT_LOSSES, default=INVERT_LOSSES[0],
                   help="perceptual needs VGG16's ImageNet weights (online)")
    p.add_argument("--face-crop", action=argparse.BooleanOptionalAction, default=None,
                   help="frame the largest face like the training crops (default: on when "
                        "OpenCV is installed, pip install \"progan-tf[face]\"; "
                        "--no-face-crop resizes the whole photo)")
    p.add_argument("--seed", type=seed_int, default=0)
    add_zoom(p)
    p.add_argument("--out", required=True, help="output folder")

    add_translate_command(commands)
    _add_train_encoder(commands)

    p = commands.add_parser("demo", help="samples, a walk and a recovered photo on one web page",
                            description="The whole toolkit on one page, offline: a sample grid, a "
                                        "hypersphere-interpolation GIF and the latent recovery of "
                                        "scikit-image's astronaut photo (face-cropped), with its "
                                        "search GIF and metrics, all shown by index.html.")
    p.add_argument("--model", default=BUNDLED,
                   help="TF Hub/Kaggle handle, local SavedModel folder, or 'bundled' (default: "
                        "the offline model shipped with progan-tf)")
    p.add_argument("--out", default="progan-tf-demo",
                   help="output folder (default: progan-tf-demo); new, empty or an earlier demo's")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="latent seed (same seed, same pictures)")
    _add_search(p, "recovery ")
    p.add_argument("--frames", type=at_least_two, default=50,
                   help="walk frames from one keyframe to the next (default 50)")
    p.add_argument("--overwrite", action="store_true",
                   help="also write into a non-empty folder no demo made (only the demo's files "
                        "are replaced)")
    add_upscale_command(commands)
    add_mix_command(commands)
    return parser
