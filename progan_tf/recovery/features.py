"""Networks whose features a latent search can compare images by: VGG16 and a trained critic.

A pixel loss counts every pixel alike; features of a trained network weigh what the network
learnt to notice (edges, textures, parts of faces). :func:`perceptual_extractor` gives VGG16's
(the network perceptual losses and LPIPS use), :func:`discriminator_extractor` those of a
discriminator trained with :mod:`progan_tf.gan` -- a network that has seen exactly the faces
the generator imitates. Both map images in [0, 1] to a list of feature maps; the losses of
:mod:`progan_tf.recovery.losses` hold one.

The discriminator is training code: it is imported only when a discriminator is actually
loaded from a file, so that inference never pays for (or depends on) the training package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from progan_tf.errors import ModelLoadError, RecoveryError, one_line

__all__ = ["VGG16_LAYERS", "discriminator_extractor", "load_discriminator",
           "perceptual_extractor"]

VGG16_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
"""The layers whose outputs :func:`perceptual_extractor` returns by default."""


def perceptual_extractor(
    name: str = "vgg16",
    layers: Sequence[str] = VGG16_LAYERS,
    weights: str | None = "imagenet",
) -> keras.Model:
    """A VGG16 feature extractor for ``recover_latent(..., loss="perceptual")``.

    The model takes images in [0, 1] (it applies VGG16's own preprocessing) and returns the
    activations of ``layers`` -- by default the last convolution of blocks 1-4, the layers that
    perceptual losses and LPIPS compare.

    Args:
        name: The network; only ``"vgg16"``.
        layers: Layer names whose outputs are the features.
        weights: ``"imagenet"`` downloads the weights once (58 MB) into ``~/.keras/models``;
            ``None`` leaves them random.

    Returns:
        A Keras model from images ``[N, H, W, 3]`` to a list of feature maps.

    Raises:
        RecoveryError: If the weights cannot be downloaded (offline) or a layer name is unknown.

    Example:
    >>> import numpy as np
    >>> extractor = perceptual_extractor(weights=None)
    >>> [tuple(f.shape) for f in extractor(np.zeros((1, 32, 32, 3), np.float32))][:2]
    [(1, 32, 32, 64), (1, 16, 16, 128)]
    """
    if str(name).lower() != "vgg16":
        raise RecoveryError(f"perceptual_extractor({name!r}) is not available; use 'vgg16' or "
                            f"pass any Keras model as feature_extractor=")
    try:
        vgg = keras.applications.VGG16(weights=weights, include_top=False)
    except Exception as err:  # Keras raises a bare Exception for download errors
        raise RecoveryError(
            f"could not load VGG16's ImageNet weights ({one_line(err)}); they are downloaded "
            f"once (58 MB) into ~/.keras/models: connect to the internet and retry, copy "
            f"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 there, pass your own Keras model "
            f"as feature_extractor=, or use another loss such as loss='laplacian'") from err
    known = [layer.name for layer in vgg.layers]
    unknown = [layer for layer in layers if layer not in known]
    if unknown or not layers:
        raise RecoveryError(f"VGG16 has no layer(s) {unknown or list(layers)}; choose from "
                            f"{', '.join(known[1:])}")
    features = keras.Model(vgg.input, [vgg.get_layer(layer).output for layer in layers])
    images = keras.Input((None, None, 3))
    preprocessed = keras.applications.vgg16.preprocess_input(images * 255.0)
    return keras.Model(images, features(preprocessed), name="vgg16_features")


def discriminator_extractor(discriminator: Any) -> Callable[[tf.Tensor], list[tf.Tensor]]:
    """Features of a :class:`~progan_tf.gan.networks.ProgressiveDiscriminator`, for a loss.

    Returns a function mapping images ``[N, H, W, 3]`` in [0, 1] to the discriminator's
    activations after each block at its current stage and after its last convolution -- all
    the features *before* the final dense layers, which only score realism. Images are resized
    to the stage's resolution and mapped to [-1, 1], as in training. The walk is the
    discriminator's own (:meth:`ProgressiveDiscriminator.features`), so the features follow any
    change to the network.

    The minibatch-stddev feature (a statistic *across* a batch) is replaced by its value for a
    batch of one image, so that the restarts and the target do not influence each other.

    Args:
        discriminator: A discriminator (at the stage it should compare), a
            ``discriminator.keras`` file, or an export folder that holds one
            (``progan-tf export``).

    Returns:
        ``features(images) -> list of tensors``.

    Raises:
        RecoveryError: If ``discriminator`` is not a progressive discriminator.
        ModelLoadError: If the file is missing or cannot be loaded.

    Example:
    >>> import numpy as np
    >>> from progan_tf.gan.networks import ProgressiveDiscriminator
    >>> critic = ProgressiveDiscriminator(resolution=16, fmap_max=16, stage_resolution=16)
    >>> features = discriminator_extractor(critic)
    >>> [tuple(f.shape) for f in features(np.zeros((2, 32, 32, 3), np.float32))]
    [(2, 8, 8, 16), (2, 4, 4, 16), (2, 4, 4, 16)]
    """
    d = load_discriminator(discriminator)
    if not callable(getattr(d, "features", None)) or not hasattr(d, "stage_resolution"):
        raise RecoveryError(f"{type(d).__name__} is not a ProgressiveDiscriminator; pass one from "
                            f"progan_tf.gan, its discriminator.keras file, or an export folder")
    resolution = d.stage_resolution

    def features(images: Any) -> list[tf.Tensor]:
        x = tf.convert_to_tensor(images, tf.float32)
        if x.shape[1] != resolution or x.shape[2] != resolution:
            x = tf.image.resize(x, [resolution, resolution], method="area")
        # The convolutional features; the dense layer and the score only rate realism.
        return d.features(x * 2.0 - 1.0, batch_statistics=False)[:-2]

    return features


def load_discriminator(source: Any) -> Any:
    """``source`` itself, or the discriminator in a ``discriminator.keras`` file / export folder.

    Args:
        source: A discriminator object, a ``.keras`` file, or a folder holding
            ``discriminator.keras``.

    Returns:
        The discriminator.

    Raises:
        ModelLoadError: If the file is missing or cannot be loaded.
    """
    if not isinstance(source, (str, os.PathLike)):
        return source
    # Importing the training networks registers their classes with Keras' loader; done here,
    # not at the top, so that inference imports no training code.
    import progan_tf.gan.networks  # noqa: F401

    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "discriminator.keras"
    if not path.is_file():
        raise ModelLoadError(f"{str(path)!r} does not exist; pass a discriminator.keras file or "
                             f"the export folder that holds one (progan-tf export)")
    try:
        return keras.saving.load_model(path)
    except Exception as err:  # Keras raises many types for damaged files
        raise ModelLoadError(f"could not load the discriminator {str(path)!r} "
                             f"({one_line(err)}); re-export the run") from err
