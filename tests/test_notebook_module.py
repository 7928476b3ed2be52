"""progan_tf.notebook: what the notebooks share, tested without a browser, Colab or a network.

Colab is its ``google.colab`` module: a stand-in put into ``sys.modules`` records what the
helpers ask of it. Downloads come from a server on 127.0.0.1 inside the test; tensorflow-datasets
is a stand-in module too, or hidden to play "not installed".
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from progan_tf import display, notebook
from progan_tf.errors import ImageLoadError, NotebookStop, OptionError
from progan_tf.images import load_image, save_image
from progan_tf.notebook import (
    FaceLabeller,
    Picture,
    choose_picture,
    fetch_celeba_sample,
    label_faces,
    labelled_panels,
    upload_button,
    zoom,
    zoom_factor,
)

ipywidgets = pytest.importorskip("ipywidgets")


def picture_file(path: Path, value: float, shape=(6, 10, 3)) -> Path:
    """A flat grey picture, so a test can tell pictures apart by their value."""
    return save_image(np.full(shape, value, np.float32), path)


def assert_one_line(error: BaseException, *parts: str) -> None:
    message = str(error)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


# --------------------------------------------------------------------------------------------
# Showing small pictures
# --------------------------------------------------------------------------------------------


def test_zoom_repeats_pixels_by_a_whole_factor():
    images = np.arange(2 * 4 * 3 * 3, dtype=np.float32).reshape(2, 4, 3, 3)
    big = zoom(images, 3)
    assert big.shape == (2, 12, 9, 3) and big.dtype == images.dtype
    assert np.array_equal(big[:, ::3, ::3], images) and np.array_equal(big[:, 2::3, 2::3], images)
    assert zoom(images[0], 2).shape == (8, 6, 3)
    assert zoom(images, 2.0).shape == (2, 8, 6, 3)
    assert zoom_factor(32) == 6 and zoom_factor(16) == 12 and zoom_factor(256) == 1
    assert zoom_factor(100) == 2  # at least 192 pixels high: 200
    assert zoom(np.zeros((32, 32, 3))).shape == (192, 192, 3)
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="factor must be a whole number >= 1"):
            zoom(images, bad)
    with pytest.raises(ImageLoadError, match=r"got shape \(4,\)"):
        zoom(np.zeros(4))
    with pytest.raises(OptionError, match="height"):
        zoom_factor(0)


def test_labelled_panels_is_the_package_layout():
    # The notebooks lay panels out as everything else does (tests/test_display.py tests it).
    assert notebook.labelled_panels is display.labelled_panels
    frames = np.zeros((5, 20, 30, 3), np.float32)
    still = np.ones((20, 40, 3), np.float32)
    strip = labelled_panels([frames, still], ["frames", "target"])
    assert strip.shape[0] == 5 and strip.shape[2] >= 30 + 40 and strip.dtype == np.uint8
    with pytest.raises(OptionError, match="one label per panel"):
        labelled_panels([still], ["a", "b"])


def test_notebook_stop_renders_as_one_line():
    assert issubclass(notebook.NotebookStop, Exception)
    stop = notebook.NotebookStop("no network -- set MODEL_HANDLE = 'bundled'")
    assert stop._render_traceback_() == ["NotebookStop: no network -- set MODEL_HANDLE = 'bundled'"]


def test_the_old_module_name_still_works():
    from progan_tf import notebook_setup

    for name in notebook_setup.__all__:
        assert getattr(notebook_setup, name) is getattr(notebook, name)


# --------------------------------------------------------------------------------------------
# choose_picture
# --------------------------------------------------------------------------------------------


@pytest.fixture
def local_path(tmp_path) -> Path:
    return picture_file(tmp_path / "local.png", 0.2)


@pytest.fixture
def served(tmp_path):
    """A web server on 127.0.0.1 for the files of ``tmp_path / "web"``: its base URL."""
    folder = tmp_path / "web"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def colab(monkeypatch, tmp_path):
    """A stand-in for Colab's ``google.colab``: ``.uploads`` is what the dialog returns next,
    ``.mounted`` where Drive was mounted."""
    state = types.SimpleNamespace(uploads=[], mounted=[])
    files = types.ModuleType("google.colab.files")
    files.upload = lambda: state.uploads.pop(0)
    drive = types.ModuleType("google.colab.drive")
    drive.mount = state.mounted.append
    package = types.ModuleType("google.colab")
    package.files, package.drive = files, drive
    google = types.ModuleType("google")
    google.colab = package
    for name, module in (("google", google), ("google.colab", package),
                         ("google.colab.files", files), ("google.colab.drive", drive)):
        monkeypatch.setitem(sys.modules, name, module)
    return state


def test_a_local_path_is_the_fallback(local_path, capsys):
    chosen = choose_picture(local_path)
    assert isinstance(chosen, Picture) and chosen.name == str(local_path)
    np.testing.assert_allclose(chosen.image, load_image(local_path))
    assert capsys.readouterr().out == f"Using {local_path} (10x6 pixels)\n"


def test_a_url_replaces_the_path(local_path, served, capsys):
    folder, base = served
    picture_file(folder / "web.png", 0.8, shape=(4, 4, 3))
    picture, name = choose_picture(local_path, url=f"{base}/web.png")
    assert name == f"{base}/web.png" and picture.shape == (4, 4, 3)
    assert abs(float(picture.mean()) - 0.8) < 0.01
    assert capsys.readouterr().out.endswith("(4x4 pixels)\n")


def test_a_failed_download_says_so_and_keeps_the_path(local_path, served, capsys):
    _, base = served
    picture, name = choose_picture(local_path, url=f"{base}/missing.png")
    assert name == str(local_path)
    out = capsys.readouterr().out
    assert out.startswith(f"Could not download the picture, using {local_path} instead: ")
    assert "404" in out and out.splitlines()[-1].startswith(f"Using {local_path}")


def test_no_network_never_downloads(local_path, capsys):
    _, name = choose_picture(local_path, url="http://127.0.0.1:9/never.png", use_network=False)
    assert name == str(local_path)
    assert "use_network is False: not downloading http://127.0.0.1:9/never.png" in \
        capsys.readouterr().out


def test_a_jupyter_upload_wins(local_path, tmp_path, served):
    _, base = served
    content = picture_file(tmp_path / "up.png", 0.6, shape=(5, 7, 3)).read_bytes()
    button = types.SimpleNamespace(value=({"name": "me.png", "content": content},))
    picture, name = choose_picture(local_path, url=f"{base}/missing.png", upload=button,
                                   ask_for_upload=True)
    assert name == "your upload" and picture.shape == (5, 7, 3)
    assert choose_picture(local_path, upload=types.SimpleNamespace(value=())).name == \
        str(local_path)  # nothing chosen yet: the next source


def test_an_upload_that_is_not_a_picture_stops_in_one_line(local_path):
    button = types.SimpleNamespace(value=({"name": "notes.txt", "content": b"not a picture"},))
    with pytest.raises(NotebookStop) as info:
        choose_picture(local_path, upload=button)
    assert_one_line(info.value, "notes.txt", "choose another file with the upload button")


def test_colab_upload_dialog_and_cancel(local_path, tmp_path, colab):
    content = picture_file(tmp_path / "up.png", 0.6, shape=(3, 9, 3)).read_bytes()
    colab.uploads = [{"mine.png": content}, {}]
    picture, name = choose_picture(local_path, ask_for_upload=True)
    assert name == "mine.png" and picture.shape == (3, 9, 3)
    assert choose_picture(local_path, ask_for_upload=True).name == str(local_path)  # Cancel
    assert not colab.uploads and not colab.mounted


def test_drive_is_mounted_in_colab_only(local_path, tmp_path, colab, monkeypatch, capsys):
    in_drive = picture_file(tmp_path / "drive.png", 0.4)
    assert choose_picture(local_path, drive_path=str(in_drive)).name == str(in_drive)
    assert colab.mounted == [notebook.DRIVE_MOUNT]
    monkeypatch.delitem(sys.modules, "google.colab")
    capsys.readouterr()
    assert choose_picture(local_path, drive_path=str(in_drive)).name == str(local_path)
    assert "drive_path is only used in Colab" in capsys.readouterr().out


def test_a_missing_path_stops_in_one_line(tmp_path):
    with pytest.raises(NotebookStop) as info:
        choose_picture(tmp_path / "nowhere.jpg")
    assert_one_line(info.value, "nowhere.jpg", "set the path to a picture on this machine")


def test_upload_button_only_outside_colab(monkeypatch, colab):
    assert upload_button() is None  # Colab: its own dialog instead
    monkeypatch.delitem(sys.modules, "google.colab")
    button = upload_button()
    assert isinstance(button, ipywidgets.FileUpload) and button.accept == "image/*"


# --------------------------------------------------------------------------------------------
# Labelling faces
# --------------------------------------------------------------------------------------------


def test_labeller_state_follows_the_buttons_and_back():
    faces = np.random.default_rng(0).random((5, 8, 8, 3)).astype(np.float32)
    labeller = FaceLabeller(faces, columns=3)
    grid = labeller.widget()
    assert isinstance(grid, ipywidgets.GridBox) and len(grid.children) == 5
    assert grid.layout.grid_template_columns == "repeat(3, 110px)"
    buttons = [tile.children[1] for tile in grid.children]
    assert [button.description for button in buttons] == [f"#{i}" for i in range(5)]
    buttons[1].value = True  # what a click does
    buttons[4].value = True
    assert labeller.labels.tolist() == [False, True, False, False, True]
    buttons[4].value = False
    labeller.toggle(2)
    assert labeller.labels.tolist() == [False, True, True, False, False]
    assert buttons[2].value is True  # the view follows the state
    labels = labeller.labels
    labels[:] = True
    assert labeller.labels.sum() == 2  # a copy: the caller cannot change the state by accident


def test_labeller_refuses_bad_input():
    labeller = FaceLabeller(np.zeros((2, 4, 4, 3)))
    with pytest.raises(OptionError, match=r"index must be a whole number in \[0, 1\]"):
        labeller.toggle(2)
    with pytest.raises(OptionError, match="faces"):
        FaceLabeller(np.zeros((4, 4, 3)))


def test_label_faces_shows_the_grid_or_says_why_not(monkeypatch, capsys):
    labeller = label_faces(np.zeros((3, 4, 4, 3)))
    assert isinstance(labeller, FaceLabeller)
    assert "Click the faces that have the attribute" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    assert label_faces(np.zeros((3, 4, 4, 3))) is None
    assert "pip install ipywidgets" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# fetch_celeba_sample
# --------------------------------------------------------------------------------------------


@pytest.fixture
def faces_folder(tmp_path) -> Path:
    folder = tmp_path / "mine"
    for index in range(4):
        picture_file(folder / "nested" / f"{index:06d}.jpg", index / 4)
    (folder / "README.txt").write_text("not a picture")
    return folder


def test_a_folder_with_pictures_is_used_as_it_is(faces_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    files = fetch_celeba_sample(faces_folder, 2, use_network=False)
    assert [Path(file).name for file in files] == [f"{i:06d}.jpg" for i in range(4)]


def test_an_empty_folder_is_filled_from_a_folder(faces_folder, tmp_path, capsys):
    files = fetch_celeba_sample(tmp_path / "data", 3, source=faces_folder)
    assert [Path(file).name for file in files] == [f"{i:06d}.jpg" for i in range(3)]
    assert (tmp_path / "data" / "000001.jpg").read_bytes() == \
        (faces_folder / "nested" / "000001.jpg").read_bytes()
    assert capsys.readouterr().out == f"Wrote 3 faces from {faces_folder} to {tmp_path / 'data'}.\n"


def test_an_empty_folder_is_filled_from_a_zip(faces_folder, tmp_path):
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(faces_folder.rglob("*")):
            if path.is_file():
                zipped.write(path, f"../../evil/{path.relative_to(faces_folder)}")
    files = fetch_celeba_sample(tmp_path / "data", 10, source=archive)
    assert [Path(file).name for file in files] == [f"{i:06d}.jpg" for i in range(4)]
    assert all(Path(file).parent == tmp_path / "data" for file in files)  # no path trusted
    assert not (tmp_path.parent / "evil").exists()


def test_a_source_without_pictures_stops_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotebookStop) as info:
        fetch_celeba_sample(tmp_path / "data", 5, source=tmp_path / "empty")
    assert_one_line(info.value, "holds no pictures")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NotebookStop) as info:
        fetch_celeba_sample(tmp_path / "data", 5, source=tmp_path / "notes.txt")
    assert_one_line(info.value, "is not a folder or .zip archive")


def test_offline_stops_in_one_line(tmp_path, monkeypatch):
    with pytest.raises(NotebookStop) as info:
        fetch_celeba_sample(tmp_path / "data", 5, use_network=False)
    assert_one_line(info.value, "use_network is False", "put face photos there")
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # not installed
    with pytest.raises(NotebookStop) as info:
        fetch_celeba_sample(tmp_path / "data", 5)
    assert_one_line(info.value, "pip install tensorflow-datasets")
    with pytest.raises(OptionError, match="count must be a whole number >= 1"):
        fetch_celeba_sample(tmp_path / "data", 0)


class _Tensor:
    def __init__(self, value):
        self.value = value

    def numpy(self):
        return self.value


def _stand_in_tfds(monkeypatch, images: int, fail_after: int | None = None) -> list:
    """tensorflow_datasets whose celeb_a split holds ``images`` grey faces: the calls made."""
    calls = []

    class Split:
        def take(self, count):
            for index in range(min(count, images)):
                if index == fail_after:
                    raise ConnectionError("quota exceeded\nfor Google Drive")
                yield {"image": _Tensor(np.full((12, 10, 3), 100 + index, np.uint8))}

    module = types.ModuleType("tensorflow_datasets")
    module.load = lambda name, split: calls.append((name, split)) or Split()
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", module)
    return calls


def test_celeba_from_tensorflow_datasets(tmp_path, monkeypatch):
    calls = _stand_in_tfds(monkeypatch, images=10)
    files = fetch_celeba_sample(tmp_path / "data", 3)
    assert calls == [("celeb_a", "train")]
    assert [Path(file).name for file in files] == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert load_image(files[2]).shape == (12, 10, 3)
    assert fetch_celeba_sample(tmp_path / "data", 3) == files and len(calls) == 1  # once


def test_a_failing_download_stops_in_one_line_and_keeps_what_it_wrote(tmp_path, monkeypatch):
    _stand_in_tfds(monkeypatch, images=10, fail_after=2)
    with pytest.raises(NotebookStop) as info:
        fetch_celeba_sample(tmp_path / "data", 5)
    assert_one_line(info.value, "could not provide CelebA (quota exceeded)", "after 2 images")
    assert sorted(path.name for path in (tmp_path / "data").iterdir()) == \
        ["000001.jpg", "000002.jpg"]
