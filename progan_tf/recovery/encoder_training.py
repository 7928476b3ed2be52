"""Training an encoder for a frozen generator, in the style of in-domain GAN inversion.

Every step (:meth:`~progan_tf.recovery.encoder_family.EncoderTrainer.train_step`) trains the
encoder ``E`` on two kinds of examples while the generator ``G`` stays frozen:

* **generated pairs** ``z -> x = G(z)``: the encoded latent ``E(x)`` should point where ``z``
  does (``1 - cos``: ProGAN sees only a latent's direction) *and* its image ``G(E(x))`` should
  be ``x`` (mean squared error in pixels);
* **real faces** ``x`` (with ``data_dir``): only the image must come back, ``G(E(x)) ~ x`` --
  a real face has no true latent, and this is what makes the encoder "in-domain" (Zhu et al.,
  2020, https://arxiv.org/abs/2004.00049): trained through the generator on the pictures it
  will be asked to invert.

:func:`train_encoder` runs it with Keras ``fit`` in a run folder of
:mod:`progan_tf.training` -- ``run.json``, ``train.lock``, atomic checkpoints, ``losses.csv``,
the training clock -- so an interrupted training continues with ``resume=True`` (``progan-tf
train-encoder --resume``) exactly where its last checkpoint left it, and a folder that holds
another run, or files of its own, is refused before anything is written. When the budget
(``steps``, or ``minutes`` of training time over all sessions) is used up, the encoder is
written into the run folder (:data:`~progan_tf.recovery.encoder.ENCODER_FILES`), which
``recover_latent(..., init=folder)`` then reads; a larger budget and ``resume=True`` train it
further.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from pathlib import Path
from typing import Any

import keras

from progan_tf.errors import RunDirectoryError, TrainingInterrupted
from progan_tf.recovery.encoder_family import (
    EncoderConfig,
    EncoderFamily,
    EncoderPhase,
    EncoderTrainer,
    evaluate_encoder,
)
from progan_tf.recovery.fingerprint import fingerprint_mismatch, generator_fingerprint
from progan_tf.training import callbacks as cb
from progan_tf.training import checkpoint, runs

__all__ = ["EncoderConfig", "read_encoder_run", "train_encoder"]

log = logging.getLogger(__name__)


def train_encoder(config: EncoderConfig, *, resume: bool = False, generator: Any = None,
                  progress: bool = True, stop_after_steps: int | None = None) -> Path:
    """Trains (or resumes) an encoder for ``config.model``; returns the run folder.

    Everything is checked before anything is written: the options, the folder (new or empty;
    with ``resume``, a run whose generator has the same fingerprint), the generator and the
    faces. When the budget is used up the encoder is written into the folder; a session that
    ends early (``stop_after_steps``, Ctrl-C, SIGTERM) leaves a checkpoint to resume from.

    Args:
        config: The options.
        resume: Continue the run in ``config.out_dir`` (only ``steps``, ``minutes``,
            ``checkpoint_minutes`` and ``jit_compile`` may differ from its ``run.json``).
        generator: The loaded generator, if the caller has it (default: load
            ``config.model``).
        progress: Show a progress bar.
        stop_after_steps: End this session after that many steps in all (for tests and
            time-boxed sessions).

    Returns:
        The run folder (which holds the encoder once the budget is used up).

    Raises:
        OptionError: For an invalid option.
        DatasetError: For unusable faces.
        RunDirectoryError: For a folder that does not fit the request, saying what to do.
        TrainingInterrupted: After Ctrl-C/SIGTERM, once the checkpoint is written.
    """
    config.validate()
    out = Path(config.out_dir).expanduser()
    if resume:
        read_encoder_run(out)  # another kind of run is refused before the slow model load
    else:
        _refuse_other_runs(out)
        runs.check_new_run_dir(out)
    if generator is None:
        from progan_tf.generator import load_generator

        generator = load_generator(config.model)
    family = EncoderFamily(generator)
    if resume:
        config = runs.resume_config(family, config, out)
        problem = fingerprint_mismatch(config.fingerprint, generator)
        if problem is not None:
            raise RunDirectoryError(f"cannot resume {str(out)!r}: it trains an encoder for "
                                    f"{config.model!r} and {problem}; pass --model {config.model}")
    data, info = family.load_data(config)
    with runs.starting_run(out, config.command, resume) as start:
        if not resume:
            config = dataclasses.replace(
                config, out_dir=str(out), fingerprint=generator_fingerprint(generator),
                data_dir=info["directory"])
        start.begin(info, config.to_json())
        return _fit(family, config, data, info, resume, progress, stop_after_steps)


def read_encoder_run(run_dir: str | Path) -> EncoderConfig:
    """The options of the encoder training in ``run_dir`` (its ``run.json``).

    Raises:
        RunDirectoryError: If the folder holds no run, another kind of run, or a damaged one.
    """
    _refuse_other_runs(Path(run_dir).expanduser())
    return runs.read_run_config(EncoderConfig, Path(run_dir).expanduser())


def _refuse_other_runs(run_dir: Path) -> None:
    """Raises if ``run_dir/run.json`` holds the options of another kind of run."""
    stored = runs.read_json(run_dir / runs.RUN_FILE)
    if isinstance(stored, dict) and not {"model", "fingerprint"} <= set(stored):
        raise RunDirectoryError(f"{str(run_dir)!r} holds another kind of run (its run.json is "
                                f"not an encoder training's); choose a new folder for the "
                                f"encoder")


def _fit(family: EncoderFamily, config: EncoderConfig, data: Any, info: dict, resume: bool,
         progress: bool, stop_after_steps: int | None) -> Path:
    """The training of :func:`train_encoder`, in a locked run folder that passed every check."""
    run_dir, schedule = Path(config.out_dir), family.schedule(config)
    ckpt_dir = run_dir / "checkpoints"
    for done in checkpoint.clean_up(ckpt_dir):
        log.info("checkpoints: %s (left by an interrupted save)", done)
    runs.remove_temporaries(run_dir)
    model = family.build_model(config)
    model.start_phase(schedule.phases[0], config.jit_compile)
    clock = {"schedule": schedule.to_dict()}
    if resume:
        found = _newest_checkpoint(ckpt_dir)
        if found is not None:
            state = checkpoint.restore(model, found)
            clock.update({key: state[key] for key in ("train_seconds", "cpu_seconds")
                          if key in state})
            log.info("resumed from %s at step %d", found.name, int(model.steps_done.numpy()))
        cb.truncate_losses(run_dir, int(model.images_shown.numpy()))
    steps_done = int(model.steps_done.numpy())
    saver = cb.Checkpointer(ckpt_dir, config.checkpoint_minutes, extra_state=clock)
    model.training_clock = cb.TrainingClock(clock)
    losses = cb.LossLog(run_dir, family.loss_columns, every_n_batches=10)
    bar = cb.ProgressBar(schedule.total_images, int(model.images_shown.numpy()),
                         disable=not progress, describe=_describe)
    budget = _Budget(model.training_clock, config.steps, config.minutes)
    end = min(config.steps, stop_after_steps or config.steps)
    saver.install_signal_handlers()
    try:
        if steps_done < end and not budget.used_up():
            dataset = family.dataset(config, data, schedule.phases[0],
                                     steps_done * config.real_batch_size)
            with warnings.catch_warnings():  # our stream is shuffled; Keras can't know that
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(dataset, steps_per_epoch=end - steps_done, epochs=1, verbose=0,
                          callbacks=[model.training_clock, saver, losses, bar, budget])
            saver.save()
    finally:
        saver.restore_signal_handlers()
        bar.close(int(model.images_shown.numpy()))
    steps_done = int(model.steps_done.numpy())
    if saver.interrupted:
        raise TrainingInterrupted(
            f"training stopped by {saver.interrupted} at step {steps_done}; checkpoint saved in "
            f"{str(ckpt_dir)!r}; continue with --resume", signal=saver.interrupted)
    if steps_done >= config.steps or budget.used_up():
        inputs = family.sample_inputs(config, data)
        cb.save_sample_grid(model.sample(inputs).numpy(), run_dir / "samples" / "encoder.png")
        cb.plot_losses(run_dir, family.loss_curves)
        family.export(model, run_dir, _metadata(family, model, config, data, info, clock), False,
                      ())
    return run_dir


class _Budget(keras.callbacks.Callback):
    """Stops ``fit`` once the run's training time (all sessions) reaches ``minutes``.

    Before each step it sets the model's ``progress``: the larger of the shares of the steps
    and of the minutes used so far.
    """

    def __init__(self, clock: cb.TrainingClock, steps: int, minutes: float | None) -> None:
        super().__init__()
        self.clock, self.steps = clock, steps
        self.seconds = None if minutes is None else 60.0 * minutes

    def used_up(self) -> bool:
        return self.seconds is not None and self.clock.train_seconds >= self.seconds

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        shares = [int(self.model.steps_done.numpy()) / self.steps]
        if self.seconds is not None:
            shares.append(self.clock.train_seconds / self.seconds)
        self.model.progress.assign(min(max(shares), 1.0))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.used_up():
            self.model.stop_training = True


def _describe(phase: EncoderPhase, logs: dict) -> str:
    return " ".join(f"{key}={float(logs[key]):.4f}" for key in EncoderFamily.loss_columns
                    if key in logs)


def _newest_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest loadable checkpoint; damaged newer ones are set aside with a warning.

    Raises:
        RunDirectoryError: If checkpoints exist but none can be loaded.
    """
    found, skipped = checkpoint.find_loadable(ckpt_dir)
    if found is None and skipped:
        reasons = "; ".join(f"{path.name}: {reason}" for path, reason in skipped[:3])
        raise RunDirectoryError(f"none of the {len(skipped)} checkpoints in {str(ckpt_dir)!r} "
                                f"can be loaded ({reasons}); start a new run in another folder")
    for path, reason in skipped:
        log.warning("skipped checkpoint %s: %s; moved it to %s", path.name, reason,
                    checkpoint.set_aside(path).name)
    if found is None:
        log.warning("%s has no checkpoint yet (the run was stopped before its first one); "
                    "training it from step 0", ckpt_dir.parent)
    return found


def _metadata(family: EncoderFamily, model: EncoderTrainer, config: EncoderConfig, data: Any,
              info: dict, clock: dict) -> dict:
    """``encoder.json``'s content, before :meth:`Encoder.save` adds its own entries."""
    generator = family.generator
    started_with = runs.training_command(config.out_dir) or config.command  # every start
    options = {key: value for key, value in dataclasses.asdict(config).items()
               if key not in ("fingerprint", "command", "out_dir")}
    return {"latent_dim": int(generator.latent_dim),
            "image_shape": [int(side) for side in generator.image_shape],
            "generator": {"handle": config.model, "fingerprint": config.fingerprint},
            "training_command": started_with,
            "steps": int(model.steps_done.numpy()),
            "images_shown": int(model.images_shown.numpy()),
            "train_seconds": clock.get("train_seconds", 0.0),
            "cpu_seconds": clock.get("cpu_seconds", 0.0),
            "data": info, "options": options,
            "metrics": evaluate_encoder(model, generator, None if data is None else data[1])}

