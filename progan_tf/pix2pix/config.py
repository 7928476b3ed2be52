"""A Pix2Pix run's options, checked, and its schedule (one phase at one resolution).

Free of TensorFlow (the command line reads run folders before TensorFlow starts).  ``run.json``
records ``"arch": "pix2pix"`` (see :func:`progan_tf.dcgan.config.run_arch`, which reads it for
every family).

Where the pairs come from (``pairs``):

* ``"sketch"`` -- a folder of photos; each photo's input is its sketch
  (:mod:`progan_tf.pix2pix.sketch`: inverted Canny edges plus colour dots), the course's task;
* ``"folders"`` -- two folders of matching file names: ``data_dir`` holds the inputs (A),
  ``paired_b`` the targets (B);
* ``"side-by-side"`` -- every image is A|B, input on the left (``direction="BtoA"``: on the
  right), as the pix2pix data sets come;
* ``"auto"`` (the default) -- ``"folders"`` when ``paired_b`` is given, ``"side-by-side"`` when
  every image is twice as wide as high, else ``"sketch"``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import CROPS, PIX2PIX_ADVERSARIAL, PIX2PIX_PAIRS, PRECISIONS
from progan_tf.dcgan.config import DCGANSchedule
from progan_tf.errors import DatasetError, OptionError

__all__ = ["ARCH", "DIRECTIONS", "SAFE_ON_RESUME", "Pix2PixConfig", "check_resolution",
           "down_blocks"]

ARCH = "pix2pix"
"""The value of ``"arch"`` in a Pix2Pix run's ``run.json`` and in its export's metadata."""

DIRECTIONS = ("AtoB", "BtoA")
"""Which half of a pair is the input: A (the default) or B."""

SAFE_ON_RESUME = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir", "kimg",
                  "grid_every_kimg")
"""Options a resumed run may change (``kimg``: a finished run trains further)."""


def check_resolution(value: Any, error: type[Exception] = OptionError) -> int:
    """A power of two from 16 to 256: the U-Net halves the picture down to 1x1.

    Example:
    >>> check_resolution(64)
    64
    >>> check_resolution(48)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: resolution must be a power of two from 16 to 256 for Pix2Pix. ...
    """
    if (isinstance(value, bool) or not isinstance(value, int) or value < 16 or value > 256
            or value & (value - 1)):
        raise error(f"resolution must be a power of two from 16 to 256 for Pix2Pix. Received: "
                    f"resolution={value!r}")
    return int(value)


def down_blocks(resolution: int) -> int:
    """How many stride-2 blocks take ``resolution`` down to 1x1 (the paper's 8 at 256).

    Example:
    >>> down_blocks(256), down_blocks(64)
    (8, 6)
    """
    return check_resolution(resolution).bit_length() - 1


@dataclasses.dataclass
class Pix2PixConfig:
    """Everything that defines a Pix2Pix run (stored in ``run.json``).

    The recipe is the course's: Adam(2e-4, beta1 0.5) for both networks, the least-squares
    adversarial loss (``adversarial="mse"``; ``"bce"`` is the paper's cross-entropy) plus
    ``l1_weight`` (lambda, 100) times the L1 distance to the target.  ``l1_only`` trains the
    same U-Net with the L1 loss alone and no discriminator: the course's "why not just a
    U-Net?" baseline.  ``width`` is the first layer's feature maps (the paper's 64), doubling
    per block up to ``max_width`` (the paper's 512).

    Example:
    >>> config = Pix2PixConfig(data_dir="faces", out_dir="run", resolution=32)
    >>> config.validate()
    >>> Pix2PixConfig.from_json(config.to_json()) == config
    True
    """

    data_dir: str
    out_dir: str
    resolution: int = 64
    pairs: str = "auto"
    paired_b: str | None = None
    direction: str = "AtoB"
    hints: int | None = None
    width: int = 32
    max_width: int = 128
    d_layers: int = 3
    dropout: float = 0.5
    adversarial: str = "mse"
    l1_weight: float = 100.0
    l1_only: bool = False
    kimg: float = 20.0
    batch_size: int = 16
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    crop: str = "center"
    mirror: bool = True
    holdout: int = 0
    grid_every_kimg: float = 2.0
    seed: int = 0
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    precision: str = "float32"
    command: str = ""
    arch: str = ARCH

    def schedule(self) -> DCGANSchedule:
        """The run's one phase of ``kimg`` thousand pairs."""
        return DCGANSchedule(self.resolution, round(self.kimg * 1000), self.batch_size)

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        if self.arch != ARCH:
            raise DatasetError(f"these options are a {self.arch!r} run's, not a Pix2Pix one's. "
                               f"Received: arch={self.arch!r}")
        check_resolution(self.resolution, error=DatasetError)
        for name, low in (("width", 1), ("max_width", 1), ("d_layers", 1), ("batch_size", 1),
                          ("holdout", 0)):
            check_whole_number(getattr(self, name), name, minimum=low, error=DatasetError)
        if self.hints is not None:
            check_whole_number(self.hints, "hints", minimum=0, error=DatasetError)
        check_whole_number(self.seed, "seed", minimum=0, maximum=2 ** 32 - 1, error=DatasetError)
        for name in ("kimg", "learning_rate", "checkpoint_minutes", "grid_every_kimg"):
            check_number(getattr(self, name), name, exclusive_minimum=0, error=DatasetError)
        check_number(self.l1_weight, "l1_weight", minimum=0, error=DatasetError)
        check_number(self.dropout, "dropout", minimum=0, maximum=0.99, error=DatasetError)
        check_number(self.beta_1, "beta_1", minimum=0, maximum=0.999, error=DatasetError)
        if round(self.kimg * 1000) < 1:
            raise DatasetError(f"kimg must be at least 0.001 (one pair). Received: "
                               f"kimg={self.kimg!r}")
        check_choice(self.pairs, "pairs", PIX2PIX_PAIRS, error=DatasetError)
        check_choice(self.direction, "direction", DIRECTIONS, error=DatasetError)
        check_choice(self.adversarial, "adversarial", PIX2PIX_ADVERSARIAL, error=DatasetError)
        check_choice(self.crop, "crop", CROPS, error=DatasetError)
        check_choice(self.precision, "precision", PRECISIONS, error=DatasetError)
        if not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir):
            raise DatasetError(f"data_dir must name a folder of images. Received: "
                               f"data_dir={self.data_dir!r}")
        if self.pairs == "folders" and not self.paired_b:
            raise DatasetError("pairs='folders' needs paired_b, the folder of targets (B) "
                               "whose file names match data_dir's (--paired-b DIR)")
        if self.paired_b and self.pairs not in ("auto", "folders"):
            raise DatasetError(f"paired_b is the second folder of pairs='folders'; it cannot "
                               f"be used with pairs={self.pairs!r}")

    def to_json(self) -> str:
        """The options as ``run.json`` stores them."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Pix2PixConfig:
        """Options from ``run.json``; unknown fields (from newer versions) are ignored.

        A ``run.json`` without ``"arch"`` is a progressive GAN's and reads as such, so that
        :meth:`validate` refuses it.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        stored = json.loads(text)
        values = {key: value for key, value in stored.items() if key in fields}
        values["arch"] = stored.get("arch", "progan")
        return cls(**values)
