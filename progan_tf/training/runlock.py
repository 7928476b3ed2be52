"""One training process per run folder: ``train.lock``, with stale-lock detection.

Two processes training the same run would overwrite each other's checkpoints and logs, and a
second ``train --resume`` started while the first is still running is an easy mistake (a
forgotten terminal, a notebook kernel still busy).  The lock is a small JSON file naming its
holder -- process id, host and start time -- created atomically (``os.link`` of a complete
temporary file, so nobody ever reads a half-written lock).  A lock whose process is gone (same
host, pid not alive: a SIGKILL, a crash, a power cut) is stale and taken over with a warning;
a lock held from another host cannot be checked and is reported with its holder.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import secrets
import socket
from pathlib import Path

from progan_tf.errors import RunDirectoryError

log = logging.getLogger(__name__)

LOCK_FILE = "train.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    except (OSError, OverflowError):
        return False
    return True


def _read(path: Path) -> dict | None:
    """The lock's holder, or None when the file is gone or not a lock this module wrote."""
    try:
        holder = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


class RunLock:
    """Exclusive use of a run folder by this process, as a context manager.

    Args:
        run_dir: the run folder (must exist).
        command: what holds the lock, for the message another process gets (default ``""``).

    Raises:
        RunDirectoryError: (on entering) if a live process holds the folder, naming it.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with RunLock(folder, "progan-tf train ..."):
    ...     (folder / LOCK_FILE).exists()
    True
    >>> (folder / LOCK_FILE).exists()
    False
    """

    def __init__(self, run_dir: str | os.PathLike, command: str = "") -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.holder = {"pid": os.getpid(), "host": socket.gethostname(),
                       "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                       "command": command, "token": secrets.token_hex(8)}
        self.held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, taking over a stale one with a warning."""
        for _ in range(3):  # a stale lock is removed, then the lock is created afresh
            if self._create():
                self.held = True
                return
            holder = _read(self.path)
            if holder is None:  # released between our attempt and the read
                continue
            if not self._stale(holder):
                raise RunDirectoryError(
                    f"run folder {str(self.path.parent)!r} is in use by another training process "
                    f"(pid {holder.get('pid')} on {holder.get('host')} since "
                    f"{holder.get('since')}); wait for it to finish or stop it, and if it no "
                    f"longer runs, delete {str(self.path)!r}")
            self._remove_stale(holder)
        raise RunDirectoryError(f"could not lock {str(self.path.parent)!r}: another process keeps "
                                f"taking it; make sure only one training runs there")

    def _create(self) -> bool:
        tmp = self.path.with_name(f".{LOCK_FILE}.{self.holder['token']}")
        try:
            tmp.write_text(json.dumps(self.holder))
            try:
                os.link(tmp, self.path)  # atomic, and fails if the lock exists
            except FileExistsError:
                return False
            except OSError:  # a file system without hard links: exclusive create instead
                try:
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                except FileExistsError:
                    return False
                with os.fdopen(fd, "w") as handle:
                    handle.write(json.dumps(self.holder))
            return True
        except OSError as error:
            raise RunDirectoryError(f"cannot write {str(self.path)!r} ({error.strerror or error}); "
                                    f"check that the run folder is writable") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _stale(self, holder: dict) -> bool:
        pid, host = holder.get("pid"), holder.get("host")
        if not holder or not isinstance(pid, int):
            return True  # not a lock a live process of ours would leave (they are written whole)
        return host == socket.gethostname() and not _pid_alive(pid)

    def _remove_stale(self, holder: dict) -> None:
        # Rename first and check what was renamed: if another process took the stale lock over
        # meanwhile, its fresh lock is put back instead of being deleted.
        aside = self.path.with_name(f".{LOCK_FILE}.stale-{self.holder['token']}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        if _read(aside) != holder:
            try:
                os.link(aside, self.path)
            except OSError:
                pass
            aside.unlink(missing_ok=True)
            return
        aside.unlink(missing_ok=True)
        log.warning("took over the stale lock of pid %s on %s (since %s), which no longer runs",
                    holder.get("pid"), holder.get("host"), holder.get("since"))

    def release(self) -> None:
        """Remove the lock if this process still holds it."""
        if self.held and (_read(self.path) or {}).get("token") == self.holder["token"]:
            self.path.unlink(missing_ok=True)
        self.held = False
