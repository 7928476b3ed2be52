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
  faces (dark vs fair hair), and :func:`check_domains` for two folders;
* :mod:`~progan_tf.cyclegan.config` -- :class:`CycleGANConfig`, a run's options;
* :mod:`~progan_tf.cyclegan.family`, :mod:`~progan_tf.cyclegan.train`,
  :mod:`~progan_tf.cyclegan.export` -- ``progan-tf train --arch cyclegan``, resuming and
  exporting like every family; the export (both generators) is loaded by
  :func:`progan_tf.translators.load_translator`.

Example:
>>> from progan_tf.cyclegan import make_generator
>>> make_generator("resnet", resolution=16, width=4, blocks=1).blocks
1
"""

from progan_tf.cyclegan.config import ARCH, CycleGANConfig
from progan_tf.cyclegan.domains import DomainSplit, check_domains, split_domains
from progan_tf.cyclegan.export import export_run, export_translators
from progan_tf.cyclegan.family import CYCLEGAN_FAMILY, build_model
from progan_tf.cyclegan.model import CycleGAN, LinearDecay
from progan_tf.cyclegan.networks import GENERATORS, PatchGAN, ResnetGenerator, make_generator
from progan_tf.cyclegan.pool import ImagePool
from progan_tf.cyclegan.train import train

__all__ = ["ARCH", "CYCLEGAN_FAMILY", "GENERATORS", "CycleGAN", "CycleGANConfig", "DomainSplit",
           "ImagePool", "LinearDecay", "PatchGAN", "ResnetGenerator", "build_model",
           "check_domains", "export_run", "export_translators", "make_generator",
           "split_domains", "train"]
