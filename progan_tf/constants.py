"""Facts stated once: model handles, defaults and the choices options accept.

The command line builds its ``--help`` from these, and the package checks its arguments
against the same tuples, so the two cannot disagree. This module must stay free of TensorFlow
(and of anything that imports it): ``progan-tf --help`` imports it and should answer at once.

Modules that own a fact's *meaning* re-export it (``progan_tf.PROGAN_128``,
``progan_tf.latents.METHODS``); new facts that the CLI needs go here.
"""

from __future__ import annotations

__all__ = ["ARCHS", "AUGMENTS", "AUGMENT_OPS", "BUNDLED", "BUNDLED_DCGAN", "CROPS",
           "DCGAN_RESOLUTIONS", "DEFAULT_MODEL", "DISTRIBUTE_STRATEGIES",
           "ENCODER_REFINE_RESTARTS", "ENCODER_REFINE_STEPS", "ENCODER_TRAIN_STEPS",
           "INTERPOLATION_METHODS", "KAGGLE_PREFIX", "LOSSES", "PRECISIONS", "PROGAN_128",
           "PROGAN_128_KAGGLE", "RECOVERY_LOSSES",
           "BUNDLED_PIX2PIX", "PIX2PIX_ADVERSARIAL", "PIX2PIX_PAIRS",
           "BUNDLED_SRGAN", "SRGAN_ARCH", "UPSCALER_MAX_PIXELS",
           "BUNDLED_STYLEGAN", "STYLEGAN_ARCH", "STYLE_LAYER_RANGES",
           "BUNDLED_CYCLEGAN", "CYCLEGAN_ARCH", "CYCLEGAN_DIRECTIONS", "CYCLEGAN_DOMAINS",
           "CYCLEGAN_GENERATORS",
           "RECOVERY_RESTARTS", "RECOVERY_STEPS", "grid_columns"]

# ---------------------------------------------------------------------------------------------
# Model handles
# ---------------------------------------------------------------------------------------------

PROGAN_128 = "https://tfhub.dev/google/progan-128/1"
"""TF Hub URL of progan-128 (512-d latents -> 128x128 RGB faces, trained on CelebA)."""

PROGAN_128_KAGGLE = "https://www.kaggle.com/models/google/progan-128/TensorFlow1/progan-128/1"
"""The same model on Kaggle Models, where tfhub.dev now redirects."""

BUNDLED = "bundled"
"""Handle of the small generator shipped inside the package, for offline use."""

KAGGLE_PREFIX = "kaggle:"
"""Prefix of a handle to load with ``kagglehub`` only, e.g.
``"kaggle:google/progan-128/tensorFlow1/progan-128/1"``."""

DEFAULT_MODEL = PROGAN_128
"""The model the CLI's ``generate``/``interpolate``/``evaluate``/``invert`` load by default."""

# ---------------------------------------------------------------------------------------------
# Choices
# ---------------------------------------------------------------------------------------------

INTERPOLATION_METHODS = ("hypersphere", "slerp", "lerp")
"""Paths between latents: the TF Hub tutorial's, spherical, and straight lines."""

CROPS = ("center", "celeba", "none")
"""How a picture is framed before it is resized to a model's resolution."""

PRECISIONS = ("float32", "mixed_bfloat16")
"""Keras dtype policies training accepts (float16 needs loss scaling the GAN losses lack)."""

LOSSES = ("wgan-gp", "ns-r1")
"""GAN losses training accepts: the paper's WGAN-GP, and non-saturating logistic + lazy R1."""

AUGMENTS = ("none", "diffaugment", "ada")
"""Differentiable augmentation of what the discriminator sees: off, always (DiffAugment), or
with an adaptive probability (ADA)."""

DISTRIBUTE_STRATEGIES = ("mirrored", "multi-worker", "tpu")
"""``progan-tf train --distribute``: tf.distribute strategies training can run under."""

AUGMENT_OPS = ("color", "translation", "cutout")
"""The augmentations a policy (``"color,translation,cutout"``) may name."""

RECOVERY_LOSSES = ("mse", "mae", "ssim", "laplacian", "perceptual", "discriminator")
"""Losses :func:`progan_tf.recover_latent` compares a generated image with the target by."""

RECOVERY_STEPS = 300
"""Default optimisation steps of a latent recovery."""

RECOVERY_RESTARTS = 8
"""Default number of starting latents a recovery searches from at once."""


def grid_columns(count: int, ncols: int | None = None) -> int:
    """Columns of a grid of ``count`` images: ``ncols`` if given, else a near-square layout.

    Args:
        count: Number of images.
        ncols: Columns the caller asked for (default ``None``: ``ceil(sqrt(count))``).

    Returns:
        The number of columns, never more than ``count`` (and at least 1).

    Example:
    >>> grid_columns(16), grid_columns(5), grid_columns(3, ncols=8)
    (4, 3, 3)
    """
    if ncols is None:
        ncols = 1
        while ncols * ncols < count:
            ncols += 1
    return max(1, min(ncols, count))


# ---------------------------------------------------------------------------------------------
# Model families (``progan-tf train --arch``)
# ---------------------------------------------------------------------------------------------

SRGAN_ARCH = "srgan"
"""``progan-tf train --arch srgan``: 4x super-resolution (Ledig et al. 2017)."""

STYLEGAN_ARCH = "stylegan"
"""``progan-tf train --arch stylegan``: a style-based generator (Karras et al. 2019/2020)."""

CYCLEGAN_ARCH = "cyclegan"
"""``progan-tf train --arch cyclegan``: translation between two unpaired folders (Zhu et al.
2017)."""

ARCHS = ("progan", "dcgan", "pix2pix", SRGAN_ARCH, CYCLEGAN_ARCH, STYLEGAN_ARCH)
"""What ``progan-tf train --arch`` trains: the progressive GAN (the default), a DCGAN, a
Pix2Pix image-to-image translator, an SRGAN upscaler, a CycleGAN translator, or a
style-based generator."""

DCGAN_RESOLUTIONS = (16, 28, 32, 64)
"""Image sizes a DCGAN trains at: 4x4 (7x7 for 28, MNIST's size) doubled by each layer."""

BUNDLED_DCGAN = "bundled-dcgan"
"""Handle of the DCGAN shipped inside the package (``load_generator("bundled-dcgan")``)."""


# --------------------------------------------------------------------------------------------
# Pix2Pix (``progan-tf train --arch pix2pix``, ``progan-tf translate``)
# --------------------------------------------------------------------------------------------

BUNDLED_PIX2PIX = "bundled-pix2pix"
"""Handle of the Pix2Pix translator shipped inside the package
(``load_translator("bundled-pix2pix")``)."""

PIX2PIX_PAIRS = ("auto", "sketch", "folders", "side-by-side")
"""Where a Pix2Pix run's pairs come from: each photo's sketch (edges and colour dots), two
folders of matching file names, or A|B images; ``auto`` tells them apart."""

PIX2PIX_ADVERSARIAL = ("mse", "bce")
"""Pix2Pix's adversarial loss: least squares (the course's) or cross-entropy (the paper's)."""


# --------------------------------------------------------------------------------------------
# SRGAN (``progan-tf train --arch srgan``, ``progan-tf upscale``)
# --------------------------------------------------------------------------------------------

BUNDLED_SRGAN = "bundled-srgan"
"""Handle of the SRGAN upscaler shipped inside the package (``load_upscaler("bundled-srgan")``)."""

UPSCALER_MAX_PIXELS = 1024 * 1024
"""The largest picture (in input pixels) an upscaler enlarges by default; 4x makes 16 times
as many, 16.8 million, about 200 MB of float32."""


# --------------------------------------------------------------------------------------------
# CycleGAN (``progan-tf train --arch cyclegan``, ``progan-tf translate --direction``)
# --------------------------------------------------------------------------------------------

BUNDLED_CYCLEGAN = "bundled-cyclegan"
"""Handle of the CycleGAN translators shipped inside the package
(``load_translator("bundled-cyclegan")``: dark hair <-> fair hair)."""

CYCLEGAN_DOMAINS = ("folders", "hair")
"""Where a CycleGAN run's two domains come from: two folders (``DATA/A`` and ``DATA/B``, or
``DATA`` and ``--unpaired-b``), or one folder of aligned faces split by hair brightness."""

CYCLEGAN_GENERATORS = ("resnet", "unet")
"""CycleGAN's generators: ResNet blocks (the paper's) or Pix2Pix's U-Net."""

CYCLEGAN_DIRECTIONS = ("a2b", "b2a")
"""``progan-tf translate --direction``: which of a CycleGAN's two translators to run."""


# --------------------------------------------------------------------------------------------
# The style-based generator (``progan-tf train --arch stylegan``, ``progan-tf mix``)
# --------------------------------------------------------------------------------------------

BUNDLED_STYLEGAN = "bundled-stylegan"
"""Handle of the style-based generator shipped inside the package
(``load_generator("bundled-stylegan")``)."""

STYLE_LAYER_RANGES = ("coarse", "middle", "fine")
"""The named w+ layer ranges of style mixing (``progan-tf mix --layers``)."""


# ---------------------------------------------------------------------------------------------
# Encoders (instant inversion)
# ---------------------------------------------------------------------------------------------

ENCODER_REFINE_STEPS = 250
"""Steps of the short search that refines an encoder's latent (``recover_latent(...,
init="encoder")``, the fast path of ``progan-tf invert`` and the demo)."""

ENCODER_REFINE_RESTARTS = 1
"""Restarts of that search: the encoder's latent (and, with more, latents near it). Chosen on
16 faces of the bundled encoder's validation set (not the benchmark's held-out faces): from a
good start, steps buy more than restarts (250 x 1 at learning rate 0.2: 23.45 dB; 250 x 1 at
0.1: 23.36 dB; 200 x 2 at 0.1: 23.18 dB; 120 x 2 at 0.1: 22.61 dB; the full search, 300 x 8:
23.43 dB in about 5x the time)."""

ENCODER_TRAIN_STEPS = 5000
"""Default length of ``progan-tf train-encoder``, in steps."""
