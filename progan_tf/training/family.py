"""The interface a GAN family implements to be trained by :mod:`progan_tf.training`.

A family is one small object, a :class:`ModelFamily`, that answers the questions the shared
training loop cannot answer for every GAN: which networks to build
(:meth:`~ModelFamily.build_model`, returning a ``keras.Model`` whose ``train_step`` does one
update -- the :class:`Trainable` described below), what the run looks like over time
(:meth:`~ModelFamily.schedule`), which data a phase trains on (:meth:`~ModelFamily.load_data`,
:meth:`~ModelFamily.dataset`) and what the run exports (:meth:`~ModelFamily.export_phase`,
:meth:`~ModelFamily.export`).  Everything else -- run folders and their lock, checkpoints and
resuming, the progress bar, loss log, sample grids and TensorBoard, the atomic export folder --
is the same for every family and lives beside this module.

The methods have defaults where one answer suits most GANs, so a family that trains in one
phase with a single ``fit`` only overrides the abstract methods.
"""

from __future__ import annotations

import abc
import dataclasses
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["ModelFamily", "Phase", "Schedule", "Trainable"]


@runtime_checkable
class Phase(Protocol):
    """One stretch of a run that trains with one setting (one ``fit`` call).

    Attributes:
        index: Its position in the schedule (0, 1, ...).
        name: A short description for people (``"8x8 fade-in"``).
        start_images: The image count at which it starts.
        end_images: The image count at which the next phase starts.
        batch_size: The global minibatch size it trains with.
    """

    index: int
    name: str
    start_images: int
    end_images: int
    batch_size: int


@runtime_checkable
class Schedule(Protocol):
    """The phases of a run, measured in images shown, so that resuming needs only that count."""

    @property
    def phases(self) -> list:
        """Every :class:`Phase`, in order."""

    @property
    def total_images(self) -> int:
        """The run's length in images (the last phase's ``end_images``)."""

    def phase_at(self, images_shown: int) -> Phase:
        """The phase the image counter falls in (the last one at the end)."""

    def to_dict(self) -> dict:
        """The schedule as JSON-serialisable values (stored in checkpoints and exports)."""


@runtime_checkable
class Trainable(Protocol):
    """The ``keras.Model`` a family trains: Keras ``fit`` calls its ``train_step``.

    Besides ``train_step`` (returning a dict of the step's losses), it keeps the training
    position and tells the checkpoints what to store.

    Attributes:
        images_shown: An int64 ``tf.Variable``: real images shown so far (``train_step``
            adds the global batch size).  Checkpoints are named after it.
        step_count: An int64 ``tf.Variable``: training steps so far, over the whole run (the
            loss log writes every n-th step of the run, so a resumed run logs the same steps).
        phase: The phase it was last prepared for (``None`` before).
    """

    images_shown: Any
    step_count: Any
    phase: Any

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for ``phase`` (set stages, reset optimizers, ``compile``)."""

    def sample(self, inputs: Any) -> Any:
        """Images in [0, 1] for the sample grid, from :meth:`ModelFamily.sample_inputs`."""

    def checkpoint_networks(self) -> dict:
        """``{file name: network}``: the networks whose weights a checkpoint stores."""

    def checkpoint_optimizers(self) -> dict:
        """``{file name: (optimizer or None, network file name, variables it trains)}``."""

    def checkpoint_state(self) -> dict:
        """JSON-serialisable state besides the weights (noise generator, step counts, ...)."""

    def optimizer_state_applies(self, state: dict) -> bool:
        """Whether a checkpoint's optimizer state fits the current optimizers."""

    def restore_checkpoint_state(self, state: dict) -> None:
        """Restore what :meth:`checkpoint_state` recorded."""


class ModelFamily(abc.ABC):
    """A kind of GAN the shared infrastructure can train, resume and export.

    Subclass it, implement the abstract methods, and pass an instance to
    :func:`progan_tf.training.train`.  The run's options are a dataclass (``config_class``)
    with at least the fields ``data_dir``, ``out_dir``, ``seed``, ``checkpoint_minutes``,
    ``jit_compile`` and ``command``, and the methods ``validate()``, ``to_json()`` and the
    class method ``from_json(text)``.

    Attributes:
        config_class: The dataclass of the run's options (stored in ``run.json``).
        safe_on_resume: Fields of the options that may differ when a run is resumed; any other
            difference is refused, naming it.
        loss_columns: The columns of ``losses.csv`` after ``kimg``.  Each is read from the
            step's logs (what ``train_step`` returns), else from the phase's attribute of that
            name (booleans are written as 0/1).
        loss_curves: ``{column: label}``: what ``losses.png`` plots.
        loss_marker: A column whose changes ``losses.png`` marks (``None``: none).
        sample_count: How many pictures a sample grid shows.
    """

    config_class: type
    safe_on_resume: tuple[str, ...] = ("checkpoint_minutes", "jit_compile", "command", "out_dir")
    loss_columns: tuple[str, ...] = ()
    loss_curves: dict[str, str] = {}  # read-only: a family assigns its own
    loss_marker: str | None = None
    sample_count: int = 16

    # -- the model and its schedule -----------------------------------------------------------

    @abc.abstractmethod
    def build_model(self, config: Any, strategy: Any = None,
                    precision: str | None = None) -> Trainable:
        """The networks and their ``train_step``, created under ``strategy``'s scope.

        Args:
            config: The run's options.
            strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
            precision: A Keras dtype policy that overrides the options' (default ``None``);
                exports build in ``"float32"``.
        """

    @abc.abstractmethod
    def schedule(self, config: Any) -> Schedule:
        """The phases of the run: what changes when, and each phase's batch size."""

    # -- the data -------------------------------------------------------------------------------

    @abc.abstractmethod
    def load_data(self, config: Any) -> tuple[Any, dict]:
        """Everything the run trains on, checked, and what ``dataset.json`` records about it.

        Returns:
            ``(data, info)``; ``info["images"]`` is the number of training examples (a resumed
            run warns when it changed).

        Raises:
            DatasetError: the data cannot be used, in one line.
        """

    @abc.abstractmethod
    def dataset(self, config: Any, data: Any, phase: Phase, start_index: int) -> Any:
        """The ``tf.data.Dataset`` of global batches for ``phase``, from example ``start_index``.

        The order must be a function of the seed and ``start_index`` alone, so that a resumed
        run sees exactly the examples the uninterrupted one would have seen.
        """

    def sample_inputs(self, config: Any) -> np.ndarray:
        """The fixed inputs of the sample grids (default: ``sample_count`` seeded latents)."""
        return np.random.default_rng(config.seed).standard_normal(
            (self.sample_count, config.latent_dim)).astype("float32")

    # -- what people see while it trains ---------------------------------------------------------

    def sample_name(self, phase: Phase) -> str:
        """The file name (no suffix) of the sample grid written at the end of ``phase``."""
        return f"phase-{phase.index:02d}"

    def describe_step(self, phase: Phase, logs: dict) -> str:
        """The progress bar's text after a step (default: the phase and the losses)."""
        losses = " ".join(f"{key}={float(logs[key]):.3f}" for key in self.loss_columns
                          if key in logs)
        return f"{phase.name} {losses}".strip()

    # -- resuming ---------------------------------------------------------------------------------

    def comparable(self, config: Any) -> dict:
        """The options as compared on resume (default: the fields, ``data_dir`` resolved)."""
        values = dataclasses.asdict(config)
        values["data_dir"] = os.path.realpath(os.path.expanduser(str(config.data_dir)))
        return values

    # -- exporting --------------------------------------------------------------------------------

    def export_phase(self, schedule: Schedule, state: dict, run_dir: Path,
                     **options: Any) -> tuple[Phase, dict]:
        """The phase whose networks a checkpoint's export holds, and metadata about it.

        Args:
            schedule: The run's schedule.
            state: The checkpoint's ``state.json``.
            run_dir: The run folder (for messages).
            **options: The family's export options (ProGAN: ``allow_fade_in``).

        Returns:
            ``(phase, extra metadata)``; by default the phase the checkpoint was taken in.
        """
        return schedule.phase_at(max(state["images_shown"] - 1, 0)), {}

    @abc.abstractmethod
    def export(self, model: Trainable, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """Write what users load (a serving SavedModel + ``metadata.json``) to ``out_dir``.

        Use :func:`progan_tf.training.export.write_export` for the atomic folder and
        :func:`progan_tf.training.export.frozen_function` for a serving function that keeps
        working after the loaded object is garbage-collected.
        """
