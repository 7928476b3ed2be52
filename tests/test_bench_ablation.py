"""Smoke test for ``bench/ablation.py``: one tiny recipe trains, is evaluated along the way, and
its row (SWD per level beside the floor, time to quality) is printed and written as JSON."""

import json
from pathlib import Path

import pytest
from bench_scripts import load_bench_script, markdown_rows

from progan_tf.gan.train import TrainConfig


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


def test_published_table_is_the_recorded_run():
    """bench/README.md's ablation table is what ``table()`` prints from docs/bench-ablation.json,
    and the README's claims about it hold on those numbers."""
    ablation = load_bench_script("ablation")
    repo = Path(__file__).resolve().parents[1]
    recorded = json.loads((repo / "docs" / "bench-ablation.json").read_text())
    results = recorded["recipes"]
    for result in results:  # JSON keys are strings; table() indexes levels as they came
        result["swd"] = {int(k): v for k, v in result["swd"].items()}
        result["floor"] = {int(k): v for k, v in result["floor"].items()}
    printed = markdown_rows(ablation.table(results, recorded["options"]["resolution"]))
    readme = (repo / "bench" / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The recipe: `ablation.py`")[1].split("\n### ")[0]
    assert markdown_rows(section) == printed
    # "WGAN-GP without augmentation wins, at both levels" -- and it is the default.
    best = {level: min(results, key=lambda r: r["swd"][level]) for level in (32, 16)}
    assert {(r["loss"], r["augment"]) for r in best.values()} == {("wgan-gp", "none")}
    defaults = TrainConfig("d", "o")
    assert (defaults.loss, defaults.augment) == ("wgan-gp", "none")
    # Equal images shown; the winner reached 2x its floor on the longer curve.
    assert {r["kimg"] for r in results} == {90.0}
    winner = best[32]
    assert winner["kimg_to_2x_floor"] == winner["curve_kimg"] > winner["kimg"]
