"""CycleGAN as a family: a run on two unpaired folders, its export loaded by
``load_translator`` (``a_to_b``/``b_to_a``), ``kimg`` fixed on resume, the hair split, the
command line (train, export, translate --direction) and bad input.  Every model is tiny (16x16,
4 feature maps, one residual block), so each run takes seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import read_csv, write_faces
from PIL import Image

from progan_tf import cli
from progan_tf.cycle_translators import CycleTranslator, is_cycle_handle
from progan_tf.cyclegan import CycleGANConfig, export_run, train
from progan_tf.cyclegan.config import MIN_DOMAIN_IMAGES
from progan_tf.cyclegan.family import CYCLEGAN_FAMILY, domain_files
from progan_tf.errors import DatasetError, ImageLoadError, ModelLoadError
from progan_tf.translators import load_translator

HOLDOUT = 4
COUNT = MIN_DOMAIN_IMAGES + HOLDOUT


def write_domains(root, count=COUNT):
    """A/: 20x20 RGB 'faces'; B/: 24x24 ones, a few of them grey or transparent."""
    write_faces(root / "A", count=count, seed=1)
    write_faces(root / "B", count=count, size=24, seed=2)
    Image.open(root / "B" / "0000.png").convert("L").save(root / "B" / "0000.png")
    Image.open(root / "B" / "0001.png").convert("RGBA").save(root / "B" / "0001.png")
    return root


def tiny(data_dir, out_dir, **overrides):
    options = dict(data_dir=str(data_dir), out_dir=str(out_dir), resolution=16, width=4,
                   resnet_blocks=1, kimg=0.064, batch_size=8, holdout=HOLDOUT)
    options.update(overrides)
    return CycleGANConfig(**options)


TINY_ARGS = ["--arch", "cyclegan", "--resolution", "16", "--width", "4", "--resnet-blocks", "1",
             "--batch-size", "8", "--holdout", str(HOLDOUT)]


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    return write_domains(tmp_path_factory.mktemp("cyclegan-data"))


@pytest.fixture(scope="module")
def run(domains, tmp_path_factory):
    """The one training run of this file, by the command line (as a user starts it)."""
    out = tmp_path_factory.mktemp("cyclegan") / "run"
    assert cli.main(["train", str(domains), "--out", str(out), *TINY_ARGS, "--kimg",
                     "0.08"]) == 0  # 10 steps: one row of losses.csv
    return out


@pytest.fixture(scope="module")
def export(run, tmp_path_factory):
    return export_run(run, tmp_path_factory.mktemp("cyclegan-export") / "export")


# ---------------------------------------------------------------------------------------------
# A run and its export
# ---------------------------------------------------------------------------------------------


def test_a_run_trains_on_both_domains_less_their_holdouts(run):
    rows = read_csv(run / "losses.csv")
    assert {"g_loss", "f_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss"} <= set(
        rows[0])
    assert all(np.isfinite(float(row["cycle_loss"])) for row in rows)
    info = json.loads((run / "dataset.json").read_text())
    assert (info["images"], info["images_b"], info["holdout"]) == (COUNT - HOLDOUT,) * 2 + (
        HOLDOUT,)
    assert info["domains"]["a"] == "A" and info["domains"]["b"] == "B"
    assert (run / "samples" / "final-16px.png").is_file()


def test_a_stopped_and_resumed_run_matches_the_uninterrupted_one(domains, run, tmp_path):
    """The pools, the decaying learning rate and the two data orders all resume exactly."""
    split = tmp_path / "split"
    train(tiny(domains, split, kimg=0.08), stop_after_images=40, progress=False, log_every=10)
    train(tiny(domains, split, kimg=0.08), resume=True, progress=False, log_every=10)
    straight, resumed = read_csv(run / "losses.csv"), read_csv(split / "losses.csv")
    assert [row["kimg"] for row in straight] == [row["kimg"] for row in resumed] == ["0.08"]
    for name in ("g_loss", "f_loss", "cycle_loss", "d_a_loss", "d_b_loss"):
        np.testing.assert_allclose(float(straight[0][name]), float(resumed[0][name]),
                                   rtol=1e-3, atol=1e-4, err_msg=name)


def test_the_export_translates_both_ways_any_batch(export):
    translator = load_translator(export)
    assert isinstance(translator, CycleTranslator) and is_cycle_handle(export)
    assert translator.resolution == 16 and translator.domains["a"] == "A"
    batch = np.random.default_rng(0).random((3, 16, 16, 3)).astype("float32")
    for direction in (translator.a_to_b, translator.b_to_a):
        out = direction(batch)
        assert out.shape == (3, 16, 16, 3) and 0 <= out.min() and out.max() <= 1
        assert direction(batch[0]).shape == (16, 16, 3)
    np.testing.assert_allclose(translator.a_to_b(batch[:1])[0], translator.a_to_b(batch[0]),
                               atol=1e-5)
    assert translator.b_to_a(np.zeros((16, 16), np.uint8)).shape == (16, 16, 3)  # grey
    with pytest.raises(ImageLoadError, match="takes 16x16 pictures") as raised:
        translator.a_to_b(np.zeros((2, 8, 8, 3)))
    assert "\n" not in str(raised.value)
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["arch"] == "cyclegan" and metadata["resolution"] == 16
    assert metadata["domains"]["rule"] == "two folders of unpaired pictures"
    assert "training_command" in metadata
    assert {"generator_ab.keras", "generator_ba.keras"} <= {p.name for p in export.iterdir()}


def test_load_generator_refuses_a_cyclegan_export_in_one_line(export):
    from progan_tf import load_generator

    with pytest.raises(ModelLoadError, match="is a CycleGAN translator") as raised:
        load_generator(str(export))
    assert "\n" not in str(raised.value) and "load_translator" in str(raised.value)


def test_bundled_cyclegan_loads_and_says_so_in_one_line_when_missing(monkeypatch, tmp_path):
    from progan_tf import cycle_translators

    shipped = load_translator("bundled-cyclegan")
    assert shipped.resolution == 64 and shipped.a_to_b(np.zeros((1, 64, 64, 3))).ndim == 4
    monkeypatch.setattr(cycle_translators, "bundled_cyclegan_folder", lambda: tmp_path / "cg")
    with pytest.raises(ModelLoadError, match="ships no CycleGAN weights yet") as raised:
        load_translator("bundled-cyclegan")
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------
# Bad input: one line, nothing written
# ---------------------------------------------------------------------------------------------


def test_bad_domains_are_refused_before_anything_is_written(domains, tmp_path):
    write_faces(tmp_path / "few" / "A", count=COUNT)
    write_faces(tmp_path / "few" / "B", count=10)
    write_faces(tmp_path / "only-a" / "A", count=4)
    cases = [
        (tiny(tmp_path / "only-a", tmp_path / "run"), "has no B/ folder"),
        (tiny(domains / "A", tmp_path / "run", unpaired_b=str(domains / "A")),
         "are the same folder"),
        (tiny(domains, tmp_path / "run", unpaired_b=str(domains / "B")), "in both domains"),
        (tiny(tmp_path / "few", tmp_path / "run"),
         f"domain B has 10 pictures, but CycleGAN needs at least {COUNT} per domain "
         f"\\({MIN_DOMAIN_IMAGES}, plus the --holdout of {HOLDOUT}\\)"),
        (tiny(domains, tmp_path / "run", resolution=20), "multiple of 8"),
        (tiny(domains, tmp_path / "run", generator="unet", resolution=48), "power of two"),
        (tiny(domains, tmp_path / "run", domains="hair", unpaired_b="x"), "unpaired_b"),
    ]
    for config, message in cases:
        with pytest.raises(DatasetError, match=message) as raised:
            train(config, progress=False)
        assert "\n" not in str(raised.value)
        assert not (tmp_path / "run").exists()


def test_hair_split_makes_the_domains_of_one_folder_of_faces(tmp_path):
    from test_cyclegan import write_heads

    tops = np.linspace(0, 255, 340).round().astype(int)
    write_heads(tmp_path / "faces", list(tops), size=(36, 44))
    config = CycleGANConfig(str(tmp_path / "faces"), "run", domains="hair", resolution=16)
    a_files, b_files = domain_files(config)
    assert len(a_files) == 102 and len(b_files) == 68  # 30 % and 20 % of 340
    assert max(a_files) < min(b_files)  # the darkest tops are the first files
    decoded, info = CYCLEGAN_FAMILY.load_data(config)
    assert decoded.a.shape == (102, 16, 16, 3) and decoded.b_files == b_files
    assert info["domains"]["a"] == "dark hair" and "25th percentile" in info["domains"]["rule"]
    with pytest.raises(DatasetError, match="found 68 faces for domain B .* needs at least 72"):
        domain_files(CycleGANConfig(str(tmp_path / "faces"), "run", domains="hair",
                                    holdout=8))


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_resumes_only_with_the_same_kimg_in_one_line(domains, run, capsys):
    before = sorted(p.name for p in run.rglob("*"))
    assert cli.main(["train", str(domains), "--out", str(run), *TINY_ARGS, "--kimg", "0.128",
                     "--resume"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: cannot resume") and "kimg 0.128" in error
    assert len(error.splitlines()) == 1 and sorted(p.name for p in run.rglob("*")) == before
    assert CycleGANConfig.from_json((run / "run.json").read_text()).resnet_blocks == 1


def test_cli_exports_and_translates_one_way_and_back(run, tmp_path, capsys):
    assert cli.main(["export", str(run), str(tmp_path / "export")]) == 0
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 20, 4), np.uint8),
                    "RGBA").save(photo)
    capsys.readouterr()
    assert cli.main(["translate", str(photo), "--model", str(tmp_path / "export"),
                     "--direction", "b2a", "--out", str(tmp_path / "t")]) == 0
    assert "B -> A -> B" in capsys.readouterr().out
    written = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert written == ["cycled.png", "input.png", "translated.png", "translation.png"]
    assert Image.open(tmp_path / "t" / "input.png").size == (128, 128)  # 16x16 shown 8x
    assert Image.open(tmp_path / "t" / "translation.png").size[1] > 128  # labelled


@pytest.mark.parametrize("args, message", [
    (["--domains", "hair"], "--domains is an option of --arch cyclegan only"),
    (["--arch", "cyclegan", "--blocks", "3"], "--blocks is not an option of --arch cyclegan"),
    (["--arch", "cyclegan", "--paired-b", "x"], "--paired-b is not an option of --arch cyclegan"),
    (["--arch", "cyclegan"], "has no A/ folder"),
])
def test_cli_refuses_bad_training_input_in_one_line(args, message, faces, tmp_path, capsys):
    assert cli.main(["train", str(faces), "--out", str(tmp_path / "run"), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "run").exists()


def test_cli_translates_with_the_shipped_cyclegan(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((40, 40, 3), 60, np.uint8)).save(photo)
    assert cli.main(["translate", str(photo), "--model", "bundled-cyclegan", "--direction",
                     "a2b", "--out", str(tmp_path / "t")]) == 0
    assert "dark hair -> fair hair" in capsys.readouterr().out
    assert Image.open(tmp_path / "t" / "translated.png").size == (128, 128)  # 64x64 shown 2x


@pytest.mark.parametrize("model, message", [
    ("bundled-pix2pix", "--direction is for CycleGAN translators"),
    ("bundled-cyclegan", "ships no CycleGAN weights yet"),
])
def test_cli_translate_direction_in_one_line(model, message, tmp_path, capsys, monkeypatch):
    from progan_tf import cycle_translators

    # the weights ship: an installation without them is made by pointing the folder elsewhere
    monkeypatch.setattr(cycle_translators, "bundled_cyclegan_folder", lambda: tmp_path / "no-cg")
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    assert cli.main(["translate", str(photo), "--model", model, "--direction", "a2b", "--out",
                     str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
