"""Smoke test for ``bench/dcgan_vs_progan.py``: a tiny DCGAN and a tiny ProGAN race for a few
seconds each on the same faces; the table, the JSON and the three pictures come out, and a
second run reads the finished runs back instead of training again."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows


@pytest.mark.slow
def test_quick_race_prints_both_rows_writes_pictures_and_reruns_without_training(
        faces, tmp_path, capsys):
    bench = load_bench_script("dcgan_vs_progan")
    args = ["--quick", "--data", str(faces), "--out", str(tmp_path / "runs"), "--holdout", "16",
            "--json", str(tmp_path / "race.json")]
    bench.main(args)
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["DCGAN", "ProGAN"]
    assert rows[0][4] == "16x16" and all("x)" in row[-1] for row in rows)
    result = json.loads((tmp_path / "race.json").read_text())
    for arch in ("dcgan", "progan"):
        final = result["results"][arch]["final"]
        assert final["swd"]["16"] > 0 and final["train_minutes"] >= 0.1
        assert final["images_per_second"] > 0
    assert result["floor"]["16"] > 0 and result["results"]["dcgan"]["curve"]
    for name in ("samples", "losses", "swd"):
        assert (tmp_path / result["pictures"][name]).stat().st_size > 1000
    stamp = (tmp_path / "runs" / "dcgan" / "race.json").stat().st_mtime_ns
    bench.main(args)  # finished runs are read back, not trained again
    assert (tmp_path / "runs" / "dcgan" / "race.json").stat().st_mtime_ns == stamp
    assert markdown_rows(capsys.readouterr().out) == rows


def test_an_unfinished_run_folder_is_refused_in_one_line(faces, tmp_path):
    bench = load_bench_script("dcgan_vs_progan")
    (tmp_path / "runs" / "dcgan").mkdir(parents=True)
    with pytest.raises(SystemExit, match="holds an unfinished run"):
        bench.main(["--quick", "--data", str(faces), "--out", str(tmp_path / "runs"),
                    "--holdout", "16"])
