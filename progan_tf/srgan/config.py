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
import os
from typing import Any

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS, PRECISIONS, SRGAN_ARCH
from progan_tf.errors import DatasetError

__all__ = ["ARCH", "CONTENT_LOSSES", "SAFE_ON_RESUME", "SCALE", "SRGANConfig", "SRGANPhase",
           "SRGANSchedule"]

ARCH = SRGAN_ARCH
"""The value of ``"arch"`` in an SRGAN run's ``run.json`` and in its export's metadata."""

SCALE = 4
"""The enlargement of every SRGAN this package trains (the paper's 4x: 16x16 -> 64x64)."""

CONTENT_LOSSES = ("pixel", "vgg")
"""``pixel``: MSE plus a Laplacian-pyramid L1 (offline); ``vgg``: the paper's VGG19 feature
loss (needs the ImageNet weights, a download)."""

SAFE_ON_RESUME = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir", "kimg")
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
class SRGANConfig:
    """Everything that defines an SRGAN run (stored in ``run.json``).

    ``resolution`` is the side of the high-resolution training crops; the generator sees them
    shrunk :data:`SCALE` times (area filter), so 64 trains 16x16 -> 64x64.  ``width`` and
    ``blocks`` size SRResNet (the paper's 64 and 16; smaller defaults so that a CPU trains it
    and the weights ship small).  ``adversarial_weight`` is the paper's 1e-3; the optimiser is
    Adam(``learning_rate`` 1e-4, beta1 0.9), the paper's.

    Example:
    >>> config = SRGANConfig(data_dir="faces", out_dir="run")
    >>> config.validate()
    >>> SRGANConfig.from_json(config.to_json()) == config
    True
    >>> config.low_resolution
    16
    """

    data_dir: str
    out_dir: str
    resolution: int = 64
    width: int = 32
    blocks: int = 8
    disc_width: int = 32
    content_loss: str = "pixel"
    adversarial_weight: float = 1e-3
    content_only: bool = False
    pretrain_kimg: float = 20.0
    kimg: float = 20.0
    batch_size: int = 16
    learning_rate: float = 1e-4
    beta_1: float = 0.9
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    command: str = ""
    arch: str = ARCH

    @property
    def low_resolution(self) -> int:
        """The side of the generator's inputs: ``resolution // SCALE``."""
        return self.resolution // SCALE

    def schedule(self) -> SRGANSchedule:
        """The run's phases (see :class:`SRGANSchedule`)."""
        return SRGANSchedule(self.resolution, round(self.pretrain_kimg * 1000),
                             round(self.kimg * 1000), self.batch_size, self.content_only)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        if self.arch != ARCH:
            raise DatasetError(f"these options are a {self.arch!r} run's, not an SRGAN's. "
                               f"Received: arch={self.arch!r}")
        check_whole_number(self.resolution, "resolution", minimum=2 * SCALE, error=DatasetError)
        if self.resolution % SCALE:
            raise DatasetError(f"resolution must be a multiple of {SCALE} (the generator sees "
                               f"it shrunk {SCALE}x). Received: resolution={self.resolution!r}")
        for name, low in (("width", 1), ("blocks", 1), ("disc_width", 1), ("batch_size", 1),
                          ("holdout", 0)):
            check_whole_number(getattr(self, name), name, minimum=low, error=DatasetError)
        check_whole_number(self.seed, "seed", minimum=0, maximum=2 ** 32 - 1, error=DatasetError)
        for name in ("kimg", "learning_rate", "checkpoint_minutes"):
            check_number(getattr(self, name), name, exclusive_minimum=0, error=DatasetError)
        for name in ("pretrain_kimg", "adversarial_weight"):
            check_number(getattr(self, name), name, minimum=0, error=DatasetError)
        check_number(self.beta_1, "beta_1", minimum=0, maximum=0.999, error=DatasetError)
        if round(self.kimg * 1000) < 1:
            raise DatasetError(f"kimg must be at least 0.001 (one image). Received: "
                               f"kimg={self.kimg!r}")
        check_choice(self.content_loss, "content_loss", CONTENT_LOSSES, error=DatasetError)
        check_choice(self.crop, "crop", CROPS, error=DatasetError)
        check_choice(self.precision, "precision", PRECISIONS, error=DatasetError)
        if not isinstance(self.content_only, bool):
            raise DatasetError(f"content_only must be True or False. Received: "
                               f"content_only={self.content_only!r}")
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images. Received: "
                               f"data_dir={self.data_dir!r}")

    def to_json(self) -> str:
        """The options as ``run.json`` stores them."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SRGANConfig:
        """Options from ``run.json``; unknown fields are ignored, a missing ``arch`` is ProGAN."""
        fields = {f.name for f in dataclasses.fields(cls)}
        stored: dict[str, Any] = json.loads(text)
        values = {key: value for key, value in stored.items() if key in fields}
        values["arch"] = stored.get("arch", "progan")
        return cls(**values)
