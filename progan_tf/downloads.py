"""Downloads bounded in total time, for pictures and for models.

A ``timeout`` in ``urllib`` (and in ``requests``, and in ``tensorflow_hub``'s resolver, which has
none at all) bounds each socket operation, not the download: a server that sends one byte a
second never trips it, and ``load_image(url, timeout=5)`` against such a server ran for minutes.
:func:`open_url` gives a download one deadline for everything -- name lookup aside, the
connection, the TLS handshake, the redirects, the headers and every read of the body -- and
:func:`download_hub_module` uses it to fetch a TF Hub handle into ``TFHUB_CACHE_DIR`` exactly as
``tensorflow_hub`` would, so that ``hub.load`` then reads a local folder.

Why a watchdog thread: the standard library has no total deadline for a blocking read, and
``signal.alarm`` works only in the main thread of a Unix process (not in every notebook kernel).
Shutting a socket down from another thread is the portable way to wake a blocked ``recv``: the
read then ends at once, and the caller sees :class:`DownloadTimeout` instead of whatever the
half-read stream raised.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from progan_tf.checks import check_number
from progan_tf.errors import DownloadTimeout, HubLockHeld, RedirectRefused

__all__ = ["DEFAULT_MODEL_TIMEOUT", "Deadline", "DownloadTimeout", "HubLockHeld",
           "RedirectRefused", "download_hub_module", "hub_cache_folder", "import_tensorflow_hub",
           "open_url"]

DEFAULT_MODEL_TIMEOUT = 600.0
"""Seconds a model download may take in all: progan-128 is about 100 MB, so 10 minutes allow
for connections down to about 170 kB/s while a stalled download still ends in reasonable time."""

# tensorflow_hub asks tfhub.dev and Kaggle Models for the .tar.gz of a handle with this query
# (compressed_module_resolver); both redirect to the archive in cloud storage.
_COMPRESSED_FORMAT_QUERY = ("tf-hub-format", "compressed")
# tensorflow_hub's own switch to skip certificate checks for a trusted mirror; honoured here too.
_DISABLE_CERT_VALIDATION = "TFHUB_DISABLE_CERT_VALIDATION"
# How long hub waits for another process's download to show progress before it takes the lock.
_HUB_LOCK_TIMEOUT = 10 * 60


class Deadline:
    """A time budget shared by the steps of one download.

    Args:
        seconds: The budget; ``None`` for none (the steps may then take as long as they take).

    Raises:
        OptionError: If ``seconds`` is not a positive, finite number or ``None`` (also a
            ``ValueError``; callers re-raise it as their own error class).
    """

    def __init__(self, seconds: float | None):
        if seconds is not None:
            seconds = check_number(seconds, "timeout", exclusive_minimum=0)
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (at least a millisecond, so it can be a socket timeout), or ``None``."""
        return None if self._end is None else max(self._end - time.monotonic(), 1e-3)

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self._end is not None and time.monotonic() >= self._end


class _Watchdog:
    """Shuts down the sockets of a download when its deadline passes.

    It holds the HTTP connections (whose ``sock`` is the raw socket during the TLS handshake) and
    the sockets they opened (``urllib`` drops ``connection.sock`` once the headers are read, while
    the response goes on reading from the same socket). After :meth:`stop` it touches nothing.
    """

    def __init__(self, remaining: float | None):
        self.fired = False
        self._watched = []
        self._lock = threading.Lock()
        self._stopped = False
        self._timer = None
        if remaining is not None:
            self._timer = threading.Timer(remaining, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def watch(self, item) -> None:
        with self._lock:
            self._watched.append(item)
            if self.fired:
                _shut_down(item)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            for item in self._watched:
                _shut_down(item)


def _shut_down(item) -> None:
    sock = item if isinstance(item, socket.socket) else getattr(item, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # socket.socket's own method, also for an SSLSocket: that class's override would
            # unwrap the TLS state under the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedConnection:
    """Registers each connection with the watchdog and gives ``connect`` the time left."""

    def __init__(self, *args, watchdog: _Watchdog, deadline: Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog
        self._deadline = deadline

    def connect(self):
        self._watchdog.watch(self)  # covers connect() and the TLS handshake through self.sock
        if self._deadline.seconds is not None:
            self.timeout = self._deadline.remaining()
        super().connect()
        self._watchdog.watch(self.sock)


class _WatchedHTTPConnection(_WatchedConnection, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, http.client.HTTPSConnection):
    pass


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, **connection_args):
        super().__init__()
        self._connection = functools.partial(_WatchedHTTPConnection, **connection_args)

    def http_open(self, req):
        return self.do_open(self._connection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext, **connection_args):
        super().__init__(context=context)
        self._ssl_context = context
        self._connection = functools.partial(_WatchedHTTPSConnection, **connection_args)

    def https_open(self, req):
        return self.do_open(self._connection, req, context=self._ssl_context)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only; urllib would also follow one to ftp://."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise RedirectRefused(f"refusing to follow the redirect from {req.full_url} to "
                                  f"{newurl}: only http:// and https:// URLs are supported")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@contextlib.contextmanager
def open_url(
    url: str,
    deadline: Deadline | float | None,
    *,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Iterator[http.client.HTTPResponse]:
    """Opens an http(s) URL whose whole download must end within a deadline.

    Everything until the ``with`` block ends counts: connecting, the TLS handshake, following
    redirects (to http/https only), reading the headers and every read of the body inside the
    block. When the deadline passes, the sockets are shut down, so a blocked read returns at
    once, and the block ends with :class:`DownloadTimeout`. Only the host name lookup is the
    operating system's (its resolver has its own timeouts).

    Args:
        url: An ``http://`` or ``https://`` URL.
        deadline: A :class:`Deadline` shared with other steps, or seconds from now (``None``:
            no deadline).
        headers: Extra request headers.
        context: TLS settings; by default the system's certificates, checked.

    Yields:
        The response, to read inside the block.

    Raises:
        DownloadTimeout: If the deadline passed (also when a read was cut short by it).
        RedirectRefused: If a redirect leads to anything but http(s).
        urllib.error.HTTPError: For an HTTP error status (404, 403, ...).
        urllib.error.URLError: If the host cannot be reached.
        OSError, http.client.HTTPException: If the connection breaks.

    Example:
    >>> with open_url("https://example.com/face.jpg", 20) as response:  # doctest: +SKIP
    ...     data = response.read()
    """
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    request = urllib.request.Request(url, headers={"User-Agent": "progan-tf", **(headers or {})})
    watchdog = _Watchdog(deadline.remaining())
    connection_args = {"watchdog": watchdog, "deadline": deadline}
    opener = urllib.request.build_opener(
        _HttpOnlyRedirects, _WatchedHTTPHandler(**connection_args),
        _WatchedHTTPSHandler(context or ssl.create_default_context(), **connection_args))
    response = None
    try:
        response = opener.open(request) if deadline.seconds is None else opener.open(
            request, timeout=deadline.remaining())
        yield response
        if watchdog.fired:  # a read cut short may have looked like the end of the data
            raise DownloadTimeout(url, deadline.seconds)
    except (KeyboardInterrupt, SystemExit, DownloadTimeout, RedirectRefused):
        raise
    except Exception as err:
        if watchdog.fired or _is_timeout(err):
            raise DownloadTimeout(url, deadline.seconds or 0.0) from None
        raise
    finally:
        watchdog.stop()  # first: after this nothing shuts down a socket that may be reused
        if response is not None:
            response.close()


def _is_timeout(err: BaseException) -> bool:
    return isinstance(err, TimeoutError) or (
        isinstance(err, urllib.error.URLError) and isinstance(err.reason, TimeoutError))


# --------------------------------------------------------------------------------------------
# TF Hub handles
# --------------------------------------------------------------------------------------------


def import_tensorflow_hub() -> ModuleType:
    """Imports ``tensorflow_hub`` without its ``pkg_resources`` deprecation warning.

    tensorflow_hub 0.16 imports ``pkg_resources`` (for a version check), which setuptools warns
    about on every first import: a warning no user can act on, shown in every notebook. Only that
    warning is silenced, and only during this import.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?s).*pkg_resources", category=UserWarning)
        warnings.filterwarnings("ignore", message="(?s).*(pkg_resources|declare_namespace)",
                                category=DeprecationWarning)
        import tensorflow_hub  # imports TensorFlow: only when a model is needed
        import tensorflow_hub.resolver

    return tensorflow_hub


def hub_cache_folder(url: str) -> Path:
    """The folder ``tensorflow_hub`` caches ``url`` in: ``<TFHUB_CACHE_DIR>/<sha1(url)>``.

    Beside it, a download in progress keeps the lock file ``<sha1(url)>.lock`` (holding
    ``host.pid.uid``) and the folder ``<sha1(url)>.<uid>.tmp``, renamed to the final name when
    complete (``tensorflow_hub.resolver.atomic_download``).
    """
    cache = import_tensorflow_hub().resolver.tfhub_cache_dir(use_temp=True)
    return Path(cache) / hashlib.sha1(url.encode("utf8")).hexdigest()


def download_hub_module(url: str, deadline: Deadline | float | None) -> str:
    """Downloads a TF Hub or Kaggle Models URL into the TF Hub cache, within a deadline.

    ``tensorflow_hub.load(url)`` downloads with no deadline at all. This does what its resolver
    does -- the same cache folder, lock file, temporary folder, archive checks and atomic
    rename, through ``tensorflow_hub.resolver.atomic_download`` itself -- but reads the archive
    through :func:`open_url`. A model already in the cache is returned without any network.

    On any failure, a timeout or Ctrl-C, ``atomic_download`` removes what this call created:
    its temporary folder and the lock file that holds its own id; nothing else is touched.

    Args:
        url: An ``http(s)`` handle such as ``https://tfhub.dev/google/progan-128/1``.
        deadline: A :class:`Deadline` or seconds (``None``: no deadline). Waiting for another
            process that is downloading the same model counts too.

    Returns:
        The local model folder, to pass to ``tensorflow_hub.load``.

    Raises:
        DownloadTimeout: If the download took too long.
        HubLockHeld: If another process downloading the same model did not finish in time.
        Exception: What :func:`open_url` raises, and ``OSError`` for a reply that is not a
            model archive ("... does not appear to be a valid module").
    """
    hub_resolver = import_tensorflow_hub().resolver
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    folder = hub_cache_folder(url)
    folder.parent.mkdir(parents=True, exist_ok=True)  # as hub's create_local_module_dir does
    _wait_for_other_download(url, folder, deadline)
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parsed.query),
                                    _COMPRESSED_FORMAT_QUERY])
    archive_url = urllib.parse.urlunparse(parsed._replace(query=query))
    context = ssl.create_default_context()
    if os.environ.get(_DISABLE_CERT_VALIDATION) == "true":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    def download(handle: str, tmp_dir: str) -> None:
        with open_url(archive_url, deadline, context=context) as response:
            hub_resolver.DownloadManager(handle).download_and_uncompress(response, tmp_dir)

    return hub_resolver.atomic_download(url, download, str(folder), _HUB_LOCK_TIMEOUT)


def _wait_for_other_download(url: str, folder: Path, deadline: Deadline) -> None:
    """Waits, within the deadline, while another process holds the lock for ``url``.

    ``atomic_download`` would wait too, but in 5-second steps and for as long as the other
    download makes progress, which no deadline of ours would bound.
    """
    lock = Path(f"{folder}.lock")
    while lock.exists() and not (folder.is_dir() and any(folder.iterdir())):
        if deadline.expired():
            try:
                owner = lock.read_text().strip()
            except OSError:
                continue  # released just now
            raise HubLockHeld(url, deadline.seconds or 0.0, lock, owner)
        time.sleep(min(0.2, deadline.remaining() or 0.2))
