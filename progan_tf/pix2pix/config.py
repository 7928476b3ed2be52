"""A Pix2Pix run's options, checked, and its schedule (one phase at one resolution).

Free of TensorFlow (the command line reads run folders before TensorFlow starts).  ``run.json``
records ``"arch": "pix2pix"`` (see :func:`progan_tf.training.runs.run_arch`, which reads it for
every family).  The shared options, their checks and the one-phase schedule are
:class:`~progan_tf.training.single_phase.SinglePhaseConfig`'s.

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
from typing import Any, ClassVar

from progan_tf.checks import check_choice, check_number, check_whole_number
from progan_tf.constants import PIX2PIX_ADVERSARIAL, PIX2PIX_PAIRS
from progan_tf.errors import DatasetError, OptionError
from progan_tf.training import single_phase
from progan_tf.training.single_phase import SinglePhaseConfig

__all__ = ["ARCH", "DIRECTIONS", "SAFE_ON_RESUME", "Pix2PixConfig", "check_resolution",
           "down_blocks"]

ARCH = "pix2pix"
"""The value of ``"arch"`` in a Pix2Pix run's ``run.json`` and in its export's metadata."""

DIRECTIONS = ("AtoB", "BtoA")
"""Which half of a pair is the input: A (the default) or B."""

SAFE_ON_RESUME = (*single_phase.SAFE_ON_RESUME, "grid_every_kimg")
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
class Pix2PixConfig(SinglePhaseConfig):
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

    ARCH: ClassVar[str] = ARCH
    KIND: ClassVar[str] = "a Pix2Pix one's"
    UNIT: ClassVar[str] = "pair"

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
    grid_every_kimg: float = 2.0
    arch: str = ARCH

    def validate(self) -> None:
        """Check every option before anything is written.

        Raises:
            DatasetError: naming the first invalid option and what it must be.
        """
        super().validate()
        check_resolution(self.resolution, error=DatasetError)
        for name in ("width", "max_width", "d_layers"):
            check_whole_number(getattr(self, name), name, minimum=1, error=DatasetError)
        if self.hints is not None:
            check_whole_number(self.hints, "hints", minimum=0, error=DatasetError)
        check_number(self.grid_every_kimg, "grid_every_kimg", exclusive_minimum=0,
                     error=DatasetError)
        check_number(self.l1_weight, "l1_weight", minimum=0, error=DatasetError)
        check_number(self.dropout, "dropout", minimum=0, maximum=0.99, error=DatasetError)
        check_choice(self.pairs, "pairs", PIX2PIX_PAIRS, error=DatasetError)
        check_choice(self.direction, "direction", DIRECTIONS, error=DatasetError)
        check_choice(self.adversarial, "adversarial", PIX2PIX_ADVERSARIAL, error=DatasetError)
        if self.pairs == "folders" and not self.paired_b:
            raise DatasetError("pairs='folders' needs paired_b, the folder of targets (B) "
                               "whose file names match data_dir's (--paired-b DIR)")
        if self.paired_b and self.pairs not in ("auto", "folders"):
            raise DatasetError(f"paired_b is the second folder of pairs='folders'; it cannot "
                               f"be used with pairs={self.pairs!r}")
