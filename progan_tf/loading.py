"""Where a generator comes from: handles, downloads with a deadline, the Kaggle route, errors.

:func:`~progan_tf.generator.load_generator` accepts a TF Hub or Kaggle Models URL, a Kaggle
handle, a local folder or ``"bundled"``; :func:`load_module` turns any of them into a loaded
SavedModel, or into one :class:`~progan_tf.errors.ModelLoadError` line that says what failed and
what to do -- raised ``from None``, because in a notebook the chained urllib, hub and TensorFlow
tracebacks behind it ran to 167 lines and buried that line.

URLs are fetched as ``tensorflow_hub`` fetches them (same cache folder, lock and temporary
folder), but within a total deadline (:func:`progan_tf.downloads.download_hub_module`), and then
loaded from the local folder. tfhub.dev now redirects to Kaggle Models, and through that redirect
some networks answer HTTP 403 (tensorflow/hub#932); Kaggle's own client, ``kagglehub``, downloads
the same model another way, so when the tfhub.dev route fails and ``kagglehub`` is installed
(``pip install "progan-tf[kaggle]"``) the model is fetched with ``kagglehub.model_download`` and the
downloaded folder is loaded, as TensorFlow's own tutorials now do.
"""

from __future__ import annotations

import http.client
import importlib.resources
import logging
import os
import re
import shutil
import socket
import ssl
import urllib.error
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tensorflow as tf

from progan_tf.constants import (
    BUNDLED,
    BUNDLED_CYCLEGAN,
    BUNDLED_DCGAN,
    BUNDLED_PIX2PIX,
    BUNDLED_SRGAN,
    BUNDLED_STYLEGAN,
    KAGGLE_PREFIX,
    PROGAN_128,
    PROGAN_128_KAGGLE,
)
from progan_tf.downloads import (
    Deadline,
    DownloadTimeout,
    HubLockHeld,
    download_hub_module,
    hub_cache_folder,
    import_tensorflow_hub,
)
from progan_tf.errors import DownloadFailed, ModelLoadError, one_line
from progan_tf.model_folders import SAVED_MODEL_FILES, checked_folder

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11

hub = import_tensorflow_hub()

__all__ = ["BUNDLED", "BUNDLED_DCGAN", "KAGGLE_MIRRORS", "KAGGLE_PREFIX", "PROGAN_128",
           "PROGAN_128_KAGGLE", "bundled_dcgan_folder", "bundled_folder", "bundled_stylegan_folder",
           "bundled_stylegan_path", "kaggle_handle", "load_module"]

log = logging.getLogger(__name__)

KAGGLE_MIRRORS = {PROGAN_128: PROGAN_128_KAGGLE}
"""TF Hub URL -> the same model on Kaggle Models, where tfhub.dev now redirects: tried through
``kagglehub`` when the TF Hub download fails, and named in the error if that fails too."""

_URL_SCHEMES = ("http://", "https://", "gs://")
_SCHEMELESS_HOSTS = ("tfhub.dev/", "www.kaggle.com/models/", "kaggle.com/models/")
# owner/model/framework/variation/version, the handle format Kaggle Models shows for a model.
_KAGGLE_HANDLE = re.compile(r"^[\w.-]+/[\w.-]+/tensorflow[12]/[\w.-]+(/\d+)?$", re.IGNORECASE)
# The same, for kagglehub: any framework, version optional (kagglehub then takes the latest).
_KAGGLEHUB_HANDLE = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+/[\w.-]+(/\d+)?$")
_KAGGLE_URL = re.compile(
    r"^https?://(?:www\.)?kaggle\.com/models/([\w.-]+)/([\w.-]+)/([\w.-]+)/([\w.-]+)/(\d+)/?$")
_KAGGLE_EXTRA = 'pip install "progan-tf[kaggle]"'
_BUNDLED_ADVICE = "load_generator('bundled')"
# The package's other bundled handles: models that take pictures, not latents.
_NOT_GENERATORS = {BUNDLED_PIX2PIX: ("a Pix2Pix translator", "load_translator"),
                   BUNDLED_CYCLEGAN: ("a CycleGAN translator", "load_translator"),
                   BUNDLED_SRGAN: ("an SRGAN upscaler", "load_upscaler")}


def load_module(handle: str, timeout: float | None) -> Any:
    """Loads the SavedModel behind a generator handle.

    Args:
        handle: A handle as :func:`~progan_tf.generator.load_generator` documents it (already
            stripped; paths as strings).
        timeout: Seconds the download of a URL may take in all; ``None`` for no limit.

    Returns:
        What ``tensorflow_hub.load`` returns for the model.

    Raises:
        ModelLoadError: One line saying what failed and what to do, without chained context.
    """
    try:
        deadline = Deadline(timeout)
    except ValueError as err:
        raise ModelLoadError(f"{err}; model downloads default to 600 s") from None
    if handle.lower().startswith(KAGGLE_PREFIX):
        kaggle = _checked_kagglehub_handle(handle[len(KAGGLE_PREFIX):].strip(), handle)
        try:
            folder = _kagglehub_download(kaggle, required=True)
        except DownloadFailed as failed:
            raise ModelLoadError(
                f"kagglehub could not download {kaggle} ({failed.problem}); check the handle on "
                f"kaggle.com/models and the internet connection; offline, use "
                f"{_BUNDLED_ADVICE}") from None
        return _load_folder(folder, origin=handle)
    source = _resolve(handle)
    if not source.startswith(_URL_SCHEMES):
        return _load_folder(source)
    try:
        folder = _fetch(source, deadline)
    except DownloadFailed as failed:
        hub_failure = failed
    else:
        return _load_folder(folder, origin=source)
    kaggle = kaggle_handle(source)
    if kaggle is not None and _kagglehub() is not None:
        try:
            folder = _kagglehub_download(kaggle)
        except DownloadFailed as failed:
            raise ModelLoadError(
                f"could not download {source} ({hub_failure.problem}), nor through kagglehub as "
                f"{kaggle} ({failed.problem}); "
                f"{_where_else(source, hub_failure.offline or failed.offline)}") from None
        log.warning("could not download %s (%s); loaded it through kagglehub as %s instead",
                    source, hub_failure.problem, kaggle)
        return _load_folder(folder, origin=f"{KAGGLE_PREFIX}{kaggle}")
    raise _download_error(source, hub_failure, kaggle) from None


def kaggle_handle(url: str) -> str | None:
    """The ``kagglehub`` handle of a TF Hub or Kaggle Models URL, if there is one.

    Args:
        url: E.g. :data:`PROGAN_128` (mapped to its Kaggle Models page) or a Kaggle Models URL
            ``https://www.kaggle.com/models/OWNER/MODEL/FRAMEWORK/VARIATION/VERSION``.

    Returns:
        ``"owner/model/framework/variation/version"`` as ``kagglehub.model_download`` takes it
        (e.g. ``"google/progan-128/tensorFlow1/progan-128/1"``), or ``None`` for other URLs.
    """
    match = _KAGGLE_URL.match(KAGGLE_MIRRORS.get(url.rstrip("/"), url))
    if match is None:
        return None
    owner, model, framework, variation, version = match.groups()
    return f"{owner}/{model}/{_kagglehub_framework(framework)}/{variation}/{version}"


def _kagglehub_framework(framework: str) -> str:
    """Kaggle's slug for a framework: URLs say TensorFlow1, kagglehub handles tensorFlow1."""
    return framework[:1].lower() + framework[1:]


# --------------------------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------------------------


def _resolve(text: str) -> str:
    """Returns what to fetch or load: a URL or a local folder."""
    if text == BUNDLED:
        return _bundled_path()
    if text == BUNDLED_DCGAN:
        return _bundled_dcgan_path()
    if text == BUNDLED_STYLEGAN:
        return bundled_stylegan_path()
    if text in _NOT_GENERATORS:
        what, loader = _NOT_GENERATORS[text]
        raise ModelLoadError(f"{text!r} is {what}, not a generator: it turns pictures into "
                             f"pictures; load it with {loader}({text!r})")
    if text.startswith(_URL_SCHEMES):
        return _checked_url(text)
    if text.startswith(_SCHEMELESS_HOSTS):
        return _checked_url("https://" + text)
    path = Path(text).expanduser()
    if path.exists():
        return checked_folder(path)
    if _KAGGLE_HANDLE.match(text):
        if not text.rsplit("/", 1)[-1].isdigit():
            raise ModelLoadError(
                f"Kaggle handle {text!r} has no version; add one, e.g. {text}/1")
        owner, model, framework, rest = text.split("/", 3)
        framework = "TensorFlow" + framework[-1]  # the spelling Kaggle's URLs use
        return _checked_url(f"https://www.kaggle.com/models/{owner}/{model}/{framework}/{rest}")
    shown = repr(text) if str(path) == text else f"{text!r} ({path})"
    raise ModelLoadError(
        f"{shown} is not an existing file or folder, a URL or a Kaggle handle; pass a SavedModel "
        f"folder, a URL like {PROGAN_128!r}, a Kaggle handle like "
        f"'google/progan-128/tensorFlow1/progan-128/1', or 'bundled'")


def bundled_folder() -> Traversable:
    """Where the bundled model lives inside the installed package.

    The one place that names the folder: loading ``"bundled"``, the demo's page (which shows the
    model's ``metadata.json``) and the benchmarks all ask here.

    Returns:
        The folder, as an :class:`importlib.abc.Traversable` (``str()`` of it is a
        path when the package is installed as files, as pip does).

    Example:
    >>> bundled_folder().joinpath("saved_model.pb").is_file()
    True
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "generator")


def _bundled_path() -> str:
    folder = bundled_folder()
    if not folder.is_dir():
        raise ModelLoadError(
            f"the bundled model is not installed (no folder {folder}); reinstall progan-tf, or "
            f"pass a TF Hub URL such as {PROGAN_128!r} or a local model folder")
    return checked_folder(Path(str(folder)))


def bundled_dcgan_folder() -> Traversable:
    """Where the bundled DCGAN (``"bundled-dcgan"``) lives inside the installed package.

    Returns:
        The folder, as an :class:`importlib.abc.Traversable`; it may not exist yet (see
        :func:`load_module`).
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "dcgan")


def _bundled_dcgan_path() -> str:
    folder = bundled_dcgan_folder()
    if not folder.joinpath("saved_model.pb").is_file():
        raise ModelLoadError(
            f"{BUNDLED_DCGAN!r}: this version of progan-tf ships no DCGAN weights yet (no "
            f"{folder}); train one with 'progan-tf train DATA --arch dcgan' and load its export "
            f"folder, or use {_BUNDLED_ADVICE}")
    return checked_folder(Path(str(folder)))


def _downloads_to_local_cache() -> bool:
    """Whether ``tensorflow_hub`` would download into a local cache folder (its default)."""
    hub_resolver = hub.resolver
    if hub_resolver.model_load_format() == hub_resolver.ModelLoadFormat.UNCOMPRESSED.value:
        return False  # read straight from cloud storage, no cache
    return "://" not in hub_resolver.tfhub_cache_dir(use_temp=True)


def _checked_url(url: str) -> str:
    """Catches the two broken cache states that ``hub.load`` handles badly.

    ``tensorflow_hub`` downloads into ``<cache>/<sha1(url)>.<uid>.tmp`` under a lock file
    ``<sha1(url)>.lock`` and renames the folder when done. A folder without saved_model.pb
    (e.g. copied by hand or cut short) makes it fail with an obscure message; a lock file left
    by a killed process (a restarted notebook kernel) makes it wait silently for 10 minutes, and
    its temporary folder (a partial download, up to the model's size) is never removed.
    """
    if not _downloads_to_local_cache():
        return url
    folder = hub_cache_folder(url)
    if folder.is_dir() and any(folder.iterdir()) and not any(
            (folder / name).is_file() for name in SAVED_MODEL_FILES):
        raise ModelLoadError(
            f"the TF Hub cache folder {str(folder)!r} for {url} holds an incomplete download (no "
            f"saved_model.pb); delete that folder and load the model again")
    lock = Path(f"{folder}.lock")
    pid = _dead_lock_owner(lock)
    if pid is None:
        return url
    uid = _lock_uid(lock)
    if uid is None:
        raise ModelLoadError(
            f"an interrupted download of {url} left the lock file {str(lock)!r} (process {pid} "
            f"that wrote it has ended), which makes TF Hub wait 10 minutes; delete that file and "
            f"load the model again")
    # The lock and the temporary folder of a process that has ended (a killed notebook kernel):
    # recognised by tensorflow_hub's names and the dead owner's id, and only those are removed.
    # Hub itself would wait 10 minutes and then take the lock, but never remove the folder.
    partial = Path(f"{folder}.{uid}.tmp")
    if partial.is_dir():
        shutil.rmtree(partial)
    lock.unlink(missing_ok=True)
    log.warning("removed the lock file and partial download that process %d left in %s when it "
                "ended mid-download", pid, folder.parent)
    return url


def _lock_uid(lock: Path) -> str | None:
    """The task id in a hub lock file ('host.pid.uid', uid = uuid4().hex), if it is one."""
    try:
        uid = lock.read_text().rsplit(".", 1)[-1]
    except OSError:
        return None
    return uid if re.fullmatch(r"[0-9a-f]{32}", uid) else None


def _dead_lock_owner(lock: Path) -> int | None:
    """The pid in a hub lock file ('host.pid.uid') if that process on this host has ended."""
    if os.name != "posix":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        host, pid_text, _ = lock.read_text().rsplit(".", 2)
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if host != socket.gethostname() or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid
    except (PermissionError, OverflowError):
        pass  # alive under another user, or not a pid at all
    return None


# --------------------------------------------------------------------------------------------
# Routes: the TF Hub cache and kagglehub
# --------------------------------------------------------------------------------------------


def _fetch(url: str, deadline: Deadline) -> str:
    """The local folder of ``url`` (or hub's own path in its cache-less modes)."""
    try:
        if _downloads_to_local_cache():
            return download_hub_module(url, deadline)
        return hub.resolve(url)  # cloud-storage modes: tensorflow_hub's own reads, no deadline
    except HubLockHeld as err:
        raise ModelLoadError(
            f"{err}; wait for it to finish and load again, or if it hangs, end it and delete "
            f"{str(err.lock)!r}") from None
    except DownloadTimeout as err:
        raise DownloadFailed(f"it took longer than {err.seconds:g} s") from None
    except urllib.error.HTTPError as err:
        raise DownloadFailed(_http_problem(err)) from None
    except urllib.error.URLError as err:
        raise DownloadFailed(_network_problem(err.reason, url),
                              isinstance(err.reason, socket.gaierror)) from None
    except (ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException) as err:
        raise DownloadFailed(_network_problem(err, url)) from None
    except tf.errors.OpError as err:  # writing the cache: not a download problem
        cache = hub.resolver.tfhub_cache_dir(use_temp=True)
        raise ModelLoadError(
            f"could not write the TF Hub cache {cache!r} ({one_line(err.message)}); set "
            f"TFHUB_CACHE_DIR to a writable folder") from None
    except Exception as err:  # tarfile and hub raise many unrelated types
        if "valid module" in str(err):
            raise DownloadFailed("the server's reply is not a model archive") from None
        raise DownloadFailed(one_line(err)) from None


def _kagglehub():
    """The ``kagglehub`` module, or ``None`` if it is not installed."""
    try:
        import kagglehub  # optional: pip install "progan-tf[kaggle]"
    except ImportError:
        return None
    return kagglehub


def _checked_kagglehub_handle(kaggle: str, handle: str) -> str:
    if not _KAGGLEHUB_HANDLE.match(kaggle):
        raise ModelLoadError(
            f"{handle!r} is not a Kaggle Models handle; write it as "
            f"{KAGGLE_PREFIX}owner/model/framework/variation/version, e.g. "
            f"'{KAGGLE_PREFIX}google/progan-128/tensorFlow1/progan-128/1'")
    owner, model, framework, rest = kaggle.split("/", 3)
    return f"{owner}/{model}/{_kagglehub_framework(framework)}/{rest}"


def _kagglehub_download(kaggle: str, required: bool = False) -> str:
    """``kagglehub.model_download(kaggle)``: the downloaded (or cached) model folder.

    kagglehub keeps its own cache (``~/.cache/kagglehub``) and its own network timeouts and
    retries; the deadline of the TF Hub route does not apply to it.
    """
    kagglehub = _kagglehub()
    if kagglehub is None:
        if required:
            raise ModelLoadError(
                f"loading {KAGGLE_PREFIX}{kaggle} needs kagglehub, which is not installed: "
                f"{_KAGGLE_EXTRA}; or pass the tfhub.dev URL, or {_BUNDLED_ADVICE} offline")
        raise DownloadFailed("kagglehub is not installed")
    try:
        folder = kagglehub.model_download(kaggle)
    except Exception as err:  # requests, kagglehub and OS errors alike
        offline = "NameResolutionError" in repr(err) or isinstance(err, socket.gaierror)
        raise DownloadFailed(f"{type(err).__name__}: {one_line(err)}", offline) from None
    path = Path(os.fspath(folder))
    if not any((path / name).is_file() for name in SAVED_MODEL_FILES):
        nested = sorted(path.glob("**/saved_model.pb"))
        if not nested:
            raise DownloadFailed(f"the folder it returned, {str(path)!r}, has no saved_model.pb")
        path = nested[0].parent
    return str(path)


# --------------------------------------------------------------------------------------------
# Loading and messages
def bundled_stylegan_folder() -> Traversable:
    """Where the bundled style-based generator (``"bundled-stylegan"``) lives; may not exist.

    The one place that names the folder: loading the handle, the generator's metadata and the
    benchmarks ask here.

    Example:
    >>> bundled_stylegan_folder().name
    'stylegan'
    """
    return importlib.resources.files("progan_tf").joinpath("bundled", "stylegan")


def bundled_stylegan_path() -> str:
    """The folder of ``"bundled-stylegan"``; a one-line error where its weights are missing.

    Raises:
        ModelLoadError: The package holds no style-based weights (an installation without them).
    """
    folder = bundled_stylegan_folder()
    if not folder.joinpath("saved_model.pb").is_file():
        raise ModelLoadError(
            f"{BUNDLED_STYLEGAN!r}: this version of progan-tf ships no style-based generator "
            f"weights yet (no {folder}); train one with 'progan-tf train DATA --arch stylegan', "
            f"export it with 'progan-tf export RUN DIR' and pass DIR")
    return checked_folder(Path(str(folder)))


# --------------------------------------------------------------------------------------------


def _load_folder(folder: str, origin: str | None = None):
    """``hub.load`` of a local folder with every failure turned into one actionable line."""
    try:
        return hub.load(folder)
    except Exception as err:  # hub, protobuf and TF raise many unrelated types
        if origin is None:
            raise ModelLoadError(
                f"could not read the model in {folder!r} ({one_line(err)}); the files may be "
                f"damaged or incomplete: copy, re-download or re-export it") from None
        raise ModelLoadError(
            f"could not load {origin} ({one_line(err)}); the downloaded copy in {folder!r} may be "
            f"damaged: delete that folder and load the model again") from None


def _download_error(url: str, failed: DownloadFailed, kaggle: str | None) -> ModelLoadError:
    via_kaggle = ""
    if kaggle is not None:
        mirror = KAGGLE_MIRRORS.get(url.rstrip("/"))
        where = f" ({mirror})" if mirror else ""
        via_kaggle = (f"; tfhub.dev now redirects to Kaggle Models{where}, and Kaggle's own "
                      f"client can fetch it another way: {_KAGGLE_EXTRA}")
    elif url.startswith(("https://tfhub.dev/", "http://tfhub.dev/")):
        via_kaggle = ("; tfhub.dev now redirects to Kaggle Models: find the model on "
                      "https://www.kaggle.com/models and pass its URL")
    return ModelLoadError(f"could not download {url} ({failed.problem}); "
                          f"{_where_else(url, failed.offline)}{via_kaggle}")


def _where_else(url: str, offline: bool) -> str:
    """Advice after a failed download; offline, that the handle needs the network at all."""
    local = ("pass the local path of a downloaded copy, or set TFHUB_CACHE_DIR to a cache folder "
             "that already holds it")
    if offline:
        return (f"{url} is online-only: check the internet connection, {local}; offline, use "
                f"{_BUNDLED_ADVICE}, the small model shipped with progan-tf")
    return (f"check the internet connection, {local}; for offline use, {_BUNDLED_ADVICE} needs "
            f"no network")


def _http_problem(err: urllib.error.HTTPError) -> str:
    meaning = {
        401: "authentication required",
        403: "access denied",
        404: "not found: check the handle's spelling and version number",
        429: "too many requests: wait a minute and retry",
    }.get(err.code, "server error: retry later" if err.code >= 500 else str(err.reason))
    return f"HTTP {err.code}, {meaning}"


def _network_problem(reason: Any, url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    if isinstance(reason, socket.gaierror):
        return f"no network: cannot look up the host {host}"
    if isinstance(reason, ConnectionRefusedError):
        return f"the connection to {host} was refused"
    if isinstance(reason, TimeoutError):
        return f"the connection to {host} timed out"
    if isinstance(reason, ssl.SSLError):
        return f"secure connection to {host} failed: {one_line(reason)}"
    return one_line(reason)
