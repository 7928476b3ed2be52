"""Smoke test for ``bench/train.py``: the table it prints has every configuration, precision and
XLA row, with positive rates, so the benchmark cannot silently rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_scripts import markdown_rows

BENCH = Path(__file__).resolve().parents[1] / "bench" / "train.py"


@pytest.mark.slow
def test_quick_run_prints_a_row_per_configuration_and_precision():
    result = subprocess.run([sys.executable, str(BENCH), "--quick", "--resolutions", "4"],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    rows = markdown_rows(result.stdout)
    seen = {(row[0], row[3], row[4]) for row in rows}
    assert seen == {(config, precision, xla)
                    for config in ("shipped (fmap 64)", "128-channel")
                    for precision, xla in (("float32", "-"), ("float32", "XLA"),
                                           ("mixed_bfloat16", "-"))}
    assert all(float(row[5]) > 0 and float(row[6]) > 0 for row in rows)
    assert "native bfloat16:" in result.stdout and "bfloat16" in result.stdout.split("matmul:")[1]
    assert "generation (shipped, EMA G, 32x32, batch 64)" in result.stdout
