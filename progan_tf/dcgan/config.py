"""A DCGAN run's options, checked, and its schedule: one phase at one resolution.

Free of TensorFlow (the command line reads run folders with it before TensorFlow starts).
``run.json`` records ``"arch": "dcgan"``, so a run folder says which family trained it
(:func:`run_arch`; a ``run.json`` without the field is a progressive GAN's, the only family
before DCGAN).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS, DCGAN_RESOLUTIONS, PRECISIONS
from progan_tf.errors import DatasetError, OptionError
from progan_tf.training import runs

__all__ = ["ARCH", "SAFE_ON_RESUME", "DCGANConfig", "DCGANPhase", "DCGANSchedule",
           "check_channels", "check_resolution", "check_run_arch", "run_arch"]

# Which family a run folder holds is every family's question: answered in training.runs.
check_run_arch, run_arch = runs.check_run_arch, runs.run_arch

ARCH = "dcgan"
"""The value of ``"arch"`` in a DCGAN run's ``run.json`` and in its export's ``metadata.json``."""

SAFE_ON_RESUME = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir", "kimg",
                  "grid_every_kimg")
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


@dataclasses.dataclass(frozen=True)
class DCGANPhase:
    """The one phase of a DCGAN run (see :class:`~progan_tf.training.family.Phase`)."""

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


class DCGANSchedule:
    """A DCGAN trains at one resolution from start to end: a schedule of one phase.

    Example:
    >>> schedule = DCGANSchedule(32, total_images=1000, batch_size=64)
    >>> schedule.phase_at(500).name, schedule.total_images
    ('32x32', 1000)
    """

    def __init__(self, resolution: int, total_images: int, batch_size: int) -> None:
        self.resolution = int(resolution)
        self._phases = [DCGANPhase(0, f"{resolution}x{resolution}", 0, int(total_images),
                                   int(batch_size), int(resolution))]

    @property
    def phases(self) -> list:
        """The one :class:`DCGANPhase`."""
        return list(self._phases)

    @property
    def total_images(self) -> int:
        """The run's length in images."""
        return self._phases[0].end_images

    def phase_at(self, images_shown: int) -> DCGANPhase:
        """The phase (there is one)."""
        return self._phases[0]

    def to_dict(self) -> dict:
        """The schedule as JSON values (checkpoints and exports store it)."""
        phase = self._phases[0]
        return {"resolution": self.resolution, "total_images": self.total_images,
                "phases": [{"name": phase.name, "start_images": 0,
                            "end_images": phase.end_images, "batch_size": phase.batch_size}]}


@dataclasses.dataclass
class DCGANConfig:
    """Everything that defines a DCGAN run (stored in ``run.json``).

    The recipe is the paper's: Adam with ``learning_rate`` 2e-4 and ``beta_1`` 0.5, batches of
    ``batch_size`` real images (the paper's 128; 64 here, the PyTorch tutorial's, which a CPU
    steps through twice as often).  ``width`` is the feature maps of the largest hidden map
    (the paper's 128 at 64x64); ``channels`` 1 trains on the grey version of the folder's
    images.  Resuming refuses any option that differs from the run's except
    :data:`SAFE_ON_RESUME`.

    Example:
    >>> config = DCGANConfig(data_dir="faces", out_dir="run", resolution=32)
    >>> config.validate()
    >>> DCGANConfig.from_json(config.to_json()) == config
    True
    """

    data_dir: str
    out_dir: str
    resolution: int = 64
    latent_dim: int = 100
    width: int = 64
    channels: int = 3
    kimg: float = 100.0
    batch_size: int = 64
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    grid_every_kimg: float = 5.0
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    command: str = ""
    arch: str = ARCH

    def schedule(self) -> DCGANSchedule:
        """The run's one phase of ``kimg`` thousand images."""
        return DCGANSchedule(self.resolution, round(self.kimg * 1000), self.batch_size)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        if self.arch != ARCH:
            raise DatasetError(f"these options are a {self.arch!r} run's, not a DCGAN's. "
                               f"Received: arch={self.arch!r}")
        check_resolution(self.resolution, error=DatasetError)
        check_channels(self.channels, error=DatasetError)
        for name, low in (("latent_dim", 1), ("width", 1), ("batch_size", 1), ("holdout", 0)):
            check_whole_number(getattr(self, name), name, minimum=low, error=DatasetError)
        check_whole_number(self.seed, "seed", minimum=0, maximum=2 ** 32 - 1, error=DatasetError)
        for name in ("kimg", "learning_rate", "checkpoint_minutes", "grid_every_kimg"):
            check_number(getattr(self, name), name, exclusive_minimum=0, error=DatasetError)
        check_number(self.beta_1, "beta_1", minimum=0, maximum=0.999, error=DatasetError)
        if round(self.kimg * 1000) < 1:
            raise DatasetError(f"kimg must be at least 0.001 (one image). Received: "
                               f"kimg={self.kimg!r}")
        check_choice(self.crop, "crop", CROPS, error=DatasetError)
        check_choice(self.precision, "precision", PRECISIONS, error=DatasetError)
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images. Received: "
                               f"data_dir={self.data_dir!r}")

    def to_json(self) -> str:
        """The options as ``run.json`` stores them."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> DCGANConfig:
        """Options from ``run.json``; unknown fields (from newer versions) are ignored.

        A ``run.json`` without ``"arch"`` is a progressive GAN's, and reads as such (so that
        :meth:`validate` refuses it rather than train a DCGAN on a ProGAN run's options).
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        stored = json.loads(text)
        values = {key: value for key, value in stored.items() if key in fields}
        values["arch"] = stored.get("arch", "progan")
        return cls(**values)

