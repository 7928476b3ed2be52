"""Tests for progan_tf.images: every kind of source, every pixel format, every failure."""

import datetime
import http.server
import io
import os
import socket
import stat
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from progan_tf.errors import ImageLoadError, OptionError
from progan_tf.images import (
    area_resize,
    crop_box,
    crop_image,
    from_signed_unit,
    load_image,
    parse_size,
    save_image,
    to_uint8,
)

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def halves(width: int, height: int, left=RED, right=BLUE) -> Image.Image:
    """An RGB picture whose left half is ``left`` and right half ``right``."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:, : width // 2] = left
    pixels[:, width // 2:] = right
    return Image.fromarray(pixels)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but that holds almost no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture
def sample_png(tmp_path) -> Path:
    path = tmp_path / "sample.png"
    halves(8, 4).save(path)
    return path


def assert_halves(image: np.ndarray, left=RED, right=BLUE, atol=0.02):
    width = image.shape[1]
    np.testing.assert_allclose(image[:, : width // 2], np.broadcast_to(np.array(left) / 255,
                               image[:, : width // 2].shape), atol=atol)
    np.testing.assert_allclose(image[:, width // 2:], np.broadcast_to(np.array(right) / 255,
                               image[:, width // 2:].shape), atol=atol)


# ------------------------------------------------------------------------------------------
# Sources
# ------------------------------------------------------------------------------------------


def test_path_str_and_pathlike(sample_png):
    for source in (str(sample_png), sample_png):
        image = load_image(source)
        assert image.shape == (4, 8, 3) and image.dtype == np.float32
        assert_halves(image, atol=0)


def test_bytes_bytearray_memoryview(sample_png):
    data = sample_png.read_bytes()
    for source in (data, bytearray(data), memoryview(data)):
        assert_halves(load_image(source), atol=0)


def test_file_objects_are_read_and_left_open(sample_png):
    buffer = io.BytesIO(sample_png.read_bytes())
    assert_halves(load_image(buffer), atol=0)
    assert not buffer.closed
    with open(sample_png, "rb") as file:
        assert_halves(load_image(file), atol=0)
        assert not file.closed


def test_colab_upload_dict(sample_png):
    upload = {"sample.png": sample_png.read_bytes()}
    assert_halves(load_image(upload), atol=0)


def test_colab_upload_with_several_files_needs_a_name(sample_png):
    other = encode(halves(6, 6, GREEN, GREEN))
    upload = {"sample.png": sample_png.read_bytes(), "green.png": other}
    with pytest.raises(ImageLoadError, match=r"2 files .*'sample.png', 'green.png'.*name="):
        load_image(upload)
    assert_halves(load_image(upload, name="green.png"), GREEN, GREEN, atol=0)
    with pytest.raises(ImageLoadError, match="no uploaded file is named 'cat.jpg'"):
        load_image(upload, name="cat.jpg")


def test_empty_upload_is_refused():
    with pytest.raises(ImageLoadError, match="upload is empty"):
        load_image({})
    with pytest.raises(ImageLoadError, match="upload is empty"):
        load_image(())


def upload_entry(name: str, data: bytes) -> dict:
    return {"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)}


def test_ipywidgets8_value_tuple_and_single_entry(sample_png):
    value = (upload_entry("sample.png", sample_png.read_bytes()),)
    assert_halves(load_image(value), atol=0)
    assert_halves(load_image(value[0]), atol=0)


def test_ipywidgets7_value_dict(sample_png):
    value = {"sample.png": {"metadata": {"name": "sample.png", "type": "image/png"},
                            "content": sample_png.read_bytes()}}
    assert_halves(load_image(value), atol=0)


def test_upload_widget_objects(sample_png):
    class FakeUpload:  # what load_image sees of an ipywidgets 7 FileUpload
        value = {"sample.png": {"metadata": {}, "content": sample_png.read_bytes()}}

    assert_halves(load_image(FakeUpload()), atol=0)

    widgets = pytest.importorskip("ipywidgets")
    widget = widgets.FileUpload()
    widget.value = (upload_entry("sample.png", sample_png.read_bytes()),)
    assert_halves(load_image(widget), atol=0)


def test_upload_holding_no_bytes_is_refused():
    with pytest.raises(ImageLoadError, match="upload 'a.png' holds a str"):
        load_image({"a.png": "not bytes"})


def test_numpy_arrays_of_each_dtype_and_layout():
    gray = np.full((3, 5), 51, np.uint8)
    np.testing.assert_allclose(load_image(gray), np.full((3, 5, 3), 0.2), atol=1e-6)
    wide = np.full((3, 5, 3), 32768, np.uint16)
    np.testing.assert_allclose(load_image(wide), 32768 / 65535, atol=1e-6)
    floats = np.full((3, 5, 3), 0.25, np.float64)
    out = load_image(floats)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 0.25)
    rgba = np.zeros((2, 2, 4), np.uint8)  # transparent black becomes white
    np.testing.assert_allclose(load_image(rgba), 1.0)


def test_array_input_is_not_modified():
    pixels = np.full((4, 4, 3), 0.5, np.float32)
    load_image(pixels, size=2)
    assert pixels.shape == (4, 4, 3) and np.all(pixels == 0.5)


def test_pil_image_source():
    image = halves(8, 4)
    assert_halves(load_image(image), atol=0)
    assert image.size == (8, 4)


def test_tensorflow_tensors_are_accepted():
    tf = pytest.importorskip("tensorflow")
    tensor = tf.constant(np.full((1, 4, 6, 3), 0.5, np.float32))
    assert load_image(tensor[0]).shape == (4, 6, 3)
    assert to_uint8(tensor).shape == (1, 4, 6, 3)
    assert to_uint8(tensor).max() == 128


@pytest.mark.parametrize("bad, message", [
    (np.full((4, 4, 3), 200.0), r"floats up to 200.*divide 0\.\.255 data by 255"),
    (np.full((4, 4, 3), -1.0), r"floats down to -1.*\(x \+ 1\) / 2"),
    (np.full((4, 4, 3), np.nan), "NaN"),
    (np.zeros((3, 64, 64)), r"shape \(3, 64, 64\)"),
    (np.full((4, 4, 3), 300, np.int64), "outside 0..255"),
])
def test_bad_arrays_are_refused(bad, message):
    with pytest.raises(ImageLoadError, match=message):
        load_image(bad)


def test_unsupported_source_type():
    with pytest.raises(ImageLoadError, match="cannot load an image from a int"):
        load_image(12345)
    with pytest.raises(ImageLoadError, match=r"list of list.*np\.asarray"):
        load_image([[0, 1], [1, 0]])


# ------------------------------------------------------------------------------------------
# URLs
# ------------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    png = encode(halves(8, 4))
    release = threading.Event()

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # http.server's name
        try:
            if self.path == "/sample.png":
                self._reply(200, self.png, len(self.png))
            elif self.path == "/big-header":
                self._reply(200, b"x" * 1000, 10_000_000)
            elif self.path == "/big-stream":
                self._reply(200, b"x" * 300_000, None)
            elif self.path.startswith("/redirect"):
                self.send_response(302)
                target = "/sample.png" if self.path == "/redirect" else "ftp://127.0.0.1/a.png"
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/slow":
                self.release.wait(5)
                self._reply(200, self.png, len(self.png))
            else:
                self.send_error(404, "Not Found")
        except OSError:  # the client gave up first, as intended
            pass

    def _reply(self, status, body, length):
        self.send_response(status)
        self.send_header("Content-Type", "image/png")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Handler.release.set()
    server.shutdown()
    server.server_close()


def test_url_download(server_url):
    assert_halves(load_image(f"{server_url}/sample.png"), atol=0)


def test_url_redirects_only_to_http(server_url):
    assert_halves(load_image(f"{server_url}/redirect"), atol=0)
    with pytest.raises(ImageLoadError, match=r"refusing to follow .* to ftp://127\.0\.0\.1/a\.png"):
        load_image(f"{server_url}/redirect-ftp")


def test_url_http_error(server_url):
    with pytest.raises(ImageLoadError, match=r"/missing\.png failed with HTTP 404"):
        load_image(f"{server_url}/missing.png")


def test_url_too_large_by_header_and_by_stream(server_url):
    with pytest.raises(ImageLoadError, match=r"/big-header is larger than .*100000 bytes"):
        load_image(f"{server_url}/big-header", max_download_bytes=100_000)
    with pytest.raises(ImageLoadError, match=r"/big-stream is larger than .*100000 bytes"):
        load_image(f"{server_url}/big-stream", max_download_bytes=100_000)


def test_url_timeout(server_url):
    with pytest.raises(ImageLoadError, match=r"/slow took longer than 0\.3 s"):
        load_image(f"{server_url}/slow", timeout=0.3)


def test_url_unreachable():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ImageLoadError, match=f"could not reach http://127.0.0.1:{port}/x.png"):
        load_image(f"http://127.0.0.1:{port}/x.png", timeout=2)


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd",
                                 "FILE:///etc/hosts"])
def test_other_url_schemes_are_refused(url):
    with pytest.raises(ImageLoadError, match=r"refusing to load .*only http:// and https://"):
        load_image(url)


# ------------------------------------------------------------------------------------------
# Pixel formats
# ------------------------------------------------------------------------------------------


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display after rotating 90 degrees clockwise
    data = encode(halves(40, 20), "JPEG", exif=exif, quality=95)
    image = load_image(data)
    assert image.shape == (40, 20, 3)
    # Rotating clockwise moves the stored left half (red) to the top.
    np.testing.assert_allclose(image[:16].mean(axis=(0, 1)), [1, 0, 0], atol=0.05)
    np.testing.assert_allclose(image[24:].mean(axis=(0, 1)), [0, 0, 1], atol=0.05)


def test_exif_orientation_with_resize_of_large_jpeg():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(halves(800, 400), "JPEG", exif=exif, quality=95)
    image = load_image(data, size=(64, 32))
    assert image.shape == (64, 32, 3)
    np.testing.assert_allclose(image[:28].mean(axis=(0, 1)), [1, 0, 0], atol=0.05)
    np.testing.assert_allclose(image[36:].mean(axis=(0, 1)), [0, 0, 1], atol=0.05)


def test_large_jpeg_is_downscaled_while_decoding(monkeypatch):
    from PIL import JpegImagePlugin

    requested = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        requested.append(size)
        return original_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    exif = Image.Exif()
    exif[0x0112] = 6
    load_image(encode(halves(800, 400), "JPEG", exif=exif), size=(64, 32))
    # Upright 64x32 (h x w) is 32x64 in the sideways stored frame: 800x400 shrinks 12.5 times.
    assert requested == [(64, 32)]
    load_image(encode(halves(80, 40), "JPEG"), size=(64, 32))  # less than 2x: decoded in full
    assert requested == [(64, 32)]


def test_rgba_is_composited_on_white():
    pixels = np.array([[[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 0, 128]]], np.uint8)
    image = load_image(encode(Image.fromarray(pixels, "RGBA")))
    np.testing.assert_allclose(image[0, 0], [1, 1, 1])  # fully transparent -> white
    np.testing.assert_allclose(image[0, 1], [1, 0, 0])  # opaque -> unchanged
    np.testing.assert_allclose(image[0, 2], [1 - 128 / 255] * 3, atol=1e-6)  # half -> grey


def test_gray_alpha_is_composited_on_white():
    pixels = np.array([[[0, 0], [0, 255]]], np.uint8)
    image = load_image(encode(Image.fromarray(pixels, "LA")))
    np.testing.assert_allclose(image[0], [[1, 1, 1], [0, 0, 0]])


def test_palette_with_transparency():
    palette_image = Image.new("P", (2, 1))
    palette_image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette_image.putpixel((0, 0), 0)
    palette_image.putpixel((1, 0), 1)
    image = load_image(encode(palette_image, transparency=0))
    np.testing.assert_allclose(image[0], [[1, 1, 1], [0, 0, 1]])


def test_palette_without_transparency():
    image = load_image(halves(8, 4).quantize(4))
    assert_halves(image, atol=0)


def test_grayscale_and_bilevel():
    gray = load_image(encode(Image.new("L", (3, 2), 128)))
    assert gray.shape == (2, 3, 3)
    np.testing.assert_allclose(gray, 128 / 255, atol=1e-6)
    bilevel = Image.new("1", (2, 1))
    bilevel.putpixel((1, 0), 1)
    np.testing.assert_allclose(load_image(encode(bilevel))[0], [[0, 0, 0], [1, 1, 1]])


def test_sixteen_bit_png_is_scaled_not_clipped():
    pixels = np.array([[65535, 32768, 0, 255]], np.uint16)
    image = load_image(encode(Image.fromarray(pixels)))
    np.testing.assert_allclose(image[0, :, 0], [1.0, 32768 / 65535, 0.0, 255 / 65535], atol=1e-6)
    assert np.all(image[..., 0] == image[..., 2])


def test_float_tiff():
    image = load_image(encode(Image.fromarray(np.full((2, 2), 0.25, np.float32), "F"), "TIFF"))
    np.testing.assert_allclose(image, 0.25)


def test_cmyk_jpeg():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")  # no cyan/black: red
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    np.testing.assert_allclose(load_image(data).mean(axis=(0, 1)), [1, 0, 0], atol=0.03)


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (4, 4), RED), Image.new("RGB", (4, 4), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    np.testing.assert_allclose(load_image(data), np.broadcast_to([1.0, 0, 0], (4, 4, 3)))


# ------------------------------------------------------------------------------------------
# Crop and resize
# ------------------------------------------------------------------------------------------


def bands() -> Image.Image:
    """200x100: green | red | blue | green, 50 columns each."""
    pixels = np.zeros((100, 200, 3), np.uint8)
    for index, color in enumerate((GREEN, RED, BLUE, GREEN)):
        pixels[:, 50 * index:50 * (index + 1)] = color
    return Image.fromarray(pixels)


def test_center_crop_keeps_the_middle():
    image = load_image(encode(bands()), size=20)
    assert image.shape == (20, 20, 3) and image.dtype == np.float32
    assert image[..., 1].max() < 0.05  # no green: both outer bands were cropped away
    np.testing.assert_allclose(image[:, :8].mean(axis=(0, 1)), [1, 0, 0], atol=0.02)
    np.testing.assert_allclose(image[:, 12:].mean(axis=(0, 1)), [0, 0, 1], atol=0.02)


def test_plain_resize_squeezes_everything_in():
    image = load_image(encode(bands()), size=20, crop=None)
    assert image.shape == (20, 20, 3)
    np.testing.assert_allclose(image[:, :4].mean(axis=(0, 1)), [0, 1, 0], atol=0.05)
    np.testing.assert_allclose(image[:, -4:].mean(axis=(0, 1)), [0, 1, 0], atol=0.05)


def test_height_width_size_and_crop_to_tall_aspect():
    assert load_image(encode(bands()), size=(50, 100)).shape == (50, 100, 3)
    tall = load_image(encode(bands()), size=(40, 20))  # keeps the middle 50 columns
    assert tall.shape == (40, 20, 3)
    assert tall[..., 1].max() < 0.05


def test_resize_output_stays_in_range():
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    image = load_image(noise, size=(100, 30))
    assert image.min() >= 0 and image.max() <= 1 and image.dtype == np.float32


def test_astronaut_jpeg_loads_like_a_direct_resize():
    skimage_data = pytest.importorskip("skimage.data")
    from skimage.transform import resize

    astronaut = skimage_data.astronaut()  # 512x512 uint8 face photo
    loaded = load_image(encode(Image.fromarray(astronaut), "JPEG", quality=95), size=64)
    reference = resize(astronaut / 255.0, (64, 64), anti_aliasing=True)
    assert loaded.shape == (64, 64, 3)
    assert np.abs(loaded - reference).mean() < 0.03


def reference_celeba_box(height: int, width: int) -> tuple[int, int, int, int]:
    """The CelebA crop as training computed it before crop_box existed (float32, half-even)."""
    f32 = np.float32
    height, width = f32(height), f32(width)
    side = min(np.round(width * f32(128.0) / f32(178.0)), height)
    top = np.clip(np.round(height * f32(121.0) / f32(218.0) - side / f32(2)), f32(0), height - side)
    return int(top), int(np.round((width - side) / f32(2))), int(side), int(side)


def test_crop_box_celeba_is_the_papers_square_at_every_size():
    assert crop_box(218, 178, "celeba") == (57, 25, 128, 128)   # aligned CelebA
    assert crop_box(109, 89, "celeba") == (28, 12, 64, 64)      # the 89x109 sample
    for height in range(20, 260, 7):
        for width in range(20, 260, 11):
            assert crop_box(height, width, "celeba") == reference_celeba_box(height, width)


def test_crop_box_center_and_none():
    assert crop_box(100, 200) == (0, 50, 100, 100)
    assert crop_box(200, 100, "center") == (50, 0, 100, 100)
    assert crop_box(100, 200, "center", aspect=2.0) == (0, 0, 100, 200)
    assert crop_box(100, 200, "center", aspect=0.5) == (0, 75, 100, 50)
    # Margins are halved rounding half to even, as training data always was.
    assert crop_box(100, 103) == (0, 2, 100, 100) and crop_box(100, 101) == (0, 0, 100, 100)
    assert crop_box(37, 51, "none") == (0, 0, 37, 51)


@pytest.mark.parametrize("call, message", [
    (lambda: crop_box(10, 10, "top"), r"crop must be one of 'center', 'celeba', 'none'"),
    (lambda: crop_box(10, 10, "center", aspect=0), "aspect must be a finite number > 0"),
    (lambda: crop_box(10, 10, "celeba", aspect=2), "crop='celeba' cuts a square"),
])
def test_crop_box_refuses_bad_options(call, message):
    with pytest.raises(OptionError, match=message):
        call()


def test_crop_image_cuts_images_and_batches():
    batch = np.arange(2 * 6 * 10 * 3).reshape(2, 6, 10, 3)
    np.testing.assert_array_equal(crop_image(batch), batch[:, :, 2:8])
    np.testing.assert_array_equal(crop_image(batch[0], "none"), batch[0])


@pytest.fixture
def celeba_sized_photo(tmp_path) -> Path:
    """A 356x436 JPEG (twice aligned CelebA): big enough for the JPEG decoder's draft mode."""
    rng = np.random.default_rng(5)
    rows = np.linspace(0, 255, 436)[:, None, None]
    pixels = np.clip(rows + rng.normal(0, 30, (436, 356, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    return path


@pytest.mark.parametrize("resolution", [32, 64])
def test_celeba_crop_frames_a_photo_exactly_as_training_does(celeba_sized_photo, resolution):
    data = pytest.importorskip("progan_tf.training.data")
    trained, upscaled = data.decode_training_image(celeba_sized_photo, resolution, crop="celeba")
    loaded = load_image(celeba_sized_photo, size=resolution, crop="celeba")
    assert loaded.dtype == np.float32 and not upscaled
    # Training rounds to uint8 once; the float image rounds to the very same pixels.
    np.testing.assert_array_equal(to_uint8(loaded), trained)
    uncropped = load_image(celeba_sized_photo, crop="celeba")  # no size: the square itself
    assert uncropped.shape == (256, 256, 3)
    np.testing.assert_array_equal(area_resize(uncropped, (resolution, resolution)), loaded)


def test_crop_none_is_crop_none_by_name(sample_png):
    np.testing.assert_array_equal(load_image(sample_png, size=4, crop="none"),
                                  load_image(sample_png, size=4, crop=None))


@pytest.mark.parametrize("size, crop, message", [
    (0, "center", "size must be"),
    ((1, 2, 3), "center", "size must be"),
    ((64, -1), "center", "size must be"),
    (64.0, "center", "size must be"),
    ("64", "center", "size must be"),
    (64, "top", r"crop must be one of 'center', 'celeba', 'none'. Received: crop='top'"),
    ((64, 32), "celeba", r"crop='celeba' cuts CelebA's square, but size=\(64, 32\)"),
])
def test_bad_size_or_crop(sample_png, size, crop, message):
    with pytest.raises(OptionError, match=message):
        load_image(sample_png, size=size, crop=crop)


# ------------------------------------------------------------------------------------------
# Bad files
# ------------------------------------------------------------------------------------------


def test_header_over_max_pixels_is_refused_before_decoding():
    # 81 megapixels but no pixel data: decoding would fail differently (truncated data).
    with pytest.raises(ImageLoadError, match=r"9000x9000 .* more than max_pixels=64,000,000"):
        load_image(png_header_only(9000, 9000))


def test_pillow_decompression_bomb_error_is_converted():
    with pytest.raises(ImageLoadError, match=r"<bytes> is too large to decode safely"):
        load_image(png_header_only(100_000, 100_000), max_pixels=10**12)


def test_small_max_pixels(sample_png):
    with pytest.raises(ImageLoadError, match=r"sample\.png' is 8x4 = 32 pixels.*max_pixels=31"):
        load_image(sample_png, max_pixels=31)
    assert load_image(sample_png, max_pixels=32).shape == (4, 8, 3)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match=r"'nope\.png' does not exist \(relative to"):
        load_image("nope.png")
    with pytest.raises(ImageLoadError, match=r"gone\.jpg' does not exist; check"):
        load_image(tmp_path / "gone.jpg")


def test_directory(tmp_path):
    with pytest.raises(ImageLoadError, match=f"{tmp_path.name}' is a folder, not an image"):
        load_image(tmp_path)


def test_empty_file_and_empty_bytes(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png' is empty \(0 bytes\)"):
        load_image(tmp_path / "empty.png")
    with pytest.raises(ImageLoadError, match=r"<bytes> is empty"):
        load_image(b"")


def test_text_file_is_not_an_image(tmp_path):
    (tmp_path / "notes.txt").write_text("hello, not a picture\n")
    with pytest.raises(ImageLoadError, match=r"notes\.txt' is not an image file"):
        load_image(tmp_path / "notes.txt")
    with pytest.raises(ImageLoadError, match=r"<bytes> is not an image file"):
        load_image(b"GIF? no")


@pytest.mark.parametrize("image_format, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_file(tmp_path, image_format, suffix):
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), image_format)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match=rf"cut\{suffix}'.*truncated or corrupt"):
        load_image(path)


def test_truncated_file_object_is_named(tmp_path):
    data = encode(Image.fromarray(np.zeros((64, 64, 3), np.uint8)), "JPEG")
    path = tmp_path / "half.jpg"
    path.write_bytes(data[: len(data) // 2])
    with open(path, "rb") as file, pytest.raises(ImageLoadError, match=r"half\.jpg'"):
        load_image(file)


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def test_to_uint8_rounds_and_clips():
    out = to_uint8(np.array([0.0, 0.5, 1.0, 1.2, -0.1, 0.002]))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 128, 255, 255, 0, 1]
    already = np.zeros((2, 2, 3), np.uint8)
    assert to_uint8(already) is already
    assert to_uint8(np.zeros((5, 4, 4, 3))).shape == (5, 4, 4, 3)


def test_save_image_round_trip_png_and_jpeg(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    path = save_image(pixels, tmp_path / "sub" / "out.png")
    assert path == tmp_path / "sub" / "out.png"
    np.testing.assert_array_equal(np.asarray(Image.open(path)), pixels)
    np.testing.assert_allclose(load_image(path), pixels / 255, atol=1e-6)

    smooth = np.linspace(0, 1, 16 * 24 * 3, dtype=np.float32).reshape(16, 24, 3)
    save_image(smooth, tmp_path / "out.jpg")
    assert Image.open(tmp_path / "out.jpg").format == "JPEG"
    assert np.abs(load_image(tmp_path / "out.jpg") - smooth).mean() < 0.03
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg", "sub"]  # no temp files


def test_save_image_overwrites_with_normal_permissions(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    save_image(np.zeros((2, 2, 3)), path)
    reference = tmp_path / "reference.txt"
    reference.write_text("made with open()")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)
    assert Image.open(path).size == (2, 2)


def test_save_image_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    path.write_bytes(b"previous contents")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(np.zeros((2, 2, 3)), path)
    assert path.read_bytes() == b"previous contents"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_save_image_bad_input(tmp_path):
    with pytest.raises(ImageLoadError, match=r"out\.xyz'; end it with \.png or \.jpg"):
        save_image(np.zeros((2, 2, 3)), tmp_path / "out.xyz")
    with pytest.raises(ImageLoadError, match="use make_grid or show_grid for batches"):
        save_image(np.zeros((4, 2, 2, 3)), tmp_path / "batch.png")
    assert list(tmp_path.iterdir()) == []


def test_parse_size_is_public():
    assert parse_size(None) is None and parse_size(4) == (4, 4) and parse_size((2, 3)) == (2, 3)
    with pytest.raises(OptionError, match="size must be None, a positive int or"):
        parse_size((0, 3))


def test_from_signed_unit_maps_numpy_and_tensors_and_clips():
    values = np.array([-1.5, -1.0, 0.0, 0.5, 1.0, 1.2], np.float32)
    expected = [0.0, 0.0, 0.5, 0.75, 1.0, 1.0]
    np.testing.assert_allclose(from_signed_unit(values), expected)
    tf = pytest.importorskip("tensorflow")
    tensor = from_signed_unit(tf.constant(values))
    assert tf.is_tensor(tensor) and tensor.dtype == tf.float32
    np.testing.assert_allclose(tensor.numpy(), expected)
    graph = tf.function(from_signed_unit)  # graph-safe: a generator's output stays on device
    np.testing.assert_allclose(graph(tf.constant(values)).numpy(), expected)

