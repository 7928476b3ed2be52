"""Smoke test for ``bench/finetune.py``: on a tiny stand-in (an 8x8 export, 48 synthetic faces)
it trains both runs for a few seconds each and prints the table with all three rows."""

import json
from pathlib import Path

import keras
import pytest
from bench_scripts import load_bench_script, markdown_rows
from conftest import write_faces

from progan_tf.gan.export import export_generator
from progan_tf.gan.finetune import read_init
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


def test_published_table_is_the_recorded_run():
    """bench/README.md's fine-tuning table is what ``table()`` prints from
    docs/bench-finetune.json, measured on the shipped model, and its claims hold on those
    numbers."""
    bench = load_bench_script("finetune")
    repo = Path(__file__).resolve().parents[1]
    recorded = json.loads((repo / "docs" / "bench-finetune.json").read_text())
    floor = {int(level): value for level, value in recorded["floor"].items()}
    results = recorded["results"]
    for result in results:  # JSON keys are strings; table() indexes levels as integers
        result["swd"] = {int(level): value for level, value in result["swd"].items()}
    readme = (repo / "bench" / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Fine-tuning: `finetune.py`")[1].split("\n### ")[0]
    assert markdown_rows(section) == markdown_rows(bench.table(results, floor))
    # Measured on the model that ships: its resolution's levels, fine-tuned at its resolution.
    shipped = read_init("bundled").architecture["resolution"]
    assert max(floor) == shipped and recorded["options"]["init"] == "bundled"
    as_is, tuned, scratch = (result["swd"] for result in results)
    assert results[1]["phase"] == f"{shipped}x{shipped} stable"
    # "6.0x closer to the floor at 64 px than training from scratch, 5.4x at 32 px and 3.8x
    # at 16 px"
    assert [f"{scratch[lv] / tuned[lv]:.1f}x" for lv in (64, 32, 16)] == ["6.0x", "5.4x", "3.8x"]
    # "improved on the bundled model as it is only at 32 px"
    assert [lv for lv in (64, 32, 16) if tuned[lv] < as_is[lv]] == [32]
