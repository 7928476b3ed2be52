"""A style-based generator (Karras et al., 2019/2020) and style mixing, small enough for a CPU.

* :mod:`~progan_tf.stylegan.layers` -- modulated (demodulated) convolution, ToRGB, per-pixel
  noise, the learned constant, the equalized dense layer with a learning-rate multiplier;
* :mod:`~progan_tf.stylegan.networks` -- :class:`MappingNetwork` (z -> w),
  :class:`SynthesisNetwork` (w+ -> image, StyleGAN2's skip generator) and
  :class:`StyleGenerator` (both, with truncation and style-mixing regularisation), and
  :func:`make_discriminator` (ProGAN's discriminator at its last stage);
* :mod:`~progan_tf.stylegan.discriminator` -- :class:`StyleDiscriminator`, StyleGAN2's residual
  discriminator with the same interface;
* :mod:`~progan_tf.stylegan.mixing` -- named layer ranges (``"coarse"``, ``"middle"``,
  ``"fine"``) and :func:`style_mix`, the grid of sources across and destinations down;
* :mod:`~progan_tf.stylegan.model` -- :class:`StyleGAN`, the ``keras.Model`` whose
  ``train_step`` trains it with style mixing and ProGAN's losses;
* :mod:`~progan_tf.stylegan.config`, :mod:`~progan_tf.stylegan.family`,
  :mod:`~progan_tf.stylegan.train` -- :class:`StyleGANConfig` and :func:`train`, behind
  ``progan-tf train --arch stylegan``;
* :mod:`~progan_tf.stylegan.export` -- progan-128's interface plus the mapping and synthesis
  signatures, so ``load_generator`` and every tool built on it work on it.

Example:
>>> from progan_tf.stylegan import StyleGenerator, layer_indices
>>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=16, fmap_base=16, fmap_max=8)
>>> layer_indices(generator.num_ws, generator.resolution, "coarse")
[0, 1]
"""

from progan_tf.stylegan.config import StyleGANConfig
from progan_tf.stylegan.discriminator import StyleDiscriminator
from progan_tf.stylegan.export import export_run, export_style_generator
from progan_tf.stylegan.family import STYLEGAN_FAMILY, build_model
from progan_tf.stylegan.mixing import LAYER_RANGES, layer_indices, style_mix, style_mix_ws
from progan_tf.stylegan.model import StyleGAN
from progan_tf.stylegan.networks import (
    MappingNetwork,
    StyleGenerator,
    SynthesisNetwork,
    make_discriminator,
)
from progan_tf.stylegan.train import train

__all__ = ["LAYER_RANGES", "STYLEGAN_FAMILY", "MappingNetwork", "StyleDiscriminator", "StyleGAN",
           "StyleGANConfig", "StyleGenerator", "SynthesisNetwork", "build_model", "export_run",
           "export_style_generator", "layer_indices", "make_discriminator", "style_mix",
           "style_mix_ws", "train"]
