"""A CycleGAN run's options, checked, and where its two domains come from.

Free of TensorFlow (the command line reads run folders before TensorFlow starts).  ``run.json``
records ``"arch": "cyclegan"`` (see :func:`progan_tf.training.runs.run_arch`).  The shared
options, their checks and the one-phase schedule are
:class:`~progan_tf.training.single_phase.SinglePhaseConfig`'s.

Where the two domains come from (``domains``):

* ``"folders"`` (the default) -- two folders of pictures, unpaired: ``DATA/A`` and ``DATA/B``,
  or, with ``unpaired_b``, ``DATA`` itself is A and ``unpaired_b`` is B (the pattern of
  Pix2Pix's ``--paired-b``, without the matching file names);
* ``"hair"`` -- one folder of aligned faces (the CelebA sample), split without labels by
  :func:`progan_tf.cyclegan.domains.split_domains`: dark hair (A) against fair hair (B), by
  the brightness of the hair region (``dark_quantile``/``fair_quantile``, 0.3 and 0.8: A is
  the darkest 30 %, B the brightest 20 %, the rest left out).

Pictures may differ in size and mode within and between the domains: each is read as every
training picture is (grey to RGB, transparency on white), framed by ``crop`` and
area-resized to ``resolution``.  Each domain needs :data:`MIN_DOMAIN_IMAGES` pictures plus the
``holdout`` (the last ``holdout`` of each domain, by path, are held out).

The learning rate falls linearly to 0 over the second half of the run, so ``kimg`` fixes the
schedule: unlike the other single-phase families, a CycleGAN run may **not** change ``kimg``
when it resumes.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CYCLEGAN_ARCH, CYCLEGAN_DOMAINS, CYCLEGAN_GENERATORS
from progan_tf.errors import DatasetError
from progan_tf.training import single_phase
from progan_tf.training.single_phase import SinglePhaseConfig

__all__ = ["ARCH", "MIN_DOMAIN_IMAGES", "SAFE_ON_RESUME", "CycleGANConfig"]

ARCH = CYCLEGAN_ARCH
"""The value of ``"arch"`` in a CycleGAN run's ``run.json`` and in its export's metadata."""

MIN_DOMAIN_IMAGES = 64
"""Pictures a domain needs at least, besides its held-out ones (a few minibatches' worth;
the same number as :data:`progan_tf.cyclegan.domains.MIN_DOMAIN_IMAGES`)."""

SAFE_ON_RESUME = (*(name for name in single_phase.SAFE_ON_RESUME if name != "kimg"),
                  "grid_every_kimg")
"""Options a resumed run may change: not ``kimg``, which fixes when the learning rate decays."""


@dataclasses.dataclass
class CycleGANConfig(SinglePhaseConfig):
    """Everything that defines a CycleGAN run (stored in ``run.json``).

    The recipe is the paper's: least-squares adversarial loss, ``lambda_cycle`` (10) times
    the cycle loss, ``lambda_identity`` (0.5) times lambda the identity loss, a pool of
    ``pool_size`` (50) earlier pictures per discriminator, Adam(2e-4, beta1 0.5) for the four
    networks, constant for the first half of the run and falling linearly to 0 over the
    second.  ``generator`` is ``"unet"`` (Pix2Pix's, the default) or ``"resnet"`` (the paper's:
    ``resnet_blocks`` residual blocks at a quarter of the size); ``width`` is the first layer's
    feature maps of the generators (the U-Net's double up to ``8 * width``) and the
    discriminators (PatchGANs of ``d_layers`` stride-2 blocks).  The U-Net is the default
    because it learns faster on a CPU, measured at equal wall time (15 minutes each, 32x32,
    width 16, the hair domains, niced on the busy 2-core machine): U-Net 9.5 kimg, closing 46 %
    (A->B) and 56 % (B->A) of the SWD gap between the domains, cycle PSNR 23.4 / 22.2 dB;
    ResNet (6 blocks) 3.8 kimg, 16 % and 46 %, 18.7 / 17.3 dB.  A step
    takes ``batch_size`` pictures of each domain; ``kimg`` counts those of A.

    Example:
    >>> config = CycleGANConfig(data_dir="faces", out_dir="run", domains="hair")
    >>> config.validate()
    >>> CycleGANConfig.from_json(config.to_json()) == config
    True
    >>> config.total_steps
    5000
    """

    ARCH: ClassVar[str] = ARCH
    KIND: ClassVar[str] = "a CycleGAN's"

    domains: str = "folders"
    unpaired_b: str | None = None
    dark_quantile: float = 0.3
    fair_quantile: float = 0.8
    generator: str = "unet"
    width: int = 16
    resnet_blocks: int = 6
    d_layers: int = 3
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    kimg: float = 20.0
    batch_size: int = 4
    grid_every_kimg: float = 1.0
    arch: str = ARCH

    @property
    def total_steps(self) -> int:
        """The run's length in steps: what the learning rate's linear decay is measured in."""
        return math.ceil(round(self.kimg * 1000) / self.batch_size)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        super().validate()
        check_choice(self.generator, "generator", CYCLEGAN_GENERATORS, error=DatasetError)
        check_choice(self.domains, "domains", CYCLEGAN_DOMAINS, error=DatasetError)
        for name in ("width", "d_layers"):
            check_whole_number(getattr(self, name), name, minimum=1, error=DatasetError)
        check_whole_number(self.resnet_blocks, "resnet_blocks", minimum=0, error=DatasetError)
        check_whole_number(self.pool_size, "pool_size", minimum=0, error=DatasetError)
        for name in ("lambda_cycle", "lambda_identity"):
            check_number(getattr(self, name), name, minimum=0, error=DatasetError)
        check_number(self.grid_every_kimg, "grid_every_kimg", exclusive_minimum=0,
                     error=DatasetError)
        check_number(self.dark_quantile, "dark_quantile", minimum=0, maximum=1,
                     error=DatasetError)
        check_number(self.fair_quantile, "fair_quantile", minimum=self.dark_quantile,
                     maximum=1, error=DatasetError)
        self.check_resolution()
        if self.unpaired_b is not None and self.domains != "folders":
            raise DatasetError(f"unpaired_b is domain B's folder of domains='folders'; it "
                               f"cannot be used with domains={self.domains!r} (--domains hair "
                               f"splits DATA alone)")

    def check_resolution(self) -> None:
        """The generators' and discriminators' sizes: at least 16, a multiple of ``2**d_layers``.

        Raises:
            DatasetError: naming the rule the resolution breaks.
        """
        side = check_whole_number(self.resolution, "resolution", minimum=16, error=DatasetError)
        multiple = 2 ** self.d_layers
        if side % multiple:
            raise DatasetError(f"resolution must be a multiple of {multiple} (the PatchGAN's "
                               f"{self.d_layers} stride-2 layers). Received: "
                               f"resolution={self.resolution!r}")
        if self.generator == "unet" and (side > 256 or side & (side - 1)):
            raise DatasetError(f"resolution must be a power of two from 16 to 256 for the U-Net "
                               f"generator. Received: resolution={self.resolution!r}")
