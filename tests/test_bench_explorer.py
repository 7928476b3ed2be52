"""Smoke test for ``bench/explorer.py``: one ``--quick`` run in-process on a tiny exported model
(an untrained 8x8 ProGAN, 16-d latents) prints both tables with sane numbers and writes the same
numbers to ``--json``; bad options and a missing model stop with one line."""

import contextlib
import io
import json

import keras
import pytest
from bench_scripts import load_bench_script, markdown_rows

from progan_tf.gan.export import export_generator
from progan_tf.gan.networks import ProgressiveGenerator


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Runs ``bench/explorer.py --quick`` once; returns (model, stdout rows, stdout, JSON)."""
    work = tmp_path_factory.mktemp("bench_explorer")
    keras.utils.set_random_seed(4)
    model = export_generator(ProgressiveGenerator(latent_dim=16, resolution=8, fmap_max=8,
                                                  stage_resolution=8), work / "tiny")
    bench = load_bench_script("explorer")
    out = work / "explorer.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        bench.main(["--quick", "--model", str(model), "--json", str(out)])
    text = printed.getvalue()
    return str(model), markdown_rows(text), text, json.loads(out.read_text())


def test_redraw_rows_are_timed_and_traced_once(quick_run):
    model, rows, text, document = quick_run
    redraw = [row for row in rows if len(row) == 7]
    assert [(row[0], row[1]) for row in redraw] == [
        (model, "8x8"), ("untrained ProGAN, fmap_max 8", "8x8")]
    for row in redraw:
        moves, median, p90, first, traces = int(row[2]), *map(float, row[3:6]), int(row[6])
        assert moves == 5 and traces == 1
        assert 0 < median <= p90 and first > 0
    assert [entry["traces"] for entry in document["redraw"]] == [1, 1]
    assert document["redraw"][0]["median_ms"] == pytest.approx(float(redraw[0][3]), abs=0.06)
    assert "QUICK mode" in text and "load average" in text


def test_effect_rows_have_angles_and_sizes(quick_run):
    _, rows, text, document = quick_run
    effects = [row for row in rows if len(row) == 6]
    assert [row[0] for row in effects] == ["hair (notebook 04)", "random 1"]
    for row in effects:
        angle, *sizes = map(float, row[1:])
        assert 0 < angle <= 90
        assert all(0 <= size <= 255 for size in sizes)
    assert "ends /255 at that angle on 4 unseen faces" in text
    assert [entry["visible_angle"] for entry in document["effects"]] == [
        pytest.approx(float(row[1]), abs=0.06) for row in effects]
    reference = [line for line in text.splitlines() if line.startswith("two random faces")]
    assert reference == [f"two random faces differ by "
                         f"{document['random_faces_differ']:.0f}/255 (8 pairs)"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--moves", "0"], "--moves must be at least 1, got 0"),
    (["--moves", "two"], "invalid int value: 'two'"),
])
def test_bad_options_are_refused(argv, message, capsys):
    bench = load_bench_script("explorer")
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_json_must_not_be_a_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        load_bench_script("explorer").parse_args(["--json", str(tmp_path)])
    assert "is a folder; pass a file name" in capsys.readouterr().err


def test_missing_model_is_one_line(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        load_bench_script("explorer").main(["--quick", "--model", str(tmp_path / "nothing")])
    message = str(stopped.value.code)
    assert message.startswith("bench/explorer.py: error: ") and "\n" not in message
    assert not (tmp_path / "nothing").exists()
