"""The losses a latent search minimises, as objects in the manner of Keras' ``Loss``.

Each loss maps a target ``[1, H, W, 3]`` and images ``[N, H, W, 3]`` to one value per image
``[N]`` -- one per restart, since a search optimises its restarts as one batch. Two things set
them apart from a plain function, and both serve the compiled search:

* :meth:`RecoveryLoss.prepare` computes what depends on the target alone (its Laplacian
  pyramid, its features) once per search, inside the compiled graph, and returns the function
  of the images that every step calls;
* :meth:`RecoveryLoss.cache_key` says whether a graph traced with this loss may serve a later
  search: the built-in losses read only tensors and Keras models' variables, so their graph
  stays right; a custom function may read Python values a trace would freeze, and a
  discriminator may have moved to another stage since, so those are traced afresh each time.

:func:`get` turns what users pass as ``loss=`` -- a name of :data:`LOSSES`, a loss object, a
Keras loss, a function ``loss(target, images) -> [N]`` or a list of ``(loss, weight)`` pairs --
into one loss object. A loss that needs a network holds it: ``PerceptualLoss(extractor)``,
``DiscriminatorLoss(discriminator)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.constants import RECOVERY_LOSSES
from progan_tf.errors import RecoveryError
from progan_tf.metrics.pyramid import laplacian_pyramid, pyramid_sizes
from progan_tf.metrics.similarity import ssim_window
from progan_tf.recovery.features import discriminator_extractor

__all__ = ["LOSSES", "DiscriminatorLoss", "FeatureLoss", "FunctionLoss", "LaplacianLoss",
           "MeanAbsoluteError", "MeanSquaredError", "PerceptualLoss", "RecoveryLoss", "SSIMLoss",
           "WeightedLoss", "get", "mean_per_image", "no_gradient_message"]

LOSSES = RECOVERY_LOSSES
"""The losses known by name: ``"mse"``, ``"mae"``, ``"ssim"``, ``"laplacian"``,
``"perceptual"``, ``"discriminator"``."""

PerImage = Callable[[tf.Tensor], tf.Tensor]

MAX_PYRAMID_LEVELS = 5  # the Laplacian loss' pyramid has at most 5 levels,
MIN_PYRAMID_SIZE = 4  # the coarsest at least 4x4 pixels


class RecoveryLoss:
    """A loss of a latent search: ``loss(target, images) -> [N]``, one value per image.

    Subclasses implement :meth:`prepare`. Losses see the generator's unclipped output, so
    pixels beyond [0, 1] still get a gradient.

    Example:
    >>> import numpy as np
    >>> loss = MeanSquaredError()
    >>> loss(np.zeros((1, 4, 4, 3), np.float32), np.full((2, 4, 4, 3), 0.5, np.float32))
    <tf.Tensor: shape=(2,), dtype=float32, numpy=array([0.25, 0.25], dtype=float32)>
    """

    name = "loss"
    hint = ""  # what else the user may need to fix, e.g. " (or its feature_extractor)"

    def prepare(self, target: tf.Tensor) -> PerImage:
        """Computes what depends on ``target`` alone; returns ``images -> [N]``.

        Args:
            target: float32 ``[1, H, W, 3]`` with static height and width.

        Returns:
            The function every step calls with the generated images.
        """
        raise NotImplementedError

    def __call__(self, target: Any, images: Any) -> tf.Tensor:
        """The loss of each of ``images`` ``[N, H, W, 3]`` against ``target`` ``[1, H, W, 3]``."""
        return self.prepare(tf.convert_to_tensor(target, tf.float32))(
            tf.convert_to_tensor(images, tf.float32))

    def cache_key(self) -> Hashable | None:
        """What makes two searches with this loss interchangeable; ``None``: never reuse one."""
        return (self.name,)

    def terms(self) -> list[tuple[RecoveryLoss, float]]:
        """The ``(loss, weight)`` terms of this loss: itself alone unless it is a sum."""
        return [(self, 1.0)]

    def label(self) -> str:
        """How messages name this loss."""
        return repr(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(RecoveryLoss):
    """``"mse"``: the mean squared pixel difference."""

    name = "mse"

    def prepare(self, target: tf.Tensor) -> PerImage:
        return lambda images: mean_per_image(tf.square(images - target))


class MeanAbsoluteError(RecoveryLoss):
    """``"mae"``: the mean absolute pixel difference."""

    name = "mae"

    def prepare(self, target: tf.Tensor) -> PerImage:
        return lambda images: mean_per_image(tf.abs(images - target))


class SSIMLoss(RecoveryLoss):
    """``"ssim"``: ``1 - SSIM``, with a window no larger than the images."""

    name = "ssim"

    def prepare(self, target: tf.Tensor) -> PerImage:
        window = ssim_window(target.shape)
        return lambda images: 1.0 - tf.image.ssim(
            images, tf.broadcast_to(target, tf.shape(images)), max_val=1.0, filter_size=window)


class LaplacianLoss(RecoveryLoss):
    """``"laplacian"``: mean absolute difference of every level of a Laplacian pyramid.

    Each level holds one band of detail (5x5 binomial filter, up to 5 levels), so coarse
    layout and fine detail count alike -- MSE would chase big blobs of colour first.
    """

    name = "laplacian"

    def prepare(self, target: tf.Tensor) -> PerImage:
        levels = len(pyramid_sizes(*target.shape[1:3], min_size=MIN_PYRAMID_SIZE,
                                   max_levels=MAX_PYRAMID_LEVELS))
        target_pyramid = laplacian_pyramid(target, levels)
        return lambda images: tf.add_n([
            mean_per_image(tf.abs(level - target_level))
            for level, target_level in zip(laplacian_pyramid(images, levels), target_pyramid)])


class FeatureLoss(RecoveryLoss):
    """Mean squared difference of unit-normalised features, summed over the extractor's outputs.

    Each feature vector (the channels at one position) is scaled to unit length first, as LPIPS
    does, so that layers with large activations do not drown the others and the loss has the
    same scale (0..4 per output) for any network.

    Args:
        extractor: Maps images in [0, 1] to a tensor or a list of tensors.
    """

    name = "features"

    def __init__(self, extractor: Callable[[tf.Tensor], Any]):
        self.extractor = extractor

    def prepare(self, target: tf.Tensor) -> PerImage:
        target_features = [tf.stop_gradient(f) for f in self._normalised(target)]
        return lambda images: tf.add_n([mean_per_image(tf.square(f - t)) for f, t in
                                        zip(self._normalised(images), target_features)])

    def _normalised(self, images: tf.Tensor) -> list[tf.Tensor]:
        return [tf.math.l2_normalize(tf.cast(f, tf.float32), axis=-1)
                for f in tf.nest.flatten(self.extractor(images))]

    def cache_key(self) -> Hashable | None:
        """A Keras model's features live in its variables; a function may read anything."""
        return (self.name, self.extractor) if isinstance(self.extractor, keras.Model) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self.extractor, 'name', self.extractor)!r})"


class PerceptualLoss(FeatureLoss):
    """``"perceptual"``: :class:`FeatureLoss` of a network's features, e.g. VGG16's.

    Args:
        extractor: A Keras model or function of images in [0, 1], e.g.
            :func:`~progan_tf.recovery.perceptual_extractor`.
    """

    name = "perceptual"
    hint = " (or its feature_extractor)"


class DiscriminatorLoss(FeatureLoss):
    """``"discriminator"``: :class:`FeatureLoss` of a trained ProGAN discriminator's features.

    Never reused across searches: the discriminator may have moved to another stage, or its
    file been re-exported, since.

    Args:
        discriminator: A ``ProgressiveDiscriminator``, its ``discriminator.keras`` file, an
            export folder, or a function from :func:`~progan_tf.recovery.discriminator_extractor`.
    """

    name = "discriminator"
    hint = " (or its discriminator)"

    def __init__(self, discriminator: Any):
        if callable(discriminator) and not isinstance(discriminator, keras.Model):
            super().__init__(discriminator)  # already a function of images
        else:
            super().__init__(discriminator_extractor(discriminator))

    def cache_key(self) -> Hashable | None:
        return None


class FunctionLoss(RecoveryLoss):
    """A user's loss: a function ``loss(target, images) -> [N]`` or a Keras loss instance.

    A search's step is compiled without AutoGraph, so a function that needs Python ``if`` /
    ``for`` on tensors must be a ``tf.function`` itself. It is traced afresh for every search:
    it may read Python values that a reused trace would have frozen.

    Args:
        function: The loss.
    """

    def __init__(self, function: Callable[[tf.Tensor, tf.Tensor], Any]):
        self.function = function

    def prepare(self, target: tf.Tensor) -> PerImage:
        def per_image(images: tf.Tensor) -> tf.Tensor:
            if isinstance(self.function, keras.losses.Loss):
                value = mean_per_image(self.function.call(
                    tf.broadcast_to(target, tf.shape(images)), images))
            else:
                value = mean_per_image(self.function(target, images))
            # A loss that ignores the images adds nothing to the search (alone, it would end in
            # Keras' "No gradients provided"): say so while tracing.
            if not tf.executing_eagerly() and tf.gradients(value, images)[0] is None:
                raise RecoveryError(no_gradient_message([self]))
            return value

        return per_image

    def cache_key(self) -> Hashable | None:
        return None

    def label(self) -> str:
        name = getattr(self.function, "__name__", None) or getattr(self.function, "name", None)
        if name == "<lambda>":
            return "(a lambda)"
        return repr(name) if isinstance(name, str) and name else type(self.function).__name__

    def __repr__(self) -> str:
        return f"FunctionLoss({self.label()})"


class WeightedLoss(RecoveryLoss):
    """The weighted sum of several losses, e.g. ``[("laplacian", 1.0), ("ssim", 0.2)]``.

    Args:
        terms: ``(loss, weight)`` pairs: loss objects and finite weights >= 0.
    """

    def __init__(self, terms: Sequence[tuple[RecoveryLoss, float]]):
        self._terms = [(loss, float(weight)) for loss, weight in terms]

    def prepare(self, target: tf.Tensor) -> PerImage:
        prepared = [(loss.prepare(target), weight) for loss, weight in self._terms]
        return lambda images: tf.add_n([weight * per_image(images)
                                        for per_image, weight in prepared])

    def cache_key(self) -> Hashable | None:
        keys = tuple((loss.cache_key(), weight) for loss, weight in self._terms)
        return None if any(key is None for key, _ in keys) else ("sum", keys)

    def terms(self) -> list[tuple[RecoveryLoss, float]]:
        return list(self._terms)

    def label(self) -> str:
        return ", ".join(loss.label() for loss, _ in self._terms)

    def __repr__(self) -> str:
        return f"WeightedLoss({self._terms!r})"


NAMED = {"mse": MeanSquaredError, "mae": MeanAbsoluteError, "ssim": SSIMLoss,
         "laplacian": LaplacianLoss}


def get(loss: Any, *, feature_extractor: Any = None, discriminator: Any = None) -> RecoveryLoss:
    """One loss object for what ``recover_latent(..., loss=...)`` accepts.

    Args:
        loss: A name of :data:`LOSSES`, a :class:`RecoveryLoss`, a Keras loss instance, a
            function ``loss(target [1, H, W, 3], images [N, H, W, 3]) -> [N]``, or a list of
            ``(loss, weight)`` pairs (summed).
        feature_extractor: The network of the name ``"perceptual"`` (the older spelling of
            ``PerceptualLoss(feature_extractor)``).
        discriminator: The network of the name ``"discriminator"`` (the older spelling of
            ``DiscriminatorLoss(discriminator)``).

    Returns:
        The loss.

    Raises:
        RecoveryError: For an unknown loss, a malformed list, or a named loss whose network is
            missing.

    Example:
    >>> get("mse")
    MeanSquaredError()
    >>> get([("laplacian", 1.0), ("ssim", 0.2)])
    WeightedLoss([(LaplacianLoss(), 1.0), (SSIMLoss(), 0.2)])
    """
    if not isinstance(loss, list):
        return _single(loss, feature_extractor, discriminator)
    if not loss:
        raise RecoveryError("loss=[] has no terms; pass e.g. [('mse', 1.0), ('ssim', 0.1)]")
    terms = []
    for term in loss:
        if not (isinstance(term, tuple) and len(term) == 2):
            raise RecoveryError(f"loss list entries must be (loss, weight) pairs, got {term!r}")
        weight = term[1]
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
                or not math.isfinite(weight) or weight < 0:
            raise RecoveryError(f"the weight of loss {term[0]!r} must be a finite number >= 0, "
                                f"got {weight!r}")
        terms.append((_single(term[0], feature_extractor, discriminator), float(weight)))
    return WeightedLoss(terms)


def _single(loss: Any, feature_extractor: Any, discriminator: Any) -> RecoveryLoss:
    if isinstance(loss, RecoveryLoss):
        return loss
    if isinstance(loss, str) and loss in NAMED:
        return NAMED[loss]()
    if loss == "perceptual":
        if feature_extractor is None:
            raise RecoveryError("loss='perceptual' needs feature_extractor=: e.g. "
                                "perceptual_extractor('vgg16') or any Keras model of images in "
                                "[0, 1]")
        return PerceptualLoss(feature_extractor)
    if loss == "discriminator":
        if discriminator is None:
            raise RecoveryError("loss='discriminator' needs discriminator=: a "
                                "ProgressiveDiscriminator, a discriminator.keras file or an "
                                "export folder")
        return DiscriminatorLoss(discriminator)
    if not isinstance(loss, str) and (isinstance(loss, keras.losses.Loss) or callable(loss)):
        return FunctionLoss(loss)
    raise RecoveryError(f"unknown loss {loss!r}; use one of {', '.join(LOSSES)}, a callable "
                        f"loss(target, images) -> [N], a Keras loss, or a list of (loss, weight)")


def mean_per_image(values: Any) -> tf.Tensor:
    """The mean of ``values`` ``[N, ...]`` over all but the first axis: ``[N]``, float32.

    Raises:
        RecoveryError: If ``values`` is a single number (a custom loss that reduced too far).
    """
    values = tf.convert_to_tensor(values)
    if values.shape.rank == 0:
        raise RecoveryError("a custom loss returned a single number; return one loss per image "
                            "(shape [N]), e.g. tf.reduce_mean(..., axis=[1, 2, 3]), or pass a "
                            "Keras loss instance")
    return tf.reduce_mean(tf.cast(values, tf.float32), axis=list(range(1, values.shape.rank)))


def no_gradient_message(losses: Sequence[RecoveryLoss]) -> str:
    """The one line for ``losses`` (a term, or all of them) that do not depend on the images."""
    names = ", ".join(loss.label() for loss in losses)
    hint = "".join(loss.hint for loss in losses)
    return (f"the loss {names}{hint} does not depend on the generated images (it has no "
            f"gradient with respect to them); compute it from its `images` argument with "
            f"TensorFlow ops (tf.*, keras.ops), not NumPy, constants or tf.stop_gradient")
