"""Which recipe makes the most of a CPU minute?  Loss x augmentation, at equal images shown.

Trains the same 32x32 ProGAN four times -- the paper's WGAN-GP and the non-saturating logistic
loss with lazy R1, each without and with ADA's adaptive augmentation -- on the same training
faces (all but the last ``--holdout`` images of the folder, sorted by name), from the same seed,
for the same number of images, one after the other in this one process.  While the networks
work at 32x32 each run measures the sliced Wasserstein distance of its EMA generator against
the held-out faces every ``--eval-every-kimg`` (:class:`progan_tf.training.quality.QualityLog`,
evaluation time not counted), beside the real-vs-real floor: training faces against the
held-out faces, the same number of images, the same seed.

It prints one table -- SWD per level at the end with its floor and ratio, training wall time,
and the *time to quality*: the training time until SWD at 32 px first came within 2x its
floor -- and writes it as JSON (``--json``).  The run folders stay in ``--out``: a run that
was interrupted is resumed, a finished one is read back, so the table can be re-printed.

Equal images shown may end before any recipe reaches 2x its floor.  So the paper's recipe and
the winner (the lowest SWD at 32 px at equal images) then train on, up to
``--time-to-quality-kimg`` in all, until they reach it: their runs are resumed with a longer
last phase, evaluated every ``--eval-every-kimg``.  The SWD columns stay those at equal
images; only the time-to-quality column reads the longer curve.

    .venv/bin/python bench/ablation.py       # bench/README.md's table (1.5-2 h on 2 cores)
    .venv/bin/python bench/ablation.py --quick --data DIR --out DIR   # smoke test (a minute)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.

from progan_tf import fileio
from progan_tf.errors import DatasetError, TrainingInterrupted
from progan_tf.gan.train import TrainConfig, read_run_config, train
from progan_tf.training import checkpoint, quality
from progan_tf.training.data import load_image_folder
from progan_tf.training.quality import QualityLog, read_quality, time_to_quality

RECIPES = (("wgan-gp", "none"), ("wgan-gp", "ada"), ("ns-r1", "none"), ("ns-r1", "ada"))
"""(loss, augment) of each row, the paper's recipe first."""

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of training images")
    parser.add_argument("--out", default="bench-runs/ablation", help="folder of the run folders")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--holdout", type=int, default=1000)
    parser.add_argument("--kimg-per-phase", type=float, default=10.0)
    parser.add_argument("--final-kimg", type=float, default=30.0)
    parser.add_argument("--eval-every-kimg", type=float, default=5.0)
    parser.add_argument("--eval-images", type=int, default=1000)
    parser.add_argument("--fmap-max", type=int, default=64)
    parser.add_argument("--precision", default="float32",
                        help="float32 (default: bfloat16 is emulated, and slower, on CPUs "
                             "without AVX512_BF16/AMX)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipes", default=",".join(f"{a}:{b}" for a, b in RECIPES),
                        help="LOSS:AUGMENT pairs, comma-separated (default: the four rows)")
    parser.add_argument("--time-to-quality-kimg", type=float, default=200.0,
                        help="train the paper's recipe and the winner on, up to this many kimg "
                             "in all, until SWD at the final resolution is within 2x the floor "
                             "(0: do not; default 200)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny 8x8 schedule on the given --data (smoke test)")
    args = parser.parse_args(argv)
    try:
        args.recipes = [tuple(pair.split(":")) for pair in args.recipes.split(",")]
        for loss, augment in args.recipes:
            TrainConfig("d", "o", loss=loss, augment=augment).validate()
    except (ValueError, DatasetError) as error:
        parser.error(f"--recipes takes LOSS:AUGMENT pairs ({error})")
    if args.quick:
        args.resolution, args.kimg_per_phase, args.final_kimg = 8, 0.064, 0.128
        args.eval_every_kimg, args.eval_images, args.fmap_max = 0.064, 16, 8
        args.time_to_quality_kimg = min(args.time_to_quality_kimg, 0.384)
        args.precision = "float32"
    return args


def config_for(args, loss, augment):
    """The run's options: everything equal but the loss and the augmentation."""
    batch_sizes = {4: 64, 8: 32, 16: 16, 32: 16, 64: 16} if not args.quick else {4: 8, 8: 8}
    return TrainConfig(
        data_dir=args.data, out_dir=str(Path(args.out) / f"{loss}-{augment}"),
        resolution=args.resolution, latent_dim=512 if not args.quick else 16,
        fmap_max=args.fmap_max, kimg_per_phase=args.kimg_per_phase,
        final_kimg=args.final_kimg, batch_sizes=batch_sizes, crop="celeba",
        holdout=args.holdout, precision=args.precision, seed=args.seed, loss=loss,
        augment=augment, checkpoint_minutes=5.0,
        command=f"bench/ablation.py ({loss}, {augment})")


def held_out_and_floor(args):
    """The held-out faces and as many training faces for the floor, at the final resolution."""
    folder = load_image_folder(args.data, args.resolution, crop="celeba")
    return quality.held_out_and_floor(folder.images, args.holdout, seed=args.seed)


def run_recipe(args, loss, augment, held_out, floor_images):
    """Train one row (resuming an interrupted run; a finished one is only read)."""
    config = config_for(args, loss, augment)
    out = Path(config.out_dir)
    total = config.schedule().total_images
    newest = checkpoint.latest(out / "checkpoints") if out.exists() else None
    shown = checkpoint.read_state(newest)["images_shown"] if newest else 0
    if shown < total:
        quality = QualityLog(out, held_out, floor_images, args.resolution,
                             every_kimg=args.eval_every_kimg, num_images=args.eval_images,
                             seed=args.seed)
        print(f"training {loss} + {augment} ({total / 1000:g} kimg)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        train(config, resume=(out / "run.json").exists(), progress=False,
              extra_callbacks=[quality])
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    rows = read_quality(out)
    if not rows:
        raise SystemExit(f"bench/ablation.py: {out} has no quality.csv; delete it and rerun")
    # Equal images are this recipe's schedule; run.json names a longer one once the run has
    # been trained on past it (train_until_quality), so the schedule is taken from ``config``.
    return dataclasses.replace(read_run_config(out), final_kimg=config.final_kimg), rows


def train_until_quality(args, loss, augment, held_out, floor_images):
    """Continue a finished row past equal images until SWD at the final resolution is within 2x
    its floor, or ``--time-to-quality-kimg`` in all; returns the whole quality curve.

    Each 5 kimg is one resumed session (``stop_after_images``) that ends with an evaluation,
    so the run stops within one evaluation of reaching the floor.  A resumed run's clock
    continues from its checkpoint, so start-up time is not counted.
    """
    config = config_for(args, loss, augment)
    out, level = Path(config.out_dir), args.resolution
    cap = round(args.time_to_quality_kimg * 1000)
    longer = dataclasses.replace(config, final_kimg=config.final_kimg
                                 + (cap - config.schedule().total_images) / 1000)
    every = round(args.eval_every_kimg * 1000)
    while True:
        rows = read_quality(out)
        shown = checkpoint.read_state(checkpoint.latest(out / "checkpoints"))["images_shown"]
        if time_to_quality(rows, level) is not None or shown >= cap:
            return rows
        print(f"  {loss} + {augment}: not within 2x the floor at {shown / 1000:g} kimg; on to "
              f"{min(shown + every, cap) / 1000:g}", file=sys.stderr, flush=True)
        log = QualityLog(out, held_out, floor_images, level, every_kimg=args.eval_every_kimg,
                         num_images=args.eval_images, seed=args.seed)
        train(longer, resume=True, progress=False, stop_after_images=min(shown + every, cap),
              extra_callbacks=[log])


def row_for(config, rows, level, curve=None):
    """The table's cells for one run: SWD at equal images (the schedule's end), and the time
    to quality on ``curve`` (the rows of a run trained on past it; default ``rows``)."""
    total_kimg = config.schedule().total_images / 1000
    last = [row for row in rows if float(row["kimg"]) <= total_kimg + 1e-6][-1]
    levels = sorted((int(key[4:]) for key in last if key.startswith("swd_")), reverse=True)
    curve = rows if curve is None else curve
    reached = time_to_quality(curve, level)
    return {
        "loss": config.loss, "augment": config.augment, "kimg": float(last["kimg"]),
        "train_minutes": float(last["train_seconds"]) / 60,
        "cpu_minutes": float(last["cpu_seconds"]) / 60,
        "swd": {lv: float(last[f"swd_{lv}"]) for lv in levels},
        "floor": {lv: float(last[f"floor_{lv}"]) for lv in levels},
        "time_to_2x_floor_minutes": (float(reached["train_seconds"]) / 60 if reached else None),
        "cpu_to_2x_floor_minutes": (float(reached["cpu_seconds"]) / 60 if reached else None),
        "kimg_to_2x_floor": float(reached["kimg"]) if reached else None,
        "curve_kimg": float(curve[-1]["kimg"]),
        "curve": [{"kimg": float(r["kimg"]), "train_seconds": float(r["train_seconds"]),
                   "cpu_seconds": float(r["cpu_seconds"]),
                   **{f"swd_{lv}": float(r[f"swd_{lv}"]) for lv in levels}} for r in curve],
    }


def table(results, level):
    levels = list(results[0]["swd"])
    head = ["loss", "augment", "kimg", "train min (CPU min)"]
    head += [f"SWD {lv} px (floor, ratio)" for lv in levels]
    head += [f"time to 2x floor at {level} px"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r["loss"], r["augment"], f"{r['kimg']:g}",
                 f"{r['train_minutes']:.1f} ({r['cpu_minutes']:.1f})"]
        cells += [f"{r['swd'][lv]:.2f} ({r['floor'][lv]:.2f}, {r['swd'][lv] / r['floor'][lv]:.2f}x)"
                  for lv in levels]
        reached = r["time_to_2x_floor_minutes"]
        cells.append(f"{reached:.1f} min ({r['cpu_to_2x_floor_minutes']:.1f} CPU min, "
                     f"{r['kimg_to_2x_floor']:g} kimg)" if reached is not None
                     else f"not within {r['curve_kimg']:g} kimg")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    held_out, floor_images = held_out_and_floor(args)
    runs = {}
    for loss, augment in args.recipes:
        runs[loss, augment] = run_recipe(args, loss, augment, held_out, floor_images)
    results = [row_for(config, rows, args.resolution) for config, rows in runs.values()]
    level = args.resolution
    if args.time_to_quality_kimg:
        winner = min(results, key=lambda r: r["swd"][level])
        for loss, augment in dict.fromkeys([RECIPES[0], (winner["loss"], winner["augment"])]):
            if (loss, augment) in runs:
                curve = train_until_quality(args, loss, augment, held_out, floor_images)
                config, rows = runs[loss, augment]
                results[list(runs).index((loss, augment))] = row_for(config, rows, level, curve)
    print(f"{len(held_out)} held-out faces vs {args.eval_images} generated (floor: as many "
          f"training faces), SWD x1e3 at the end of each run; train min excludes evaluation, "
          f"CPU min is the process's CPU time over the same steps")
    print(table(results, args.resolution))
    if args.json:
        fileio.write_json(args.json, {"recipes": results, "options": vars(args)})


if __name__ == "__main__":
    try:
        main()
    except TrainingInterrupted as stopped:  # Ctrl-C/SIGTERM: saved; the same command resumes
        raise SystemExit(f"bench/ablation.py: stopped by {stopped.signal}; the checkpoint is "
                         f"saved and the same command resumes the run") from None
