"""Train Pix2Pix on paired pictures: the loop behind ``progan-tf train --arch pix2pix``.

``train(Pix2PixConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the
Pix2Pix family, so a run lives in a run folder like every family's (``run.json``,
``checkpoints/``, ``logs/``, ``losses.csv``/``losses.png``, ``samples/``) and resumes exactly.
Every ``grid_every_kimg`` thousand pairs it draws input | output | target of the same pairs
(``samples/progress-<pairs>.png``).

``train(config, resume=False, strategy=None, stop_after_images=None, progress=True,
extra_callbacks=(), log_every=10)`` is
:meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.train` of the Pix2Pix family.
"""

from __future__ import annotations

from progan_tf.pix2pix.family import PIX2PIX_FAMILY

__all__ = ["train"]

train = PIX2PIX_FAMILY.train
