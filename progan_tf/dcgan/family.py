"""DCGAN as a model family: what :mod:`progan_tf.training` needs to know to train it.

The second user of :class:`~progan_tf.training.family.ModelFamily` after ProGAN, and the
smallest: one phase, no stages, no generator average -- a
:class:`~progan_tf.training.single_phase_family.SinglePhaseFamily`, which trains, resumes and
exports it, loads its folder of images and draws its progress grids.  It plugs in

* the networks and their ``train_step``: :func:`build_model` makes a
  :class:`~progan_tf.dcgan.model.DCGAN` from a :class:`~progan_tf.dcgan.config.DCGANConfig`;
* the data: a folder of images decoded once at the run's resolution (the grey version with
  ``channels`` 1), streamed in an order fixed by the seed;
* the export: the generator in progan-128's TF Hub interface
  (:func:`~progan_tf.dcgan.export.export_generator`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf.dcgan.config import ARCH, SAFE_ON_RESUME, DCGANConfig, DCGANPhase
from progan_tf.dcgan.export import export_generator
from progan_tf.dcgan.model import DCGAN
from progan_tf.dcgan.networks import DCGANDiscriminator, DCGANGenerator
from progan_tf.training.single_phase_family import SinglePhaseFamily, model_scope

__all__ = ["DCGAN_FAMILY", "DCGANFamily", "build_model"]


def build_model(config: DCGANConfig, strategy: Any = None, precision: str | None = None) -> DCGAN:
    """The :class:`DCGAN` of ``config``, created under ``strategy``'s scope.

    Args:
        config: The run's options.
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        precision: The Keras dtype policy of the networks (default ``None``:
            ``config.precision``); set only while they are created.

    Returns:
        The model, before its :meth:`~DCGAN.start_phase`.

    Example:
    >>> config = DCGANConfig("faces", "run", resolution=16, latent_dim=8, width=4)
    >>> build_model(config).generator.widths()
    [8, 4]
    """
    shape = {"resolution": config.resolution, "width": config.width,
             "channels": config.channels}
    with model_scope(config, strategy, precision):
        generator = DCGANGenerator(latent_dim=config.latent_dim, name="generator", **shape)
        discriminator = DCGANDiscriminator(name="discriminator", **shape)
        return DCGAN(generator, discriminator, learning_rate=config.learning_rate,
                     beta_1=config.beta_1, seed=config.seed)


class DCGANFamily(SinglePhaseFamily):
    """Deep convolutional GANs (Radford et al., 2016) on a folder of images.

    Example:
    >>> family = DCGANFamily()
    >>> config = DCGANConfig(data_dir="faces", out_dir="run", resolution=32, kimg=2)
    >>> [(phase.name, phase.end_images) for phase in family.schedule(config).phases]
    [('32x32', 2000)]
    """

    arch = ARCH
    progress_grids = True
    config_class = DCGANConfig
    safe_on_resume = SAFE_ON_RESUME
    loss_columns = ("d_loss", "g_loss", "real_score", "fake_score")
    loss_curves = {"d_loss": "D loss", "g_loss": "G loss"}
    loss_marker = None
    sample_count = 16

    def build_model(self, config: DCGANConfig, strategy: Any = None,
                    precision: str | None = None) -> DCGAN:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def data_info(self, config: DCGANConfig) -> dict:
        """``dataset.json`` also records the channels trained on."""
        return {"channels": config.channels}

    def dataset(self, config: DCGANConfig, folder: Any, phase: DCGANPhase,
                start_index: int) -> Any:
        """Shuffled (optionally mirrored) batches in [-1, 1], grey with ``channels`` 1."""
        stream = self.image_batches(config, folder, phase, start_index)
        if config.channels == 1:
            stream = stream.map(tf.image.rgb_to_grayscale)
        return stream

    def describe_step(self, phase: DCGANPhase, logs: dict) -> str:
        """``32x32 d=1.234 g=0.987 D(x)=0.61 D(G(z))=0.38``."""
        return (f"{phase.name} d={float(logs['d_loss']):.3f} g={float(logs['g_loss']):.3f} "
                f"D(x)={float(logs['real_score']):.2f} "
                f"D(G(z))={float(logs['fake_score']):.2f}")

    def export(self, model: DCGAN, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """The generator in the TF Hub interface, the discriminator beside it."""
        return export_generator(model.generator, out_dir, model.discriminator, metadata,
                                overwrite=overwrite, protect=protect)


DCGAN_FAMILY = DCGANFamily()
"""The DCGAN family, as :func:`progan_tf.dcgan.train` uses it."""
