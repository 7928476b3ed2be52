"""Latent recovery ("GAN inversion"): find the latent vector whose image looks like a picture.

Two ways to do it:

* :func:`find_closest_latent_vector` is the TF Hub progan-128 tutorial's recipe, unchanged:
  one latent, eager Adam steps on a summed mean-absolute error plus a penalty pulling the
  latent's norm towards ``sqrt(latent_dim)``. It is kept as the baseline that notebooks and
  workshop material refer to.
* :func:`recover_latent` is what to use in practice. It optimises several random restarts at
  once as one batch with compiled (``tf.function``) steps, several per call from Python (a
  ``tf.while_loop``: on a CPU each call adds about a third to a small model's step), ramps the
  learning rate up and down and adds decaying noise to the latents early on as the StyleGAN2
  projector does, offers losses that match what people see (SSIM, a multi-scale Laplacian
  pyramid, perceptual features of VGG16 or of a discriminator trained with
  :mod:`progan_tf.gan`), and keeps the best latent found -- also when you interrupt it (Ctrl-C,
  the notebook's stop button) or the loss turns NaN.
* ``recover_latent(..., init="encoder")`` is the fast path: an encoder trained for the
  generator (:mod:`~progan_tf.recovery.encoder`; one ships for the bundled generator) predicts
  a latent in one forward pass and a short search refines it. ``progan-tf train-encoder``
  (:mod:`~progan_tf.recovery.encoder_training`) trains one for any generator.

One idea per module:

* :mod:`~progan_tf.recovery.tutorial` -- the tutorial's recipe;
* :mod:`~progan_tf.recovery.search` -- :func:`recover_latent` and its schedules;
* :mod:`~progan_tf.recovery.compiled` -- the compiled step and the cache of compiled searches;
* :mod:`~progan_tf.recovery.settings` -- :class:`RecoverySettings` and the named
  :data:`PRESETS`;
* :mod:`~progan_tf.recovery.losses` -- the losses, as objects;
* :mod:`~progan_tf.recovery.features` -- the networks feature losses compare by;
* :mod:`~progan_tf.recovery.starts` -- seeded starting latents;
* :mod:`~progan_tf.recovery.encoder` -- encoders: the network, its folder, and
  :func:`plan_search` (the fast path where an encoder exists);
* :mod:`~progan_tf.recovery.fingerprint` -- which generator an encoder belongs to;
* :mod:`~progan_tf.recovery.encoder_training` and :mod:`~progan_tf.recovery.encoder_family` --
  training one (they import the training package, so nothing here imports them);
* :mod:`~progan_tf.recovery.result` -- :class:`RecoveryResult`, its pictures and files.

:func:`psnr` and :func:`ssim`, the scores a result reports, and the Laplacian pyramid of the
``"laplacian"`` loss live in :mod:`progan_tf.metrics` with the other image metrics; the first
two are re-exported here, where notebooks have always found them.

Layering: recovery is inference code. It calls a generator through its public, graph-safe
:meth:`~progan_tf.generator.Generator.synthesize`, and a discriminator through its public
``features``; it imports training code (:mod:`progan_tf.gan`) only inside the function that
loads a discriminator from a file.

Example::

    import progan_tf as pt
    gen = pt.load_generator(pt.PROGAN_128)
    result = pt.recover_latent(gen, "face.jpg", settings="photo", steps=300, restarts=8)
    result.compare()
    result.animate("search.gif")
"""

from __future__ import annotations

from progan_tf.errors import RecoveryError
from progan_tf.metrics.similarity import psnr, ssim
from progan_tf.recovery.encoder import (
                                        ENCODER_FILES,
                                        Encoder,
                                        SearchPlan,
                                        load_encoder,
                                        plan_search,
)
from progan_tf.recovery.features import discriminator_extractor, perceptual_extractor
from progan_tf.recovery.fingerprint import generator_fingerprint
from progan_tf.recovery.losses import (
                                       LOSSES,
                                       DiscriminatorLoss,
                                       FunctionLoss,
                                       LaplacianLoss,
                                       MeanAbsoluteError,
                                       MeanSquaredError,
                                       PerceptualLoss,
                                       RecoveryLoss,
                                       SSIMLoss,
                                       WeightedLoss,
)
from progan_tf.recovery.result import RESULT_FILES, RecoveryResult
from progan_tf.recovery.search import recover_latent
from progan_tf.recovery.settings import PRESETS, PRIORS, RecoverySettings
from progan_tf.recovery.starts import RECOVERY_STREAM, starting_latents
from progan_tf.recovery.tutorial import find_closest_latent_vector

__all__ = [
    "ENCODER_FILES",
    "LOSSES",
    "PRESETS",
    "PRIORS",
    "RECOVERY_STREAM",
    "RESULT_FILES",
    "DiscriminatorLoss",
    "Encoder",
    "FunctionLoss",
    "LaplacianLoss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "PerceptualLoss",
    "RecoveryError",
    "RecoveryLoss",
    "RecoveryResult",
    "RecoverySettings",
    "SearchPlan",
    "SSIMLoss",
    "WeightedLoss",
    "discriminator_extractor",
    "find_closest_latent_vector",
    "generator_fingerprint",
    "load_encoder",
    "perceptual_extractor",
    "plan_search",
    "psnr",
    "recover_latent",
    "ssim",
    "starting_latents",
]
