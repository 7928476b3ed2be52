"""Style mixing: which layers' styles come from which face.

A :class:`~progan_tf.stylegan.networks.StyleGenerator` takes one w per modulated layer (w+,
``[N, num_ws, w_dim]``); layer ``i`` works at ``4 * 2**(i // 2)`` pixels.  Taking some layers'
ws from a *source* face and the rest from a *destination* face mixes their styles: the
StyleGAN paper (Karras et al. 2019, figure 3) shows that styles at 4-8 px (*coarse*) carry pose,
face shape and glasses; at 16-32 px (*middle*) the finer features, hair style, eyes open or
closed; at 64 px and up (*fine*) the colour scheme and micro-structure.

The named ranges (:data:`LAYER_RANGES`) follow the paper's pixel sizes when the model is 64 px
or larger.  A smaller model has no 64 px layers, so the names are scaled to it: ``"fine"`` is
its last resolution, and the resolutions below are split in two, the lower half ``"coarse"``
and the upper ``"middle"``:

===========  ==========  ===========  ==========
resolution   coarse      middle       fine
===========  ==========  ===========  ==========
16           4 px        8 px         16 px
32           4-8 px      16 px        32 px
64           4-8 px      16-32 px     64 px
128 and up   4-8 px      16-32 px     64 px and up
===========  ==========  ===========  ==========

(An 8 px model has no ``"middle"``: its names select 4 px and 8 px.)

Example:
>>> layer_indices(10, 64, "middle")
[4, 5, 6, 7]
>>> layer_indices(10, 64, slice(8, None))
[8, 9]
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from progan_tf.checks import check_whole_number
from progan_tf.constants import STYLE_LAYER_RANGES
from progan_tf.errors import LatentError, OptionError
from progan_tf.gan.networks import num_levels
from progan_tf.latents import as_latent_batch
from progan_tf.pixels import from_signed_unit

__all__ = ["LAYER_RANGES", "StyleMix", "layer_indices", "layer_ranges", "layer_resolution",
           "named_resolutions",
           "style_mix", "style_mix_ws"]

LAYER_RANGES = STYLE_LAYER_RANGES
"""The names :func:`layer_indices` knows, from the largest features to the smallest."""


def layer_resolution(index: int) -> int:
    """The pixel size at which w+ layer ``index`` works: ``4 * 2**(index // 2)``.

    Example:
    >>> [layer_resolution(i) for i in range(6)]
    [4, 4, 8, 8, 16, 16]
    """
    return 4 * 2 ** (check_whole_number(index, "index", minimum=0) // 2)


def named_resolutions(resolution: int) -> dict[str, list[int]]:
    """The pixel sizes each name of :data:`LAYER_RANGES` selects in a model of ``resolution``.

    Example:
    >>> named_resolutions(32)
    {'coarse': [4, 8], 'middle': [16], 'fine': [32]}
    """
    sizes = [4 * 2 ** level for level in range(_levels(resolution))]
    if resolution >= 64:
        return {"coarse": [s for s in sizes if s <= 8],
                "middle": [s for s in sizes if 16 <= s <= 32],
                "fine": [s for s in sizes if s >= 64]}
    lower = math.ceil((len(sizes) - 1) / 2)
    return {"coarse": sizes[:lower], "middle": sizes[lower:-1], "fine": sizes[-1:]}


def layer_ranges(resolution: int) -> dict[str, list[int]]:
    """The w+ layer indices of every name of :data:`LAYER_RANGES` (empty where none).

    Example:
    >>> layer_ranges(8)
    {'coarse': [0, 1], 'middle': [], 'fine': [2, 3]}
    """
    sizes = named_resolutions(resolution)
    num_ws = 2 * _levels(resolution)
    return {name: [i for i in range(num_ws) if layer_resolution(i) in sizes[name]]
            for name in LAYER_RANGES}


def layer_indices(num_ws: int, resolution: int, layers: Any) -> list[int]:
    """The w+ layer indices that ``layers`` selects, sorted and without repeats.

    Args:
        num_ws: Layers of the model (``2 * levels``: 10 at 64 px).
        resolution: The model's image size (a power of two from 4 to 1024).
        layers: A name of :data:`LAYER_RANGES`; a ``slice`` or ``range`` of indices within
            ``[0, num_ws]``; or a list of indices in ``[0, num_ws)``.

    Returns:
        The indices, a non-empty sorted list of ints.

    Raises:
        OptionError: An unknown name, an index or bound outside the model's layers, a
            selection of no layers, or ``num_ws`` that is not ``resolution``'s.

    Example:
    >>> layer_indices(6, 16, [5, 0, 0])
    [0, 5]
    >>> layer_indices(6, 16, [6])
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: layers must be indices in [0, 6) of this 16x16 model's 6 layers. Received: layers=[6]
    """  # noqa: E501
    levels = _levels(resolution)
    num_ws = check_whole_number(num_ws, "num_ws")
    if num_ws != 2 * levels:
        raise OptionError(f"num_ws must be {2 * levels} for a {resolution}x{resolution} model "
                          f"(two layers per resolution from 4x4). Received: num_ws={num_ws}")
    model = f"this {resolution}x{resolution} model's {num_ws} layers"
    if isinstance(layers, str):
        if layers not in LAYER_RANGES:
            raise OptionError(f"layers must be one of {', '.join(map(repr, LAYER_RANGES))}, a "
                              f"slice, a range or a list of layer indices. "
                              f"Received: layers={layers!r}")
        sizes = named_resolutions(resolution)[layers]
        indices = [i for i in range(num_ws) if layer_resolution(i) in sizes]
    elif isinstance(layers, (slice, range)):
        bounds = (layers.start, layers.stop)
        if not all(b is None or _is_int(b) and 0 <= b <= num_ws for b in bounds) or not (
                layers.step is None or _is_int(layers.step) and layers.step > 0):
            raise OptionError(f"layers must have bounds in [0, {num_ws}] and a positive step, "
                              f"for {model}. Received: layers={layers!r}")
        indices = list(range(num_ws))[slice(layers.start, layers.stop, layers.step)]
    else:
        try:
            indices = list(layers)
        except TypeError:
            indices = None
        if indices is None or not all(_is_int(i) and 0 <= i < num_ws for i in indices):
            raise OptionError(f"layers must be indices in [0, {num_ws}) of {model}. "
                              f"Received: layers={layers!r}")
    if not indices:
        raise OptionError(f"layers select none of {model}; name a range "
                          f"({', '.join(LAYER_RANGES)}) or give indices. "
                          f"Received: layers={layers!r}")
    return sorted({int(i) for i in indices})


def style_mix_ws(source_ws: Any, destination_ws: Any, layers: Any) -> np.ndarray:
    """The destination's ws with the ``layers`` taken from the source.

    Args:
        source_ws: ``[N, num_ws, w_dim]`` (or ``[1, num_ws, w_dim]``, used for every row).
        destination_ws: ``[N, num_ws, w_dim]`` (or ``[1, ...]``, used for every row).
        layers: As :func:`layer_indices` takes them; the model's resolution is
            ``2 ** (num_ws // 2 + 1)``.

    Returns:
        float32 ``[N, num_ws, w_dim]``.

    Raises:
        LatentError: ws that are not ``[N, num_ws, w_dim]``, or of different models.
        OptionError: As :func:`layer_indices`.

    Example:
    >>> source, destination = np.ones((2, 4, 3)), np.zeros((2, 4, 3))
    >>> style_mix_ws(source, destination, "coarse")[0, :, 0].tolist()
    [1.0, 1.0, 0.0, 0.0]
    """
    source = _ws(source_ws, "source_ws")
    destination = _ws(destination_ws, "destination_ws")
    if source.shape[1:] != destination.shape[1:] or (
            source.shape[0] != destination.shape[0] and 1 not in (len(source),
                                                                   len(destination))):
        raise LatentError(f"source_ws {list(source.shape)} and destination_ws "
                          f"{list(destination.shape)} must be ws of the same model, as many of "
                          "each (or one of either)")
    num_ws = source.shape[1]
    if num_ws % 2 or not 2 <= num_ws <= 18:
        raise LatentError(f"ws have {num_ws} layers; a style-based generator has an even "
                          "number from 2 to 18 (two per resolution from 4x4)")
    take = np.zeros((1, num_ws, 1), dtype=bool)
    take[0, layer_indices(num_ws, 2 ** (num_ws // 2 + 1), layers)] = True
    return np.where(take, source, destination).astype(np.float32)


class StyleMix(NamedTuple):
    """The pictures of a style mix (from :func:`style_mix`), all float32 in [0, 1].

    Attributes:
        sources: ``[S, H, W, 3]``: the faces whose styles are taken, across the top.
        destinations: ``[D, H, W, 3]``: the faces that receive them, down the side.
        mixed: ``[D, S, H, W, 3]``: destination ``d`` with source ``s``'s ``layers``.
        layers: The w+ layer indices taken from the sources.
    """

    sources: np.ndarray
    destinations: np.ndarray
    mixed: np.ndarray
    layers: list[int]

    def grid(self) -> np.ndarray:
        """The course's picture ``[(D + 1) H, (S + 1) W, 3]``: sources across, destinations down.

        The top-left corner is white.
        """
        count_d, count_s, height, width, channels = self.mixed.shape
        rows = [np.concatenate([np.ones_like(self.sources[0]), *self.sources], axis=1)]
        rows += [np.concatenate([self.destinations[d], *self.mixed[d]], axis=1)
                 for d in range(count_d)]
        return np.concatenate(rows, axis=0)


def style_mix(generator: Any, source_latents: Any, destination_latents: Any,
              layers: Any = "coarse", *, truncation_psi: float = 1.0,
              noise_mode: str = "const", batch_size: int = 16) -> StyleMix:
    """Mixes the sources' styles of ``layers`` into each destination: a grid of faces.

    Args:
        generator: A style-based generator: ``latent_dim``, ``w_dim``, ``num_ws``,
            ``resolution``, ``mapping(z, truncation_psi)`` -> ws and ``synthesis(ws,
            noise_mode=)`` -> images in about [-1, 1], as
            :class:`~progan_tf.stylegan.networks.StyleGenerator` has, or in its
            ``synthesis_range`` (``load_generator`` of an export: a
            :class:`~progan_tf.style_generator.StyleBasedGenerator`, [0, 1]).
        source_latents: z ``[S, latent_dim]`` (or one ``[latent_dim]``), or w+
            ``[S, num_ws, w_dim]`` (e.g. a projected photo).
        destination_latents: The same, ``D`` of them.
        layers: Which layers come from the sources (default ``"coarse"``; see
            :func:`layer_indices`).
        truncation_psi: Truncation of the z given (default 1: none); w+ is used as given.
        noise_mode: The synthesis noise (default ``"const"``, so that the grid is repeatable).
        batch_size: Images per synthesis call (default 16).

    Returns:
        A :class:`StyleMix`; ``.grid()`` is the course's picture.

    Raises:
        LatentError: Latents that are neither z nor w+ of this generator.
        OptionError: Bad ``layers`` (out of bounds, unknown name, empty) or options.

    Example:
    >>> from progan_tf.stylegan import StyleGenerator
    >>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=16, fmap_base=16,
    ...                            fmap_max=8, mapping_layers=2)
    >>> rng = np.random.default_rng(0)
    >>> mix = style_mix(generator, rng.standard_normal((3, 8)), rng.standard_normal((2, 8)),
    ...                 layers="middle")
    >>> mix.mixed.shape, mix.layers, mix.grid().shape
    ((2, 3, 16, 16, 3), [2, 3], (48, 64, 3))
    """
    batch_size = check_whole_number(batch_size, "batch_size")
    for needed in ("mapping", "synthesis", "num_ws", "w_dim", "latent_dim", "resolution"):
        if not hasattr(generator, needed):
            raise OptionError(f"style_mix needs a style-based generator (with mapping and "
                              f"synthesis paths: an export of 'progan-tf train --arch "
                              f"stylegan'), not {_describe(generator)}. "
                              f"Received: generator={type(generator).__name__}")
    indices = layer_indices(generator.num_ws, generator.resolution, layers)
    source = _latents_to_ws(generator, source_latents, "source_latents", truncation_psi)
    destination = _latents_to_ws(generator, destination_latents, "destination_latents",
                                 truncation_psi)
    count_s, count_d = len(source), len(destination)
    mixed = style_mix_ws(np.tile(source, (count_d, 1, 1)),
                         np.repeat(destination, count_s, axis=0), indices)

    low, high = getattr(generator, "synthesis_range", (-1.0, 1.0))  # a loaded one's: [0, 1]

    def images(ws: np.ndarray) -> np.ndarray:
        raw = np.concatenate([np.asarray(generator.synthesis(
            ws[start:start + batch_size], noise_mode=noise_mode), dtype=np.float32)
            for start in range(0, len(ws), batch_size)])
        unit = from_signed_unit(raw) if (low, high) == (-1.0, 1.0) else (raw - low) / (high - low)
        return np.clip(np.asarray(unit), 0.0, 1.0).astype(np.float32)

    pictures = images(np.concatenate([source, destination, mixed]))
    return StyleMix(pictures[:count_s], pictures[count_s:count_s + count_d],
                    pictures[count_s + count_d:].reshape(count_d, count_s,
                                                         *pictures.shape[1:]), indices)


def _describe(generator: Any) -> str:
    handle = getattr(generator, "handle", None)
    return f"{handle!r} (no synthesis path)" if handle else f"a {type(generator).__name__}"


def _levels(resolution: Any) -> int:
    try:
        return num_levels(resolution)
    except (TypeError, ValueError):
        raise OptionError(f"resolution must be a power of two from 4 to 1024. "
                          f"Received: resolution={resolution!r}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _ws(ws: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(ws, dtype=np.float32)
    except (TypeError, ValueError):
        raise LatentError(f"{name} must be an array of numbers [N, num_ws, w_dim]") from None
    if array.ndim != 3 or 0 in array.shape:
        raise LatentError(f"{name} has shape {list(array.shape)}; pass ws [N, num_ws, w_dim]")
    if not np.all(np.isfinite(array)):
        raise LatentError(f"{name} contains NaN or inf")
    return array


def _latents_to_ws(generator: Any, latents: Any, name: str, truncation_psi: float) -> np.ndarray:
    shape = np.shape(latents)
    wanted = (generator.num_ws, generator.w_dim)
    if len(shape) == 3:
        ws = _ws(latents, name)
        if ws.shape[1:] != wanted:
            raise LatentError(f"{name} are w+ {list(ws.shape)}, but this generator takes "
                              f"[N, {wanted[0]}, {wanted[1]}] (or z [N, {generator.latent_dim}])")
        return ws
    z = as_latent_batch(latents, generator.latent_dim, name=name)
    return np.asarray(generator.mapping(z, truncation_psi=truncation_psi), dtype=np.float32)
