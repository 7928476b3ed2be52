"""Tests for progan_tf.animation: GIF and MP4 round trips, streaming, atomic writes, display."""

import math
import sys
import tempfile
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageSequence

from progan_tf import animation
from progan_tf.animation import animate
from progan_tf.errors import ImageLoadError, OptionError, ProganError

RNG = np.random.default_rng(1234)
# 200 arbitrary colours: frames drawn from them fit a GIF palette, so they round-trip exactly.
COLOURS = RNG.integers(0, 256, (200, 3), dtype=np.uint8)


def few_colour_frames(count: int, height: int = 24, width: int = 32) -> np.ndarray:
    return COLOURS[RNG.integers(0, len(COLOURS), (count, height, width))]


def flat_frames(levels, height: int = 16, width: int = 16) -> np.ndarray:
    """One flat grey frame per level (uint8), to tell frames apart after a round trip."""
    return np.stack([np.full((height, width, 3), level, np.uint8) for level in levels])


def read_gif(path) -> tuple[np.ndarray, list[int], dict]:
    """All frames as RGB, every frame's duration in ms, and the first frame's info."""
    with Image.open(path) as image:
        info = dict(image.info)
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            durations.append(frame.info["duration"])
            frames.append(np.asarray(frame.convert("RGB")))
    return np.stack(frames), durations, info


def read_mp4(path) -> tuple[np.ndarray, float]:
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        fps = reader.get_meta_data()["fps"]
        frames = [frame for frame in reader]  # list() asks for len(), which is inf
    return np.stack(frames), fps


def grey_levels(frames: np.ndarray) -> list[int]:
    return [int(round(frame.mean())) for frame in frames]


@pytest.fixture
def no_ipython(monkeypatch):
    """Runs as if outside IPython, whatever runs the tests."""
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)


@pytest.fixture
def notebook(monkeypatch) -> list:
    """Pretends to run in IPython; returns the list of objects passed to ``display``."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **_: shown.extend(objects))
    return shown


# --------------------------------------------------------------------------------------------
# GIF
# --------------------------------------------------------------------------------------------


def test_gif_round_trip_keeps_frames_timing_and_loops_forever(tmp_path, no_ipython):
    frames = few_colour_frames(7)
    path = animate(frames, tmp_path / "walk.gif", fps=10)

    assert path == tmp_path / "walk.gif"
    back, durations, info = read_gif(path)
    with Image.open(path) as image:
        assert image.n_frames == 7
    np.testing.assert_array_equal(back, frames)
    assert durations == [100] * 7
    assert info["loop"] == 0


def test_gif_of_a_photo_is_close_to_the_original(tmp_path, no_ipython):
    from skimage import data, transform

    photo = transform.resize(data.astronaut(), (128, 128)).astype(np.float32)
    frames = np.stack([photo, photo[:, ::-1], 1.0 - photo])
    back, _, _ = read_gif(animate(frames, tmp_path / "photo.gif"))

    error = np.abs(back.astype(np.float32) - np.round(frames * 255.0))
    assert back.shape == (3, 128, 128, 3)
    assert error.mean() < 6.0


@pytest.mark.parametrize("fps", [30, 24, 7.5, 50])
def test_gif_delays_are_right_to_10_ms_and_add_up(tmp_path, no_ipython, fps):
    count = 30
    _, durations, _ = read_gif(animate(flat_frames(range(0, 240, 8)), tmp_path / "t.gif", fps=fps))

    assert len(durations) == count
    assert all(abs(duration - 1000 / fps) <= 10 for duration in durations)
    assert abs(sum(durations) - count * 1000 / fps) <= 10  # errors do not pile up


@pytest.mark.parametrize(("loop", "stored"), [(1, None), (3, 2)])
def test_gif_loop_counts_plays(tmp_path, no_ipython, loop, stored):
    # Browsers read the NETSCAPE count as repeats after the first play; none means play once.
    _, _, info = read_gif(animate(flat_frames([0, 99]), tmp_path / "t.gif", loop=loop))
    assert info.get("loop") == stored


def test_float_uint8_tensor_and_batched_inputs_give_the_same_file(tmp_path, no_ipython):
    import tensorflow as tf

    floats = RNG.random((6, 20, 28, 3)).astype(np.float32)
    uint8 = np.round(floats * 255).astype(np.uint8)
    written = {
        "uint8": animate(uint8, tmp_path / "uint8.gif"),
        "float": animate(floats, tmp_path / "float.gif"),
        "float64": animate(floats.astype(np.float64), tmp_path / "float64.gif"),
        "tensor": animate(tf.constant(floats), tmp_path / "tensor.gif"),
        "list": animate(list(floats), tmp_path / "list.gif"),
        "mixed": animate(iter([floats[:2], floats[2], tf.constant(floats[3:])]),
                         tmp_path / "mixed.gif"),
    }
    expected = written["uint8"].read_bytes()
    assert {name: path.read_bytes() == expected for name, path in written.items()} == \
        dict.fromkeys(written, True)


def test_floats_are_clipped_and_rounded(tmp_path, no_ipython):
    values = [-0.1, 0.0, 0.5, 0.502, 1.0, 1.2]
    frames = np.stack([np.full((8, 8, 3), value, np.float32) for value in values])
    back, _, _ = read_gif(animate(frames, tmp_path / "t.gif"))
    assert grey_levels(back) == [0, 0, 128, 128, 255, 255]


def test_missing_parent_folders_are_created(tmp_path, no_ipython):
    path = animate(flat_frames([0, 50]), tmp_path / "a" / "b" / "walk.gif")
    assert path.is_file()


def test_path_none_writes_a_temporary_file(tmp_path, no_ipython, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gif = animate(flat_frames([0, 50]))
    assert gif.parent == tmp_path and gif.suffix == ".gif" and gif.is_file()
    with Image.open(gif) as image:
        assert image.n_frames == 2


# --------------------------------------------------------------------------------------------
# Boomerang and streaming
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_stream", [False, True], ids=["array", "generator"])
def test_boomerang_goes_back_without_repeating_the_ends(tmp_path, no_ipython, as_stream):
    frames = flat_frames([0, 40, 80, 120, 160])
    source = (frame for frame in frames) if as_stream else frames
    back, _, _ = read_gif(animate(source, tmp_path / "b.gif", boomerang=True))

    assert len(back) == 2 * 5 - 2
    assert grey_levels(back) == [0, 40, 80, 120, 160, 120, 80, 40]


@pytest.mark.parametrize("count", [1, 2])
def test_boomerang_of_one_or_two_frames(tmp_path, no_ipython, count):
    frames = flat_frames([0, 200][:count])
    back, _, _ = read_gif(animate(iter(frames), tmp_path / "b.gif", boomerang=True))
    assert grey_levels(back) == [0, 200][:count]


def test_generator_frames_are_written_as_they_arrive(tmp_path, no_ipython):
    target = tmp_path / "stream.gif"
    frame_count, frame_bytes = 300, 64 * 64 * 3
    bytes_on_disk_while_generating = []

    def frames():
        for index in range(frame_count):
            yield RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
            if index == 250:  # the animation is being written next to its target
                bytes_on_disk_while_generating.append(
                    sum(path.stat().st_size for path in tmp_path.iterdir()))
                assert not target.exists()

    animate(few_colour_frames(2), tmp_path / "warm-up.gif")  # lazy imports, outside the trace
    (tmp_path / "warm-up.gif").unlink()
    tracemalloc.start()
    try:
        animate(frames(), target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    with Image.open(target) as image:
        assert image.n_frames == frame_count
    assert bytes_on_disk_while_generating[0] > 100 * frame_bytes / 10  # >= 100 compressed frames
    assert peak < frame_count * frame_bytes / 4  # never all frames at once


# --------------------------------------------------------------------------------------------
# MP4
# --------------------------------------------------------------------------------------------


def test_mp4_round_trip(tmp_path, no_ipython):
    pytest.importorskip("imageio_ffmpeg")
    levels = list(range(20, 240, 20))
    path = animate(flat_frames(levels, 32, 48), tmp_path / "walk.mp4", fps=10)

    back, fps = read_mp4(path)
    assert back.shape == (len(levels), 32, 48, 3)
    assert fps == pytest.approx(10)
    assert np.abs(np.array(grey_levels(back)) - levels).max() <= 3


def test_mp4_with_an_explicit_format_needs_no_mp4_suffix(tmp_path, no_ipython):
    """The temporary file keeps the target's suffix (none here); ffmpeg is told the container."""
    pytest.importorskip("imageio_ffmpeg")
    path = animate(flat_frames([40, 200], 16, 16), tmp_path / "walk", format="mp4", fps=10)
    assert path == tmp_path / "walk" and [p.name for p in tmp_path.iterdir()] == ["walk"]
    back, _ = read_mp4(path.rename(tmp_path / "walk.mp4"))  # imageio reads by the suffix too
    assert back.shape == (2, 16, 16, 3)


def test_mp4_of_odd_size_is_padded_to_even(tmp_path, no_ipython):
    pytest.importorskip("imageio_ffmpeg")
    frames = np.zeros((6, 109, 89, 3), np.uint8)
    frames[:, :, :44] = (200, 40, 40)  # left half red, right half blue
    frames[:, :, 44:] = (40, 40, 200)
    back, _ = read_mp4(animate(frames, tmp_path / "faces.mp4", boomerang=True))

    assert back.shape == (10, 110, 90, 3)
    error = np.abs(back[:, :109, :89].astype(int) - frames[:1].astype(int))
    assert np.median(error) <= 4


def test_mp4_without_imageio_ffmpeg_says_what_to_install(tmp_path, no_ipython, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # makes the import fail
    consumed = []

    def frames():
        consumed.append(True)
        yield np.zeros((8, 8, 3), np.uint8)

    with pytest.raises(ProganError, match=r"pip install imageio-ffmpeg.*\.gif"):
        animate(frames(), tmp_path / "walk.mp4")
    assert consumed == [] and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_a_failing_stream_leaves_no_partial_file(tmp_path, no_ipython, suffix, existing):
    if suffix == ".mp4":
        pytest.importorskip("imageio_ffmpeg")
    target = tmp_path / f"walk{suffix}"
    if existing:
        target.write_bytes(b"the previous animation")

    def frames():
        for index in range(20):
            if index == 12:
                raise RuntimeError("generator crashed")
            yield RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)

    with pytest.raises(RuntimeError, match="generator crashed"):
        animate(frames(), target)
    assert [path.name for path in tmp_path.iterdir()] == ([target.name] if existing else [])
    if existing:
        assert target.read_bytes() == b"the previous animation"


def test_overwrites_an_existing_file_when_it_succeeds(tmp_path, no_ipython):
    target = tmp_path / "walk.gif"
    target.write_bytes(b"old")
    animate(flat_frames([0, 90, 180]), target)
    with Image.open(target) as image:
        assert image.n_frames == 3
    assert [path.name for path in tmp_path.iterdir()] == ["walk.gif"]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def frames_then(bad_frame, good_count: int = 3):
    yield from flat_frames([10] * good_count, 32, 32)
    yield bad_frame


@pytest.mark.parametrize(("frames", "error", "message"), [
    (np.zeros((0, 8, 8, 3)), ImageLoadError, "frames is empty"),
    (iter([]), ImageLoadError, "frames is empty"),
    (np.zeros((8, 8, 3)), ImageLoadError, r"\(8, 8, 3\).*batch"),
    (np.zeros((2, 8, 8, 4)), ImageLoadError, r"frame 0 has shape \(8, 8, 4\)"),
    (frames_then(np.full((32, 32, 3), np.nan, np.float32)), ImageLoadError, "frame 3 holds NaN"),
    (frames_then(np.zeros((32, 30, 3), np.uint8)), ImageLoadError,
     r"frame 3 is 32x30 .* frame 0 is 32x32"),
    (frames_then(np.zeros((2, 16, 16, 3), np.uint8), good_count=5), ImageLoadError,
     r"frame 5 is 16x16"),
    (np.full((2, 8, 8, 3), 255.0), ImageLoadError, "divide 0..255 data by 255"),
    (np.full((2, 8, 8, 3), -1.0), ImageLoadError, r"\(x \+ 1\) / 2"),
    (np.full((2, 8, 8, 3), 300, np.int32), ImageLoadError, "outside 0..255"),
    ("walk.gif", ImageLoadError, "frames must be an array or an iterable"),
    (42, ImageLoadError, "got int"),
], ids=["empty-array", "empty-stream", "one-image", "rgba", "nan", "size-change",
        "size-change-in-batch", "0..255-floats", "minus-one-floats", "int-range", "str", "int"])
def test_bad_frames(tmp_path, no_ipython, frames, error, message):
    with pytest.raises(error, match=message):
        animate(frames, tmp_path / "bad.gif")
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file


@pytest.mark.parametrize(("options", "message"), [
    ({"path": "walk.png"}, r"'walk.png'.*end it with \.gif or \.mp4"),
    ({"path": "walk"}, "end it with .gif or .mp4"),
    ({"path": "walk.gif", "format": "mp4"}, "ends in .gif but format='mp4'"),
    ({"format": "avi"}, "format='avi' is not supported"),
    ({"fps": 0}, "fps must be a finite number > 0. Received: fps=0"),
    ({"fps": -5}, "fps must be a finite number > 0"),
    ({"fps": math.nan}, "fps must be a finite number > 0"),
    ({"fps": "25"}, "fps must be a finite number > 0. Received: fps='25'"),
    ({"fps": 60}, r"too fast for a GIF.*fps<=50 or an \.mp4"),
    ({"loop": -1}, r"loop must be a whole number in \[0, 65536\]. Received: loop=-1"),
    ({"loop": 1.5}, r"loop must be a whole number in \[0, 65536\]"),
    ({"loop": 65537}, "Received: loop=65537"),
    ({"quality": 11}, "quality must be a finite number >= 0 and <= 10. Received: quality=11"),
])
def test_bad_options(tmp_path, no_ipython, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OptionError, match=message):
        animate(flat_frames([0, 9]), **options)
    assert list(tmp_path.iterdir()) == []


def test_a_suffixless_path_is_fine_with_an_explicit_format(tmp_path, no_ipython):
    path = animate(flat_frames([0, 9]), tmp_path / "walk", format="GIF")
    with Image.open(path) as image:
        assert image.format == "GIF" and image.n_frames == 2


# --------------------------------------------------------------------------------------------
# Inline display
# --------------------------------------------------------------------------------------------


def test_gif_is_shown_inline_in_a_notebook(tmp_path, notebook):
    from IPython.display import Image as IPythonImage

    path = animate(flat_frames([0, 99]), tmp_path / "walk.gif")

    assert len(notebook) == 1
    assert isinstance(notebook[0], IPythonImage)
    assert notebook[0].format == "gif"
    assert notebook[0].data == path.read_bytes()


def test_mp4_is_embedded_as_a_looping_video(tmp_path, notebook):
    pytest.importorskip("imageio_ffmpeg")
    from IPython.display import Video

    animate(flat_frames([0, 99], 32, 32), tmp_path / "walk.mp4")

    assert len(notebook) == 1 and isinstance(notebook[0], Video)
    markup = notebook[0]._repr_html_()
    assert "data:video/mp4;base64," in markup
    assert "loop" in markup and "autoplay" in markup


def test_nothing_is_shown_with_display_false_or_outside_ipython(tmp_path, notebook, monkeypatch):
    animate(flat_frames([0, 99]), tmp_path / "quiet.gif", display=False)
    assert notebook == []

    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    animate(flat_frames([0, 99]), tmp_path / "script.gif")
    assert notebook == []


def test_big_files_are_named_not_embedded(tmp_path, notebook, monkeypatch):
    from IPython.display import HTML

    monkeypatch.setattr(animation, "MAX_EMBED_BYTES", 100)
    path = animate(few_colour_frames(3), tmp_path / "big <walk>.gif")

    assert len(notebook) == 1 and isinstance(notebook[0], HTML)
    assert "too big to show inline" in notebook[0].data
    assert "big &lt;walk&gt;.gif" in notebook[0].data  # the path, escaped
    assert path.stat().st_size > 100
