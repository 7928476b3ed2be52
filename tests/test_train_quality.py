"""``progan-tf train --quality-every-kimg``: SWD against held-out images along the way."""

import numpy as np
import pytest
from conftest import tiny_config

from progan_tf.errors import DatasetError
from progan_tf.gan.train import TrainConfig, read_run_config, train
from progan_tf.training.quality import held_out_and_floor, read_quality


def test_held_out_are_the_last_images_and_the_floor_comes_from_the_rest():
    images = np.arange(20, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    held_out, floor = held_out_and_floor(images, 5, seed=1)
    assert held_out[:, 0, 0, 0].tolist() == [15, 16, 17, 18, 19]
    picked = floor[:, 0, 0, 0].tolist()
    assert len(picked) == 5 and len(set(picked)) == 5 and max(picked) < 15
    assert picked == sorted(picked)  # in folder order
    assert held_out_and_floor(images, 5, seed=1)[1].tolist() == floor.tolist()  # seeded
    # More held out than the training part holds: both cut to what the training part has.
    held_out, floor = held_out_and_floor(images, 15)
    assert len(held_out) == len(floor) == 5
    with pytest.raises(Exception, match="Received: holdout=20"):
        held_out_and_floor(images, 20)


def test_training_writes_quality_rows_at_the_final_resolution(faces, tmp_path):
    config = tiny_config(faces, tmp_path / "run", holdout=16, quality_every_kimg=0.064,
                         quality_images=16)
    run = train(config, progress=False)
    rows = read_quality(run)
    assert len(rows) >= 3
    assert {row["phase"] for row in rows} <= {"8x8 fade-in", "8x8 stable"}  # never at 4x4
    kimg = [float(row["kimg"]) for row in rows]
    assert kimg == sorted(kimg) and kimg[-1] == pytest.approx(0.192)
    for row in rows:
        assert float(row["swd_8"]) > 0 and float(row["floor_8"]) >= 0
        assert float(row["train_seconds"]) > 0
    assert len({row["floor_8"] for row in rows}) == 1  # one floor for the whole run


def test_quality_options_change_safely_on_resume(faces, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(faces, out, holdout=16), progress=False, stop_after_images=64)
    assert read_quality(out) == []  # off by default
    train(tiny_config(faces, out, holdout=16, quality_every_kimg=0.064, quality_images=16),
          resume=True, progress=False)
    assert read_quality(out)  # measured after the resume; the run went on
    # run.json holds the run's options as of its latest start (the ones a resume may change)
    assert read_run_config(out).quality_every_kimg == 0.064


def test_old_run_json_without_the_fields_reads_as_off():
    stored = TrainConfig("faces", "run").to_json().replace('"quality_every_kimg": 0.0,', "")
    assert TrainConfig.from_json(stored).quality_every_kimg == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"quality_every_kimg": 1}, "give a holdout too. Received: holdout=0"),
    ({"quality_every_kimg": -1, "holdout": 4}, "Received: quality_every_kimg=-1"),
    ({"quality_every_kimg": 1, "holdout": 4, "quality_images": 1},
     "Received: quality_images=1"),
])
def test_bad_quality_options_are_one_line(faces, tmp_path, overrides, message):
    with pytest.raises(DatasetError, match=message):
        train(tiny_config(faces, tmp_path / "run", **overrides), progress=False)
    assert not (tmp_path / "run").exists()  # nothing written
