"""An SRGAN run's options, checked, and its schedule: SRResNet first, then the GAN.

Free of TensorFlow (the command line reads run folders with it before TensorFlow starts).
``run.json`` records ``"arch": "srgan"``, so a run folder says which family trained it
(:func:`progan_tf.training.runs.run_arch` reads it for every family).

The schedule follows the paper's recipe (Ledig et al., 2017, section 3.2): the generator is
first trained with the content loss alone -- that *is* SRResNet -- and the GAN then starts from
it.  A run has two phases, ``srresnet`` (``pretrain_kimg`` thousand images) and ``srgan``
(``kimg``); with ``content_only`` it has the first alone, of ``pretrain_kimg + kimg``, so a
content-only run and an SRGAN run of the same options see the same number of images.
"""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import SRGAN_ARCH
from progan_tf.errors import DatasetError
from progan_tf.training import single_phase
from progan_tf.training.single_phase import SinglePhaseConfig

__all__ = ["ARCH", "CONTENT_LOSSES", "SAFE_ON_RESUME", "SCALE", "SRGANConfig", "SRGANPhase",
           "SRGANSchedule"]

ARCH = SRGAN_ARCH
"""The value of ``"arch"`` in an SRGAN run's ``run.json`` and in its export's metadata."""

SCALE = 4
"""The enlargement of every SRGAN this package trains (the paper's 4x: 16x16 -> 64x64)."""

CONTENT_LOSSES = ("pixel", "vgg")
"""``pixel``: MSE plus a Laplacian-pyramid L1 (offline); ``vgg``: the paper's VGG19 feature
loss (needs the ImageNet weights, a download)."""

SAFE_ON_RESUME = single_phase.SAFE_ON_RESUME
"""Options a resumed run may change (``kimg``: the last phase only ends later or sooner)."""


@dataclasses.dataclass(frozen=True)
class SRGANPhase:
    """A phase of an SRGAN run (see :class:`~progan_tf.training.family.Phase`).

    ``adversarial`` is False in the ``srresnet`` phase (content loss only).
    """

    index: int
    name: str
    start_images: int
    end_images: int
    batch_size: int
    resolution: int
    adversarial: bool


class SRGANSchedule:
    """``srresnet`` (content loss) then ``srgan`` (content + adversarial), in images shown.

    Example:
    >>> schedule = SRGANSchedule(64, pretrain_images=1000, images=500, batch_size=16)
    >>> [(p.name, p.end_images, p.adversarial) for p in schedule.phases]
    [('srresnet', 1000, False), ('srgan', 1500, True)]
    >>> [p.name for p in SRGANSchedule(64, 1000, 500, 16, content_only=True).phases]
    ['srresnet']
    """

    def __init__(self, resolution: int, pretrain_images: int, images: int, batch_size: int,
                 content_only: bool = False) -> None:
        self.resolution = int(resolution)
        if content_only:
            self._phases = [SRGANPhase(0, "srresnet", 0, int(pretrain_images + images),
                                       int(batch_size), self.resolution, False)]
        else:
            self._phases = [SRGANPhase(0, "srresnet", 0, int(pretrain_images), int(batch_size),
                                       self.resolution, False)] if pretrain_images else []
            start = int(pretrain_images)
            self._phases.append(SRGANPhase(len(self._phases), "srgan", start,
                                           start + int(images), int(batch_size),
                                           self.resolution, True))

    @property
    def phases(self) -> list:
        """Every :class:`SRGANPhase`, in order."""
        return list(self._phases)

    @property
    def total_images(self) -> int:
        """The run's length in images."""
        return self._phases[-1].end_images

    def phase_at(self, images_shown: int) -> SRGANPhase:
        """The phase the image counter falls in (the last one at the end)."""
        for phase in self._phases:
            if images_shown < phase.end_images:
                return phase
        return self._phases[-1]

    def to_dict(self) -> dict:
        """The schedule as JSON values (checkpoints and exports store it)."""
        return {"resolution": self.resolution, "total_images": self.total_images,
                "phases": [{"name": p.name, "start_images": p.start_images,
                            "end_images": p.end_images, "batch_size": p.batch_size,
                            "adversarial": p.adversarial} for p in self._phases]}


@dataclasses.dataclass
class SRGANConfig(SinglePhaseConfig):
    """Everything that defines an SRGAN run (stored in ``run.json``).

    ``resolution`` is the side of the high-resolution training crops; the generator sees them
    shrunk :data:`SCALE` times (area filter), so 64 trains 16x16 -> 64x64.  ``width`` and
    ``blocks`` size SRResNet (the paper's 64 and 16; smaller defaults so that a CPU trains it
    and the weights ship small).  ``bicubic_skip`` (default ``True``) makes the generator
    draw the residual over a bicubic enlargement (see :mod:`progan_tf.srgan.networks`); a
    ``run.json`` written before the switch existed reads as ``False``, the network it trained.
    ``adversarial_weight`` is the paper's 1e-3; the optimiser is
    Adam(``learning_rate`` 1e-4, beta1 0.9), the paper's.  The shared options and their checks
    are :class:`~progan_tf.training.single_phase.SinglePhaseConfig`'s; the schedule has two
    phases (:class:`SRGANSchedule`).

    Example:
    >>> config = SRGANConfig(data_dir="faces", out_dir="run")
    >>> config.validate()
    >>> SRGANConfig.from_json(config.to_json()) == config
    True
    >>> config.low_resolution
    16
    """

    ARCH: ClassVar[str] = ARCH
    KIND: ClassVar[str] = "an SRGAN's"

    width: int = 32
    blocks: int = 8
    bicubic_skip: bool = True
    disc_width: int = 32
    content_loss: str = "pixel"
    adversarial_weight: float = 1e-3
    content_only: bool = False
    pretrain_kimg: float = 20.0
    kimg: float = 20.0
    batch_size: int = 16
    learning_rate: float = 1e-4
    beta_1: float = 0.9
    arch: str = ARCH

    @property
    def low_resolution(self) -> int:
        """The side of the generator's inputs: ``resolution // SCALE``."""
        return self.resolution // SCALE

    @classmethod
    def from_json(cls, text: str) -> SRGANConfig:
        """Options from ``run.json``; one without ``bicubic_skip`` predates it: ``False``."""
        config = super().from_json(text)
        if "bicubic_skip" not in json.loads(text):
            config = dataclasses.replace(config, bicubic_skip=False)
        return config

    def schedule(self) -> SRGANSchedule:
        """The run's phases (see :class:`SRGANSchedule`)."""
        return SRGANSchedule(self.resolution, round(self.pretrain_kimg * 1000),
                             round(self.kimg * 1000), self.batch_size, self.content_only)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        super().validate()
        check_whole_number(self.resolution, "resolution", minimum=2 * SCALE, error=DatasetError)
        if self.resolution % SCALE:
            raise DatasetError(f"resolution must be a multiple of {SCALE} (the generator sees "
                               f"it shrunk {SCALE}x). Received: resolution={self.resolution!r}")
        for name in ("width", "blocks", "disc_width"):
            check_whole_number(getattr(self, name), name, minimum=1, error=DatasetError)
        for name in ("pretrain_kimg", "adversarial_weight"):
            check_number(getattr(self, name), name, minimum=0, error=DatasetError)
        check_choice(self.content_loss, "content_loss", CONTENT_LOSSES, error=DatasetError)
        for name in ("content_only", "bicubic_skip"):
            if not isinstance(getattr(self, name), bool):
                raise DatasetError(f"{name} must be True or False. Received: "
                                   f"{name}={getattr(self, name)!r}")
