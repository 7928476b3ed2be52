"""DCGAN (Radford et al., 2016): the baseline before progressive growing.

It trains on the shared infrastructure of :mod:`progan_tf.training`, as ProGAN does.

* :mod:`~progan_tf.dcgan.networks` -- the transposed-convolution generator and the
  strided-convolution discriminator;
* :mod:`~progan_tf.dcgan.model` -- :class:`DCGAN`, the ``keras.Model`` whose ``train_step``
  does one discriminator and one generator update with binary cross-entropy;
* :mod:`~progan_tf.dcgan.config` -- :class:`DCGANConfig`, a run's options, and its one-phase
  schedule;
* :mod:`~progan_tf.dcgan.family` -- how it plugs into :mod:`progan_tf.training`;
* :mod:`~progan_tf.dcgan.train` -- :func:`train`, behind ``progan-tf train --arch dcgan``;
* :mod:`~progan_tf.dcgan.export` -- the generator in progan-128's TF Hub interface, so
  ``load_generator`` and everything built on it work on a DCGAN;
* :mod:`~progan_tf.dcgan.callbacks` -- progress grids, and a time budget for comparing
  families at equal wall time.

Example:
>>> from progan_tf.dcgan import DCGANConfig
>>> DCGANConfig(data_dir="faces", out_dir="run").schedule().phases[0].name
'64x64'
"""

from progan_tf.dcgan.callbacks import ProgressGrids, TimeBudget
from progan_tf.dcgan.config import DCGANConfig
from progan_tf.dcgan.export import export_generator, export_run
from progan_tf.dcgan.family import DCGAN_FAMILY, build_model
from progan_tf.dcgan.model import DCGAN
from progan_tf.dcgan.networks import DCGANDiscriminator, DCGANGenerator
from progan_tf.dcgan.train import train

__all__ = ["DCGAN", "DCGAN_FAMILY", "DCGANConfig", "DCGANDiscriminator", "DCGANGenerator",
           "ProgressGrids", "TimeBudget", "build_model", "export_generator", "export_run",
           "train"]
