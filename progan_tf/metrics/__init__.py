"""Quality metrics for images that need no pretrained network (they work offline).

* **Sliced Wasserstein distance (SWD)**, exactly as in the ProGAN paper (Karras et al. 2018,
  appendix D.1): compare the distributions of small 7x7 patches of real and generated images,
  one Laplacian-pyramid level at a time. The finest level scores fine detail (hair, skin
  texture), the 16x16 level the coarse layout. Lower is better.
* **MS-SSIM diversity** (Odena et al. 2017): the mean multi-scale structural similarity of random
  pairs of images from *one* set. A collapsed generator that draws the same face again and again
  scores close to 1; lower means more varied images.
* **PSNR and SSIM** of one image against another, as latent recovery reports them.

Neither set-level number means much on its own. SWD between two *finite* samples is never 0,
even when both come from the same distribution, so :func:`swd_report` and
:func:`evaluate_generator` report the real-vs-real "noise floor" beside it; MS-SSIM is reported
for the real images beside the generated ones. A generator is good when its SWD approaches the
floor and its MS-SSIM approaches the real data's.

One idea per module, all re-exported here (``progan_tf.metrics.<name>``):

* :mod:`~progan_tf.metrics.pyramid` -- the Laplacian pyramid, one TensorFlow implementation
  shared by SWD and by latent recovery's ``"laplacian"`` loss (graph-safe on tensors);
* :mod:`~progan_tf.metrics.swd` -- SWD and its noise floor;
* :mod:`~progan_tf.metrics.similarity` -- PSNR, SSIM and MS-SSIM diversity;
* :mod:`~progan_tf.metrics.evaluate` -- :func:`evaluate_generator`, everything at once;
* :mod:`~progan_tf.metrics.batches` -- the checks every metric runs on its image batches.

All of them run on a CPU: SWD is vectorised NumPy around a TensorFlow pyramid, MS-SSIM uses
``tf.image.ssim_multiscale``.
"""

from __future__ import annotations

from progan_tf.errors import MetricError
from progan_tf.metrics.evaluate import evaluate_generator
from progan_tf.metrics.pyramid import (
    MIN_LEVEL_SIZE,
    binomial_kernel,
    laplacian_level,
    laplacian_pyramid,
    pyramid_sizes,
    reconstruct_laplacian_pyramid,
)
from progan_tf.metrics.similarity import (
    MS_SSIM_FILTER_SIGMA,
    MS_SSIM_FILTER_SIZE,
    MS_SSIM_POWER_FACTORS,
    ms_ssim_diversity,
    ms_ssim_report,
    ms_ssim_settings,
    psnr,
    ssim,
    ssim_window,
)
from progan_tf.metrics.swd import PATCH_SIZE, sliced_wasserstein_distance, swd_report

__all__ = [
    "MetricError",
    "binomial_kernel",
    "laplacian_level",
    "laplacian_pyramid",
    "pyramid_sizes",
    "reconstruct_laplacian_pyramid",
    "sliced_wasserstein_distance",
    "swd_report",
    "ms_ssim_settings",
    "ms_ssim_diversity",
    "ms_ssim_report",
    "psnr",
    "ssim",
    "ssim_window",
    "evaluate_generator",
    "MIN_LEVEL_SIZE",
    "MS_SSIM_FILTER_SIGMA",
    "MS_SSIM_FILTER_SIZE",
    "MS_SSIM_POWER_FACTORS",
    "PATCH_SIZE",
]
