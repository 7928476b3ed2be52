"""SRGAN (Ledig et al., 2017): 4x super-resolution of faces, 16x16 -> 64x64.

It trains on the shared infrastructure of :mod:`progan_tf.training`, as ProGAN and DCGAN do.

* :mod:`~progan_tf.srgan.networks` -- SRResNet (residual blocks, sub-pixel upsampling with
  ``depth_to_space``) and the discriminator;
* :mod:`~progan_tf.srgan.model` -- :class:`SRGAN`, whose ``train_step`` adds the weighted
  adversarial loss to the content loss (and which is SRResNet when it trains on the content
  loss alone); which content loss, and why, is explained there;
* :mod:`~progan_tf.srgan.config` -- :class:`SRGANConfig` and its two-phase schedule;
* :mod:`~progan_tf.srgan.family`, :mod:`~progan_tf.srgan.train` -- ``progan-tf train --arch
  srgan``;
* :mod:`~progan_tf.srgan.export` -- the generator as an upscaler export, loaded by
  :func:`progan_tf.upscalers.load_upscaler`.

Example:
>>> from progan_tf.srgan import SRGANConfig
>>> [phase.name for phase in SRGANConfig("faces", "run").schedule().phases]
['srresnet', 'srgan']
"""

from progan_tf.srgan.config import ARCH, SCALE, SRGANConfig
from progan_tf.srgan.export import export_run, export_upscaler
from progan_tf.srgan.family import SRGAN_FAMILY, build_model
from progan_tf.srgan.model import SRGAN, downscale
from progan_tf.srgan.networks import PixelShuffle, build_discriminator, build_generator
from progan_tf.srgan.train import train

__all__ = ["ARCH", "SCALE", "SRGAN", "SRGAN_FAMILY", "PixelShuffle", "SRGANConfig",
           "build_discriminator", "build_generator", "build_model", "downscale", "export_run",
           "export_upscaler", "train"]
