"""Fine-tuning: start a run from a trained model instead of random weights.

``TrainConfig(init="bundled")`` (``progan-tf train FOLDER --init bundled``), or ``init`` naming any
export folder with its ``generator.keras`` and ``discriminator.keras``, trains a model that
already draws faces on the user's own photos:

* the **architecture** -- resolution, latent size, ``fmap_base``/``fmap_max``/``fmap_decay``, the
  minibatch-stddev group -- is the export's (read from its Keras files); an option that says
  otherwise is refused in one line (:func:`prepare`);
* the **schedule** skips growing: one stable phase at the export's resolution, ``final_kimg``
  (else ``kimg_per_phase``) thousand images long, with that resolution's batch size;
* the generator, its EMA and the discriminator **start from the export's weights** (an export
  keeps only the EMA generator, so the generator starts from it too); the optimizers are fresh.
  The weights are set when training starts at 0 kimg (:class:`InitWeights`), so a resumed run
  continues from its checkpoint and never reads the export again.

Everything else is a normal run: checkpoints, resume, samples, losses, export.  ``run.json``
records ``init`` (``"bundled"`` or the export's absolute path), ``init.json`` in the run folder
what the export was when its weights were loaded, and the run's export says in
``metadata.json`` what it was fine-tuned from (``"fine_tuned_from"``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import keras

from progan_tf import fileio
from progan_tf.constants import BUNDLED
from progan_tf.errors import DatasetError, RunDirectoryError
from progan_tf.training import runs
from progan_tf.training.distribute import is_chief
from progan_tf.training.export import FORMAT, METADATA

__all__ = ["ARCHITECTURE", "INIT_FILE", "InitExport", "InitWeights", "fine_tuned_from",
           "prepare", "read_init", "typed_options"]

ARCHITECTURE = {"resolution": "--resolution", "latent_dim": "--latent-dim",
                "fmap_base": "--fmap-base", "fmap_max": "--fmap-max",
                "fmap_decay": "--fmap-decay", "mbstd_group_size": None}
"""The options that come from the export when fine-tuning, with their command-line flags."""

INIT_FILE = "init.json"
"""The run folder's record of the export a fine-tuning run started from."""

NETWORK_FILES = ("generator.keras", "discriminator.keras")
# Settings of the networks that TrainConfig cannot change: an export must have these values.
_FIXED = {"negative_slope": 0.2, "equalized_lr": True, "normalize_latents": True,
          "pixel_norm": True}


@dataclasses.dataclass(frozen=True)
class InitExport:
    """A trained export, checked, as fine-tuning starts from it.

    Attributes:
        init: ``"bundled"``, or the export folder's absolute path.
        folder: The export folder.
        metadata: Its ``metadata.json``.
        architecture: The :data:`ARCHITECTURE` fields, as its Keras files define them.
    """

    init: str
    folder: Path
    metadata: dict
    architecture: dict

    def summary(self) -> dict:
        """What ``init.json`` and the export's ``fine_tuned_from`` record about it."""
        keep = ("exported", "kimg", "phase", "training_command")
        dataset = self.metadata.get("dataset")
        return {"init": self.init, **{key: self.metadata[key] for key in keep
                                      if key in self.metadata},
                **({"dataset": dataset.get("directory")} if isinstance(dataset, dict) else {}),
                "architecture": self.architecture}

    def load_networks(self) -> tuple[Any, Any]:
        """The export's generator and discriminator as Keras models.

        Raises:
            DatasetError: a Keras file cannot be loaded (one line).
        """
        import progan_tf.gan.networks  # noqa: F401 -- registers the classes for loading

        networks = []
        for name in NETWORK_FILES:
            try:
                networks.append(keras.models.load_model(self.folder / name, compile=False))
            except Exception as error:  # Keras raises many kinds for a damaged file
                raise _damaged(self, name, error) from None
        return networks[0], networks[1]


def init_folder(init: str | os.PathLike) -> Path:
    """The folder ``init`` names: the bundled export's for ``"bundled"``.

    Example:
    >>> init_folder("bundled").joinpath("generator.keras").is_file()
    True
    """
    if str(init) == BUNDLED:
        from progan_tf.loading import bundled_folder

        return Path(str(bundled_folder()))
    return Path(init).expanduser()


def read_init(init: str | os.PathLike) -> InitExport:
    """Check the export ``init`` names and read its architecture (nothing is loaded yet).

    Args:
        init: ``"bundled"`` or an export folder (``progan-tf export``).

    Returns:
        The :class:`InitExport`.

    Raises:
        DatasetError: one line: no such folder, a training run or another folder that is not
            an export, an export of another format, without its Keras files, or damaged.

    Example:
    >>> read_init("bundled").architecture["latent_dim"]
    512
    """
    folder = init_folder(init)
    shown = repr(str(init))
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise DatasetError(f"--init {shown} {what}; pass 'bundled' or a folder written by "
                           f"'progan-tf export'")
    if (folder / runs.RUN_FILE).exists():
        raise DatasetError(f"--init {shown} is a training run, not an export; export it first "
                           f"('progan-tf export {init} EXPORT_DIR') and pass that folder")
    try:
        metadata = json.loads((folder / METADATA).read_text())
    except FileNotFoundError:
        raise DatasetError(f"--init {shown} is not a progan-tf export (no {METADATA}); pass "
                           f"'bundled' or a folder written by 'progan-tf export'") from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"--init {shown} is damaged: its {METADATA} cannot be read "
                           f"({type(error).__name__}); export the run again") from None
    found = metadata.get("format") if isinstance(metadata, dict) else None
    if found != FORMAT:
        raise DatasetError(f"--init {shown} is an export of another format ({found!r}, expected "
                           f"{FORMAT!r}); export the run again with this version of progan-tf")
    missing = [name for name in NETWORK_FILES if not (folder / name).is_file()]
    if missing:
        raise DatasetError(f"--init {shown} has no {' or '.join(missing)}, which fine-tuning "
                           f"starts from; export the run again with 'progan-tf export'")
    resolved = BUNDLED if str(init) == BUNDLED else str(folder.resolve())
    export = InitExport(resolved, folder, metadata, {})
    generator, discriminator = (_keras_config(export, name) for name in NETWORK_FILES)
    return dataclasses.replace(export, architecture=_architecture(export, generator,
                                                                  discriminator))


def _keras_config(export: InitExport, name: str) -> dict:
    """The ``config`` of a ``.keras`` file (a zip holding ``config.json``), without loading it."""
    try:
        with zipfile.ZipFile(export.folder / name) as archive:
            stored = json.loads(archive.read("config.json"))
        return dict(stored["config"], class_name=stored["class_name"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise _damaged(export, name, error) from None


def _damaged(export: InitExport, name: str, error: BaseException) -> DatasetError:
    init = "bundled" if export.init == BUNDLED else export.init
    return DatasetError(f"--init {init!r} is damaged: its {name} cannot be read "
                        f"({type(error).__name__}); export the run again, or reinstall "
                        f"progan-tf for 'bundled'")


def _architecture(export: InitExport, generator: dict, discriminator: dict) -> dict:
    """The :data:`ARCHITECTURE` of the export's networks; refuses ones TrainConfig cannot build."""
    expected = ("ProgressiveGenerator", "ProgressiveDiscriminator")
    if (generator["class_name"], discriminator["class_name"]) != expected:
        raise _damaged(export, "generator.keras" if generator["class_name"] != expected[0]
                       else "discriminator.keras", TypeError("not a progressive network"))
    try:
        stage = int(generator["stage_resolution"])
        architecture = {"resolution": stage, "latent_dim": int(generator["latent_dim"]),
                        "fmap_base": int(generator["fmap_base"]),
                        "fmap_max": int(generator["fmap_max"]),
                        "fmap_decay": float(generator.get("fmap_decay", 1.0)),
                        "mbstd_group_size": int(discriminator["mbstd_group_size"])}
        same = all(discriminator[key] == generator[key] for key in ("fmap_base", "fmap_max"))
        same = same and float(discriminator.get("fmap_decay", 1.0)) == architecture["fmap_decay"]
        same = same and int(discriminator["stage_resolution"]) == stage
        fixed = all({**generator, **discriminator}.get(key, value) == value
                    for key, value in _FIXED.items())
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(export, "generator.keras", error) from None
    init = "bundled" if export.init == BUNDLED else export.init
    if not same or not fixed:
        raise DatasetError(f"--init {init!r} holds networks that progan-tf train cannot build "
                           f"(their settings differ from each other or from TrainConfig's "
                           f"fixed ones); fine-tune from an export of 'progan-tf train'")
    if generator.get("fading") or export.metadata.get("fading"):
        raise DatasetError(f"--init {init!r} was exported mid-fade-in at {stage}x{stage}, so "
                           f"its networks blend two resolutions; finish that run's phase and "
                           f"export it again")
    if export.metadata.get("resolution") not in (None, stage):
        raise _damaged(export, METADATA, ValueError("its resolution is not the networks'"))
    return architecture


def typed_options(command: str) -> set[str] | None:
    """The :data:`ARCHITECTURE` fields a ``progan-tf train`` command line sets explicitly.

    The command-line options have defaults, so a ``TrainConfig`` alone cannot tell
    ``--resolution 64`` typed from the default 64; its ``command`` can.

    Args:
        command: ``TrainConfig.command``.

    Returns:
        The field names, or ``None`` when ``command`` is not a ``progan-tf train`` command line
        (a config made in Python): then a field counts as set when it differs from
        ``TrainConfig``'s default.

    Example:
    >>> sorted(typed_options("progan-tf train faces --init bundled --fmap-max=64 --reso 32"))
    ['fmap_max', 'resolution']
    >>> typed_options("") is None
    True
    """
    words = command.split()
    if words[:2] != ["progan-tf", "train"]:
        return None
    names = [word.split("=", 1)[0] for word in words[2:] if word.startswith("--")]
    # argparse accepts any unambiguous prefix of an option (exact names win)
    return {field for field, flag in ARCHITECTURE.items() if flag is not None
            and any(len(name) > 3 and flag.startswith(name) for name in names)}


def _given(config: Any) -> set[str]:
    """The architecture fields the user chose (see :func:`typed_options`)."""
    typed = typed_options(config.command or "")
    if typed is not None:
        return typed
    defaults = type(config)(data_dir="", out_dir="")
    return {field for field in ARCHITECTURE
            if getattr(config, field) != getattr(defaults, field)}


def prepare(config: Any, resume: bool = False) -> tuple[Any, tuple]:
    """The options a fine-tuning run trains with, and the callback that loads its weights.

    Called by :func:`progan_tf.gan.train.train` before anything is written.  For a new run the
    export is checked and its architecture fills the :data:`ARCHITECTURE` fields; a field the
    user set to something else is refused.  For a resumed run the stored ``run.json`` fills
    them instead (the export is not read again), so ``--resume`` with the starting command
    continues even after the export was moved or the bundled model changed.

    Args:
        config: A :class:`~progan_tf.gan.train.TrainConfig`.
        resume: Whether the run is being resumed.

    Returns:
        ``(config, callbacks)``: unchanged and ``()`` when ``config.init`` is ``None``.

    Raises:
        DatasetError: an unusable export, or options that contradict it (one line each).
    """
    if config.init is None:
        return config, ()
    config.validate()
    if resume:
        try:
            stored = runs.read_run_config(type(config), Path(config.out_dir).expanduser())
        except RunDirectoryError:
            return config, ()  # train() says what is wrong with the folder
        if stored.init is None:
            return config, ()  # train() refuses the different init
        given = _given(config)
        filled = {f: getattr(stored, f) for f in ARCHITECTURE if f not in given}
        return dataclasses.replace(config, **filled), (InitWeights(config.init, config.out_dir),)
    export = read_init(config.init)
    given = _given(config)
    conflicts = [f"{field} {getattr(config, field)!r} (export: {value!r})"
                 for field, value in export.architecture.items()
                 if field in given and getattr(config, field) != value]
    if conflicts:
        size = export.architecture["resolution"]
        init = "bundled" if export.init == BUNDLED else export.init
        raise DatasetError(
            f"--init {init!r} is a {size}x{size} model and fine-tuning keeps its architecture, "
            f"but the options say {'; '.join(conflicts)}; drop those options, or train from "
            f"scratch without --init")
    config = dataclasses.replace(config, init=export.init, **export.architecture)
    return config, (InitWeights(export, config.out_dir),)


def generator_layers(network: Any) -> list:
    """The layers of a ``ProgressiveGenerator`` that hold its stage's weights, in order."""
    level = network.stage_level
    return ([network.dense] + [conv for block in network.blocks[:level + 1] for conv in block]
            + list(network.to_rgb[:level + 1]))


def discriminator_layers(network: Any) -> list:
    """The layers of a ``ProgressiveDiscriminator`` that hold its stage's weights, in order."""
    level = network.stage_level
    return (list(network.from_rgb[:level + 1])
            + [conv for block in network.blocks[1:level + 1] for conv in block]
            + [network.final_conv, network.final_dense, network.score])


def load_weights(model: Any, export: InitExport) -> None:
    """Set the ProGAN ``model``'s three networks to the export's weights, layer by layer.

    The export may hold a larger network stopped at this stage; only the stage's layers are
    copied.  The optimizers are left as they are (fresh).
    """
    generator, discriminator = export.load_networks()
    pairs = [(generator_layers(model.generator), generator_layers(generator)),
             (generator_layers(model.ema_generator), generator_layers(generator)),
             (discriminator_layers(model.discriminator), discriminator_layers(discriminator))]
    for targets, sources in pairs:
        for target, source in zip(targets, sources, strict=True):
            target.set_weights(source.get_weights())


class InitWeights(keras.callbacks.Callback):
    """Loads the export's weights when training starts at 0 kimg (never when resuming).

    Args:
        init: The :class:`InitExport` (a new run), or the ``init`` option (a resumed run, read
            only if it has no checkpoint yet and so starts again from 0 kimg).
        run_dir: The run folder (``init.json`` is written there when the weights are loaded).
    """

    def __init__(self, init: InitExport | str, run_dir: str | os.PathLike) -> None:
        super().__init__()
        self.init, self.run_dir = init, Path(run_dir).expanduser()
        self.loaded = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Load the weights if nothing has been trained yet."""
        if self.loaded or int(self.model.images_shown.numpy()) != 0:
            return
        export = self.init if isinstance(self.init, InitExport) else read_init(self.init)
        load_weights(self.model, export)  # on every worker: each holds the networks
        if is_chief(self.model.distribute_strategy):  # only the chief writes into the run
            fileio.write_json(self.run_dir / INIT_FILE, export.summary())
        self.loaded = True


def fine_tuned_from(run_dir: str | os.PathLike) -> dict | None:
    """What the run in ``run_dir`` was fine-tuned from (its ``init.json``), or ``None``."""
    path = Path(run_dir) / INIT_FILE
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
