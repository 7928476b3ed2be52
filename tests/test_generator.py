"""Tests for progan_tf.generator (loading, calling, errors) and progan_tf.testing (stand-ins)."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from progan_tf import loading as loading_module
from progan_tf import testing
from progan_tf.downloads import import_tensorflow_hub
from progan_tf.errors import LatentError, ModelLoadError
from progan_tf.generator import PROGAN_128, PROGAN_128_KAGGLE, Generator, load_generator

hub = import_tensorflow_hub()

KAGGLE_HANDLE = "google/progan-128/tensorFlow1/progan-128/1"


def latents(n, dim=512, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(dtype)


class CountingSignature:
    """Stands in for a signature and records the batch size of every call."""

    def __init__(self, signature):
        self.signature = signature
        self.batch_sizes = []

    def __call__(self, **inputs):
        (z,) = inputs.values()
        self.batch_sizes.append(int(z.shape[0]))
        return self.signature(**inputs)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty TFHUB_CACHE_DIR, no kagglehub, and a network that fails as it does offline.

    Every host name lookup except 127.0.0.1's fails with the DNS error an offline machine gives;
    ``requested`` records the names looked up.
    """
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # as if not installed
    requested = []
    real_getaddrinfo = socket.getaddrinfo

    def offline_getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real_getaddrinfo(host, *args, **kwargs)
        requested.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline_getaddrinfo)
    return SimpleNamespace(path=cache, requested=requested)


def cached_folder(cache: Path, url: str) -> Path:
    return cache / hashlib.sha1(url.encode("utf8")).hexdigest()


def save_module(path: Path, module: tf.Module, signatures=None) -> str:
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)


# --------------------------------------------------------------------------------------------
# Stand-in models (progan_tf.testing)
# --------------------------------------------------------------------------------------------


def test_tf1_stand_in_has_progan128_hub_interface(tf1_hub_module_dir):
    assert (tf1_hub_module_dir / "tfhub_module.pb").is_file()
    loaded = hub.load(str(tf1_hub_module_dir))
    signature = loaded.signatures["default"]
    args, kwargs = signature.structured_input_signature
    assert args == ()
    assert list(kwargs) == ["default"]
    assert kwargs["default"].shape.as_list() == [None, 512]
    assert kwargs["default"].dtype == tf.float32
    assert list(signature.structured_outputs) == ["default"]
    assert signature.structured_outputs["default"].shape.as_list() == [None, 128, 128, 3]
    images = signature(default=tf.constant(latents(3)))["default"].numpy()
    assert images.shape == (3, 128, 128, 3)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert images.std() > 0.05  # not a constant image
    assert not np.allclose(images[0], images[1])  # depends on the latent


def test_stand_ins_are_deterministic_per_seed(tmp_path):
    kwargs = dict(latent_dim=8, image_shape=(8, 8, 3))
    paths = [testing.build_tf2_saved_model(tmp_path / "a", seed=1, **kwargs),
             testing.build_tf2_saved_model(tmp_path / "b", seed=1, **kwargs),
             testing.build_tf2_saved_model(tmp_path / "c", seed=2, **kwargs)]
    z = latents(2, dim=8)
    a, b, c = (load_generator(p)(z).numpy() for p in paths)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_stand_in_supports_odd_image_sizes(tmp_path):
    path = testing.build_tf1_hub_module(tmp_path / "m", latent_dim=16, image_shape=(20, 36, 3))
    generator = load_generator(path)
    assert generator.image_shape == (20, 36, 3)
    assert generator(latents(2, dim=16)).shape == (2, 20, 36, 3)


def test_builders_refuse_non_empty_folder(tf2_saved_model_dir):
    with pytest.raises(FileExistsError, match="already exists"):
        testing.build_tf2_saved_model(tf2_saved_model_dir)


def test_builder_refuses_empty_output_range(tmp_path):
    with pytest.raises(ValueError, match="low < high"):
        testing.build_tf2_saved_model(tmp_path / "m", output_range=(1.0, 0.0))


# --------------------------------------------------------------------------------------------
# Loading and calling
# --------------------------------------------------------------------------------------------


def test_load_tf1_hub_module_reads_interface(tf1_hub_module_dir):
    generator = load_generator(tf1_hub_module_dir)
    assert generator.latent_dim == 512
    assert generator.image_shape == (128, 128, 3)
    assert (generator.input_key, generator.output_key) == ("default", "default")
    assert generator.output_keys == ("default",)
    assert generator.chunk_size == 32
    assert generator.handle == str(tf1_hub_module_dir)
    text = repr(generator)
    assert str(tf1_hub_module_dir) in text and "512" in text and "(128, 128, 3)" in text


def test_generator_matches_plain_hub_signature(stand_in_generator, tf1_hub_module_dir):
    z = latents(4, seed=3)
    expected = hub.load(str(tf1_hub_module_dir)).signatures["default"](default=tf.constant(z))
    images = stand_in_generator(z)
    assert images.dtype == tf.float32
    np.testing.assert_allclose(images.numpy(), expected["default"].numpy(), atol=1e-6)


def test_load_tf2_saved_model_with_other_keys(tf2_saved_model_dir):
    generator = load_generator(str(tf2_saved_model_dir))
    assert generator.latent_dim == 64
    assert generator.image_shape == (32, 32, 3)
    assert (generator.input_key, generator.output_key) == ("z", "images")
    assert generator(latents(5, dim=64)).shape == (5, 32, 32, 3)


def test_single_vector_gives_batch_of_one(stand_in_generator):
    z = latents(3, seed=4)
    single = stand_in_generator(z[1])
    assert single.shape == (1, 128, 128, 3)
    np.testing.assert_allclose(single.numpy()[0], stand_in_generator(z).numpy()[1], atol=1e-5)


def test_numpy_float64_tensors_and_lists_agree(stand_in_generator):
    z = latents(2, seed=5)
    reference = stand_in_generator(z).numpy()
    for variant in (z.astype(np.float64), tf.constant(z), tf.constant(z, tf.float64), z.tolist(),
                    tf.Variable(z)):
        np.testing.assert_allclose(stand_in_generator(variant).numpy(), reference, atol=1e-5)


def test_empty_batch_gives_empty_images(stand_in_generator):
    assert stand_in_generator(np.zeros((0, 512), np.float32)).shape == (0, 128, 128, 3)


def test_large_batches_run_in_chunks(tf1_hub_module_dir):
    generator = load_generator(tf1_hub_module_dir, chunk_size=4)
    whole = generator(latents(10, seed=6), chunk_size=64).numpy()
    counter = CountingSignature(generator.signature)
    generator.signature = counter
    chunked = generator(latents(10, seed=6))
    assert counter.batch_sizes == [4, 4, 2]
    np.testing.assert_allclose(chunked.numpy(), whole, atol=1e-5)
    counter.batch_sizes.clear()
    generator(latents(7, seed=6), chunk_size=3)
    assert counter.batch_sizes == [3, 3, 1]


def test_iter_images_streams_numpy_chunks(tf1_hub_module_dir):
    generator = load_generator(tf1_hub_module_dir)
    z = latents(7, seed=7)
    expected = generator(z).numpy()
    counter = CountingSignature(generator.signature)
    generator.signature = counter
    chunks = generator.iter_images(z, chunk_size=3)
    assert counter.batch_sizes == []  # nothing runs until the chunks are asked for
    first = next(chunks)
    assert isinstance(first, np.ndarray) and first.shape == (3, 128, 128, 3)
    assert counter.batch_sizes == [3]
    rest = list(chunks)
    assert [c.shape[0] for c in rest] == [3, 1]
    assert max(counter.batch_sizes) <= 3
    np.testing.assert_allclose(np.concatenate([first, *rest]), expected, atol=1e-5)


def test_iter_images_validates_before_generating(stand_in_generator):
    with pytest.raises(LatentError, match="expects latents of size 512, got 3"):
        stand_in_generator.iter_images(np.zeros((4, 3), np.float32))  # no next() needed


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_gradients_flow_to_latent_variable(stand_in_generator, dtype):
    z = tf.Variable(latents(2, seed=8), dtype=dtype)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(stand_in_generator(z))
    gradient = tape.gradient(loss, z)
    assert gradient is not None and gradient.shape == (2, 512)
    assert bool(tf.reduce_all(tf.math.is_finite(gradient)))
    assert float(tf.reduce_max(tf.abs(gradient))) > 0.0


def test_nan_check_works_on_taped_variables(stand_in_generator):
    values = latents(2, seed=9)
    values[1, 7] = np.nan
    z = tf.Variable(values)
    with tf.GradientTape(), pytest.raises(LatentError, match="1 NaN or inf value.*row 1"):
        stand_in_generator(z)


def test_works_inside_tf_function(stand_in_generator):
    z = latents(3, seed=10)
    compiled = tf.function(lambda batch: stand_in_generator(batch), autograph=False)
    np.testing.assert_allclose(compiled(tf.constant(z)).numpy(), stand_in_generator(z).numpy(),
                               atol=1e-5)


def test_clip_keeps_range_and_raw_does_not(overshooting_saved_model_dir):
    generator = load_generator(overshooting_saved_model_dir)
    z = latents(16, dim=64, seed=11)
    raw = generator.raw(z).numpy()
    clipped = generator(z).numpy()
    assert raw.min() < 0.0 and raw.max() > 1.0
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    inside = (raw >= 0.0) & (raw <= 1.0)
    np.testing.assert_array_equal(clipped[inside], raw[inside])
    np.testing.assert_array_equal(generator(z, clip=False).numpy(), raw)


def test_generator_wraps_a_concrete_function():
    weights = tf.Variable(tf.random.stateless_normal([6, 4 * 4 * 3], seed=[1, 2]))
    function = tf.function(
        lambda z: tf.sigmoid(tf.reshape(tf.matmul(z, weights), [-1, 4, 4, 3])), autograph=False
    ).get_concrete_function(tf.TensorSpec([None, 6], tf.float32))
    generator = Generator(function, handle="in-memory", chunk_size=2)
    assert (generator.input_key, generator.output_key) == (None, None)
    assert generator.latent_dim == 6 and generator.image_shape == (4, 4, 3)
    assert generator(latents(5, dim=6)).shape == (5, 4, 4, 3)


def test_a_concrete_function_of_two_positional_inputs_is_refused():
    # Positional inputs were once collected in a dict keyed by None, which folded two into one
    # and accepted the function with its last input as the latent.
    function = tf.function(lambda z, w: tf.zeros([1, 2, 2, 3]), autograph=False
                           ).get_concrete_function(tf.TensorSpec([None, 4], tf.float32),
                                                   tf.TensorSpec([None, 4], tf.float32))
    with pytest.raises(ModelLoadError, match=r"takes 2 inputs \(#0, #1\)"):
        Generator(function, handle="in-memory")


def test_synthesize_is_the_unchecked_graph_safe_core_of_calling(tf2_saved_model_dir):
    generator = load_generator(tf2_saved_model_dir)
    z = latents(3, dim=generator.latent_dim)
    np.testing.assert_array_equal(generator.synthesize(tf.constant(z)).numpy(),
                                  generator(z).numpy())
    np.testing.assert_array_equal(generator.synthesize(tf.constant(z), clip=False).numpy(),
                                  generator.raw(z).numpy())
    compiled = tf.function(generator.synthesize, autograph=False)
    np.testing.assert_allclose(compiled(tf.constant(z)).numpy(), generator(z).numpy(), atol=1e-6)
    # Unchecked: NaN latents give NaN images instead of a LatentError (the caller checks).
    nan = tf.fill([1, generator.latent_dim], float("nan"))
    assert np.isnan(generator.synthesize(nan, clip=False).numpy()).any()
    with pytest.raises(LatentError):
        generator(nan)


def test_metadata_is_the_model_folders_metadata_json(tf2_saved_model_dir, tmp_path):
    assert load_generator("bundled").metadata["format"] == "progan-tf export 1"
    assert load_generator(tf2_saved_model_dir).metadata == {}  # a SavedModel without one
    folder = tmp_path / "model"
    shutil.copytree(tf2_saved_model_dir, folder)
    (folder / "metadata.json").write_text('{"resolution": 32}')
    generator = load_generator(folder)
    assert generator.metadata == {"resolution": 32}
    (folder / "metadata.json").write_text('{"resolution": 64}')
    assert generator.metadata == {"resolution": 32}  # read once
    (folder / "metadata.json").write_text("not json")
    assert load_generator(folder).metadata == {}


# --------------------------------------------------------------------------------------------
# Latent errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 100), np.float32), "expects latents of size 512, got 100"),
    (np.zeros(100, np.float32), "expects latents of size 512, got 100"),
    (np.zeros((2, 3, 512), np.float32), r"shape \[N, 512\] or \[512\], got shape \(2, 3, 512\)"),
    (np.float32(1.0), r"got shape \(\)"),
    (np.zeros((2, 512), np.int64), "must be floating point, got int64"),
    (np.zeros((2, 512), bool), "must be floating point, got bool"),
    (np.array(["a", "b"]), "must be floating point, got string"),
    ([[0.5, 1.0], [2.0]], "cannot use a list as latents"),
])
def test_bad_latents_are_refused(stand_in_generator, bad, message):
    with pytest.raises(LatentError, match=message):
        stand_in_generator(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_latents_are_refused(stand_in_generator, value):
    z = latents(4, seed=12)
    z[2, 5] = value
    z[3, 0] = value
    with pytest.raises(LatentError, match="2 NaN or inf value.*first in row 2"):
        stand_in_generator(z)


@pytest.mark.parametrize("chunk_size", [0, -3, 2.5, True, "8"])
def test_bad_chunk_size_is_refused(stand_in_generator, tf1_hub_module_dir, chunk_size):
    with pytest.raises(LatentError, match="chunk_size must be a whole number >= 1"):
        stand_in_generator(latents(1), chunk_size=chunk_size)
    with pytest.raises(LatentError, match="chunk_size must be a whole number >= 1"):
        load_generator(tf1_hub_module_dir, chunk_size=chunk_size)


# --------------------------------------------------------------------------------------------
# Handles: URLs, Kaggle, cache, local paths, bundled
# --------------------------------------------------------------------------------------------


def test_offline_tfhub_url_fails_fast_with_advice(hub_cache):
    start = time.monotonic()
    with pytest.raises(ModelLoadError) as caught:
        load_generator(PROGAN_128)
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert "\n" not in message
    assert f"could not download {PROGAN_128}" in message
    assert "no network" in message and "tfhub.dev" in message
    for advice in ("online-only", "internet connection", "local path", "TFHUB_CACHE_DIR",
                   PROGAN_128_KAGGLE, 'pip install "progan-tf[kaggle]"',
                   "offline, use load_generator('bundled')"):
        assert advice in message
    # One line, not a chain of urllib and hub tracebacks (167 lines in a notebook).
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert hub_cache.requested == ["tfhub.dev"]  # a real download was tried
    assert list(hub_cache.path.iterdir()) == []  # and left nothing behind


def test_connection_refused_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    with socket.socket() as sock:  # a local port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelLoadError, match=f"connection to 127.0.0.1:{port} was refused"):
        load_generator(f"http://127.0.0.1:{port}/google/progan-128/1")


def test_url_loads_from_hub_cache_without_network(hub_cache, tf1_hub_module_dir):
    shutil.copytree(tf1_hub_module_dir, cached_folder(hub_cache.path, PROGAN_128))
    generator = load_generator(PROGAN_128)
    assert generator.handle == PROGAN_128
    assert (generator.latent_dim, generator.image_shape) == (512, (128, 128, 3))
    assert hub_cache.requested == []


def test_kaggle_handle_is_resolved_as_kaggle_url(hub_cache):
    with pytest.raises(ModelLoadError, match="cannot look up the host www.kaggle.com") as caught:
        load_generator(KAGGLE_HANDLE)
    assert hub_cache.requested == ["www.kaggle.com"]
    assert f"could not download {PROGAN_128_KAGGLE} " in str(caught.value)


def test_kaggle_handle_without_version_is_refused(hub_cache):
    with pytest.raises(ModelLoadError, match="has no version; add one"):
        load_generator(KAGGLE_HANDLE.rsplit("/", 1)[0])


def test_half_written_cache_folder_is_named(hub_cache):
    folder = cached_folder(hub_cache.path, PROGAN_128)
    (folder / "variables").mkdir(parents=True)
    (folder / "variables" / "variables.index").write_bytes(b"partial")
    with pytest.raises(ModelLoadError, match="incomplete download") as caught:
        load_generator(PROGAN_128)
    assert str(folder) in str(caught.value) and "delete that folder" in str(caught.value)


def ended_pid() -> int:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(ended.stdout)


def test_lock_and_partial_download_of_killed_process_are_removed(hub_cache, caplog):
    folder = cached_folder(hub_cache.path, PROGAN_128)
    uid, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
    lock = Path(f"{folder}.lock")
    lock.write_text(f"{socket.gethostname()}.{ended_pid()}.{uid}")
    partial = Path(f"{folder}.{uid}.tmp")
    (partial / "variables").mkdir(parents=True)
    (partial / "variables" / "variables.data-00000-of-00001").write_bytes(b"partial")
    someone_elses = Path(f"{folder}.{other}.tmp")  # not the dead owner's: left alone
    someone_elses.mkdir()
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match="no network"):  # then the download was tried
        load_generator(PROGAN_128)
    assert time.monotonic() - start < 10
    assert not lock.exists() and not partial.exists() and someone_elses.is_dir()
    assert "removed the lock file and partial download that process" in caplog.text


def test_stale_lock_in_another_format_is_named(hub_cache):
    lock = Path(f"{cached_folder(hub_cache.path, PROGAN_128)}.lock")
    lock.write_text(f"{socket.gethostname()}.{ended_pid()}.not-a-hub-task-id")
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match="left the lock file") as caught:
        load_generator(PROGAN_128)
    assert time.monotonic() - start < 10
    assert str(lock) in str(caught.value) and "delete that file" in str(caught.value)
    assert lock.exists()


def test_unknown_handle_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="not an existing file or folder, a URL or a Kaggle"):
        load_generator(str(tmp_path / "no-such-model"))


@pytest.mark.parametrize("handle", [None, 42, "", "   "])
def test_non_string_handles_are_refused(handle):
    with pytest.raises(ModelLoadError, match="must be a non-empty string or path"):
        load_generator(handle)


def test_home_folder_is_expanded(tmp_path, monkeypatch, tf2_saved_model_dir):
    shutil.copytree(tf2_saved_model_dir, tmp_path / "models" / "tiny")
    monkeypatch.setenv("HOME", str(tmp_path))
    generator = load_generator("~/models/tiny")
    assert generator.latent_dim == 64 and generator.handle == "~/models/tiny"


def test_path_objects_and_saved_model_pb_are_accepted(tf2_saved_model_dir):
    assert load_generator(Path(tf2_saved_model_dir)).latent_dim == 64
    assert load_generator(tf2_saved_model_dir / "saved_model.pb").latent_dim == 64


def test_folder_without_saved_model_is_refused(tmp_path, tf2_saved_model_dir):
    shutil.copytree(tf2_saved_model_dir, tmp_path / "download" / "model")
    with pytest.raises(ModelLoadError, match="is not a SavedModel folder") as caught:
        load_generator(tmp_path / "download")
    assert f"did you mean {str(tmp_path / 'download' / 'model')!r}" in str(caught.value)


@pytest.mark.parametrize("arch, loader", [("pix2pix", "load_translator"),
                                           ("srgan", "load_upscaler")])
def test_image_to_image_exports_are_refused_by_their_metadata(tmp_path, arch, loader,
                                                              tf2_saved_model_dir):
    shutil.copytree(tf2_saved_model_dir, tmp_path / "export")
    (tmp_path / "export" / "metadata.json").write_text(f'{{"arch": "{arch}"}}')
    with pytest.raises(ModelLoadError, match=f"not latents into images; load it with {loader}"):
        load_generator(tmp_path / "export")
    (tmp_path / "export" / "metadata.json").write_text('{"arch": "dcgan"}')  # a generator
    assert load_generator(tmp_path / "export").latent_dim == 64


def test_local_copy_of_interrupted_hub_download_is_refused(tmp_path):
    folder = tmp_path / hashlib.sha1(PROGAN_128.encode()).hexdigest()
    (folder / "variables").mkdir(parents=True)
    with pytest.raises(ModelLoadError, match="interrupted TF Hub download.*delete that folder"):
        load_generator(folder)


@pytest.mark.parametrize("name, advice", [
    ("generator.keras", "Keras model files are not supported yet"),
    ("weights.h5", "Keras model files are not supported yet"),
    ("progan-128_1.tar.gz", "extract the archive"),
    ("notes.txt", "is a file, not a model folder"),
])
def test_unsupported_files_are_refused(tmp_path, name, advice):
    (tmp_path / name).write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match=advice):
        load_generator(tmp_path / name)


def test_damaged_saved_model_is_reported(tmp_path, tf2_saved_model_dir):
    damaged = tmp_path / "damaged"
    shutil.copytree(tf2_saved_model_dir, damaged)
    (damaged / "saved_model.pb").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelLoadError, match="could not read the model in .*damaged or incomplete"):
        load_generator(damaged)


def test_bundled_handle_points_into_the_package():
    folder = loading_module.bundled_folder()
    assert Path(str(folder)).parts[-3:] == ("progan_tf", "bundled", "generator")


def test_missing_bundled_model_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(loading_module, "bundled_folder", lambda: tmp_path / "absent")
    with pytest.raises(ModelLoadError, match="the bundled model is not installed"):
        load_generator("bundled")


def test_bundled_model_loads_when_installed(monkeypatch, tf2_saved_model_dir):
    monkeypatch.setattr(loading_module, "bundled_folder", lambda: tf2_saved_model_dir)
    generator = load_generator("bundled")
    assert generator.handle == "bundled" and generator.latent_dim == 64


# --------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------


class TwoFunctions(tf.Module):
    """Two latent -> image functions, for signature selection tests."""

    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(1.0)
        spec = [tf.TensorSpec([None, 4], tf.float32, name="z")]
        self.bright = tf.function(lambda z: {"img": self._images(z, 1.0)}, input_signature=spec,
                                  autograph=False)
        self.dark = tf.function(lambda z: {"img": self._images(z, 0.0)}, input_signature=spec,
                                  autograph=False)

    def _images(self, z, level):
        return tf.fill([tf.shape(z)[0], 2, 2, 3], level) * self.scale


def test_no_signatures_lists_functions(tmp_path):
    module = TwoFunctions()
    path = save_module(tmp_path / "m", module, signatures={})
    with pytest.raises(ModelLoadError, match=r"has no signatures \(only the functions "
                                             r"bright, dark\)"):
        load_generator(path)


def test_signature_choice(tmp_path):
    module = TwoFunctions()
    path = save_module(tmp_path / "m", module, signatures={"a": module.bright, "b": module.dark})
    with pytest.raises(ModelLoadError, match="has no signature 'default'; it has a, b"):
        load_generator(path)
    with pytest.raises(ModelLoadError, match="has no signature 'c'; it has a, b"):
        load_generator(path, signature="c")
    assert load_generator(path, signature="a")(latents(1, dim=4)).numpy().min() == 1.0
    assert load_generator(path, signature="b")(latents(1, dim=4)).numpy().max() == 0.0


def test_only_signature_is_used_whatever_its_name(tmp_path):
    module = TwoFunctions()
    path = save_module(tmp_path / "m", module, signatures={"generate": module.dark})
    assert load_generator(path).image_shape == (2, 2, 3)


class Custom(tf.Module):
    def __init__(self, function, specs):
        super().__init__()
        self.v = tf.Variable(1.0)
        self.serve = tf.function(function, input_signature=specs, autograph=False)


@pytest.mark.parametrize("function, specs, message", [
    (lambda a, b: {"x": tf.zeros([1, 2, 2, 3])},
     [tf.TensorSpec([None, 4], name="a"), tf.TensorSpec([None, 4], name="b")],
     r"takes 2 inputs \(a, b\)"),
    (lambda z: {"x": tf.zeros([1, 2, 2, 3])}, [tf.TensorSpec([None, 4], tf.int32, name="z")],
     "needs a float latent input of shape"),
    (lambda z: {"x": tf.zeros([1, 2, 2, 3])}, [tf.TensorSpec([None, 4, 4], name="z")],
     "needs a float latent input of shape"),
    (lambda z: {"logits": z[:, :2]}, [tf.TensorSpec([None, 4], name="z")],
     r"returns 'logits' with shape \(None, 2\)"),
    (lambda z: {"a": z[:, :2], "b": z[:, :3]}, [tf.TensorSpec([None, 4], name="z")],
     "has no image output among a, b"),
    (lambda z: {"x": tf.zeros([tf.shape(z)[0], 2, 2, 1])}, [tf.TensorSpec([None, 4], name="z")],
     r"outputs images with 1 channel\(s\)"),
])
def test_unusable_signatures_are_refused(tmp_path, function, specs, message):
    module = Custom(function, specs)
    path = save_module(tmp_path / "m", module, signatures={"serving_default": module.serve})
    with pytest.raises(ModelLoadError, match=message):
        load_generator(path)


def test_output_key_picks_among_several_images(tmp_path):
    def images(z):
        ones = tf.ones([tf.shape(z)[0], 2, 2, 3])
        return {"low": ones * 0.25, "high": ones * 0.75}

    module = Custom(images, [tf.TensorSpec([None, 4], name="z")])
    path = save_module(tmp_path / "m", module, signatures={"serving_default": module.serve})
    with pytest.raises(ModelLoadError, match=r"several outputs .*\(high, low\).*output_key="):
        load_generator(path)
    generator = load_generator(path, output_key="high")
    assert set(generator.output_keys) == {"high", "low"}
    np.testing.assert_allclose(generator(latents(1, dim=4)).numpy(), 0.75)
    with pytest.raises(ModelLoadError, match="has no output 'mid'"):
        load_generator(path, output_key="mid")


def test_one_channel_stand_in_is_refused(tmp_path):
    path = testing.build_tf1_hub_module(tmp_path / "grey", latent_dim=8, image_shape=(8, 8, 1))
    with pytest.raises(ModelLoadError, match="1 channel.*needs RGB images"):
        load_generator(path)


@pytest.mark.parametrize("handle, loader", [("bundled-pix2pix", "load_translator"),
                                            ("bundled-cyclegan", "load_translator"),
                                            ("bundled-srgan", "load_upscaler")])
def test_the_other_bundled_handles_name_their_loader(handle, loader):
    """Before: "'bundled-cyclegan' is not an existing file or folder, a URL or ..."."""
    with pytest.raises(ModelLoadError, match=f"^'{handle}' is an? .* not a generator: it turns "
                                             f"pictures into pictures; load it with "
                                             rf"{loader}\('{handle}'\)$") as error:
        load_generator(handle)
    assert error.value.__cause__ is None
