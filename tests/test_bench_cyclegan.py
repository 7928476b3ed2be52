"""Smoke test for ``bench/cyclegan.py``: on any export (here untrained 16x16 generators) and two
small folders, one table (A -> B, B -> A: SWD, the gap, the floor, cycle PSNR), the JSON and the
figure come out; a bad export ends in one line."""

import json

import pytest
from bench_scripts import load_bench_script, markdown_rows
from conftest import write_faces


def test_bench_measures_any_export_on_held_out_pictures(tmp_path, capsys):
    from progan_tf.cyclegan import export_translators, make_generator

    g, f = (make_generator(resolution=16, width=4, blocks=1) for _ in range(2))
    export = export_translators(g, f, tmp_path / "export")
    write_faces(tmp_path / "data" / "A", count=72, seed=1)
    write_faces(tmp_path / "data" / "B", count=72, seed=2)
    bench = load_bench_script("cyclegan")
    results = bench.main(["--model", str(export), "--data", str(tmp_path / "data"), "--domains",
                          "folders", "--holdout", "8", "--json", str(tmp_path / "cg.json"),
                          "--figure", str(tmp_path / "figure.png")])
    rows = markdown_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["A -> B", "B -> A"]
    assert all(float(cell) > 0 for row in rows for cell in (row[1], row[2], row[5]))
    assert results["a_to_b"]["gap"] == pytest.approx(results["b_to_a"]["gap"], rel=0.5)
    assert json.loads((tmp_path / "cg.json").read_text())["results"]["a_to_b"]["cycle_psnr"] > 0
    assert (tmp_path / "figure.png").stat().st_size > 1000


def test_bench_refuses_a_missing_export_in_one_line(tmp_path):
    bench = load_bench_script("cyclegan")
    with pytest.raises(SystemExit, match="cyclegan.py: ") as raised:
        bench.main(["--model", str(tmp_path / "none")])
    assert "\n" not in str(raised.value.code)
