"""Smoke test for ``bench/ablation.py``: one tiny recipe trains, is evaluated along the way, and
its row (SWD per level beside the floor, time to quality) is printed and written as JSON."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows


@pytest.mark.slow
def test_quick_ablation_prints_a_row_per_recipe_and_reruns_without_training(faces, tmp_path,
                                                                             capsys):
    ablation = load_bench_script("ablation")
    args = ["--quick", "--data", str(faces), "--out", str(tmp_path / "runs"), "--holdout", "16",
            "--recipes", "ns-r1:ada", "--json", str(tmp_path / "ablation.json")]
    ablation.main(args)
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[:3] for row in rows] == [["ns-r1", "ada", "0.256"]]
    result = json.loads((tmp_path / "ablation.json").read_text())["recipes"][0]
    assert result["swd"][0 if isinstance(result["swd"], list) else "8"] > 0
    assert result["curve"] and result["cpu_minutes"] > 0
    # The winner trains on past equal images until it is within 2x its floor or the cap; the
    # SWD columns stay those at equal images.
    assert result["kimg"] == 0.256
    assert result["kimg_to_2x_floor"] is not None or result["curve_kimg"] == 0.384
    assert result["curve"][-1]["kimg"] == result["curve_kimg"] >= 0.256
    # A finished run is read back, not trained again.
    stamp = (tmp_path / "runs" / "ns-r1-ada" / "quality.csv").stat().st_mtime_ns
    ablation.main(args)
    assert (tmp_path / "runs" / "ns-r1-ada" / "quality.csv").stat().st_mtime_ns == stamp
    assert markdown_rows(capsys.readouterr().out) == rows


def test_bad_recipes_are_refused(capsys):
    ablation = load_bench_script("ablation")
    with pytest.raises(SystemExit):
        ablation.parse_args(["--recipes", "ns-r1:zoom"])
    assert "--recipes takes LOSS:AUGMENT pairs" in capsys.readouterr().err
