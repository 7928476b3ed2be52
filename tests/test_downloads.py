"""Downloads with a total deadline, the kagglehub route, and a quiet, one-line loading path.

Hostile servers are local: a ``ThreadingHTTPServer`` on 127.0.0.1 whose handlers trickle, hang
or serve a stand-in model archive. Every handler stops by itself after ``HANDLER_LIMIT`` seconds
(or when the test ends), the server answers at most ``MAX_REQUESTS`` requests, and it is shut
down in teardown. No test needs the internet.
"""

from __future__ import annotations

import _thread
import http.server
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from progan_tf import loading
from progan_tf.errors import ImageLoadError, ModelLoadError, OptionError
from progan_tf.generator import PROGAN_128, Generator, load_generator
from progan_tf.images import load_image

HANDLER_LIMIT = 8.0  # seconds any handler runs at most
MAX_REQUESTS = 20
KAGGLE = "google/progan-128/tensorFlow1/progan-128/1"
EXTRA = 'pip install "progan-tf[kaggle]"'


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # http.server's name
        server = self.server
        server.requests.append(self.path)
        if len(server.requests) > MAX_REQUESTS:
            self.send_error(503)
            return
        route = server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except OSError:
            pass  # the client hung up: that is what a deadline does

    def log_message(self, *args):
        pass

    def running(self, start: float) -> bool:
        return time.monotonic() - start < HANDLER_LIMIT and not self.server.stopping.is_set()

    def trickle(self, data: bytes, every: float = 0.1) -> None:
        start = time.monotonic()
        for byte in data:
            if not self.running(start):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(every)


def trickle_body(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.trickle(b"\x89PNG" + b"x" * 99_996)


def trickle_headers(handler):
    handler.trickle(b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nX-Padding: " + b"x" * 1000)


def hang(handler):
    start = time.monotonic()
    while handler.running(start):
        time.sleep(0.05)


@pytest.fixture
def server():
    """A local HTTP server; set ``server.routes[path] = handler_function``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes, httpd.requests, httpd.stopping = {}, [], threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_port}"
    yield httpd
    httpd.stopping.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # not installed, unless a test says so
    return cache


@pytest.fixture
def offline(monkeypatch):
    """Host name lookups fail as they do without a network (127.0.0.1 still works)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def module_archive(tmp_path_factory):
    """The stand-in progan-128 TF1 Hub module as the .tar.gz that tfhub.dev serves."""
    from progan_tf import testing

    folder = testing.build_tf1_hub_module(tmp_path_factory.mktemp("archive") / "module",
                                          latent_dim=16, image_shape=(8, 8, 3))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def serve(data: bytes):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return route


def status(code: int):
    return lambda handler: handler.send_error(code)


def leftovers(cache: Path) -> list[str]:
    """Lock files and temporary folders/files of downloads (tensorflow_hub's names)."""
    return sorted(p.name for p in cache.iterdir() if p.name.endswith((".lock", ".tmp"))
                  or ".tmp" in p.name)


def fake_kagglehub(monkeypatch, result):
    """Installs a stand-in ``kagglehub``; ``result`` is a folder to return or an exception."""
    calls = []

    def model_download(handle, path=None, *, force_download=False):
        calls.append(handle)
        if isinstance(result, BaseException):
            raise result
        return str(result)

    monkeypatch.setitem(sys.modules, "kagglehub",
                        types.SimpleNamespace(model_download=model_download))
    return calls


# --------------------------------------------------------------------------------------------
# load_image: the timeout bounds the whole download
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [trickle_body, trickle_headers, hang])
def test_image_download_timeout_bounds_the_whole_download(server, route):
    server.routes["/face.png"] = route
    start = time.monotonic()
    with pytest.raises(ImageLoadError) as caught:
        load_image(f"{server.url}/face.png", timeout=2)
    elapsed = time.monotonic() - start
    assert 1.9 < elapsed < 3.0
    assert str(caught.value) == (f"downloading {server.url}/face.png took longer than 2 s; "
                                 f"check the address, or pass a larger timeout")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True])
def test_image_download_timeout_is_checked(timeout):
    with pytest.raises(OptionError, match="timeout must be a finite number > 0"):
        load_image("http://127.0.0.1:9/face.png", timeout=timeout)


def test_image_downloads_within_the_deadline_still_work(server):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 2), (255, 0, 0)).save(buffer, format="PNG")
    server.routes["/red.png"] = serve(buffer.getvalue())
    image = load_image(f"{server.url}/red.png", timeout=5)
    assert image.shape == (2, 4, 3) and np.allclose(image[..., 0], 1.0)


# --------------------------------------------------------------------------------------------
# load_generator of a URL: a deadline, nothing left in the cache
# --------------------------------------------------------------------------------------------


def test_model_download_from_url_goes_through_the_hub_cache(server, hub_cache, module_archive,
                                                            monkeypatch):
    hub_cache = hub_cache / "not" / "made" / "yet"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(hub_cache))
    server.routes["/google/progan-128/1"] = serve(module_archive)
    url = f"{server.url}/google/progan-128/1"
    generator = load_generator(url, timeout=30)
    assert (generator.latent_dim, generator.image_shape) == (16, (8, 8, 3))
    assert server.requests == ["/google/progan-128/1?tf-hub-format=compressed"]
    folder = loading.hub_cache_folder(url)
    assert (folder / "saved_model.pb").is_file() and leftovers(hub_cache) == []
    load_generator(url)  # the second time from the cache, without the network
    assert len(server.requests) == 1


@pytest.mark.parametrize("route", [trickle_body, hang])
def test_model_download_timeout_bounds_it_and_leaves_nothing(server, hub_cache, route):
    server.routes["/google/progan-128/1"] = route
    url = f"{server.url}/google/progan-128/1"
    start = time.monotonic()
    with pytest.raises(ModelLoadError) as caught:
        load_generator(url, timeout=2)
    assert time.monotonic() - start < 3.5
    message = str(caught.value)
    assert message.startswith(f"could not download {url} (it took longer than 2 s); ")
    assert "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert leftovers(hub_cache) == [] and not loading.hub_cache_folder(url).exists()


@pytest.fixture
def default_ctrl_c():
    """SIGINT raises KeyboardInterrupt, as in a plain Python process, for one test.

    ``_thread.interrupt_main()`` calls whatever SIGINT handler the process has; the test must
    not depend on what code that ran earlier in the same xdist worker left there (it failed
    that way now and then under ``-n 2``).
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_model_download_leaves_nothing(server, hub_cache, module_archive,
                                                     default_ctrl_c):
    def interrupted(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(module_archive)))
        handler.end_headers()
        handler.wfile.write(module_archive[:len(module_archive) // 2])
        handler.wfile.flush()
        time.sleep(0.3)  # the client is reading and extracting by now
        _thread.interrupt_main()  # Ctrl-C
        handler.trickle(module_archive[len(module_archive) // 2:])

    server.routes["/google/progan-128/1"] = interrupted
    with pytest.raises(KeyboardInterrupt):
        load_generator(f"{server.url}/google/progan-128/1", timeout=30)
    assert list(hub_cache.iterdir()) == []


def test_live_lock_of_another_download_is_waited_for_within_the_deadline(server, hub_cache):
    url = f"{server.url}/google/progan-128/1"
    lock = Path(f"{loading.hub_cache_folder(url)}.lock")
    owner = f"{socket.gethostname()}.{os.getpid()}.0123abcd"  # a live process: this one
    lock.write_text(owner)
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match=f"another process \\({owner}\\) is downloading "
                                             f".* did not finish within 1 s; wait for it"):
        load_generator(url, timeout=1)
    assert time.monotonic() - start < 2.5
    assert lock.read_text() == owner  # not ours: left alone
    assert server.requests == []


@pytest.mark.parametrize("code, meaning", [(403, "HTTP 403, access denied"),
                                           (404, "HTTP 404, not found: check the handle")])
def test_http_errors_are_reported(server, hub_cache, code, meaning):
    server.routes["/google/progan-128/1"] = status(code)
    with pytest.raises(ModelLoadError, match=meaning) as caught:
        load_generator(f"{server.url}/google/progan-128/1")
    assert "TFHUB_CACHE_DIR" in str(caught.value) and leftovers(hub_cache) == []


@pytest.mark.parametrize("timeout", [0, -5, float("inf"), "600"])
def test_model_timeout_is_checked(timeout):
    with pytest.raises(ModelLoadError, match="timeout must be a finite number > 0"):
        load_generator(PROGAN_128, timeout=timeout)


# --------------------------------------------------------------------------------------------
# The kagglehub route
# --------------------------------------------------------------------------------------------


def test_kaggle_handle_of_tfhub_and_kaggle_urls():
    assert loading.kaggle_handle(PROGAN_128) == KAGGLE
    assert loading.kaggle_handle(PROGAN_128 + "/") == KAGGLE
    assert loading.kaggle_handle(loading.PROGAN_128_KAGGLE) == KAGGLE
    assert loading.kaggle_handle("https://example.com/model.tar.gz") is None


def test_offline_tfhub_falls_back_to_kagglehub(hub_cache, offline, monkeypatch, caplog,
                                               tf1_hub_module_dir):
    calls = fake_kagglehub(monkeypatch, tf1_hub_module_dir)
    with caplog.at_level(logging.WARNING, logger="progan_tf.loading"):
        generator = load_generator(PROGAN_128)
    assert isinstance(generator, Generator) and calls == [KAGGLE]
    assert generator(np.zeros((1, 512), np.float32)).shape == (1, 128, 128, 3)
    [record] = caplog.records
    assert record.getMessage() == (
        f"could not download {PROGAN_128} (no network: cannot look up the host tfhub.dev); "
        f"loaded it through kagglehub as {KAGGLE} instead")


def test_http_403_through_the_redirect_falls_back_to_kagglehub(server, hub_cache, monkeypatch,
                                                                caplog, tf1_hub_module_dir):
    url = f"{server.url}/google/progan-128/1"
    server.routes["/google/progan-128/1"] = status(403)  # tensorflow/hub#932
    monkeypatch.setitem(loading.KAGGLE_MIRRORS, url, loading.PROGAN_128_KAGGLE)
    calls = fake_kagglehub(monkeypatch, tf1_hub_module_dir)
    with caplog.at_level(logging.WARNING, logger="progan_tf.loading"):
        generator = load_generator(url)
    assert generator.latent_dim == 512 and calls == [KAGGLE]
    assert "HTTP 403, access denied" in caplog.text and "through kagglehub" in caplog.text
    assert leftovers(hub_cache) == []


def test_without_kagglehub_the_error_names_the_extra(server, hub_cache, monkeypatch):
    url = f"{server.url}/google/progan-128/1"
    server.routes["/google/progan-128/1"] = status(403)
    monkeypatch.setitem(loading.KAGGLE_MIRRORS, url, loading.PROGAN_128_KAGGLE)
    with pytest.raises(ModelLoadError) as caught:
        load_generator(url)
    message = str(caught.value)
    assert "HTTP 403, access denied" in message and EXTRA in message
    assert "load_generator('bundled')" in message and "\n" not in message


def test_both_routes_failing_are_both_reported(hub_cache, offline, monkeypatch):
    fake_kagglehub(monkeypatch, ConnectionError("Max retries exceeded\nwith url"))
    with pytest.raises(ModelLoadError) as caught:
        load_generator(PROGAN_128)
    message = str(caught.value)
    assert message.startswith(f"could not download {PROGAN_128} (no network: cannot look up "
                              f"the host tfhub.dev), nor through kagglehub as {KAGGLE} "
                              f"(ConnectionError: Max retries exceeded)")
    assert "online-only" in message and "load_generator('bundled')" in message
    assert "\n" not in message and caught.value.__suppress_context__


def test_explicit_kaggle_handle_uses_kagglehub_only(hub_cache, offline, monkeypatch,
                                                    tf1_hub_module_dir):
    calls = fake_kagglehub(monkeypatch, tf1_hub_module_dir.parent)  # a folder above the model
    generator = load_generator("kaggle:google/progan-128/TensorFlow1/progan-128/1")
    assert generator.handle == "kaggle:google/progan-128/TensorFlow1/progan-128/1"
    assert calls == [KAGGLE] and generator.latent_dim == 512


def test_explicit_kaggle_handle_without_kagglehub(hub_cache):
    with pytest.raises(ModelLoadError, match="needs kagglehub, which is not installed: "
                                             + EXTRA.replace("[", "\\[").replace("]", "\\]")):
        load_generator("kaggle:" + KAGGLE)


@pytest.mark.parametrize("handle", ["kaggle:", "kaggle:google/progan-128", "kaggle:a/b/c/d/e/f"])
def test_malformed_kaggle_handles_are_refused(hub_cache, handle):
    with pytest.raises(ModelLoadError, match="is not a Kaggle Models handle; write it as"):
        load_generator(handle)


# --------------------------------------------------------------------------------------------
# A quiet notebook: no C++ log lines, no pkg_resources warning
# --------------------------------------------------------------------------------------------

QUIET_SCRIPT = """
import sys, tempfile, pathlib
import progan_tf as pt
import tensorflow as tf
from progan_tf import testing
folder = testing.build_tf1_hub_module(pathlib.Path(tempfile.mkdtemp()) / "m", latent_dim=16,
                                      image_shape=(16, 16, 3))
gen = pt.load_generator(folder)
z = tf.Variable(tf.random.normal([2, 16]))

@tf.function  # Grappler rewrites graphs: its "remapper failed" lines come from here
def step():
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(gen(z) ** 2)
    return tape.gradient(loss, z)

assert bool(tf.reduce_all(tf.math.is_finite(step())))
print("LOADED AND DIFFERENTIATED", file=sys.stderr)
"""


def test_import_hides_tensorflow_and_hub_noise():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONWARNINGS"] = "default"  # show every warning once, as a notebook does
    done = subprocess.run([sys.executable, "-c", QUIET_SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED AND DIFFERENTIATED" in done.stderr
    # TensorFlow 2.21 logs a few INFO lines before it reads TF_CPP_MIN_LOG_LEVEL (absl's "I0000
    # ..." after "All log messages before absl::InitializeLog() ..."): oneDNN on AVX-512 CPUs,
    # no CUDA driver. Only redirecting the process's stderr would hide them, which a library
    # must not do (in Jupyter they reach the server's terminal, not the notebook). Everything
    # else must be quiet.
    early_info = ("WARNING: All log messages before absl::InitializeLog()",)
    rest = [line for line in done.stderr.splitlines()
            if not line.startswith(early_info) and not (line[:1] == "I" and line[1:5].isdigit())]
    for noise in ("pkg_resources", "remapper", "oneDNN", "cpu_feature_guard", "cuInit"):
        assert not [line for line in rest if noise in line], done.stderr
    # No C++ warning or error lines (absl's "W0000 00:00:..." / "E0000 ..." format).
    assert not [line for line in rest if line[:1] in "WE" and line[1:5].isdigit()], done.stderr


def test_users_log_level_is_kept():
    script = "import os, progan_tf; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}, timeout=60)
    assert done.stdout.strip() == "0"
