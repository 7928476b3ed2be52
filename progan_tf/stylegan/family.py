"""The style-based GAN as a model family: what :mod:`progan_tf.training` needs to train it.

A :class:`~progan_tf.training.single_phase_family.SinglePhaseFamily` (one resolution; it
trains, resumes and exports the run, loads its folder of images and draws progress grids).  It
plugs in

* the networks and their ``train_step``: :func:`build_model` makes a
  :class:`~progan_tf.stylegan.model.StyleGAN` from a
  :class:`~progan_tf.stylegan.config.StyleGANConfig`;
* the data: any folder of images, decoded once at the run's resolution;
* the export: the moving-average generator with its three signatures
  (:func:`~progan_tf.stylegan.export.export_style_generator`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from progan_tf.stylegan.config import ARCH, SAFE_ON_RESUME, StyleGANConfig
from progan_tf.stylegan.discriminator import StyleDiscriminator
from progan_tf.stylegan.export import export_style_generator
from progan_tf.stylegan.model import StyleGAN
from progan_tf.stylegan.networks import StyleGenerator, make_discriminator
from progan_tf.training.single_phase_family import SinglePhaseFamily, model_scope

__all__ = ["STYLEGAN_FAMILY", "StyleGANFamily", "build_model"]


def build_model(config: StyleGANConfig, strategy: Any = None,
                precision: str | None = None) -> StyleGAN:
    """The :class:`StyleGAN` of ``config``, created under ``strategy``'s scope.

    Example:
    >>> config = StyleGANConfig("faces", "run", resolution=8, latent_dim=8, w_dim=8,
    ...                         fmap_base=16, fmap_max=8, mapping_layers=2)
    >>> build_model(config).generator.num_ws
    4
    """
    widths = {"fmap_base": config.fmap_base, "fmap_max": config.fmap_max,
              "fmap_decay": config.fmap_decay}
    with model_scope(config, strategy, precision):
        generator = StyleGenerator(
            latent_dim=config.latent_dim, w_dim=config.w_dim, resolution=config.resolution,
            mapping_layers=config.mapping_layers,
            mapping_lr_multiplier=config.mapping_lr_multiplier, seed=config.seed,
            name="generator", **widths)
        if config.discriminator == "residual":
            discriminator = StyleDiscriminator(config.resolution, name="discriminator", **widths)
        else:
            discriminator = make_discriminator(config.resolution, name="discriminator", **widths)
        return StyleGAN(generator, discriminator, mixing_probability=config.mixing_probability,
                        ema_beta=config.ema_beta, learning_rate=config.learning_rate,
                        seed=config.seed, loss=config.loss, r1_gamma=config.r1_weight(),
                        r1_interval=config.r1_interval, augment=config.augment,
                        augment_ops=config.augment_ops(), ada_target=config.ada_target,
                        ada_kimg=config.ada_kimg)


class StyleGANFamily(SinglePhaseFamily):
    """Style-based generators (Karras et al., 2019/2020) on a folder of images.

    Example:
    >>> config = StyleGANConfig(data_dir="faces", out_dir="run", resolution=32, kimg=2)
    >>> [(phase.name, phase.end_images) for phase in StyleGANFamily().schedule(config).phases]
    [('32x32', 2000)]
    """

    arch = ARCH
    progress_grids = True
    config_class = StyleGANConfig
    safe_on_resume = SAFE_ON_RESUME
    loss_columns = ("d_loss", "g_loss", "wasserstein", "gradient_penalty", "augment_p")
    loss_curves = {"d_loss": "D loss", "g_loss": "G loss"}
    loss_marker = None
    sample_count = 16

    def build_model(self, config: StyleGANConfig, strategy: Any = None,
                    precision: str | None = None) -> StyleGAN:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def dataset(self, config: StyleGANConfig, folder: Any, phase: Any, start_index: int) -> Any:
        """Shuffled (optionally mirrored) batches of the folder's images in [-1, 1]."""
        return self.image_batches(config, folder, phase, start_index)

    def describe_step(self, phase: Any, logs: dict) -> str:
        """``32x32 d=1.234 g=0.987 w=0.456``."""
        return (f"{phase.name} d={float(logs['d_loss']):.3f} g={float(logs['g_loss']):.3f} "
                f"w={float(logs['wasserstein']):.3f}")

    def export(self, model: StyleGAN, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """The average generator with its three signatures, the discriminator beside it."""
        psi = metadata.get("config", {}).get("truncation_psi", 1.0)
        return export_style_generator(model.ema_generator, out_dir, model.discriminator,
                                      metadata, truncation_psi=psi, overwrite=overwrite,
                                      protect=protect)


STYLEGAN_FAMILY = StyleGANFamily()
"""The style-based family, as :func:`progan_tf.stylegan.train` uses it."""
