"""``progan-tf`` on bad arguments and bad output paths: one line, exit 2, nothing lost."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
from test_cli import ENV, assert_one_line_error, progan_tf, progan_tf_here

from progan_tf import cli


@pytest.fixture(scope="module")
def a_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "notes.txt"
    path.write_text("my notes")
    return path


def unwritable_folder(tmp_path):
    """A folder nobody may write to.  Root ignores permission bits, so as root use a read-only
    system folder; ``/sys`` refuses new files even to root."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        folder = Path("/sys")
        try:
            tempfile.mkstemp(dir=folder)
        except OSError:
            return folder
        pytest.skip("no read-only folder to test with")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


OUTPUT_COMMANDS = {
    "generate": ["generate", "--model", "bundled", "-n", "1", "--out"],
    "interpolate": ["interpolate", "--model", "bundled", "--steps", "2", "--out"],
    "train": ["train", "DATA", "--kimg-per-phase", "0.01", "--out"],
    "invert": ["invert", "PHOTO", "--model", "bundled", "--steps", "1", "--out"],
}


def command(name, out, tmp_path):
    args = [str(tmp_path / "data") if a == "DATA" else str(tmp_path / "photo.png")
            if a == "PHOTO" else a for a in OUTPUT_COMMANDS[name]]
    return args + [str(out)]


@pytest.mark.parametrize("name", ["generate", "interpolate", "train", "invert"])
def test_output_under_a_file(name, a_file, tmp_path):
    suffix = {"generate": "x.png", "interpolate": "x.gif"}.get(name, "run")
    started = time.monotonic()
    result = progan_tf_here(*command(name, a_file / suffix, tmp_path))
    assert_one_line_error(result, "is a file, not a folder")
    assert time.monotonic() - started < 30  # refused before any model is loaded
    assert a_file.read_text() == "my notes"


def test_export_under_a_file(a_file, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{}")
    assert_one_line_error(progan_tf_here("export", run, a_file / "export"), "is a file")
    assert a_file.read_text() == "my notes"


@pytest.mark.parametrize("name", ["train", "invert"])
def test_output_folder_that_is_a_file(name, a_file, tmp_path):
    assert_one_line_error(progan_tf_here(*command(name, a_file, tmp_path)), "is a file")
    assert a_file.read_text() == "my notes"


@pytest.mark.parametrize("name", ["generate", "train", "invert"])
def test_unwritable_output_folder(name, tmp_path):
    folder = unwritable_folder(tmp_path)
    out = folder / ("grid.png" if name == "generate" else "out")
    assert_one_line_error(progan_tf_here(*command(name, out, tmp_path)), "cannot write to")


@pytest.mark.parametrize("args, fragment", [
    (["train", "d", "--out", "r", "--kimg-per-phase", "inf"], "must be a finite number > 0"),
    (["train", "d", "--out", "r", "--final-kimg", "inf"], "must be a finite number > 0"),
    (["train", "d", "--out", "r", "--final-kimg", "nan"], "must be a finite number > 0"),
    (["train", "d", "--out", "r", "--batch-sizes", "4:0"], "whole numbers >= 1. Received: 4:0"),
    (["train", "d", "--out", "r", "--batch-sizes", "4:-4"], "whole numbers >= 1. Received: 4:-4"),
    (["train", "d", "--out", "r", "--seed", "-1"], "must be a whole number >= 0. Received: -1"),
    (["generate", "--seed", "-1"], "must be a whole number >= 0. Received: -1"),
    (["interpolate", "--seed", "-1"], "must be a whole number >= 0. Received: -1"),
    (["evaluate", "--real", "d", "--seed", "-1"], "must be a whole number >= 0. Received: -1"),
    (["invert", "p.png", "--out", "o", "--seed", "-1"], "whole number >= 0. Received: -1"),
    (["demo", "--seed", "-1"], "must be a whole number >= 0. Received: -1"),
    (["generate", "--zoom", "big"], "must be a whole number >= 1. Received: 'big'"),
    (["interpolate", "--steps", "1"], "must be a whole number >= 2. Received: 1"),
    (["generate", "-n", "2.5"], "must be a whole number >= 1. Received: '2.5'"),
])
def test_bad_numbers_are_refused_by_the_parser(args, fragment, tmp_path):
    result = subprocess.run([sys.executable, "-m", "progan_tf.cli", *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=ENV)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert fragment in result.stderr.strip().splitlines()[-1], result.stderr
    assert not (tmp_path / "r").exists()  # no run.json left behind to block the fixed command


def test_evaluate_out_into_a_new_folder_keeps_the_result(tf2_saved_model_dir, tmp_path):
    from test_gan_train import write_faces

    real = write_faces(tmp_path / "real", count=12, size=32)
    out = tmp_path / "new" / "deeper" / "metrics.json"
    result = progan_tf("evaluate", "--model", tf2_saved_model_dir, "--real", real, "-n", 100,
                       "--out", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["num_fake_images"] == 6
    # A table, not raw JSON: SWD per level beside the noise floor, and MS-SSIM.
    assert "noise floor" in result.stdout and "32px" in result.stdout
    assert "MS-SSIM" in result.stdout and "{" not in result.stdout
    # A progress bar on stderr; warnings are one line without Python's source line.
    assert "generating" in result.stderr or "MS-SSIM" in result.stderr
    warning = [line for line in result.stderr.splitlines() if "num_images=100" in line]
    assert warning and warning[0].startswith("progan-tf: warning: num_images=100")
    assert "warnings.warn" not in result.stderr and "metrics.py" not in result.stderr
    result = progan_tf("evaluate", "--model", tf2_saved_model_dir, "--real", real, "-n", 4,
                       "--json")
    assert json.loads(result.stdout)["num_fake_images"] == 4


def test_os_errors_while_writing_become_one_line(monkeypatch, tmp_path, capsys):
    """A full disk after the work: one line and status 2, not a traceback."""
    import progan_tf

    def disk_full(image, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(progan_tf, "save_image", disk_full)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    status = cli.main(["generate", "--model", "bundled", "-n", "1", "--out",
                       str(tmp_path / "g.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and err[-1].startswith("progan-tf: error: No space left on device")
    assert str(tmp_path / "g.png") in err[-1]


def test_ctrl_c_during_training_exits_130(tmp_path):
    from test_gan_train import write_faces

    data = write_faces(tmp_path / "faces", count=16)
    out = tmp_path / "run"
    script = Path(sys.executable).with_name("progan-tf")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "progan_tf.cli"]
    process = subprocess.Popen(
        base + ["train", str(data), "--out", str(out), "--resolution", "8", "--latent-dim", "16",
                "--fmap-max", "8", "--kimg-per-phase", "1000", "--batch-sizes", "4:8,8:8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 240
        while not (out / "losses.csv").exists():  # written once steps run, handlers installed
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("progan-tf: interrupted:")
    assert (out / "checkpoints" / "latest").exists()
