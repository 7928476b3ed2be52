"""Smoke test for ``bench/families.py``: every family's shipped recipe, tiny, timed side by
side, printed as one table and written as JSON."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows


@pytest.mark.slow
def test_quick_run_times_every_family(faces, tmp_path, capsys):
    families = load_bench_script("families")
    families.main(["--quick", "--data", str(faces), "--json", str(tmp_path / "families.json")])
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["ProGAN 8x8", "DCGAN 16x16", "Pix2Pix 16x16",
                                        "SRGAN 16x16", "CycleGAN 16x16", "StyleGAN 16x16"]
    assert all(len(row) == 2 and float(row[1]) > 0 for row in rows)  # float32 only
    recorded = json.loads((tmp_path / "families.json").read_text())["rows"]
    assert recorded["SRGAN 16x16"]["float32"]["steps"] >= 1


def test_unknown_precision_is_refused(capsys):
    families = load_bench_script("families")
    with pytest.raises(SystemExit):
        families.parse_args(["--precisions", "float32,float8"])
    assert "--precisions takes float32, mixed_bfloat16. Received: ['float8']" in \
        capsys.readouterr().err


def test_rows_of_shipped_models_time_the_options_their_metadata_records(tmp_path):
    """The table once timed Pix2Pix at half the shipped width: rows now read the metadata."""
    from PIL import Image

    families = load_bench_script("families")
    faces = tmp_path / "faces"
    faces.mkdir()
    for index in range(2):  # recipes() links the CycleGAN row's two domains from these
        Image.new("RGB", (8, 8)).save(faces / f"{index}.png")
    rows = {name: config for name, _, config in families.recipes(str(faces), quick=False)}
    for name, folder in (("Pix2Pix 64x64", families.bundled_pix2pix_folder()),
                         ("DCGAN 32x32", families.bundled_dcgan_folder()),
                         ("SRGAN 16->64", families.bundled_srgan_folder())):
        recorded = json.loads((folder / "metadata.json").read_text())["config"]
        for option in ("width", "batch_size", "resolution", "crop"):
            assert getattr(rows[name], option) == recorded[option], (name, option)
        assert rows[name].data_dir == str(faces) and rows[name].holdout == 0
    assert (rows["Pix2Pix 64x64"].width, rows["Pix2Pix 64x64"].max_width) == (32, 128)
    # Where nothing ships, the recipe given is kept as it is.
    config = families.DCGANConfig(data_dir="x", out_dir="", width=7)
    assert families.shipped(config, tmp_path) is config
