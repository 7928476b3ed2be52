"""Train CycleGAN on two folders of unpaired pictures: ``progan-tf train --arch cyclegan``.

``train(CycleGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the
CycleGAN family, so a run lives in a run folder like every family's (``run.json``,
``checkpoints/``, ``logs/``, ``losses.csv``/``losses.png``, ``samples/``) and resumes exactly
(the history pools are in the checkpoints).  Every ``grid_every_kimg`` thousand pictures of A it
draws rows of a, G(a), F(G(a)), b, F(b), G(F(b)) of the same pictures
(``samples/progress-<images>.png``).

``train(config, resume=False, strategy=None, stop_after_images=None, progress=True,
extra_callbacks=(), log_every=10)`` is
:meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.train` of the CycleGAN family.
"""

from __future__ import annotations

from progan_tf.cyclegan.family import CYCLEGAN_FAMILY

__all__ = ["train"]

train = CYCLEGAN_FAMILY.train
