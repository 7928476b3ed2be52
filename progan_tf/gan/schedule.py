"""The progressive-growing schedule, measured in images shown (kimg) as in the paper.

Training visits 4x4 (stable), then for every next resolution a *fade* phase (alpha 0 -> 1) and
a *stable* phase, each ``kimg_per_phase`` thousand images long.  Everything that depends on
"where are we" -- the stage, alpha, the batch size, whether the optimizer is reset -- is
derived from one number, the images shown so far, so resuming from a checkpoint needs nothing
else.  Fine-tuning a trained model (``grow=False``) skips the growing: one stable phase at the
final resolution.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from progan_tf.checks import check_whole_number
from progan_tf.errors import DatasetError

# Minibatch size per resolution: CPU-friendly defaults, smaller where activations are large.
DEFAULT_BATCH_SIZES = {4: 64, 8: 64, 16: 32, 32: 32, 64: 16, 128: 16, 256: 8, 512: 4, 1024: 4}


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase of the schedule: ``fading`` in a new resolution or ``stable`` at it."""

    index: int
    resolution: int
    fading: bool
    start_images: int
    num_images: int
    batch_size: int

    @property
    def end_images(self) -> int:
        """The image count at which the next phase starts."""
        return self.start_images + self.num_images

    @property
    def name(self) -> str:
        """``"8x8 fade-in"`` or ``"8x8 stable"``."""
        return f"{self.resolution}x{self.resolution} {'fade-in' if self.fading else 'stable'}"

    def alpha(self, images_shown: int) -> float:
        """Fade-in blend factor at ``images_shown`` (1 outside fade phases).

        Example:
        >>> Phase(1, 8, True, 1000, 1000, 16).alpha(1500)
        0.5
        """
        if not self.fading:
            return 1.0
        return min(max((images_shown - self.start_images) / self.num_images, 0.0), 1.0)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Phases from 4x4 up to ``resolution``, or one stable phase at it (``grow=False``).

    Args:
        resolution: Final resolution, a power of two from 4 to 1024.
        kimg_per_phase: Thousands of real images shown in each fade-in and each stable phase
            (default 100).
        batch_sizes: Minibatch size per resolution (default ``{}``: missing entries use
            :data:`DEFAULT_BATCH_SIZES`).
        final_kimg: Length of the last stable phase (default ``None``: ``kimg_per_phase``);
            lets the final resolution train longer than the intermediate ones.
        grow: Grow from 4x4 (default ``True``); ``False``: a single stable phase at
            ``resolution`` of ``final_kimg`` (else ``kimg_per_phase``) thousand images, with that
            resolution's batch size -- fine-tuning a model trained at that resolution.

    Raises:
        DatasetError: (a ``ValueError``) naming the first invalid argument.

    Example:
    >>> schedule = Schedule(16, kimg_per_phase=1, final_kimg=3)
    >>> [phase.name for phase in schedule.phases][-2:], schedule.total_images
    (['16x16 fade-in', '16x16 stable'], 7000)
    >>> [phase.name for phase in Schedule(16, 1, final_kimg=3, grow=False).phases]
    ['16x16 stable']
    """

    resolution: int
    kimg_per_phase: float = 100.0
    batch_sizes: dict = dataclasses.field(default_factory=dict)
    final_kimg: float | None = None
    grow: bool = True

    def __post_init__(self) -> None:
        """Check the arguments (``DatasetError``, a ``ValueError``, names the first bad one)."""
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, numbers.Integral) \
                or self.resolution not in DEFAULT_BATCH_SIZES:
            raise DatasetError(
                f"resolution must be a power of two from 4 to 1024 (4, 8, 16, 32, 64, 128, ...). "
                f"Received: resolution={self.resolution!r}")
        for name in ("kimg_per_phase", "final_kimg"):
            value = getattr(self, name)
            if name == "final_kimg" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value) or round(value * 1000) < 1:
                raise DatasetError(f"{name} must be a finite number of thousands of images, at "
                                   f"least 0.001. Received: {name}={value!r}")
        for resolution, size in self.batch_sizes.items():
            if resolution not in DEFAULT_BATCH_SIZES:
                raise DatasetError(f"batch size given for {resolution}x{resolution}, which is not "
                                   f"a resolution (use 4, 8, 16, ..., 1024)")
            check_whole_number(size, f"batch size for {resolution}x{resolution}",
                               error=DatasetError)
        if not isinstance(self.grow, bool):
            raise DatasetError(f"grow must be True or False. Received: grow={self.grow!r}")

    def batch_size(self, resolution: int) -> int:
        """The minibatch size at ``resolution`` (given, else the default)."""
        return int({**DEFAULT_BATCH_SIZES, **self.batch_sizes}[resolution])

    @property
    def phases(self) -> list[Phase]:
        """Every phase, in order: 4x4 stable, then fade-in and stable per resolution."""
        phases, start = [], 0
        resolutions = [4 * 2 ** level for level in range(int(math.log2(self.resolution)) - 1)]
        if not self.grow:  # fine-tuning: the final resolution's stable phase only
            resolutions = [self.resolution]
        for resolution in resolutions:
            for fading in ((False,) if resolution == 4 or not self.grow else (True, False)):
                kimg = self.kimg_per_phase
                if resolution == self.resolution and not fading and self.final_kimg is not None:
                    kimg = self.final_kimg
                num = int(round(kimg * 1000))
                phases.append(Phase(len(phases), resolution, fading, start, num,
                                    self.batch_size(resolution)))
                start += num
        return phases

    @property
    def total_images(self) -> int:
        """The run's length in images."""
        return self.phases[-1].end_images

    def phase_at(self, images_shown: int) -> Phase:
        """The phase that the image counter ``images_shown`` falls in (the last one at the end)."""
        for phase in self.phases:
            if images_shown < phase.end_images:
                return phase
        return self.phases[-1]

    def to_dict(self) -> dict:
        """The schedule as JSON-serialisable values (``state.json``, ``metadata.json``).

        ``grow`` is written only when ``False``, so a growing schedule reads as before.
        """
        values = {"resolution": self.resolution, "kimg_per_phase": self.kimg_per_phase,
                  "batch_sizes": {str(k): v for k, v in self.batch_sizes.items()},
                  "final_kimg": self.final_kimg}
        return values if self.grow else {**values, "grow": False}

    @classmethod
    def from_dict(cls, config: dict) -> Schedule:
        """The schedule :meth:`to_dict` described."""
        return cls(resolution=int(config["resolution"]),
                   kimg_per_phase=float(config["kimg_per_phase"]),
                   batch_sizes={int(k): int(v) for k, v in config.get("batch_sizes", {}).items()},
                   final_kimg=config.get("final_kimg"), grow=bool(config.get("grow", True)))
