"""Generation speed and the memory cost of long animations.

Prints one table with

* generation images/s and ms/batch at batch 1, 8 and 64 (after a warm-up, each row timed for
  about 2 seconds), and
* the peak resident memory (RSS) of streaming 100 and 1,000 interpolation frames through
  ``generator.iter_images`` into ``animate(..., "walk.gif")``, next to a 1-frame baseline, with
  a PASS/FAIL against the requirement "peak memory for 1,000 frames within 1.2x that of 100
  frames".

Every measurement runs in a fresh child process, and this parent never imports TensorFlow.
That matters: a child's ``ru_maxrss`` starts at its parent's peak RSS at spawn time (Linux
carries the old address space's high-water mark across ``exec``), so a parent holding
TensorFlow and a model would hide every child's real peak under its own.

Each animation child reports two numbers:

* ``peak RSS``: ``getrusage(RUSAGE_SELF).ru_maxrss`` at its end -- the whole process: Python,
  TensorFlow, the model, and the frames. The baseline child runs the same pipeline for one
  frame, so the difference to it is what the frames cost.
* ``stream growth``: how far RSS rose above its level just before streaming, while streaming
  (Linux only: the peak is reset through ``/proc/self/clear_refs`` before ``animate`` starts).
  Loading the model peaks higher than streaming does, so this is the sharper test of "memory
  stays flat": it would show a leak that the whole-process peak hides.

By default the generator is a stand-in with progan-128's exact interface (512-d latents ->
128x128 RGB, from :func:`progan_tf.testing.build_tf1_hub_module`); it is much cheaper than the
real network, so its images/s measure the wrapper and the machine, not progan-128.

    .venv/bin/python bench/generate.py                    # full table (about a minute)
    .venv/bin/python bench/generate.py --quick            # 20 and 200 frames (smoke test)
    .venv/bin/python bench/generate.py --handle bundled   # any load_generator handle
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BATCH_SIZES = (1, 8, 64)
FULL_FRAMES = (100, 1000)
QUICK_FRAMES = (20, 200)
MAX_PEAK_RATIO = 1.2
STAND_IN_NAME = "progan-128-stand-in"


@dataclass(frozen=True)
class SpeedRow:
    """Steady-state generation speed at one batch size."""

    batch: int
    batches: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.batch * self.batches / self.seconds

    @property
    def ms_per_batch(self) -> float:
        return 1000 * self.seconds / self.batches


@dataclass(frozen=True)
class AnimationRow:
    """What one child reported after streaming ``frames`` frames into a GIF."""

    frames: int
    peak_rss_mb: float
    stream_growth_mb: float | None
    gif_bytes: int
    seconds: float


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--child``, ``--frames`` and ``--stand-in-dir`` are internal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"short timings and {QUICK_FRAMES[0]}/{QUICK_FRAMES[1]} frames "
                             f"instead of {FULL_FRAMES[0]}/{FULL_FRAMES[1]} (smoke test)")
    parser.add_argument("--handle", default=None,
                        help="benchmark this load_generator handle (a URL, a model folder, "
                             "'bundled') instead of the progan-128-shaped stand-in")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="keep the GIFs in this folder (default: a temporary folder, "
                             "deleted at the end)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="time each batch size for about this long (default 2, quick 0.25)")
    parser.add_argument("--child", choices=["speed", "frames"], help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stand-in-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds is not None and not 0 < args.seconds < math.inf:
        parser.error(f"--seconds must be a positive, finite number, got {args.seconds:g}; "
                     f"try --seconds 2")
    if args.out_dir is not None and args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"--out-dir {str(args.out_dir)!r} is a file; pass a folder (it is created "
                     f"if missing)")
    return args


# --------------------------------------------------------------------------------------------
# Memory readings (children)
# --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (``ru_maxrss`` is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def current_rss_mb() -> float | None:
    """Resident memory right now, in MB; ``None`` where ``/proc`` is missing."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> bool:
    """Resets the peak-RSS mark to the current RSS (Linux >= 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Children: the only code that imports TensorFlow
# --------------------------------------------------------------------------------------------


def time_generation(generator, batch: int, seconds: float, warmup: int) -> SpeedRow:
    """Images/s at one batch size: ``warmup`` untimed calls, then calls for ``seconds``.

    Every call ends with ``.numpy()``, so the time includes the copy out of TensorFlow that any
    real use (saving, showing, animating) pays too.
    """
    from progan_tf import sample_latents

    latents = sample_latents(batch, generator.latent_dim, seed=batch)
    for _ in range(warmup):
        generator(latents).numpy()
    batches, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        generator(latents).numpy()
        batches += 1
    return SpeedRow(batch, batches, elapsed)


def speed_child(args: argparse.Namespace) -> dict:
    """Builds the stand-in if asked, loads the generator and times every batch size."""
    import tensorflow as tf

    from progan_tf import load_generator
    from progan_tf.testing import build_tf1_hub_module

    handle = args.handle
    if args.stand_in_dir is not None:
        handle = str(build_tf1_hub_module(args.stand_in_dir / STAND_IN_NAME))
    generator = load_generator(handle)
    seconds = args.seconds if args.seconds is not None else (0.25 if args.quick else 2.0)
    rows = [time_generation(generator, batch, seconds, warmup=1 if args.quick else 3)
            for batch in BATCH_SIZES]
    return {"handle": handle, "latent_dim": generator.latent_dim,
            "image_shape": list(generator.image_shape), "chunk_size": generator.chunk_size,
            "tensorflow": tf.__version__,
            "rows": [[row.batch, row.batches, row.seconds] for row in rows]}


def frames_child(args: argparse.Namespace) -> dict:
    """Streams ``args.frames`` interpolation frames into a GIF and reports memory and time.

    The latent path is small (``frames x 512`` floats) and made before the peak is reset; the
    images exist only one ``iter_images`` chunk at a time, which is the point being measured.
    """
    from PIL import Image

    from progan_tf import animate, interpolate_hypersphere, load_generator, sample_latents

    generator = load_generator(args.handle)
    start_latent, end_latent = sample_latents(2, generator.latent_dim, seed=0)
    path_latents = interpolate_hypersphere(start_latent, end_latent, args.frames)
    path = args.out_dir / f"walk-{args.frames}.gif"

    load_peak, rss_before = peak_rss_mb(), current_rss_mb()
    can_reset = rss_before is not None and reset_peak_rss()
    start = time.perf_counter()
    animate(generator.iter_images(path_latents), path, fps=25, display=False)
    seconds = time.perf_counter() - start
    stream_peak = peak_rss_mb()

    with Image.open(path) as gif:  # after the readings: decoding the GIF costs memory too
        written = gif.n_frames
    return {"frames": written, "peak_rss_mb": max(load_peak, stream_peak),
            "stream_growth_mb": stream_peak - rss_before if can_reset else None,
            "gif_bytes": path.stat().st_size, "seconds": seconds}


def run_child(args: argparse.Namespace) -> None:
    """A child's whole job: measure, then print one JSON line (an error becomes JSON too)."""
    from progan_tf.errors import ProganError

    try:
        report = speed_child(args) if args.child == "speed" else frames_child(args)
    except ProganError as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))
        sys.exit(2)
    print(json.dumps(report))


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def spawn_child(options: list[str]) -> dict:
    """Runs this script as a fresh child process with ``options`` and returns its JSON report.

    Raises the child's own :class:`~progan_tf.errors.ProganError` subclass for a bad handle,
    and ``RuntimeError`` with the child's stderr for anything else.
    """
    from progan_tf import errors

    command = [sys.executable, str(Path(__file__).resolve()), *options]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        report = None
    if isinstance(report, dict) and "error" in report:
        error_class = getattr(errors, report["error"], errors.ProganError)
        raise error_class(report["message"])
    if result.returncode != 0 or not isinstance(report, dict):
        raise RuntimeError(f"child {' '.join(options)} failed (exit {result.returncode}):\n"
                           f"{result.stderr[-3000:]}")
    return report


def measure_animation(handle: str, frames: int, out_dir: Path) -> AnimationRow:
    """One fresh child streams ``frames`` frames to ``out_dir/walk-{frames}.gif``."""
    report = spawn_child(["--child", "frames", "--frames", str(frames), "--handle", handle,
                          "--out-dir", str(out_dir)])
    if report["frames"] != frames:
        raise RuntimeError(f"the {frames}-frame child wrote a GIF of {report['frames']} frames")
    return AnimationRow(frames, report["peak_rss_mb"], report["stream_growth_mb"],
                        report["gif_bytes"], report["seconds"])


def format_table(speed: list[SpeedRow], baseline: AnimationRow,
                 animations: list[AnimationRow]) -> str:
    """The results as one markdown table; its last row checks the peak-memory requirement."""
    lines = ["| benchmark | case | images/s | ms/batch | peak RSS (MB) | over 1-frame (MB) "
             "| stream growth (MB) | GIF (MB) | wall (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in speed:
        lines.append(f"| generate | batch {row.batch} | {row.images_per_second:.1f} | "
                     f"{row.ms_per_batch:.2f} | | | | | {row.seconds:.1f} |")
    for row in [baseline, *animations]:
        case = "1 frame (baseline)" if row is baseline else f"{row.frames:,} frames"
        growth = "n/a" if row.stream_growth_mb is None else f"{row.stream_growth_mb:.1f}"
        lines.append(f"| GIF stream | {case} | {row.frames / row.seconds:.1f} | | "
                     f"{row.peak_rss_mb:.1f} | {row.peak_rss_mb - baseline.peak_rss_mb:+.1f} | "
                     f"{growth} | {row.gif_bytes / 1e6:.2f} | {row.seconds:.1f} |")
    short, long = animations
    ratio = long.peak_rss_mb / short.peak_rss_mb
    verdict = "PASS" if ratio <= MAX_PEAK_RATIO else "FAIL"
    lines.append(f"| requirement | peak({long.frames:,}) / peak({short.frames:,}) <= "
                 f"{MAX_PEAK_RATIO}x: {verdict} | | | {ratio:.3f}x | | | | |")
    return "\n".join(lines)


def describe_setup(speed_report: dict, label: str, parent_peak_mb: float, quick: bool) -> str:
    """The lines printed above the table: model, machine, software, method."""
    height, width, _ = speed_report["image_shape"]
    return "\n".join([
        f"model: {label}; latent {speed_report['latent_dim']} -> {height}x{width} RGB, "
        f"chunk_size {speed_report['chunk_size']}",
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, TensorFlow {speed_report['tensorflow']}",
        "GIF stream: interpolate_hypersphere -> generator.iter_images -> animate(.gif), one "
        f"fresh process per row (spawned from a {parent_peak_mb:.0f} MB parent); images/s "
        "there includes GIF encoding"
        + ("; QUICK mode (short timings, fewer frames)" if quick else ""),
        *malloc_settings(),
    ])


def malloc_settings() -> list[str]:
    """A line naming any glibc ``MALLOC_*`` variables the children inherit: they move RSS."""
    settings = sorted(f"{name}={value}" for name, value in os.environ.items()
                      if name.startswith("MALLOC_"))
    return [f"malloc (from the environment): {' '.join(settings)}"] if settings else []


def run_benchmark(args: argparse.Namespace, work_dir: Path) -> str:
    """Runs every measurement in child processes and returns the report to print."""
    shared = ["--seconds", str(args.seconds)] if args.seconds is not None else []
    shared += ["--quick"] if args.quick else []
    if args.handle is None:
        speed_report = spawn_child(["--child", "speed", "--stand-in-dir", str(work_dir), *shared])
        label = ("progan-128-shaped stand-in (progan_tf.testing.build_tf1_hub_module, "
                 "TF1 Hub format)")
    else:
        speed_report = spawn_child(["--child", "speed", "--handle", args.handle, *shared])
        label = repr(args.handle)
    handle = speed_report["handle"]
    speed = [SpeedRow(*row) for row in speed_report["rows"]]

    out_dir = args.out_dir if args.out_dir is not None else work_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    parent_peak_mb = peak_rss_mb()  # a floor under every child's ru_maxrss
    baseline = measure_animation(handle, 1, out_dir)
    animations = [measure_animation(handle, frames, out_dir)
                  for frames in (QUICK_FRAMES if args.quick else FULL_FRAMES)]
    return (describe_setup(speed_report, label, parent_peak_mb, args.quick) + "\n\n"
            + format_table(speed, baseline, animations))


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark, or with the internal ``--child`` option one measurement."""
    args = parse_args(argv)
    if args.child is not None:
        run_child(args)
        return
    with tempfile.TemporaryDirectory(prefix="progan-bench-generate-") as work_dir:
        print(run_benchmark(args, Path(work_dir)))


if __name__ == "__main__":
    from progan_tf.errors import ProganError

    try:
        main()
    except ProganError as error:  # e.g. a bad --handle: say what to do, no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)  # as the progan-tf CLI does
