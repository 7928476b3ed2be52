"""Smoke test for ``bench/recover.py``, so the latent recovery benchmark cannot silently rot.

One ``--quick`` run (2 + 2 targets) on a tiny stand-in generator (16-d latents, 16x16 images)
with an encoder trained for it in a few steps, and a temporary folder of made-up "faces", is
shared by the checks; its JSON output is checked
against its printed table, so the two cannot drift apart. The options and the real-face loader
are tested in-process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_scripts import load_bench_script, markdown_rows
from PIL import Image

from progan_tf.errors import DatasetError
from progan_tf.generator import METADATA_FILE
from progan_tf.loading import bundled_folder

BENCH = Path(__file__).resolve().parents[1] / "bench" / "recover.py"
ROWS = ("classic MAE (tutorial)", "classic MSE", "recover_latent", "classic MAE, equal time",
        "recover_latent, 1 restart", "encoder alone", "encoder + refinement")
QUICK_TARGETS, QUICK_STEPS = 2, 30  # --quick's 30 steps, with 2 + 2 targets to stay fast
FACE_SIZES = [(45, 55), (40, 50), (60, 73), (45, 55), (50, 50), (38, 47)]  # (width, height)


def _load_bench_module():
    return load_bench_script("recover")


def _table_rows(output: str) -> dict[str, list[str]]:
    """The first cell -> the row's cells, for every data row of the markdown table."""
    return {cells[0]: cells for cells in markdown_rows(output)}


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory):
    """Six random RGB pictures of CelebA-like proportions, named so that sorting matters."""
    folder = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i, (width, height) in enumerate(FACE_SIZES):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:06d}.png")
    return folder


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, faces_dir):
    """Runs ``bench/recover.py --quick`` once; returns (stdout, JSON document)."""
    from progan_tf.testing import build_tf2_saved_model

    work = tmp_path_factory.mktemp("bench_recover")
    from progan_tf.recovery.encoder_training import EncoderConfig, train_encoder

    model = build_tf2_saved_model(work / "tiny", latent_dim=16, image_shape=(16, 16, 3))
    encoder = train_encoder(EncoderConfig(model=str(model), out_dir=str(work / "encoder"),
                                          steps=2, batch_size=2, width=4, max_width=8),
                            progress=False)
    out = work / "recover.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--num-targets", str(QUICK_TARGETS), "--handle",
         str(model), "--real-dir", str(faces_dir), "--encoder", str(encoder), "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, json.loads(out.read_text())


def test_quick_run_prints_every_row_with_its_steps(quick_run):
    output, document = quick_run
    rows = _table_rows(output)
    assert set(ROWS) <= set(rows), output
    restarts = {"recover_latent": 8}
    steps = {"encoder alone": 0, "encoder + refinement": 10, "classic MAE, equal time": None}
    for label in ROWS:
        assert int(rows[label][2]) == restarts.get(label, 1)
        if steps.get(label, QUICK_STEPS) is not None:
            assert int(rows[label][1]) == steps.get(label, QUICK_STEPS)
    assert rows["encoder alone"][14:] == ["-", "-", "-"]  # no steps, so no time per step
    assert int(rows["classic MAE, equal time"][1]) >= 1
    assert "latent 16 -> 16x16 RGB" in output
    assert "QUICK mode" in output
    assert "estimated default run (32 + 32 targets, 300 steps)" in output
    assert document["report"] == output.strip()


def test_quick_run_uses_the_last_files_of_the_real_folder(quick_run, faces_dir):
    _, document = quick_run
    expected = sorted(p.name for p in faces_dir.iterdir())[-QUICK_TARGETS:]
    assert document["setup"]["real_files"] == expected
    names = {o["target"] for o in document["per_target"] if o["set"] == "real"}
    assert names == set(expected)


def test_table_agrees_with_the_per_target_numbers(quick_run):
    output, document = quick_run
    rows = _table_rows(output)
    by_key = {m["key"]: m for m in document["methods"]}
    assert len(document["per_target"]) == len(ROWS) * 2 * QUICK_TARGETS
    for key, method in by_key.items():
        mine = [o for o in document["per_target"] if o["method"] == key]
        real = [o for o in mine if o["set"] == "real"]
        known = [o for o in mine if o["set"] == "known"]
        assert len(real) == len(known) == QUICK_TARGETS
        assert all(o["steps"] == method["steps"] for o in mine)
        assert all(o["cosine"] is None for o in real)
        assert all(-1.0 <= o["cosine"] <= 1.0 for o in known)
        assert all(0.0 < o["steady_step_seconds"] <= o["loop_seconds"] <= o["seconds"]
                   for o in mine)
        cells = rows[method["label"]]
        # Columns: real PSNR mean/median, SSIM mean/median, then the same for known latents.
        assert float(cells[3]) == pytest.approx(np.mean([o["psnr"] for o in real]), abs=0.006)
        assert float(cells[4]) == pytest.approx(np.median([o["psnr"] for o in real]), abs=0.006)
        assert float(cells[9]) == pytest.approx(np.mean([o["ssim"] for o in known]), abs=6e-4)
        assert float(cells[11]) == pytest.approx(np.mean([o["cosine"] for o in known]),
                                                 abs=6e-4)
        recovered = sum(o["psnr"] >= 30.0 for o in known)
        assert cells[12].startswith(f"{recovered}/{QUICK_TARGETS} ")
        seconds = np.mean([o["seconds"] for o in mine])
        assert float(cells[13]) == pytest.approx(seconds, abs=0.006)
        if method["steps"] == 0:
            continue
        ms_per_step = 1000 * np.mean([o["loop_seconds"] / o["steps"] for o in mine])
        assert float(cells[16]) == pytest.approx(ms_per_step / method["restarts"], rel=0.01,
                                                 abs=6e-4)


def test_equal_time_row_fits_recover_latents_time(quick_run):
    _, document = quick_run
    by_key = {m["key"]: m for m in document["methods"]}
    classic = [o for o in document["per_target"] if o["method"] == "classic_mae"]
    seconds_per_step = np.mean([o["seconds"] / o["steps"] for o in classic])
    budget = by_key["recover_latent"]["seconds_per_target"]
    assert by_key["classic_equal"]["steps"] == max(1, math.floor(budget / seconds_per_step))


def test_verdicts_follow_from_the_numbers(quick_run):
    output, document = quick_run
    by_key = {m["key"]: m for m in document["methods"]}
    recover, classic = by_key["recover_latent"], by_key["classic_mae"]
    expected = [
        recover["psnr_mean"]["real"] - classic["psnr_mean"]["real"] >= 3.0,
        recover["recovered"] / recover["known_targets"] >= 0.9,
        classic["ms_per_step"] / recover["ms_per_step"] >= 3.0,
        classic["ms_per_step"] / by_key["recover_latent_1"]["ms_per_step"] >= 3.0,
        by_key["encoder"]["psnr_mean"]["real"] >= recover["psnr_mean"]["real"] - 3.0,
        (by_key["encoder_refine"]["psnr_mean"]["real"] >= recover["psnr_mean"]["real"]
         and by_key["encoder_refine"]["seconds_per_target"]
         <= 0.25 * recover["seconds_per_target"]),
    ]
    assert [check["passed"] for check in document["targets"]] == expected
    verdicts = [line.split(":")[0] for line in output.splitlines()
                if line.startswith(("- PASS", "- FAIL"))]
    assert verdicts == [f"- {'PASS' if ok else 'FAIL'}" for ok in expected]


def test_execution_step_seconds_shares_each_call_among_its_steps():
    bench = _load_bench_module()
    per_execution = bench.recover_steps_per_execution()
    assert per_execution > 1  # else this test would not tell bursts apart
    # 2.5 executions: callbacks come in bursts when each call returns (at 1.0, 1.5, 1.75 s).
    steps = 2 * per_execution + per_execution // 2
    ends = [1.0, 1.5, 1.75]
    times = [(step, ends[step // per_execution] + 1e-5 * (step % per_execution))
             for step in range(steps)]
    expected = [0.5 / per_execution, 0.25 / (per_execution // 2)]
    assert bench.execution_step_seconds(times) == pytest.approx(expected)
    assert bench.execution_step_seconds(times[:per_execution]) == []


def test_real_faces_get_the_training_crop(faces_dir):
    from progan_tf.training.data import load_image_folder

    bench = _load_bench_module()
    files, total = bench.real_face_files(faces_dir, 3)
    assert total == len(FACE_SIZES)
    assert [Path(f).name for f in files] == ["000003.png", "000004.png", "000005.png"]
    faces = bench.load_real_faces(files, 16, "celeba")
    trained = load_image_folder(faces_dir, 16, crop="celeba").images[-3:]
    np.testing.assert_allclose(faces, trained / 255.0, atol=1e-6)
    center = bench.load_real_faces(files, 16, "center")
    assert np.abs(center - faces).max() > 0.05  # the crop option is really passed on


def test_too_few_real_faces_names_the_folder_and_the_count(faces_dir):
    bench = _load_bench_module()
    with pytest.raises(DatasetError, match=r"holds 6 image\(s\) but --num-targets is 7"):
        bench.real_face_files(faces_dir, 7)


def test_missing_real_folder_is_a_dataset_error(tmp_path):
    bench = _load_bench_module()
    with pytest.raises(DatasetError, match="does not exist"):
        bench.real_face_files(tmp_path / "no-such-folder", 4)


def test_quick_defaults_and_explicit_options():
    bench = _load_bench_module()
    quick = bench.parse_args(["--quick"])
    assert (quick.steps, quick.num_targets, quick.handle) == (30, 4, "bundled")
    assert (quick.refine_steps, quick.refine_restarts, quick.encoder) == (10, 1, None)
    full = bench.parse_args([])
    assert (full.steps, full.num_targets) == (300, 32)
    assert (full.refine_steps, full.refine_restarts) == (250, 1)
    mixed = bench.parse_args(["--quick", "--steps", "12", "--num-targets", "2"])
    assert (mixed.steps, mixed.num_targets) == (12, 2)


@pytest.mark.parametrize(("argv", "message"), [
    (["--num-targets", "0"], "--num-targets must be at least 1, got 0"),
    (["--steps", "-5"], "--steps must be at least 1, got -5"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--crop", "square"], "invalid choice: 'square'"),
    (["--refine-steps", "0"], "--refine-steps and --refine-restarts must be at least 1"),
])
def test_bad_options_are_refused(argv, message, capsys):
    bench = _load_bench_module()
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_out_must_not_be_a_folder(tmp_path, capsys):
    bench = _load_bench_module()
    with pytest.raises(SystemExit):
        bench.parse_args(["--out", str(tmp_path)])
    assert "is a folder; pass a file name" in capsys.readouterr().err


def test_command_line_error_is_one_line_without_traceback(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--real-dir", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error: --real-dir" in result.stderr
    assert "missing' does not exist or is not a folder" in result.stderr


def test_encoder_rows_are_left_out_without_an_encoder(tmp_path):
    from progan_tf.generator import load_generator
    from progan_tf.testing import build_tf2_saved_model

    bench = _load_bench_module()
    generator = load_generator(build_tf2_saved_model(tmp_path / "g", latent_dim=16,
                                                     image_shape=(16, 16, 3)))
    encoder, note = bench.find_encoder(generator, bench.parse_args(["--quick"]))
    assert encoder is None and "left out" in note and "--encoder DIR" in note
    assert [m.key for m in bench.methods(30)][-1] == "recover_latent_1"
    assert [m.key for m in bench.methods(30, (10, 2))][-2:] == ["encoder", "encoder_refine"]


def test_published_table_is_the_recorded_run():
    """bench/README.md's latent-recovery table and verdicts are the run recorded in
    docs/bench-recover.json, made on the shipped model with the default 32 + 32 targets, and
    the README's numbers about it hold on that run."""
    repo = BENCH.parents[1]
    recorded = json.loads((repo / "docs" / "bench-recover.json").read_text())
    report = recorded["report"]
    section = (repo / "bench" / "README.md").read_text(encoding="utf-8").split(
        "### Latent recovery: `recover.py`")[1].split("**The previous bundled model")[0]
    assert markdown_rows(section) == markdown_rows(report)
    assert [line for line in section.splitlines() if line.startswith("- ")] == [
        line for line in report.splitlines() if line.startswith("- ")]
    setup = recorded["setup"]
    assert (setup["handle"], setup["num_targets"], setup["steps"]) == ("bundled", 32, 300)
    shipped = json.loads(bundled_folder().joinpath(METADATA_FILE).read_text())
    assert setup["image_shape"] == shipped["image_shape"]
    rows = _table_rows(report)
    verdict = next(line for line in report.splitlines() if "mean PSNR >= classic + 3 dB" in line)
    gain = verdict.rsplit(": +", 1)[1].removesuffix(" dB")  # from the unrounded means
    readme = " ".join((repo / "README.md").read_text(encoding="utf-8").split())
    assert f"{gain} dB closer in PSNR" in readme
    assert verdict.startswith("- FAIL") == (float(gain) < 3) == ("short of the +3 dB" in readme)
    recovered = rows["recover_latent"][12].split()[0]  # "31/32"
    assert f"recovers {recovered.replace('/', ' of ')} images made from known latents" in readme
