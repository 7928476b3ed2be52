"""Load a pretrained generator and turn latent vectors into images.

Notebooks written for progan-128 do ``hub.load(url).signatures["default"](default=z)["default"]``
and then trip over the details: which key the input has, float64 NumPy arrays, a single vector
instead of a batch, NaNs from a bad interpolation, running out of memory on 1,000 frames, and
cryptic errors when the download fails. :func:`load_generator` wraps any such model in a
:class:`Generator` that reads the latent size and image shape from the model's own signature,
validates latents with messages that say what to fix, runs big batches in chunks, and stays
differentiable for latent recovery with ``tf.GradientTape``.

Models are loaded with ``tensorflow_hub.load``, so TF1 Hub modules (like progan-128) and TF2
SavedModels both work; URLs are downloaded once, within a deadline, into hub's cache
``TFHUB_CACHE_DIR`` (see :mod:`progan_tf.loading`, which also falls back to ``kagglehub``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.downloads import DEFAULT_MODEL_TIMEOUT
from progan_tf.errors import LatentError, ModelLoadError, one_line
from progan_tf.loading import (
    BUNDLED,
    BUNDLED_DCGAN,
    PROGAN_128,
    PROGAN_128_KAGGLE,
    bundled_dcgan_folder,
    bundled_folder,
    load_module,
)

__all__ = ["Generator", "load_generator", "PROGAN_128", "PROGAN_128_KAGGLE", "BUNDLED",
           "DEFAULT_MODEL_TIMEOUT", "METADATA_FILE"]

METADATA_FILE = "metadata.json"
"""The file in which an exported model (and the bundled one) describes itself."""


class Generator:
    """A latent -> image function around a SavedModel signature.

    Usually made by :func:`load_generator`. Calling it maps latents ``[N, latent_dim]`` (or one
    ``[latent_dim]`` vector) to float32 images ``[N, H, W, 3]`` in [0, 1].

    Latents must be floating point: float32 is used as is, other float dtypes are cast. Integer
    and boolean arrays are refused rather than cast, because an int array in place of latents is
    almost always a mistake (a seed, a count or an index passed in the wrong place).

    Args:
        signature: A signature (``loaded.signatures[name]``: one keyword input, dict of
            outputs) or a concrete function with one positional input.
        handle: Where the model came from; shown in messages and ``repr``.
        chunk_size: Largest batch handed to the model at once; bigger batches run in chunks.
        output_key: Which output holds the images when the signature has several 4-D outputs.
        module: The loaded SavedModel the signature belongs to; kept so its variables stay
            alive.

    Attributes:
        handle: Where the model came from.
        latent_dim: The latent size ``D``.
        image_shape: ``(H, W, C)``.
        input_key: The signature's input name; ``None`` for a positional input.
        output_key: The image output's name; ``None`` for a function returning one tensor.
        output_keys: Every output the signature has.
        chunk_size: Largest batch run at once.
        signature: The function that runs the model.

    Example:
    >>> generator = load_generator("bundled")
    >>> images = generator(np.random.default_rng(0).standard_normal((4, 512)))
    >>> images.shape
    TensorShape([4, 64, 64, 3])
    """

    def __init__(
        self,
        signature: Any,
        *,
        handle: str = "<signature>",
        chunk_size: int = 32,
        output_key: str | None = None,
        module: Any = None,
    ):
        self.signature = signature
        self.handle = handle
        self.module = module
        self.chunk_size = _check_chunk_size(chunk_size)
        where = f"the signature of {handle!r}"
        self.input_key, input_spec = _latent_input(signature, where)
        self.latent_dim = int(input_spec.shape[1])
        self._input_dtype = input_spec.dtype
        outputs = signature.structured_outputs
        self.output_keys = tuple(outputs) if isinstance(outputs, dict) else ()
        self.output_key, output_spec = _image_output(outputs, output_key, where)
        self.image_shape = self._image_shape(output_spec, where)

    def __call__(
        self, latents: Any, *, clip: bool = True, chunk_size: int | None = None
    ) -> tf.Tensor:
        """Generate images from latents: checked, in chunks, from any float array.

        Args:
            latents: ``[N, latent_dim]`` or a single ``[latent_dim]`` vector, any float dtype
                (array-like, ``tf.Tensor`` or ``tf.Variable``).
            clip: Clip to [0, 1] (progan-128's outputs overshoot slightly).
                ``tf.clip_by_value`` passes gradients through for pixels inside the range.
            chunk_size: Overrides :attr:`chunk_size` for this call.

        Returns:
            float32 ``[N, H, W, 3]``; ``[1, H, W, 3]`` for a single vector.

        Raises:
            LatentError: If the latents have the wrong size or rank, a non-float dtype, or
                NaN/inf values. (Inside a ``tf.function`` the NaN/inf check raises
                ``tf.errors.InvalidArgumentError`` when the graph runs, and batches are chunked
                only if their size is static.)

        Example:
        >>> generator = load_generator("bundled")
        >>> z = tf.Variable(tf.random.normal([1, generator.latent_dim]))
        >>> with tf.GradientTape() as tape:
        ...     loss = tf.reduce_mean((generator(z) - 0.5) ** 2)
        >>> tape.gradient(loss, z).shape
        TensorShape([1, 512])
        """
        z = self._prepare(latents)
        size = self.chunk_size if chunk_size is None else _check_chunk_size(chunk_size)
        count = z.shape[0]
        if count == 0:
            images = tf.zeros([0, *self.image_shape], tf.float32)
        elif count is None or count <= size:  # count is None only inside a tf.function
            images = self.synthesize(z, clip=False)
        else:
            images = tf.concat([self.synthesize(z[i:i + size], clip=False)
                                for i in range(0, count, size)], axis=0)
        return tf.clip_by_value(images, 0.0, 1.0) if clip else images

    def synthesize(self, latents: tf.Tensor, *, clip: bool = True) -> tf.Tensor:
        """The model itself: latents ``[N, latent_dim]`` to float32 images, without any checks.

        Calling the generator validates the latents, batches them and converts NumPy input;
        this is what it runs after that. It is graph-safe -- usable inside a ``tf.function``
        and differentiable -- and adds no ops of its own but a cast, so code that has already
        checked its latents (the compiled latent search of :mod:`progan_tf.recovery`) calls it
        directly: the NaN check of ``__call__`` would become a ``CheckNumerics`` op whose
        gradient aborts a whole compiled step.

        Args:
            latents: A float tensor ``[N, latent_dim]`` (cast to the model's input dtype).
            clip: Clip the images to [0, 1]; ``False`` returns the model's raw output, which
                may overshoot slightly (and keeps a gradient there).

        Returns:
            float32 ``[N, H, W, 3]``.

        Example:
        >>> generator = load_generator("bundled")
        >>> generator.synthesize(tf.zeros([2, generator.latent_dim])).shape
        TensorShape([2, 64, 64, 3])
        """
        z = tf.cast(latents, self._input_dtype)
        outputs = self.signature(**{self.input_key: z}) if self.input_key else self.signature(z)
        images = tf.cast(outputs if self.output_key is None else outputs[self.output_key],
                         tf.float32)
        return tf.clip_by_value(images, 0.0, 1.0) if clip else images

    @functools.cached_property
    def metadata(self) -> dict:
        """The model folder's ``metadata.json`` as a dict; ``{}`` if it has none.

        Exports made by ``progan-tf export`` (and the bundled model) describe themselves there:
        resolution, images shown, the training command, metrics. Read once, on first use; a
        URL, a missing or unreadable file gives ``{}``.

        Example:
        >>> load_generator("bundled").metadata["resolution"]
        64
        """
        if self.handle == BUNDLED:
            source = bundled_folder().joinpath(METADATA_FILE)
        elif self.handle == BUNDLED_DCGAN:
            source = bundled_dcgan_folder().joinpath(METADATA_FILE)
        elif "://" in self.handle or not os.path.isdir(os.path.expanduser(self.handle)):
            return {}
        else:
            source = Path(os.path.expanduser(self.handle)) / METADATA_FILE
        try:
            metadata = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return metadata if isinstance(metadata, dict) else {}

    def raw(self, latents: Any, *, chunk_size: int | None = None) -> tf.Tensor:
        """Like calling the generator, but returns the model's output unclipped.

        Args:
            latents: As for calling the generator.
            chunk_size: Overrides :attr:`chunk_size` for this call.

        Returns:
            float32 ``[N, H, W, 3]``, possibly a little outside [0, 1].
        """
        return self(latents, clip=False, chunk_size=chunk_size)

    def iter_images(
        self, latents: Any, chunk_size: int | None = None, *, clip: bool = True
    ) -> Iterator[np.ndarray]:
        """Generate images chunk by chunk, as NumPy arrays.

        All latents are validated up front; images are computed only as the iterator is consumed,
        so 1,000 animation frames can be streamed to a video writer without ever holding them all.

        Args:
            latents: ``[N, latent_dim]`` or a single ``[latent_dim]`` vector.
            chunk_size: Images per yielded chunk (default :attr:`chunk_size`).
            clip: Clip to [0, 1].

        Returns:
            An iterator of float32 arrays ``[n, H, W, 3]`` with ``n <= chunk_size``, in order.

        Raises:
            LatentError: If the latents are invalid (checked before the first image is made).

        Example:
        >>> generator = load_generator("bundled")
        >>> latents = np.random.default_rng(0).standard_normal((5, generator.latent_dim))
        >>> [len(frames) for frames in generator.iter_images(latents, chunk_size=2)]
        [2, 2, 1]
        """
        z = self._prepare(latents)
        size = self.chunk_size if chunk_size is None else _check_chunk_size(chunk_size)

        def chunks():
            for start in range(0, z.shape[0], size):
                yield self.synthesize(z[start:start + size], clip=clip).numpy()

        return chunks()

    def __repr__(self) -> str:
        return (f"Generator(handle={self.handle!r}, latent_dim={self.latent_dim}, "
                f"image_shape={self.image_shape})")

    def _prepare(self, latents: Any) -> tf.Tensor:
        """Validates latents and returns them as ``[N, latent_dim]`` in the model's input dtype.

        Only TF ops touch the values, so a ``tf.Variable`` watched by a GradientTape stays on the
        tape, and the checks also work inside a ``tf.function``.
        """
        try:
            z = tf.convert_to_tensor(latents)
        except (TypeError, ValueError) as err:
            raise LatentError(
                f"cannot use a {type(latents).__name__} as latents ({one_line(err)}); pass a "
                f"float array of shape [N, {self.latent_dim}]") from None
        if not z.dtype.is_floating:
            raise LatentError(
                f"latents must be floating point, got {z.dtype.name}; sample them with e.g. "
                f"np.random.default_rng(0).standard_normal((n, {self.latent_dim}))")
        if z.shape.rank == 1:
            z = z[tf.newaxis]
        if z.shape.rank != 2:
            raise LatentError(
                f"latents must have shape [N, {self.latent_dim}] or [{self.latent_dim}], got "
                f"shape {tuple(z.shape)}; reshape them, e.g. z.reshape(-1, {self.latent_dim})")
        if z.shape[1] is not None and z.shape[1] != self.latent_dim:
            raise LatentError(
                f"{self.handle!r} expects latents of size {self.latent_dim}, got {z.shape[1]} "
                f"(shape {tuple(z.shape)}); sample them with e.g. "
                f"np.random.default_rng(0).standard_normal((n, {self.latent_dim}))")
        z = tf.cast(z, self._input_dtype)
        if not tf.executing_eagerly():
            return tf.debugging.assert_all_finite(z, "latents contain NaN or inf values")
        bad = tf.logical_not(tf.math.is_finite(z))
        if bool(tf.reduce_any(bad)):
            count = int(tf.reduce_sum(tf.cast(bad, tf.int32)))
            row = int(tf.where(bad)[0][0])
            raise LatentError(
                f"latents contain {count} NaN or inf value(s), the first in row {row}; check "
                f"how they were computed (e.g. a division by a zero norm) or re-sample them")
        return z

    def _image_shape(self, output_spec, where: str) -> tuple[int, int, int]:
        shape = output_spec.shape
        if None in shape[1:]:
            # TF1 graphs sometimes leave sizes unknown: ask the model once.
            shape = self.synthesize(tf.zeros([1, self.latent_dim]), clip=False).shape
        height, width, channels = (int(v) for v in shape[1:])
        if channels != 3:
            raise ModelLoadError(
                f"{where} outputs images with {channels} channel(s), shape {tuple(shape)}; "
                f"progan-tf needs RGB images [N, H, W, 3]")
        return height, width, channels


def load_generator(
    handle: str | os.PathLike,
    *,
    chunk_size: int = 32,
    signature: str = "default",
    output_key: str | None = None,
    timeout: float | None = DEFAULT_MODEL_TIMEOUT,
) -> Generator:
    """Load a generator from TF Hub, Kaggle Models, a local folder, or the bundled model.

    Args:
        handle: One of

        * a TF Hub or Kaggle Models URL, e.g. :data:`PROGAN_128`
          (``"https://tfhub.dev/google/progan-128/1"``) or :data:`PROGAN_128_KAGGLE`;
          downloaded once and cached in ``TFHUB_CACHE_DIR`` (a folder in the system temp
          directory if unset). If that download fails (tfhub.dev redirects to Kaggle, and some
          networks refuse the redirect with HTTP 403) and ``kagglehub`` is installed
          (``pip install "progan-tf[kaggle]"``), the model is fetched with
          ``kagglehub.model_download`` instead, and a one-line warning says so;
        * a Kaggle handle ``owner/model/framework/variation/version``, e.g.
          ``"google/progan-128/tensorFlow1/progan-128/1"`` (loaded like its Kaggle URL), or
          the same after ``"kaggle:"`` to load it with ``kagglehub`` only;
        * a local folder holding a TF1 Hub module or a TF2 SavedModel (``~`` is expanded);
        * ``"bundled"``: the small generator shipped with progan-tf, for offline use;
        * ``"bundled-dcgan"``: the DCGAN shipped with progan-tf (a one-line error in a version
          that ships no DCGAN weights yet);
        * ``"bundled-stylegan"``: the style-based generator shipped with progan-tf (the same
          one-line error while none is shipped). A style-based export loads as a
          :class:`~progan_tf.style_generator.StyleBasedGenerator`, with its ``mapping`` and
          ``synthesis`` paths.

        chunk_size: Largest batch run through the model at once (see :class:`Generator`).
        signature: Name of the signature to use. If the model has none by that name and
            ``signature`` is ``"default"``, ``"serving_default"`` is used, else the model's only
            signature.
        output_key: Which output holds the images; needed only when the signature has several
            4-D outputs.
        timeout: Seconds the download of a URL may take in all -- connecting, redirects, every
            read and waiting for another process that downloads the same model --
            :data:`DEFAULT_MODEL_TIMEOUT` (600 s: progan-128 is about 100 MB) by default;
            ``None`` for no limit. A download that fails, times out or is interrupted leaves
            nothing in the cache. ``kagglehub`` applies its own network timeouts.

    Returns:
        The :class:`Generator`; its ``latent_dim`` and ``image_shape`` come from the model's
        signature.

    Raises:
        ModelLoadError: If the handle is unknown, the download fails (no network, HTTP 403/404,
            too slow), the cached or local copy is incomplete, or the model has no signature
            mapping latents to images. The message is one line, raised without chained context.

    Example:
    >>> generator = load_generator("https://tfhub.dev/google/progan-128/1")  # doctest: +SKIP
    >>> offline = load_generator("bundled")
    >>> offline.latent_dim, offline.image_shape
    (512, (64, 64, 3))
    """
    chunk_size = _check_chunk_size(chunk_size)
    text = _handle_text(handle)
    module = load_module(text, timeout)
    function = _select_signature(module, signature, text)
    if signature == "default" and output_key is None:
        from progan_tf.style_generator import StyleBasedGenerator, is_style_based

        if is_style_based(module):  # an exported StyleGAN: also its mapping and synthesis
            return StyleBasedGenerator(module, handle=text, chunk_size=chunk_size)
    return Generator(function, handle=text, chunk_size=chunk_size, output_key=output_key,
                     module=module)


def _handle_text(handle: Any) -> str:
    if isinstance(handle, os.PathLike):
        return os.fspath(handle)
    if not isinstance(handle, str) or not handle.strip():
        raise ModelLoadError(
            f"a generator handle must be a non-empty string or path, got {handle!r}; pass e.g. "
            f"{PROGAN_128!r}, a local model folder, or 'bundled'")
    return handle.strip()


# --------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------


def _select_signature(module, name: str, handle: str):
    signatures = dict(getattr(module, "signatures", None) or {})
    if not signatures:
        functions = sorted(
            attr for attr in dir(module) if not attr.startswith("_")
            and isinstance(getattr(module, attr, None), (tf.types.experimental.GenericFunction,
                                                         tf.types.experimental.ConcreteFunction)))
        has = f"only the functions {', '.join(functions)}" if functions else "no functions"
        raise ModelLoadError(
            f"{handle!r} has no signatures ({has}); progan-tf needs a signature that maps latents "
            f"[None, D] to images [None, H, W, 3]: save it with tf.saved_model.save(module, path, "
            f"signatures={{'default': module.generate}})")
    if name in signatures:
        return signatures[name]
    if name == "default":
        if "serving_default" in signatures:
            return signatures["serving_default"]
        if len(signatures) == 1:
            return next(iter(signatures.values()))
    raise ModelLoadError(
        f"{handle!r} has no signature {name!r}; it has {', '.join(sorted(signatures))}: pass one "
        f"of them as signature=...")


def _latent_input(function, where: str) -> tuple[str | None, tf.TensorSpec]:
    """The single latent input: (keyword or None for positional, its spec)."""
    args, kwargs = function.structured_input_signature
    # Positional inputs are named by position in the message (a dict keyed by None would fold
    # several of them into one and accept a two-input function).
    inputs = dict(kwargs) if kwargs else {f"#{index}": spec for index, spec in enumerate(args)}
    if len(inputs) != 1:
        names = ", ".join(sorted(str(key) for key in inputs)) or "none"
        raise ModelLoadError(
            f"{where} takes {len(inputs)} inputs ({names}); progan-tf needs exactly one latent "
            f"input of shape [None, D]; pick another signature with signature=...")
    (key, spec), = inputs.items()
    key = key if kwargs else None
    shape = getattr(spec, "shape", tf.TensorShape(None))
    dtype = getattr(spec, "dtype", None)
    if (shape.rank != 2 or shape[1] is None or shape[0] not in (None, -1)
            or not isinstance(dtype, tf.dtypes.DType) or not dtype.is_floating):
        raise ModelLoadError(
            f"{where} takes input {key!r} as {spec}; progan-tf needs a float latent input of "
            f"shape [None, D] (any batch size, known latent size D)")
    return key, spec


def _image_output(outputs, output_key: str | None, where: str):
    """The image output: (its key or None for a single tensor, its spec)."""
    if not isinstance(outputs, dict):
        if output_key is not None:
            raise ModelLoadError(f"{where} returns a single output, so there is no output "
                                 f"{output_key!r}; leave output_key unset")
        candidates = {None: outputs}
    elif output_key is not None:
        if output_key not in outputs:
            raise ModelLoadError(f"{where} has no output {output_key!r}; it has "
                                 f"{', '.join(sorted(outputs))}")
        candidates = {output_key: outputs[output_key]}
    elif "default" in outputs or len(outputs) == 1:
        key = "default" if "default" in outputs else next(iter(outputs))
        candidates = {key: outputs[key]}
    else:
        candidates = {key: spec for key, spec in outputs.items() if _is_image_spec(spec)}
        if not candidates:
            raise ModelLoadError(
                f"{where} has no image output among {', '.join(sorted(outputs))}; progan-tf "
                f"needs a float image batch of shape [None, H, W, 3]")
    if len(candidates) != 1:
        raise ModelLoadError(
            f"{where} has several outputs that could be images ({', '.join(sorted(candidates))}); "
            f"choose one with output_key=...")
    (key, spec), = candidates.items()
    if not _is_image_spec(spec):
        shape = tuple(getattr(spec, "shape", ()))
        raise ModelLoadError(
            f"{where} returns {key or 'its output'!r} with shape {shape}; progan-tf needs a float "
            f"image batch of shape [None, H, W, 3]")
    return key, spec


def _is_image_spec(spec) -> bool:
    shape = getattr(spec, "shape", None)
    dtype = getattr(spec, "dtype", None)
    return (shape is not None and shape.rank == 4 and isinstance(dtype, tf.dtypes.DType)
            and dtype.is_floating)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_chunk_size(chunk_size: Any) -> int:
    return check_whole_number(chunk_size, "chunk_size", error=LatentError)
