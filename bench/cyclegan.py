"""CycleGAN on held-out faces: does A->B look like B, and does the cycle come back?

Loads any CycleGAN export (``--model``: ``bundled-cyclegan`` by default, or a folder from
``progan-tf export``) with :func:`progan_tf.translators.load_translator`, as users load it,
and finds the held-out pictures of its run: the two domains as the run made them (``--data``
split the same way: ``DATA/A`` + ``DATA/B``, or ``--domains hair`` on one folder of aligned
faces; the domains, quantiles and holdout default to what the export's metadata records) and
the last ``--holdout`` pictures of each.  For each direction the table gives

* **SWD x1e3 of the translations against real pictures of the target domain** (per-level
  average; lower is more like the target), beside **the gap**: the SWD of the *untranslated*
  sources against the same targets.  "gap closed" is ``1 - translated / gap``: the share of the
  difference between the domains the translation removes (the issue asks for most of it);
* **cycle PSNR** (dB): A against F(G(A)) (and B against G(F(B))) -- how much of the picture
  survives the trip there and back (the cycle loss's aim);
* the **real-vs-real floor**: held-out pictures of the target against as many training ones.

``--figure`` writes A | A->B | A->B->A | B | B->A | B->A->B for the first held-out pictures.

    .venv/bin/python bench/cyclegan.py --model EXPORT --json docs/bench-cyclegan.json \\
        --figure docs/cyclegan-figure.png
    .venv/bin/python bench/cyclegan.py --model EXPORT --data DIR --domains folders --holdout 8
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # after TF_CPP_MIN_LOG_LEVEL, so TensorFlow starts quietly

from progan_tf import fileio
from progan_tf.constants import BUNDLED_CYCLEGAN, CYCLEGAN_DOMAINS
from progan_tf.cyclegan.config import CycleGANConfig
from progan_tf.cyclegan.family import domain_files
from progan_tf.display import labelled_panels
from progan_tf.errors import ProganError
from progan_tf.images import load_image, save_image
from progan_tf.metrics.swd import sliced_wasserstein_distance
from progan_tf.translators import load_translator

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
DEFAULT_HOLDOUT = 200


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=BUNDLED_CYCLEGAN,
                        help="a CycleGAN export folder, or bundled-cyclegan (default)")
    parser.add_argument("--data", default=None,
                        help="the run's data (default: the folder its export records, else "
                             "the CelebA sample)")
    parser.add_argument("--domains", choices=CYCLEGAN_DOMAINS, default=None,
                        help="how --data holds the domains (default: the run's)")
    parser.add_argument("--holdout", type=int, default=None,
                        help=f"held-out pictures per domain (default: the run's, else "
                             f"{DEFAULT_HOLDOUT})")
    parser.add_argument("--seed", type=int, default=0, help="SWD's patches and directions")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--figure", default=None, help="write the pictures here (PNG)")
    return parser.parse_args(argv)


def held_out(args, translator) -> tuple[dict, dict]:
    """``{"a": held-out A, "b": held-out B}`` and as many training pictures, float [0, 1]."""
    config = translator.metadata.get("config") or {}
    dataset = translator.metadata.get("dataset") or {}
    data = args.data or dataset.get("directory") or str(DEFAULT_DATA)
    domains = args.domains or config.get("domains") or "hair"
    holdout = args.holdout or config.get("holdout") or DEFAULT_HOLDOUT
    options = CycleGANConfig(
        data, "", domains=domains, holdout=holdout, resolution=translator.resolution,
        crop=translator.crop, unpaired_b=config.get("unpaired_b") if domains == "folders"
        and not args.data else None,
        dark_quantile=config.get("dark_quantile", 0.3),
        fair_quantile=config.get("fair_quantile", 0.8))
    files = dict(zip("ab", domain_files(options)))

    def decode(paths):
        return np.stack([load_image(path, size=translator.resolution, crop=translator.crop)
                         for path in paths]).astype(np.float32)

    args.data, args.domains, args.holdout = data, domains, holdout
    return ({key: decode(paths[-holdout:]) for key, paths in files.items()},
            {key: decode(paths[:holdout]) for key, paths in files.items()})


def psnr(first: np.ndarray, second: np.ndarray) -> float:
    """Mean PSNR (dB) over pictures in [0, 1]."""
    mse = np.mean((first.astype(np.float64) - second) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))


def evaluate(args) -> tuple[dict, dict]:
    """The table's numbers, and the pictures of the first held-out faces."""
    translator = load_translator(args.model)
    real, training = held_out(args, translator)
    there = {"a": translator.a_to_b, "b": translator.b_to_a}
    results, pictures = {}, {}
    for source, target in (("a", "b"), ("b", "a")):
        translated = there[source](real[source])
        cycled = there[target](translated)
        swd = sliced_wasserstein_distance(real[target], translated, seed=args.seed)["average"]
        gap = sliced_wasserstein_distance(real[target], real[source], seed=args.seed)["average"]
        floor = sliced_wasserstein_distance(real[target], training[target],
                                            seed=args.seed)["average"]
        results[f"{source}_to_{target}"] = {
            "swd": swd, "gap": gap, "gap_closed": 1.0 - swd / gap if gap else None,
            "floor": floor, "cycle_psnr": psnr(real[source], cycled)}
        pictures[source] = [real[source][:4], translated[:4], cycled[:4]]
    results["domains"] = translator.domains
    return results, pictures


def table(results: dict, args) -> str:
    names = results["domains"]
    lines = [f"Held-out pictures: {args.holdout} per domain of {args.data} ({args.domains}); "
             f"A = {names.get('a')}, B = {names.get('b')}", "",
             "| direction | SWD x1e3 vs real target | gap: source vs target | gap closed | "
             "floor: real vs real | cycle PSNR (dB) |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, label in (("a_to_b", "A -> B"), ("b_to_a", "B -> A")):
        row = results[key]
        closed = f"{row['gap_closed']:.0%}" if row["gap_closed"] is not None else "-"
        lines.append(f"| {label} | {row['swd']:.2f} | {row['gap']:.2f} | {closed} | "
                     f"{row['floor']:.2f} | {row['cycle_psnr']:.2f} |")
    return "\n".join(lines)


def figure(pictures: dict, path: str) -> Path:
    """A | A->B | A->B->A | B | B->A | B->A->B, a column of pictures under each label."""
    columns = [np.concatenate(list(images), axis=0)
               for key in ("a", "b") for images in pictures[key]]
    labels = ["A", "A->B", "A->B->A", "B", "B->A", "B->A->B"]
    zoom = max(1, -(-128 // columns[0].shape[1]))
    return save_image(labelled_panels(columns, labels, zoom=zoom), path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        results, pictures = evaluate(args)
    except ProganError as error:
        sys.exit(f"cyclegan.py: {error}")
    print(table(results, args))
    if args.figure:
        print(f"wrote {figure(pictures, args.figure)}")
    if args.json:
        fileio.write_json(args.json, {"arguments": vars(args), "results": results})
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
