"""Build small stand-in models for tests, benchmarks and offline demos.

The real progan-128 is a ~100 MB download that a test suite, a CI runner or a workshop laptop
without network cannot rely on. The builders here write tiny generators with the *same on-disk
formats and interfaces* as the models progan-tf loads, so every code path -- including
``tensorflow_hub.load`` -- runs exactly as it would on the real thing:

* :func:`build_tf1_hub_module` writes a TF1 Hub module with progan-128's interface
  (signature ``default``: input ``default`` float32 ``[?, 512]`` -> output ``default`` float32
  ``[?, 128, 128, 3]`` in [0, 1]).
* :func:`build_tf2_saved_model` writes a TF2 SavedModel with a serving signature whose input and
  output keys you choose, e.g. to check that nothing assumes progan-128's names.

Both networks are deterministic for a given ``seed``, differentiable, build in well under a
second and run a batch of 64 images at 128x128 in a fraction of a second on a laptop CPU. Their
images are smooth colour blobs, not faces: they are for exercising code, not for looking at.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_whole_number
from progan_tf.errors import OptionError
from progan_tf.fileio import write_bytes

__all__ = ["build_tf1_hub_module", "build_tf2_saved_model"]

# A serialized ``tensorflow_hub.ModuleDef(format=FORMAT_V3)``: field 1 (varint) = 3. TF1 Hub
# modules carry it as ``tfhub_module.pb``; ``hub.load`` only checks that the file exists and then
# loads the SavedModel with the empty tag set that TF1 Hub modules use.
_MODULE_DEF_V3 = b"\x08\x03"
_MODULE_DEF_FILENAME = "tfhub_module.pb"

_BASE_SIZE = 4  # the dense layer maps a latent to a 4x4 grid, like ProGAN's first block
_CHANNELS = 16
_RGB_GAIN = 1.0  # pre-sigmoid values have a std of about 1.5: varied images, few saturated pixels


def build_tf1_hub_module(
    path: str | os.PathLike,
    latent_dim: int = 512,
    image_shape: Sequence[int] = (128, 128, 3),
    seed: int = 0,
) -> Path:
    """Writes a tiny TF1 Hub module with progan-128's exact interface.

    The module is a ``tf.compat.v1`` SavedModel saved with the empty tag set, signature
    ``default`` mapping input ``default`` (float32 ``[None, latent_dim]``) to output ``default``
    (float32 ``[None, H, W, C]`` in [0, 1]), plus the ``tfhub_module.pb`` marker that TF1 Hub
    modules carry -- so ``tensorflow_hub.load(path).signatures["default"]`` sees what it sees
    for ``https://tfhub.dev/google/progan-128/1``.

    Args:
        path: Folder to create. It must not exist yet, or be empty.
        latent_dim: Size of a latent vector (progan-128: 512).
        image_shape: ``(H, W, C)`` of the generated images (progan-128: ``(128, 128, 3)``).
        seed: Seed for the weights; the same seed always gives the same model.

    Returns:
        The module folder, ready for ``tensorflow_hub.load`` or
        :func:`progan_tf.generator.load_generator`.

    Raises:
        FileExistsError: If ``path`` exists and is not an empty folder.
        OptionError: If ``latent_dim`` or a size in ``image_shape`` is not a whole number >= 1
            (also a ``ValueError``).

    Example:
    >>> import tempfile
    >>> import tensorflow_hub as hub
    >>> path = build_tf1_hub_module(Path(tempfile.mkdtemp()) / "fake-progan-128")
    >>> hub.load(str(path)).signatures["default"](default=tf.zeros([1, 512]))["default"].shape
    TensorShape([1, 128, 128, 3])
    """
    path = _fresh_folder(path)
    image_shape = _check_shapes(latent_dim, image_shape)
    weights = _initial_weights(latent_dim, image_shape, seed)
    graph = tf.compat.v1.Graph()
    with graph.as_default():
        latents = tf.compat.v1.placeholder(tf.float32, [None, latent_dim], name="default")
        variables = {name: tf.compat.v1.Variable(value, name=name)
                     for name, value in weights.items()}
        images = tf.identity(_synthesis(latents, variables, image_shape, (0.0, 1.0)), name="images")
        signature = tf.compat.v1.saved_model.build_signature_def(
            inputs={"default": _tensor_info(latents)},
            outputs={"default": _tensor_info(images)},
            method_name="tensorflow/serving/predict",
        )
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            builder = tf.compat.v1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                session, tags=[], signature_def_map={"default": signature}, strip_default_attrs=True
            )
            builder.save()
    write_bytes(path / _MODULE_DEF_FILENAME, _MODULE_DEF_V3)
    return path


class _StandInGenerator(tf.Module):
    """The TF2 counterpart of the TF1 module: same network, keys of your choosing."""

    def __init__(self, weights: dict[str, np.ndarray], image_shape: tuple[int, int, int],
                 output_range: tuple[float, float], input_key: str, output_key: str):
        super().__init__(name="stand_in_generator")
        self.weights = {name: tf.Variable(value, name=name) for name, value in weights.items()}
        self._image_shape = image_shape
        self._output_range = output_range
        self._output_key = output_key
        latent_dim = weights["dense"].shape[0]
        self.serve = tf.function(
            self._serve,
            input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name=input_key)],
        )

    def _serve(self, latents: tf.Tensor) -> dict[str, tf.Tensor]:
        images = _synthesis(latents, self.weights, self._image_shape, self._output_range)
        return {self._output_key: images}


def build_tf2_saved_model(
    path: str | os.PathLike,
    latent_dim: int = 64,
    image_shape: Sequence[int] = (32, 32, 3),
    input_key: str = "z",
    output_key: str = "images",
    seed: int = 0,
    output_range: tuple[float, float] = (0.0, 1.0),
    signature_name: str = "serving_default",
) -> Path:
    """Writes a tiny TF2 SavedModel generator with a serving signature.

    Args:
        path: Folder to create. It must not exist yet, or be empty.
        latent_dim: Size of a latent vector.
        image_shape: ``(H, W, C)`` of the generated images.
        input_key: Name of the signature's single input.
        output_key: Name of the signature's single output.
        seed: Seed for the weights; the same seed always gives the same model.
        output_range: ``(low, high)`` range of the outputs. A range wider than [0, 1], e.g.
            ``(-0.2, 1.2)``, imitates a generator that overshoots and lets you test clipping.
        signature_name: Name of the signature (``serving_default`` is what
            ``tf.saved_model.save`` picks by default).

    Returns:
        The SavedModel folder.

    Raises:
        FileExistsError: If ``path`` exists and is not an empty folder.
        OptionError: If a size is not a whole number >= 1 or ``output_range`` is not
            increasing (also a ``ValueError``).

    Example:
    >>> import tempfile
    >>> path = build_tf2_saved_model(Path(tempfile.mkdtemp()) / "tiny", input_key="latent_vector")
    >>> tf.saved_model.load(str(path)).signatures["serving_default"].structured_input_signature
    ((), {'latent_vector': TensorSpec(shape=(None, 64), dtype=tf.float32, name='latent_vector')})
    """
    low, high = (float(v) for v in output_range)
    if not low < high:
        raise OptionError(f"output_range must be (low, high) with low < high. "
                          f"Received: output_range={output_range!r}")
    path = _fresh_folder(path)
    image_shape = _check_shapes(latent_dim, image_shape)
    weights = _initial_weights(latent_dim, image_shape, seed)
    module = _StandInGenerator(weights, image_shape, (low, high), input_key, output_key)
    tf.saved_model.save(module, str(path), signatures={signature_name: module.serve})
    return path


def _synthesis(latents: tf.Tensor, weights: dict, image_shape: tuple[int, int, int],
               output_range: tuple[float, float]) -> tf.Tensor:
    """Latents -> images with TF ops only, so it works in a TF1 graph and in a tf.function.

    Dense to a 4x4 grid, then bilinear 2x upsampling + 1x1 convolution per step (cheap, smooth),
    a final resize when the size is not 4 * 2**k, and a sigmoid scaled to ``output_range``.
    """
    height, width, _ = image_shape
    x = tf.reshape(tf.matmul(latents, weights["dense"]), [-1, _BASE_SIZE, _BASE_SIZE, _CHANNELS])
    x = tf.nn.leaky_relu(x, alpha=0.2)
    size = _BASE_SIZE
    for step in range(_num_upsamplings(image_shape)):
        size *= 2
        x = tf.image.resize(x, [size, size], method="bilinear")
        x = tf.nn.conv2d(x, weights[f"conv{step}"], strides=1, padding="SAME")
        x = tf.nn.leaky_relu(x, alpha=0.2)
    if (size, size) != (height, width):
        x = tf.image.resize(x, [height, width], method="bilinear")
    x = tf.nn.conv2d(x, weights["to_rgb"], strides=1, padding="SAME")
    low, high = output_range
    return low + (high - low) * tf.sigmoid(_RGB_GAIN * x)


def _initial_weights(latent_dim: int, image_shape: tuple[int, int, int],
                     seed: int) -> dict[str, np.ndarray]:
    """He-initialised float32 weights from a seeded NumPy generator (deterministic everywhere)."""
    rng = np.random.default_rng(seed)

    def he(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    weights = {"dense": he((latent_dim, _BASE_SIZE * _BASE_SIZE * _CHANNELS), latent_dim)}
    for step in range(_num_upsamplings(image_shape)):
        weights[f"conv{step}"] = he((1, 1, _CHANNELS, _CHANNELS), _CHANNELS)
    weights["to_rgb"] = he((1, 1, _CHANNELS, image_shape[2]), _CHANNELS)
    return weights


def _num_upsamplings(image_shape: tuple[int, int, int]) -> int:
    """How many 2x steps from 4x4 stay within the image (the rest is one final resize)."""
    height, width, _ = image_shape
    steps, size = 0, _BASE_SIZE
    while size * 2 <= min(height, width):
        steps, size = steps + 1, size * 2
    return steps


def _tensor_info(tensor: tf.Tensor) -> tf.compat.v1.TensorInfo:
    """A TensorInfo proto for a graph tensor (what the deprecated ``build_tensor_info`` makes)."""
    return tf.compat.v1.TensorInfo(
        name=tensor.name, dtype=tensor.dtype.as_datatype_enum, tensor_shape=tensor.shape.as_proto()
    )


def _check_shapes(latent_dim: int, image_shape: Sequence[int]) -> tuple[int, int, int]:
    check_whole_number(latent_dim, "latent_dim")
    if len(image_shape) != 3:
        raise OptionError(f"image_shape must be (height, width, channels). "
                          f"Received: image_shape={tuple(image_shape)!r}")
    height, width, channels = (check_whole_number(size, f"image_shape[{index}]")
                               for index, size in enumerate(image_shape))
    return height, width, channels


def _fresh_folder(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{str(path)!r} already exists; pass a new or empty folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.rmdir()  # the SavedModel builders refuse existing folders, even empty ones
    return path
