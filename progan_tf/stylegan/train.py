"""Train a style-based GAN on a folder of images: what ``train --arch stylegan`` runs.

``train(StyleGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the
style-based family, so a run lives in a run folder like every family's (``run.json``,
``checkpoints/``, ``logs/``, ``losses.csv``/``losses.png``, ``samples/progress-*.png`` every
``grid_every_kimg`` and ``samples/final-<r>px.png``) and resumes from its checkpoints.
Resuming refuses a run of another family and options that differ from the run's, except those
in :data:`~progan_tf.stylegan.config.SAFE_ON_RESUME`.

``train(config, resume=False, strategy=None, stop_after_images=None, progress=True,
extra_callbacks=(), log_every=10)`` is
:meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.train` of the family.
"""

from __future__ import annotations

from progan_tf.stylegan.family import STYLEGAN_FAMILY

__all__ = ["train"]

train = STYLEGAN_FAMILY.train
