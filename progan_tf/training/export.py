"""Export mechanics shared by every family: a folder that appears whole, or not at all.

An export is what users load: a TF2 SavedModel whose ``default`` signature is the family's
serving function, the Keras files of its networks (``*.keras``, to fine-tune) and
``metadata.json`` (``"format": "progan-tf export 1"`` plus what the family and the run record).
What the signature computes is the family's business (ProGAN: latents to images in [0, 1], see
:mod:`progan_tf.gan.export`); this module makes it robust and writes the folder safely.

Why the signature holds its weights as constants
------------------------------------------------
Tutorials keep only the signature: ``fn = hub.load(path).signatures["default"]``.  In a TF2
SavedModel a signature captures its variables *weakly*: they belong to the loaded object, so
once that object is garbage-collected, calling ``fn`` under a ``GradientTape`` fails with
"Called a function referencing variables which have been deleted".  TF1 Hub modules (such as
progan-128) do not suffer because ``hub.load`` wraps their graph in a pruned
``WrappedFunction`` whose own graph keeps the variables alive.  :func:`frozen_function` gets the
same robustness more simply: it runs the Keras network through ``stateless_call`` with the
weights it uses baked in as graph constants, so the function references no variable at all and
nothing can be deleted under it.  The outputs are bit-identical to running the Keras model, and
weights the traced call does not use (a progressive network's higher resolutions) are not
stored.

Replacing an export
-------------------
``overwrite=True`` only ever replaces an earlier export (see :func:`is_export`), never a run,
the current folder or a folder holding the run, and never a folder with files an export does
not have.  The new export is assembled beside ``out_dir`` and swapped in atomically (Linux's
``renameat2(RENAME_EXCHANGE)``; elsewhere two renames), so a crash leaves the old or the new
export complete at ``out_dir``; hidden ``.NAME.tmp-*`` / ``.NAME.old-*`` folders a killed export
leaves behind are removed by the next export to the same folder.
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tensorflow as tf

from progan_tf import fileio
from progan_tf.errors import RunDirectoryError
from progan_tf.training import checkpoint
from progan_tf.training.runs import (
    DATASET_FILE,
    RUN_FILE,
    read_json,
    training_command,
    training_commands,
)

METADATA = "metadata.json"
FORMAT = "progan-tf export 1"
# What an export folder may hold besides its networks' Keras files (``*.keras``); anything
# else means it is not (only) ours.
EXPORT_ENTRIES = frozenset({"saved_model.pb", "fingerprint.pb", "variables", "assets", METADATA})


def is_export_entry(name: str) -> bool:
    """Whether a file or folder named ``name`` belongs in an export folder.

    Example:
    >>> is_export_entry("saved_model.pb"), is_export_entry("generator.keras")
    (True, True)
    >>> is_export_entry("my-notes.md")
    False
    """
    return name in EXPORT_ENTRIES or name.endswith(".keras")


def is_export(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder that this package exported (and nothing else).

    Args:
        path: a folder.

    Returns:
        True when ``path`` is a real folder (not a link) holding ``saved_model.pb`` and a
        ``metadata.json`` whose ``format`` is ``"progan-tf export 1"``, and no other entries
        than an export has.
    """
    path = Path(path)
    if path.is_symlink() or not path.is_dir() or not (path / "saved_model.pb").is_file():
        return False
    try:
        info = json.loads((path / METADATA).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(info, dict) and info.get("format") == FORMAT
            and all(is_export_entry(p.name) for p in path.iterdir()))


def _leftover_pattern(name: str):
    return re.compile(rf"\.{re.escape(name)}\.(tmp|old)-[A-Za-z0-9_]+")


def check_export_destination(out_dir: str | os.PathLike, overwrite: bool = False,
                             protect: tuple = ()) -> Path:
    """Raise unless an export may be written to ``out_dir``; call it before any long work.

    Args:
        out_dir: the export folder to be.
        overwrite: allow replacing an earlier export (and only that) or an empty folder.
        protect: further folders (e.g. the training run) that must neither be replaced nor lie
            inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path`` (``~`` expanded).

    Raises:
        RunDirectoryError: one line saying why not and what to do.
    """
    out = Path(out_dir).expanduser()
    shown = repr(str(out))
    for ancestor in reversed(Path(os.path.abspath(out)).parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise RunDirectoryError(f"cannot write the export {shown}: {str(ancestor)!r} is a "
                                    f"file, not a folder; choose another path")
    if out.is_symlink():
        raise RunDirectoryError(f"export folder {shown} is a symbolic link; pass the folder it "
                                f"points to, or another path")
    if not out.exists():
        return out
    if not out.is_dir():
        raise RunDirectoryError(f"export folder {shown} is a file; choose another path")
    real = out.resolve()
    if real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        raise RunDirectoryError(f"export folder {shown} is the current folder or one of its "
                                f"parents; choose a new folder, e.g. {str(out / 'export')!r}")
    for folder in protect:
        folder = Path(folder).expanduser().resolve()
        if real == folder or real in folder.parents:
            raise RunDirectoryError(f"export folder {shown} holds the training run "
                                    f"{str(folder)!r}; choose a new folder beside it")
    if (out / RUN_FILE).exists():
        raise RunDirectoryError(f"export folder {shown} is a training run (it has {RUN_FILE}); "
                                f"choose a new folder for the export")
    empty = not any(out.iterdir())
    if not overwrite:
        hint = (" or pass --overwrite (overwrite=True) to replace this earlier export"
                if is_export(out) else "")
        raise RunDirectoryError(f"export folder {shown} already exists; choose another folder "
                                f"or delete it first{hint}")
    if not (empty or is_export(out)):
        extra = sorted(p.name for p in out.iterdir() if not is_export_entry(p.name))
        what = (f"holds files an export does not ({', '.join(extra[:3])}"
                f"{', ...' if len(extra) > 3 else ''})" if extra
                else "is not an export made by progan-tf (no metadata.json with its format)")
        raise RunDirectoryError(f"export folder {shown} {what}; --overwrite only replaces an "
                                f"earlier export: choose a new folder")
    return out


def remove_leftovers(out: Path) -> None:
    """Delete the hidden temporary folders killed exports to ``out`` left beside it."""
    pattern = _leftover_pattern(out.name)
    for entry in out.parent.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders; False where the system cannot.

    Python's ``os`` has no exchanging rename, so this calls Linux's ``renameat2`` (glibc 2.28+)
    through ctypes.  Without it a crash between "old aside" and "new in" would leave nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _install(tmp: Path, out: Path) -> None:
    """Move the finished export ``tmp`` to ``out``, replacing an earlier export atomically."""
    if not out.exists() or not any(out.iterdir()):
        os.replace(tmp, out)  # rename() replaces an empty folder atomically too
        return
    if exchange(tmp, out):  # ``out`` is the new export, ``tmp`` now holds the old one
        shutil.rmtree(tmp)
        return
    old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old)


def write_export(out_dir: str | os.PathLike, fill: Callable[[Path], None], overwrite: bool = False,
                 protect: tuple = ()) -> Path:
    """Assemble an export with ``fill(folder)`` under a temporary name, then install it.

    Args:
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        fill: Writes the export's files into the temporary folder it is given.
        overwrite: Replace an earlier export (see :func:`check_export_destination`).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``: the complete new export, or left as it was on error.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.

    Example:
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "export"
    >>> def fill(folder):
    ...     _ = write_metadata(folder, {"note": "an empty export"})
    >>> sorted(p.name for p in write_export(out, fill).iterdir())
    ['metadata.json']
    """
    out = check_export_destination(out_dir, overwrite=overwrite, protect=protect)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    except OSError as error:
        raise RunDirectoryError(f"cannot write the export {str(out)!r} ({error}); choose a "
                                f"folder you can write to") from None
    try:
        # mkdtemp's 0700 would hide the model from others: a new folder's mode, as fileio's files
        os.chmod(tmp, 0o777 & ~fileio.umask())
        fill(tmp)
        _install(tmp, out)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunDirectoryError(f"could not write the export {str(out)!r} ({error}); nothing "
                                f"was replaced: free some space or choose another folder") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_metadata(folder: Path, info: dict) -> Path:
    """Write ``metadata.json``: the export format, the time, then ``info``.

    Returns:
        The file's path.
    """
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return fileio.write_json(folder / METADATA, {"format": FORMAT, "exported": now, **info})


def frozen_function(network: Any, input_spec: tf.TensorSpec,
                    output: Callable[[Any], dict]) -> Any:
    """A serving ``tf.function`` of ``network`` with its used weights baked in as constants.

    Args:
        network: A Keras model (at the stage it is to serve).
        input_spec: Its input, e.g. ``tf.TensorSpec([None, 512], tf.float32, name="default")``.
        output: Maps the network's output to the signature's dict of outputs.

    Returns:
        A ``tf.function`` with that input signature; it references no variable.
    """
    traced = tf.function(lambda x: network(x, training=False)).get_concrete_function(input_spec)
    used = {id(v) for v in traced.variables}  # the weights of this call only

    def frozen(variables: list) -> list:
        # NumPy values become Const nodes when the function is traced; unused ones a cheap Fill.
        return [(v.numpy(), None) if id(getattr(v, "value", v)) in used
                else (None, (tuple(v.shape), v.dtype)) for v in variables]

    trainable = frozen(network.trainable_variables)
    non_trainable = frozen(network.non_trainable_variables)

    def constants(values: list) -> list:
        return [tf.constant(array) if array is not None else tf.zeros(*spec)
                for array, spec in values]

    @tf.function(input_signature=[input_spec])
    def serve(inputs: Any) -> dict:
        outputs, _ = network.stateless_call(constants(trainable), constants(non_trainable),
                                            inputs)
        return output(outputs)

    return serve


def save_signature(function: Any, folder: Path, name: str = "progan_tf_generator") -> None:
    """Save ``function`` as the ``default`` signature of a SavedModel in ``folder``."""
    module = tf.Module(name=name)
    module.serve = function
    tf.saved_model.save(module, str(folder), signatures={"default": module.serve})


def rewrite_saved_model(export_dir: str | os.PathLike, network_file: str,
                        serving: Callable[[Any], Any]) -> Path:
    """Rewrite an export's SavedModel from one of its Keras files, in place.

    The Keras files and ``metadata.json`` are copied byte for byte; only the SavedModel is new.

    Args:
        export_dir: An export folder (see :func:`is_export`).
        network_file: The Keras file the signature serves (``generator.keras``); its classes
            must be registered (import the family's networks first).
        serving: Makes the serving function from the loaded network.

    Returns:
        ``export_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``export_dir`` is not an export, or writing failed.
    """
    import keras

    folder = Path(export_dir).expanduser()
    if not is_export(folder) or not (folder / network_file).is_file():
        raise RunDirectoryError(f"{str(folder)!r} is not a progan-tf export with a "
                                f"{network_file}; pass a folder written by 'progan-tf export'")
    network = keras.models.load_model(folder / network_file, compile=False)

    def fill(tmp: Path) -> None:
        save_signature(serving(network), tmp)
        for entry in folder.iterdir():
            if entry.name.endswith(".keras") or entry.name == METADATA:
                shutil.copy2(entry, tmp / entry.name)

    return write_export(folder, fill, overwrite=True)


def export_networks(out_dir: str | os.PathLike, serving: Callable[[Any], Any], generator: Any,
                    discriminator: Any, metadata: dict, overwrite: bool = False,
                    protect: tuple = (), name: str = "progan_tf_generator") -> Path:
    """Write an export of a generator (and its discriminator) through :func:`write_export`.

    Args:
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        serving: ``serving(generator)`` makes the ``default`` signature (traced inside the
            export, after the destination was checked).
        generator: Saved as ``generator.keras``.
        discriminator: Saved as ``discriminator.keras`` when not ``None``.
        metadata: The content of ``metadata.json`` (besides the format).
        overwrite: Replace an earlier export (only that).
        protect: Folders that must not be replaced by or lie inside ``out_dir``.
        name: The name of the saved module (:func:`save_signature`).

    Returns:
        ``out_dir`` as a ``Path``.
    """
    def fill(tmp: Path) -> None:
        save_signature(serving(generator), tmp, name=name)
        generator.save(tmp / "generator.keras")
        if discriminator is not None:
            discriminator.save(tmp / "discriminator.keras")
        write_metadata(tmp, metadata)

    return write_export(out_dir, fill, overwrite, protect)


def export_run(family: Any, run_dir: str | os.PathLike, out_dir: str | os.PathLike,
               metrics: dict | None = None, overwrite: bool = False, **options: Any) -> Path:
    """Export the newest checkpoint of a run with its family's :meth:`export`.

    Args:
        family: The run's :class:`~progan_tf.training.family.ModelFamily`.
        run_dir: A training run folder.
        out_dir: The export folder; new, empty, or (with ``overwrite``) an earlier export.
        metrics: Stored under ``"metrics"`` in ``metadata.json`` (default ``None``: ``{}``).
        overwrite: Replace an earlier export (only that; see :func:`check_export_destination`).
        **options: The family's export options, passed to its ``export_phase``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: not a run, no checkpoint yet, a checkpoint the family refuses to
            export, or ``out_dir`` may not be written.
    """
    run_dir = Path(run_dir).expanduser()
    if not (run_dir / RUN_FILE).exists():
        raise RunDirectoryError(f"{str(run_dir)!r} is not a training run (no {RUN_FILE}); pass the "
                                f"folder given to 'progan-tf train --out'")
    check_export_destination(out_dir, overwrite=overwrite, protect=(run_dir,))
    latest = checkpoint.latest(run_dir / "checkpoints")
    if latest is None:
        raise RunDirectoryError(f"run {str(run_dir)!r} has no checkpoint yet; train longer (a "
                                f"checkpoint is written at every phase end) and export again")
    try:
        config = family.config_class.from_json((run_dir / RUN_FILE).read_text())
        state = checkpoint.read_state(latest)
        schedule = family.schedule(config)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise RunDirectoryError(f"run {str(run_dir)!r} is damaged: its {RUN_FILE} or the state of "
                                f"{latest.name} cannot be read ({error}); restore it from a "
                                f"backup or export another run") from None
    phase, phase_metadata = family.export_phase(schedule, state, run_dir, **options)
    model = family.build_model(config, precision="float32")  # float32 weights load either way
    model.start_phase(phase)
    checkpoint.restore(model, latest)
    metadata = {
        "images_shown": state["images_shown"],
        "kimg": round(state["images_shown"] / 1000, 3),
        "phase": phase.name,
        **phase_metadata,
        **{key: state[key] for key in ("train_seconds", "cpu_seconds") if key in state},
        "schedule": schedule.to_dict(),
        "dataset": read_json(run_dir / DATASET_FILE),
        "training_command": training_command(run_dir) or config.command,
        "training_commands": training_commands(run_dir),
        "config": json.loads(config.to_json()),
        "metrics": metrics or {},
    }
    return family.export(model, out_dir, metadata, overwrite=overwrite, protect=(run_dir,))
