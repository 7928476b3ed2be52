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
