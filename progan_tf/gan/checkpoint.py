"""Atomic, self-checking training checkpoints: everything needed to continue a run exactly.

A checkpoint is a folder ``checkpoints/ckpt-<images shown>/`` with the weights of G, D and the
EMA generator, both optimizers' state, the noise generator's state and the image counter.  It is
written to a hidden temporary folder first and renamed into place, so a crash, a SIGKILL or a
full disk at any moment leaves every earlier checkpoint intact.  ``state.json`` is written last
and records a SHA-256 digest of every array file, so a checkpoint is *loadable* only when all of
its files are exactly what was written.

Which checkpoint to continue from is decided by looking at the ``ckpt-*`` folders themselves --
the newest loadable one wins -- not by trusting the ``latest`` pointer (still written, for
people and older tools).  A damaged newest checkpoint therefore costs one checkpoint interval,
never the run.  Everything that removes a checkpoint first renames it to a hidden name this
module recognises (``.deleting-ckpt-*``, ``.replaced-ckpt-*``), so a kill half-way through a
deletion never leaves a half-deleted ``ckpt-*`` folder; :func:`clean_up` finishes (or, for a
replaced checkpoint whose successor never arrived, undoes) such work at the next start.

Why NumPy ``.npz`` files and not ``tf.train.Checkpoint``: ``tf.train.Checkpoint`` matches
variables through the tracked object graph, but Keras 3 layers kept in Python lists (our
per-resolution blocks) are not tracked by it -- a ``tf.train.Checkpoint`` of a generator holds
only the variables its optimizer happens to reference, so it would silently drop the weights of
every resolution not being trained.  Keras' own variable paths are not stable either (layer
names get a process-wide counter: ``equalized_conv2d_6``).  So each network's weights are stored
under stable *structural* names (``blocks.1.0.kernel``, the attribute path inside the network),
matched by name on restore and checked for shape; optimizer slots are stored in order together
with the structural names of the variables they belong to, which must match as well.  A
checkpoint written by a different layer order or configuration is refused with a message
instead of being loaded into the wrong layers; checkpoints of the older positional format are
still read, with their count and every shape checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from progan_tf.errors import RunDirectoryError

log = logging.getLogger(__name__)

LATEST = "latest"
STATE = "state.json"
NETWORKS = ("generator", "discriminator", "ema_generator")
OPTIMIZERS = ("g_optimizer", "d_optimizer")
FORMAT = 2
# Hidden names of unfinished work: a save in progress, a checkpoint being deleted by rotation,
# a checkpoint being replaced by a re-save at the same image count.
TMP_PREFIX = ".tmp-ckpt-"
DELETING_PREFIX = ".deleting-"  # + the checkpoint's name + a random suffix
REPLACED_PREFIX = ".replaced-"
DAMAGED_PREFIX = "damaged-ckpt-"
_NAME = re.compile(r"ckpt-(\d+)")
# What reading a damaged .npz raises: truncated/zeroed/bit-flipped zips, bad headers, ...
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
                zlib.error)


def umask() -> int:
    """The process' file-creation mask (to give temporary files the permissions of new ones)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_umask = umask  # the name older callers use


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would hide it from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def checkpoint_images(path) -> int | None:
    """The image count in a checkpoint folder's name (``ckpt-000000000096`` -> 96), or None."""
    match = _NAME.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


def variable_names(network) -> list[str]:
    """Stable names of ``network.weights``, in that order: their attribute paths.

    ``generator.blocks[1][0].kernel`` is named ``blocks.1.0.kernel`` however many layers the
    process created before (Keras' own paths carry a global counter).  A variable that cannot
    be reached through public attributes falls back to its position, ``weights.<index>``.
    """
    import keras

    found, seen = {}, set()

    def visit(obj, name):
        if isinstance(obj, keras.Variable):
            found.setdefault(id(obj), name)
        elif isinstance(obj, keras.layers.Layer) and id(obj) not in seen:
            seen.add(id(obj))
            for attr, value in vars(obj).items():
                if not attr.startswith("_"):
                    visit(value, f"{name}.{attr}" if name else attr)
        elif isinstance(obj, (list, tuple)):
            for index, item in enumerate(obj):
                visit(item, f"{name}.{index}")

    visit(network, "")
    names = [found.get(id(v), f"weights.{i}") for i, v in enumerate(network.weights)]
    if len(set(names)) != len(names):  # shared variables: positions are the only safe names
        names = [f"weights.{i}" for i in range(len(names))]
    return names


def _digest(path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _save_arrays(path, arrays):
    """Write ``arrays`` (a dict by name, or a list stored as ``arr_<i>``) and fsync them."""
    with open(path, "wb") as handle:
        if isinstance(arrays, dict):
            np.savez(handle, **arrays)
        else:
            np.savez(handle, *arrays)
        handle.flush()
        os.fsync(handle.fileno())


def _load_arrays(path) -> dict:
    """All arrays of an ``.npz`` by name, read completely (so that damage shows here)."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


class _Damage(Exception):
    """A file that cannot be read back (its cause is the reading error)."""


def _read(path) -> dict:
    try:
        return _load_arrays(path)
    except _READ_ERRORS as error:
        raise _Damage() from error


def _positional(arrays: dict):
    """The arrays of an ``arr_<i>`` file in order, or None when it holds named arrays."""
    keys = [f"arr_{i}" for i in range(len(arrays))]
    return [arrays[k] for k in keys] if set(keys) == set(arrays) else None


def _fsync_dir(directory):
    """Make a rename durable (best effort: not every file system lets a folder be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _aside(path, prefix) -> Path:
    """Rename ``path`` to a hidden ``<prefix><name>-<random>`` beside it; returns the new path."""
    target = path.with_name(f"{prefix}{path.name}-{secrets.token_hex(4)}")
    os.replace(path, target)
    return target


def save(model, directory, keep=2, extra_state=None):
    """Write a checkpoint of ``model`` (a :class:`~progan_tf.gan.model.ProGAN`) under
    ``directory`` and keep the newest ``keep`` loadable checkpoints.

    Args:
        model: the ProGAN to save.
        directory: the run's ``checkpoints`` folder (created if needed).
        keep: how many loadable checkpoints to keep; older ones are deleted only after the new
            one is completely written.
        extra_state: more JSON-serialisable entries for ``state.json``.

    Returns:
        The checkpoint's path.

    Raises:
        RunDirectoryError: if the checkpoint cannot be written (full disk, permissions); every
            earlier checkpoint is left as it was.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    images_shown = int(model.images_shown.numpy())
    final = directory / f"ckpt-{images_shown:012d}"
    tmp = Path(tempfile.mkdtemp(dir=directory, prefix=TMP_PREFIX))
    replaced = None
    try:
        files = {}
        for name in NETWORKS:
            network = getattr(model, name)
            files[f"{name}.npz"] = dict(zip(variable_names(network), network.get_weights()))
        references = {}
        for name, network in zip(OPTIMIZERS, ("generator", "discriminator")):
            optimizer = getattr(model, name)
            files[f"{name}.npz"] = ([v.numpy() for v in optimizer.variables]
                                    if optimizer is not None else [])
            references[name] = _stage_names(getattr(model, network))
        for filename, arrays in files.items():
            _save_arrays(tmp / filename, arrays)
        state = {"format": FORMAT,
                 "images_shown": images_shown,
                 "ema_updates": int(model.ema_updates.numpy()),
                 "optimizer_resolution": model.optimizer_resolution,
                 "optimizer_variables": references,
                 "phase_index": model.phase.index if model.phase is not None else None,
                 "rng_state": model.rng.state.numpy().tolist(),
                 "rng_algorithm": int(model.rng.algorithm),
                 "files": {filename: _digest(tmp / filename) for filename in files},
                 **(extra_state or {})}
        write_text_atomic(tmp / STATE, json.dumps(state, indent=2))
        if final.exists():  # a re-save at the same count: never a moment without a checkpoint
            replaced = _aside(final, REPLACED_PREFIX)
        os.replace(tmp, final)
        _fsync_dir(directory)
        write_text_atomic(directory / LATEST, final.name)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if replaced is not None and not final.exists():
            os.replace(replaced, final)
            replaced = None
        previous = latest(directory)
        kept = (f"the previous checkpoint {previous.name} is intact" if previous
                else "no earlier checkpoint exists")
        raise RunDirectoryError(
            f"could not write a checkpoint in {str(directory)!r} ({error.strerror or error}); "
            f"{kept}; free disk space and continue with --resume") from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if replaced is not None and not final.exists():
            os.replace(replaced, final)
        raise
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    rotate(directory, keep)
    return final


def _stage_names(network) -> list[str]:
    """Structural names of the variables the network's optimizer is built over."""
    names = dict(zip(map(id, network.weights), variable_names(network)))
    return [names.get(id(v), "?") for v in network.stage_variables()]


def rotate(directory, keep=2) -> list[str]:
    """Delete checkpoints older than the newest ``keep`` loadable ones; returns their names.

    A damaged checkpoint never counts towards ``keep``, so the last loadable checkpoints are
    never deleted.  Each doomed folder is renamed to ``.deleting-ckpt-*`` before it is deleted:
    a kill in between leaves a hidden folder (removed by :func:`clean_up`), not a half-deleted
    checkpoint that looks complete.
    """
    directory = Path(directory)
    good, doomed = [], []
    for path in checkpoints(directory):
        if len(good) >= keep:
            doomed.append(path)
        elif problem(path) is None:
            good.append(path)
    for path in doomed:
        try:
            shutil.rmtree(_aside(path, DELETING_PREFIX))
        except OSError as error:
            log.warning("could not delete the old checkpoint %s (%s)", path, error)
    return [p.name for p in doomed]


def checkpoints(directory) -> list[Path]:
    """The ``ckpt-*`` folders under ``directory``, newest (most images shown) first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(checkpoint_images(p), p) for p in directory.iterdir()]
    return [p for count, p in sorted(found, key=lambda item: item[0] or 0, reverse=True)
            if count is not None and p.is_dir()]


def problem(checkpoint) -> str | None:
    """Why ``checkpoint`` cannot be loaded (a short phrase), or None when it is complete.

    Reads every file: the digests in ``state.json`` must match (older checkpoints without
    digests are decoded completely instead).
    """
    checkpoint = Path(checkpoint)
    try:
        state = json.loads((checkpoint / STATE).read_text())
    except FileNotFoundError:
        return f"it has no {STATE} (it was not completely written, or was emptied)"
    except (OSError, ValueError) as error:
        return f"its {STATE} is damaged ({type(error).__name__}: {error})"
    if not isinstance(state, dict) or not isinstance(state.get("images_shown"), int) \
            or not isinstance(state.get("rng_state"), list):
        return f"its {STATE} lacks the image counter or the noise state"
    files = state.get("files")
    names = files if isinstance(files, dict) else [f"{n}.npz" for n in NETWORKS + OPTIMIZERS]
    for name in names:
        path = checkpoint / name
        try:
            if isinstance(files, dict):
                if _digest(path) != files[name]:
                    return f"{name} is damaged (its checksum does not match)"
            else:
                _load_arrays(path)
        except FileNotFoundError:
            return f"{name} is missing"
        except _READ_ERRORS as error:
            return f"{name} cannot be read ({type(error).__name__}: {error})"
    return None


def find_loadable(directory) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest loadable checkpoint under ``directory`` and the newer ones skipped, with why.

    Returns:
        ``(checkpoint or None, [(skipped checkpoint, reason), ...])``.
    """
    skipped = []
    for path in checkpoints(directory):
        reason = problem(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped


def latest(directory):
    """Path of the newest complete, loadable checkpoint under ``directory``, or None.

    Found by looking at the ``ckpt-*`` folders, so a missing, empty or stale ``latest`` pointer
    and a damaged newest checkpoint only mean falling back to the previous one.
    """
    return find_loadable(directory)[0]


def set_aside(checkpoint) -> Path:
    """Rename a damaged ``ckpt-*`` folder to ``damaged-ckpt-*`` (kept for inspection, out of the
    way of resuming and rotation).  Returns the new path."""
    checkpoint = Path(checkpoint)
    target = checkpoint.with_name(DAMAGED_PREFIX + checkpoint.name[len("ckpt-"):])
    if target.exists():
        target = target.with_name(f"{target.name}-{secrets.token_hex(4)}")
    os.replace(checkpoint, target)
    return target


def clean_up(directory) -> list[str]:
    """Finish what killed saves and deletions left behind in a ``checkpoints`` folder.

    Removes ``.tmp-ckpt-*`` (a save that never completed), ``.deleting-ckpt-*`` (a rotation
    cut short) and temporary ``latest`` files; a ``.replaced-ckpt-*`` folder is deleted when the
    checkpoint that replaced it exists, and renamed back otherwise.  Only names this module
    creates are touched.  Call it only while holding the run's lock.

    Returns:
        Descriptions of what was done (for a log line).
    """
    directory = Path(directory)
    done = []
    if not directory.is_dir():
        return done
    for path in sorted(directory.iterdir()):
        name = path.name
        try:
            if path.is_dir() and name.startswith((TMP_PREFIX, DELETING_PREFIX + "ckpt-")):
                shutil.rmtree(path)
                done.append(f"removed {name}")
            elif path.is_dir() and name.startswith(REPLACED_PREFIX + "ckpt-"):
                original = directory / name[len(REPLACED_PREFIX):].rsplit("-", 1)[0]
                if _NAME.fullmatch(original.name) and not original.exists():
                    os.replace(path, original)
                    done.append(f"restored {original.name}")
                else:
                    shutil.rmtree(path)
                    done.append(f"removed {name}")
            elif path.is_file() and name.startswith(f".{LATEST}."):
                path.unlink()
                done.append(f"removed {name}")
        except OSError as error:
            log.warning("could not clean up %s (%s)", path, error)
    return done


def read_state(checkpoint) -> dict:
    """The ``state.json`` of ``checkpoint`` as a dict.

    Raises:
        RunDirectoryError: if it is missing or damaged.
    """
    path = Path(checkpoint) / STATE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RunDirectoryError(
            f"cannot read {str(path)!r} ({type(error).__name__}: {error}); move the checkpoint "
            f"out of the checkpoints folder to fall back to an older one") from None
    if not isinstance(state, dict) or not isinstance(state.get("images_shown"), int):
        raise RunDirectoryError(f"{str(path)!r} lacks the image counter; move the checkpoint out "
                                f"of the checkpoints folder to fall back to an older one")
    return state


def _match(network, arrays: dict, label: str) -> list:
    """The arrays for ``network.weights`` in order, matched by name and checked for shape."""
    weights = network.weights
    values = _positional(arrays)
    if values is not None:  # the older positional format: the count and every shape must fit
        if len(values) != len(weights):
            raise ValueError(f"{label} holds {len(values)} arrays, the model has {len(weights)}")
        names = [f"weights.{i}" for i in range(len(weights))]
    else:
        names = variable_names(network)
        missing = [n for n in names if n not in arrays]
        extra = sorted(set(arrays) - set(names))
        if missing or extra:
            raise ValueError(f"{label} does not fit the model (missing: {missing[:3] or 'none'}; "
                             f"unknown: {extra[:3] or 'none'})")
        values = [arrays[n] for n in names]
    for name, variable, value in zip(names, weights, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{label}: {name} has shape {value.shape}, the model's is "
                             f"{tuple(variable.shape)}")
    return values


def restore(model, checkpoint):
    """Load a checkpoint into ``model``.  Call :meth:`ProGAN.start_phase` first (it builds the
    optimizers for the phase's resolution); optimizer state is restored only when it belongs to
    that resolution, otherwise the fresh optimizers are kept (the paper resets them anyway).

    Every array is read and checked before the first one is assigned, so a failure leaves
    ``model`` as it was.

    Returns:
        The checkpoint's state (``state.json``).

    Raises:
        RunDirectoryError: if a file is damaged, or the checkpoint does not fit ``model``.
    """
    checkpoint = Path(checkpoint)
    state = read_state(checkpoint)
    assignments = []
    try:
        reason = problem(checkpoint)
        if reason is not None:
            raise _Damage() from ValueError(reason)
        for name in NETWORKS:
            network = getattr(model, name)
            arrays = _read(checkpoint / f"{name}.npz")
            assignments += zip(network.weights, _match(network, arrays, f"{name}.npz"))
        if state.get("optimizer_resolution") == model.optimizer_resolution:
            for name, network in zip(OPTIMIZERS, ("generator", "discriminator")):
                assignments += _optimizer_values(model, name, network, checkpoint, state)
    except _Damage as damage:
        error = damage.__cause__
        raise RunDirectoryError(
            f"checkpoint {str(checkpoint)!r} is damaged ({type(error).__name__}: {error}); move "
            f"it out of the checkpoints folder to fall back to an older one, or start a new "
            f"run") from error
    except ValueError as error:
        raise RunDirectoryError(
            f"checkpoint {str(checkpoint)!r} does not fit this model ({error}); it was written "
            f"with other options (resolution, latent size, widths) or another layer order; "
            f"resume with the run's own options, or start a new run") from None
    for variable, value in assignments:
        variable.assign(value)
    model.images_shown.assign(int(state["images_shown"]))
    model.ema_updates.assign(int(state.get("ema_updates", 0)))
    model.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))
    return state


def _optimizer_values(model, name, network, checkpoint, state):
    """(variable, value) pairs of one optimizer, checked against the model's."""
    optimizer = getattr(model, name)
    values = _positional(_read(checkpoint / f"{name}.npz"))
    label = f"{name}.npz"
    expected = state.get("optimizer_variables", {}).get(name)
    if expected is not None and expected != _stage_names(getattr(model, network)):
        raise ValueError(f"{label} belongs to other variables than the model's {network} trains")
    if values is None or len(values) != len(optimizer.variables):
        raise ValueError(f"{label} has {len(values or [])} variables, the model's optimizer has "
                         f"{len(optimizer.variables)}")
    for variable, value in zip(optimizer.variables, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{label}: {variable.path} has shape {value.shape}, the model's is "
                             f"{tuple(variable.shape)}")
    return list(zip(optimizer.variables, values))
