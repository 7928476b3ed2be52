"""The generator shipped inside the package: offline, in progan-128's interface."""

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from bench_scripts import markdown_rows

import progan_tf
from progan_tf.loading import bundled_folder

BUNDLED = Path(str(bundled_folder()))


def test_bundled_model_loads_offline_like_progan128():
    gen = progan_tf.load_generator("bundled")
    assert gen.latent_dim == 512
    assert gen.image_shape[2] == 3 and gen.image_shape[0] >= 32
    images = gen(progan_tf.sample_latents(8, 512, seed=0)).numpy()
    assert images.min() >= 0 and images.max() <= 1
    # Different latents give different faces; the same latent the same face.
    assert np.abs(images[0] - images[1]).mean() > 0.02
    np.testing.assert_allclose(gen(progan_tf.sample_latents(1, 512, seed=0)).numpy()[0], images[0],
                               atol=1e-5)


def test_bundled_model_through_plain_tensorflow_hub():
    import tensorflow_hub as hub

    signature = hub.load(str(BUNDLED)).signatures["default"]
    _, inputs = signature.structured_input_signature
    assert list(inputs) == ["default"] and inputs["default"].shape.as_list() == [None, 512]
    resolution = json.loads((BUNDLED / "metadata.json").read_text())["resolution"]
    out = signature(default=tf.zeros([2, 512]))["default"]
    assert out.dtype == tf.float32 and tuple(out.shape) == (2, resolution, resolution, 3)


def test_bundled_metadata_documents_training():
    meta = json.loads((BUNDLED / "metadata.json").read_text())
    assert meta["latent_dim"] == 512 and meta["resolution"] >= 32
    assert meta["training_command"].startswith("progan-tf train")
    assert meta["images_shown"] > 0 and meta["dataset"]["holdout"] == 1000


def test_bundled_model_is_small_and_inside_the_wheel(tmp_path):
    size = sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file())
    assert size < 20 * 1024 * 1024
    assert Path(str(bundled_folder())) == BUNDLED
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("progan_tf-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "progan_tf/bundled/generator/saved_model.pb" in names
    assert any(n.startswith("progan_tf/bundled/generator/variables/") for n in names)
    for shipped in BUNDLED.parent.glob("*/saved_model.pb"):  # the other shipped models too
        assert f"progan_tf/bundled/{shipped.parent.name}/saved_model.pb" in names
    # The facade's type stub, and the marker that tells type checkers to read it.
    assert "progan_tf/__init__.pyi" in names and "progan_tf/py.typed" in names


def test_every_shipped_model_together_stays_under_60_mb():
    """Issue 15: the package with every shipped model stays under 60 MB."""
    sizes = {folder.name: sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
             for folder in BUNDLED.parent.iterdir() if folder.is_dir()}
    assert "generator" in sizes and sum(sizes.values()) < 60 * 1024 * 1024, sizes


def test_readme_width_comparison_is_the_recorded_curves():
    """README "The bundled model": the wider run's table is docs/wide64-quality.csv beside the
    shipped run's docs/bundled-quality.csv at equal kimg, on the same floors."""
    repo = Path(__file__).resolve().parents[1]

    def curve(name):
        with open(repo / "docs" / name, newline="") as f:
            return {round(float(row["kimg"])): row for row in csv.DictReader(f)}

    wide, shipped = curve("wide64-quality.csv"), curve("bundled-quality.csv")
    readme = (repo / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Tried: wider layers")[1].split("\n* ")[0]
    rows = markdown_rows(section)
    assert len(rows) == 4
    for kimg, wide_cell, shipped_cell in rows:
        kimg = int(kimg.split()[0])
        for cell, run in ((wide_cell, wide), (shipped_cell, shipped)):
            row = run[kimg]
            assert cell == " / ".join(f"{float(row[f'swd_{lv}']):.1f}" for lv in (64, 32, 16))
            assert [row[f"floor_{lv}"] for lv in (64, 32, 16)] == [
                shipped[kimg][f"floor_{lv}"] for lv in (64, 32, 16)]
