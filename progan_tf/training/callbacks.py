"""Keras callbacks that watch a run: progress, checkpoints, the loss log, TensorBoard, samples.

They are ordinary ``keras.callbacks.Callback`` objects, so a notebook can add its own next to
them.  All of them read the training position from the model (``model.phase``,
``model.images_shown``) rather than keeping counters of their own, so a resumed run logs and
saves at the same steps as an uninterrupted one.  What they show is the family's choice (the
loss columns, the progress text, the curves); how they write it is the same for every family.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from progan_tf import fileio
from progan_tf.constants import grid_columns
from progan_tf.training import checkpoint

__all__ = ["Checkpointer", "LossLog", "ProgressBar", "TrainingClock", "plot_losses", "read_losses",
           "save_sample_grid", "truncate_losses"]

LOSSES_FILE = "losses.csv"


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar in kimg with the step's description (terminal or notebook).

    The bar counts whole images (tqdm shows them in thousands through ``unit_scale``), so no
    rounding piles up, and never past ``total_images``: the last batch of a run may overshoot
    the schedule by a few images, which would otherwise make tqdm warn and show a negative ETA.

    Args:
        total_images: The run's length in images.
        initial_images: Images already shown (a resumed run; default 0).
        every_n_batches: Update the bar every this many steps (default 5).
        disable: Show nothing (default ``False``).
        file: Where to draw (default ``None``: standard error).
        describe: ``describe(phase, logs) -> str``, the text after the bar (default ``None``:
            the phase's name).
    """

    def __init__(self, total_images: int, initial_images: int = 0, every_n_batches: int = 5,
                 disable: bool = False, file: Any = None,
                 describe: Callable[[Any, dict], str] | None = None) -> None:
        super().__init__()
        self.total = int(total_images)
        self.bar = tqdm(total=self.total, initial=min(int(initial_images), self.total),
                        unit="kimg", unit_scale=1e-3, dynamic_ncols=True, disable=disable,
                        file=file, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} kimg "
                                              "[{elapsed}<{remaining}{postfix}]")
        self.every = every_n_batches
        self.describe = describe or (lambda phase, logs: phase.name)

    def _advance(self, shown: int) -> None:
        step = min(int(shown), self.total) - self.bar.n
        if step > 0:
            self.bar.update(step)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Move the bar and describe the step (every ``every_n_batches`` steps)."""
        if batch % self.every:
            return
        self._advance(self.model.images_shown.numpy())
        self.bar.set_postfix_str(self.describe(self.model.phase, logs or {}), refresh=False)

    def close(self, images_shown: int | None = None) -> None:
        """Bring the bar to ``images_shown`` (the final count), then close it."""
        if images_shown is not None:
            self._advance(images_shown)
        self.bar.close()


class Checkpointer(keras.callbacks.Callback):
    """Saves a checkpoint every ``every_minutes`` and when SIGINT/SIGTERM arrives.

    The signal handler only raises a flag; the checkpoint is written between two steps and
    training stops cleanly, so Ctrl-C (or a notebook's interrupt button, or a cluster's
    SIGTERM) never loses more than the step in flight.

    Args:
        directory: The run's ``checkpoints`` folder.
        every_minutes: Minutes between periodic checkpoints (default 10).
        extra_state: More entries for every checkpoint's ``state.json`` (default ``None``).
        writes: Write checkpoints (default ``True``); ``False`` on a multi-worker run's
            non-chief, which stops on a signal like the chief but leaves the saving to it.
    """

    def __init__(self, directory: str | os.PathLike, every_minutes: float = 10.0,
                 extra_state: dict | None = None, writes: bool = True) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.every_seconds = float(every_minutes) * 60
        self.extra_state = extra_state or {}
        self.writes = bool(writes)
        self.last_save = time.monotonic()
        self.interrupted = None
        self.previous_handlers = {}

    def install_signal_handlers(self) -> None:
        """Turn SIGINT/SIGTERM into a flag (only in the main thread; elsewhere a no-op)."""
        def handler(signum: int, frame: Any) -> None:
            self.interrupted = signal.Signals(signum).name
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous_handlers[signum] = signal.signal(signum, handler)
            except ValueError:  # not the main thread: signals stay with their owner
                pass

    def restore_signal_handlers(self) -> None:
        """Put back the handlers :meth:`install_signal_handlers` replaced."""
        for signum, previous in self.previous_handlers.items():
            signal.signal(signum, previous)
        self.previous_handlers = {}

    def save(self) -> Path | None:
        """Write a checkpoint now; returns its path (None: this worker does not write)."""
        if not self.writes:
            return None
        path = checkpoint.save(self.model, self.directory, extra_state=self.extra_state)
        self.last_save = time.monotonic()
        return path

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Save when interrupted (and stop) or when the interval has passed."""
        if self.interrupted:
            self.save()
            self.model.stop_training = True
        elif time.monotonic() - self.last_save >= self.every_seconds:
            self.save()


class TrainingClock(keras.callbacks.Callback):
    """The run's training time over all its sessions: wall and CPU seconds of its steps.

    Only the steps count -- not start-up, tracing between phases, samples or evaluation -- so
    "how long did this model train" has one answer however often the run was stopped and
    resumed.  The two totals live in ``state`` (the checkpointer's ``extra_state``, so every
    checkpoint's ``state.json`` records them and a resumed run continues from them; an export's
    ``metadata.json`` repeats them).  CPU seconds are the process's, which other work on the
    machine inflates less than wall time.

    Args:
        state: A dict holding ``train_seconds`` and ``cpu_seconds`` (added as 0 if missing);
            updated in place after every step.

    Example:
    >>> clock = TrainingClock({"train_seconds": 12.5})
    >>> clock.train_seconds, clock.cpu_seconds
    (12.5, 0.0)
    """

    def __init__(self, state: dict) -> None:
        super().__init__()
        self.state = state
        state.setdefault("train_seconds", 0.0)
        state.setdefault("cpu_seconds", 0.0)
        self.ticks = None

    @property
    def train_seconds(self) -> float:
        """Wall seconds of all steps so far."""
        return float(self.state["train_seconds"])

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of this process (and earlier sessions') over all steps so far."""
        return float(self.state["cpu_seconds"])

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Start the step's clocks."""
        self.ticks = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Add the step's time (before the checkpointer, which comes after it, saves)."""
        wall, cpu = self.ticks
        self.state["train_seconds"] = round(self.train_seconds + time.perf_counter() - wall, 3)
        self.state["cpu_seconds"] = round(self.cpu_seconds + time.process_time() - cpu, 3)


class LossLog(keras.callbacks.Callback):
    """Appends the losses to ``losses.csv`` and TensorBoard scalars every ``every_n_batches``.

    Args:
        run_dir: The run folder.
        columns: The columns after ``kimg``; each is read from the step's logs, else from the
            phase's attribute of that name (booleans as 0/1, and not sent to TensorBoard).
        every_n_batches: Log every this many steps of the whole run (default 10).
    """

    def __init__(self, run_dir: str | os.PathLike, columns: tuple[str, ...],
                 every_n_batches: int = 10) -> None:
        super().__init__()
        self.path = Path(run_dir) / LOSSES_FILE
        self.fields = ("kimg", *columns)
        self.writer = tf.summary.create_file_writer(str(Path(run_dir) / "logs"))
        self.every = every_n_batches

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Log the step if it is one of every ``every_n_batches`` steps of the run."""
        # Count steps over the whole run (not this fit() call), so a resumed run logs the
        # same steps as an uninterrupted one.
        if int(self.model.step_count.numpy()) % self.every:
            return
        logs = logs or {}
        shown = int(self.model.images_shown.numpy())
        phase = self.model.phase
        row, scalars = {"kimg": shown / 1000}, {}
        for key in self.fields[1:]:
            value = logs[key] if key in logs else getattr(phase, key)
            if isinstance(value, bool):
                row[key] = int(value)
            else:
                row[key] = scalars[key] = value if isinstance(value, int) else float(value)
        new = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields)
            if new:
                writer.writeheader()
            writer.writerow(row)
        with self.writer.as_default(step=shown):
            for key, value in scalars.items():
                tf.summary.scalar(key, value)


def _read_rows(path: Path) -> tuple[list[str], list[dict]]:
    """The columns and rows of ``losses.csv`` up to the first damaged row, as written."""
    rows, fields = [], []
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            for row in reader:
                try:
                    [float(row[key]) for key in fields]
                except (KeyError, TypeError, ValueError):
                    break  # a line cut short by a kill, or hand-edited: keep what precedes it
                rows.append(row)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return fields, rows


def read_losses(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """``losses.csv`` as a dict of NumPy columns (empty dict when there is none yet).

    Example:
    >>> read_losses("no-such-run")
    {}
    """
    fields, rows = _read_rows(Path(run_dir) / LOSSES_FILE)
    if not rows:
        return {}
    return {key: np.array([float(r[key]) for r in rows]) for key in fields}


def truncate_losses(run_dir: str | os.PathLike, images_shown: int) -> int:
    """Drop the rows of ``losses.csv`` logged after ``images_shown`` (atomically).

    A run resumed from a checkpoint repeats the steps after it; without this the log would
    hold them twice and run backwards in kimg.  The rows kept are rewritten as they were.

    Returns:
        The number of rows dropped.
    """
    path = Path(run_dir) / LOSSES_FILE
    if not path.exists():
        return 0
    with open(path, newline="") as handle:
        total = sum(1 for _ in handle) - 1
    fields, rows = _read_rows(path)
    rows = [r for r in rows if round(float(r["kimg"]) * 1000) <= images_shown]
    if len(rows) == total:
        return 0
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    fileio.write_text(path, text.getvalue())
    return max(total - len(rows), 0)


def plot_losses(run_dir: str | os.PathLike, curves: dict[str, str],
                path: str | os.PathLike | None = None, marker: str | None = None) -> Path | None:
    """Plot loss columns against kimg and save ``losses.png`` (None when nothing is logged).

    Draws on a bare ``matplotlib.figure.Figure`` rather than pyplot, so that training from a
    notebook neither switches the notebook's backend nor leaves figures open.

    Args:
        run_dir: The run folder.
        curves: ``{column: label}`` to plot.
        path: Where to save (default ``run_dir/losses.png``).
        marker: A column whose changes are marked with a dotted line labelled
            ``<value>px`` (ProGAN: ``"resolution"``; default ``None``).
    """
    from matplotlib.figure import Figure

    losses = read_losses(run_dir)
    if not losses:
        return None
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    for column, label in curves.items():
        ax.plot(losses["kimg"], losses[column], label=label, lw=0.8)
    if marker is not None:
        for index in np.flatnonzero(np.diff(losses[marker])):
            kimg = losses["kimg"][index + 1]
            ax.axvline(kimg, color="grey", ls=":", lw=0.8)
            ax.text(kimg, ax.get_ylim()[1], f"{int(losses[marker][index + 1])}px", fontsize=7,
                    va="top")
    ax.set_xlabel("images shown (kimg)")
    ax.set_ylabel("loss")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path = Path(path or Path(run_dir) / "losses.png")
    with fileio.atomic_path(path, suffix=".png") as tmp:  # savefig picks PNG by the suffix
        fig.savefig(tmp, dpi=100)
    return path


def save_sample_grid(images: np.ndarray, path: str | os.PathLike, writer: Any = None,
                     step: int = 0) -> Path:
    """Save a grid of images in [0, 1] (and send it to TensorBoard when ``writer`` is given).

    Small images are upscaled (nearest neighbour) to about 128 pixels so the PNG is viewable.

    Args:
        images: ``[N, H, W, 3]`` in [0, 1].
        path: The PNG to write.
        writer: A ``tf.summary`` writer (default ``None``).
        step: The TensorBoard step (default 0).

    Returns:
        ``path`` as a ``Path``.
    """
    from progan_tf.images import make_grid, save_image

    grid = make_grid(images, ncols=grid_columns(len(images)))
    zoom = max(1, 128 // images.shape[1])
    grid = np.repeat(np.repeat(grid, zoom, axis=0), zoom, axis=1)
    save_image(grid, path)
    if writer is not None:
        with writer.as_default(step=step):
            tf.summary.image("samples", grid[None], step=step)
    return Path(path)
