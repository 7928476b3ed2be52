"""SRGAN on held-out faces: PSNR, SSIM and SWD of bicubic, SRResNet and SRGAN, one table.

Two runs train on all but the last ``--holdout`` images of ``--data`` (sorted by name), CelebA
crop, ``--resolution`` high-res (the generator sees it shrunk 4x by the area filter), the same
seed and the same number of images, one after the other in this process:

* **SRResNet** -- the content loss alone (``content_only``) for ``--pretrain-kimg + --kimg``;
* **SRGAN** -- the same content loss for ``--pretrain-kimg`` (the paper starts the GAN from
  SRResNet), then content + 1e-3 x adversarial for ``--kimg``.

Each run is exported (``<out>/<name>/export``) and loaded with
:func:`progan_tf.upscalers.load_upscaler`, as users load it; a finished run is read back, not
trained again, and an interrupted one (checkpoints every 5 minutes) resumes where it stopped
(``--srresnet``/``--srgan`` take export folders instead, e.g. the shipped weights). On the
held-out faces, shrunk 4x, the table gives for bicubic, SRResNet and SRGAN: PSNR (dB) and SSIM
against the originals (higher is closer; MSE-trained SRResNet is expected to win these, as in
the paper) and SWD x1e3 against the originals, per-level average (lower is more like real
faces: where SRGAN should win), with the real-vs-real floor (held-out faces against as many
training faces), plus each run's training images/s. ``--figure`` writes the course's picture:
low-res | bicubic | SRResNet | SRGAN | original for the first held-out faces.

    .venv/bin/python bench/srgan.py --json docs/bench-srgan.json --figure docs/srgan-figure.png
    .venv/bin/python bench/srgan.py --quick --data DIR --out DIR        # smoke test, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # after TF_CPP_MIN_LOG_LEVEL, so TensorFlow starts quietly

from progan_tf import fileio, srgan
from progan_tf.display import enlarge, labelled_panels
from progan_tf.errors import ProganError
from progan_tf.images import area_resize, save_image
from progan_tf.metrics.swd import sliced_wasserstein_distance
from progan_tf.training import checkpoint
from progan_tf.training.data import load_image_folder
from progan_tf.upscalers import bicubic, load_upscaler

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
METHODS = ("bicubic", "srresnet", "srgan")
LABELS = {"bicubic": "bicubic", "srresnet": "SRResNet (content only)", "srgan": "SRGAN",
          "floor": "real vs real (floor)"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of face images")
    parser.add_argument("--out", default="bench-runs/srgan", help="folder of the two runs")
    parser.add_argument("--resolution", type=int, default=64, help="high-res side (4x the input)")
    parser.add_argument("--holdout", type=int, default=500)
    parser.add_argument("--pretrain-kimg", type=float, default=20.0)
    parser.add_argument("--kimg", type=float, default=20.0)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--srresnet", default=None, help="an SRResNet export (skip training)")
    parser.add_argument("--srgan", default=None, help="an SRGAN export (skip training)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default=None, help="PNG of the course's comparison")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 16x16, tiny networks, a few steps")
    args = parser.parse_args(argv)
    # The run's command line, which its export's metadata repeats as "training_command".
    args.command = shlex.join(["python", "bench/srgan.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.quick:
        args.resolution, args.width, args.blocks, args.batch_size = 16, 4, 1, 8
        args.pretrain_kimg = args.kimg = 0.016
    return args


def trained_export(args, name: str) -> tuple[Path, float | None]:
    """Train (resume, or read back) one run and export it; returns the export and its images/s.

    The run checkpoints every 5 minutes, so a bench stopped by SIGTERM or a session's end
    continues where it stopped when run again; the speed is the run's own training clock
    (images shown / training seconds, start-up and pauses not counted).
    """
    run_dir = Path(args.out) / name
    export_dir, speed_file = run_dir / "export", run_dir / "speed.json"
    if export_dir.is_dir() and speed_file.is_file():
        return export_dir, json.loads(speed_file.read_text())["images_per_second"]
    resume = run_dir.exists()
    if resume and checkpoint.latest(run_dir / "checkpoints") is None:
        sys.exit(f"srgan.py: {str(run_dir)!r} holds an unfinished run with no checkpoint; "
                 f"remove it or pass another --out")
    config = srgan.SRGANConfig(
        data_dir=args.data, out_dir=str(run_dir), resolution=args.resolution, crop="celeba",
        width=args.width, blocks=args.blocks, batch_size=args.batch_size, holdout=args.holdout,
        pretrain_kimg=args.pretrain_kimg, kimg=args.kimg, content_only=name == "srresnet",
        seed=args.seed, checkpoint_minutes=5.0, command=args.command)
    srgan.train(config, resume=resume, progress=not args.quick)
    state = checkpoint.read_state(checkpoint.latest(run_dir / "checkpoints"))
    seconds = max(state.get("train_seconds", 0.0), 1e-9)
    speed = state["images_shown"] / seconds
    srgan.export_run(run_dir, export_dir)
    fileio.write_json(speed_file, {"images_per_second": speed, "seconds": seconds})
    return export_dir, speed


def evaluate(args) -> tuple[dict, dict]:
    """The table's numbers, and the pictures of the first held-out faces per method."""
    import tensorflow as tf

    folder = load_image_folder(args.data, args.resolution, crop="celeba")
    if args.holdout * 2 > len(folder):
        sys.exit(f"srgan.py: --holdout {args.holdout} needs at least {2 * args.holdout} images "
                 f"in {args.data!r} (found {len(folder)})")
    real = folder.images[-args.holdout:].astype(np.float32) / 255.0
    low_side = args.resolution // 4
    low = area_resize(real, (low_side, low_side))
    exports = {"srresnet": args.srresnet, "srgan": args.srgan}
    speeds = {}
    for name in ("srresnet", "srgan"):
        if exports[name] is None:
            exports[name], speeds[name] = trained_export(args, name)
    results, pictures = {}, {}
    for method in METHODS:
        if method == "bicubic":
            output = bicubic(low, 4)
        else:
            output = load_upscaler(exports[method])(low)
        pictures[method] = output[:4]
        psnr = tf.image.psnr(real, output, max_val=1.0).numpy()
        ssim = tf.image.ssim(real, output, max_val=1.0,
                             filter_size=min(11, args.resolution)).numpy()
        swd = sliced_wasserstein_distance(real, output, seed=args.seed)
        results[method] = {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim)),
                           "swd": swd["average"], "images_per_second": speeds.get(method)}
    train_faces = folder.images[:args.holdout].astype(np.float32) / 255.0
    results["floor"] = {"swd": sliced_wasserstein_distance(real, train_faces,
                                                           seed=args.seed)["average"]}
    pictures["lowres"], pictures["original"] = low[:4], real[:4]
    return results, pictures


def table(results: dict, args) -> str:
    lines = [f"Held-out faces: {args.holdout}, {args.resolution // 4}x{args.resolution // 4} -> "
             f"{args.resolution}x{args.resolution}", "",
             "| method | PSNR (dB) | SSIM | SWD x1e3 | train img/s |",
             "|---|---:|---:|---:|---:|"]
    for method in (*METHODS, "floor"):
        row = results[method]
        speed = row.get("images_per_second")
        cells = [f"{row['psnr']:.2f}" if "psnr" in row else "-",
                 f"{row['ssim']:.4f}" if "ssim" in row else "-", f"{row['swd']:.2f}",
                 f"{speed:.1f}" if speed else "-"]
        lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(pictures: dict, path: str) -> Path:
    """low-res | bicubic | SRResNet | SRGAN | original, a column of faces under each label."""
    def column(images):
        return np.concatenate(list(images), axis=0)

    columns = [enlarge(column(pictures["lowres"]), 4)] + \
        [column(pictures[name]) for name in ("bicubic", "srresnet", "srgan", "original")]
    labels = ["low-res", "bicubic", "SRResNet", "SRGAN", "original"]
    zoom = max(1, -(-128 // columns[0].shape[1]))
    return save_image(labelled_panels(columns, labels, zoom=zoom), path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        results, pictures = evaluate(args)
    except ProganError as error:  # a bad folder, or SIGTERM/Ctrl-C after the checkpoint
        sys.exit(f"srgan.py: {error}; run the same command again to continue")
    print(table(results, args))
    if args.figure:
        print(f"wrote {figure(pictures, args.figure)}")
    if args.json:
        fileio.write_json(args.json, {"arguments": vars(args), "results": results})
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
