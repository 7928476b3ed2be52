"""The latent explorer and edits: redraw time per slider move, and how big edits are.

Prints two tables from one run.

**Redraw** (:class:`progan_tf.Explorer`): a slider move is the edit, one generator call in the
explorer's ``tf.function`` (traced once), the labelled enlarged picture and its PNG -- what the
widget gets. The table gives the median and 90th percentile of ``--moves`` moves (three sliders
in turn, angles spread over -45..45 degrees), the first draw (building the explorer, which
traces the generator call; loading the model is not counted) and how many times the call was
traced (1 however many moves). Rows: ``--model``, and an untrained exported ProGAN at 64x64
with the bundled model's widths (fmap_base 8192, fmap_max 64: 64 feature maps everywhere) --
untrained is fine for timing, and it shows what a slider move will cost once the bundled model
is 64x64.

**Effects** (:func:`progan_tf.visible_angle`, :func:`progan_tf.effect_size`) on ``--model``:
notebook 04's dark-hair direction (its automatic labels: the darker-topped half of 48 faces of
``sample_latents(48, D, seed=10)``) and 3 random directions (``random_directions(3, D,
seed=0)``). For each, the calibrated visible angle (the smallest turn whose strip ends differ by
:data:`progan_tf.edits.VISIBLE_EFFECT` on 8 faces, ``sample_latents(8, D, seed=0)``), then the
effect at that angle and at the explorer's +-45 degrees (:data:`progan_tf.explorer.MAX_ANGLE`)
on 16 other faces (``seed=1234``): how much the two ends differ, and how far the end furthest
from the unedited face is from it, in 255ths per pixel. For scale, a line gives how much two
random faces differ (100 pairs of ``seed=5``).

    .venv/bin/python bench/explorer.py                          # bench/README.md's tables
    .venv/bin/python bench/explorer.py --model exports/my-model --json explorer.json
    .venv/bin/python bench/explorer.py --quick --model EXPORT   # smoke test (seconds)

``--quick`` makes a few moves, uses fewer faces and one random direction, and times an untrained
8x8 ProGAN (fmap_max 8, 16-d latents) instead of the 64x64 one; tests/test_bench_explorer.py
runs it on a tiny exported model.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import numpy as np

import progan_tf as pt
from progan_tf import fileio
from progan_tf.edits import VISIBLE_EFFECT
from progan_tf.errors import ProganError
from progan_tf.explorer import MAX_ANGLE


@dataclass(frozen=True)
class Sizes:
    """How much one run measures."""

    moves: int  # slider moves timed per model
    labelled: int  # faces labelled for the hair direction (notebook 04: 48)
    calibration: int  # faces visible_angle calibrates on (its default: 8)
    unseen: int  # other faces the effects are measured on
    pairs: int  # pairs of random faces for the reference difference
    random: int  # random directions


@dataclass(frozen=True)
class Untrained:
    """The untrained exported ProGAN of the redraw table's second row."""

    resolution: int
    fmap_max: int
    latent_dim: int
    fmap_base: int = 8192


FULL = Sizes(moves=50, labelled=48, calibration=8, unseen=16, pairs=100, random=3)
QUICK = Sizes(moves=5, labelled=12, calibration=3, unseen=4, pairs=8, random=1)
FULL_UNTRAINED = Untrained(resolution=64, fmap_max=64, latent_dim=512)
QUICK_UNTRAINED = Untrained(resolution=8, fmap_max=8, latent_dim=16)
LABEL_SEED, CALIBRATION_SEED, UNSEEN_SEED, PAIRS_SEED, DIRECTION_SEED = 10, 0, 1234, 5, 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks every count (``--moves`` if not given)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="bundled",
                        help="load_generator handle: 'bundled' (default), a model folder, a URL")
    parser.add_argument("--moves", type=int, default=None,
                        help=f"slider moves timed per model (default {FULL.moves}, quick "
                             f"{QUICK.moves})")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="a few moves, fewer faces, an untrained 8x8 model for the second "
                             "redraw row (smoke test; pass a tiny --model)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    if args.moves is not None and args.moves < 1:
        parser.error(f"--moves must be at least 1, got {args.moves}; try --moves {FULL.moves}")
    args.sizes = Sizes(**{**asdict(base), "moves": args.moves or base.moves})
    args.untrained = QUICK_UNTRAINED if args.quick else FULL_UNTRAINED
    if args.json is not None and args.json.is_dir():
        parser.error(f"--json {str(args.json)!r} is a folder; pass a file name such as "
                     f"explorer.json")
    return args


# --------------------------------------------------------------------------------------------
# Redraw
# --------------------------------------------------------------------------------------------


def redraw(generator, label: str, moves: int) -> dict:
    """Times ``moves`` slider moves of a fresh :class:`~progan_tf.Explorer` on ``generator``."""
    started = time.perf_counter()
    explorer = pt.Explorer(generator, seed=0)
    first = time.perf_counter() - started
    sliders = len(explorer.names)
    times = []
    for move in range(moves):
        started = time.perf_counter()
        explorer.set_slider(move % sliders, float((move * 7) % 91 - 45))
        explorer.png()
        times.append(time.perf_counter() - started)
    height, width, _ = generator.image_shape
    return {"model": label, "resolution": f"{height}x{width}", "moves": moves,
            "median_ms": 1000 * float(np.median(times)),
            "p90_ms": 1000 * float(np.percentile(times, 90)), "first_draw_s": first,
            "traces": explorer.tracing_count}


def redraw_untrained(spec: Untrained, moves: int) -> dict:
    """:func:`redraw` on a freshly built, untrained, exported ProGAN (its folder is deleted)."""
    import keras

    from progan_tf.gan import export
    from progan_tf.gan.networks import ProgressiveGenerator

    keras.utils.set_random_seed(0)
    network = ProgressiveGenerator(latent_dim=spec.latent_dim, resolution=spec.resolution,
                                   fmap_base=spec.fmap_base, fmap_max=spec.fmap_max)
    network.set_stage(spec.resolution)
    label = f"untrained ProGAN, fmap_max {spec.fmap_max}"
    with tempfile.TemporaryDirectory() as folder:
        generator = pt.load_generator(export.export_generator(network, Path(folder) / "g"))
        return redraw(generator, label, moves)


def redraw_table(rows: list[dict]) -> str:
    head = ["model", "resolution", "moves", "median ms", "p90 ms", "first draw (s, with tracing)",
            "traces"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        cells = [row["model"], row["resolution"], str(row["moves"]), f"{row['median_ms']:.1f}",
                 f"{row['p90_ms']:.1f}", f"{row['first_draw_s']:.2f}", str(row["traces"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------------------------


def hair_direction(generator, count: int) -> np.ndarray:
    """Notebook 04's direction: the darker-topped half of ``count`` faces against the rest."""
    size = generator.image_shape[0]
    latents = pt.sample_latents(count, generator.latent_dim, seed=LABEL_SEED)
    faces = generator(latents).numpy()
    darkness = 1 - faces[:, : size // 5, size // 4: 3 * size // 4].mean(axis=(1, 2, 3))
    return pt.direction_from_labels(latents, np.argsort(np.argsort(darkness)) >= count // 2)


def random_faces_differ(generator, pairs: int) -> float:
    """Mean absolute difference of ``pairs`` pairs of random faces, in 255ths per pixel."""
    faces = generator(pt.sample_latents(2 * pairs, generator.latent_dim,
                                        seed=PAIRS_SEED)).numpy()
    return float(np.abs(faces[:pairs] - faces[pairs:]).mean() * 255)


def effects(generator, sizes: Sizes) -> list[dict]:
    """Each direction's visible angle and its effects there and at the explorer's range."""
    dim = generator.latent_dim
    found = {"hair (notebook 04)": hair_direction(generator, sizes.labelled)}
    found.update((f"random {i + 1}", direction) for i, direction in
                 enumerate(pt.random_directions(sizes.random, dim, seed=DIRECTION_SEED)))
    calibration = pt.sample_latents(sizes.calibration, dim, seed=CALIBRATION_SEED)
    unseen = pt.sample_latents(sizes.unseen, dim, seed=UNSEEN_SEED)
    rows = []
    for name, direction in found.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            angle = pt.visible_angle(generator, direction, calibration)
        there, wide = (pt.effect_size(generator, unseen, direction, a)
                       for a in (angle, MAX_ANGLE))
        rows.append({"direction": name, "visible_angle": angle, "reached": not caught,
                     "ends": there.ends, "from_middle": there.from_middle,
                     "ends_max_angle": wide.ends, "from_middle_max_angle": wide.from_middle})
    return rows


def effects_table(rows: list[dict], unseen: int) -> str:
    head = ["direction", "visible angle (°)", f"ends /255 at that angle on {unseen} unseen faces",
            "furthest end from middle /255", f"ends at ±{MAX_ANGLE:g}° /255",
            f"furthest at ±{MAX_ANGLE:g}° /255"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        cells = [row["direction"], f"{row['visible_angle']:.1f}", f"{row['ends']:.0f}",
                 f"{row['from_middle']:.0f}", f"{row['ends_max_angle']:.0f}",
                 f"{row['from_middle_max_angle']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def describe_setup(generator, args: argparse.Namespace) -> str:
    """The lines above the tables: the model, the machine and its load."""
    import tensorflow as tf

    height, width, _ = generator.image_shape
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join([
        f"model: {args.model!r}; latent {generator.latent_dim} -> {height}x{width} RGB"
        + ("; QUICK mode" if args.quick else ""),
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, TensorFlow {tf.__version__},"
        f" load average at the start {load} (1 / 5 / 15 min)",
    ])


def run_benchmark(args: argparse.Namespace) -> tuple[str, dict]:
    """Measures both tables; returns the report and the JSON document."""
    sizes, spec = args.sizes, args.untrained
    generator = pt.load_generator(args.model)
    setup = describe_setup(generator, args)
    redraws = [redraw(generator, args.model, sizes.moves), redraw_untrained(spec, sizes.moves)]
    reference = random_faces_differ(generator, sizes.pairs)
    rows = effects(generator, sizes)
    parts = [setup,
             f"Redraw per slider move (set_slider + png, {sizes.moves} moves over -{MAX_ANGLE:g}.."
             f"{MAX_ANGLE:g}°; the untrained row: fmap_base {spec.fmap_base}, fmap_max "
             f"{spec.fmap_max}, latent {spec.latent_dim}):",
             redraw_table(redraws),
             f"Effects on {args.model!r} (visible angle: the smallest turn whose ends differ by "
             f"{VISIBLE_EFFECT:g}/255 on {sizes.calibration} faces; hair: notebook 04's automatic "
             f"labels on {sizes.labelled} faces):",
             effects_table(rows, sizes.unseen),
             f"two random faces differ by {reference:.0f}/255 ({sizes.pairs} pairs)"]
    missed = [row["direction"] for row in rows if not row["reached"]]
    if missed:
        parts[-1] += (f"\nnot visible even at 90° (angle capped): {', '.join(missed)}")
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    parts.append(f"load average at the end {load}")
    report = "\n\n".join(parts)
    document = {"model": args.model, "latent_dim": int(generator.latent_dim),
                "image_shape": [int(n) for n in generator.image_shape], "quick": args.quick,
                "sizes": asdict(sizes), "untrained": asdict(spec), "redraw": redraws,
                "effects": rows, "random_faces_differ": reference,
                "visible_effect": VISIBLE_EFFECT, "max_angle": MAX_ANGLE, "report": report}
    return report, document


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark, prints the report and writes ``--json`` if asked.

    Raises:
        SystemExit: With a one-line message if ``--model`` cannot be loaded.
    """
    args = parse_args(argv)
    try:
        report, document = run_benchmark(args)
    except ProganError as error:  # a bad --model: say what is wrong, no traceback
        raise SystemExit(f"bench/explorer.py: error: {error}") from None
    print(report)
    if args.json is not None:
        fileio.write_json(args.json, document)


if __name__ == "__main__":
    main(sys.argv[1:])
