"""The base DCGAN, Pix2Pix and SRGAN share: options, one-phase schedule, train/export, CLI table.

:mod:`progan_tf.training.single_phase` (the options and their checks, ``run.json``, the
schedule), :mod:`progan_tf.training.single_phase_family` (training, exporting, the image
folder) and :mod:`progan_tf.cli_families` (which ``train`` options each ``--arch`` takes).
Nothing here trains: every test ends before the first step, in seconds.
"""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

import pytest

from progan_tf import cli
from progan_tf.cli_families import LATENT_DIMS, TRAIN_OPTIONS, check_train_arch, family_options
from progan_tf.cli_parser import build_parser
from progan_tf.constants import ARCHS
from progan_tf.dcgan import DCGAN_FAMILY, DCGANConfig
from progan_tf.dcgan.config import SAFE_ON_RESUME as DCGAN_SAFE
from progan_tf.errors import DatasetError, OptionError, RunDirectoryError
from progan_tf.pix2pix import PIX2PIX_FAMILY, Pix2PixConfig
from progan_tf.pix2pix.config import SAFE_ON_RESUME as PIX2PIX_SAFE
from progan_tf.srgan import SRGAN_FAMILY, SRGANConfig
from progan_tf.srgan.config import SAFE_ON_RESUME as SRGAN_SAFE
from progan_tf.training.single_phase import (
    SinglePhase,
    SinglePhaseConfig,
    SinglePhaseSchedule,
)
from progan_tf.training.single_phase_family import SinglePhaseFamily, check_holdout

FAMILIES = [(DCGAN_FAMILY, DCGANConfig), (PIX2PIX_FAMILY, Pix2PixConfig),
            (SRGAN_FAMILY, SRGANConfig)]


@dataclasses.dataclass
class TinyConfig(SinglePhaseConfig):
    """A family of the base's alone, with one option of its own."""

    ARCH: ClassVar[str] = "tiny"
    KIND: ClassVar[str] = "a tiny GAN's"
    depth: int = 2
    arch: str = "tiny"


# ---------------------------------------------------------------------------------------------
# The options: run.json as before, the shared checks, the one-phase schedule
# ---------------------------------------------------------------------------------------------

# The keys of run.json, in the order the families wrote them before they shared a base.
RUN_JSON_KEYS = {
    DCGANConfig: ["data_dir", "out_dir", "resolution", "latent_dim", "width", "channels", "kimg",
                  "batch_size", "learning_rate", "beta_1", "crop", "mirror", "holdout",
                  "grid_every_kimg", "seed", "checkpoint_minutes", "jit_compile", "precision",
                  "command", "arch"],
    Pix2PixConfig: ["data_dir", "out_dir", "resolution", "pairs", "paired_b", "direction",
                    "hints", "width", "max_width", "d_layers", "dropout", "adversarial",
                    "l1_weight", "l1_only", "kimg", "batch_size", "learning_rate", "beta_1",
                    "crop", "mirror", "holdout", "grid_every_kimg", "seed",
                    "checkpoint_minutes", "jit_compile", "precision", "command", "arch"],
    SRGANConfig: ["data_dir", "out_dir", "resolution", "width", "blocks", "bicubic_skip",
                  "disc_width",
                  "content_loss", "adversarial_weight", "content_only", "pretrain_kimg", "kimg",
                  "batch_size", "learning_rate", "beta_1", "crop", "mirror", "holdout", "seed",
                  "checkpoint_minutes", "jit_compile", "precision", "command", "arch"],
}

# A run.json an SRGAN run wrote before the base (its recipe's defaults, a few options set).
OLD_SRGAN_RUN = """{"data_dir": "/data/faces", "out_dir": "runs/sr", "resolution": 32, "width": 8,
 "blocks": 2, "disc_width": 32, "content_loss": "pixel", "adversarial_weight": 0.001,
 "content_only": false, "pretrain_kimg": 20.0, "kimg": 20.0, "batch_size": 16,
 "learning_rate": 0.0001, "beta_1": 0.9, "crop": "center", "mirror": true, "holdout": 8,
 "seed": 3, "checkpoint_minutes": 10.0, "jit_compile": false, "precision": "float32",
 "command": "progan-tf train ...", "arch": "srgan"}"""


@pytest.mark.parametrize("config_class", list(RUN_JSON_KEYS))
def test_run_json_keeps_its_keys_order_and_values(config_class):
    config = config_class(data_dir="faces", out_dir="run", resolution=32)
    assert list(json.loads(config.to_json())) == RUN_JSON_KEYS[config_class]
    assert config_class.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["arch"] == config_class.ARCH == config.arch


def test_an_old_run_json_reads_as_the_config_it_was_written_from():
    stored = SRGANConfig.from_json(OLD_SRGAN_RUN)
    assert stored == SRGANConfig(data_dir="/data/faces", out_dir="runs/sr", resolution=32,
                                 width=8, blocks=2, holdout=8, seed=3,
                                 command="progan-tf train ...", bicubic_skip=False)
    stored.validate()  # bicubic_skip came later: an old run is the paper's network
    assert json.loads(stored.to_json()) == {**json.loads(OLD_SRGAN_RUN), "bicubic_skip": False}


def test_the_recipes_and_what_may_change_on_resume_are_the_families_own():
    assert [(c.kimg, c.batch_size, c.learning_rate, c.beta_1) for c in
            (DCGANConfig("d", "o"), Pix2PixConfig("d", "o"), SRGANConfig("d", "o"))] == [
        (100.0, 64, 2e-4, 0.5), (20.0, 16, 2e-4, 0.5), (20.0, 16, 1e-4, 0.9)]
    shared = ("checkpoint_minutes", "jit_compile", "precision", "command", "out_dir", "kimg")
    assert DCGAN_SAFE == PIX2PIX_SAFE == (*shared, "grid_every_kimg") and SRGAN_SAFE == shared
    for family, config_class in FAMILIES:
        assert isinstance(family, SinglePhaseFamily) and family.config_class is config_class
        assert family.arch == config_class.ARCH


@pytest.mark.parametrize("config_class, kind", [
    (DCGANConfig, "a DCGAN's"), (Pix2PixConfig, "a Pix2Pix one's"), (SRGANConfig, "an SRGAN's"),
    (TinyConfig, "a tiny GAN's")])
def test_a_run_json_of_another_family_or_without_arch_is_refused(config_class, kind):
    stored = config_class.from_json(json.dumps({"data_dir": "faces", "out_dir": "run"}))
    assert stored.arch == "progan"  # no "arch": a progressive GAN's, the first family
    with pytest.raises(DatasetError, match=f"these options are a 'progan' run's, not {kind}. "
                                           f"Received: arch='progan'"):
        stored.validate()


@pytest.mark.parametrize("config_class, change, message", [
    (TinyConfig, {"batch_size": 0}, "batch_size must be"),
    (TinyConfig, {"holdout": -1}, "holdout must be"),
    (TinyConfig, {"seed": 2 ** 32}, "seed must be"),
    (TinyConfig, {"kimg": 0}, "kimg must be"),
    (TinyConfig, {"kimg": 0.0004}, r"kimg must be at least 0.001 \(one image\)"),
    (Pix2PixConfig, {"kimg": 0.0004}, r"kimg must be at least 0.001 \(one pair\)"),
    (TinyConfig, {"learning_rate": float("nan")}, "learning_rate must be"),
    (TinyConfig, {"checkpoint_minutes": -1}, "checkpoint_minutes must be"),
    (TinyConfig, {"beta_1": 1.0}, "beta_1 must be"),
    (TinyConfig, {"crop": "left"}, "crop must be one of"),
    (TinyConfig, {"precision": "float64"}, "precision must be one of"),
    (TinyConfig, {"data_dir": ""}, "data_dir must name a folder of images"),
    (DCGANConfig, {"grid_every_kimg": 0}, "grid_every_kimg must be"),
    (DCGANConfig, {"resolution": 48}, "resolution must be one of 16, 28, 32, 64 for a DCGAN"),
    (Pix2PixConfig, {"pairs": "folders"}, "needs paired_b"),
    (SRGANConfig, {"resolution": 18}, "resolution must be a multiple of 4"),
])
def test_the_shared_checks_and_the_families_own_name_the_option(config_class, change,
                                                                 message):
    with pytest.raises(DatasetError, match=message) as raised:
        config_class(**{"data_dir": "faces", "out_dir": "run", "resolution": 32,
                        **change}).validate()
    assert "\n" not in str(raised.value)


def test_the_schedule_is_one_phase_of_kimg_thousand_images():
    schedule = TinyConfig(data_dir="faces", out_dir="run", resolution=16, kimg=0.5,
                          batch_size=8).schedule()
    assert isinstance(schedule, SinglePhaseSchedule)
    assert schedule.phases == [SinglePhase(0, "16x16", 0, 500, 8, 16)]
    assert schedule.phase_at(0) == schedule.phase_at(10 ** 6) == schedule.phases[0]
    assert schedule.phases[0].num_images == schedule.total_images == 500
    assert schedule.to_dict() == {"resolution": 16, "total_images": 500, "phases": [
        {"name": "16x16", "start_images": 0, "end_images": 500, "batch_size": 8}]}
    assert [p.name for p in SRGANConfig("d", "o").schedule().phases] == ["srresnet", "srgan"]


def test_holdout_that_leaves_nothing_is_refused_in_one_line():
    check_holdout(47, 48, "pairs", "faces")
    with pytest.raises(DatasetError, match=r"holdout of 48 images leaves nothing to train on "
                                           r"\(48 images in 'faces'\)"):
        check_holdout(48, 48, "images", "faces")


# ---------------------------------------------------------------------------------------------
# Training and exporting: checked before anything is written
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    # Bugs fixed by the shared train(): a DCGAN drew its progress-grid latents before checking
    # the options, so these failed with NumPy's and ProgressGrids' words, not the option's.
    ({"latent_dim": -1}, "latent_dim must be"),
    ({"grid_every_kimg": 0}, "grid_every_kimg must be"),
])
def test_train_checks_the_options_before_drawing_anything(change, message, tmp_path):
    config = DCGANConfig(data_dir=str(tmp_path), out_dir=str(tmp_path / "run"), resolution=16,
                         **change)
    with pytest.raises(DatasetError, match=message):
        DCGAN_FAMILY.train(config, progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("family, config_class", FAMILIES)
def test_train_and_export_refuse_a_run_of_another_family_in_one_line(family, config_class,
                                                                    tmp_path):
    other = "srgan" if family.arch != "srgan" else "dcgan"
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"arch": other}))
    config = config_class(data_dir=str(tmp_path), out_dir=str(run), resolution=32)
    with pytest.raises(RunDirectoryError, match=f"holds a {other} run, not a {family.arch} one; "
                                                f"resume it with --arch {other}"):
        family.train(config, resume=True, progress=False)
    with pytest.raises(RunDirectoryError, match=f"holds a {other} run, not a {family.arch} one; "
                                                f"export it with 'progan-tf export'"):
        family.export_run(run, tmp_path / "export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# ---------------------------------------------------------------------------------------------
# The command line: one table of the options each --arch takes
# ---------------------------------------------------------------------------------------------


def _given(flag: str) -> list[str]:
    """Arguments that give ``flag`` a value other than its default (any valid one)."""
    parser = build_parser()
    defaults = parser.parse_args(["train", "d", "--out", "o"])
    action = next(a for a in parser._subparsers._group_actions[0].choices["train"]._actions
                  if flag in a.option_strings)
    if action.nargs == 0:
        return [flag]
    candidates = [c for c in (action.choices or ()) if c != action.default] or ["3", "4:8", "0.5"]
    for value in candidates:
        try:
            args = parser.parse_args(["train", "d", "--out", "o", flag, str(value)])
        except SystemExit:
            continue
        if getattr(args, action.dest) != getattr(defaults, action.dest):
            return [flag, str(value)]
    raise AssertionError(f"no value found for {flag}")


def test_the_table_names_every_family_and_only_real_train_options():
    assert list(TRAIN_OPTIONS) == list(ARCHS)
    for flags in TRAIN_OPTIONS.values():
        for flag in flags:
            assert _given(flag)  # StopIteration for a flag `train` does not have
    assert set(LATENT_DIMS) == {arch for arch, flags in TRAIN_OPTIONS.items()
                                if "--latent-dim" in flags}


@pytest.mark.parametrize("arch", ARCHS)
def test_each_familys_own_options_are_refused_under_another_arch_in_one_line(arch, capsys):
    refused = sorted({flag for flags in TRAIN_OPTIONS.values() for flag in flags}
                     - set(TRAIN_OPTIONS[arch]))
    assert refused
    for flag in refused:
        args = build_parser().parse_args(["train", "d", "--out", "o", "--arch", arch,
                                          *_given(flag)])
        with pytest.raises(OptionError) as raised:
            check_train_arch(args)
        message = str(raised.value)
        assert "\n" not in message and message.startswith(f"{flag} is "), message
        if arch in ("pix2pix", "srgan", "cyclegan"):
            assert message == f"{flag} is not an option of --arch {arch}; drop it"
        else:  # names who takes it
            takers = [other for other, flags in TRAIN_OPTIONS.items() if flag in flags]
            assert message.endswith(f"only; drop it, or pass --arch {takers[0]}") or \
                f"or pass --arch {', '.join(takers[:-1])} or {takers[-1]}" in message, message
    capsys.readouterr()


@pytest.mark.parametrize("arch", ARCHS)
def test_each_family_takes_its_own_options(arch):
    for flag in TRAIN_OPTIONS[arch]:
        args = build_parser().parse_args(["train", "d", "--out", "o", "--arch", arch,
                                          *_given(flag)])
        assert check_train_arch(args) == arch
    args = build_parser().parse_args(["train", "d", "--out", "o", "--arch", arch])
    assert check_train_arch(args) == arch and args.latent_dim == LATENT_DIMS.get(arch)


def test_shared_options_are_named_as_every_single_phase_familys():
    # --kimg was "an option of --arch dcgan only" before pix2pix and srgan took it too.
    args = build_parser().parse_args(["train", "d", "--out", "o", "--kimg", "3"])
    with pytest.raises(OptionError, match=r"^--kimg is an option of --arch dcgan, pix2pix, "
                                          r"srgan, cyclegan and stylegan only; drop it, or pass "
                                          r"--arch dcgan, pix2pix, srgan, cyclegan or stylegan$"):
        check_train_arch(args)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("found", ARCHS)
def test_resuming_a_run_of_another_family_is_refused(arch, found, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({} if found == "progan" else {"arch": found}))
    args = build_parser().parse_args(["train", "d", "--out", str(run), "--arch", arch,
                                      "--resume"])
    if found == arch:
        assert check_train_arch(args) == arch
        return
    with pytest.raises(OptionError, match=f"holds a {found} run; resume it with --arch {found}, "
                                          f"or choose another --out for a new {arch} run"):
        check_train_arch(args)


def test_the_cli_refuses_in_one_line_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(tmp_path), "--out", str(out), "--arch", "pix2pix",
                     "--blocks", "3"]) == 2  # was silently ignored before the table
    error = capsys.readouterr().err.strip()
    assert error == "progan-tf: error: --blocks is not an option of --arch pix2pix; drop it"
    assert not out.exists()


def test_family_options_are_the_shared_ones_and_the_own_ones_given():
    args = build_parser().parse_args(["train", "faces", "--out", "run", "--arch", "dcgan",
                                      "--grayscale", "--kimg", "2", "--xla"])
    check_train_arch(args)
    options = family_options(args)
    assert options["grayscale"] is True and options["kimg"] == 2.0
    assert options["jit_compile"] is True and options["latent_dim"] == 100
    assert "width" not in options and "batch_size" not in options  # the config's defaults
    del options["grayscale"]
    DCGANConfig(**options).validate()
