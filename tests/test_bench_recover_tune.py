"""Smoke test for ``bench/recover_tune.py``: the sweep that tuned ``recover_latent``'s defaults.

One ``--quick`` run on a tiny stand-in generator and a folder of made-up "faces" checks that
the sweep scores faces the benchmark does not (the files before its last ones), that every
variant gets a row, and that the margins are paired differences against the tutorial's recipe.
The recorded sweep behind the shipped defaults is checked against them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_scripts import load_bench_script, markdown_rows
from PIL import Image

from progan_tf.recovery import RecoverySettings

BENCH = Path(__file__).resolve().parents[1] / "bench" / "recover_tune.py"
FILES = 7


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(1)
    for i in range(FILES):
        Image.fromarray(rng.integers(0, 256, (30, 24, 3), dtype=np.uint8)).save(
            folder / f"{i:06d}.png")
    return folder


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, faces_dir):
    from progan_tf.testing import build_tf2_saved_model

    work = tmp_path_factory.mktemp("bench_recover_tune")
    model = build_tf2_saved_model(work / "tiny", latent_dim=16, image_shape=(16, 16, 3))
    out = work / "tune.json"
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--handle", str(model), "--real-dir",
         str(faces_dir), "--skip-last", "3", "--variant", "defaults:", "--variant",
         "fast: learning_rate=0.8, noise=0", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, json.loads(out.read_text())


def test_sweep_scores_the_faces_before_the_benchmarks(quick_run):
    _, document = quick_run
    names = [Path(path).name for path in document["setup"]["real"]]
    assert names == ["000002.png", "000003.png"]  # 2 quick faces, then the 3 left to the bench


def test_every_variant_has_a_row_and_its_settings(quick_run):
    stdout, document = quick_run
    rows = {cells[0]: cells for cells in markdown_rows(stdout)}
    assert list(rows) == ["classic MAE (tutorial)", "defaults", "fast"]
    settings = document["setup"]["variants"]["fast"]["settings"]
    assert (settings["learning_rate"], settings["noise"], settings["steps"]) == (0.8, 0.0, 20)
    assert document["setup"]["variants"]["defaults"]["changes"] == {}


def test_margins_are_paired_differences_against_the_tutorial(quick_run):
    _, document = quick_run
    rows = document["rows"]
    for line in document["summary"]:
        mine = {r["target"]: r["psnr"] for r in rows
                if r["variant"] == line["variant"] and r["set"] == "real"}
        base = {r["target"]: r["psnr"] for r in rows
                if r["variant"] == "classic MAE (tutorial)" and r["set"] == "real"}
        assert line["margin"] == pytest.approx(np.mean([mine[k] - base[k] for k in base]))
        assert line["real_psnr"] == pytest.approx(np.mean(list(mine.values())))


def test_variant_parsing():
    module = load_bench_script("recover_tune")
    assert module.parse_variant("a: learning_rate=0.3, loss=laplacian") == (
        "a", {"learning_rate": 0.3, "loss": "laplacian"})
    assert module.parse_variant("plain") == ("plain", {})


@pytest.mark.parametrize("variant, message", [
    ("x: learning_rate", "expected field=value, got 'learning_rate'"),  # refused by argparse
    ("x: speed=3", "recover_latent has no option speed"),  # refused by RecoverySettings
])
def test_bad_variant_is_one_line_without_traceback(faces_dir, variant, message):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--real-dir", str(faces_dir), "--variant",
         variant], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr


def test_recorded_sweeps_chose_the_shipped_defaults():
    """docs/recover-tune-*.json are the sweeps behind RecoverySettings' defaults, on the same
    validation faces: the shipped defaults are their best full-search variant (the highest mean
    margin over the tutorial), and none of their faces is one the benchmark scores."""
    repo = BENCH.parents[1]
    sweeps = [json.loads(path.read_text())
              for path in sorted((repo / "docs").glob("recover-tune-*.json"))]
    assert len(sweeps) == 3
    assert len({tuple(sweep["setup"]["real"]) for sweep in sweeps}) == 1  # the same faces
    variants = [(row, sweep["setup"]["variants"][row["variant"]]) for sweep in sweeps
                for row in sweep["summary"][1:]]
    full_search = [(row, variant) for row, variant in variants
                   if "init" not in variant["changes"]]
    best_row, best = max(full_search, key=lambda pair: pair[0]["margin"])
    shipped = dataclasses.asdict(RecoverySettings())
    fields = ("steps", "restarts", "candidates", "learning_rate", "lr_rampup", "lr_rampdown",
              "noise", "noise_ramp", "loss", "prior")
    assert {k: best["settings"].get(k) for k in fields} == {k: shipped[k] for k in fields}
    unscreened = next(row for row, variant in full_search if variant["changes"] == {})
    assert best_row["margin"] > unscreened["margin"]
    benchmark = json.loads((repo / "docs" / "bench-recover.json").read_text())
    scored = {row["target"] for row in benchmark["per_target"] if row["set"] == "real"}
    assert not scored & {Path(path).name for path in sweeps[0]["setup"]["real"]}


def test_published_tuning_table_is_the_recorded_sweeps():
    """bench/README.md's tuning table shows each recorded variant's numbers as measured."""
    import re

    repo = BENCH.parents[1]
    section = (repo / "bench" / "README.md").read_text(encoding="utf-8").split(
        "### Tuning the search: `recover_tune.py`")[1].split("### ")[0]
    published = {re.sub(r"\s*\(.*\)$", "", cells[0].replace("**", "")): cells
                 for cells in markdown_rows(section)}
    published["defaults"] = published.pop("defaults before")
    recorded = [row for path in sorted((repo / "docs").glob("recover-tune-*.json"))
                for row in json.loads(path.read_text())["summary"][1:]]
    assert sorted(published) == sorted({row["variant"] for row in recorded}
                                       | {"classic MAE"})
    for row in recorded:
        cells = [cell.replace("**", "") for cell in published[row["variant"]]]
        assert cells[1] == f"{row['real_psnr']:.2f}"
        assert cells[2] == f"{row['margin']:+.2f} (+- {row['margin_se']:.2f})"
        assert cells[3] == f"{row['known_psnr']:.2f}"


def test_out_must_not_be_a_folder(tmp_path, capsys):
    module = load_bench_script("recover_tune")
    with pytest.raises(SystemExit) as stop:
        module.parse_args(["--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "is a folder; pass a file name such as tune.json" in capsys.readouterr().err
