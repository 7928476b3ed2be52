"""The options and the one-phase schedule of the families that train at one resolution.

DCGAN, Pix2Pix and SRGAN share them, written once here.  Free of TensorFlow itself (the
command line reads run folders before TensorFlow starts).  A family's options are a subclass
of :class:`SinglePhaseConfig`: it names its ``ARCH`` (the ``"arch"`` of its ``run.json``) and
``KIND`` (how messages name its runs), declares its own fields (and the recipe defaults that
differ from the base's), and adds its own checks to :meth:`~SinglePhaseConfig.validate`.  The
shared fields, their checks, ``run.json`` and the schedule of one phase of ``kimg`` thousand
images are the base's.

Example:
>>> import dataclasses
>>> from typing import ClassVar
>>> @dataclasses.dataclass
... class TinyConfig(SinglePhaseConfig):
...     ARCH: ClassVar[str] = "tiny"
...     KIND: ClassVar[str] = "a tiny GAN's"
...     depth: int = 2
...     arch: str = "tiny"
>>> config = TinyConfig(data_dir="faces", out_dir="run", resolution=32, kimg=2)
>>> config.validate()
>>> [(phase.name, phase.end_images) for phase in config.schedule().phases]
[('32x32', 2000)]
>>> list(json.loads(config.to_json()))[:5]
['data_dir', 'out_dir', 'resolution', 'depth', 'kimg']
>>> TinyConfig.from_json(config.to_json()) == config
True
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, ClassVar

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS, PRECISIONS
from progan_tf.errors import DatasetError

__all__ = ["SAFE_ON_RESUME", "SinglePhase", "SinglePhaseConfig", "SinglePhaseSchedule"]

SAFE_ON_RESUME = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir", "kimg")
"""Options a resumed single-phase run may change.  ``kimg`` too: the one (or last) phase only
ends later or sooner (the learning rate is constant and the data order depends on the seed
alone), so ``--resume --kimg 200`` trains a finished run further.  A family with progress
grids adds ``grid_every_kimg``."""


@dataclasses.dataclass(frozen=True)
class SinglePhase:
    """The one phase of a single-phase run (see :class:`~progan_tf.training.family.Phase`)."""

    index: int
    name: str
    start_images: int
    end_images: int
    batch_size: int
    resolution: int
    fading: bool = False

    @property
    def num_images(self) -> int:
        """The phase's length in images."""
        return self.end_images - self.start_images


class SinglePhaseSchedule:
    """A run at one resolution from start to end: a schedule of one phase.

    Example:
    >>> schedule = SinglePhaseSchedule(32, total_images=1000, batch_size=64)
    >>> schedule.phase_at(500).name, schedule.total_images
    ('32x32', 1000)
    """

    def __init__(self, resolution: int, total_images: int, batch_size: int) -> None:
        self.resolution = int(resolution)
        self._phases = [SinglePhase(0, f"{resolution}x{resolution}", 0, int(total_images),
                                    int(batch_size), int(resolution))]

    @property
    def phases(self) -> list:
        """The one :class:`SinglePhase`."""
        return list(self._phases)

    @property
    def total_images(self) -> int:
        """The run's length in images."""
        return self._phases[0].end_images

    def phase_at(self, images_shown: int) -> SinglePhase:
        """The phase (there is one)."""
        return self._phases[0]

    def to_dict(self) -> dict:
        """The schedule as JSON values (checkpoints and exports store it)."""
        phase = self._phases[0]
        return {"resolution": self.resolution, "total_images": self.total_images,
                "phases": [{"name": phase.name, "start_images": 0,
                            "end_images": phase.end_images, "batch_size": phase.batch_size}]}


# run.json lists the shared fields after the family's own, in this order (as it always has).
_LATER_FIELDS = ("kimg", "batch_size", "learning_rate", "beta_1", "crop", "mirror", "holdout",
                 "grid_every_kimg", "seed", "checkpoint_minutes", "jit_compile", "precision",
                 "command", "arch")


@dataclasses.dataclass
class SinglePhaseConfig:
    """The options every single-phase family shares (stored in ``run.json``), and their checks.

    The defaults are DCGAN's recipe (Adam 2e-4, beta_1 0.5, batches of 64, 100 kimg); a family
    overrides the ones its recipe changes.  ``kimg`` thousand images (for Pix2Pix: pairs) make
    the run's one phase.  A subclass sets :attr:`ARCH` and :attr:`KIND`, redeclares
    ``arch`` with its ``ARCH`` as default, and extends :meth:`validate`.

    Attributes:
        ARCH: The family's ``"arch"`` in ``run.json`` (class attribute).
        KIND: How messages name a run of the family: ``"a DCGAN's"`` (class attribute).
        UNIT: What one of ``kimg``'s thousand is: ``"image"`` or ``"pair"`` (class attribute).
    """

    ARCH: ClassVar[str] = ""
    KIND: ClassVar[str] = "a single-phase GAN's"
    UNIT: ClassVar[str] = "image"

    data_dir: str
    out_dir: str
    resolution: int = 64
    kimg: float = 100.0
    batch_size: int = 64
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    command: str = ""
    arch: str = ""

    def schedule(self) -> Any:
        """The run's one phase of ``kimg`` thousand images."""
        return SinglePhaseSchedule(self.resolution, round(self.kimg * 1000), self.batch_size)

    def validate(self) -> None:
        """Check the shared options before anything is written (a family checks its own next).

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        if self.arch != self.ARCH:
            raise DatasetError(f"these options are a {self.arch!r} run's, not {self.KIND}. "
                               f"Received: arch={self.arch!r}")
        for name, low in (("batch_size", 1), ("holdout", 0)):
            check_whole_number(getattr(self, name), name, minimum=low, error=DatasetError)
        check_whole_number(self.seed, "seed", minimum=0, maximum=2 ** 32 - 1, error=DatasetError)
        for name in ("kimg", "learning_rate", "checkpoint_minutes"):
            check_number(getattr(self, name), name, exclusive_minimum=0, error=DatasetError)
        check_number(self.beta_1, "beta_1", minimum=0, maximum=0.999, error=DatasetError)
        if round(self.kimg * 1000) < 1:
            raise DatasetError(f"kimg must be at least 0.001 (one {self.UNIT}). Received: "
                               f"kimg={self.kimg!r}")
        check_choice(self.crop, "crop", CROPS, error=DatasetError)
        check_choice(self.precision, "precision", PRECISIONS, error=DatasetError)
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images. Received: "
                               f"data_dir={self.data_dir!r}")

    def to_json(self) -> str:
        """The options as ``run.json`` stores them: the family's own after ``resolution``."""
        values = dataclasses.asdict(self)
        later = [name for name in _LATER_FIELDS if name in values]
        order = [name for name in values if name not in later] + later
        return json.dumps({name: values[name] for name in order}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Any:
        """Options from ``run.json``; unknown fields (from newer versions) are ignored.

        A ``run.json`` without ``"arch"`` is a progressive GAN's, and reads as such (so that
        :meth:`validate` refuses it rather than train another family on a ProGAN run's options).
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        stored = json.loads(text)
        values = {key: value for key, value in stored.items() if key in fields}
        values["arch"] = stored.get("arch", "progan")
        return cls(**values)
