"""Keras callbacks that watch a progressive run: progress, checkpoints, TensorBoard, samples.

They are ordinary ``keras.callbacks.Callback`` objects, so a notebook can add its own next to
them.  All of them read the schedule position from the model (``model.phase``,
``model.images_shown``) rather than keeping counters of their own.
"""

from __future__ import annotations

import csv
import io
import signal
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from progan_tf.gan import checkpoint


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar in kimg with resolution, phase, alpha and the losses (terminal or notebook).

    The bar counts whole images (tqdm shows them in thousands through ``unit_scale``), so no
    rounding piles up, and never past ``total_images``: the last batch of a run may overshoot
    the schedule by a few images, which would otherwise make tqdm warn and show a negative ETA.
    """

    def __init__(self, total_images, initial_images=0, every_n_batches=5, disable=False,
                 file=None):
        super().__init__()
        self.total = int(total_images)
        self.bar = tqdm(total=self.total, initial=min(int(initial_images), self.total),
                        unit="kimg", unit_scale=1e-3, dynamic_ncols=True, disable=disable,
                        file=file, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} kimg "
                                              "[{elapsed}<{remaining}{postfix}]")
        self.every = every_n_batches

    def _advance(self, shown):
        step = min(int(shown), self.total) - self.bar.n
        if step > 0:
            self.bar.update(step)

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every:
            return
        self._advance(self.model.images_shown.numpy())
        phase = self.model.phase
        self.bar.set_postfix_str(
            f"{phase.resolution}x{phase.resolution} {'fade' if phase.fading else 'stable'} "
            f"alpha={float(logs['alpha']):.2f} d={float(logs['d_loss']):.3f} "
            f"g={float(logs['g_loss']):.3f}", refresh=False)

    def close(self, images_shown=None):
        """Bring the bar to ``images_shown`` (the final count), then close it."""
        if images_shown is not None:
            self._advance(images_shown)
        self.bar.close()


class Checkpointer(keras.callbacks.Callback):
    """Saves a checkpoint every ``every_minutes`` and when SIGINT/SIGTERM arrives.

    The signal handler only raises a flag; the checkpoint is written between two steps and
    training stops cleanly, so Ctrl-C (or a notebook's interrupt button, or a cluster's
    SIGTERM) never loses more than the step in flight.
    """

    def __init__(self, directory, every_minutes=10.0, extra_state=None):
        super().__init__()
        self.directory = Path(directory)
        self.every_seconds = float(every_minutes) * 60
        self.extra_state = extra_state or {}
        self.last_save = time.monotonic()
        self.interrupted = None
        self._previous_handlers = {}

    def install_signal_handlers(self):
        def handler(signum, frame):
            self.interrupted = signal.Signals(signum).name
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous_handlers[signum] = signal.signal(signum, handler)
            except ValueError:  # not the main thread: signals stay with their owner
                pass

    def restore_signal_handlers(self):
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)
        self._previous_handlers = {}

    def save(self):
        path = checkpoint.save(self.model, self.directory, extra_state=self.extra_state)
        self.last_save = time.monotonic()
        return path

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupted:
            self.save()
            self.model.stop_training = True
        elif time.monotonic() - self.last_save >= self.every_seconds:
            self.save()


class LossLog(keras.callbacks.Callback):
    """Appends the losses to ``losses.csv`` and TensorBoard scalars every ``every_n_batches``."""

    FIELDS = ("kimg", "resolution", "fading", "alpha", "d_loss", "g_loss", "wasserstein",
              "gradient_penalty")

    def __init__(self, run_dir, every_n_batches=10):
        super().__init__()
        self.path = Path(run_dir) / "losses.csv"
        self.writer = tf.summary.create_file_writer(str(Path(run_dir) / "logs"))
        self.every = every_n_batches

    def on_train_batch_end(self, batch, logs=None):
        # Count steps over the whole run (not this fit() call), so a resumed run logs the
        # same steps as an uninterrupted one.
        if int(self.model.ema_updates.numpy()) % self.every:
            return
        shown = int(self.model.images_shown.numpy())
        phase = self.model.phase
        row = {"kimg": shown / 1000, "resolution": phase.resolution, "fading": int(phase.fading),
               **{k: float(logs[k]) for k in self.FIELDS[3:]}}
        new = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)
        with self.writer.as_default(step=shown):
            for key in ("d_loss", "g_loss", "wasserstein", "gradient_penalty", "alpha",
                        "resolution"):
                tf.summary.scalar(key, row[key])


def _read_rows(path):
    """The rows of ``losses.csv`` up to the first damaged one, as dicts of floats."""
    rows = []
    try:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    rows.append({key: float(row[key]) for key in LossLog.FIELDS})
                except (KeyError, TypeError, ValueError):
                    break  # a line cut short by a kill, or hand-edited: keep what precedes it
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, csv.Error):
        return rows
    return rows


def read_losses(run_dir):
    """``losses.csv`` as a dict of NumPy columns (empty dict when there is none yet)."""
    rows = _read_rows(Path(run_dir) / "losses.csv")
    return {key: np.array([r[key] for r in rows]) for key in LossLog.FIELDS} if rows else {}


def truncate_losses(run_dir, images_shown) -> int:
    """Drop the rows of ``losses.csv`` logged after ``images_shown`` (atomically).

    A run resumed from a checkpoint repeats the steps after it; without this the log would
    hold them twice and run backwards in kimg.  Returns the number of rows dropped.
    """
    path = Path(run_dir) / "losses.csv"
    if not path.exists():
        return 0
    with open(path, newline="") as handle:
        total = sum(1 for _ in handle) - 1
    rows = [r for r in _read_rows(path) if round(r["kimg"] * 1000) <= images_shown]
    if len(rows) == total:
        return 0
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=LossLog.FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "resolution": int(row["resolution"]),
                         "fading": int(row["fading"])})
    checkpoint.write_text_atomic(path, text.getvalue())
    return max(total - len(rows), 0)


def plot_losses(run_dir, path=None):
    """Plot D/G losses against kimg with resolution changes marked; saves ``losses.png``.

    Draws on a bare ``matplotlib.figure.Figure`` rather than pyplot, so that training from a
    notebook neither switches the notebook's backend nor leaves figures open.
    """
    from matplotlib.figure import Figure

    losses = read_losses(run_dir)
    if not losses:
        return None
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.plot(losses["kimg"], losses["d_loss"], label="D loss", lw=0.8)
    ax.plot(losses["kimg"], losses["g_loss"], label="G loss", lw=0.8)
    ax.plot(losses["kimg"], losses["wasserstein"], label="E[D(fake)] - E[D(real)]", lw=0.8)
    changes = np.flatnonzero(np.diff(losses["resolution"]))
    for index in changes:
        ax.axvline(losses["kimg"][index + 1], color="grey", ls=":", lw=0.8)
        ax.text(losses["kimg"][index + 1], ax.get_ylim()[1], f"{int(losses['resolution'][index + 1])}px",
                fontsize=7, va="top")
    ax.set_xlabel("images shown (kimg)")
    ax.set_ylabel("loss")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path = Path(path or Path(run_dir) / "losses.png")
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)
    return path
