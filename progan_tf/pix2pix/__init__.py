"""Pix2Pix (Isola et al., 2017): image-to-image translation from paired pictures.

The course's task on faces: draw a face from its sketch (inverted Canny edges plus a few dots
of its colours).  It trains on the shared infrastructure of :mod:`progan_tf.training`, as
ProGAN and DCGAN do.

* :mod:`~progan_tf.pix2pix.sketch` -- the sketch of a photo (NumPy and OpenCV only), the same
  for training and for ``Translator.prepare``;
* :mod:`~progan_tf.pix2pix.networks` -- the U-Net generator with skip connections and dropout,
  and the PatchGAN discriminator that sees the input beside the picture;
* :mod:`~progan_tf.pix2pix.model` -- :class:`Pix2Pix`, whose ``train_step`` does one D and one
  G update (adversarial + 100 x L1), or L1 alone for the plain U-Net baseline;
* :mod:`~progan_tf.pix2pix.config` -- :class:`Pix2PixConfig`, a run's options;
* :mod:`~progan_tf.pix2pix.data` -- the pairs: a folder of photos (sketched), two folders of
  matching file names, or A|B images;
* :mod:`~progan_tf.pix2pix.family`, :mod:`~progan_tf.pix2pix.train`,
  :mod:`~progan_tf.pix2pix.export` -- training, resuming and exporting like every family; the
  export is loaded by :func:`progan_tf.translators.load_translator`.

Example:
>>> from progan_tf.pix2pix import Pix2PixConfig
>>> Pix2PixConfig(data_dir="faces", out_dir="run").schedule().phases[0].name
'64x64'
"""

from progan_tf.pix2pix.config import Pix2PixConfig
from progan_tf.pix2pix.data import Pairs, load_pairs
from progan_tf.pix2pix.export import export_run, export_translator
from progan_tf.pix2pix.family import PIX2PIX_FAMILY, build_model
from progan_tf.pix2pix.model import Pix2Pix
from progan_tf.pix2pix.networks import PatchDiscriminator, UNetGenerator
from progan_tf.pix2pix.train import train

__all__ = ["PIX2PIX_FAMILY", "Pairs", "PatchDiscriminator", "Pix2Pix", "Pix2PixConfig",
           "UNetGenerator", "build_model", "export_run", "export_translator", "load_pairs",
           "train"]
