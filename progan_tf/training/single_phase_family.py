"""What the families that train at one resolution share besides their options.

DCGAN, Pix2Pix and SRGAN; their options are :mod:`progan_tf.training.single_phase`'s.

:class:`SinglePhaseFamily` is a :class:`~progan_tf.training.family.ModelFamily` whose options
are a :class:`~progan_tf.training.single_phase.SinglePhaseConfig`.  It supplies

* :meth:`~SinglePhaseFamily.train` -- refuse resuming another family's run, draw
  :class:`ProgressGrids` every ``grid_every_kimg`` (families with ``progress_grids``), then
  the shared loop (:func:`progan_tf.training.loop.train`): what ``<family>.train`` is;
* :meth:`~SinglePhaseFamily.export_run` -- refuse another family's run, then the shared
  export (:func:`progan_tf.training.export.export_run`): what ``<family>.export_run`` does;
* :meth:`~SinglePhaseFamily.load_data` -- a folder of images at the run's resolution, less
  the holdout (a family adds what ``dataset.json`` records about it with ``data_info``);
* ``schedule`` (the options' own) and ``sample_name`` (``final-<r>px``).

A family still builds its networks (inside :func:`model_scope`), streams its batches and
writes its export.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from progan_tf.checks import check_number
from progan_tf.errors import DatasetError
from progan_tf.training import data, loop, runs
from progan_tf.training import export as mechanics
from progan_tf.training.distribute import is_chief
from progan_tf.training.family import ModelFamily

__all__ = ["ProgressGrids", "SinglePhaseFamily", "check_holdout", "model_scope"]

log = logging.getLogger(__name__)

EXPORT_ADVICE = "export it with 'progan-tf export', which reads the family from its run.json"
"""What to do with a run of another family than the one ``export_run`` was called for."""


@contextlib.contextmanager
def model_scope(config: Any, strategy: Any = None, precision: str | None = None) -> Iterator[Any]:
    """Create a run's networks under ``strategy``'s scope, its dtype policy and its seed.

    Args:
        config: The run's options (``precision``, ``seed``).
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        precision: The Keras dtype policy (default ``None``: ``config.precision``); set only
            inside the ``with`` block.

    Yields:
        The strategy.

    Example:
    >>> from types import SimpleNamespace
    >>> with model_scope(SimpleNamespace(precision="float32", seed=0)):
    ...     keras.layers.Dense(2).dtype_policy.name
    'float32'
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision or config.precision)
    try:
        with strategy.scope():
            keras.utils.set_random_seed(config.seed)
            yield strategy
    finally:
        keras.config.set_dtype_policy(previous_policy)


def check_holdout(holdout: int, count: int, what: str, data_dir: Any) -> None:
    """Refuse a holdout that leaves nothing to train on, in one line.

    Args:
        holdout: The examples held out.
        count: The examples there are.
        what: Their name in the message (``"images"``, ``"pairs"``).
        data_dir: Where they are (for the message).

    Raises:
        DatasetError: ``holdout >= count``.

    Example:
    >>> check_holdout(8, 48, "images", "faces")
    >>> check_holdout(48, 48, "pairs", "faces")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.DatasetError: holdout of 48 pairs leaves nothing to train on (48 pairs ...
    """
    if holdout >= count:
        raise DatasetError(f"holdout of {holdout} {what} leaves nothing to train on ({count} "
                           f"{what} in {data_dir!r})")


class ProgressGrids(keras.callbacks.Callback):
    """Draw the same latents every ``every_images`` images (or every epoch): progress pictures.

    Args:
        latents: The fixed latents ``[N, latent_dim]`` of every grid.
        every_images: Draw when the run's image count passes a multiple of this (default
            ``None``: at the end of every epoch, as the course does on MNIST).
        folder: Also write each grid to ``folder/progress-<images shown>.png`` (default
            ``None``: keep them in memory only).  Counts are the run's, so a resumed run
            continues the series.
        writer: A ``tf.summary`` writer for TensorBoard (default ``None``), or a folder to
            create one in when the first grid is drawn (a run's ``logs``).
        keep: How many grids to keep in :attr:`grids` (default 64; the files stay).

    Attributes:
        grids: ``[(images shown, images [N, H, W, 3] in [0, 1]), ...]``, oldest first.

    Example:
    >>> grids = ProgressGrids(np.zeros((4, 8), "float32"), every_images=1000)
    >>> grids.grids
    []
    """

    def __init__(self, latents: Any, every_images: int | None = None,
                 folder: str | os.PathLike | None = None, writer: Any = None,
                 keep: int = 64) -> None:
        super().__init__()
        self.latents = np.asarray(latents, dtype="float32")
        self.every = (None if every_images is None
                      else round(check_number(every_images, "every_images", minimum=1)))
        self.folder = Path(folder) if folder is not None else None
        self.writer, self.keep = writer, int(keep)
        self.grids: list[tuple[int, np.ndarray]] = []
        self.next_images = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Schedule the next grid after the images already shown (a resumed run's too)."""
        if self.every is not None:
            shown = int(self.model.images_shown.numpy())
            self.next_images = (shown // self.every + 1) * self.every

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Draw a grid when the image count has passed the next multiple."""
        if self.every is None:
            return
        shown = int(self.model.images_shown.numpy())
        if shown >= self.next_images:
            self.draw(shown)
            self.next_images = (shown // self.every + 1) * self.every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Draw a grid (only when no ``every_images`` was given)."""
        if self.every is None:
            self.draw(int(self.model.images_shown.numpy()))

    def draw(self, shown: int) -> np.ndarray:
        """Draw the latents now; keep (and write) the grid.  Returns the images."""
        images = np.asarray(self.model.sample(self.latents))
        self.grids = [*self.grids, (shown, images)][-self.keep:]
        if self.folder is not None and is_chief(self.model.distribute_strategy):
            import tensorflow as tf

            from progan_tf.training.callbacks import save_sample_grid

            if isinstance(self.writer, (str, os.PathLike)):
                self.writer = tf.summary.create_file_writer(str(self.writer))

            save_sample_grid(images, self.folder / f"progress-{shown:012d}.png", self.writer,
                             shown)
        return images


class SinglePhaseFamily(ModelFamily):
    """A family that trains at one resolution on a folder of images (DCGAN, Pix2Pix, SRGAN).

    Attributes:
        arch: The ``"arch"`` of its runs (``run.json``) and exports.
        progress_grids: Draw the sample inputs every ``config.grid_every_kimg`` thousand
            images into ``samples/progress-*.png`` (default ``False``).
    """

    arch: str
    progress_grids: bool = False

    def schedule(self, config: Any) -> Any:
        """The options' own schedule (one phase of ``kimg`` thousand images, unless overridden)."""
        return config.schedule()

    def load_data(self, config: Any) -> tuple[Any, dict]:
        """The images of ``config.data_dir`` at the run's resolution, less the holdout.

        Grey and transparent pictures are read as every picture is (grey expanded to RGB,
        transparency on white: :func:`progan_tf.images.load_image`).
        """
        folder = data.load_image_folder(config.data_dir, config.resolution, crop=config.crop)
        if config.holdout:
            check_holdout(config.holdout, len(folder), "images", config.data_dir)
            folder.images = folder.images[:-config.holdout]
            folder.files = folder.files[:-config.holdout]
        log.info("training on %s", data.describe(folder))
        info = {"directory": str(Path(config.data_dir).expanduser().resolve()),
                "images": len(folder), "skipped": len(folder.skipped),
                "upscaled": folder.upscaled, "holdout": config.holdout,
                **self.data_info(config)}
        return folder, info

    def data_info(self, config: Any) -> dict:
        """What ``dataset.json`` records besides the folder's counts (default: nothing)."""
        return {}

    def image_batches(self, config: Any, folder: Any, phase: Any, start_index: int) -> Any:
        """Shuffled (optionally mirrored) batches of the folder's images in [-1, 1]."""
        return data.training_dataset(folder.images, phase.resolution, phase.batch_size,
                                     start_index=start_index, seed=config.seed,
                                     mirror=config.mirror)

    def sample_name(self, phase: Any) -> str:
        """``final-64px``: the grid of the run's end (progress grids are ``progress-*``)."""
        return f"final-{phase.resolution}px"

    def train(self, config: Any, resume: bool = False, strategy: Any = None,
              stop_after_images: int | None = None, progress: bool = True,
              extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
        """Train (or resume) the run described by ``config``.  Returns the run folder.

        Everything is checked before anything is written (the options, the run folder, the
        data), so a start that fails leaves nothing behind; resuming refuses a run of another
        family and options that differ from the run's, except the family's
        ``safe_on_resume``.

        Args:
            config: The run's options (the family's ``config_class``).
            resume: Continue the run stored in ``config.out_dir`` (default ``False``).
            strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
            stop_after_images: End the session early (with a checkpoint) once that many
                images have been shown in total (default ``None``).
            progress: Show a progress bar (default ``True``).
            extra_callbacks: More Keras callbacks (default none).
            log_every: Log the losses every this many steps (default 10).

        Returns:
            The run folder.

        Raises:
            DatasetError: for invalid options or unusable training data.
            RunDirectoryError: for a run folder that does not fit the request (in use, holding
                another run or another family's, damaged), naming what to do.
            TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
        """
        config.validate()  # before the sample inputs are drawn from the options
        if resume:
            runs.check_run_arch(config.out_dir, self.arch)
        if self.progress_grids:
            run_dir = Path(config.out_dir).expanduser()
            grids = ProgressGrids(self.sample_inputs(config),
                                  every_images=round(config.grid_every_kimg * 1000),
                                  folder=run_dir / "samples", writer=run_dir / "logs")
            extra_callbacks = (grids, *extra_callbacks)
        return loop.train(self, config, resume=resume, strategy=strategy,
                          stop_after_images=stop_after_images, progress=progress,
                          extra_callbacks=extra_callbacks, log_every=log_every)

    def export_run(self, run_dir: str | os.PathLike, out_dir: str | os.PathLike,
                   metrics: dict | None = None, overwrite: bool = False,
                   allow_fade_in: bool = False) -> Path:
        """Export the generator of the newest checkpoint of a run (``progan-tf export``).

        Args:
            run_dir: A run folder of this family (``progan-tf train --arch NAME --out``).
            out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
            metrics: Stored under ``"metrics"`` in ``metadata.json`` (default ``None``).
            overwrite: Replace an earlier export (only that; default ``False``).
            allow_fade_in: Ignored (one phase never fades in); accepted so that ``progan-tf
                export`` calls every family alike.

        Returns:
            ``out_dir`` as a ``Path``.

        Raises:
            RunDirectoryError: not a run (or another family's), no checkpoint yet, or
                ``out_dir`` may not be written.
        """
        del allow_fade_in
        runs.check_run_arch(run_dir, self.arch, advice=EXPORT_ADVICE)
        return mechanics.export_run(self, run_dir, out_dir, metrics=metrics, overwrite=overwrite)
