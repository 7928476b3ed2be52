"""Export a trained generator in progan-128's TF Hub interface.

The exported folder is a TF2 SavedModel whose ``default`` signature takes ``default``: float32
``[?, latent_dim]`` and returns ``default``: float32 ``[?, H, W, 3]`` in [0, 1] -- exactly what
``tensorflow_hub.load("https://tfhub.dev/google/progan-128/1").signatures["default"]`` offers,
so every notebook written for progan-128 runs on it unchanged.  Beside it::

    generator.keras, discriminator.keras   Keras models, to fine-tune
    metadata.json                          resolution, latent size, images shown, data, metrics,
                                           the training command

Why the signature holds its weights as constants
------------------------------------------------
The TF Hub tutorial keeps only the signature: ``progan = hub.load(path).signatures["default"]``.
In a TF2 SavedModel a signature captures its variables *weakly*: they belong to the loaded
object, so once that object is garbage-collected, calling ``progan`` under a ``GradientTape``
fails with "Called a function referencing variables which have been deleted".  progan-128 does
not suffer because it is a TF1 Hub module: ``hub.load`` wraps its graph in a pruned
``WrappedFunction`` whose own graph keeps the variables alive.  We get the same robustness more
simply: the signature runs the Keras generator through ``stateless_call`` with the weights of
the exported stage baked in as graph constants, so the function references no variable at all
and nothing can be deleted under it.  The outputs are bit-identical to running the Keras model
(tested), ``saved_model.pb`` carries the weights of the exported stage only (layers of higher
resolutions are not traced in), and fine-tuning uses ``generator.keras`` anyway.

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
from pathlib import Path

import tensorflow as tf

from progan_tf.errors import RunDirectoryError
from progan_tf.gan import checkpoint

METADATA = "metadata.json"
FORMAT = "progan-tf export 1"
# Everything an export folder may hold; anything else means it is not (only) ours.
EXPORT_ENTRIES = frozenset({"saved_model.pb", "fingerprint.pb", "variables", "assets",
                            "generator.keras", "discriminator.keras", METADATA})


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
            and {p.name for p in path.iterdir()} <= EXPORT_ENTRIES)


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
    if (out / "run.json").exists():
        raise RunDirectoryError(f"export folder {shown} is a training run (it has run.json); "
                                f"choose a new folder for the export")
    empty = not any(out.iterdir())
    if not overwrite:
        hint = (" or pass --overwrite (overwrite=True) to replace this earlier export"
                if is_export(out) else "")
        raise RunDirectoryError(f"export folder {shown} already exists; choose another folder "
                                f"or delete it first{hint}")
    if not (empty or is_export(out)):
        extra = sorted(p.name for p in out.iterdir() if p.name not in EXPORT_ENTRIES)
        what = (f"holds files an export does not ({', '.join(extra[:3])}"
                f"{', ...' if len(extra) > 3 else ''})" if extra
                else "is not an export made by progan-tf (no metadata.json with its format)")
        raise RunDirectoryError(f"export folder {shown} {what}; --overwrite only replaces an "
                                f"earlier export: choose a new folder")
    return out


def _remove_leftovers(out: Path) -> None:
    """Delete the hidden temporary folders killed exports to ``out`` left beside it."""
    pattern = _leftover_pattern(out.name)
    for entry in out.parent.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
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
    if _exchange(tmp, out):  # ``out`` is the new export, ``tmp`` now holds the old one
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


def _hub_function(generator) -> tf.types.experimental.GenericFunction:
    """The ``default`` signature: latents -> images in [0, 1], weights baked in as constants."""
    spec = tf.TensorSpec([None, generator.latent_dim], tf.float32, name="default")
    traced = tf.function(lambda z: generator(z, training=False)).get_concrete_function(spec)
    used = {id(v) for v in traced.variables}  # the current stage's weights only

    def frozen(variables):
        # NumPy values become Const nodes when the function is traced; unused ones a cheap Fill.
        return [(v.numpy(), None) if id(getattr(v, "value", v)) in used
                else (None, (tuple(v.shape), v.dtype)) for v in variables]

    trainable = frozen(generator.trainable_variables)
    non_trainable = frozen(generator.non_trainable_variables)

    def constants(values):
        return [tf.constant(array) if array is not None else tf.zeros(*spec_)
                for array, spec_ in values]

    @tf.function(input_signature=[spec])
    def serve(default):
        images, _ = generator.stateless_call(constants(trainable), constants(non_trainable),
                                             default)
        images = tf.cast(images, tf.float32)
        return {"default": tf.clip_by_value(images * 0.5 + 0.5, 0.0, 1.0)}

    return serve


def _save_signature(generator, folder: Path) -> None:
    module = tf.Module(name="progan_tf_generator")
    module.serve = _hub_function(generator)
    tf.saved_model.save(module, str(folder), signatures={"default": module.serve})


def _write(out_dir, overwrite, protect, fill) -> Path:
    """Assemble an export with ``fill(tmp)`` under a temporary name, then install it."""
    out = check_export_destination(out_dir, overwrite=overwrite, protect=protect)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    except OSError as error:
        raise RunDirectoryError(f"cannot write the export {str(out)!r} ({error}); choose a "
                                f"folder you can write to") from None
    try:
        os.chmod(tmp, 0o777 & ~checkpoint.umask())  # mkdtemp's 0700 would hide the model from others
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


def export_generator(generator, out_dir, discriminator=None, metadata=None, overwrite=False,
                     protect=()):
    """Write ``generator`` (at its current stage) to ``out_dir`` in the hub interface.

    Args:
        generator: a ``ProgressiveGenerator``.
        out_dir: the export folder; new, empty, or (with ``overwrite``) an earlier export.
        discriminator: saved beside it as ``discriminator.keras`` when given.
        metadata: extra entries for ``metadata.json``.
        overwrite: replace an earlier export (see :func:`check_export_destination`).
        protect: folders that must not be replaced by or lie inside ``out_dir``.

    Returns:
        ``out_dir`` as a ``Path``.  It is either the complete new export or left as it was.

    Raises:
        RunDirectoryError: ``out_dir`` may not be written, or writing failed.
    """
    def fill(tmp):
        _save_signature(generator, tmp)
        generator.save(tmp / "generator.keras")
        if discriminator is not None:
            discriminator.save(tmp / "discriminator.keras")
        resolution = generator.stage_resolution
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        info = {"format": FORMAT, "latent_dim": generator.latent_dim,
                "resolution": resolution, "image_shape": [resolution, resolution, 3],
                "fading": generator.fading, "exported": now,
                "signature": {"name": "default", "input": "default", "output": "default",
                              "output_range": [0.0, 1.0]},
                **(metadata or {})}
        (tmp / METADATA).write_text(json.dumps(info, indent=2))

    return _write(out_dir, overwrite, protect, fill)


def reexport(export_dir: str | os.PathLike) -> Path:
    """Rewrite an earlier export's SavedModel from its ``generator.keras``, in place.

    Exports written before the signature held its weights as constants fail the TF Hub
    tutorial's loop (see the module docstring); this brings them up to date.  The Keras files
    and ``metadata.json`` are copied byte for byte; only the SavedModel is new.

    Args:
        export_dir: an export folder (see :func:`is_export`).

    Returns:
        ``export_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: ``export_dir`` is not an export, or writing failed.
    """
    import keras

    import progan_tf.gan.networks  # noqa: F401 -- registers the Keras classes for loading

    folder = Path(export_dir).expanduser()
    if not is_export(folder) or not (folder / "generator.keras").is_file():
        raise RunDirectoryError(f"{str(folder)!r} is not a progan-tf export with a "
                                f"generator.keras; pass a folder written by 'progan-tf export'")
    generator = keras.models.load_model(folder / "generator.keras", compile=False)

    def fill(tmp):
        _save_signature(generator, tmp)
        for name in ("generator.keras", "discriminator.keras", METADATA):
            if (folder / name).exists():
                shutil.copy2(folder / name, tmp / name)

    return _write(folder, True, (), fill)


def _read_json(path: Path):
    """A JSON file's content, or None when it is missing or damaged (it is only described)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _stage_to_export(schedule, state, run_dir, allow_fade_in):
    """The phase whose network to export, refusing a half-blended fade-in unless allowed."""
    shown = state["images_shown"]
    if state.get("phase_index") is not None:
        phase = schedule.phases[state["phase_index"]]
    else:
        phase = schedule.phase_at(max(shown - 1, 0))
    if phase.fading and phase.alpha(shown) >= 1.0:
        # A fade-in that has finished computes exactly what its stable phase does.
        return schedule.phases[phase.index + 1], 1.0
    if phase.fading and not allow_fade_in:
        alpha = phase.alpha(shown)
        raise RunDirectoryError(
            f"the newest checkpoint of {str(run_dir)!r} was taken mid-fade-in at "
            f"{phase.resolution}x{phase.resolution} (alpha {alpha:.2f}, "
            f"{(shown - phase.start_images) / 1000:g} of {phase.num_images / 1000:g} kimg of the "
            f"phase), so its pictures blend two resolutions; train to the end of the phase or "
            f"pass --allow-fade-in (allow_fade_in=True)")
    return phase, phase.alpha(shown)


def export_run(run_dir, out_dir, metrics=None, overwrite=False, allow_fade_in=False):
    """Export the EMA generator of the newest checkpoint in ``run_dir`` (``progan-tf export``).

    Args:
        run_dir: a training run folder (``progan-tf train --out``).
        out_dir: the export folder; new, empty, or (with ``overwrite``) an earlier export.
        metrics: stored under ``"metrics"`` in ``metadata.json`` (``progan-tf evaluate --out``).
        overwrite: replace an earlier export (only that; see :func:`check_export_destination`).
        allow_fade_in: export a checkpoint taken during a fade-in (its images blend the two
            resolutions, so it is refused by default); ``metadata.json`` then says
            ``"fading": true``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        RunDirectoryError: not a run, no checkpoint yet, a fade-in checkpoint, or ``out_dir``
            may not be written.
    """
    from progan_tf.gan.train import RUN_FILE, TrainConfig, build_model

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
        config = TrainConfig.from_json((run_dir / RUN_FILE).read_text())
        state = checkpoint.read_state(latest)
        schedule = config.schedule()
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise RunDirectoryError(f"run {str(run_dir)!r} is damaged: its {RUN_FILE} or the state of "
                                f"{latest.name} cannot be read ({error}); restore it from a "
                                f"backup or export another run") from None
    phase, alpha = _stage_to_export(schedule, state, run_dir, allow_fade_in)
    model = build_model(config, precision="float32")  # float32 weights load into either policy
    model.start_phase(phase)
    checkpoint.restore(model, latest)
    metadata = {
        "images_shown": state["images_shown"],
        "kimg": round(state["images_shown"] / 1000, 3),
        "phase": phase.name,
        **({"alpha": round(alpha, 4)} if phase.fading else {}),
        "schedule": schedule.to_dict(),
        "dataset": _read_json(run_dir / "dataset.json"),
        "training_command": config.command,
        "config": json.loads(config.to_json()),
        "metrics": metrics or {},
    }
    return export_generator(model.ema_generator, out_dir, model.discriminator, metadata,
                            overwrite=overwrite, protect=(run_dir,))
