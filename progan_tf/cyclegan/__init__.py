"""CycleGAN (Zhu et al., 2017): translation between two folders of pictures, with no pairs.

The model's core; training, export and the CLI plug it into the shared infrastructure of
:mod:`progan_tf.training` as the other families do.

* :mod:`~progan_tf.cyclegan.networks` -- the ResNet generator (or Pix2Pix's U-Net) and an
  unconditional PatchGAN discriminator;
* :mod:`~progan_tf.cyclegan.pool` -- :class:`ImagePool`, the 50 earlier pictures the
  discriminators learn from, usable inside a compiled ``train_step``;
* :mod:`~progan_tf.cyclegan.model` -- :class:`CycleGAN`, whose ``train_step`` updates G and F
  (least squares + 10 x cycle + 5 x identity) and then D_A and D_B; :class:`LinearDecay`;
* :mod:`~progan_tf.cyclegan.domains` -- two unlabelled domains split from a folder of aligned
  faces (dark vs fair hair), and :func:`check_domains` for two folders.

Example:
>>> from progan_tf.cyclegan import make_generator
>>> make_generator("resnet", resolution=16, width=4, blocks=1).blocks
1
"""

from progan_tf.cyclegan.domains import DomainSplit, check_domains, split_domains
from progan_tf.cyclegan.model import CycleGAN, LinearDecay
from progan_tf.cyclegan.networks import GENERATORS, PatchGAN, ResnetGenerator, make_generator
from progan_tf.cyclegan.pool import ImagePool

__all__ = ["GENERATORS", "CycleGAN", "DomainSplit", "ImagePool", "LinearDecay", "PatchGAN",
           "ResnetGenerator", "check_domains", "make_generator", "split_domains"]
