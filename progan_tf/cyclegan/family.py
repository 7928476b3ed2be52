"""CycleGAN as a model family: what :mod:`progan_tf.training` needs to know to train it.

A :class:`~progan_tf.training.single_phase_family.SinglePhaseFamily` (one resolution; it
trains, resumes and exports the run and draws its progress grids).  It plugs in

* the networks and their ``train_step``: :func:`build_model` makes a
  :class:`~progan_tf.cyclegan.model.CycleGAN` from a
  :class:`~progan_tf.cyclegan.config.CycleGANConfig`, its learning rate decaying over the
  second half of the run's steps;
* the data: two domains (:func:`domain_files`: two folders, or one folder of faces split by
  hair brightness), decoded once; the last ``holdout`` pictures of *each* domain are held out;
  each step takes a batch of each, in two seeded orders;
* the progress grids: rows of a, G(a), F(G(a)), b, F(b), G(F(b)) for fixed pictures (the
  held-out ones when the run holds some out);
* the export: both generators as one translator folder (:mod:`progan_tf.cyclegan.export`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np

from progan_tf.cyclegan.config import ARCH, MIN_DOMAIN_IMAGES, SAFE_ON_RESUME, CycleGANConfig
from progan_tf.cyclegan.domains import check_domains, split_domains
from progan_tf.cyclegan.export import export_translators
from progan_tf.cyclegan.model import CycleGAN
from progan_tf.cyclegan.networks import PatchGAN, make_generator
from progan_tf.errors import DatasetError
from progan_tf.training import data
from progan_tf.training.single_phase import SinglePhase
from progan_tf.training.single_phase_family import SinglePhaseFamily, model_scope

__all__ = ["CYCLEGAN_FAMILY", "CycleGANFamily", "Domains", "build_model", "domain_files",
           "domain_names"]

log = logging.getLogger(__name__)

HAIR_RULE = ("dark hair (A) vs fair hair (B) by the brightness of the hair region of aligned "
             "faces: A's 75th percentile below the {low:g} quantile, B's 25th percentile above "
             "the {high:g} quantile (progan_tf.cyclegan.domains)")
"""How ``domains="hair"`` splits a folder, as exports and ``dataset.json`` record it."""


@dataclasses.dataclass
class Domains:
    """The decoded pictures of both domains (uint8 ``[N, r, r, 3]``) and their files."""

    a: np.ndarray
    b: np.ndarray
    a_files: list
    b_files: list


def build_model(config: CycleGANConfig, strategy: Any = None,
                precision: str | None = None) -> CycleGAN:
    """The :class:`CycleGAN` of ``config``, created under ``strategy``'s scope.

    Example:
    >>> config = CycleGANConfig("faces", "run", resolution=16, width=4, generator="resnet",
    ...                         resnet_blocks=1, d_layers=2, kimg=0.1, batch_size=4)
    >>> model = build_model(config)
    >>> [model.generator_ab.blocks] + [round(float(model.learning_rate(s)), 6) for s in (0, 25)]
    [1, 0.0002, 0.0]
    """
    with model_scope(config, strategy, precision):
        generators = [make_generator(config.generator, resolution=config.resolution,
                                     width=config.width, blocks=config.resnet_blocks, name=name)
                      for name in ("generator_ab", "generator_ba")]
        critics = [PatchGAN(resolution=config.resolution, width=config.width,
                            layers=config.d_layers, name=name)
                   for name in ("discriminator_a", "discriminator_b")]
        return CycleGAN(*generators, *critics, lambda_cycle=config.lambda_cycle,
                        lambda_identity=config.lambda_identity, pool_size=config.pool_size,
                        learning_rate=config.learning_rate, beta_1=config.beta_1,
                        total_steps=config.total_steps, seed=config.seed)


def domain_names(config: CycleGANConfig) -> dict:
    """``{"a": ..., "b": ..., "rule": ...}``: what the two domains are, for people.

    Example:
    >>> domain_names(CycleGANConfig("faces", "run", unpaired_b="photos/fair"))["b"]
    'fair'
    """
    if config.domains == "hair":
        return {"a": "dark hair", "b": "fair hair",
                "rule": HAIR_RULE.format(low=config.dark_quantile, high=config.fair_quantile)}
    a_dir, b_dir = domain_folders(config)
    return {"a": Path(a_dir).name, "b": Path(b_dir).name,
            "rule": "two folders of unpaired pictures"}


def domain_folders(config: CycleGANConfig) -> tuple[str, str]:
    """The folders of A and B: ``DATA/A`` and ``DATA/B``, or ``DATA`` and ``unpaired_b``."""
    if config.unpaired_b is not None:
        return str(config.data_dir), str(config.unpaired_b)
    root = Path(config.data_dir).expanduser()
    return str(root / "A"), str(root / "B")


def domain_files(config: CycleGANConfig) -> tuple[list, list]:
    """The files of A and B (sorted), checked before anything is decoded.

    Raises:
        DatasetError: in one line -- a missing folder or ``A/``/``B/``, the same folder or
            files in both domains, or a domain of fewer than ``MIN_DOMAIN_IMAGES + holdout``
            pictures.
    """
    needed = MIN_DOMAIN_IMAGES + config.holdout
    if config.domains == "hair":
        a_files, b_files = _hair_split(_resolved(config.data_dir), config.dark_quantile,
                                       config.fair_quantile)
        _check_counts(a_files, b_files, needed, config)
        return list(a_files), list(b_files)
    a_dir, b_dir = domain_folders(config)
    if config.unpaired_b is None:
        root = Path(config.data_dir).expanduser()
        if not root.is_dir():
            data.list_image_files(root)  # its one-line message for a missing folder
        for folder in (a_dir, b_dir):
            if not Path(folder).is_dir():
                raise DatasetError(
                    f"{str(root)!r} has no {Path(folder).name}/ folder: CycleGAN trains on two "
                    f"folders of unpaired pictures, DATA/A and DATA/B (or DATA and --unpaired-b "
                    f"DIR; or --domains hair to split one folder of aligned faces)")
    a_files, b_files = check_domains(a_dir, b_dir, min_images=1)
    _check_counts(a_files, b_files, needed, config)
    return a_files, b_files


def _resolved(folder: Any) -> str:
    return str(Path(folder).expanduser().resolve())


def _check_counts(a_files: Any, b_files: Any, needed: int, config: CycleGANConfig) -> None:
    """Refuse a domain of fewer than ``needed`` pictures, saying how many it takes."""
    hair = config.domains == "hair"
    for name, files in (("A (dark hair)" if hair else "A", a_files),
                        ("B (fair hair)" if hair else "B", b_files)):
        if len(files) >= needed:
            continue
        found = (f"--domains hair found {len(files)} faces for domain {name} in "
                 f"{str(config.data_dir)!r}" if hair else
                 f"domain {name} has {len(files)} picture{'' if len(files) == 1 else 's'}")
        why = (f"{MIN_DOMAIN_IMAGES}, plus the --holdout of {config.holdout}" if config.holdout
               else "a few minibatches")
        advice = (f"; B is the brightest {1 - config.fair_quantile:.0%} of the faces, so the "
                  f"folder needs about {needed / max(1e-9, 1 - config.fair_quantile):.0f}"
                  if hair else "; add pictures to it")
        raise DatasetError(f"{found}, but CycleGAN needs at least {needed} per domain ({why})"
                           f"{advice}")


@functools.lru_cache(maxsize=4)
def _hair_split(folder: str, low: float, high: float) -> tuple[tuple, tuple]:
    """:func:`split_domains` of a folder, once per session (training asks twice)."""
    split = split_domains(folder, low=low, high=high)
    log.info("split %s: %s", folder, split.describe())
    return tuple(split.a_files), tuple(split.b_files)


def _decode(config: CycleGANConfig, a_files: list, b_files: list) -> Domains:
    """Decode both domains as every training folder is decoded (undecodable files skipped)."""
    if config.domains == "hair":
        folders = [data.load_image_folder(_resolved(config.data_dir), config.resolution,
                                          crop=config.crop)]
    else:
        folders = [data.load_image_folder(folder, config.resolution, crop=config.crop)
                   for folder in domain_folders(config)]
    decoded = {}
    for folder in folders:
        decoded.update(zip(folder.files, folder.images))
    a_files = [path for path in a_files if path in decoded]
    b_files = [path for path in b_files if path in decoded]
    shape = (0, config.resolution, config.resolution, 3)
    return Domains(np.stack([decoded[p] for p in a_files]) if a_files else np.zeros(shape, "uint8"),
                   np.stack([decoded[p] for p in b_files]) if b_files else np.zeros(shape, "uint8"),
                   a_files, b_files)


class CycleGANFamily(SinglePhaseFamily):
    """CycleGAN (Zhu et al., 2017) on two folders of unpaired pictures.

    Example:
    >>> config = CycleGANConfig(data_dir="faces", out_dir="run", resolution=32, kimg=2)
    >>> [(phase.name, phase.end_images) for phase in CYCLEGAN_FAMILY.schedule(config).phases]
    [('32x32', 2000)]
    """

    arch = ARCH
    progress_grids = True
    config_class = CycleGANConfig
    safe_on_resume = SAFE_ON_RESUME
    loss_columns = ("g_loss", "f_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss")
    loss_curves = {"g_loss": "G (A->B) adversarial", "f_loss": "F (B->A) adversarial",
                   "cycle_loss": "cycle (x lambda)", "d_a_loss": "D_A", "d_b_loss": "D_B"}
    loss_marker = None
    sample_count = 6  # rows of a, G(a), F(G(a)), b, F(b), G(F(b)): a 6x6 grid

    def build_model(self, config: CycleGANConfig, strategy: Any = None,
                    precision: str | None = None) -> CycleGAN:
        """See :func:`build_model`."""
        return build_model(config, strategy, precision)

    def load_data(self, config: CycleGANConfig) -> tuple[Domains, dict]:
        """Both domains at the run's resolution, each less its holdout."""
        domains = _decode(config, *domain_files(config))
        a, b, a_files, b_files = domains.a, domains.b, domains.a_files, domains.b_files
        if config.holdout:
            a, b = a[:-config.holdout], b[:-config.holdout]
            a_files, b_files = a_files[:-config.holdout], b_files[:-config.holdout]
        for name, pictures in (("A", a), ("B", b)):
            if len(pictures) < MIN_DOMAIN_IMAGES:
                raise DatasetError(f"domain {name} has {len(pictures)} usable pictures besides "
                                   f"the holdout, but CycleGAN needs at least "
                                   f"{MIN_DOMAIN_IMAGES}; add pictures to it")
        log.info("training on %d pictures of A and %d of B", len(a), len(b))
        a_dir, b_dir = ((config.data_dir, config.data_dir) if config.domains == "hair"
                        else domain_folders(config))
        info = {"directory": str(Path(config.data_dir).expanduser().resolve()),
                "a_directory": str(Path(a_dir).expanduser().resolve()),
                "b_directory": str(Path(b_dir).expanduser().resolve()),
                "domains": {"mode": config.domains, **domain_names(config)},
                "images": len(a), "images_b": len(b), "holdout": config.holdout}
        return Domains(a, b, a_files, b_files), info

    def dataset(self, config: CycleGANConfig, domains: Domains, phase: SinglePhase,
                start_index: int) -> Any:
        """Shuffled ``(a, b)`` batches in [-1, 1]: two seeded orders, one per domain."""
        import tensorflow as tf

        streams = [data.training_dataset(pictures, phase.resolution, phase.batch_size,
                                         start_index=start_index, seed=config.seed + offset,
                                         mirror=config.mirror)
                   for offset, pictures in enumerate((domains.a, domains.b))]
        return tf.data.Dataset.zip(tuple(streams))

    def sample_inputs(self, config: CycleGANConfig) -> np.ndarray:
        """``[N, 2, r, r, 3]`` in [-1, 1]: fixed pictures of A and B (held-out ones first)."""
        from progan_tf.images import load_image

        count = min(self.sample_count, config.holdout) if config.holdout else self.sample_count
        chosen = []
        for files in domain_files(config):
            files = files[-count:] if config.holdout else files[:count]
            chosen.append(np.stack([load_image(path, size=config.resolution, crop=config.crop)
                                    for path in files]))
        return np.stack(chosen, axis=1).astype("float32") * 2.0 - 1.0

    def describe_step(self, phase: SinglePhase, logs: dict) -> str:
        """``64x64 G=0.31 F=0.29 cycle=1.52 idt=0.70 D_A=0.22 D_B=0.24``."""
        return (f"{phase.name} G={float(logs['g_loss']):.3f} F={float(logs['f_loss']):.3f} "
                f"cycle={float(logs['cycle_loss']):.3f} "
                f"idt={float(logs['identity_loss']):.3f} D_A={float(logs['d_a_loss']):.3f} "
                f"D_B={float(logs['d_b_loss']):.3f}")

    def export(self, model: CycleGAN, out_dir: Path, metadata: dict, overwrite: bool,
               protect: tuple) -> Path:
        """Both generators as one translator folder."""
        return export_translators(model.generator_ab, model.generator_ba, out_dir, metadata,
                                  overwrite=overwrite, protect=protect)


CYCLEGAN_FAMILY = CycleGANFamily()
"""The CycleGAN family, as :func:`progan_tf.cyclegan.train` uses it."""
