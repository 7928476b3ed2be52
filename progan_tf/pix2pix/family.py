"""Pix2Pix as a model family: what :mod:`progan_tf.training` needs to know to train it.

Like DCGAN's (:mod:`progan_tf.dcgan.family`), one phase at one resolution: a
:class:`~progan_tf.training.single_phase_family.SinglePhaseFamily`, which trains, resumes and
exports it and draws its progress grids.  It plugs in

* the networks and their ``train_step``: :func:`build_model` makes a
  :class:`~progan_tf.pix2pix.model.Pix2Pix` from a
  :class:`~progan_tf.pix2pix.config.Pix2PixConfig`;
* the data: pairs decoded once (:mod:`progan_tf.pix2pix.data`), streamed in an order fixed by
  the seed; the sample grids show input | output | target of fixed pairs (held-out ones when
  the run holds some out);
* the export: the generator as a translator (:mod:`progan_tf.pix2pix.export`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.pix2pix import data
from progan_tf.pix2pix.config import ARCH, SAFE_ON_RESUME, Pix2PixConfig
from progan_tf.pix2pix.export import export_translator
from progan_tf.pix2pix.model import Pix2Pix
from progan_tf.pix2pix.networks import PatchDiscriminator, UNetGenerator
from progan_tf.training.single_phase import SinglePhase
from progan_tf.training.single_phase_family import (
    SinglePhaseFamily,
    check_holdout,
    model_scope,
)

__all__ = ["PIX2PIX_FAMILY", "Pix2PixFamily", "build_model"]

log = logging.getLogger(__name__)


def build_model(config: Pix2PixConfig, strategy: Any = None,
                precision: str | None = None) -> Pix2Pix:
    """The :class:`Pix2Pix` of ``config``, created under ``strategy``'s scope.

    Args:
        config: The run's options.
        strategy: A ``tf.distribute`` strategy (default ``None``: the current one).
        precision: The Keras dtype policy of the networks (default ``None``:
            ``config.precision``).

    Returns:
        The model, before its ``start_phase``.

    Example:
    >>> config = Pix2PixConfig("faces", "run", resolution=16, width=4, max_width=8)
    >>> model = build_model(config)
    >>> len(model.generator.downs), model.discriminator.layers_count
    (4, 3)
    """
    shape = {"resolution": config.resolution, "width": config.width,
             "max_width": config.max_width}
    with model_scope(config, strategy, precision):
        generator = UNetGenerator(dropout=config.dropout, name="generator", **shape)
        discriminator = (None if config.l1_only else
                         PatchDiscriminator(layers=config.d_layers, name="discriminator",
                                            **shape))
        return Pix2Pix(generator, discriminator, l1_weight=config.l1_weight,
                       adversarial=config.adversarial, l1_only=config.l1_only,
                       learning_rate=config.learning_rate, beta_1=config.beta_1)


class Pix2PixFamily(SinglePhaseFamily):
    """Pix2Pix (Isola et al., 2017) on paired pictures.

    Example:
    >>> config = Pix2PixConfig(data_dir="faces", out_dir="run", resolution=32, kimg=2)
    >>> [(phase.name, phase.end_images) for phase in PIX2PIX_FAMILY.schedule(config).phases]
    [('32x32', 2000)]
    """

    arch = ARCH
    progress_grids = True
    config_class = Pix2PixConfig
    safe_on_resume = SAFE_ON_RESUME
    loss_columns = ("d_loss", "g_loss", "g_adv", "l1", "real_score", "fake_score")
    loss_curves = {"d_loss": "D loss", "g_adv": "G adversarial loss", "l1": "L1 to the target"}
    loss_marker = None
    sample_count = 12

    def build_model(self, config: Pix2PixConfig, strategy: Any = None,
                    precision: str | None = None) -> Pix2Pix:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def load_data(self, config: Pix2PixConfig) -> tuple[Any, dict]:
        """The pairs at the run's resolution, less the holdout."""
        pairs = data.load_pairs(config)
        if config.holdout:
            check_holdout(config.holdout, len(pairs), "pairs", config.data_dir)
            pairs = pairs.head(len(pairs) - config.holdout)
        log.info("training on %d %s pairs from %s", len(pairs), pairs.mode, config.data_dir)
        info = {"directory": str(Path(config.data_dir).expanduser().resolve()),
                "paired_b": (str(Path(config.paired_b).expanduser().resolve())
                             if config.paired_b else None),
                "pairs": pairs.mode, "images": len(pairs), "holdout": config.holdout}
        return pairs, info

    def dataset(self, config: Pix2PixConfig, pairs: Any, phase: SinglePhase,
                start_index: int) -> Any:
        """Shuffled ``(inputs, targets)`` batches in [-1, 1], mirrored together."""
        return data.pair_dataset(pairs, phase.batch_size, start_index=start_index,
                                 seed=config.seed, mirror=config.mirror)

    def sample_inputs(self, config: Pix2PixConfig) -> np.ndarray:
        """``[N, 2, r, r, 3]`` in [-1, 1]: fixed pairs (the held-out ones first)."""
        count = min(self.sample_count, config.holdout) if config.holdout else self.sample_count
        pairs = data.load_pairs(config, limit=count, last=bool(config.holdout))
        stacked = np.stack([pairs.inputs, pairs.targets], axis=1)
        return stacked.astype("float32") / 127.5 - 1.0

    def describe_step(self, phase: SinglePhase, logs: dict) -> str:
        """``64x64 d=0.25 adv=0.9 L1=0.21``."""
        return (f"{phase.name} d={float(logs['d_loss']):.3f} adv={float(logs['g_adv']):.3f} "
                f"L1={float(logs['l1']):.3f}")

    def export(self, model: Pix2Pix, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """The generator as a translator, the discriminator beside it."""
        return export_translator(model.generator, out_dir, model.discriminator, metadata,
                                 overwrite=overwrite, protect=protect)


PIX2PIX_FAMILY = Pix2PixFamily()
"""The Pix2Pix family, as :func:`progan_tf.pix2pix.train` uses it."""
