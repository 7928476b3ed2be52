"""Tests of ``bench/train.py``: its FLOP count against a hand count, its command line's errors,
and a smoke test that the tables it prints have every row, with positive rates, so the benchmark
cannot silently rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_scripts import load_bench_script, markdown_rows

BENCH = Path(__file__).resolve().parents[1] / "bench" / "train.py"


def conv(pixels, kernel, channels_in, channels_out):
    """2 x multiply-adds of a convolution over ``pixels`` output pixels."""
    return 2 * pixels * kernel * kernel * channels_in * channels_out


def test_flops_are_counted_at_the_requested_stage_whatever_stage_the_networks_were_at():
    from progan_tf.gan.train import TrainConfig, build_model

    bench = load_bench_script("train")
    model = build_model(TrainConfig(data_dir="x", out_dir="", resolution=16, latent_dim=16,
                                    fmap_max=8))
    for network in (model.generator, model.discriminator):
        network.set_stage(16)  # the previous row's stage: the count must not depend on it
    latent, width = 16, 8
    # G at 8x8, stable: dense to 4x4x8, one 3x3 conv at 4x4, two at 8x8, a 1x1 toRGB.
    generator = (2 * latent * 16 * width + conv(16, 3, width, width)
                 + 2 * conv(64, 3, width, width) + conv(64, 1, width, 3))
    # D at 8x8, stable: 1x1 fromRGB, two 3x3 convs at 8x8, the 3x3 conv at 4x4 on the features
    # plus the minibatch-stddev channel, the dense layer, the score.
    discriminator = (conv(64, 1, 3, width) + 2 * conv(64, 3, width, width)
                     + conv(16, 3, width + 1, width) + 2 * 16 * width * width + 2 * width)
    assert bench.stage_flops(model, 8) == (generator, discriminator)
    assert bench.step_flops(model, 8) == 4 * generator + 15 * discriminator
    assert bench.step_flops(model, 8, "ns-r1") == 4 * generator + (9 + 6 / 16) * discriminator
    # ... and at 4x4 after 8x8: no 8x8 layers left in the count.
    assert bench.stage_flops(model, 4) == (
        2 * latent * 16 * width + conv(16, 3, width, width) + conv(16, 1, width, 3),
        conv(16, 1, 3, width) + conv(16, 3, width + 1, width) + 2 * 16 * width * width
        + 2 * width)


@pytest.mark.parametrize("argv, message", [
    (["--resolutions", "5"], "resolutions must be among 4, 8, 16, 32, 64. Received: "
                             "resolution=5"),
    (["--resolutions", "four"], "--resolutions must be comma-separated numbers"),
    (["--recipe-resolution", "128"], "Received: resolution=128"),
    (["--configs", "huge"], "--configs must name some of shipped, paper/4, paper"),
    (["--precisions", "float16"], "Received: precision='float16'"),
    (["--seconds", "0"], "--seconds and --images must be positive"),
    (["--data", "/no/such/folder"], "--data must be a folder of images (or use --quick)"),
])
def test_bad_arguments_stop_with_a_one_line_message(argv, message, capsys):
    bench = load_bench_script("train")
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert ": error: " in err.strip().splitlines()[-1]


@pytest.mark.slow
def test_quick_run_prints_every_row_of_both_tables():
    result = subprocess.run([sys.executable, str(BENCH), "--quick", "--resolutions", "4",
                             "--configs", "shipped", "--recipe-resolution", "4",
                             "--precisions", "float32"],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    width_table, recipe_table = result.stdout.split("| loss |")
    rows = markdown_rows(width_table)
    assert [(row[0], row[2], row[3], row[5], row[6]) for row in rows] == [
        ("shipped", "4x4", "stable", "float32", "-")]
    # train img/s, GFLOP/s, img/s with one-call scoring, and their ratio
    assert all(float(row[7]) > 0 and float(row[8]) > 0 and float(row[10]) > 0
               and float(row[11]) > 0 for row in rows)
    assert "score_together, float32: together / separate =" in result.stdout
    recipes = markdown_rows("| loss |" + recipe_table)
    assert [(row[0], row[1]) for row in recipes] == [
        ("wgan-gp", "none"), ("ns-r1", "none"), ("wgan-gp", "diffaugment"), ("wgan-gp", "ada"),
        ("ns-r1", "diffaugment"), ("ns-r1", "ada")]
    assert [row[6] for row in recipes[:2]] == ["4 G + 15 D", "4 G + 9.375 D"]
    assert all(float(row[7]) > 0 for row in recipes)
    assert all(int(row[10]) % 16 == 0 for row in recipes if row[0] == "ns-r1")  # R1 1 in 16
    assert "native bfloat16:" in result.stdout and "bfloat16" in result.stdout.split("matmul:")[1]
    assert "generation (shipped, EMA G, 32x32, batch 64)" in result.stdout


def test_one_slow_row_does_not_cut_the_other_rows_to_one_step(monkeypatch):
    """Emulated bfloat16 steps can take half a minute; the fast rows keep all their rounds."""
    bench = load_bench_script("train")
    step_seconds = {"fast": 0.5, "slow": 20.0}
    calls = []

    def fake_timed_fit(model, dataset, steps):
        calls.append((model, steps))
        return [step_seconds[model]] * steps

    monkeypatch.setattr(bench, "timed_fit", fake_timed_fit)
    (fast_rate, fast_steps), (slow_rate, slow_steps) = bench.time_side_by_side(
        [("fast", None, 8, 1), ("slow", None, 8, 1)], seconds=30, rounds=3)
    assert (fast_rate, slow_rate) == (16.0, 0.4)
    assert slow_steps == 2  # the warm-up step and one round of one step
    assert fast_steps == 1 + 3 * 20  # three rounds of 10 s each
    assert [steps for model, steps in calls if model == "fast"] == [1, 20, 20, 20]
