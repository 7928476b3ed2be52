"""SRGAN as a model family: what :mod:`progan_tf.training` needs to know to train it.

A :class:`~progan_tf.training.single_phase_family.SinglePhaseFamily` (one resolution; it
trains, resumes and exports the run and loads its folder of images) with a schedule of two
phases.  It plugs in

* the networks and their ``train_step``: :func:`build_model` makes an
  :class:`~progan_tf.srgan.model.SRGAN` from an :class:`~progan_tf.srgan.config.SRGANConfig`;
* the data: any folder of images, decoded once at the high resolution; each batch is paired
  with its low-res version, made in the ``tf.data`` pipeline by the area filter
  (:func:`~progan_tf.srgan.model.downscale`);
* the schedule: ``srresnet`` (content loss only) then ``srgan``;
* the export: the generator as an upscaler (:func:`~progan_tf.srgan.export.export_upscaler`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.srgan.config import ARCH, SAFE_ON_RESUME, SCALE, SRGANConfig, SRGANPhase
from progan_tf.srgan.export import export_upscaler
from progan_tf.srgan.model import SRGAN, downscale
from progan_tf.srgan.networks import build_discriminator, build_generator
from progan_tf.training import data
from progan_tf.training.single_phase_family import SinglePhaseFamily, model_scope

__all__ = ["SRGAN_FAMILY", "SRGANFamily", "build_model"]


def build_model(config: SRGANConfig, strategy: Any = None, precision: str | None = None) -> SRGAN:
    """The :class:`SRGAN` of ``config``, created under ``strategy``'s scope.

    Example:
    >>> config = SRGANConfig("faces", "run", resolution=16, width=4, blocks=1, disc_width=4)
    >>> build_model(config).generator.count_params() > 0
    True
    """
    with model_scope(config, strategy, precision):
        generator = build_generator(config.width, config.blocks, SCALE,
                                    bicubic_skip=config.bicubic_skip)
        discriminator = build_discriminator(config.resolution, config.disc_width)
        return SRGAN(generator, discriminator, content=config.content_loss,
                     adversarial_weight=config.adversarial_weight,
                     learning_rate=config.learning_rate, beta_1=config.beta_1)


class SRGANFamily(SinglePhaseFamily):
    """4x super-resolution GANs (Ledig et al., 2017) on a folder of images.

    Example:
    >>> config = SRGANConfig("faces", "run", pretrain_kimg=1, kimg=2)
    >>> [(p.name, p.end_images) for p in SRGANFamily().schedule(config).phases]
    [('srresnet', 1000), ('srgan', 3000)]
    """

    arch = ARCH
    config_class = SRGANConfig
    safe_on_resume = SAFE_ON_RESUME
    loss_columns = ("content_loss", "adversarial_loss", "d_loss", "adversarial")
    loss_curves = {"content_loss": "content loss", "adversarial_loss": "adversarial loss",
                   "d_loss": "D loss"}
    loss_marker = "adversarial"
    sample_count = 8  # low-res inputs; each grid shows bicubic and SRGAN side by side

    def build_model(self, config: SRGANConfig, strategy: Any = None,
                    precision: str | None = None) -> SRGAN:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def data_info(self, config: SRGANConfig) -> dict:
        """``dataset.json`` also records the side of the generator's inputs."""
        return {"low_resolution": config.low_resolution}

    def dataset(self, config: SRGANConfig, folder: Any, phase: SRGANPhase,
                start_index: int) -> Any:
        """Shuffled (optionally mirrored) ``(low_res, high_res)`` batches in [-1, 1]."""
        stream = self.image_batches(config, folder, phase, start_index)
        return stream.map(lambda high: (downscale(high), high))

    def sample_inputs(self, config: SRGANConfig) -> np.ndarray:
        """Low-res versions of 8 pictures of the folder (held-out ones when there are 8)."""
        from progan_tf.images import area_resize, load_image

        files = data.list_image_files(config.data_dir)
        chosen = files[-self.sample_count:] if config.holdout >= self.sample_count \
            else files[:self.sample_count]
        high = np.stack([load_image(path, size=config.resolution, crop=config.crop)
                         for path in chosen])
        low = area_resize(high, (config.low_resolution, config.low_resolution))
        return low * 2.0 - 1.0

    def sample_name(self, phase: SRGANPhase) -> str:
        """``srresnet`` / ``srgan``: the grid at the end of each phase."""
        return phase.name

    def describe_step(self, phase: SRGANPhase, logs: dict) -> str:
        """``srgan content=0.123 adv=0.693 d=1.386``."""
        return (f"{phase.name} content={float(logs['content_loss']):.4f} "
                f"adv={float(logs['adversarial_loss']):.3f} d={float(logs['d_loss']):.3f}")

    def export(self, model: SRGAN, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """The generator as an upscaler, the discriminator beside it."""
        return export_upscaler(model.generator, out_dir, model.discriminator, metadata,
                               overwrite=overwrite, protect=protect)


SRGAN_FAMILY = SRGANFamily()
"""The SRGAN family, as :func:`progan_tf.srgan.train` uses it."""
