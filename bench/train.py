"""Training throughput of the Keras progressive GAN on this machine, in the stable phase.

Prints two tables and a generation line.

1. **Widths**: steady-state training images/s in the *stable* phase of every resolution from
   4x4 to 64x64, fed by the real input pipeline (:func:`progan_tf.training.data.training_dataset`
   over images decoded from a folder, as ``progan-tf train`` feeds them), for three width
   configurations (``width(stage) = min(fmap_base / 2**(stage * fmap_decay), fmap_max)``):

   * ``shipped``: fmap_base 8192, fmap_decay 1.0, fmap_max 64 (64 feature maps everywhere; the
     bundled 32x32 model), the shipped batch sizes;
   * ``paper/4``: fmap_base 2048, fmap_decay 1.0, fmap_max 128 -- the paper's widths divided by
     four, 128 feature maps up to 32x32 (the 128-channel configuration ProGAN implementations
     were compared at) and 64 at 64x64, so the high-resolution stage stays cheap; batch 16;
   * ``paper``: the paper's fmap_base 8192, fmap_decay 1.0, fmap_max 512 (512 feature maps up
     to 32x32, 256 at 64x64), at batch 4 because a step costs many seconds on a CPU; up to
     32x32 only (a 64x64 step would take minutes).

   each in float32 and ``mixed_bfloat16`` (``--precisions``; ``--xla`` adds float32 + XLA),
   with the paper's WGAN-GP.  For ``shipped`` and ``paper/4`` every row is timed twice, side
   by side in alternating rounds: with reals and fakes scored in separate discriminator calls
   (the default) and in one call of twice the batch (``ProGAN(score_together=True)``), and
   the ratio is printed.
2. **Recipes** at 32x32 (``shipped`` widths, float32 by default): WGAN-GP and the
   non-saturating loss with lazy R1 (every 16 steps), each without augmentation and with
   DiffAugment (colour, translation, cutout) or ADA, timed side by side in alternating rounds.

FLOPs are counted from the layers at the row's own stage: 2 x the multiply-adds of every
convolution and dense layer in one forward pass of G and of D (:func:`stage_flops`).  A training
step is charged these forward-pass multiples (backward = 2 x forward; :data:`FORWARD_PASSES`):

* ``wgan-gp``: ``4 G + 15 D``.  The D step runs G forward (1 G), D forward and backward on the
  reals and the fakes (2 x 3 D) and the gradient penalty (D forward on the mix, the input
  gradient, and the weight gradient through it: about 6 D); the G step runs G and D forward and
  backward (3 G + 3 D).
* ``ns-r1``: ``4 G + (9 + 6 / 16) D``: the same without the gradient penalty, plus R1 (the same
  6 D as the penalty: forward, input gradient, and its backward) on one step in 16.
* augmentation (DiffAugment, ADA): no extra FLOPs are charged -- its operations are elementwise
  and gathers, no convolution or dense layer -- so its overhead shows as fewer images/s at the
  same count.  ADA computes every operation and selects per image, so its cost does not depend
  on its probability ``p``.

Scoring reals and fakes together does the same arithmetic, so it is charged the same.  It is an
estimate, stated as one.

Every step is timed on its own (a ``fit`` callback; the first step of each ``fit`` call, which
waits for the input pipeline to start, is left out), after a warm-up that traces the step.  A
row's rate is its batch over the median step time, robust to load spikes on a shared machine;
the recipes table uses the median over rounds of each round's mean step time, since one step in
16 of ``ns-r1`` also computes R1.  Rows too slow to fill ``--seconds`` are timed on fewer steps
(the ``steps`` column says how many).

    .venv/bin/python bench/train.py            # full tables (about 20 minutes on 2 cores)
    .venv/bin/python bench/train.py --quick    # a few steps per row on synthetic images
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import keras
import numpy as np
import tensorflow as tf

from progan_tf.constants import PRECISIONS
from progan_tf.gan.layers import EqualizedConv2D, EqualizedDense
from progan_tf.gan.schedule import Phase
from progan_tf.gan.train import TrainConfig, build_model
from progan_tf.training.data import load_image_folder, training_dataset

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "celeba-8k"
RESOLUTIONS = (4, 8, 16, 32, 64)
R1_INTERVAL = 16


@dataclasses.dataclass(frozen=True)
class Widths:
    """One width configuration of the table: its name, the paper's three knobs, its batches."""

    name: str
    fmap_base: int
    fmap_decay: float
    fmap_max: int
    batches: dict
    score_together: bool = True  # also time one-call scoring (skipped where a step is slow)


CONFIGS = (
    Widths("shipped", 8192, 1.0, 64, {4: 64, 8: 32, 16: 16, 32: 16, 64: 16}),
    Widths("paper/4", 2048, 1.0, 128, {4: 16, 8: 16, 16: 16, 32: 16, 64: 16}),
    # A 64x64 step of the paper's widths is ~1.9 TFLOP at batch 4 (minutes here): not timed.
    Widths("paper", 8192, 1.0, 512, {4: 4, 8: 4, 16: 4, 32: 4}, score_together=False),
)
RECIPES = (("wgan-gp", "none"), ("ns-r1", "none"), ("wgan-gp", "diffaugment"),
           ("wgan-gp", "ada"), ("ns-r1", "diffaugment"), ("ns-r1", "ada"))
FORWARD_PASSES = {"wgan-gp": (4, 15), "ns-r1": (4, 9 + 6 / R1_INTERVAL)}
"""Forward-pass multiples ``(G, D)`` charged per training step, by loss (see the docstring)."""


def widths(config: Widths, resolutions) -> str:
    """The feature maps of each resolution's stage, e.g. ``"64/64/64"``.

    Example:
    >>> widths(CONFIGS[2], (4, 8, 16, 32, 64))
    '512/512/512/512/256'
    """
    return "/".join(str(max(1, min(int(config.fmap_base / 2.0 ** ((int(math.log2(r)) - 1)
                                                                  * config.fmap_decay)),
                                   config.fmap_max))) for r in resolutions)


def matmul_gflops(size=2048, repeats=20, dtype=tf.float32):
    """Measured matmul GFLOP/s: the machine's practical peak for dense math in ``dtype``."""
    a = tf.cast(tf.random.normal([size, size]), dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        result = matmul(a)
    result.numpy()
    return repeats * 2 * size ** 3 / (time.perf_counter() - start) / 1e9


def all_layers(model):
    """Every layer inside ``model``, recursively, through the public ``Model.layers``."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def forward_flops(network, inputs) -> int:
    """2 x multiply-adds of every equalized conv/dense layer in one forward pass (per image),
    at the network's current stage."""
    sizes = {}
    originals = {}
    for layer in all_layers(network):
        if isinstance(layer, (EqualizedConv2D, EqualizedDense)):
            originals[layer] = layer.call

            def wrapped(x, _layer=layer, _call=layer.call):
                pixels = x.shape[1] * x.shape[2] if isinstance(_layer, EqualizedConv2D) else 1
                sizes[id(_layer)] = 2 * pixels * int(np.prod(_layer.kernel.shape))
                return _call(x)
            layer.call = wrapped
    try:
        network(inputs[:1])
    finally:
        for layer, call in originals.items():
            layer.call = call
    return sum(sizes.values())


def stage_flops(model, resolution: int, fading: bool = False) -> tuple[int, int]:
    """Forward FLOPs per image of G and of D at ``resolution``'s stage (stable by default).

    The networks are set to that stage first -- whatever stage they were at before -- and left
    there.
    """
    for network in (model.generator, model.discriminator):
        network.set_stage(resolution, fading)
    g = forward_flops(model.generator, tf.zeros([1, model.latent_dim]))
    d = forward_flops(model.discriminator, tf.zeros([1, resolution, resolution, 3]))
    return g, d


def step_flops(model, resolution: int, loss: str = "wgan-gp") -> float:
    """FLOPs charged per image of one training step in ``resolution``'s stable phase."""
    g, d = stage_flops(model, resolution)
    g_passes, d_passes = FORWARD_PASSES[loss]
    return g_passes * g + d_passes * d


class _StepClock(keras.callbacks.Callback):
    """Records when each training step ends."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def timed_fit(model, dataset, steps: int) -> list:
    """Seconds of each of ``steps`` steps, after one untimed step of the same ``fit`` call."""
    clock = _StepClock()
    model.fit(dataset, steps_per_epoch=steps + 1, epochs=1, verbose=0, callbacks=[clock])
    return list(np.diff(clock.ends))


def time_side_by_side(runs, seconds: float, rounds: int = 3, by_round: bool = False) -> list:
    """Images/s and steps timed of each ``(model, dataset, batch, step_multiple)``.

    Each model is warmed up first: its step is traced, then one step is timed.  Then
    ``rounds`` rounds time every model in turn for about ``seconds / rounds`` each, so load
    from other processes hits all alike, in whole multiples of ``step_multiple`` steps (lazy
    R1's interval: one R1 step in every 16).  The rate is the batch over the median step time
    (robust to load spikes on a shared machine), or with ``by_round`` over the median of the
    rounds' mean step times (for steps that differ, like lazy R1's).  A row whose warm-up step
    takes more than ``seconds / rounds`` (and needs no multiple) gets one round of one step;
    the other rows still get every round.
    """
    samples = [timed_fit(model, dataset, 1) for model, dataset, _, _ in runs]
    per_round = seconds / rounds
    # Decided row by row: one slow row (emulated bfloat16 can take half a minute a step) must
    # not cut every other row down to a single step.
    slow = [times[0] > per_round and run[3] == 1 for times, run in zip(samples, runs)]
    means = [[] for _ in runs]
    for round_index in range(rounds):
        for i, (model, dataset, _, multiple) in enumerate(runs):
            if slow[i] and round_index:
                continue
            steps = 1 if slow[i] else max(
                1, round(per_round / samples[i][0] / multiple)) * multiple
            times = timed_fit(model, dataset, steps)
            samples[i] += times
            means[i].append(float(np.mean(times)))
    results = []
    for (_, _, batch, _), times, mean in zip(runs, samples, means):
        if by_round:  # the warm-up step is left out: rounds hold whole multiples
            results.append((batch / float(np.median(mean)), len(times) - 1))
        else:
            results.append((batch / float(np.median(times)), len(times)))
    return results


def make_model(config: Widths, precision: str, loss="wgan-gp", augment="none",
               together=False):
    model = build_model(TrainConfig(
        data_dir="bench", out_dir="", resolution=max(RESOLUTIONS), fmap_base=config.fmap_base,
        fmap_decay=config.fmap_decay, fmap_max=config.fmap_max, batch_sizes=config.batches,
        loss=loss, r1_interval=R1_INTERVAL, augment=augment, precision=precision))
    model.score_together = together
    return model


def stable(model, resolution: int, batch: int, jit: bool = False) -> None:
    """Start ``resolution``'s stable phase (the images shown are past its fade-in)."""
    model.start_phase(Phase(1, resolution, False, 0, 10 ** 9, batch), jit_compile=jit)


def width_rows(config: Widths, images, resolutions, precisions, seconds: float) -> list:
    """The widths table's rows of ``config``: one per resolution and precision."""
    rows = []
    for precision, jit in precisions:
        models = [make_model(config, precision)]
        if config.score_together:
            models.append(make_model(config, precision, together=True))
        for resolution in resolutions:
            batch = config.batches[resolution]
            flops = step_flops(models[0], resolution)
            dataset = training_dataset(images, resolution, batch)
            for model in models:
                stable(model, resolution, batch, jit)
            rates = time_side_by_side([(m, dataset, batch, 1) for m in models], seconds,
                                   rounds=3)
            rows.append({"config": config, "resolution": resolution, "batch": batch,
                         "precision": precision, "jit": jit, "rates": rates, "flops": flops})
            print(f"{config.name} {resolution}x{resolution} {precision}: "
                  f"{', '.join(f'{rate:.1f}' for rate, _ in rates)} img/s", file=sys.stderr,
                  flush=True)
        del models
    return rows


def recipe_rows(images, resolution: int, precision: str, seconds: float,
                quick: bool = False) -> list:
    """Training images/s of each recipe at ``resolution`` (``shipped`` widths), side by side."""
    config = CONFIGS[0]
    batch = config.batches[resolution]
    dataset = training_dataset(images, resolution, batch)
    models = [make_model(config, precision, loss, augment) for loss, augment in RECIPES]
    for model in models:
        stable(model, resolution, batch)
    flops = [step_flops(model, resolution, model.loss) for model in models]
    rates = time_side_by_side([(m, dataset, batch, R1_INTERVAL if m.loss == "ns-r1" else 1)
                               for m in models], seconds, rounds=1 if quick else 2,
                              by_round=True)
    return [{"loss": loss, "augment": augment, "resolution": resolution, "batch": batch,
             "precision": precision, "rate": rate, "steps": steps, "flops": f}
            for (loss, augment), (rate, steps), f in zip(RECIPES, rates, flops)]


def generation_rate(model, batch=64, seconds=2.0):
    for network in (model.generator, model.ema_generator):
        network.set_stage(32)
    generate = tf.function(lambda z: model.ema_generator(z, training=False))
    z = tf.random.normal([batch, model.latent_dim])
    generate(z).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        generate(z).numpy()
        count += batch
    return count / (time.perf_counter() - start)


def cpu_bfloat16_flags():
    """The CPU's native bfloat16 instruction sets, from /proc/cpuinfo (Linux)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle
                          if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    found = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]
    return ", ".join(found) or "none"


def synthetic_folder(folder: Path, count: int, size: int) -> Path:
    """``count`` random ``size`` x ``size`` PNG images in ``folder`` (for ``--quick``)."""
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, [size, size, 3], dtype=np.uint8)
        tf.io.write_file(str(folder / f"{i:03d}.png"), tf.io.encode_png(pixels))
    return folder


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked before anything slow happens."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few steps per row on synthetic images (smoke test)")
    parser.add_argument("--resolutions", default=",".join(map(str, RESOLUTIONS)),
                        help="comma-separated, from 4 8 16 32 64 (default all)")
    parser.add_argument("--recipe-resolution", type=int, default=32,
                        help="resolution of the recipes table (default 32; 0 skips it)")
    parser.add_argument("--configs", default=",".join(c.name for c in CONFIGS),
                        help="comma-separated width configurations (default all)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="time each row's training steps for about this long (default 4)")
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="folder of training images (default ../shared/data/celeba-8k)")
    parser.add_argument("--images", type=int, default=2000,
                        help="decode at most this many images of --data (default 2000)")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16",
                        help="comma-separated, of the widths table (default both)")
    parser.add_argument("--recipe-precision", default="float32",
                        help="precision of the recipes table (default float32)")
    parser.add_argument("--xla", action="store_true", help="also time float32 + XLA rows")
    args = parser.parse_args(argv)
    try:
        args.resolutions = [int(r) for r in args.resolutions.split(",")]
    except ValueError:
        parser.error(f"--resolutions must be comma-separated numbers. Received: "
                     f"resolutions={args.resolutions!r}")
    for resolution in args.resolutions + ([args.recipe_resolution]
                                          if args.recipe_resolution else []):
        if resolution not in RESOLUTIONS:
            parser.error(f"resolutions must be among {', '.join(map(str, RESOLUTIONS))}. "
                         f"Received: resolution={resolution}")
    args.precisions = args.precisions.split(",")
    for precision in args.precisions + [args.recipe_precision]:
        if precision not in PRECISIONS:
            parser.error(f"precisions must be among {', '.join(PRECISIONS)}. "
                         f"Received: precision={precision!r}")
    names = {c.name: c for c in CONFIGS}
    unknown = [name for name in args.configs.split(",") if name not in names]
    if unknown:
        parser.error(f"--configs must name some of {', '.join(names)}. "
                     f"Received: configs={args.configs!r}")
    args.configs = [names[name] for name in args.configs.split(",")]
    if not args.seconds > 0 or args.images < 1:
        parser.error(f"--seconds and --images must be positive. Received: "
                     f"seconds={args.seconds}, images={args.images}")
    if not args.quick and not Path(args.data).is_dir():
        parser.error(f"--data must be a folder of images (or use --quick). Received: "
                     f"data={args.data!r}")
    return args


def load_images(args, folder: Path):
    """uint8 ``[N, 64, 64, 3]`` (or the largest resolution needed): the first ``--images``."""
    size = max(args.resolutions + [args.recipe_resolution])
    if args.quick:
        source = synthetic_folder(folder, 16, size)
    else:
        files = sorted(p for p in Path(args.data).iterdir() if p.is_file())[:args.images]
        source = folder
        for path in files:
            (folder / path.name).symlink_to(path.resolve())
    return load_image_folder(source, size, crop="center" if args.quick else "celeba").images


def print_tables(width, recipes, peaks, generation, args):
    peak, peak_bf16 = peaks
    print(f"\nmachine: {os.cpu_count()} CPU cores, native bfloat16: {cpu_bfloat16_flags()}, "
          f"TensorFlow {tf.__version__}; measured matmul: float32 {peak:.0f} GFLOP/s, "
          f"bfloat16 {peak_bf16:.0f} GFLOP/s; data: {args.data_used}\n")
    print("| configuration | widths | res | phase | batch | precision | XLA | train img/s | "
          "GFLOP/s | % of matmul | img/s, D scores together | together / separate | steps |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for row in width:
        config, (rate, steps) = row["config"], row["rates"][0]
        matmul = peak_bf16 if row["precision"] == "mixed_bfloat16" else peak
        gflops = rate * row["flops"] / 1e9
        together, ratio = "-", "-"
        if len(row["rates"]) > 1:
            together_rate = row["rates"][1][0]
            ratios.setdefault(row["precision"], []).append(together_rate / rate)
            together, ratio = f"{together_rate:.1f}", f"{together_rate / rate:.2f}"
            steps = f"{steps} + {row['rates'][1][1]}"
        r = row["resolution"]
        print(f"| {config.name} | {widths(config, RESOLUTIONS[:RESOLUTIONS.index(r) + 1])} | "
              f"{r}x{r} | stable | {row['batch']} | {row['precision']} | "
              f"{'XLA' if row['jit'] else '-'} | {rate:.1f} | {gflops:.1f} | "
              f"{100 * gflops / matmul:.0f}% | {together} | {ratio} | {steps} |")
    for precision, values in ratios.items():
        mean = math.exp(sum(map(math.log, values)) / len(values))
        print(f"\nscore_together, {precision}: together / separate = {min(values):.2f} to "
              f"{max(values):.2f} over {len(values)} rows, geometric mean {mean:.2f}")
    if recipes:
        base = recipes[0]["rate"]
        print("\n| loss | augment | res | phase | batch | precision | forward passes (G, D) | "
              "train img/s | vs wgan-gp, none | GFLOP/s | steps |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for row in recipes:
            g_passes, d_passes = FORWARD_PASSES[row["loss"]]
            r = row["resolution"]
            print(f"| {row['loss']} | {row['augment']} | {r}x{r} | stable | {row['batch']} | "
                  f"{row['precision']} | {g_passes:g} G + {d_passes:g} D | {row['rate']:.1f} | "
                  f"{row['rate'] / base:.2f} | {row['rate'] * row['flops'] / 1e9:.1f} | "
                  f"{row['steps']} |")
    if generation:
        print(f"\ngeneration (shipped, EMA G, 32x32, batch 64): {generation[0]:.0f} img/s, "
              f"{generation[0] * generation[1] / 1e9:.1f} GFLOP/s")


def main(argv=None) -> None:
    args = parse_args(argv)
    seconds = 0.2 if args.quick else args.seconds
    size, repeats = (1024, 5) if args.quick else (2048, 20)
    precisions = [(p, False) for p in args.precisions]
    if args.xla:
        precisions.insert(1, ("float32", True))
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        images = load_images(args, Path(folder))
        args.data_used = (f"{len(images)} synthetic images" if args.quick else
                          f"{len(images)} images of {args.data}, celeba crop")
        print(f"decoded {len(images)} images in {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
    peaks = matmul_gflops(size, repeats), matmul_gflops(size, repeats, tf.bfloat16)
    width = []
    for config in args.configs:
        resolutions = [r for r in args.resolutions if r in config.batches]
        width += width_rows(config, images, resolutions, precisions, seconds)
        print(f"timed {config.name}", file=sys.stderr, flush=True)
    recipes = []
    if args.recipe_resolution:
        recipes = recipe_rows(images, args.recipe_resolution, args.recipe_precision, seconds,
                              args.quick)
    model = make_model(CONFIGS[0], "float32")
    rate = generation_rate(model, seconds=0.5 if args.quick else 3.0)
    generation = rate, forward_flops(model.ema_generator, tf.zeros([1, model.latent_dim]))
    print_tables(width, recipes, peaks, generation, args)


if __name__ == "__main__":
    main()
