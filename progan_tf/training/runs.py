"""Run folders: where a run's options, data description and results live, and who may write.

A run folder holds::

    run.json            the options (resuming reads them back, and rewrites them with the
                        options a resume may change, such as a longer --kimg)
    starts.json         the command line of every start, first to last (see training_command)
    dataset.json        what the data folder held at the last start
    train.lock          who is training the run right now (see progan_tf.training.runlock)
    checkpoints/        atomic, self-checking checkpoints (progan_tf.training.checkpoint)
    samples/            a fixed-input grid at the end of every phase
    logs/               TensorBoard scalars and images
    losses.csv/.png     the loss curves

The functions here refuse a folder that is not what the request needs -- a file, a folder
holding another run, a folder that holds no run to resume -- with one line saying what to do,
before anything is written.  They know nothing about a family except its options dataclass.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from progan_tf import fileio
from progan_tf.errors import RunDirectoryError
from progan_tf.training.runlock import LOCK_FILE, RunLock

__all__ = ["DATASET_FILE", "RUN_FILE", "RunStart", "check_new_run_dir", "check_run_arch",
           "make_run_dir", "read_json", "read_run_config", "remove_temporaries", "resume_config",
           "resume_differences", "run_arch", "starting_run", "training_command",
           "training_commands", "write_dataset_info"]

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
DATASET_FILE = "dataset.json"
STARTS_FILE = "starts.json"


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's content, or None when it is missing or damaged (for what is only shown).

    Example:
    >>> read_json("no-such-file.json") is None
    True
    """
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def check_new_run_dir(out: Path, ignore: tuple | set = ()) -> None:
    """Raise unless ``out`` can hold a new run: missing, or an empty folder.

    Args:
        out: The run folder to be.
        ignore: Names inside ``out`` that do not count (the lock this process holds).

    Raises:
        RunDirectoryError: ``out`` is a file, holds a run, or holds other files.
    """
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"output {str(out)!r} is a file, not a folder; choose a new "
                                f"folder for the run")
    if (out / RUN_FILE).exists():
        raise RunDirectoryError(f"{str(out)!r} already holds a run; pass --resume to continue it, "
                                f"or choose another output folder")
    if out.exists() and any(p.name not in ignore for p in out.iterdir()):
        raise RunDirectoryError(f"output folder {str(out)!r} is not empty; choose a new folder "
                                f"for the run")


def make_run_dir(out: Path) -> bool:
    """Create ``out`` (and its parents).

    Returns:
        Whether it was created now (a failed first start removes only what it created).

    Raises:
        RunDirectoryError: ``out`` cannot be created, or is not a folder.
    """
    try:
        out.mkdir(parents=True)
        return True
    except FileExistsError:
        if not out.is_dir():
            raise RunDirectoryError(f"{str(out)!r} is not a folder; choose a new folder for the "
                                    f"run") from None
        return False
    except OSError as error:
        raise RunDirectoryError(f"cannot create the run folder {str(out)!r} "
                                f"({error.strerror or error}); choose a folder you can write "
                                f"to") from None


def read_run_config(config_class: type, run_dir: str | os.PathLike) -> Any:
    """The options stored in ``run_dir/run.json``, checked.

    Args:
        config_class: The family's options dataclass (with ``from_json`` and ``validate``).
        run_dir: The run folder.

    Raises:
        RunDirectoryError: if there is none, or it is damaged (one line saying what to do).
    """
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.exists():
        raise RunDirectoryError(f"{str(run_dir)!r} holds no run to resume (no {RUN_FILE}); "
                                f"drop --resume to start a new run there")
    try:
        stored = config_class.from_json(path.read_text())
        stored.validate()
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise RunDirectoryError(
            f"{str(path)!r} is damaged ({type(error).__name__}: {error}); it holds the run's "
            f"options: restore it from a backup or rewrite it with the options of the original "
            f"command, or start a new run in another folder") from None
    return stored


def resume_differences(family: Any, config: Any, stored: Any) -> list[str]:
    """``"name new (run: stored)"`` for every option that may not change on resume.

    Args:
        family: The :class:`~progan_tf.training.family.ModelFamily` (its ``comparable`` and
            ``safe_on_resume``).
        config: The options of the command that resumes.
        stored: The run's options.
    """
    new, old = family.comparable(config), family.comparable(stored)
    return [f"{name} {new[name]!r} (run: {old[name]!r})" for name in new
            if name not in family.safe_on_resume and new[name] != old[name]]


def resume_config(family: Any, config: Any, run_dir: str | os.PathLike) -> Any:
    """The stored run's options, with the fields of ``config`` that may change on resume.

    Raises:
        RunDirectoryError: if ``config`` differs from the run in any other field, naming them.
    """
    stored = read_run_config(family.config_class, run_dir)
    differences = resume_differences(family, config, stored)
    if differences:
        command = f" ({stored.command})" if stored.command else ""
        safe = [name for name in family.safe_on_resume if name not in ("command", "out_dir")]
        raise RunDirectoryError(
            f"cannot resume {str(run_dir)!r} with other options: {'; '.join(differences)}; pass "
            f"the options of the command that started it{command}; only "
            f"{', '.join(safe)} may change when resuming")
    safe = {k: getattr(config, k) for k in family.safe_on_resume}
    return dataclasses.replace(stored, **{**safe, "out_dir": str(run_dir)})


def write_dataset_info(out: Path, info: dict, resuming: bool) -> Path:
    """Write ``dataset.json``; when resuming, warn if the number of examples changed.

    Args:
        out: The run folder.
        info: What the family's ``load_data`` reports (``info["images"]``: the count).
        resuming: Whether the run is being resumed.

    Returns:
        The file's path.
    """
    path = out / DATASET_FILE
    if resuming:  # say so if the data changed since the run started
        before = read_json(path)
        before = before.get("images") if isinstance(before, dict) else None
        if before is not None and before != info["images"]:
            log.warning("the data folder now holds %d usable images, the run started with %s: "
                        "the images shown from here on differ from an uninterrupted run's",
                        info["images"], before)
    return fileio.write_json(path, info)


class RunStart:
    """What a start of a run has written so far; see :func:`starting_run`.

    Attributes:
        out: The run folder.
        command: This start's command line.
        resume: Whether the run is being resumed.
        written: The files this start wrote (a failed first start removes them).
        started: Whether training began (from then on nothing is removed).
    """

    def __init__(self, out: Path, resume: bool, command: str = "") -> None:
        self.out = out
        self.command = command
        self.resume = resume
        self.written: list[Path] = []
        self.started = False

    def begin(self, info: dict, config_json: str) -> None:
        """Write ``dataset.json``, ``run.json`` and this start's line in ``starts.json``.

        A resume rewrites ``run.json`` because the options it may change (``--kimg``, the
        checkpoint interval, ...) are the run's options from now on: an export of a run
        resumed to 100 kimg must not say 40.  ``starts.json`` keeps every start's command, so
        the export can say how the run was made.

        Args:
            info: What the family's ``load_data`` reports (see :func:`write_dataset_info`).
            config_json: The run's options as JSON (on a resume, the stored options with the
                fields a resume may change; see :func:`resume_config`).
        """
        starts = _read_starts(self.out) if self.resume else []
        starts.append({"command": self.command, "resume": self.resume,
                       "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        self.written.append(write_dataset_info(self.out, info, resuming=self.resume))
        self.written.append(fileio.write_json(self.out / STARTS_FILE, starts))
        self.written.append(fileio.write_text(self.out / RUN_FILE, config_json))
        self.started = True


def _read_starts(run_dir: Path) -> list[dict]:
    """``starts.json``'s entries; for a run made before it existed, the one ``run.json`` names."""
    starts = read_json(run_dir / STARTS_FILE)
    if isinstance(starts, list) and all(isinstance(s, dict) and "command" in s for s in starts):
        return starts
    stored = read_json(run_dir / RUN_FILE)
    command = stored.get("command", "") if isinstance(stored, dict) else ""
    return [{"command": command, "resume": False, "time": None}]


def training_commands(run_dir: str | os.PathLike) -> list[str]:
    """The command line of every start of the run in ``run_dir``, first to last.

    A start repeated at once (the same command run again after an interruption) is listed
    once; empty commands (runs started from Python) are left out.

    Example:
    >>> training_commands("no-such-run")
    []
    """
    commands: list[str] = []
    for start in _read_starts(Path(run_dir).expanduser()):
        if start["command"] and (not commands or commands[-1] != start["command"]):
            commands.append(start["command"])
    return commands


def training_command(run_dir: str | os.PathLike) -> str:
    """One line that makes the run again: its starts' commands joined by ``" && "``.

    Example:
    >>> training_command("no-such-run")
    ''
    """
    return " && ".join(training_commands(run_dir))


@contextlib.contextmanager
def starting_run(out: Path, command: str, resume: bool) -> Iterator[RunStart]:
    """Hold ``out``'s lock while a run starts and trains; undo a first start that fails.

    Creates the folder if needed and takes its lock (refusing a folder another process is
    training in); on a first start, checks again that the folder holds no run, now that no
    other process can be creating one.  If the block fails before :meth:`RunStart.begin`, a
    first start removes the files it wrote and the folder it created -- nothing else -- so
    the same command can simply be run again.  A resumed run's files are never removed.

    Args:
        out: The run folder.
        command: The command line, recorded in the lock for whoever finds it held.
        resume: Whether the run is being resumed.

    Yields:
        A :class:`RunStart`; call its ``begin`` once the options and data are known.

    Example:
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> try:
    ...     with starting_run(out, "progan-tf train faces", resume=False):
    ...         raise ValueError("no images")
    ... except ValueError:
    ...     pass
    >>> out.exists()
    False
    """
    created = make_run_dir(out)
    start = RunStart(out, resume, command)
    lock = RunLock(out, command)
    try:
        lock.acquire()
        if not resume:
            check_new_run_dir(out, ignore={LOCK_FILE})
        yield start
    finally:
        lock.release()
        if not start.started:
            if not resume:
                for path in start.written:
                    path.unlink(missing_ok=True)
            if created:
                with contextlib.suppress(OSError):
                    out.rmdir()


def remove_temporaries(run_dir: Path) -> None:
    """Delete the temporary files of atomic writes a kill cut short (``.run.json.*``, ...)."""
    for pattern in (f".{RUN_FILE}.*", f".{DATASET_FILE}.*", f".{STARTS_FILE}.*", ".losses.csv.*",
                    ".losses.png.*"):
        for path in run_dir.glob(pattern):
            path.unlink(missing_ok=True)


def run_arch(run_dir: str | os.PathLike) -> str | None:
    """Which family a run folder holds: ``"dcgan"``, ``"progan"``, or ``None`` (no run).

    ``run.json`` names it under ``"arch"``; one without the field is a progressive GAN's, the
    only family there was before.

    A ``run.json`` that cannot be read counts as no answer (``None``): the family's own
    resume then explains what is wrong with it.

    Example:
    >>> run_arch("no-such-run") is None
    True
    """
    try:
        stored = json.loads((Path(run_dir).expanduser() / "run.json").read_text())
    except (OSError, ValueError):
        return None
    return stored.get("arch", "progan") if isinstance(stored, dict) else None


def check_run_arch(run_dir: str | os.PathLike, arch: str, advice: str | None = None) -> None:
    """Refuse a run of another family in one line, before anything is touched.

    Args:
        run_dir: The run folder.
        arch: The family the caller trains or exports (``"dcgan"``, ``"progan"``).
        advice: What to do instead (default: resume it with ``--arch`` of its family).

    Raises:
        RunDirectoryError: ``run_dir`` holds a run of another family than ``arch``.

    Example:
    >>> check_run_arch("no-such-run", "dcgan")  # no run: the resume itself says so
    """
    found = run_arch(run_dir)
    if found is not None and found != arch:
        advice = advice or (f"resume it with --arch {found}, or choose another folder for a "
                            f"new {arch} run")
        raise RunDirectoryError(f"{str(run_dir)!r} holds a {found} run, not a {arch} one; "
                                f"{advice}")
