"""Smoke test for ``bench/srgan.py``: tiny SRResNet and SRGAN runs on the same faces; the table
(bicubic, SRResNet, SRGAN, floor), the JSON and the course's figure come out, and a second
run reads the finished runs back instead of training again."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows


@pytest.mark.slow
def test_quick_bench_prints_one_table_writes_the_figure_and_reruns_without_training(
        faces, tmp_path, capsys):
    bench = load_bench_script("srgan")
    args = ["--quick", "--data", str(faces), "--out", str(tmp_path / "runs"), "--holdout", "16",
            "--json", str(tmp_path / "srgan.json"), "--figure", str(tmp_path / "figure.png")]
    bench.main(args)
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["bicubic", "SRResNet (content only)", "SRGAN",
                                        "real vs real (floor)"]
    results = json.loads((tmp_path / "srgan.json").read_text())["results"]
    assert all(results[name]["psnr"] > 0 and results[name]["swd"] > 0
               for name in ("bicubic", "srresnet", "srgan"))
    assert results["srgan"]["images_per_second"] > 0
    assert (tmp_path / "figure.png").stat().st_size > 1000
    stamp = (tmp_path / "runs" / "srgan" / "speed.json").stat().st_mtime_ns
    bench.main(args)
    assert (tmp_path / "runs" / "srgan" / "speed.json").stat().st_mtime_ns == stamp
    # A run the bench did not finish (here: its export is gone) is resumed from its checkpoint,
    # not refused; a folder with no checkpoint is refused, naming it.
    import shutil

    shutil.rmtree(tmp_path / "runs" / "srgan" / "export")
    (tmp_path / "runs" / "srgan" / "speed.json").unlink()
    bench.main(args)
    assert (tmp_path / "runs" / "srgan" / "export" / "saved_model.pb").is_file()
    shutil.rmtree(tmp_path / "runs" / "srresnet" / "checkpoints")
    (tmp_path / "runs" / "srresnet" / "speed.json").unlink()
    with pytest.raises(SystemExit, match="holds an unfinished run with no checkpoint"):
        bench.main(args)
