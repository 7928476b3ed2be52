"""A DCGAN run's options, checked, and its schedule: one phase at one resolution.

Free of TensorFlow (the command line reads run folders with it before TensorFlow starts).
``run.json`` records ``"arch": "dcgan"``, so a run folder says which family trained it
(:func:`run_arch`; a ``run.json`` without the field is a progressive GAN's, the only family
before DCGAN).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from progan_tf.checks import check_number, check_whole_number
from progan_tf.constants import DCGAN_RESOLUTIONS
from progan_tf.errors import DatasetError, OptionError
from progan_tf.training import runs, single_phase
from progan_tf.training.single_phase import SinglePhaseConfig

__all__ = ["ARCH", "SAFE_ON_RESUME", "DCGANConfig", "DCGANPhase", "DCGANSchedule",
           "check_channels", "check_resolution", "check_run_arch", "run_arch"]

# Which family a run folder holds is every family's question: answered in training.runs.
check_run_arch, run_arch = runs.check_run_arch, runs.run_arch

# The one-phase schedule is every single-phase family's: defined in training.single_phase.
DCGANPhase, DCGANSchedule = single_phase.SinglePhase, single_phase.SinglePhaseSchedule

ARCH = "dcgan"
"""The value of ``"arch"`` in a DCGAN run's ``run.json`` and in its export's ``metadata.json``."""

SAFE_ON_RESUME = (*single_phase.SAFE_ON_RESUME, "grid_every_kimg")
"""Options a resumed run may change.  ``kimg`` too: a DCGAN's one phase only ends later or
sooner (its learning rate is constant and the data order depends on the seed alone), so
``--resume --kimg 200`` trains a finished run further."""


def check_resolution(value: Any, error: type[Exception] = OptionError) -> int:
    """Accepts one of :data:`~progan_tf.constants.DCGAN_RESOLUTIONS`.

    Example:
    >>> check_resolution(64)
    64
    >>> check_resolution(48)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: resolution must be one of 16, 28, 32, 64 for a DCGAN. ...
    """
    if isinstance(value, bool) or value not in DCGAN_RESOLUTIONS:
        raise error(f"resolution must be one of {', '.join(map(str, DCGAN_RESOLUTIONS))} for a "
                    f"DCGAN. Received: resolution={value!r}")
    return int(value)


def check_channels(value: Any, error: type[Exception] = OptionError) -> int:
    """Accepts 3 (RGB) or 1 (grey).

    Example:
    >>> check_channels(1)
    1
    """
    if isinstance(value, bool) or value not in (1, 3):
        raise error(f"channels must be 3 (RGB) or 1 (grey). Received: channels={value!r}")
    return int(value)


@dataclasses.dataclass
class DCGANConfig(SinglePhaseConfig):
    """Everything that defines a DCGAN run (stored in ``run.json``).

    The recipe is the paper's: Adam with ``learning_rate`` 2e-4 and ``beta_1`` 0.5, batches of
    ``batch_size`` real images (the paper's 128; 64 here, the PyTorch tutorial's, which a CPU
    steps through twice as often).  ``width`` is the feature maps of the largest hidden map
    (the paper's 128 at 64x64); ``channels`` 1 trains on the grey version of the folder's
    images.  The shared options and their checks are
    :class:`~progan_tf.training.single_phase.SinglePhaseConfig`'s.  Resuming refuses any
    option that differs from the run's except :data:`SAFE_ON_RESUME`.

    Example:
    >>> config = DCGANConfig(data_dir="faces", out_dir="run", resolution=32)
    >>> config.validate()
    >>> DCGANConfig.from_json(config.to_json()) == config
    True
    """

    ARCH: ClassVar[str] = ARCH
    KIND: ClassVar[str] = "a DCGAN's"

    latent_dim: int = 100
    width: int = 64
    channels: int = 3
    grid_every_kimg: float = 5.0
    arch: str = ARCH

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        super().validate()
        check_resolution(self.resolution, error=DatasetError)
        check_channels(self.channels, error=DatasetError)
        for name in ("latent_dim", "width"):
            check_whole_number(getattr(self, name), name, minimum=1, error=DatasetError)
        check_number(self.grid_every_kimg, "grid_every_kimg", exclusive_minimum=0,
                     error=DatasetError)
