"""The options of a latent search, grouped in one frozen object with named presets.

A search has a dozen knobs -- how long, how many restarts, which loss, which prior, the
learning-rate and noise schedules -- and most calls change one or two. :class:`RecoverySettings`
holds them all with their defaults and checks them once; :data:`PRESETS` names the recipes
worth remembering (the defaults, the TF Hub tutorial's, real photos); and
:func:`~progan_tf.recovery.recover_latent` takes a preset or a settings object plus any field as
a keyword override::

    recover_latent(gen, target)                                     # the defaults
    recover_latent(gen, target, settings="tutorial")                # the tutorial's recipe
    recover_latent(gen, photo, settings="photo", steps=500)         # a preset, one change
    recover_latent(gen, target, settings=my_settings.replace(restarts=16))
"""

from __future__ import annotations

import dataclasses
from typing import Any

from progan_tf.checks import check_number, check_whole_number
from progan_tf.constants import (
    ENCODER_REFINE_RESTARTS,
    ENCODER_REFINE_STEPS,
    RECOVERY_RESTARTS,
    RECOVERY_STEPS,
)
from progan_tf.errors import RecoveryError
from progan_tf.recovery import losses

__all__ = ["PRESETS", "PRIORS", "RecoverySettings", "settings_for"]

PRIORS = ("sphere", "norm", None)
"""How a search keeps latents typical of ``N(0, I)``: on the sphere, by a penalty, or not."""

LOSS_NETWORKS = ("feature_extractor", "discriminator")
"""Older keyword arguments that name a loss' network; they now live in the loss object."""


@dataclasses.dataclass(frozen=True)
class RecoverySettings:
    """How :func:`~progan_tf.recovery.recover_latent` searches (every field has a default).

    Attributes:
        steps: Optimisation steps (each one updates all restarts).
        restarts: Random starting latents optimised in parallel, as one batch; more find better
            optima, at the cost of a larger batch.
        candidates: Random latents scored against the target (one forward pass each, no
            gradient) before the search; the random restarts start from the best of them, best
            first. ``None`` (or at most ``restarts``) starts from the first random latents
            unscreened. Screening buys more than extra restarts would, for the price of one
            batched forward pass instead of a larger batch at every step. Measured on the
            bundled model (``bench/recover_tune.py``: 12 held-out validation faces the benchmark
            does not score, 300 steps, 8 restarts), the mean margin over the tutorial's recipe
            was +2.52 dB unscreened and +2.61 / +2.71 / +2.75 dB with 64 / 256 / 1024
            candidates (1024 adds about 8% to the search's time), against +2.60 dB for 16
            restarts unscreened (twice the time). Each candidate costs one forward pass of the
            generator and the loss (with a perceptual or discriminator loss, that network's
            too); a stateful custom loss is called for them before step 0.
        loss: ``"mse"``, ``"mae"``, ``"ssim"`` (``1 - SSIM``), ``"laplacian"`` (mean absolute
            difference of every level of a 5x5-binomial Laplacian pyramid, so coarse layout and
            fine detail count alike), a loss object such as
            ``PerceptualLoss(perceptual_extractor())`` or ``DiscriminatorLoss(export_dir)``
            (mean squared difference of unit-normalised features, as in LPIPS), a callable
            ``loss(target [1, H, W, 3], images [N, H, W, 3]) -> [N]``, a Keras loss instance,
            or a list of ``(loss, weight)`` pairs, summed (see :mod:`progan_tf.recovery.losses`).
        prior: ``"sphere"`` keeps every latent on the sphere of radius ``sqrt(D)`` (where
            ``N(0, I)`` samples live; ProGAN ignores the norm anyway); ``"norm"`` adds the
            tutorial's penalty ``prior_weight * |norm(z) - sqrt(D)|``; ``None`` leaves the
            latents free.
        prior_weight: Weight of the ``"norm"`` penalty, relative to the per-pixel losses; ``None``
            weighs it as the tutorial does, once against the loss *summed* over the pixels,
            i.e. ``1 / (H * W * 3)`` against their mean.
        learning_rate: Adam's peak learning rate. The default 0.4 is large for Adam on purpose:
            the latent lives on a sphere of radius ``sqrt(D)`` (22.6 for 512), so steps of this
            size still only turn it by a few degrees. Measured on the 64x64 bundled model
            (``bench/recover_tune.py``, 12 validation faces, unscreened), mean real-face PSNR
            was 22.29 / 22.55 / 22.36 dB at 0.2 / 0.4 / 0.8.
        lr_rampup: The fraction of the steps over which the learning rate rises linearly.
        lr_rampdown: The fraction at the end over which it falls on a cosine.
        noise: Standard deviation of Gaussian noise added to the latents the generator sees,
            decaying quadratically to zero: it helps restarts escape poor early optima. Step 0
            sees the starting latents without noise, so they are candidates too: a search
            started at the answer (``initial_latents``) never returns a worse one.
        noise_ramp: The fraction of the steps after which the noise is zero.
        stochastic_clip: After each step, latent components beyond ``+-stochastic_clip`` are
            resampled from ``N(0, 1)`` (stochastic clipping); ``None`` never.
        frames_every: Record the winning restart's image every ``frames_every`` steps (for
            ``animate``); ``None`` records none.
        steps_per_execution: Steps run by one call of the compiled step (as in Keras'
            ``compile``): on a CPU a call from Python adds about 1.5 ms to a small generator's
            ~5 ms step; the progress bar, ``callback`` and Ctrl-C then act once per this many
            steps.

    Raises:
        RecoveryError: If a field is invalid (one line saying which and why).

    Example:
    >>> RecoverySettings.preset("tutorial").learning_rate
    0.01
    >>> RecoverySettings().replace(restarts=16).restarts
    16
    """

    steps: int = RECOVERY_STEPS
    restarts: int = RECOVERY_RESTARTS
    candidates: int | None = 1024
    loss: Any = "mse"
    prior: str | None = "sphere"
    prior_weight: float | None = 0.01
    learning_rate: float = 0.4
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    noise: float = 0.05
    noise_ramp: float = 0.75
    stochastic_clip: float | None = None
    frames_every: int | None = 5
    steps_per_execution: int = 10

    def __post_init__(self) -> None:
        def whole(name: str) -> int:
            return check_whole_number(getattr(self, name), name, error=RecoveryError)

        def number(name: str, **bounds: float) -> float:
            return check_number(getattr(self, name), name, error=RecoveryError, **bounds)

        checked = {
            "steps": whole("steps"),
            "restarts": whole("restarts"),
            "learning_rate": number("learning_rate", exclusive_minimum=0),
            "lr_rampup": number("lr_rampup", minimum=0, maximum=1),
            "lr_rampdown": number("lr_rampdown", minimum=0, maximum=1),
            "noise": number("noise", minimum=0),
            "noise_ramp": number("noise_ramp", exclusive_minimum=0, maximum=1),
            "steps_per_execution": whole("steps_per_execution"),
        }
        if self.candidates is not None:
            checked["candidates"] = whole("candidates")
        if self.prior_weight is not None:
            checked["prior_weight"] = number("prior_weight", minimum=0)
        if self.stochastic_clip is not None:
            checked["stochastic_clip"] = number("stochastic_clip", exclusive_minimum=0)
        if self.frames_every is not None:
            checked["frames_every"] = whole("frames_every")
        if self.prior not in PRIORS:
            raise RecoveryError(f"prior must be 'sphere', 'norm' or None. "
                                f"Received: prior={self.prior!r}")
        if isinstance(self.loss, str) and self.loss not in losses.LOSSES:
            losses.get(self.loss)  # raises the one line that lists the known losses
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def preset(cls, name: str) -> RecoverySettings:
        """The settings named ``name`` in :data:`PRESETS`.

        Raises:
            RecoveryError: If there is no such preset.
        """
        if name not in PRESETS:
            raise RecoveryError(f"settings must be one of {', '.join(map(repr, PRESETS))} or a "
                                f"RecoverySettings. Received: settings={name!r}")
        return PRESETS[name]

    def replace(self, **changes: Any) -> RecoverySettings:
        """A copy with ``changes`` (field names) applied and checked.

        Raises:
            RecoveryError: If a name is not a field, or a new value is invalid.
        """
        fields = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise RecoveryError(f"recover_latent has no option {', '.join(unknown)}; its "
                                f"settings are {', '.join(fields)}")
        return dataclasses.replace(self, **changes) if changes else self

    def prior_weight_for(self, image_shape: tuple) -> float:
        """``prior_weight``, or the tutorial's ``1 / (H * W * C)`` if it is ``None``."""
        if self.prior_weight is not None:
            return self.prior_weight
        height, width, channels = image_shape
        return 1.0 / (height * width * channels)


PRESETS = {
    "default": RecoverySettings(),
    "tutorial": RecoverySettings(steps=200, restarts=1, candidates=None, loss="mae", prior="norm",
                                 prior_weight=None, learning_rate=0.01, lr_rampup=0.0,
                                 lr_rampdown=0.0, noise=0.0),
    "photo": RecoverySettings(loss="laplacian"),
    "encoder": RecoverySettings(steps=ENCODER_REFINE_STEPS, restarts=ENCODER_REFINE_RESTARTS,
                                learning_rate=0.2, lr_rampup=0.0, noise=0.0),
}
"""Named settings: ``"default"``; ``"tutorial"``, the TF Hub progan-128 tutorial's recipe (one
latent, Adam at 0.01 without ramps or noise, mean absolute error and its norm penalty, 200
steps; start it where the tutorial does with ``initial_latents=``); ``"photo"``, the defaults
with the Laplacian-pyramid loss, which suits real photos better than MSE; ``"encoder"``, the short
refinement of an encoder's latent (``recover_latent(..., init="encoder")`` uses it unless told
otherwise): few steps and restarts, a smaller learning rate without ramp-up, no noise -- the
search starts near its answer instead of exploring."""


def settings_for(settings: RecoverySettings | str | None,
                 overrides: dict[str, Any]) -> RecoverySettings:
    """The settings of one search: a preset or settings object, with keyword overrides.

    ``feature_extractor=`` and ``discriminator=`` (the older way to give a loss its network)
    are bound into the loss: ``loss="perceptual", feature_extractor=f`` means
    ``loss=PerceptualLoss(f)``.

    Args:
        settings: ``None`` (the defaults), a name of :data:`PRESETS`, or a
            :class:`RecoverySettings`.
        overrides: Field names and values.

    Returns:
        The checked settings.

    Raises:
        RecoveryError: For an unknown preset or option, or an invalid value.

    Example:
    >>> settings_for("tutorial", {"steps": 50}).steps
    50
    """
    if settings is None:
        base = PRESETS["default"]
    elif isinstance(settings, str):
        base = RecoverySettings.preset(settings)
    elif isinstance(settings, RecoverySettings):
        base = settings
    else:
        raise RecoveryError(f"settings must be a preset name ({', '.join(PRESETS)}), a "
                            f"RecoverySettings or None. Received: settings={settings!r}")
    changes = dict(overrides)
    networks = {name: changes.pop(name) for name in LOSS_NETWORKS if name in changes}
    if any(network is not None for network in networks.values()):
        changes["loss"] = losses.get(changes.get("loss", base.loss), **networks)
    return base.replace(**changes)
