"""What the notebooks share that is plumbing, not the lesson: one place, tested, documented.

The notebooks teach the package's public API. What they need beyond it lives here, so each
notebook keeps only the code worth reading and all of them do these chores the same way:
:class:`NotebookStop` (from :mod:`progan_tf.errors`) ends a cell and *Run all* with one line
instead of a traceback; :func:`zoom` and :func:`labelled_panels` show small pictures with sharp
pixels, side by side under captions; :func:`choose_picture` takes a picture from an upload
(:func:`upload_button` in Jupyter, Colab's dialog), Google Drive, a URL or a file;
:class:`FaceLabeller` (shown by :func:`label_faces`) keeps one label per face of a grid of
toggle buttons; :func:`fetch_celeba_sample` fills an empty folder with CelebA faces.

Nothing here imports TensorFlow or ipywidgets at module level, so the module works, and is
tested, without a browser or a network.

Example:
>>> import numpy as np
>>> zoom(np.zeros((32, 32, 3))).shape
(192, 192, 3)
"""
from __future__ import annotations

import contextlib
import functools
import io
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from progan_tf import display
from progan_tf.checks import check_whole_number
from progan_tf.errors import DatasetError, ImageLoadError, NotebookStop, OptionError, one_line
from progan_tf.fileio import write_bytes
from progan_tf.images import load_image, save_image, to_uint8

__all__ = ["DISPLAY_SIZE", "FaceLabeller", "NotebookStop", "Picture", "choose_picture",
           "fetch_celeba_sample", "in_colab", "label_faces", "labelled_panels", "upload_button",
           "zoom", "zoom_factor"]

DISPLAY_SIZE = 192
"""About the height, in screen pixels, that :func:`zoom` enlarges small pictures to."""

DRIVE_MOUNT = "/content/drive"  # where Colab mounts Google Drive, by its own convention

# Showing small pictures ----------
def zoom_factor(height: int, size: int = DISPLAY_SIZE) -> int:
    """The whole factor that shows a picture ``height`` pixels high at least ``size`` high.

    The notebooks' target is larger than the files' (:data:`DISPLAY_SIZE`, 192 screen pixels,
    against 128 for saved pictures) because a notebook shows pictures beside text; the rule
    itself is the package's one: :func:`progan_tf.display.zoom_factor`.

    Args:
        height: The picture's height in pixels.
        size: The height wanted, in pixels (default :data:`DISPLAY_SIZE`).

    Returns:
        The smallest whole factor ``f`` with ``f * height >= size`` (at least 1).

    Raises:
        OptionError: If ``height`` or ``size`` is not a whole number >= 1.

    Example:
    >>> zoom_factor(32), zoom_factor(16), zoom_factor(256)
    (6, 12, 1)
    """
    height = check_whole_number(height, "height")
    size = check_whole_number(size, "size")
    return display.zoom_factor(height, target=size, error=OptionError)


def zoom(images: Any, factor: int | None = None, size: int = DISPLAY_SIZE) -> np.ndarray:
    """Enlarges an image ``[H, W, C]`` or a batch ``[N, H, W, C]`` by a whole factor.

    Every pixel becomes a ``factor x factor`` square, so nothing is smoothed or invented: what
    you see is what the model drew, only bigger than the thumbnail a browser shows of 32x32.

    Args:
        images: A NumPy array or tensor, any dtype (kept).
        factor: The enlargement; by default :func:`zoom_factor` of the height and ``size``.
        size: The height wanted when ``factor`` is not given (default :data:`DISPLAY_SIZE`).

    Returns:
        The enlarged array, ``factor`` times higher and wider.

    Raises:
        ImageLoadError: If ``images`` is not ``[H, W, C]``/``[N, H, W, C]``, or ``factor`` < 1.

    Example:
    >>> zoom(np.eye(2, dtype=int)[..., None], 2)[..., 0].tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    """
    pixels = np.asarray(images)
    if factor is None and pixels.ndim in (3, 4):
        factor = zoom_factor(pixels.shape[pixels.ndim - 3], size)
    if isinstance(factor, float) and factor.is_integer():
        factor = int(factor)
    return display.enlarge(pixels, factor)


# Pictures or animations side by side, each under its caption: the package's one layout.
labelled_panels = display.labelled_panels


# A picture from wherever the reader has one ----------
class Picture(NamedTuple):
    """A chosen picture: unpack it as ``picture, picture_name = choose_picture(...)``."""

    image: np.ndarray  # float32 [H, W, 3] in [0, 1], as progan_tf.load_image returns it
    name: str  # where it came from (a path, a URL, an uploaded file's name), for titles


def in_colab() -> bool:
    """Whether this Python runs in Google Colab (whose ``google.colab`` module is imported).

    Example:
    >>> in_colab()
    False
    """
    return "google.colab" in sys.modules


def upload_button(description: str = "Upload a picture") -> Any | None:
    """Shows an upload button in Jupyter and returns it, for :func:`choose_picture`'s ``upload``.

    A button cannot pause *Run all*: choose a file, then run the :func:`choose_picture` cell
    again. Colab gets no button: its own dialog (``ask_for_upload=True``) is the better tool.

    Args:
        description: The button's text.

    Returns:
        The displayed ``ipywidgets.FileUpload``, or ``None`` in Colab or without ipywidgets
        (after printing why).
    """
    if in_colab():
        return None
    try:
        import ipywidgets
        from IPython.display import display
    except ImportError:
        print("ipywidgets is not installed: pip install ipywidgets to upload with a button")
        return None
    button = ipywidgets.FileUpload(accept="image/*", multiple=False, description=description)
    display(button)
    return button


def choose_picture(
    path: str | Path,
    *,
    url: str | None = None,
    drive_path: str | None = None,
    ask_for_upload: bool = False,
    upload: Any = None,
    use_network: bool = True,
) -> Picture:
    """A picture from the most specific source that gives one.

    Most specific first: a file chosen with ``upload``; Colab's upload dialog when
    ``ask_for_upload`` (*Cancel* skips it); ``drive_path`` (Colab only; Drive is mounted
    first); ``url`` (a failed download is reported and skipped); last ``path``. A source asked
    for but unusable here is named in a printed line; the last line says which picture is used.

    Args:
        path: A picture on this machine: the fallback that always exists.
        url: An http(s) URL of a picture, or ``None``.
        drive_path: A picture in Google Drive, e.g. ``"/content/drive/MyDrive/me.jpg"``.
        ask_for_upload: In Colab, open a file dialog.
        upload: An ``ipywidgets.FileUpload`` (see :func:`upload_button`) or ``None``.
        use_network: ``False`` never downloads ``url``.

    Returns:
        A :class:`Picture`: the image (float32 ``[H, W, 3]`` in [0, 1]) and where it came from.

    Raises:
        NotebookStop: If the picture chosen cannot be read (not an image, a missing file): one
            line that says which source to fix.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> face = save_image(np.full((4, 6, 3), 0.5), folder / "face.png")
    >>> picture, name = choose_picture(face, url="https://example.com/a.jpg", use_network=False)
    use_network is False: not downloading https://example.com/a.jpg
    Using .../face.png (6x4 pixels)
    """
    chosen = None
    if upload is not None and getattr(upload, "value", None):
        chosen = _read(upload, "your upload", "choose another file with the upload button")
    if chosen is None and ask_for_upload:
        if in_colab():
            from google.colab import files

            uploaded = files.upload()
            if uploaded:  # None or {} when cancelled
                name = next(iter(uploaded))
                chosen = _read(uploaded, name, "upload a picture file", name=name)
        elif upload is None:
            print("Not in Colab: no upload dialog (use an upload button in Jupyter)")
    if chosen is None and drive_path:
        if in_colab():
            from google.colab import drive

            drive.mount(DRIVE_MOUNT)
            chosen = _read(drive_path, str(drive_path), "check the path in Google Drive")
        else:
            print("drive_path is only used in Colab: give a picture on this machine as path")
    if chosen is None and url:
        if not use_network:
            print(f"use_network is False: not downloading {url}")
        else:
            try:
                chosen = Picture(load_image(url), url)
            except ImageLoadError as error:
                print(f"Could not download the picture, using {path} instead: {error}")
    if chosen is None:
        chosen = _read(path, str(path), "set the path to a picture on this machine")
    print(f"Using {chosen.name} ({chosen.image.shape[1]}x{chosen.image.shape[0]} pixels)")
    return chosen


def _read(source: Any, label: str, fix: str, name: str | None = None) -> Picture:
    try:
        return Picture(load_image(source, name=name), label)
    except ImageLoadError as error:
        raise NotebookStop(f"{error} -- {fix}") from None


# Labelling faces by hand ----------
class FaceLabeller:
    """A grid of faces with a toggle button under each; its state is one label per face.

    The state lives here, not in the widgets: a click calls :meth:`toggle`, so labels can be
    read and set without a browser, and the grid (:meth:`widget`) is only a view of them.

    Args:
        faces: ``[N, H, W, 3]`` pictures in [0, 1] (or uint8).
        columns: Faces per row of the grid.
        tile_size: Width and height of each face on screen, in pixels.

    Example:
    >>> labeller = FaceLabeller(np.zeros((4, 8, 8, 3)))
    >>> labeller.toggle(1)
    >>> labeller.toggle(3, True)
    >>> labeller.labels
    array([False,  True, False,  True])
    """

    def __init__(self, faces: Any, *, columns: int = 8, tile_size: int = 100) -> None:
        self.faces = np.asarray(faces)
        if self.faces.ndim != 4 or not len(self.faces):
            raise OptionError(f"FaceLabeller needs faces [N, H, W, 3] with N >= 1. Received: "
                              f"faces of shape {self.faces.shape}")
        self.columns = check_whole_number(columns, "columns")
        self.tile_size = check_whole_number(tile_size, "tile_size")
        self._selected = np.zeros(len(self.faces), bool)
        self._buttons: list[Any] = []

    @property
    def labels(self) -> np.ndarray:
        """A copy of the labels: ``True`` for each face whose button is down."""
        return self._selected.copy()

    def toggle(self, index: int, value: bool | None = None) -> None:
        """Sets face ``index``'s label to ``value``, or flips it when ``value`` is ``None``.

        Args:
            index: Which face, from 0.
            value: The new label; ``None`` flips the current one.

        Raises:
            OptionError: If ``index`` is not a face of the grid.
        """
        index = check_whole_number(index, "index", minimum=0, maximum=len(self.faces) - 1)
        self._selected[index] = not self._selected[index] if value is None else bool(value)
        if self._buttons and self._buttons[index].value != self._selected[index]:
            self._buttons[index].value = bool(self._selected[index])  # keep the view in step

    def widget(self) -> Any:
        """The grid as an ``ipywidgets.GridBox``: each face above a toggle named ``#index``.

        Returns:
            The grid; display it (or let :func:`label_faces` do so).

        Raises:
            ImportError: If ipywidgets is not installed.
        """
        import ipywidgets as widgets
        from PIL import Image

        tiles, self._buttons = [], []
        layout = widgets.Layout(width=f"{self.tile_size}px")
        for index, face in enumerate(self.faces):
            png = io.BytesIO()
            Image.fromarray(to_uint8(face)).save(png, format="png")
            button = widgets.ToggleButton(value=bool(self._selected[index]),
                                          description=f"#{index}", layout=layout)
            button.observe(lambda change, i=index: self.toggle(i, change["new"]), names="value")
            self._buttons.append(button)
            size = {"width": self.tile_size, "height": self.tile_size}
            tiles.append(widgets.VBox([widgets.Image(value=png.getvalue(), **size), button]))
        columns = f"repeat({self.columns}, {self.tile_size + 10}px)"
        return widgets.GridBox(tiles, layout=widgets.Layout(grid_template_columns=columns))


def label_faces(faces: Any, *, columns: int = 8) -> FaceLabeller | None:
    """Shows a :class:`FaceLabeller` grid of ``faces``; read its ``labels`` in a later cell.

    Args:
        faces: ``[N, H, W, 3]`` pictures in [0, 1] (or uint8).
        columns: Faces per row.

    Returns:
        The labeller, or ``None`` (after printing why) when ipywidgets is not installed.
    """
    labeller = FaceLabeller(faces, columns=columns)
    try:
        from IPython.display import display

        grid = labeller.widget()
    except ImportError:
        print("ipywidgets is not installed (pip install ipywidgets): no labelling grid")
        return None
    display(grid)
    print("Click the faces that have the attribute, then run the next cell.")
    return labeller


# A sample of CelebA ----------
def fetch_celeba_sample(
    data_dir: str | Path,
    count: int,
    *,
    source: str | Path | None = None,
    use_network: bool = True,
) -> list[str]:
    """The image files under ``data_dir``, which is first filled with faces if it has none.

    A folder that holds pictures is used as it is. Otherwise up to ``count`` faces are written
    into it: the first by sorted path of ``source``, a folder or ``.zip`` of pictures you have,
    under their own names; or, with ``source=None``, the first of CelebA's training split from
    tensorflow-datasets (``000001.jpg``, ...; 1.4 GB to download, which Drive's quota can refuse).

    Args:
        data_dir: The folder of face pictures (searched recursively); created if missing.
        count: How many faces to write into an empty folder.
        source: A folder or ``.zip`` of pictures, or ``None`` for tensorflow-datasets.
        use_network: ``False`` never downloads.

    Returns:
        The sorted image files under ``data_dir``.

    Raises:
        NotebookStop: If the folder is empty and no faces could be fetched (offline,
            tensorflow-datasets missing, a source without pictures): one line that says so.
        OptionError: If ``count`` is not a whole number >= 1.

    Example:
    >>> import tempfile
    >>> mine = Path(tempfile.mkdtemp())
    >>> for index in range(3):
    ...     _ = save_image(np.zeros((8, 8, 3)), mine / f"face{index}.png")
    >>> files = fetch_celeba_sample(mine / "sample", 2, source=mine)
    Wrote 2 faces from ... to .../sample.
    >>> [Path(file).name for file in files]
    ['face0.png', 'face1.png']
    """
    from progan_tf.training.data import IMAGE_SUFFIXES, list_image_files

    count, data_dir = check_whole_number(count, "count"), Path(data_dir).expanduser()
    with contextlib.suppress(DatasetError):  # DatasetError: empty or missing, filled below
        return list_image_files(data_dir)
    if source is not None:
        written = _copy_pictures(Path(source).expanduser(), data_dir, count, IMAGE_SUFFIXES)
        origin = str(source)
    elif not use_network:
        raise NotebookStop(f"no pictures in {str(data_dir)!r} and use_network is False: put "
                           f"face photos there, or allow the CelebA download")
    else:
        written, origin = _download_celeba(data_dir, count), "CelebA (tensorflow-datasets)"
    print(f"Wrote {written} faces from {origin} to {data_dir}.")
    return list_image_files(data_dir)


def _copy_pictures(source: Path, data_dir: Path, count: int, suffixes: Sequence[str]) -> int:
    """Writes the first ``count`` pictures of a folder or archive into ``data_dir``."""
    def wanted(name: str) -> bool:
        return Path(name).suffix.lower() in suffixes and not Path(name).name.startswith(".")

    if not source.is_dir() and not zipfile.is_zipfile(source):
        raise NotebookStop(f"source {str(source)!r} is not a folder or .zip archive of pictures: "
                           f"pass one, or source=None for CelebA")
    try:
        with contextlib.ExitStack() as stack:
            if source.is_dir():
                pictures = {str(path): path.read_bytes for path in source.rglob("*")
                            if path.is_file() and wanted(path.name)}
            else:  # only the bytes of each member are used: no path in the archive is trusted
                archive = stack.enter_context(zipfile.ZipFile(source))
                pictures = {name: functools.partial(archive.read, name)
                            for name in archive.namelist() if wanted(name)}
            for name in sorted(pictures)[:count]:
                write_bytes(data_dir / Path(name).name, pictures[name]())
            written = min(len(pictures), count)
    except (OSError, zipfile.BadZipFile) as error:
        raise NotebookStop(f"could not read pictures from {str(source)!r} ({one_line(error)}): "
                           f"pass a readable folder or archive of face photos") from None
    if not written:
        raise NotebookStop(f"{str(source)!r} holds no pictures ({', '.join(suffixes)}): pass a "
                           f"folder or archive of face photos")
    return written


def _download_celeba(data_dir: Path, count: int) -> int:
    """Writes the first ``count`` images of CelebA's training split into ``data_dir``."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise NotebookStop(f"no pictures in {str(data_dir)!r}, and tensorflow-datasets is not "
                           f"installed (pip install tensorflow-datasets) to download CelebA: "
                           f"put face photos there") from None
    written = 0
    try:
        for index, example in enumerate(tfds.load("celeb_a", split="train").take(count)):
            save_image(example["image"].numpy(), data_dir / f"{index + 1:06d}.jpg")
            written += 1
    except Exception as error:  # a quota or network problem, not a bug here
        raise NotebookStop(f"tensorflow-datasets could not provide CelebA ({one_line(error)}) "
                           f"after {written} images (kept): put face photos in "
                           f"{str(data_dir)!r}, or try again later") from None
    return written
