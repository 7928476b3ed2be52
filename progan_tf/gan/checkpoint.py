"""Atomic training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a folder ``checkpoints/ckpt-<images shown>/`` with the weights of G, D and the
EMA generator, both optimizers' state, the noise generator's state and the image counter.  It is
written to a hidden temporary folder first and renamed into place, and the ``latest`` pointer is
replaced atomically after that, so a crash, a SIGKILL or a full disk at any moment leaves the
previous checkpoint intact and ``latest`` pointing at a complete one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from progan_tf.errors import RunDirectoryError

LATEST = "latest"


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide it from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _save_arrays(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, *arrays)
        handle.flush()
        os.fsync(handle.fileno())


def _load_arrays(path):
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def save(model, directory, keep=2, extra_state=None):
    """Write a checkpoint of ``model`` (a :class:`~progan_tf.gan.model.ProGAN`) under
    ``directory``; keep the newest ``keep`` checkpoints.  Returns the checkpoint's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    images_shown = int(model.images_shown.numpy())
    final = directory / f"ckpt-{images_shown:012d}"
    tmp = Path(tempfile.mkdtemp(dir=directory, prefix=".tmp-ckpt-"))
    try:
        _save_arrays(tmp / "generator.npz", model.generator.get_weights())
        _save_arrays(tmp / "discriminator.npz", model.discriminator.get_weights())
        _save_arrays(tmp / "ema_generator.npz", model.ema_generator.get_weights())
        for name in ("g_optimizer", "d_optimizer"):
            optimizer = getattr(model, name)
            values = [v.numpy() for v in optimizer.variables] if optimizer is not None else []
            _save_arrays(tmp / f"{name}.npz", values)
        state = {"images_shown": images_shown,
                 "ema_updates": int(model.ema_updates.numpy()),
                 "optimizer_resolution": model.optimizer_resolution,
                 "phase_index": model.phase.index if model.phase is not None else None,
                 "rng_state": model.rng.state.numpy().tolist(),
                 "rng_algorithm": int(model.rng.algorithm),
                 **(extra_state or {})}
        write_text_atomic(tmp / "state.json", json.dumps(state, indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        write_text_atomic(directory / LATEST, final.name)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        previous = latest(directory)
        kept = f"the previous checkpoint {previous.name} is intact" if previous else "no earlier checkpoint exists"
        raise RunDirectoryError(
            f"could not write a checkpoint in {str(directory)!r} ({error.strerror or error}); "
            f"{kept}; free disk space and continue with --resume") from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    checkpoints = sorted(p for p in directory.glob("ckpt-*") if p.is_dir())
    for old in checkpoints[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest(directory):
    """Path of the newest complete checkpoint under ``directory``, or None."""
    pointer = Path(directory) / LATEST
    if not pointer.exists():
        return None
    path = Path(directory) / pointer.read_text().strip()
    return path if (path / "state.json").exists() else None


def read_state(checkpoint):
    return json.loads((Path(checkpoint) / "state.json").read_text())


def restore(model, checkpoint):
    """Load a checkpoint into ``model``.  Call :meth:`ProGAN.start_phase` first (it builds the
    optimizers for the phase's resolution); optimizer state is restored only when it belongs to
    that resolution, otherwise the fresh optimizers are kept (the paper resets them anyway)."""
    checkpoint = Path(checkpoint)
    try:
        state = read_state(checkpoint)
        model.generator.set_weights(_load_arrays(checkpoint / "generator.npz"))
        model.discriminator.set_weights(_load_arrays(checkpoint / "discriminator.npz"))
        model.ema_generator.set_weights(_load_arrays(checkpoint / "ema_generator.npz"))
        if state["optimizer_resolution"] == model.optimizer_resolution:
            for name in ("g_optimizer", "d_optimizer"):
                optimizer = getattr(model, name)
                values = _load_arrays(checkpoint / f"{name}.npz")
                if len(values) != len(optimizer.variables):
                    raise ValueError(f"{name} has {len(optimizer.variables)} variables, "
                                     f"checkpoint has {len(values)}")
                for variable, value in zip(optimizer.variables, values):
                    variable.assign(value)
    except (OSError, ValueError, KeyError) as error:
        raise RunDirectoryError(
            f"checkpoint {str(checkpoint)!r} cannot be restored ({error}); delete it (and the "
            f"'latest' file) to fall back to an older one, or start a new run") from error
    model.images_shown.assign(int(state["images_shown"]))
    model.ema_updates.assign(int(state.get("ema_updates", 0)))
    model.rng.reset(np.asarray(state["rng_state"], dtype=np.int64))
    return state
