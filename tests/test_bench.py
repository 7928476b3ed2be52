"""Smoke test for ``bench/generate.py``, so the benchmark script cannot silently rot.

One ``--quick`` run (20 and 200 frames, short timings) is shared by the table checks; the GIFs
it leaves in ``--out-dir`` are checked independently with Pillow.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bench_scripts import load_bench_script, markdown_rows
from PIL import Image

BENCH = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
QUICK_FRAMES = (1, 20, 200)


def _load_bench_module():
    return load_bench_script("generate")


def _table_rows(output: str) -> dict[str, list[str]]:
    """``"benchmark / case"`` -> the row's cells, for every data row of the markdown table."""
    return {f"{cells[0]} / {cells[1]}": cells for cells in markdown_rows(output)}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Runs ``bench/generate.py --quick`` once; returns (stdout, out_dir)."""
    out_dir = tmp_path_factory.mktemp("bench_out")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out-dir", str(out_dir)],
        capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, out_dir


def test_quick_run_prints_every_row(quick_run):
    output, _ = quick_run
    rows = _table_rows(output)
    expected = {"generate / batch 1", "generate / batch 8", "generate / batch 64",
                "GIF stream / 1 frame (baseline)", "GIF stream / 20 frames",
                "GIF stream / 200 frames"}
    assert expected <= set(rows), output
    assert "model: progan-128-shaped stand-in" in output
    assert "128x128" in output
    for name in ("generate / batch 1", "generate / batch 8", "generate / batch 64"):
        images_per_second, ms_per_batch = (float(v) for v in rows[name][2:4])
        batch = int(name.rsplit(" ", 1)[1])
        assert images_per_second > 0
        # The two columns must describe the same measurement.
        assert images_per_second == pytest.approx(1000 * batch / ms_per_batch, rel=0.02)


def test_quick_run_checks_the_memory_requirement_consistently(quick_run):
    output, _ = quick_run
    rows = _table_rows(output)
    peaks = {frames: float(rows[f"GIF stream / {frames} frames"][4]) for frames in (20, 200)}
    baseline = float(rows["GIF stream / 1 frame (baseline)"][4])
    # A child that loaded TensorFlow and a model is far above the ~15 MB parent's floor.
    assert baseline > 100
    assert float(rows["GIF stream / 200 frames"][5]) == pytest.approx(
        peaks[200] - baseline, abs=0.15)
    (requirement,) = [cells for name, cells in rows.items() if name.startswith("requirement")]
    ratio = float(requirement[4].rstrip("x"))
    assert ratio == pytest.approx(peaks[200] / peaks[20], abs=2e-3)
    assert re.search(r"peak\(200\) / peak\(20\) <= 1\.2x: (PASS|FAIL)", requirement[1])
    assert requirement[1].endswith("PASS" if ratio <= 1.2 else "FAIL")


def test_quick_run_writes_gifs_with_the_reported_frames(quick_run):
    output, out_dir = quick_run
    rows = _table_rows(output)
    for frames in QUICK_FRAMES:
        path = out_dir / f"walk-{frames}.gif"
        with Image.open(path) as gif:
            assert gif.n_frames == frames
            assert gif.size == (128, 128)
        if frames > 1:
            reported_mb = float(rows[f"GIF stream / {frames} frames"][7])
            assert path.stat().st_size / 1e6 == pytest.approx(reported_mb, abs=0.006)


def test_bad_seconds_is_refused(capsys):
    bench = _load_bench_module()
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--seconds", "0"])
    assert exit_info.value.code == 2
    assert "--seconds must be a positive, finite number, got 0" in capsys.readouterr().err


def test_out_dir_that_is_a_file_is_refused(tmp_path, capsys):
    bench = _load_bench_module()
    not_a_folder = tmp_path / "results.txt"
    not_a_folder.write_text("")
    with pytest.raises(SystemExit):
        bench.parse_args(["--out-dir", str(not_a_folder)])
    assert "results.txt' is a file" in capsys.readouterr().err


def test_missing_handle_raises_model_load_error_from_the_child(tmp_path):
    from progan_tf.errors import ModelLoadError

    bench = _load_bench_module()
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError, match="no-such-model"):
        bench.main(["--handle", str(missing), "--quick"])
