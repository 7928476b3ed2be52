"""ProGAN as a model family: what :mod:`progan_tf.training` needs to know to train it.

:class:`ProGANFamily` is the first user of :class:`~progan_tf.training.family.ModelFamily`, and
the example to copy for a new family.  It plugs in

* the networks and their ``train_step``: :func:`build_model` makes a
  :class:`~progan_tf.gan.model.ProGAN` from a :class:`~progan_tf.gan.train.TrainConfig`;
* the schedule: :class:`~progan_tf.gan.schedule.Schedule`, 4x4 up to the final resolution in
  fade-in and stable phases, each with its batch size;
* the data: a folder of images decoded once, streamed per phase at the phase's resolution;
* the export: the EMA generator in progan-128's TF Hub interface
  (:func:`~progan_tf.gan.export.export_generator`), refusing a half-blended fade-in.

A fine-tuning run (``init``, see :mod:`progan_tf.gan.finetune`) is the same family with a
schedule of one stable phase; its export records what it was fine-tuned from.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from progan_tf.constants import BUNDLED
from progan_tf.errors import DatasetError, RunDirectoryError
from progan_tf.gan.export import export_generator
from progan_tf.gan.finetune import fine_tuned_from
from progan_tf.gan.model import ProGAN, recipe_options
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.schedule import Phase, Schedule
from progan_tf.training import data
from progan_tf.training.family import ModelFamily

__all__ = ["PROGAN", "ProGANFamily", "build_model"]

log = logging.getLogger(__name__)


def build_model(config: Any, strategy: Any = None, precision: str | None = None) -> ProGAN:
    """The :class:`ProGAN` of ``config``, created under ``strategy``'s scope.

    Args:
        config: A :class:`~progan_tf.gan.train.TrainConfig`.
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        precision: The Keras dtype policy of the networks (default ``None``:
            ``config.precision``).  It is set only while they are created, so Keras' global
            policy is left as it was.

    Returns:
        The model, before its first :meth:`~ProGAN.start_phase`.
    """
    import keras
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    common = {"resolution": config.resolution, "fmap_base": config.fmap_base,
              "fmap_max": config.fmap_max, "fmap_decay": config.fmap_decay}
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision or config.precision)
    try:
        with strategy.scope():
            keras.utils.set_random_seed(config.seed)
            generator = ProgressiveGenerator(latent_dim=config.latent_dim, name="generator",
                                             **common)
            discriminator = ProgressiveDiscriminator(
                mbstd_group_size=config.mbstd_group_size, name="discriminator", **common)
            return ProGAN(generator, discriminator, ema_beta=config.ema_beta,
                          learning_rate=config.learning_rate, seed=config.seed,
                          **recipe_options(config))
    finally:
        keras.config.set_dtype_policy(previous_policy)


def stage_to_export(schedule: Schedule, state: dict, run_dir: Path,
                    allow_fade_in: bool = False) -> tuple[Phase, float]:
    """The phase whose network to export, refusing a half-blended fade-in unless allowed.

    Returns:
        ``(phase, alpha)``.

    Raises:
        RunDirectoryError: the checkpoint was taken mid-fade-in and ``allow_fade_in`` is False.
    """
    shown = state["images_shown"]
    if state.get("phase_index") is not None:
        phase = schedule.phases[state["phase_index"]]
    else:
        phase = schedule.phase_at(max(shown - 1, 0))
    if phase.fading and phase.alpha(shown) >= 1.0:
        # A fade-in that has finished computes exactly what its stable phase does.
        return schedule.phases[phase.index + 1], 1.0
    if phase.fading and not allow_fade_in:
        alpha = phase.alpha(shown)
        raise RunDirectoryError(
            f"the newest checkpoint of {str(run_dir)!r} was taken mid-fade-in at "
            f"{phase.resolution}x{phase.resolution} (alpha {alpha:.2f}, "
            f"{(shown - phase.start_images) / 1000:g} of {phase.num_images / 1000:g} kimg of the "
            f"phase), so its pictures blend two resolutions; train to the end of the phase or "
            f"pass --allow-fade-in (allow_fade_in=True)")
    return phase, phase.alpha(shown)


class ProGANFamily(ModelFamily):
    """Progressive growing of GANs (Karras et al., 2018) on a folder of images.

    Example:
    >>> from progan_tf.gan.train import TrainConfig
    >>> family = ProGANFamily()
    >>> config = TrainConfig(data_dir="faces", out_dir="run", resolution=8,
    ...                      kimg_per_phase=0.064)
    >>> [phase.name for phase in family.schedule(config).phases]
    ['4x4 stable', '8x8 fade-in', '8x8 stable']
    """

    # ``init`` is not safe to change on resume, although a checkpoint's weights replace the init
    # weights: the run's record (run.json, the export's "fine_tuned_from") would then name a
    # model the run did not start from, and a different --init with --resume is most likely
    # a mistake (another --out was meant, or a fresh start from the new model).
    # ``final_kimg`` may change: the last stable phase is the only one it shapes, so a resumed
    # run can train longer (a finished one continues) without touching what was trained.
    safe_on_resume = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir",
                      "quality_every_kimg", "quality_images", "final_kimg")
    loss_columns = ("resolution", "fading", "alpha", "d_loss", "g_loss", "wasserstein",
                    "gradient_penalty")
    loss_curves = {"d_loss": "D loss", "g_loss": "G loss",
                   "wasserstein": "E[D(fake)] - E[D(real)]"}
    loss_marker = "resolution"

    @property
    def config_class(self) -> type:
        """:class:`~progan_tf.gan.train.TrainConfig`."""
        from progan_tf.gan.train import TrainConfig

        return TrainConfig

    def build_model(self, config: Any, strategy: Any = None,
                    precision: str | None = None) -> ProGAN:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def schedule(self, config: Any) -> Schedule:
        """The run's :class:`~progan_tf.gan.schedule.Schedule`."""
        return config.schedule()

    def load_data(self, config: Any) -> tuple[Any, dict]:
        """The images of ``config.data_dir`` at the final resolution, less the holdout."""
        folder = data.load_image_folder(config.data_dir, config.resolution, crop=config.crop)
        if config.holdout:
            if config.holdout >= len(folder):
                raise DatasetError(f"holdout of {config.holdout} images leaves nothing to train "
                                   f"on ({len(folder)} images in {config.data_dir!r})")
            folder.images = folder.images[:-config.holdout]
            folder.files = folder.files[:-config.holdout]
        log.info("training on %s", data.describe(folder))
        info = {"directory": str(Path(config.data_dir).expanduser().resolve()),
                "images": len(folder), "skipped": len(folder.skipped),
                "upscaled": folder.upscaled, "holdout": config.holdout}
        return folder, info

    def dataset(self, config: Any, folder: Any, phase: Phase, start_index: int) -> Any:
        """Shuffled, mirrored batches at the phase's resolution, from image ``start_index``."""
        return data.training_dataset(folder.images, phase.resolution, phase.batch_size,
                                     start_index=start_index, seed=config.seed,
                                     mirror=config.mirror)

    def sample_name(self, phase: Phase) -> str:
        """``phase-01-8px-fade``: the index, the resolution and fade or stable."""
        return (f"phase-{phase.index:02d}-{phase.resolution}px-"
                f"{'fade' if phase.fading else 'stable'}")

    def describe_step(self, phase: Phase, logs: dict) -> str:
        """``8x8 fade alpha=0.50 d=0.123 g=0.456``, and ADA's ``p=0.12`` once it is above 0."""
        text = (f"{phase.resolution}x{phase.resolution} {'fade' if phase.fading else 'stable'} "
                f"alpha={float(logs['alpha']):.2f} d={float(logs['d_loss']):.3f} "
                f"g={float(logs['g_loss']):.3f}")
        probability = float(logs.get("augment_p", 0.0))
        return text + (f" p={probability:.2f}" if probability > 0 else "")

    def comparable(self, config: Any) -> dict:
        """The options as compared on resume, batch sizes keyed by ``int``."""
        values = super().comparable(config)
        values["batch_sizes"] = {int(k): int(v) for k, v in config.batch_sizes.items()}
        if values.get("init") not in (None, BUNDLED):  # a folder, however it is spelled
            values["init"] = os.path.realpath(os.path.expanduser(str(values["init"])))
        return values

    def export_phase(self, schedule: Schedule, state: dict, run_dir: Path,
                     allow_fade_in: bool = False) -> tuple[Phase, dict]:
        """See :func:`stage_to_export`; a fade-in's alpha goes into ``metadata.json``.

        So does, for a fine-tuning run, what it was fine-tuned from (``"fine_tuned_from"``).
        """
        phase, alpha = stage_to_export(schedule, state, run_dir, allow_fade_in)
        extra = {"alpha": round(alpha, 4)} if phase.fading else {}
        origin = fine_tuned_from(run_dir)
        return phase, ({**extra, "fine_tuned_from": origin} if origin else extra)

    def export(self, model: ProGAN, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """The EMA generator in the TF Hub interface, the discriminator beside it."""
        return export_generator(model.ema_generator, out_dir, model.discriminator, metadata,
                                overwrite=overwrite, protect=protect)


PROGAN = ProGANFamily()
"""The ProGAN family, as :func:`progan_tf.gan.train.train` uses it."""

