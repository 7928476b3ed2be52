"""Showing images: grids, figures, inline pictures, sharp enlargements and labelled panels.

Everything here takes the arrays (or tensors) the rest of progan-tf makes: one image
``[H, W, 3]`` or a batch ``[N, H, W, 3]``, float in ``[0, 1]`` or uint8. The figure helpers never
call ``plt.show()``: in Jupyter and Colab the inline backend shows new figures at the end of the
cell, and the returned figures know not to show up twice.

Small models draw small pictures -- the bundled generator's faces are 32x32, a thumbnail on a
screen. One rule says how much to enlarge them, :func:`zoom_factor` (the smallest whole factor
that makes the smaller side at least 128 pixels), and :func:`enlarge` does it by repeating each
pixel, so nothing is smoothed or invented: what you see is exactly what the model drew, only
bigger. The command line, :class:`~progan_tf.RecoveryResult` and the notebooks all use these.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from progan_tf.checks import check_choice, check_whole_number
from progan_tf.constants import grid_columns
from progan_tf.errors import ImageLoadError, OptionError
from progan_tf.pixels import as_image, as_images, to_uint8

__all__ = ["MAX_SHOWN_SIDE", "SHOWN_SIDE", "display_image", "enlarge", "in_ipython",
           "labelled_panels", "make_grid", "show_grid", "show_image", "show_side_by_side",
           "zoom_factor"]

SHOWN_SIDE = 128
"""Pixels the smaller side of a picture is enlarged to (at least) when the zoom is automatic."""

MAX_SHOWN_SIDE = 8192
"""Largest side a zoom may give a picture: beyond it, files and browsers struggle."""

_GRID_PADDING = 2  # make_grid's default padding, also between labelled panels
_LABEL_MARGIN = 4  # pixels around a label


# --------------------------------------------------------------------------------------------
# Grids and enlargement
# --------------------------------------------------------------------------------------------


def make_grid(
    images: Any,
    ncols: int | None = None,
    padding: int = _GRID_PADDING,
    pad_value: float | Sequence[float] = 1.0,
) -> np.ndarray:
    """Tiles a batch ``[N, H, W, 3]`` into one float32 image, row by row.

    Args:
        images: A batch array or tensor, or a sequence of equally sized images.
        ncols: Images per row; by default about square (``ceil(sqrt(N))``), at most ``N``.
        padding: Pixels between images and around the border.
        pad_value: Colour of the padding, a grey level or an RGB triple in ``[0, 1]`` (white by
            default).

    Returns:
        float32 ``[rows * (H + padding) + padding, ncols * (W + padding) + padding, 3]``.

    Raises:
        ImageLoadError: If there are no images, or they differ in size.
        OptionError: If ``ncols`` or ``padding`` is invalid.

    Example:
    >>> make_grid(np.zeros((6, 32, 32, 3)), ncols=3).shape
    (70, 104, 3)
    """
    tiles = as_images(images)
    if not tiles:
        raise ImageLoadError("make_grid got no images; pass a batch with at least one image")
    if len({tile.shape for tile in tiles}) > 1:
        raise ImageLoadError(f"make_grid needs images of one size, got "
                             f"{sorted({tile.shape[:2] for tile in tiles})}; resize them first "
                             f"or use show_grid")
    padding = check_whole_number(padding, "padding", minimum=0)
    ncols = _columns(len(tiles), ncols)
    nrows = math.ceil(len(tiles) / ncols)
    height, width, _ = tiles[0].shape
    grid = np.empty((nrows * (height + padding) + padding,
                     ncols * (width + padding) + padding, 3), np.float32)
    grid[...] = pad_value
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top:top + height, left:left + width] = tile
    return grid


def _columns(count: int, ncols: int | None) -> int:
    if ncols is not None:
        ncols = check_whole_number(ncols, "ncols")
    return grid_columns(count, ncols)


def zoom_factor(image_size: int | Sequence[int], zoom: int | str | None = None, *,
                target: int = SHOWN_SIDE, error: type[Exception] = OptionError) -> int:
    """The whole factor by which pictures of ``image_size`` are shown: THE zoom rule.

    Automatic (``zoom=None`` or ``"auto"``): the smallest whole factor that makes the picture's
    *smaller* side at least ``target`` pixels -- 32x32 -> 4, 100x100 -> 2, 128x128 and larger
    -> 1. A whole factor keeps every model pixel an equal square; the smaller side, so that a
    wide picture is not left a thin strip. A given ``zoom`` is checked and used as it is.

    Args:
        image_size: The picture's side, or ``(height, width)`` -- also a whole shape
            ``(height, width, channels)`` such as a generator's ``image_shape``.
        zoom: ``None`` or ``"auto"`` for the automatic factor, or a whole number >= 1.
        target: Pixels the smaller side should reach automatically (default 128).
        error: The exception class to raise for an invalid ``zoom`` (default
            :class:`~progan_tf.errors.OptionError`; recovery passes its own).

    Returns:
        The factor, an int >= 1.

    Raises:
        OptionError: (or ``error``) If ``zoom`` is not a whole number >= 1, None or "auto",
            or makes the picture larger than :data:`MAX_SHOWN_SIDE` pixels.

    Example:
    >>> zoom_factor(32), zoom_factor((100, 100)), zoom_factor((128, 128, 3)), zoom_factor(32, 3)
    (4, 2, 1, 3)
    >>> zoom_factor((16, 64))  # the smaller side decides
    8
    """
    if isinstance(image_size, (int, np.integer)):
        height = width = int(image_size)
    else:
        height, width = (int(side) for side in tuple(image_size)[:2])
    if zoom is None or (isinstance(zoom, str) and zoom.lower() == "auto"):
        return max(1, math.ceil(target / min(height, width)))
    if isinstance(zoom, str):
        check_choice(zoom, "zoom", ("auto",), error=error)
    zoom = check_whole_number(zoom, "zoom", error=error)
    largest = MAX_SHOWN_SIDE // max(height, width)
    if zoom > largest:
        raise error(f"zoom={zoom} makes {height}x{width} images larger than {MAX_SHOWN_SIDE} px; "
                    f"use zoom <= {largest} or zoom='auto'")
    return zoom


def enlarge(images: Any, factor: int) -> np.ndarray:
    """Enlarges an image ``[H, W, C]`` or a batch ``[N, H, W, C]`` by a whole factor.

    Every pixel becomes a ``factor`` x ``factor`` square (nearest neighbour), so small models'
    pixels stay sharp squares instead of smearing. The dtype is kept.

    Args:
        images: A NumPy array or tensor, one image or a batch (or frames of an animation).
        factor: The enlargement, a whole number >= 1 (see :func:`zoom_factor`).

    Returns:
        The enlarged array, ``factor`` times higher and wider (the input itself for 1).

    Raises:
        ImageLoadError: If ``images`` is not 3- or 4-dimensional.
        OptionError: If ``factor`` is not a whole number >= 1.

    Example:
    >>> enlarge(np.array([[[1], [2]]]), 2)[..., 0]
    array([[1, 1, 2, 2],
           [1, 1, 2, 2]])
    """
    pixels = np.asarray(images)
    if pixels.ndim not in (3, 4):
        raise ImageLoadError(f"enlarge needs an image [H, W, C] or a batch [N, H, W, C], got "
                             f"shape {pixels.shape}")
    factor = check_whole_number(factor, "factor")
    if factor == 1:
        return pixels
    height_axis = pixels.ndim - 3
    return pixels.repeat(factor, axis=height_axis).repeat(factor, axis=height_axis + 1)


def labelled_panels(panels: Sequence[Any], labels: Sequence[str], zoom: int = 1) -> np.ndarray:
    """Pictures or animations side by side, enlarged with sharp pixels, each labelled above.

    The panels are laid out as :func:`make_grid` lays out one row (white padding around and
    between them), every pixel repeated ``zoom`` x ``zoom`` times, and a white strip above
    holds each label, left-aligned over its panel in PIL's default font (no font files
    needed). A label too wide for its panel wraps at a double space, then gets a smaller font
    (down to 8 px); the picture widens to the right if it still does not fit.

    Panels may be single images ``[H, W, 3]`` or frame stacks ``[N, H, W, 3]`` (an animation),
    all of one height (widths may differ). When any panel is a stack, the result is a stack
    too, and single images are repeated on every frame, so a fixed target can stand beside a
    search.

    Args:
        panels: The pictures, float in ``[0, 1]`` or uint8.
        labels: One label per panel.
        zoom: The whole enlargement, e.g. from :func:`zoom_factor`.

    Returns:
        uint8 ``[strip + zoom * (H + 4), >= zoom * (sum(W) + 2 * (n + 1)), 3]`` for single
        images, ``[N, ...]`` when a panel is animated; the panels' area is at the bottom left.

    Raises:
        ImageLoadError: If the panels differ in height or (animations) in frame count.
        OptionError: If the labels do not match the panels, or ``zoom`` is invalid.

    Example:
    >>> target, frames = np.zeros((32, 32, 3)), np.ones((5, 32, 32, 3))
    >>> labelled_panels([target, frames], ["target", "search"], zoom=2).shape[0]
    5
    >>> picture = labelled_panels([target, target], ["a", "b"], zoom=4)
    >>> picture.shape[1:], picture.dtype
    ((280, 3), dtype('uint8'))
    """
    from PIL import ImageDraw  # only when something is labelled

    panels, labels = list(panels), [str(label) for label in labels]
    if len(panels) != len(labels) or not panels:
        raise OptionError(f"labelled_panels needs one label per panel, got {len(panels)} "
                             f"panels and {len(labels)} labels")
    zoom = check_whole_number(zoom, "zoom")
    stacks, animated = _frame_stacks(panels)
    padding = zoom * _GRID_PADDING
    widths = [zoom * stack.shape[2] for stack in stacks]
    lefts = [padding + sum(widths[:index]) + index * padding for index in range(len(stacks))]
    cells = [width + padding for width in widths]  # a panel and the padding after it
    grid_height = zoom * stacks[0].shape[1] + 2 * padding
    grid_width = lefts[-1] + widths[-1] + padding

    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for size in range(min(20, max(11, min(cells) // 12)), 7, -1):  # smaller text, then wider
        font = _label_font(size)
        lines = [_wrap(label, font, measure, cell - _LABEL_MARGIN)
                 for label, cell in zip(labels, cells)]
        if all(measure.textlength(line, font) <= cell - _LABEL_MARGIN
               for block, cell in zip(lines, cells) for line in block):
            break
    line_height = font.getbbox("Hg")[3] + 2
    strip = 2 * _LABEL_MARGIN + line_height * max(len(block) for block in lines)
    text_right = max(left + round(measure.textlength(line, font))
                     for left, block in zip(lefts, lines) for line in block)
    header = Image.new("RGB", (max(grid_width, text_right + _LABEL_MARGIN), strip), "white")
    draw = ImageDraw.Draw(header)
    for left, block in zip(lefts, lines):
        for row, line in enumerate(block):
            draw.text((left, _LABEL_MARGIN + row * line_height), line, fill="black", font=font)

    frames = len(stacks[0])
    canvas = np.full((frames, strip + grid_height, header.width, 3), 255, np.uint8)
    canvas[:, :strip] = np.asarray(header)
    for left, stack in zip(lefts, stacks):
        enlarged = enlarge(stack, zoom)
        canvas[:, strip + padding:strip + padding + enlarged.shape[1],
               left:left + enlarged.shape[2]] = enlarged
    return canvas if animated else canvas[0]


def _frame_stacks(panels: list[Any]) -> tuple[list[np.ndarray], bool]:
    """The panels as uint8 frame stacks of one length and height, and whether any is animated."""
    stacks = []
    for index, panel in enumerate(panels):
        pixels = np.asarray(panel)
        if pixels.ndim == 4:
            stacks.append(to_uint8(np.stack(as_images(pixels))))
        else:
            stacks.append(to_uint8(as_image(pixels, f"panel {index}"))[np.newaxis])
    animated = [stack for stack, panel in zip(stacks, panels) if np.ndim(panel) == 4]
    counts = {len(stack) for stack in animated}
    if len(counts) > 1:
        raise ImageLoadError(f"the animated panels have different frame counts: "
                             f"{[len(stack) for stack in animated]}")
    frames = counts.pop() if counts else 1
    heights = {stack.shape[1] for stack in stacks}
    if len(heights) != 1:
        raise ImageLoadError(f"labelled_panels needs panels of one height, got "
                             f"{sorted(heights)}; resize them to the same size first")
    stacks = [stack if np.ndim(panel) == 4 else np.broadcast_to(stack, (frames, *stack.shape[1:]))
              for stack, panel in zip(stacks, panels)]
    return stacks, bool(animated)


def _label_font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable bundled font
    except TypeError:
        return ImageFont.load_default()  # Pillow 10.0: its small bitmap font


def _wrap(label: str, font: Any, measure: Any, width: int) -> list[str]:
    """``label`` as one line, or split at double spaces where it is wider than ``width``."""
    if measure.textlength(label, font) <= width:
        return [label]
    return [part.strip() for part in label.split("  ") if part.strip()] or [label]


# --------------------------------------------------------------------------------------------
# Inline pictures and matplotlib figures
# --------------------------------------------------------------------------------------------


def display_image(image: Any, format: str = "png") -> bytes | None:  # IPython's name
    r"""Shows an image (or a batch, as a grid) inline in Jupyter or Colab, without matplotlib.

    The picture is shown at its true pixel size. Outside IPython nothing is displayed and the
    encoded file contents are returned instead, e.g. to write them somewhere.

    Args:
        image: ``[H, W, 3]`` or a batch ``[N, H, W, 3]``; float in ``[0, 1]`` or uint8.
        format: ``"png"`` (lossless) or ``"jpeg"`` (smaller, for big grids).

    Returns:
        ``None`` once displayed (so the notebook does not print it again), else the encoded
        bytes.

    Raises:
        ImageLoadError: If the image cannot be converted.
        OptionError: If the format is unknown.

    Example:
    >>> display_image(np.zeros((4, 4, 3)))[:4]  # outside a notebook: the PNG file's bytes
    b'\x89PNG'
    """
    image_format = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}.get(str(format).lower())
    if image_format is None:
        raise OptionError(f'format={format!r} is not supported; use "png" or "jpeg"')
    tiles = as_images(image)
    picture = tiles[0] if len(tiles) == 1 else make_grid(tiles)
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(picture)).save(buffer, format=image_format.upper())
    data = buffer.getvalue()
    if not in_ipython():
        return data
    from IPython.display import Image as IPythonImage
    from IPython.display import display

    display(IPythonImage(data=data, format=image_format))
    return None


def in_ipython() -> bool:
    """Whether this code runs inside IPython (Jupyter, Colab, the IPython shell).

    Returns:
        ``True`` where ``IPython.get_ipython()`` finds a running shell.

    Example:
    >>> in_ipython()  # doctest runs in plain Python
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


class _NotebookFigure(Figure):
    """A Figure that a notebook shows once, even when a cell ends with the call that made it.

    The inline backend shows each open figure when a cell finishes, and a Figure returned as the
    cell's value would be shown a second time. So whichever display comes first -- the cell's
    value or the backend's -- draws the PNG and closes the figure, and the other finds nothing.
    """

    def _ipython_display_(self) -> None:
        import matplotlib
        import matplotlib.pyplot as plt
        from IPython.display import Image as IPythonImage
        from IPython.display import display
        from matplotlib._pylab_helpers import Gcf  # as the inline backend does

        open_in_pyplot = any(m.canvas.figure is self for m in Gcf.get_all_fig_managers())
        if open_in_pyplot and "inline" not in matplotlib.get_backend():
            return  # a widget or window backend already shows it
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        if open_in_pyplot:
            plt.close(self)
        display(IPythonImage(data=buffer.getvalue(), format="png"))


def show_image(image: Any, title: str | None = None, ax: Any = None) -> Figure:
    """Plots one image (or a batch, as a grid) with matplotlib, without axes.

    Args:
        image: ``[H, W, 3]`` or a batch ``[N, H, W, 3]``; float in ``[0, 1]`` or uint8.
        title: Optional title above the image.
        ax: A matplotlib Axes to draw into; a new figure is made if omitted.

    Returns:
        The figure holding the plot (``ax.figure`` when ``ax`` is given). Notebooks show it
        below the cell (once, even as the cell's value); scripts call ``plt.show()``.

    Example:
    >>> figure = show_image(np.zeros((8, 8, 3)), title="target")
    >>> figure.axes[0].get_title()
    'target'
    """
    tiles = as_images(image)
    picture = tiles[0] if len(tiles) == 1 else make_grid(tiles)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5), FigureClass=_NotebookFigure)
    ax.imshow(picture, interpolation="nearest")  # sharp pixels: no blur on small models
    ax.set_axis_off()
    if title is not None:
        ax.set_title(str(title))
    return ax.figure


def show_grid(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Plots images in a grid of subplots, each with an optional title.

    Unlike :func:`make_grid`, the images may differ in size.

    Args:
        images: A batch ``[N, H, W, 3]`` or a sequence of images; float in ``[0, 1]`` or uint8.
        titles: One title per image, or ``None``.
        ncols: Images per row; by default about square.
        figsize: Figure size in inches; by default about 2.5 inches per image.

    Returns:
        The figure. Notebooks show it below the cell (once, even as the cell's value); scripts
        call ``plt.show()``.

    Raises:
        ImageLoadError: If there are no images.
        OptionError: If the titles do not match the images, or ``ncols`` is invalid.

    Example:
    >>> figure = show_grid(np.zeros((5, 8, 8, 3)), titles=[f"seed {s}" for s in range(5)])
    >>> len(figure.axes), figure.axes[4].get_title()
    (6, 'seed 4')
    """
    import matplotlib.pyplot as plt

    tiles = as_images(images)
    if not tiles:
        raise ImageLoadError("show_grid got no images; pass a batch with at least one image")
    if titles is not None:
        if isinstance(titles, (str, bytes)) or len(titles) != len(tiles):
            raise OptionError(f"titles must be a list with one title per image ({len(tiles)}), "
                              f"got {titles!r}")
    ncols = _columns(len(tiles), ncols)
    nrows = math.ceil(len(tiles) / ncols)
    if figsize is None:
        figsize = (2.5 * ncols, (2.8 if titles is not None else 2.5) * nrows)
    figure, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                                layout="constrained", FigureClass=_NotebookFigure)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(tiles):
            ax.imshow(tiles[index], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[index]))
    return figure


def show_side_by_side(images: Sequence[Any], titles: Sequence[str] | None = None) -> Figure:
    """Plots a few images in one row for comparison, e.g. target | recovered.

    Args:
        images: The pictures; they may differ in size.
        titles: One title per picture, or ``None``.

    Returns:
        The figure, as from :func:`show_grid`.

    Example:
    >>> figure = show_side_by_side([np.zeros((8, 8, 3)), np.ones((8, 8, 3))],
    ...                            ["target", "recovered"])
    >>> [ax.get_title() for ax in figure.axes]
    ['target', 'recovered']
    """
    tiles = as_images(images)
    height = 4.4 if titles is not None else 4.0
    return show_grid(tiles, titles=titles, ncols=max(1, len(tiles)),
                     figsize=(4.0 * max(1, len(tiles)), height))
