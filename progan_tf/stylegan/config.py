"""A style-based GAN run's options, checked, and its schedule: one phase at one resolution.

Free of TensorFlow (the command line reads run folders with it before TensorFlow starts).
``run.json`` records ``"arch": "stylegan"``, so a run folder says which family trained it
(:func:`progan_tf.training.runs.run_arch` reads it for every family).

StyleGAN2 trains every resolution at once (its skip generator carries the coarse image up), so
a run is one phase of ``kimg`` thousand images, like DCGAN's.  The loss and augmentation are
the project's recipe (``bench/README.md``, "The recipe"): WGAN-GP without augmentation won the
ablation at equal images and at equal CPU time, so it is the default here too; ``ns-r1`` (the
StyleGAN2 paper's) and ADA stay one option away.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import AUGMENT_OPS, AUGMENTS, LOSSES, STYLEGAN_ARCH
from progan_tf.errors import DatasetError
from progan_tf.training import single_phase
from progan_tf.training.single_phase import SinglePhaseConfig

__all__ = ["ARCH", "DISCRIMINATORS", "RESOLUTIONS", "SAFE_ON_RESUME", "StyleGANConfig"]

ARCH = STYLEGAN_ARCH
"""The value of ``"arch"`` in a style-based GAN run's ``run.json`` and its export's metadata."""

RESOLUTIONS = (8, 16, 32, 64, 128, 256)
"""Image sizes a run trains at (8: the smallest with two resolutions of styles to mix)."""

DISCRIMINATORS = ("progan", "residual")
"""``progan``: ProGAN's discriminator at its last stage (the default, see
:mod:`progan_tf.stylegan.networks`); ``residual``: StyleGAN2's residual one."""

SAFE_ON_RESUME = (*single_phase.SAFE_ON_RESUME, "grid_every_kimg", "truncation_psi")
"""Options a resumed run may change: the shared ones (``kimg`` included: the one phase only
ends later or sooner), how often progress grids are drawn, and the export's truncation."""


@dataclasses.dataclass
class StyleGANConfig(SinglePhaseConfig):
    """Everything that defines a style-based GAN run (stored in ``run.json``).

    The networks are :class:`~progan_tf.stylegan.networks.StyleGenerator` (``latent_dim``,
    ``w_dim``, ``mapping_layers`` with learning-rate multiplier ``mapping_lr_multiplier``, and
    the synthesis widths ``min(fmap_base / 2**(level * fmap_decay), fmap_max)``) and a
    discriminator of the same widths (``discriminator``: :data:`DISCRIMINATORS`).  Training
    mixes two latents' styles in ``mixing_probability`` of the fakes (the paper's 0.9) and
    keeps an exponential moving average of the generator (``ema_beta``), which the export
    serves.  The export's ``default`` signature applies the truncation trick with
    ``truncation_psi`` (1: none, so that SWD measures the model itself; 0.7 gives the paper's
    cleaner, less varied faces).

    The optimiser is ProGAN's Adam (beta1 0, beta2 0.99) with ``learning_rate`` 1e-3 and the
    loss is ``loss``: ``"wgan-gp"`` (the recipe's winner, the default) or ``"ns-r1"`` (with
    ``r1_gamma``, default ``0.0002 * resolution**2 / batch_size``, every ``r1_interval``
    steps); ``augment`` is ``"none"``, ``"diffaugment"`` or ``"ada"``.  The shared options and
    their checks are :class:`~progan_tf.training.single_phase.SinglePhaseConfig`'s.

    Example:
    >>> config = StyleGANConfig(data_dir="faces", out_dir="run", resolution=32)
    >>> config.validate()
    >>> StyleGANConfig.from_json(config.to_json()) == config
    True
    >>> config.r1_weight(), config.augment_ops()
    (0.0128, ('color', 'translation', 'cutout'))
    """

    ARCH: ClassVar[str] = ARCH
    KIND: ClassVar[str] = "a style-based GAN's"

    latent_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    mapping_lr_multiplier: float = 0.01
    fmap_base: int = 1024
    fmap_max: int = 128
    fmap_decay: float = 1.0
    discriminator: str = "progan"
    mixing_probability: float = 0.9
    truncation_psi: float = 1.0
    ema_beta: float = 0.999
    loss: str = "wgan-gp"
    r1_gamma: float | None = None
    r1_interval: int = 16
    augment: str = "none"
    augment_policy: str = "color,translation,cutout"
    ada_target: float = 0.6
    ada_kimg: float = 100.0
    grid_every_kimg: float = 5.0
    kimg: float = 100.0
    batch_size: int = 16
    learning_rate: float = 1e-3
    beta_1: float = 0.0
    arch: str = ARCH

    def augment_ops(self) -> tuple[str, ...]:
        """The augmentations ``augment_policy`` names, in order.

        Raises:
            DatasetError: for an empty policy or a name not in ``AUGMENT_OPS``.
        """
        names = tuple(name.strip() for name in str(self.augment_policy).split(",")
                      if name.strip())
        if not names or any(name not in AUGMENT_OPS for name in names):
            raise DatasetError(f"augment_policy must name some of {', '.join(AUGMENT_OPS)}, "
                               f"separated by commas. Received: "
                               f"augment_policy={self.augment_policy!r}")
        return names

    def r1_weight(self) -> float:
        """``r1_gamma``, or StyleGAN2-ADA's heuristic ``0.0002 * resolution**2 / batch_size``."""
        if self.r1_gamma is not None:
            return float(self.r1_gamma)
        return round(0.0002 * self.resolution ** 2 / self.batch_size, 6)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        super().validate()
        if isinstance(self.resolution, bool) or self.resolution not in RESOLUTIONS:
            raise DatasetError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))} "
                               f"for a style-based GAN. Received: resolution={self.resolution!r}")
        for name in ("latent_dim", "w_dim", "mapping_layers", "fmap_base", "fmap_max",
                     "r1_interval"):
            check_whole_number(getattr(self, name), name, minimum=1, error=DatasetError)
        for name in ("mapping_lr_multiplier", "grid_every_kimg", "ada_target", "ada_kimg"):
            check_number(getattr(self, name), name, exclusive_minimum=0, error=DatasetError)
        check_number(self.fmap_decay, "fmap_decay", minimum=0, error=DatasetError)
        check_number(self.mixing_probability, "mixing_probability", minimum=0, maximum=1,
                     error=DatasetError)
        check_number(self.truncation_psi, "truncation_psi", minimum=0, maximum=1,
                     error=DatasetError)
        check_number(self.ema_beta, "ema_beta", minimum=0, maximum=1, error=DatasetError)
        if self.r1_gamma is not None:
            check_number(self.r1_gamma, "r1_gamma", minimum=0, error=DatasetError)
        check_choice(self.discriminator, "discriminator", DISCRIMINATORS, error=DatasetError)
        check_choice(self.loss, "loss", LOSSES, error=DatasetError)
        check_choice(self.augment, "augment", AUGMENTS, error=DatasetError)
        self.augment_ops()
