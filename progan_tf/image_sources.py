"""Where pictures come from: paths, URLs, raw bytes, file objects and notebook uploads.

Workshop participants hand over pictures in every form a notebook offers. :func:`open_source`
turns each into something Pillow can open -- a checked path or a stream -- and a label that
names it in error messages, so that :func:`progan_tf.images.load_image` only decodes. Every
mistake (a missing file, a folder, an empty upload, a URL that fails or is too large) ends in
one :class:`~progan_tf.errors.ImageLoadError` line that says what to do.
"""

from __future__ import annotations

import http.client
import io
import os
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

from progan_tf.downloads import DownloadTimeout, RedirectRefused, open_url
from progan_tf.errors import ImageLoadError

__all__ = ["BYTES_TYPES", "DEFAULT_MAX_DOWNLOAD_BYTES", "DEFAULT_TIMEOUT", "open_source"]

DEFAULT_TIMEOUT = 20.0
"""Seconds a URL download may take in all: connecting, redirects and every read together."""

DEFAULT_MAX_DOWNLOAD_BYTES = 50_000_000
"""Largest URL download accepted, in bytes."""

BYTES_TYPES = (bytes, bytearray, memoryview)
"""What counts as image file contents."""


def open_source(source: Any, *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES) -> tuple[Any, str]:
    """What ``Image.open`` accepts for ``source``, and a label naming it in error messages.

    Args:
        source: A path, an http(s) URL, bytes, a binary file object, a Colab or ipywidgets
            upload (or the widget itself). Arrays and PIL images are not sources: they are
            decoded already.
        name: Which file to take from an upload that holds several.
        timeout: Seconds a URL download may take in all.
        max_download_bytes: Largest URL download accepted.

    Returns:
        ``(stream, label)``: a path or binary stream, and how error messages name it.

    Raises:
        ImageLoadError: If the source is missing, empty, of an unknown kind, or cannot be
            fetched.

    Example:
    >>> stream, label = open_source(b"not checked here")
    >>> label, stream.read(3)
    ('<bytes>', b'not')
    """
    if isinstance(source, BYTES_TYPES):
        return _bytes_stream(source, "<bytes>"), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        text = os.fsdecode(os.fspath(source))
        if "://" in text:
            scheme = urllib.parse.urlsplit(text).scheme.lower()
            if scheme not in ("http", "https"):
                raise ImageLoadError(f"refusing to load {text!r}: only http:// and https:// URLs "
                                     f"are supported; download the file and pass its path")
            return io.BytesIO(_download(text, timeout, max_download_bytes)), text
        return _checked_path(text), repr(text)
    if isinstance(source, (dict, list, tuple)):
        upload_name, content = _pick_upload(_upload_entries(source), name)
        label = repr(upload_name)
        return _bytes_stream(content, label), label
    if hasattr(source, "read"):
        file_name = getattr(source, "name", None)
        return source, repr(file_name) if isinstance(file_name, str) else "<file object>"
    value = getattr(source, "value", None)
    if isinstance(value, (dict, list, tuple)):  # an ipywidgets.FileUpload widget
        return open_source(value, name=name, timeout=timeout,
                           max_download_bytes=max_download_bytes)
    raise ImageLoadError(f"cannot load an image from a {type(source).__name__}; pass a file path, "
                         f"URL, bytes, file object, upload, PIL image or array")


def _checked_path(path: str) -> str:
    """The path, after ruling out the mistakes Pillow would report confusingly."""
    resolved = Path(path).expanduser()
    if resolved.is_dir():
        raise ImageLoadError(f"{path!r} is a folder, not an image file; "
                             f"pass the path of one image inside it")
    if not resolved.exists():
        where = "" if resolved.is_absolute() else f" (relative to {os.getcwd()!r})"
        raise ImageLoadError(f"image file {path!r} does not exist{where}; "
                             f"check the spelling and the folder")
    if resolved.stat().st_size == 0:
        raise ImageLoadError(f"image file {path!r} is empty (0 bytes); re-download or re-export it")
    return str(resolved)


def _bytes_stream(data, label: str) -> io.BytesIO:
    if not isinstance(data, BYTES_TYPES):
        raise ImageLoadError(f"upload {label} holds a {type(data).__name__}, not file contents; "
                             f"pass the upload result unchanged")
    if len(data) == 0:
        raise ImageLoadError(f"image data {label} is empty (0 bytes); upload or read it again")
    return io.BytesIO(data)


def _upload_entries(value) -> list[tuple[str, Any]]:
    """``(file name, contents)`` pairs from a Colab or ipywidgets 7/8 upload value."""
    if isinstance(value, dict):
        if "name" in value and "content" in value:  # one ipywidgets 8 entry, e.g. ``value[0]``
            return [(str(value["name"]), value["content"])]
        # Colab: {name: bytes}; ipywidgets 7: {name: {"metadata": ..., "content": bytes}}.
        return [(str(key), item.get("content") if isinstance(item, dict) else item)
                for key, item in value.items()]
    entries = []
    for item in value:  # ipywidgets 8: ({"name": ..., "type": ..., "size": ..., "content": ...},)
        if not isinstance(item, dict) or "content" not in item:
            raise ImageLoadError(f"cannot load an image from a {type(value).__name__} of "
                                 f"{type(item).__name__}; pass an upload value, or np.asarray(...) "
                                 f"for pixel data")
        entries.append((str(item.get("name", "<upload>")), item["content"]))
    return entries


def _pick_upload(entries: list[tuple[str, Any]], name: str | None) -> tuple[str, Any]:
    if not entries:
        raise ImageLoadError("the upload is empty; run the upload cell again and choose an image")
    names = ", ".join(repr(n) for n, _ in entries)
    if name is not None:
        for entry in entries:
            if entry[0] == name:
                return entry
        raise ImageLoadError(f"no uploaded file is named {name!r}; the upload holds {names}")
    if len(entries) > 1:
        raise ImageLoadError(f"the upload holds {len(entries)} files ({names}); choose one with "
                             f"name=, e.g. load_image(upload, name={entries[0][0]!r})")
    return entries[0]


def _download(url: str, timeout: float, max_bytes: int) -> bytes:
    """The body of ``url``, bounded in size and in total time (connection and all reads)."""
    too_large = ImageLoadError(f"{url} is larger than the download limit of "
                               f"{_format_bytes(max_bytes)}; download it yourself and pass the "
                               f"file path, or pass a larger max_download_bytes")
    chunks, total = [], 0
    try:
        with open_url(url, timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise too_large
            while chunk := response.read1(1 << 16):
                total += len(chunk)
                if total > max_bytes:
                    raise too_large
                chunks.append(chunk)
    except ImageLoadError:
        raise
    except DownloadTimeout:
        raise ImageLoadError(f"downloading {url} took longer than {timeout:g} s; check the "
                             f"address, or pass a larger timeout") from None
    except RedirectRefused as exc:
        raise ImageLoadError(str(exc.reason)) from None
    except urllib.error.HTTPError as exc:
        raise ImageLoadError(f"downloading {url} failed with HTTP {exc.code} {exc.reason}; "
                             f"check the address in a browser") from None
    except urllib.error.URLError as exc:
        raise ImageLoadError(f"could not reach {url} ({exc.reason}); check the address and the "
                             f"internet connection") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ImageLoadError(f"downloading {url} failed ({type(exc).__name__}: {exc}); "
                             f"try again, or download it yourself and pass the path") from None
    if total == 0:
        raise ImageLoadError(f"{url} returned no data; check the address in a browser")
    return b"".join(chunks)


def _format_bytes(count: int) -> str:
    return f"{count / 1e6:g} MB" if count >= 1_000_000 else f"{count} bytes"
