"""Small helpers the notebooks share: one-line stops, sharp enlargements, labelled panels.

The notebooks in ``notebooks/`` teach the package's public API; what they need beyond it for
showing things well lives here, so that every notebook does it the same way:

* :class:`NotebookStop` ends a cell (and *Run all*) with one readable line instead of a
  traceback -- for a mistake the reader can fix, such as no network for the model download;
* :func:`zoom` enlarges small pictures by a whole factor, every pixel a sharp square, so that a
  32x32 face is visible in an animation instead of a thumbnail;
* :func:`labelled_panels` puts pictures (or whole animations) side by side with a caption above
  each, so a comparison says which panel is which.

Examples:

>>> frames = zoom(gen(path))                                            # doctest: +SKIP
>>> pt.animate(labelled_panels([frames_a, frames_b], ["lerp", "slerp"]), "walk.gif")  # +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from progan_tf.errors import NotebookStop, ProganError

__all__ = ["NotebookStop", "zoom", "zoom_factor", "labelled_panels", "DISPLAY_SIZE"]

DISPLAY_SIZE = 192
"""About the height, in screen pixels, that :func:`zoom` enlarges small pictures to."""

_HEADER_HEIGHT = 16  # room for one line of Pillow's built-in font
_GAP = 4  # white pixels between panels


def zoom_factor(height: int, size: int = DISPLAY_SIZE) -> int:
    """The largest whole factor that keeps a picture ``height`` pixels high within ``size``.

    Args:
        height: The picture's height in pixels.
        size: About the height wanted; pictures at least half as high are not enlarged.

    Returns:
        ``max(1, size // height)``: with the default size, 6 for 32 pixels, 12 for 16 and 1
        for progan-128's 128.
    """
    if height < 1 or size < 1:
        raise ValueError(f"height and size must be positive, got {height} and {size}")
    return max(1, int(size) // int(height))


def zoom(images: Any, factor: int | None = None, size: int = DISPLAY_SIZE) -> np.ndarray:
    """Enlarges an image ``[H, W, C]`` or a batch ``[N, H, W, C]`` by a whole factor.

    Every pixel becomes a ``factor x factor`` square (nearest neighbour), so nothing is
    smoothed or invented: what you see is exactly what the model drew, only bigger. Browsers
    and GIF viewers show small pictures at their true size, where a 32x32 face is a thumbnail.

    Args:
        images: A NumPy array or tensor, any dtype (kept).
        factor: The enlargement; by default :func:`zoom_factor` of the height and ``size``.
        size: About the height wanted when ``factor`` is not given.

    Returns:
        The enlarged array, ``factor`` times higher and wider.
    """
    pixels = np.asarray(images)
    if pixels.ndim not in (3, 4):
        raise ValueError(f"zoom needs an image [H, W, C] or a batch [N, H, W, C], got shape "
                         f"{pixels.shape}")
    height_axis = pixels.ndim - 3
    if factor is None:
        factor = zoom_factor(pixels.shape[height_axis], size)
    if int(factor) != factor or factor < 1:
        raise ValueError(f"factor must be a whole number >= 1, got {factor!r}")
    factor = int(factor)
    if factor == 1:
        return pixels
    return pixels.repeat(factor, axis=height_axis).repeat(factor, axis=height_axis + 1)


def labelled_panels(panels: Sequence[Any], labels: Sequence[str]) -> np.ndarray:
    """Pictures or animations side by side, each under a one-line caption, as uint8.

    Args:
        panels: Equally high images ``[H, W, 3]`` or frame stacks ``[N, H, W, 3]``, uint8 or
            floats in [0, 1]. Single images are repeated to the frame count of the stacks, so a
            fixed target can stand beside an animation.
        labels: One caption per panel, drawn in black on white above it (cut to fit).

    Returns:
        uint8 ``[H + 16, W_total, 3]`` for images only, else ``[N, H + 16, W_total, 3]``.
    """
    from PIL import Image, ImageDraw  # noqa: PLC0415 -- only when a notebook labels something

    if len(panels) != len(labels) or not panels:
        raise ValueError(f"labelled_panels needs one label per panel, got {len(panels)} panels "
                         f"and {len(labels)} labels")
    stacks = [_as_uint8(panel) for panel in panels]
    animated = [stack for stack in stacks if stack.ndim == 4]
    frames = len(animated[0]) if animated else 1
    if any(len(stack) != frames for stack in animated):
        raise ValueError(f"the animated panels have different frame counts: "
                         f"{[len(stack) for stack in animated]}")
    stacks = [stack if stack.ndim == 4 else np.broadcast_to(stack, (frames, *stack.shape))
              for stack in stacks]
    heights = {stack.shape[1] for stack in stacks}
    if len(heights) != 1:
        raise ValueError(f"labelled_panels needs panels of one height, got {sorted(heights)}; "
                         f"zoom them to the same size first")
    height = heights.pop()
    widths = [stack.shape[2] for stack in stacks]
    total = sum(widths) + _GAP * (len(stacks) - 1)
    canvas = np.full((frames, _HEADER_HEIGHT + height, total, 3), 255, np.uint8)
    header = Image.fromarray(canvas[0, :_HEADER_HEIGHT])
    draw = ImageDraw.Draw(header)
    left = 0
    for stack, width, label in zip(stacks, widths, labels):
        canvas[:, _HEADER_HEIGHT:, left:left + width] = stack
        text = str(label)
        while text and draw.textlength(text) > width - 2:  # cut to the panel's width
            text = text[:-1]
        draw.text((left + 1, 2), text, fill=(0, 0, 0))
        left += width + _GAP
    canvas[:, :_HEADER_HEIGHT] = np.asarray(header)
    return canvas if animated else canvas[0]


def _as_uint8(picture: Any) -> np.ndarray:
    pixels = np.asarray(picture)
    if pixels.ndim not in (3, 4) or pixels.shape[-1] != 3:
        raise ValueError(f"panels must be RGB images [H, W, 3] or frames [N, H, W, 3], got "
                         f"shape {pixels.shape}")
    if pixels.dtype == np.uint8:
        return pixels
    return np.round(np.clip(pixels.astype(np.float32), 0.0, 1.0) * 255).astype(np.uint8)
