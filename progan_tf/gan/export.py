"""Export a trained generator in progan-128's TF Hub interface.

The exported folder is a TF2 SavedModel whose ``default`` signature takes ``default``: float32
``[?, latent_dim]`` and returns ``default``: float32 ``[?, H, W, 3]`` in [0, 1] -- exactly what
``tensorflow_hub.load("https://tfhub.dev/google/progan-128/1").signatures["default"]`` offers,
so every notebook written for progan-128 runs on it unchanged.  Beside it::

    generator.keras, discriminator.keras   Keras models, to fine-tune
    metadata.json                          resolution, latent size, images shown, data, metrics,
                                           the training command
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from progan_tf.errors import RunDirectoryError
from progan_tf.gan import checkpoint
from progan_tf.gan.networks import ProgressiveGenerator

METADATA = "metadata.json"


class _HubInterface(tf.Module):
    """Wraps a generator at its current stage; outputs are mapped from [-1, 1] to [0, 1]."""

    def __init__(self, generator: ProgressiveGenerator):
        super().__init__(name="progan_tf_generator")
        self.generator = generator
        # Track the tf.Variables behind the Keras variables so that the SavedModel holds them.
        self.weights = [getattr(v, "value", v) for v in generator.weights]
        self.serve = tf.function(
            self._serve,
            input_signature=[tf.TensorSpec([None, generator.latent_dim], tf.float32,
                                           name="default")])

    def _serve(self, default):
        images = self.generator(default, training=False)
        return {"default": tf.clip_by_value(images * 0.5 + 0.5, 0.0, 1.0)}


def export_generator(generator, out_dir, discriminator=None, metadata=None, overwrite=False):
    """Write ``generator`` (at its current stage) to ``out_dir`` in the hub interface.

    The folder is assembled under a temporary name and renamed into place, so ``out_dir`` is
    either the complete export or absent.
    """
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not overwrite:
        raise RunDirectoryError(f"export folder {str(out_dir)!r} already exists; choose another "
                                f"folder or delete it first")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    os.chmod(tmp, 0o777 & ~checkpoint._umask())  # mkdtemp's 0700 would hide the model from other users
    try:
        module = _HubInterface(generator)
        tf.saved_model.save(module, str(tmp), signatures={"default": module.serve})
        generator.save(tmp / "generator.keras")
        if discriminator is not None:
            discriminator.save(tmp / "discriminator.keras")
        resolution = generator.stage_resolution
        info = {"format": "progan-tf export 1", "latent_dim": generator.latent_dim,
                "resolution": resolution, "image_shape": [resolution, resolution, 3],
                "fading": generator.fading,
                "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "signature": {"name": "default", "input": "default", "output": "default",
                              "output_range": [0.0, 1.0]},
                **(metadata or {})}
        (tmp / METADATA).write_text(json.dumps(info, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def export_run(run_dir, out_dir, metrics=None, overwrite=False):
    """Export the EMA generator of the newest checkpoint in ``run_dir`` (``progan-tf export``)."""
    from progan_tf.gan.train import RUN_FILE, TrainConfig, build_model

    run_dir = Path(run_dir).expanduser()
    if not (run_dir / RUN_FILE).exists():
        raise RunDirectoryError(f"{str(run_dir)!r} is not a training run (no {RUN_FILE}); pass the "
                                f"folder given to 'progan-tf train --out'")
    latest = checkpoint.latest(run_dir / "checkpoints")
    if latest is None:
        raise RunDirectoryError(f"run {str(run_dir)!r} has no checkpoint yet; train longer (a "
                                f"checkpoint is written at every phase end) and export again")
    config = TrainConfig.from_json((run_dir / RUN_FILE).read_text())
    state = checkpoint.read_state(latest)
    schedule = config.schedule()
    model = build_model(config, precision="float32")  # float32 weights load into either policy
    # The stage the checkpoint was trained at (a checkpoint at a phase end belongs to it).
    if state.get("phase_index") is not None:
        phase = schedule.phases[state["phase_index"]]
    else:
        phase = schedule.phase_at(max(state["images_shown"] - 1, 0))
    model.start_phase(phase)
    checkpoint.restore(model, latest)
    dataset_file = run_dir / "dataset.json"
    metadata = {
        "images_shown": state["images_shown"],
        "kimg": round(state["images_shown"] / 1000, 3),
        "phase": phase.name,
        "schedule": schedule.to_dict(),
        "dataset": json.loads(dataset_file.read_text()) if dataset_file.exists() else None,
        "training_command": config.command,
        "config": json.loads(config.to_json()),
        "metrics": metrics or {},
    }
    return export_generator(model.ema_generator, out_dir, model.discriminator, metadata,
                            overwrite=overwrite)
