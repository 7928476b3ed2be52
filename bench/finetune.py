"""Fine-tuning vs training from scratch at equal wall time, on a few hundred faces.

The user this is for has a few hundred photos.  The script takes ``--train-images`` faces (300)
from the last ``--pool`` images (1,000, sorted by name) of ``--data``: the bundled model was
trained with those held out, so it never saw them.  The rest of the pool (700) are that folder's
held-out faces.  Two runs train on the same faces with the same recipe flags (``--loss``,
``--augment``, ``--precision``, batch sizes, seed) and the same architecture (the init
model's), each for the same training wall time (``--minutes``, evaluation not counted):

* **fine-tuned**: ``TrainConfig(init=--init)``, one stable phase at the init model's resolution;
* **from scratch**: progressive growing from 4x4 (``--scratch-kimg-per-phase`` per phase), then
  the final resolution until the time is up.

When its time is up each run's EMA generator is measured -- a run still growing at the
resolution it reached, upscaled to the final one, since that is what its user would have: the
sliced Wasserstein distance per level against the held-out faces, beside the real-vs-real floor
(the held-out faces against as many other faces of the folder, from the part the init model
trained on; the same sample sizes, the same seed).  The init model as it is (no training on the
folder) is measured the same way.  Along the way, at the final resolution,
:class:`~progan_tf.training.quality.QualityLog` records the curve (``quality.csv``, and
``--json``).  Run folders stay in ``--out``; finished ones are read back, so the table can be
re-printed.

    .venv/bin/python bench/finetune.py       # bench/README.md's table (about 12 min on 2 cores)
    .venv/bin/python bench/finetune.py --quick --data DIR --init EXPORT --out DIR  # smoke test
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import keras
import numpy as np

from progan_tf import fileio
from progan_tf.errors import TrainingInterrupted
from progan_tf.gan.finetune import read_init
from progan_tf.gan.train import TrainConfig, train
from progan_tf.metrics import sliced_wasserstein_distance
from progan_tf.pixels import from_signed_unit
from progan_tf.training.data import decode_training_image, list_image_files
from progan_tf.training.quality import QualityLog, read_quality
from progan_tf.training.runs import read_json

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
DEFAULTS = TrainConfig(data_dir="-", out_dir="-")
NOTE = ("Honesty note: the bundled model was trained on CelebA faces, the same distribution as "
        "these held-out faces, so this measures the common case \"your photos are faces\"; "
        "on photos of something else, fine-tuning starts further from the target.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of face images")
    parser.add_argument("--init", default="bundled", help="the model to fine-tune")
    parser.add_argument("--out", default="bench-runs/finetune", help="folder of the two runs")
    parser.add_argument("--pool", type=int, default=1000,
                        help="the last N images of --data, which --init did not train on")
    parser.add_argument("--train-images", type=int, default=300,
                        help="the user's folder: the first N of the pool (the rest: held out)")
    parser.add_argument("--minutes", type=float, default=4.0,
                        help="training wall time of each run (evaluation not counted)")
    parser.add_argument("--eval-every-kimg", type=float, default=2.0)
    parser.add_argument("--scratch-kimg-per-phase", type=float, default=2.0,
                        help="phase length of the from-scratch run's growing")
    parser.add_argument("--loss", default=DEFAULTS.loss)
    parser.add_argument("--augment", default=DEFAULTS.augment)
    # float32: on this 2-core machine, busy with other work, a 32x32 step in mixed_bfloat16 took
    # 20-40 s against 2 s in float32 (idle, bfloat16 is the faster; see bench/train.py)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="seconds, not minutes, on the given tiny --data/--init (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.eval_every_kimg, args.scratch_kimg_per_phase = 0.1, 0.032, 0.032
        args.precision = "float32"
    if not 0 < args.train_images < args.pool:
        parser.error("--train-images must be at least 1 and below --pool")
    return args


def split(args):
    """(training files, held-out files, floor files): the pool split, and as many other faces."""
    files = list_image_files(args.data)
    if len(files) < 2 * args.pool - args.train_images:
        raise SystemExit(f"bench/finetune.py: {args.data} has {len(files)} images; it needs "
                         f"{2 * args.pool - args.train_images} (the pool and a floor set)")
    pool, rest = files[-args.pool:], files[:-args.pool]
    held_out = pool[args.train_images:]
    pick = np.random.default_rng(args.seed).choice(len(rest), len(held_out), replace=False)
    return pool[:args.train_images], held_out, [rest[i] for i in np.sort(pick)]


def user_folder(out: Path, files: list[str]) -> Path:
    """The user's folder of faces: copies of ``files`` in ``out/faces``."""
    folder = out / "faces"
    for path in files:
        target = folder / Path(path).name
        if not target.exists():
            fileio.write_bytes(target, Path(path).read_bytes())
    return folder


def decode(files, resolution):
    """The images of ``files``, framed as training frames them (CelebA crop), uint8."""
    return np.stack([decode_training_image(path, resolution, crop="celeba")[0] for path in files])


def configs(args, folder, architecture):
    """The two runs' options: the same but for the init and the schedule."""
    common = dict(data_dir=str(folder), crop="celeba", precision=args.precision,
                  seed=args.seed, loss=args.loss, augment=args.augment, checkpoint_minutes=60.0,
                  batch_sizes={4: 64, 8: 32, 16: 16, 32: 16, 64: 16} if not args.quick
                  else {4: 8, 8: 8}, **architecture)
    long = 10_000.0  # kimg: the time budget ends both runs
    return {
        "fine-tuned": TrainConfig(out_dir=str(Path(args.out) / "finetune"), init=args.init,
                                  kimg_per_phase=long, command="bench/finetune.py (fine-tune)",
                                  **common),
        "from scratch": TrainConfig(out_dir=str(Path(args.out) / "scratch"),
                                    kimg_per_phase=args.scratch_kimg_per_phase, final_kimg=long,
                                    command="bench/finetune.py (from scratch)", **common),
    }


def generate(sample, latent_dim, count, seed, resolution):
    """``count`` images in [0, 1] from seeded latents, upscaled (nearest) to ``resolution``."""
    latents = np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")
    fakes = np.concatenate([np.asarray(sample(latents[i:i + 250]))
                            for i in range(0, count, 250)])
    factor = resolution // fakes.shape[1]  # a run stopped before the final resolution
    return np.clip(fakes.repeat(factor, axis=1).repeat(factor, axis=2), 0, 1)


class Budget(keras.callbacks.Callback):
    """Ends the run once its training time is up, and measures what it draws at that moment.

    The run stops as after Ctrl-C (the loop's checkpointer sees the signal and no further phase
    starts), right after the step that spent the budget.  A run still growing is measured at
    the resolution it reached, upscaled to the final one: what its user would have.
    """

    def __init__(self, seconds, held_out, seed):
        super().__init__()
        self.seconds, self.held_out, self.seed = seconds, held_out, seed
        self.fired, self.final = False, None

    def on_train_batch_end(self, batch, logs=None):
        if not self.fired and self.model.training_clock.train_seconds >= self.seconds:
            self.fired = True
            self.model.stop_training = True
            signal.raise_signal(signal.SIGINT)  # the run's checkpointer: no further fit()

    def on_train_end(self, logs=None):
        if not self.fired or self.final is not None:
            return
        model = self.model
        fakes = generate(model.sample, model.latent_dim, len(self.held_out), self.seed,
                         self.held_out.shape[1])
        swd = sliced_wasserstein_distance(self.held_out, fakes, seed=self.seed)["levels"]
        phase = model.phase.name
        if model.phase.resolution < self.held_out.shape[1]:
            phase += ", upscaled"
        self.final = {"kimg": int(model.images_shown.numpy()) / 1000, "phase": phase,
                      "train_minutes": model.training_clock.train_seconds / 60,
                      "cpu_minutes": model.training_clock.cpu_seconds / 60,
                      "swd": {int(level): value for level, value in swd.items()}}


def run(args, name, config, held_out, floor):
    """Train one run for the budget (a finished run folder is only read); its result."""
    out = Path(config.out_dir)
    done = out / "bench-finetune.json"  # written when the budget is spent
    if out.exists():
        stored = read_json(done) or {}
        if stored.get("minutes") != args.minutes or "final" not in stored:
            raise SystemExit(f"bench/finetune.py: {out} holds an unfinished run or one of "
                             f"another --minutes; delete it, or use another --out")
        return stored
    quality = QualityLog(out, held_out, floor, config.resolution,
                         every_kimg=args.eval_every_kimg, num_images=len(held_out),
                         seed=args.seed)
    budget = Budget(args.minutes * 60, held_out, args.seed)
    print(f"training {name} for {args.minutes:g} min", file=sys.stderr, flush=True)
    try:
        train(config, progress=False, extra_callbacks=[quality, budget])
    except TrainingInterrupted:
        pass  # the budget's stop
    if budget.final is None:
        raise SystemExit(f"bench/finetune.py: {name} ended before its budget; raise its kimg")
    result = {"minutes": args.minutes, "final": budget.final,
              "curve": [{key: float(value) for key, value in row.items() if key != "phase"}
                        for row in read_quality(out)]}
    fileio.write_json(done, result)
    return result


def as_is(args, held_out):
    """The init model itself, measured as the runs are."""
    generator = read_init(args.init).load_networks()[0]
    fakes = generate(lambda z: from_signed_unit(generator(z)), generator.latent_dim,
                     len(held_out), args.seed, held_out.shape[1])
    swd = sliced_wasserstein_distance(held_out, fakes, seed=args.seed)["levels"]
    return {"start": f"{args.init} as it is (no training)", "kimg": 0.0, "train_minutes": 0.0,
            "cpu_minutes": 0.0, "phase": "-", "swd": {int(lv): v for lv, v in swd.items()}}


def table(results, floor):
    levels = sorted(floor, reverse=True)
    head = ["start", "kimg", "train min (CPU min)", "phase at the end"]
    head += [f"SWD {lv} px (floor, ratio)" for lv in levels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r["start"], f"{r['kimg']:g}",
                 f"{r['train_minutes']:.1f} ({r['cpu_minutes']:.1f})", r["phase"]]
        cells += [f"{r['swd'][lv]:.2f} ({floor[lv]:.2f}, {r['swd'][lv] / floor[lv]:.2f}x)"
                  for lv in levels]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    architecture = read_init(args.init).architecture
    resolution = architecture["resolution"]
    train_files, held_out_files, floor_files = split(args)
    out = Path(args.out)
    folder = user_folder(out, train_files)
    held_out, floor = decode(held_out_files, resolution), decode(floor_files, resolution)
    floor_levels = {int(level): value for level, value in sliced_wasserstein_distance(
        held_out, floor, seed=args.seed)["levels"].items()}
    results = [as_is(args, held_out)]
    for name, config in configs(args, folder, architecture).items():
        outcome = run(args, name, config, held_out, floor)
        final = outcome["final"]
        results.append({"start": name, **final, "swd": {int(lv): v for lv, v in
                                                        final["swd"].items()},
                        "curve": outcome["curve"]})
    print(f"{len(train_files)} training faces, {len(held_out)} held-out faces vs as many "
          f"generated (floor: {len(floor)} other faces of the folder), {resolution}x{resolution}, "
          f"{args.minutes:g} min of training each (evaluation not counted; CPU min: the "
          f"process's CPU time over the same steps), recipe loss={args.loss} "
          f"augment={args.augment} precision={args.precision}; SWD x1e3 when the time was up "
          f"(a run still growing: its output upscaled to {resolution}x{resolution})")
    print(table(results, floor_levels))
    print(NOTE)
    if args.json:
        fileio.write_json(args.json, {"results": results, "floor": floor_levels,
                                      "options": vars(args)})


if __name__ == "__main__":
    main()
