"""The training loop every family shares: check, lock, resume, then ``fit`` phase by phase.

:func:`train` is what ``progan-tf train`` runs for ProGAN (through
:func:`progan_tf.gan.train.train`) and what a new family gets for free.  It reads top to
bottom like the life of a run:

1. check the options, the run folder and the data before anything is written, so a start that
   fails leaves no ``run.json`` behind;
2. lock the folder, write ``run.json`` (new runs) and ``dataset.json``;
3. build the family's model and continue from the newest loadable checkpoint (resuming);
4. call Keras ``fit`` once per phase of the family's schedule, with the shared callbacks, and
   write a sample grid, the loss plot and a checkpoint at every phase end.

Under a ``tf.distribute`` strategy (:mod:`progan_tf.training.distribute`) the batch sizes are
global, and only the chief writes: the other workers of a multi-worker run skip steps 1-2's
writes, train in step with the chief and resume from the checkpoint it chose.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from progan_tf.errors import RunDirectoryError, TrainingInterrupted
from progan_tf.training import callbacks as cb
from progan_tf.training import checkpoint, distribute, runs

__all__ = ["train"]

log = logging.getLogger(__name__)


def train(family: Any, config: Any, resume: bool = False, strategy: Any = None,
          stop_after_images: int | None = None, progress: bool = True,
          extra_callbacks: Sequence = (), log_every: int = 10) -> Path:
    """Train (or resume) the run of ``family`` described by ``config``.  Returns the run folder.

    Everything is checked before anything is written: the options, the run folder and the
    training data, so a start that fails leaves no ``run.json`` behind.  The run folder is
    locked (``train.lock``) while training.  Resuming continues from the newest loadable
    checkpoint (damaged newer ones are set aside as ``damaged-ckpt-*`` with a warning) and
    refuses options that differ from the run's, except the family's ``safe_on_resume``.

    Args:
        family: The :class:`~progan_tf.training.family.ModelFamily` to train.
        config: Its options (``family.config_class``).
        resume: Continue the run stored in ``config.out_dir`` (default ``False``).
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one); see
            :mod:`~progan_tf.training.distribute`.  Batch sizes are global; only the chief
            writes into the run folder.
        stop_after_images: End the session early (with a checkpoint) once that many images
            have been shown in total -- for tests and time-boxed sessions (default ``None``).
        progress: Show a progress bar (default ``True``).
        extra_callbacks: More Keras callbacks for every ``fit`` (default none).
        log_every: Log the losses every this many steps (default 10).

    Returns:
        The run folder.

    Raises:
        DatasetError: for invalid options or unusable training data, or batch sizes that
            the strategy's replicas cannot share evenly.
        RunDirectoryError: for a run folder that does not fit the request (in use, holding
            another run, damaged), naming what to do.
        TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
    """
    config.validate()
    out = Path(config.out_dir).expanduser()
    chief = distribute.is_chief(strategy)
    if resume:
        config = runs.resume_config(family, config, out)
    elif chief:  # another worker's chief may be creating the run right now
        runs.check_new_run_dir(out)
    distribute.check_batch_sizes(family.schedule(config).phases, strategy)
    if not chief:
        return _train_as_worker(family, config, resume, strategy, stop_after_images,
                                extra_callbacks, log_every)
    with runs.starting_run(out, config.command, resume) as start:
        data, info = family.load_data(config)
        if not resume:
            config = dataclasses.replace(config, out_dir=str(out),
                                         data_dir=str(Path(config.data_dir).expanduser().resolve()))
        start.begin(info, config.to_json())
        with distribute.worker_failures(strategy):
            return _fit_phases(family, config, data, resume, strategy, stop_after_images,
                               progress, extra_callbacks, log_every)


def _train_as_worker(family: Any, config: Any, resume: bool, strategy: Any,
                     stop_after_images: int | None, extra_callbacks: Sequence,
                     log_every: int) -> Path:
    """A multi-worker run's non-chief: trains in step with the chief and writes nothing."""
    out = Path(config.out_dir).expanduser()
    if not resume:
        config = dataclasses.replace(config, out_dir=str(out),
                                     data_dir=str(Path(config.data_dir).expanduser().resolve()))
    data, _ = family.load_data(config)
    log.info("training as %s; the chief writes the run folder", distribute.describe(strategy))
    with distribute.worker_failures(strategy):
        return _fit_phases(family, config, data, resume, strategy, stop_after_images, False,
                           extra_callbacks, log_every, chief=False)


def _resume_point(model: Any, config: Any, ckpt_dir: Path, schedule: Any,
                  strategy: Any = None, chief: bool = True) -> int:
    """Restore the newest loadable checkpoint into ``model``; returns the images shown.

    The chief (or the only process) chooses the checkpoint; the other workers of a multi-worker
    run restore the one it chose.
    """
    if not chief:
        shown = distribute.agree_with_chief(strategy, -1)
        if shown < 0:
            raise RunDirectoryError(f"the chief could not resume {str(ckpt_dir.parent)!r}; its "
                                    f"error says why")
        model.start_phase(schedule.phase_at(shown), config.jit_compile)
        if shown:
            found = ckpt_dir / f"ckpt-{shown:012d}"
            if checkpoint.problem(found) is not None:
                raise distribute.missing_checkpoint(ckpt_dir.parent, shown)
            checkpoint.restore(model, found)
            log.info("resumed from %s at %.1f kimg (the chief's choice)", found, shown / 1000)
        return shown
    try:
        shown, found = _choose_checkpoint(ckpt_dir)
    except RunDirectoryError:
        distribute.agree_with_chief(strategy, -1)  # the other workers stop too
        raise
    distribute.agree_with_chief(strategy, shown)
    model.start_phase(schedule.phase_at(shown), config.jit_compile)
    if found is not None:
        checkpoint.restore(model, found)
        log.info("resumed from %s at %.1f kimg", found, shown / 1000)
    return shown


def _choose_checkpoint(ckpt_dir: Path) -> tuple[int, Path | None]:
    """The newest loadable checkpoint and its image count (0, None: none was written)."""
    found, skipped = checkpoint.find_loadable(ckpt_dir)
    set_aside = sorted(ckpt_dir.glob(checkpoint.DAMAGED_PREFIX + "*"))
    if found is None and (skipped or set_aside):
        reasons = "; ".join([f"{path.name}: {reason}" for path, reason in skipped[:3]]
                            + [f"{path.name}: set aside as damaged" for path in set_aside[:3]])
        raise RunDirectoryError(
            f"none of the {len(skipped) + len(set_aside)} checkpoints in {str(ckpt_dir)!r} can "
            f"be loaded ({reasons}); start a new run in another folder, or move the checkpoints "
            f"folder away to train this run again from 0 kimg")
    for path, reason in skipped:
        moved = checkpoint.set_aside(path)
        log.warning("skipped checkpoint %s: %s; moved it to %s and fell back to %s",
                    path.name, reason, moved.name, found.name)
    if found is None:
        log.warning("%s has no checkpoint yet (the run was stopped before its first one was "
                    "written); starting it from 0 kimg", ckpt_dir.parent)
        return 0, None
    return checkpoint.read_state(found)["images_shown"], found


def _fit_phases(family: Any, config: Any, data: Any, resume: bool, strategy: Any,
                stop_after_images: int | None, progress: bool, extra_callbacks: Sequence,
                log_every: int, chief: bool = True) -> Path:
    """The loop of :func:`train`, in a locked run folder that passed every check.

    A non-``chief`` worker trains the same steps and writes nothing.
    """
    run_dir = Path(config.out_dir)
    ckpt_dir = run_dir / "checkpoints"
    if chief:
        for done in checkpoint.clean_up(ckpt_dir):
            log.info("checkpoints: %s (left by an interrupted save)", done)
        runs.remove_temporaries(run_dir)

    # The model, at the schedule's start or at the newest loadable checkpoint.
    schedule = family.schedule(config)
    model = family.build_model(config, strategy)
    if distribute.num_workers(strategy) > 1:
        distribute.average_logs_across_workers(model)
    if resume:
        shown = _resume_point(model, config, ckpt_dir, schedule, strategy, chief)
        if chief:
            cb.truncate_losses(run_dir, shown)
    else:
        shown = 0
        model.start_phase(schedule.phase_at(0), config.jit_compile)

    # The callbacks every fit() gets; the checkpointer also catches SIGINT/SIGTERM.
    sample_inputs = family.sample_inputs(config)
    clock = {"schedule": schedule.to_dict()}
    if shown:  # the training time of the sessions before, from the checkpoint resumed
        resumed = checkpoint.read_state(ckpt_dir / f"ckpt-{shown:012d}")
        clock.update({key: resumed[key] for key in ("train_seconds", "cpu_seconds")
                      if key in resumed})
    saver = cb.Checkpointer(ckpt_dir, config.checkpoint_minutes, extra_state=clock,
                            writes=chief)
    # The clock comes before the checkpointer, so a checkpoint counts the step it follows.
    # The model carries it for callbacks that report time (training.quality.QualityLog).
    model.training_clock = cb.TrainingClock(clock)
    losses = cb.LossLog(run_dir, family.loss_columns, every_n_batches=log_every) if chief else None
    end = min(schedule.total_images, stop_after_images or schedule.total_images)
    bar = cb.ProgressBar(schedule.total_images, shown, disable=not progress,
                         describe=family.describe_step)
    callbacks = [model.training_clock, saver, *([losses] if chief else []), bar,
                 *extra_callbacks]
    saver.install_signal_handlers()

    # One fit() per phase (or per part of a phase, when resuming or stopping inside one).
    try:
        while shown < end and not saver.interrupted:
            phase = schedule.phase_at(shown)
            if phase != model.phase:
                model.start_phase(phase, config.jit_compile)
            steps = math.ceil((min(phase.end_images, end) - shown) / phase.batch_size)
            dataset = family.dataset(config, data, phase, shown)
            with warnings.catch_warnings():  # our stream is shuffled; Keras can't know that
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0,
                          callbacks=callbacks)
            shown = int(model.images_shown.numpy())
            if chief and (shown >= phase.end_images or shown >= end):
                path = run_dir / "samples" / f"{family.sample_name(phase)}.png"
                cb.save_sample_grid(model.sample(sample_inputs).numpy(), path, losses.writer,
                                    shown)
                cb.plot_losses(run_dir, family.loss_curves, marker=family.loss_marker)
                saver.save()
    finally:
        saver.restore_signal_handlers()
        bar.close(shown)
    if saver.interrupted and not chief:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at {shown / 1000:.1f} kimg; the chief "
            f"saves the checkpoints; stop every worker and continue with --resume on all of "
            f"them", signal=saver.interrupted)
    if saver.interrupted:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at {shown / 1000:.1f} kimg; checkpoint saved "
            f"in {str(ckpt_dir)!r}; continue with --resume", signal=saver.interrupted)
    return run_dir
