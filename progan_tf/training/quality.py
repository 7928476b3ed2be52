"""Quality along the way: SWD of the generator against held-out images while a run trains.

"How long until the faces are good?" is the question people who train ask, and it is answered
by measuring during training rather than at its end.  :class:`QualityLog` evaluates the EMA
generator every ``every_kimg`` thousand images -- only once the networks work at the final
resolution, where the numbers compare with the final model's -- and appends a row to
``quality.csv``: kimg, the phase, the run's training seconds so far (the steps only, carried over
when a run resumes: :class:`~progan_tf.training.callbacks.TrainingClock`) -- as wall time and as
the process's CPU time, which a machine busy with other work inflates less -- and the sliced
Wasserstein distance per pyramid level beside the real-vs-real floor measured with the same
number of images and the same seed.

Import rule: the metrics, the helper layer and :mod:`progan_tf.training`; nothing of a model
family (the model it watches need only have ``phase``, ``images_shown``, ``latent_dim``,
``sample(latents)`` and the ``training_clock`` that :func:`progan_tf.training.loop.train` gives
it).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from progan_tf import fileio
from progan_tf.checks import check_number, check_whole_number
from progan_tf.metrics import sliced_wasserstein_distance
from progan_tf.training.distribute import is_chief

__all__ = ["QUALITY_FILE", "QualityLog", "held_out_and_floor", "read_quality", "time_to_quality"]

QUALITY_FILE = "quality.csv"


class QualityLog(keras.callbacks.Callback):
    """Append the generator's SWD against held-out images to ``quality.csv`` every few kimg.

    Args:
        run_dir: The run folder.
        real_images: Held-out images ``[N, r, r, 3]`` uint8 at the final resolution ``r``.
        floor_images: Other real images of the same size (e.g. training images), disjoint from
            ``real_images``: SWD between the two is the floor a generator can reach.
        resolution: Evaluate only while the networks work at this resolution (fade-in
            included).
        every_kimg: Evaluate every this many thousand images (default 5).
        num_images: Images per set (default 1000: all three sets are cut to the smallest).
        seed: Fixes the latents and SWD's patches and directions (default 0).

    Example:
    >>> import tempfile
    >>> log = QualityLog(tempfile.mkdtemp(), np.zeros((4, 16, 16, 3), np.uint8),
    ...                  np.ones((4, 16, 16, 3), np.uint8), resolution=16)
    >>> log.floor
    {16: 0.0}
    """

    def __init__(self, run_dir: str | os.PathLike, real_images: Any, floor_images: Any,
                 resolution: int, every_kimg: float = 5.0, num_images: int = 1000,
                 seed: int = 0) -> None:
        super().__init__()
        self.path = Path(run_dir) / QUALITY_FILE
        self.every = round(check_number(every_kimg, "every_kimg", exclusive_minimum=0) * 1000)
        self.count = check_whole_number(num_images, "num_images", minimum=2)
        self.resolution, self.seed = int(resolution), int(seed)
        self.real = np.asarray(real_images)[:self.count]
        self.floor = sliced_wasserstein_distance(self.real, np.asarray(floor_images)[:self.count],
                                                 seed=self.seed)["levels"]
        rows = read_quality(run_dir)
        self.next_images = (round(float(rows[-1]["kimg"]) * 1000) + self.every if rows else 0)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Evaluate when due (on the chief only: it writes the run)."""
        if not is_chief(self.model.distribute_strategy):
            return
        shown = int(self.model.images_shown.numpy())
        if shown >= self.next_images and self.model.phase.resolution == self.resolution:
            self.evaluate(shown)

    def on_train_end(self, logs: dict | None = None) -> None:
        """Evaluate at the end of every fit() at the final resolution (a session's last word)."""
        if not is_chief(self.model.distribute_strategy):
            return
        shown = int(self.model.images_shown.numpy())
        rows = read_quality(self.path.parent)
        if (self.model.phase.resolution == self.resolution
                and (not rows or round(float(rows[-1]["kimg"]) * 1000) != shown)):
            self.evaluate(shown)

    def evaluate(self, shown: int) -> dict:
        """Generate ``num_images`` images, measure SWD per level, append the row; returns it."""
        rng = np.random.default_rng(self.seed)
        latents = rng.standard_normal((len(self.real), self.model.latent_dim)).astype("float32")
        fakes = np.concatenate([np.asarray(self.model.sample(latents[i:i + 250]))
                                for i in range(0, len(latents), 250)])
        swd = sliced_wasserstein_distance(self.real, np.clip(fakes, 0, 1), seed=self.seed)
        phase, clock = self.model.phase, self.model.training_clock
        row = {"kimg": shown / 1000, "phase": phase.name,
               "train_seconds": round(clock.train_seconds, 2),
               "cpu_seconds": round(clock.cpu_seconds, 2)}
        for level, value in swd["levels"].items():
            row[f"swd_{level}"] = round(value, 4)
            row[f"floor_{level}"] = round(self.floor[level], 4)
        _append_row(self.path, row)
        self.next_images = shown + self.every
        return row


def held_out_and_floor(images: Any, holdout: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split a folder's images into the held-out ones and as many training images for the floor.

    The held-out images are the last ``holdout`` (as ``--holdout`` leaves them out of training);
    the floor's are drawn from the rest, without replacement, by ``seed``, in folder order.

    Args:
        images: ``[N, r, r, 3]`` images, in the order training sees the folder.
        holdout: How many images at the end were held out, from 1 to ``N - 1``.
        seed: Picks the floor's training images (default 0).

    Returns:
        ``(held_out, floor)``, each with ``min(holdout, N - holdout)`` images.

    Example:
    >>> images = np.arange(10)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    >>> held_out, floor = held_out_and_floor(images, 3)
    >>> held_out[:, 0, 0, 0].tolist(), len(floor), bool(floor[:, 0, 0, 0].max() < 7)
    ([7, 8, 9], 3, True)
    """
    images = np.asarray(images)
    holdout = check_whole_number(holdout, "holdout", minimum=1, maximum=len(images) - 1)
    held_out, training = images[len(images) - holdout:], images[:len(images) - holdout]
    count = min(len(held_out), len(training))
    pick = np.random.default_rng(seed).choice(len(training), count, replace=False)
    return held_out[:count], training[np.sort(pick)]


def _append_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV at ``path``, atomically (rewrites the small file)."""
    rows = read_quality(path.parent)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(row))
    writer.writeheader()
    writer.writerows([{key: old.get(key, "") for key in row} for old in rows] + [row])
    fileio.write_text(path, text.getvalue())


def read_quality(run_dir: str | os.PathLike) -> list[dict]:
    """The rows of ``run_dir/quality.csv`` as dicts of strings (``[]`` when there is none).

    Example:
    >>> read_quality("no-such-run")
    []
    """
    try:
        with open(Path(run_dir) / QUALITY_FILE, newline="") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        return []


def time_to_quality(rows: list[dict], level: int, factor: float = 2.0) -> dict | None:
    """The first row whose SWD at ``level`` is within ``factor`` times the floor, or ``None``.

    Example:
    >>> rows = [{"kimg": "5", "train_seconds": "60", "swd_32": "30", "floor_32": "10"},
    ...         {"kimg": "10", "train_seconds": "120", "swd_32": "19", "floor_32": "10"}]
    >>> time_to_quality(rows, 32)["kimg"]
    '10'
    """
    for row in rows:
        if float(row[f"swd_{level}"]) <= factor * float(row[f"floor_{level}"]):
            return row
    return None
