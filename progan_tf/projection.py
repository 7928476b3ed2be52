"""Project a picture into a style-based generator's w+ space, with latent recovery's search.

:func:`progan_tf.recover_latent` searches the *input* of a generator: z, ``[latent_dim]``.  A
style-based generator reproduces far more pictures from w+ -- one w per synthesis layer,
``[num_ws, w_dim]`` -- than from z (Abdal et al., 2019, "Image2StyleGAN"), and w+ is what style
mixing takes.  :func:`project` runs the same compiled search on :class:`WPlusGenerator`, the
synthesis path seen as a generator of flattened w+ vectors: the search starts from the average
w (the first restart) and from mapped random latents (the others), with no prior on the
sphere (w+ does not live there) and a smaller learning rate than z's (0.1, StyleGAN2's
projector's).  The result's ``ws`` is
``[1, num_ws, w_dim]``, ready for :func:`progan_tf.style_mix` and ``generator.synthesis``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from progan_tf.errors import OptionError
from progan_tf.latents import sample_latents
from progan_tf.recovery import RecoveryResult, recover_latent
from progan_tf.style_generator import StyleBasedGenerator

__all__ = ["PROJECTION_SETTINGS", "Projection", "WPlusGenerator", "project"]

PROJECTION_SETTINGS = {"prior": None, "learning_rate": 0.1, "noise": 0.0, "restarts": 4}
"""How :func:`project` changes :class:`~progan_tf.recovery.RecoverySettings`' defaults: no
prior (w+ is not on a sphere), Adam at 0.1 (StyleGAN2's projector's rate; on a tiny test model
0.1 reached 53 dB in 150 steps where 0.02 reached 28), no noise, 4 restarts."""


class WPlusGenerator:
    """The synthesis path as a generator of flattened w+: ``[N, num_ws * w_dim]`` -> images.

    What :func:`progan_tf.recover_latent` needs (``latent_dim``, ``image_shape``, a call from
    latents to images in [0, 1]), so its compiled search runs in w+ unchanged.

    Args:
        generator: A loaded style-based export
            (:class:`~progan_tf.style_generator.StyleBasedGenerator`) or an in-memory
            :class:`~progan_tf.stylegan.networks.StyleGenerator` (constant noise).

    Raises:
        OptionError: ``generator`` has no synthesis path.
    """

    def __init__(self, generator: Any) -> None:
        if not all(hasattr(generator, name) for name in ("mapping", "synthesis", "num_ws",
                                                         "w_dim")):
            raise OptionError(f"projecting into w+ needs a style-based generator (with mapping "
                              f"and synthesis paths), not {type(generator).__name__}; load an "
                              f"export of 'progan-tf train --arch stylegan'")
        self.generator = generator
        self.num_ws, self.w_dim = int(generator.num_ws), int(generator.w_dim)
        self.latent_dim = self.num_ws * self.w_dim
        size = int(generator.resolution)
        self.image_shape = (size, size, 3)

    def to_ws(self, latents: Any) -> Any:
        """Flattened w+ ``[N, num_ws * w_dim]`` -> ``[N, num_ws, w_dim]``."""
        return tf.reshape(tf.cast(latents, tf.float32), [-1, self.num_ws, self.w_dim])

    def __call__(self, latents: Any) -> tf.Tensor:
        """Images in [0, 1] (unclipped: the search keeps a gradient at the edges)."""
        ws = self.to_ws(latents)
        if isinstance(self.generator, StyleBasedGenerator):
            return self.generator.synthesis_signature(ws=ws)["default"]
        images = self.generator.synthesis(ws, noise_mode="const")
        return (tf.cast(images, tf.float32) + 1.0) / 2.0

    def starts(self, restarts: int, seed: int = 0) -> np.ndarray:
        """Flattened starting w+: the average w, then mapped random latents (psi 0.5)."""
        z = sample_latents(max(restarts, 1), int(self.generator.latent_dim), seed=seed)
        ws = np.array(self.generator.mapping(z, truncation_psi=0.5), np.float32)
        ws[0] = np.asarray(self.generator.mapping(z[:1], truncation_psi=0.0), np.float32)[0]
        return ws.reshape(len(ws), -1)[:restarts]


class Projection(NamedTuple):
    """A picture projected into w+ (from :func:`project`).

    Attributes:
        ws: float32 ``[1, num_ws, w_dim]``: the w+ whose image is closest to the target.
        result: The search's :class:`~progan_tf.recovery.RecoveryResult` (``image``,
            ``target``, ``psnr``, ``ssim``, ``frames``, ...; its ``latent`` is ``ws``
            flattened).
    """

    ws: np.ndarray
    result: RecoveryResult


def project(generator: Any, image: Any, *, seed: int = 0, progress: bool = False,
            **overrides: Any) -> Projection:
    """Finds the w+ whose image is closest to ``image``: a photo's entry to style mixing.

    Args:
        generator: A style-based generator (see :class:`WPlusGenerator`).
        image: The target, as :func:`progan_tf.recover_latent` takes it (a path, an array, ...;
            resized to the model's size).
        seed: Seeds the starting points (default 0).
        progress: Show a progress bar (default ``False``).
        **overrides: :class:`~progan_tf.recovery.RecoverySettings` fields (``steps=``,
            ``loss="laplacian"``, ...) over :data:`PROJECTION_SETTINGS`.

    Returns:
        A :class:`Projection`.

    Raises:
        OptionError: A generator without a synthesis path.
        RecoveryError: Bad search options, as :func:`progan_tf.recover_latent` raises them.

    Example:
    >>> from progan_tf.stylegan import StyleGenerator
    >>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=8, fmap_base=16,
    ...                            fmap_max=8, mapping_layers=2, seed=0)
    >>> target = np.full((8, 8, 3), 0.5, np.float32)
    >>> project(generator, target, steps=5).ws.shape
    (1, 4, 8)
    """
    view = WPlusGenerator(generator)
    options = {**PROJECTION_SETTINGS, **overrides}
    starts = view.starts(int(options["restarts"]), seed)
    result = recover_latent(view, image, seed=seed, progress=progress,
                            initial_latents=starts, **options)
    return Projection(np.asarray(view.to_ws(result.latent[None])), result)
