"""Why progressive?  A DCGAN and a ProGAN trained on the same faces for the same wall time.

Both runs train on all but the last ``--holdout`` images of ``--data`` (sorted by name), with
the CelebA crop, at ``--resolution``, from the same seed, each for ``--minutes`` of training
time (the steps only: start-up, tracing between phases is counted -- it is part of training --
evaluation and pictures are not), one after the other in this process:

* **DCGAN** (Radford et al. 2016; :mod:`progan_tf.dcgan`): the paper's recipe (binary
  cross-entropy, Adam 2e-4 / 0.5, batch ``--dcgan-batch``), width ``--dcgan-width``, latent 100,
  at the final resolution from the first step;
* **ProGAN** (:mod:`progan_tf.gan`): the bundled model's recipe (WGAN-GP, 64 feature maps,
  latent 512, batches 64/32/16/16/16 from 4x4 to 64x64), growing from 4x4 with
  ``--progan-kimg-per-phase`` per fade-in and stable phase, then the final resolution until the
  time is up.

When its time is up each generator (ProGAN's EMA generator, DCGAN's generator with its
batch-norm averages: what each exports) draws as many images as there are held-out faces; a run
still growing is measured at the resolution it reached, upscaled.  The table gives the sliced
Wasserstein distance per pyramid level against the held-out faces beside the real-vs-real floor
(the held-out faces against as many training faces: the same sample sizes, the same seed),
training images per second, kimg and the phase at the end.  Along the way
:class:`~progan_tf.training.quality.QualityLog` measures each run every few kimg at the final
resolution (``quality.csv``), which gives the SWD-over-time curve.

Pictures (``--json``'s stem + ``-samples.png``, ``-losses.png``, ``-swd.png``; without
``--json``, in ``--out``): both sample grids side by side, labelled; both loss curves; SWD at the
final resolution over training minutes with the floor.  Run folders stay in ``--out``; a
finished run is read back (``race.json`` in its folder), so the table can be re-printed.

    .venv/bin/python bench/dcgan_vs_progan.py --json docs/bench-dcgan-vs-progan.json
        # bench/README.md's table: 25 min of training each, about an hour in all on 2 cores
    .venv/bin/python bench/dcgan_vs_progan.py --quick --data DIR --out DIR   # smoke test
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import numpy as np

from progan_tf import dcgan, fileio
from progan_tf.dcgan.compare import floor, race
from progan_tf.errors import TrainingInterrupted
from progan_tf.gan import train as progan
from progan_tf.training.callbacks import read_losses
from progan_tf.training.data import load_image_folder
from progan_tf.training.quality import QualityLog, read_quality
from progan_tf.training.runs import read_json

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
ARCHS = ("dcgan", "progan")
LABELS = {"dcgan": "DCGAN", "progan": "ProGAN"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of face images")
    parser.add_argument("--out", default="bench-runs/dcgan-vs-progan",
                        help="folder of the two run folders")
    parser.add_argument("--resolution", type=int, default=32, choices=(16, 32, 64))
    parser.add_argument("--holdout", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=25.0,
                        help="training wall time of each run (evaluation not counted)")
    parser.add_argument("--eval-images", type=int, default=1000,
                        help="images per set for SWD (held-out, generated and floor)")
    parser.add_argument("--dcgan-width", type=int, default=32)
    parser.add_argument("--dcgan-batch", type=int, default=64)
    parser.add_argument("--dcgan-eval-every-kimg", type=float, default=10.0)
    parser.add_argument("--progan-kimg-per-phase", type=float, default=5.0)
    parser.add_argument("--progan-eval-every-kimg", type=float, default=2.0)
    parser.add_argument("--precision", default="float32",
                        help="float32 (default: bfloat16 is emulated, and slower, on CPUs "
                             "without AVX512_BF16/AMX)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results (and pictures "
                                                     "beside them) here")
    parser.add_argument("--quick", action="store_true",
                        help="tiny networks for seconds on the given --data (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.resolution, args.minutes, args.eval_images = 16, 0.1, 16
        args.dcgan_width, args.dcgan_batch, args.dcgan_eval_every_kimg = 4, 8, 0.032
        args.progan_kimg_per_phase, args.progan_eval_every_kimg = 0.032, 0.032
        args.precision = "float32"
    if args.minutes <= 0 or args.holdout < 2:
        parser.error("--minutes must be above 0 and --holdout at least 2")
    return args


def configs(args):
    """The two runs' options: the same faces, crop, resolution, seed and precision."""
    common = dict(data_dir=args.data, resolution=args.resolution, crop="celeba",
                  holdout=args.holdout, precision=args.precision, seed=args.seed,
                  checkpoint_minutes=60.0)
    long = 100_000.0  # kimg: the time budget ends both runs
    return {
        "dcgan": dcgan.DCGANConfig(
            out_dir=str(Path(args.out) / "dcgan"), latent_dim=8 if args.quick else 100,
            width=args.dcgan_width, batch_size=args.dcgan_batch, kimg=long,
            grid_every_kimg=args.dcgan_eval_every_kimg, command="bench/dcgan_vs_progan.py",
            **common),
        "progan": progan.TrainConfig(
            out_dir=str(Path(args.out) / "progan"), latent_dim=16 if args.quick else 512,
            fmap_max=8 if args.quick else 64, kimg_per_phase=args.progan_kimg_per_phase,
            final_kimg=long, batch_sizes=({4: 8, 8: 8, 16: 8} if args.quick
                                          else {4: 64, 8: 32, 16: 16, 32: 16, 64: 16}),
            command="bench/dcgan_vs_progan.py", **common),
    }


def held_out_and_floor(args):
    """The held-out faces, as many training faces for the floor, and the floor itself."""
    folder = load_image_folder(args.data, args.resolution, crop="celeba")
    if len(folder) < 2 * args.holdout:
        raise SystemExit(f"bench/dcgan_vs_progan.py: {args.data} has {len(folder)} usable "
                         f"images; --holdout {args.holdout} needs at least {2 * args.holdout}")
    held_out = folder.images[len(folder) - args.holdout:][:args.eval_images]
    training = folder.images[:len(folder) - args.holdout]
    pick = np.random.default_rng(args.seed).choice(len(training), len(held_out), replace=False)
    floor_images = training[np.sort(pick)]
    return held_out, floor_images, floor(held_out, floor_images, seed=args.seed)


def run(args, arch, config, held_out, floor_images):
    """Train one run for the budget (a finished run folder is only read); its result."""
    out = Path(config.out_dir)
    done = out / "race.json"  # written when the budget is spent
    if out.exists():
        stored = read_json(done) or {}
        if stored.get("minutes") != args.minutes or "final" not in stored:
            raise SystemExit(f"bench/dcgan_vs_progan.py: {out} holds an unfinished run or one "
                             f"of another --minutes; delete it, or use another --out")
        stored["final"]["images"] = np.load(out / "race-images.npy")
        return stored
    every = args.dcgan_eval_every_kimg if arch == "dcgan" else args.progan_eval_every_kimg
    quality = QualityLog(out, held_out, floor_images, args.resolution, every_kimg=every,
                         num_images=len(held_out), seed=args.seed)
    print(f"training {LABELS[arch]} for {args.minutes:g} min", file=sys.stderr, flush=True)
    train_fn = dcgan.train if arch == "dcgan" else progan.train
    final = race(train_fn, config, args.minutes * 60, held_out, seed=args.seed,
                 extra_callbacks=[quality])
    fileio.write_bytes(out / "race-images.npy", _npy(final["images"]))
    result = {"minutes": args.minutes,
              "final": {key: value for key, value in final.items() if key != "images"},
              "curve": [{key: float(value) for key, value in row.items() if key != "phase"}
                        for row in read_quality(out)]}
    fileio.write_json(done, result)
    result["final"]["images"] = final["images"]
    return result


def _npy(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def table(results, floor_levels):
    levels = sorted(floor_levels, reverse=True)
    head = ["model", "kimg", "train min (CPU min)", "train img/s", "phase at the end"]
    head += [f"SWD {lv} px (floor, ratio)" for lv in levels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for arch, result in results.items():
        final = result["final"]
        swd = {int(level): value for level, value in final["swd"].items()}
        cells = [LABELS[arch], f"{final['kimg']:g}",
                 f"{final['train_minutes']:.1f} ({final['cpu_minutes']:.1f})",
                 f"{final['images_per_second']:.1f}", final["phase"]]
        cells += [f"{swd[lv]:.2f} ({floor_levels[lv]:.2f}, {swd[lv] / floor_levels[lv]:.2f}x)"
                  for lv in levels]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pictures(args, results, floor_levels, stem):
    """The sample grids, the loss curves and SWD over time, as three labelled PNGs."""
    from matplotlib.figure import Figure

    from progan_tf.images import make_grid

    written = {}
    fig = Figure(figsize=(10, 5.4))
    for ax, (arch, result) in zip(fig.subplots(1, 2), results.items()):
        final = result["final"]
        ax.imshow(make_grid(final["images"], ncols=4), interpolation="nearest")
        ax.set_title(f"{LABELS[arch]}: {final['kimg']:g} kimg in {final['train_minutes']:.0f} "
                     f"min ({final['phase']})", fontsize=10)
        ax.axis("off")
    written["samples"] = _save(fig, f"{stem}-samples.png")

    fig = Figure(figsize=(11, 3.8))
    for ax, arch in zip(fig.subplots(1, 2), results):
        losses = read_losses(Path(args.out) / arch)
        for column, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
            if column in losses:
                ax.plot(losses["kimg"], losses[column], lw=0.7, label=label)
        loss = "binary cross-entropy" if arch == "dcgan" else "WGAN-GP"
        ax.set_title(f"{LABELS[arch]} ({loss})", fontsize=10)
        ax.set_xlabel("images shown (kimg)")
        if losses:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no losses logged yet", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    written["losses"] = _save(fig, f"{stem}-losses.png")

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    top = max(floor_levels)
    for arch, result in results.items():
        curve = [row for row in result["curve"] if f"swd_{top}" in row]
        ax.plot([row["train_seconds"] / 60 for row in curve],
                [row[f"swd_{top}"] for row in curve], marker="o", ms=3, label=LABELS[arch])
    ax.axhline(floor_levels[top], color="grey", ls="--", lw=0.8,
               label="real vs real (floor)")
    ax.set_yscale("log")
    ax.set_xlabel("training minutes")
    ax.set_ylabel(f"SWD x1e3 at {top} px (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    written["swd"] = _save(fig, f"{stem}-swd.png")
    return written


def _save(fig, path):
    with fileio.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    return str(path)


def main(argv=None):
    args = parse_args(argv)
    held_out, floor_images, floor_levels = held_out_and_floor(args)
    results = {arch: run(args, arch, config, held_out, floor_images)
               for arch, config in configs(args).items()}
    print(f"{len(held_out)} held-out faces vs as many generated (floor: as many training faces), "
          f"{args.resolution}x{args.resolution}, {args.minutes:g} min of training each "
          f"(evaluation not counted; CPU min: the process's CPU time over the same steps); "
          f"SWD x1e3 when the time was up (a run still growing: upscaled)")
    print(table(results, floor_levels))
    stem = (str(Path(args.json).with_suffix("")) if args.json
            else str(Path(args.out) / "dcgan-vs-progan"))
    written = pictures(args, results, floor_levels, stem)
    print("pictures: " + ", ".join(written.values()))
    if args.json:
        fileio.write_json(args.json, {
            "results": {arch: {"final": {k: v for k, v in result["final"].items()
                                         if k != "images"}, "curve": result["curve"]}
                        for arch, result in results.items()},
            "floor": floor_levels, "pictures": {k: Path(v).name for k, v in written.items()},
            "options": vars(args)})


if __name__ == "__main__":
    try:
        main()
    except TrainingInterrupted as stopped:  # Ctrl-C/SIGTERM: a timed run cannot be continued
        raise SystemExit(f"bench/dcgan_vs_progan.py: stopped by {stopped.signal}; delete the "
                         f"unfinished run folder in --out and run the same command again") from None
