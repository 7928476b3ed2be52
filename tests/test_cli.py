"""The ``progan-tf`` command line, run as a user runs it: in a subprocess.

Bad-input tests, which only need the parser and the one-line error handling, call
:func:`progan_tf_here` instead: the same ``main`` in this process, without paying TensorFlow's
start-up (several seconds) once per call.  What needs the real script -- the console entry
point, exit codes after signals, output a user sees -- still runs in a subprocess.
"""

import contextlib
import io
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def progan_tf(*args, timeout=300, env=None):
    """Run the installed console script (falls back to ``python -m`` if it is not on PATH)."""
    script = Path(sys.executable).with_name("progan-tf")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "progan_tf.cli"]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env or ENV)


def progan_tf_here(*args):
    """Run ``progan-tf`` in this process; returns what :func:`progan_tf` returns.

    ``main`` catches every error a user can cause, so an exception escaping it here is what a
    traceback would be in a subprocess: the test fails.
    """
    from progan_tf import cli

    root_handlers = list(logging.getLogger().handlers)
    # main() may install Ctrl-C/SIGTERM handlers (train saves, then stops): they must not
    # outlive the call, or a later test's Ctrl-C in this worker never raises KeyboardInterrupt.
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.main([str(a) for a in args])
            except SystemExit as stop:  # argparse's usage errors, --help
                code = stop.code
    finally:  # main's logging.basicConfig must not outlive the call
        logging.getLogger().handlers[:] = root_handlers
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("progan-tf: error:"), result.stderr
    for fragment in fragments:
        assert fragment in last, last


@pytest.mark.parametrize("command", ["generate", "interpolate", "train", "export", "evaluate",
                                     "invert", "demo"])
def test_help_for_each_command(command):
    result = progan_tf(command, "--help")
    assert result.returncode == 0
    assert f"usage: progan-tf {command}" in result.stdout


def test_generate_grid_is_seeded(tf1_hub_module_dir, tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    for out, seed in ((a, 7), (b, 7), (c, 8)):
        result = progan_tf("generate", "--model", tf1_hub_module_dir, "-n", 6, "--seed", seed,
                           "--ncols", 3, "--out", out)
        assert result.returncode == 0, result.stderr
    grid = np.asarray(Image.open(a))
    # 2 rows x 3 columns of 128x128 images with 2-pixel padding.
    assert grid.shape[:2] == (2 * 128 + 3 * 2, 3 * 128 + 4 * 2)
    assert np.array_equal(grid, np.asarray(Image.open(b)))
    assert not np.array_equal(grid, np.asarray(Image.open(c)))
    assert "wrote 6 images (128x128)" in result.stdout
    zoomed = tmp_path / "zoomed.png"
    result = progan_tf("generate", "--model", tf1_hub_module_dir, "-n", 6, "--seed", 7,
                       "--ncols", 3, "--zoom", 2, "--out", zoomed)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.asarray(Image.open(zoomed))[::2, ::2], grid)


@pytest.mark.parametrize("method", ["hypersphere", "slerp", "lerp"])
def test_interpolate_writes_looping_gif(tf1_hub_module_dir, tmp_path, method):
    out = tmp_path / f"{method}.gif"
    result = progan_tf("interpolate", "--model", tf1_hub_module_dir, "--steps", 12,
                       "--method", method, "--fps", 10, "--out", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames == 12 and gif.info.get("loop") == 0
        assert gif.info["duration"] == 100
    assert "rendering" in result.stderr  # the progress bar


def test_interpolate_walk_through_keyframes_loop(tf1_hub_module_dir, tmp_path):
    out = tmp_path / "walk.gif"
    result = progan_tf("interpolate", "--model", tf1_hub_module_dir, "--steps", 5,
                       "--keyframes", 3, "--loop", "--out", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        # 3 segments of 5 frames (4 new each): the shared keyframes are not repeated, and the
        # loop stops one step before the first keyframe so the GIF does not stutter.
        assert gif.n_frames == 12


def test_bad_input_gives_one_line_errors(tf1_hub_module_dir, tmp_path):
    assert_one_line_error(progan_tf("generate", "--model", tmp_path / "nope", "--out",
                                    tmp_path / "x.png"), "nope")  # the real script, once
    assert_one_line_error(progan_tf_here("interpolate", "--model", tf1_hub_module_dir, "--out",
                                         tmp_path / "walk.avi", "--steps", 3), ".avi")
    empty = tmp_path / "empty_model"
    empty.mkdir()
    assert_one_line_error(progan_tf_here("generate", "--model", empty, "--out",
                                         tmp_path / "y.png"))


def test_argument_errors_exit_2_with_usage():
    for args in (["generate", "-n", "0"], ["generate", "--zoom", "0"],
                 ["interpolate", "--steps", "-3"], ["interpolate", "--steps", "1"],
                 ["interpolate", "--method", "cubic"], ["frobnicate"]):
        result = progan_tf_here(*args)
        assert result.returncode == 2
        assert "usage:" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_hub_handle_says_what_to_do(tmp_path):
    env = {**ENV, "TFHUB_CACHE_DIR": str(tmp_path / "cache"),
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    result = progan_tf("generate", "--model", "https://tfhub.dev/google/progan-128/1",
                       "--out", tmp_path / "g.png", env=env, timeout=120)
    assert_one_line_error(result, "bundled")


def test_generate_from_exported_training_run(tmp_path):
    """A model this package trains and exports works with the same commands."""
    from test_gan_train import tiny_config, write_faces

    from progan_tf.gan.export import export_run
    from progan_tf.gan.train import train

    run = train(tiny_config(write_faces(tmp_path / "faces", count=16), tmp_path / "run",
                            resolution=4), progress=False)
    export = export_run(run, tmp_path / "export")
    result = progan_tf("generate", "--model", export, "-n", 4, "--out", tmp_path / "g.png")
    assert result.returncode == 0, result.stderr
    assert "(4x4, shown 32x)" in result.stdout  # --zoom auto: 4 px pictures shown at 128 px
    # 2 x 2 pictures of 4 px with 2 px padding, every pixel enlarged 32 times.
    assert Image.open(tmp_path / "g.png").size == (14 * 32, 14 * 32)
    shutil.rmtree(run)


def test_evaluate_reports_swd_with_noise_floor(tf2_saved_model_dir, tmp_path):
    from test_gan_train import write_faces

    real = write_faces(tmp_path / "real", count=40, size=32)
    out = tmp_path / "metrics.json"
    result = progan_tf("evaluate", "--model", tf2_saved_model_dir, "--real", real, "--last", 30,
                       "-n", 16, "--out", out)
    assert result.returncode == 0, result.stderr
    import json
    metrics = json.loads(out.read_text())
    assert set(metrics["swd"]["levels"]) == {"32", "16"}
    assert metrics["swd_noise_floor"]["average"] >= 0
    # A random stand-in generator is far from the real faces: above the real-vs-real floor.
    assert metrics["swd"]["average"] > metrics["swd_noise_floor"]["average"]
    assert 0 <= metrics["ms_ssim_fake"] <= 1
    assert_one_line_error(progan_tf("evaluate", "--model", tf2_saved_model_dir, "--real",
                                    tmp_path / "missing"), "does not exist")


def test_evaluate_holdout_measures_the_floor_with_as_many_training_images(
        tf2_saved_model_dir, tmp_path):
    from test_gan_train import write_faces

    from progan_tf.gan.data import load_image_folder
    from progan_tf.metrics import sliced_wasserstein_distance
    from progan_tf.training.quality import held_out_and_floor

    real = write_faces(tmp_path / "real", count=40, size=32)
    out = tmp_path / "metrics.json"
    result = progan_tf_here("evaluate", "--model", tf2_saved_model_dir, "--real", real,
                            "--holdout", 16, "--out", out)
    assert result.returncode == 0, result.stderr
    import json
    metrics = json.loads(out.read_text())
    assert metrics["num_fake_images"] == 16 and metrics["num_real_images"] == 32
    assert "held-out images and as many training images score" in " ".join(result.stdout.split())
    held_out, floor = held_out_and_floor(load_image_folder(real, 32).images, 16)
    expected = sliced_wasserstein_distance(held_out, floor)
    assert metrics["swd_noise_floor"]["levels"]["32"] == pytest.approx(expected["levels"][32])
    # Bad input: one line each, nothing written.
    assert_one_line_error(progan_tf_here("evaluate", "--model", tf2_saved_model_dir, "--real",
                                         real, "--holdout", 40, "--out", tmp_path / "x.json"),
                          "--holdout 40 leaves no training images for the floor")
    both = progan_tf_here("evaluate", "--model", tf2_saved_model_dir, "--real", real,
                          "--holdout", 8, "--last", 8)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert not (tmp_path / "x.json").exists()


def test_version_is_instant_and_matches_the_package():
    from importlib.metadata import version

    result = progan_tf("--version", timeout=20)
    assert result.returncode == 0 and result.stdout.strip() == f"progan-tf {version('progan-tf')}"


def test_generate_zooms_small_models_to_128_px_by_default(tf2_saved_model_dir, tmp_path):
    auto, native = tmp_path / "auto.png", tmp_path / "native.png"
    result = progan_tf("generate", "--model", tf2_saved_model_dir, "-n", 4, "--out", auto)
    assert result.returncode == 0, result.stderr
    assert "(32x32, shown 4x)" in result.stdout
    result = progan_tf("generate", "--model", tf2_saved_model_dir, "-n", 4, "--zoom", 1,
                       "--out", native)
    assert result.returncode == 0, result.stderr
    grid = np.asarray(Image.open(native))
    assert grid.shape[:2] == (2 * 32 + 3 * 2,) * 2
    # 32 px pictures: the smallest whole factor reaching 128 px is 4, pixels stay sharp.
    np.testing.assert_array_equal(np.asarray(Image.open(auto)), grid.repeat(4, 0).repeat(4, 1))


def test_interpolate_zoom_and_boomerang_frame_count(tf2_saved_model_dir, tmp_path):
    out = tmp_path / "walk.gif"
    result = progan_tf("interpolate", "--model", tf2_saved_model_dir, "--steps", 6,
                       "--boomerang", "--zoom", 3, "--out", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.size == (96, 96) and gif.n_frames == 10  # 6 forward, 4 back
        frame = np.asarray(gif.convert("RGB"))
    np.testing.assert_array_equal(frame, frame[::3, ::3].repeat(3, 0).repeat(3, 1))
    assert "wrote 10 frames" in result.stdout
    result = progan_tf("interpolate", "--model", tf2_saved_model_dir, "--steps", 2,
                       "--out", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.size == (128, 128)  # --zoom auto
