"""Train a DCGAN on a folder of images: the loop behind ``progan-tf train --arch dcgan``.

``train(DCGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the DCGAN
family (:mod:`progan_tf.dcgan.family`), so a DCGAN run lives in a run folder like a
progressive GAN's (``run.json``, ``checkpoints/``, ``logs/`` for TensorBoard,
``losses.csv``/``losses.png``, ``samples/``) and resumes exactly.  Besides the grid at the end
(``samples/final-<r>px.png``) it draws the same latents every ``grid_every_kimg`` thousand
images (``samples/progress-<images>.png``): the course's progress pictures.  Resuming refuses
a run of another family and options that differ from the run's, except those in
:data:`~progan_tf.dcgan.config.SAFE_ON_RESUME`.

``train(config, resume=False, strategy=None, stop_after_images=None, progress=True,
extra_callbacks=(), log_every=10)`` is
:meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.train` of the DCGAN family.
"""

from __future__ import annotations

from progan_tf.dcgan.family import DCGAN_FAMILY

__all__ = ["train"]

train = DCGAN_FAMILY.train
