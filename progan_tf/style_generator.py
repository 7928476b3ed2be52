"""A loaded style-based generator: a :class:`~progan_tf.generator.Generator` with its w+ path.

An export of ``progan-tf train --arch stylegan`` has, besides progan-128's ``default``
signature (z -> image), a ``mapping`` signature (z -> ws, w_avg) and a ``synthesis`` signature
(w+ ``[N, num_ws, w_dim]`` -> image).  :func:`progan_tf.load_generator` returns a
:class:`StyleBasedGenerator` for such a model: everything a generator does, plus
:meth:`~StyleBasedGenerator.mapping` and :meth:`~StyleBasedGenerator.synthesis`, which style
mixing (:func:`progan_tf.style_mix`) and projection into w+ use.  Inference core: TensorFlow
only, no Keras networks.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import tensorflow as tf

from progan_tf.checks import check_number
from progan_tf.constants import BUNDLED_STYLEGAN
from progan_tf.errors import LatentError, one_line
from progan_tf.generator import METADATA_FILE, Generator
from progan_tf.latents import as_latent_batch
from progan_tf.loading import bundled_stylegan_folder

__all__ = ["SYNTHESIS_SIGNATURES", "StyleBasedGenerator", "bundled_stylegan_folder",
           "is_style_based"]

SYNTHESIS_SIGNATURES = ("mapping", "synthesis")
"""The signatures that make a SavedModel a style-based generator (besides ``default``)."""


def is_style_based(module: Any) -> bool:
    """Whether a loaded SavedModel has the mapping and synthesis signatures."""
    signatures = getattr(module, "signatures", None) or {}
    return all(name in signatures for name in SYNTHESIS_SIGNATURES)


class StyleBasedGenerator(Generator):
    """A generator with a mapping network and a synthesis network (an exported StyleGAN).

    Calling it maps z to images in [0, 1] as any :class:`~progan_tf.generator.Generator` does
    (with the export's truncation); :meth:`mapping` and :meth:`synthesis` expose the two halves.

    Args:
        module: The loaded SavedModel (with ``default``, ``mapping`` and ``synthesis``).
        **kwargs: :class:`~progan_tf.generator.Generator`'s keyword arguments.

    Attributes:
        num_ws: The layers of w+ (two per resolution from 4x4).
        w_dim: The size of each w.
        resolution: The images' side.
        truncation_psi: The truncation the ``default`` signature applies (``metadata.json``).
        synthesis_range: ``(0.0, 1.0)``: what :meth:`synthesis` returns (a Keras
            ``StyleGenerator``'s synthesis returns about [-1, 1]).

    Example:
    >>> import progan_tf as pt
    >>> model = pt.load_generator("bundled-stylegan")
    >>> model.resolution, model.num_ws, model.w_dim
    (32, 8, 128)
    """

    synthesis_range = (0.0, 1.0)

    def __init__(self, module: Any, **kwargs: Any) -> None:
        super().__init__(module.signatures["default"], module=module, **kwargs)
        self.mapping_signature = module.signatures["mapping"]
        self.synthesis_signature = module.signatures["synthesis"]
        ws_spec = self.synthesis_signature.structured_input_signature[1]["ws"]
        self.num_ws, self.w_dim = int(ws_spec.shape[1]), int(ws_spec.shape[2])
        self.resolution = self.image_shape[0]
        self.truncation_psi = float(self.metadata.get("truncation_psi", 1.0))

    @functools.cached_property
    def metadata(self) -> dict:
        """The model folder's ``metadata.json`` (the bundled one's for ``"bundled-stylegan"``)."""
        if self.handle != BUNDLED_STYLEGAN:
            return super().metadata
        try:
            text = bundled_stylegan_folder().joinpath(METADATA_FILE).read_text(encoding="utf-8")
            metadata = json.loads(text)
        except (OSError, ValueError):
            return {}
        return metadata if isinstance(metadata, dict) else {}

    def mapping(self, latents: Any, truncation_psi: float | None = None) -> tf.Tensor:
        """The w+ of z: ``w_avg + psi * (w - w_avg)`` repeated on every layer.

        Args:
            latents: z ``[N, latent_dim]`` (or one ``[latent_dim]``), any float array.
            truncation_psi: 1 keeps w, 0 gives the average face (default ``None``: the
                export's, so that ``synthesis(mapping(z))`` equals ``generator(z)``).

        Returns:
            float32 ``[N, num_ws, w_dim]``.

        Raises:
            LatentError: Latents that are not z of this model (wrong size, NaN, integers).
        """
        psi = self.truncation_psi if truncation_psi is None else check_number(
            truncation_psi, "truncation_psi")
        z = as_latent_batch(latents, self.latent_dim)
        outputs = self.mapping_signature(z=tf.constant(z, tf.float32))
        ws, w_avg = outputs["ws"], outputs["w_avg"][:, None, :]
        return ws if psi == 1.0 else w_avg + psi * (ws - w_avg)

    def check_ws(self, ws: Any, name: str = "ws") -> tf.Tensor:
        """``ws`` as a float32 tensor ``[N, num_ws, w_dim]``, or a one-line error.

        Raises:
            LatentError: Not numbers, the wrong shape (another model's w+), NaN or inf.
        """
        try:
            tensor = tf.convert_to_tensor(ws)
        except (TypeError, ValueError) as error:
            raise LatentError(f"cannot use a {type(ws).__name__} as {name} ({one_line(error)}); "
                              f"pass w+ [N, {self.num_ws}, {self.w_dim}]") from None
        if not tensor.dtype.is_floating:
            raise LatentError(f"{name} must be floating point, got {tensor.dtype.name}")
        if tensor.shape.rank == 2:
            tensor = tensor[tf.newaxis]
        if tensor.shape.rank != 3 or tuple(tensor.shape[1:]) != (self.num_ws, self.w_dim):
            raise LatentError(f"{self.handle!r} takes w+ [N, {self.num_ws}, {self.w_dim}] as "
                              f"{name}, got shape {tuple(tensor.shape)}; map latents with "
                              f".mapping(z) first")
        tensor = tf.cast(tensor, tf.float32)
        if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(tensor))):
            raise LatentError(f"{name} contain NaN or inf values")
        return tensor

    def synthesis(self, ws: Any, *, clip: bool = True, noise_mode: str | None = None) -> tf.Tensor:
        """The images of w+ ``[N, num_ws, w_dim]`` (a different w per layer allowed), in [0, 1].

        Args:
            ws: w+ from :meth:`mapping`, mixed (:func:`progan_tf.style_mix`) or projected.
            clip: Clip to [0, 1] (default ``True``).
            noise_mode: Accepted for the Keras generator's interface; the export always uses
                its stored constant noise.

        Returns:
            float32 ``[N, resolution, resolution, 3]``.
        """
        del noise_mode
        tensor = self.check_ws(ws)
        chunks = [self.synthesis_signature(ws=tensor[start:start + self.chunk_size])["default"]
                  for start in range(0, max(int(tensor.shape[0]), 1), self.chunk_size)]
        images = tf.concat(chunks, axis=0) if len(chunks) > 1 else chunks[0]
        return tf.clip_by_value(images, 0.0, 1.0) if clip else images

    def __repr__(self) -> str:
        return (f"StyleBasedGenerator(handle={self.handle!r}, latent_dim={self.latent_dim}, "
                f"num_ws={self.num_ws}, w_dim={self.w_dim}, image_shape={self.image_shape})")

