"""Train an SRGAN on a folder of images: the loop behind ``progan-tf train --arch srgan``.

``train(SRGANConfig(...))`` runs the shared loop of :mod:`progan_tf.training` with the SRGAN
family, so a run lives in a run folder like every family's (``run.json``, ``checkpoints/``,
``logs/``, ``losses.csv``/``losses.png``, ``samples/srresnet.png`` and ``samples/srgan.png``:
bicubic and super-resolved pictures side by side) and resumes exactly.

``train(config, resume=False, strategy=None, stop_after_images=None, progress=True,
extra_callbacks=(), log_every=10)`` is
:meth:`~progan_tf.training.single_phase_family.SinglePhaseFamily.train` of the SRGAN family.
"""

from __future__ import annotations

from progan_tf.srgan.family import SRGAN_FAMILY

__all__ = ["train"]

train = SRGAN_FAMILY.train
