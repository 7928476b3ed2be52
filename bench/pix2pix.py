"""Why not just a U-Net?  Pix2Pix against the same U-Net trained with L1 alone, at equal steps.

Both runs train on the sketches of all but the last ``--holdout`` faces of ``--data`` (sorted by
name; the course's sketch: inverted Canny edges of the bilateral-filtered grey face plus colour
dots), with the CelebA crop, at ``--resolution``, from the same seed, for the same ``--kimg``
(so the same number of steps, batch ``--batch``), one after the other in this process:

* **pix2pix** (:mod:`progan_tf.pix2pix`): U-Net + PatchGAN, least squares + 100 x L1;
* **U-Net, L1 only**: the same U-Net, the same data and steps, no discriminator.

Then each generator (inference mode: dropout off, as exported) translates the held-out sketches,
and the table compares its faces with the real held-out faces: L1 (mean absolute difference in
[0, 1]; lower is better), PSNR and SSIM (per face, averaged; higher is better) -- the pixel
metrics L1 training optimises directly -- and SWD x1e3 per pyramid level against the real faces
(lower is better), with the real-vs-real floor (the held-out faces against as many training
faces), which judges whether the faces *look* like faces rather than whether each pixel
matches.  The picture (``--json``'s stem + ``-faces.png``; without ``--json``, in ``--out``)
shows sketch | U-Net L1 | pix2pix | real for a few held-out faces.

Run folders stay in ``--out``; a finished run is reused, not trained again.

    .venv/bin/python bench/pix2pix.py --json docs/bench-pix2pix.json   # bench/README.md's table
    .venv/bin/python bench/pix2pix.py --quick --data DIR --out DIR     # smoke test
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import numpy as np

from progan_tf import fileio
from progan_tf.errors import ProganError
from progan_tf.metrics.similarity import psnr, ssim
from progan_tf.metrics.swd import sliced_wasserstein_distance
from progan_tf.pix2pix import Pix2PixConfig, build_model, load_pairs, train
from progan_tf.training import checkpoint

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
RUNS = {"unet-l1": "U-Net, L1 only", "pix2pix": "pix2pix"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of face photos")
    parser.add_argument("--out", default="bench-runs/pix2pix", help="run folders")
    parser.add_argument("--resolution", type=int, default=64, choices=(16, 32, 64, 128))
    parser.add_argument("--holdout", type=int, default=1000)
    parser.add_argument("--kimg", type=float, default=60.0,
                        help="thousands of pairs each run trains on (equal steps)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--max-width", type=int, default=128)
    parser.add_argument("--crop", default="celeba")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results (and the picture "
                                                     "beside it)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 16x16, tiny networks, 0.064 kimg")
    args = parser.parse_args(argv)
    # The run's command line, which its export's metadata repeats as "training_command".
    args.command = shlex.join(["python", "bench/pix2pix.py",
                               *(sys.argv[1:] if argv is None else argv)])
    if args.quick:
        args.resolution, args.kimg, args.batch, args.width, args.max_width = 16, 0.064, 8, 4, 8
    return args


def config(args, name):
    return Pix2PixConfig(
        data_dir=args.data, out_dir=str(Path(args.out) / name), resolution=args.resolution,
        pairs="sketch", width=args.width, max_width=args.max_width,
        d_layers=2 if args.resolution < 32 else 3, kimg=args.kimg, batch_size=args.batch,
        crop=args.crop, holdout=args.holdout, seed=args.seed, l1_only=name == "unet-l1",
        grid_every_kimg=max(args.kimg / 4, 0.001), command=args.command)


def trained(args, name):
    """The model of run ``name`` at its end, trained now unless its folder holds it."""
    run_config = config(args, name)
    run_dir = Path(run_config.out_dir)
    latest = checkpoint.latest(run_dir / "checkpoints") if run_dir.exists() else None
    total = run_config.schedule().total_images
    if latest is None or checkpoint.read_state(latest)["images_shown"] < total:
        if run_dir.exists() and latest is None:
            sys.exit(f"{run_dir} holds an unfinished run with no checkpoint; delete it or "
                     f"choose another --out")
        train(run_config, resume=run_dir.exists(), progress=not args.quick)
        latest = checkpoint.latest(run_dir / "checkpoints")
    model = build_model(run_config, precision="float32")
    model.start_phase(run_config.schedule().phases[0])
    checkpoint.restore(model, latest)
    state = checkpoint.read_state(latest)
    return model, {"kimg": state["images_shown"] / 1000,
                   "train_minutes": state.get("train_seconds", 0) / 60,
                   "images_per_second": state["images_shown"] / max(state.get("train_seconds",
                                                                              1e-9), 1e-9)}


def translate(model, inputs, batch=64):
    """Outputs in [0, 1] of uint8 inputs, in inference mode."""
    chunks = []
    for start in range(0, len(inputs), batch):
        x = inputs[start:start + batch].astype("float32") / 127.5 - 1
        chunks.append((np.asarray(model.generator(x, training=False)) + 1) / 2)
    return np.clip(np.concatenate(chunks), 0, 1)


def scores(outputs, real, seed):
    real = real.astype("float32") / 255
    swd = sliced_wasserstein_distance(real, outputs, seed=seed)
    return {"l1": float(np.mean(np.abs(outputs - real))),
            "psnr": float(np.mean([psnr(a, b) for a, b in zip(outputs, real)])),
            "ssim": float(np.mean([ssim(a, b) for a, b in zip(outputs, real)])),
            "swd": {str(level): value for level, value in swd["levels"].items()},
            "swd_average": swd["average"]}


def table(results, floor):
    levels = list(floor["levels"])
    header = ["model", "kimg", "img/s", "L1", "PSNR dB", "SSIM",
              *[f"SWD {level}px (x floor)" for level in levels]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, result in results.items():
        cells = [RUNS[name], f"{result['kimg']:.1f}", f"{result['images_per_second']:.1f}",
                 f"{result['l1']:.4f}", f"{result['psnr']:.2f}", f"{result['ssim']:.3f}",
                 *[f"{result['swd'][str(level)]:.2f} ({result['swd'][str(level)] / value:.1f}x)"
                   for level, value in floor["levels"].items()]]
        lines.append("| " + " | ".join(cells) + " |")
    floor_cells = ["real vs real (floor)", "", "", "", "", "",
                   *[f"{value:.2f}" for value in floor["levels"].values()]]
    lines.append("| " + " | ".join(floor_cells) + " |")
    return "\n".join(lines)


def picture(held_out, outputs, path, count=6):
    import progan_tf as pt
    from progan_tf.display import labelled_panels, zoom_factor

    rows = [held_out.inputs[:count], outputs["unet-l1"][:count], outputs["pix2pix"][:count],
            held_out.targets[:count]]
    panels = [pt.make_grid(np.asarray(row, "float32") / (255 if row.dtype == np.uint8 else 1),
                           ncols=1) for row in rows]
    zoom = zoom_factor(held_out.inputs.shape[1])
    pt.save_image(labelled_panels(panels, ["sketch", "U-Net, L1 only", "pix2pix", "real"],
                                  zoom=zoom), path)
    return path


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        every = load_pairs(config(args, "pix2pix"))
        held_out, training_targets = every.tail(args.holdout), every.targets[:args.holdout]
        results, outputs = {}, {}
        for name in RUNS:
            model, info = trained(args, name)
            outputs[name] = translate(model, held_out.inputs)
            results[name] = {**info, **scores(outputs[name], held_out.targets, args.seed)}
    except ProganError as error:
        sys.exit(f"bench/pix2pix.py: {error}")
    floor = sliced_wasserstein_distance(held_out.targets, training_targets, seed=args.seed)
    print(f"{len(held_out)} held-out faces at {args.resolution}x{args.resolution}, "
          f"{args.kimg:g} kimg each (batch {args.batch}); L1/PSNR/SSIM per face against the real "
          f"face, SWD x1e3 against the real faces")
    print(table(results, floor))
    stem = Path(args.json).with_suffix("") if args.json else Path(args.out) / "pix2pix"
    faces = picture(held_out, outputs, Path(f"{stem}-faces.png"))
    print(f"wrote {faces} ({time.perf_counter() - started:.0f} s in all)")
    if args.json:
        fileio.write_json(args.json, {
            "options": {key: value for key, value in vars(args).items()},
            "results": results, "floor": {str(k): v for k, v in floor["levels"].items()},
            "pictures": {"faces": faces.name}}, indent=2)
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
