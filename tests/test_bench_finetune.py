"""Smoke test for ``bench/finetune.py``: on a tiny stand-in (an 8x8 export, 48 synthetic faces)
it trains both runs for a few seconds each and prints the table with all three rows."""

import json

import keras
import pytest
from bench_scripts import load_bench_script, markdown_rows
from conftest import write_faces

from progan_tf.gan.export import export_generator
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator


@pytest.mark.slow
def test_quick_run_prints_the_three_rows(tmp_path, capsys):
    keras.utils.set_random_seed(5)
    common = {"resolution": 8, "fmap_max": 8, "stage_resolution": 8}
    init = export_generator(ProgressiveGenerator(latent_dim=16, **common), tmp_path / "init",
                            ProgressiveDiscriminator(**common))
    faces = write_faces(tmp_path / "faces", count=40)
    bench = load_bench_script("finetune")
    args = ["--quick", "--data", str(faces), "--init", str(init), "--out", str(tmp_path / "out"),
            "--pool", "24", "--train-images", "12", "--json", str(tmp_path / "result.json")]
    bench.main(args)
    printed = capsys.readouterr().out
    rows = markdown_rows(printed)
    assert [row[0] for row in rows] == [f"{init} as it is (no training)", "fine-tuned",
                                        "from scratch"]
    assert rows[0][1] == "0" and float(rows[1][1]) > 0
    assert rows[1][3] == "8x8 stable" and "(" in rows[1][4] and "(" in rows[2][4]
    assert "same distribution" in printed
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["results"][1]["train_minutes"] >= 0.1  # the budget, then a stop
    assert len(list((tmp_path / "out" / "faces").iterdir())) == 12

    bench.main(args)  # finished runs are read back, not trained again
    assert markdown_rows(capsys.readouterr().out)[1:] == rows[1:]
