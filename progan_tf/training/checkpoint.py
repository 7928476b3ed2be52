"""Atomic, self-checking training checkpoints: everything needed to continue a run exactly.

A checkpoint is a folder ``checkpoints/ckpt-<images shown>/`` with one ``.npz`` file per network
and per optimizer of the model (for ProGAN: G, D, the EMA generator and both optimizers), and a
``state.json`` with the image counter and whatever else the model needs to continue exactly (its
noise generator's state, ...).  It is written to a hidden temporary folder first and renamed into
place, so a crash, a SIGKILL or a full disk at any moment leaves every earlier checkpoint intact.
``state.json`` is written last and records a SHA-256 digest of every array file, so a checkpoint
is *loadable* only when all of its files are exactly what was written.

Which checkpoint to continue from is decided by looking at the ``ckpt-*`` folders themselves --
the newest loadable one wins -- not by trusting the ``latest`` pointer (still written, for
people and older tools).  A damaged newest checkpoint therefore costs one checkpoint interval,
never the run.  Everything that removes a checkpoint first renames it to a hidden name this
module recognises (``.deleting-ckpt-*``, ``.replaced-ckpt-*``), so a kill half-way through a
deletion never leaves a half-deleted ``ckpt-*`` folder; :func:`clean_up` finishes (or, for a
replaced checkpoint whose successor never arrived, undoes) such work at the next start.

Weights are stored by structural name (see :mod:`progan_tf.training.weights` for why);
optimizer slots are stored in order together with the structural names of the variables they
belong to, which must match as well.  A checkpoint written by a different layer order or
configuration is refused with a message instead of being loaded into the wrong layers.

What a model must offer to be checkpointed (the :class:`~progan_tf.training.family.Trainable`
part of the model-family interface): an ``images_shown`` counter variable and the methods
``checkpoint_networks()``, ``checkpoint_optimizers()``, ``checkpoint_state()``,
``optimizer_state_applies(state)`` and ``restore_checkpoint_state(state)``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from progan_tf import fileio
from progan_tf.errors import RunDirectoryError
from progan_tf.training.weights import (
    READ_ERRORS,
    file_digest,
    load_arrays,
    match_arrays,
    positional,
    save_arrays,
    variable_names,
)

__all__ = ["DAMAGED_PREFIX", "DELETING_PREFIX", "FORMAT", "LATEST", "LEGACY_FILES",
           "REPLACED_PREFIX", "STATE", "TMP_PREFIX", "checkpoint_images", "checkpoints",
           "clean_up", "file_digest", "find_loadable", "latest", "problem", "read_state",
           "restore", "rotate", "save", "set_aside", "variable_names"]

log = logging.getLogger(__name__)

LATEST = "latest"
STATE = "state.json"
FORMAT = 2
# Checkpoints written before format 2 record no file digests; they are ProGAN's (the only family
# then), and these are the files they must hold.
LEGACY_FILES = ("generator.npz", "discriminator.npz", "ema_generator.npz", "g_optimizer.npz",
                "d_optimizer.npz")
# Hidden names of unfinished work: a save in progress, a checkpoint being deleted by rotation,
# a checkpoint being replaced by a re-save at the same image count.
TMP_PREFIX = ".tmp-ckpt-"
DELETING_PREFIX = ".deleting-"  # + the checkpoint's name + a random suffix
REPLACED_PREFIX = ".replaced-"
DAMAGED_PREFIX = "damaged-ckpt-"
_NAME = re.compile(r"ckpt-(\d+)")


def checkpoint_images(path: str | os.PathLike) -> int | None:
    """The image count in a checkpoint folder's name (``ckpt-000000000096`` -> 96), or None."""
    match = _NAME.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


def _fsync_dir(directory: Path) -> None:
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


def _aside(path: Path, prefix: str) -> Path:
    """Rename ``path`` to a hidden ``<prefix><name>-<random>`` beside it; returns the new path."""
    target = path.with_name(f"{prefix}{path.name}-{secrets.token_hex(4)}")
    os.replace(path, target)
    return target


def save(model: Any, directory: str | os.PathLike, keep: int = 2,
         extra_state: dict | None = None) -> Path:
    """Write a checkpoint of ``model`` under ``directory``; keep the newest ``keep`` loadable.

    The newest checkpoint of each earlier phase is kept as well (see :func:`rotate`).

    Args:
        model: The model to save: a ``keras.Model`` with the checkpoint methods of
            :class:`~progan_tf.training.family.Trainable` (e.g. ProGAN's).
        directory: The run's ``checkpoints`` folder (created if needed).
        keep: How many loadable checkpoints to keep (default 2); older ones are deleted only
            after the new one is completely written.
        extra_state: More JSON-serialisable entries for ``state.json`` (default ``None``).

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
        networks = model.checkpoint_networks()
        for name, network in networks.items():
            files[f"{name}.npz"] = dict(zip(variable_names(network), network.get_weights()))
        references = {}
        for name, (optimizer, owner, variables) in model.checkpoint_optimizers().items():
            files[f"{name}.npz"] = ([v.numpy() for v in optimizer.variables]
                                    if optimizer is not None else [])
            references[name] = _names_of(networks[owner], variables)
        for filename, arrays in files.items():
            save_arrays(tmp / filename, arrays)
        state = {"format": FORMAT,
                 "images_shown": images_shown,
                 **model.checkpoint_state(),
                 "optimizer_variables": references,
                 "files": {filename: file_digest(tmp / filename) for filename in files},
                 **(extra_state or {})}
        fileio.write_json(tmp / STATE, state)
        if final.exists():  # a re-save at the same count: never a moment without a checkpoint
            replaced = _aside(final, REPLACED_PREFIX)
        os.replace(tmp, final)
        _fsync_dir(directory)
        fileio.write_text(directory / LATEST, final.name)
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


def _names_of(network: Any, variables: list) -> list[str]:
    """Structural names of ``variables`` (an optimizer's, all of them ``network``'s)."""
    names = dict(zip(map(id, network.weights), variable_names(network)))
    return [names.get(id(v), "?") for v in variables]


def rotate(directory: str | os.PathLike, keep: int = 2, keep_each_phase: bool = True) -> list[str]:
    """Delete checkpoints older than the newest ``keep`` loadable ones; returns their names.

    A damaged checkpoint never counts towards ``keep``, so the last loadable checkpoints are
    never deleted.  Each doomed folder is renamed to ``.deleting-ckpt-*`` before it is deleted:
    a kill in between leaves a hidden folder (removed by :func:`clean_up`), not a half-deleted
    checkpoint that looks complete.

    Args:
        directory: The run's ``checkpoints`` folder.
        keep: How many of the newest loadable checkpoints to keep (default 2).
        keep_each_phase: Also keep the newest loadable checkpoint of every earlier phase (the
            ``phase_index`` of its ``state.json``; default ``True``), so that a phase that goes
            wrong -- a fade-in that destabilises the model -- can be trained again from the end
            of the phase before it instead of from scratch.  A progressive run keeps at most
            one checkpoint per phase more; single-phase families have nothing extra to keep.
    """
    directory = Path(directory)
    good, doomed, phases = [], [], set()
    for path in checkpoints(directory):
        if len(good) < keep:
            if problem(path) is None:
                good.append(path)
                phases.add(_phase_index(path))
            continue
        phase = _phase_index(path) if keep_each_phase else None
        if phase is not None and phase not in phases and problem(path) is None:
            phases.add(phase)  # the newest checkpoint of an earlier phase
            continue
        doomed.append(path)
    for path in doomed:
        try:
            shutil.rmtree(_aside(path, DELETING_PREFIX))
        except OSError as error:
            log.warning("could not delete the old checkpoint %s (%s)", path, error)
    return [p.name for p in doomed]


def _phase_index(checkpoint: Path) -> int | None:
    """The ``phase_index`` a checkpoint's state records (None: none, or unreadable)."""
    try:
        phase = read_state(checkpoint).get("phase_index")
    except RunDirectoryError:
        return None
    return phase if isinstance(phase, int) else None


def checkpoints(directory: str | os.PathLike) -> list[Path]:
    """The ``ckpt-*`` folders under ``directory``, newest (most images shown) first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(checkpoint_images(p), p) for p in directory.iterdir()]
    return [p for count, p in sorted(found, key=lambda item: item[0] or 0, reverse=True)
            if count is not None and p.is_dir()]


def problem(checkpoint: str | os.PathLike) -> str | None:
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
    if not isinstance(state, dict) or not isinstance(state.get("images_shown"), int):
        return f"its {STATE} lacks the image counter"
    files = state.get("files")
    if not isinstance(files, dict) and not isinstance(state.get("rng_state"), list):
        return f"its {STATE} lacks the list of files and the noise state"  # nor is it legacy
    names = files if isinstance(files, dict) else LEGACY_FILES
    for name in names:
        path = checkpoint / name
        try:
            if isinstance(files, dict):
                if file_digest(path) != files[name]:
                    return f"{name} is damaged (its checksum does not match)"
            else:
                load_arrays(path)
        except FileNotFoundError:
            return f"{name} is missing"
        except READ_ERRORS as error:
            return f"{name} cannot be read ({type(error).__name__}: {error})"
    return None


def find_loadable(directory: str | os.PathLike) -> tuple[Path | None, list[tuple[Path, str]]]:
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


def latest(directory: str | os.PathLike) -> Path | None:
    """Path of the newest complete, loadable checkpoint under ``directory``, or None.

    Found by looking at the ``ckpt-*`` folders, so a missing, empty or stale ``latest`` pointer
    and a damaged newest checkpoint only mean falling back to the previous one.
    """
    return find_loadable(directory)[0]


def set_aside(checkpoint: str | os.PathLike) -> Path:
    """Rename a damaged ``ckpt-*`` folder to ``damaged-ckpt-*``.

    It is kept for inspection, out of the way of resuming and rotation.

    Returns:
        The new path.
    """
    checkpoint = Path(checkpoint)
    target = checkpoint.with_name(DAMAGED_PREFIX + checkpoint.name[len("ckpt-"):])
    if target.exists():
        target = target.with_name(f"{target.name}-{secrets.token_hex(4)}")
    os.replace(checkpoint, target)
    return target


def clean_up(directory: str | os.PathLike) -> list[str]:
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


def read_state(checkpoint: str | os.PathLike) -> dict:
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


def restore(model: Any, checkpoint: str | os.PathLike) -> dict:
    """Load a checkpoint into ``model``.

    Call the model's ``start_phase`` first (for ProGAN it builds the optimizers for the phase's
    resolution): optimizer state is restored only when ``model.optimizer_state_applies(state)``,
    otherwise the fresh optimizers are kept (ProGAN's paper resets them at a new resolution
    anyway).  Every array is read and checked before the first one is assigned, so a failure
    leaves ``model`` as it was.

    Args:
        model: The model to load into (see :func:`save`).
        checkpoint: A ``ckpt-*`` folder.

    Returns:
        The checkpoint's state (``state.json``).

    Raises:
        RunDirectoryError: if a file is damaged, or the checkpoint does not fit ``model``.
    """
    checkpoint = Path(checkpoint)
    state = read_state(checkpoint)
    reason = problem(checkpoint)
    if reason is not None:
        raise _damaged(checkpoint, ValueError(reason))
    try:
        assignments = _assignments(model, checkpoint, state)
    except ValueError as error:
        raise RunDirectoryError(
            f"checkpoint {str(checkpoint)!r} does not fit this model ({error}); it was written "
            f"with other options (resolution, latent size, widths) or another layer order; "
            f"resume with the run's own options, or start a new run") from None
    for variable, value in assignments:
        variable.assign(value)
    model.images_shown.assign(int(state["images_shown"]))
    model.restore_checkpoint_state(state)
    return state


def _damaged(checkpoint: Path, error: BaseException) -> RunDirectoryError:
    return RunDirectoryError(
        f"checkpoint {str(checkpoint)!r} is damaged ({type(error).__name__}: {error}); move "
        f"it out of the checkpoints folder to fall back to an older one, or start a new run")


def _read(checkpoint: Path, filename: str) -> dict:
    """The arrays of one file of ``checkpoint``; a damaged file is a one-line error."""
    try:
        return load_arrays(checkpoint / filename)
    except READ_ERRORS as error:
        raise _damaged(checkpoint, error) from error


def _assignments(model: Any, checkpoint: Path, state: dict) -> list:
    """Every (variable, value) pair the checkpoint restores, read and checked.

    Raises:
        RunDirectoryError: a file is damaged.
        ValueError: the checkpoint does not fit ``model``.
    """
    networks = model.checkpoint_networks()
    assignments = []
    for name, network in networks.items():
        arrays = _read(checkpoint, f"{name}.npz")
        assignments += zip(network.weights, match_arrays(network, arrays, f"{name}.npz"))
    if not model.optimizer_state_applies(state):
        return assignments
    expected_names = state.get("optimizer_variables", {})
    for name, (optimizer, owner, variables) in model.checkpoint_optimizers().items():
        label = f"{name}.npz"
        values = positional(_read(checkpoint, label))
        expected = expected_names.get(name)
        if expected is not None and expected != _names_of(networks[owner], variables):
            raise ValueError(f"{label} belongs to other variables than the model's {owner} "
                             f"trains")
        if values is None or len(values) != len(optimizer.variables):
            raise ValueError(f"{label} has {len(values or [])} variables, the model's optimizer "
                             f"has {len(optimizer.variables)}")
        for variable, value in zip(optimizer.variables, values):
            if tuple(variable.shape) != value.shape:
                raise ValueError(f"{label}: {variable.path} has shape {value.shape}, the "
                                 f"model's is {tuple(variable.shape)}")
        assignments += zip(optimizer.variables, values)
    return assignments
