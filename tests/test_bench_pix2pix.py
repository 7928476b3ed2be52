"""Smoke test for ``bench/pix2pix.py``: a tiny pix2pix and a tiny L1-only U-Net on the same
sketched faces; one table with both rows and the floor, the JSON and the picture come out, and a
second run reuses the finished runs instead of training again."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows


@pytest.mark.slow
def test_quick_bench_prints_one_table_writes_the_picture_and_reuses_runs(faces, tmp_path,
                                                                         capsys):
    bench = load_bench_script("pix2pix")
    args = ["--quick", "--data", str(faces), "--out", str(tmp_path / "runs"), "--holdout", "16",
            "--json", str(tmp_path / "bench.json")]
    bench.main(args)
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["U-Net, L1 only", "pix2pix", "real vs real (floor)"]
    assert all(row[1] == "0.1" for row in rows[:2]) and "x)" in rows[0][-1]
    result = json.loads((tmp_path / "bench.json").read_text())
    for name in ("unet-l1", "pix2pix"):
        scores = result["results"][name]
        assert 0 < scores["l1"] < 1 and scores["psnr"] > 0 and -1 <= scores["ssim"] <= 1
        assert scores["swd"]["16"] > 0 and scores["images_per_second"] > 0
    assert (tmp_path / result["pictures"]["faces"]).stat().st_size > 1000
    stamp = (tmp_path / "runs" / "pix2pix" / "run.json").stat().st_mtime_ns
    checkpoints = sorted((tmp_path / "runs" / "pix2pix" / "checkpoints").iterdir())
    bench.main(args)  # finished runs are reused, not trained again
    assert sorted((tmp_path / "runs" / "pix2pix" / "checkpoints").iterdir()) == checkpoints
    assert (tmp_path / "runs" / "pix2pix" / "run.json").stat().st_mtime_ns == stamp
    assert markdown_rows(capsys.readouterr().out) == rows
