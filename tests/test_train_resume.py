"""Resuming a run: the newest loadable checkpoint, damaged files, option changes, the loss log."""

import json
import logging
import os
import re
import shutil

import numpy as np
import pytest
from conftest import read_csv, tiny_config, write_faces

from progan_tf.errors import DatasetError, RunDirectoryError
from progan_tf.gan import callbacks as cb
from progan_tf.gan import checkpoint
from progan_tf.gan.export import export_run
from progan_tf.gan.schedule import Schedule
from progan_tf.gan.train import build_model, train

NEWEST, OLDER = "ckpt-000000000032", "ckpt-000000000024"


def base_config(faces, out, **overrides):
    # 4x4 only, batch 8, a checkpoint after every batch: the run keeps ckpt-24 and ckpt-32.
    options = {"resolution": 4, "kimg_per_phase": 0.064, "checkpoint_minutes": 1e-6, **overrides}
    return tiny_config(faces, out, **options)


@pytest.fixture(scope="module")
def base_run(faces, tmp_path_factory):
    run = tmp_path_factory.mktemp("base") / "run"
    train(base_config(faces, run), stop_after_images=32, progress=False, log_every=1)
    names = sorted(p.name for p in (run / "checkpoints").glob("ckpt-*"))
    assert names == [OLDER, NEWEST]
    return run


@pytest.fixture
def run(base_run, tmp_path):
    return shutil.copytree(base_run, tmp_path / "run")


def flip_byte(path, offset=None):
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


DAMAGES = {
    "truncated npz": lambda c: (c / "generator.npz").write_bytes(
        (c / "generator.npz").read_bytes()[:100]),
    "zeroed npz": lambda c: (c / "discriminator.npz").write_bytes(
        bytes(len((c / "discriminator.npz").read_bytes()))),
    "bit-flipped npz": lambda c: flip_byte(c / "ema_generator.npz"),
    "bit-flipped npy header": lambda c: flip_byte(c / "generator.npz", 60),
    "broken state.json": lambda c: (c / "state.json").write_text('{"images_shown": 3'),
    "missing state.json": lambda c: (c / "state.json").unlink(),
    "emptied folder": lambda c: [p.unlink() for p in list(c.iterdir())],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_newest_checkpoint_falls_back_to_the_previous_one(run, damage):
    ckpt_dir = run / "checkpoints"
    DAMAGES[damage](ckpt_dir / NEWEST)
    found, skipped = checkpoint.find_loadable(ckpt_dir)
    assert found == ckpt_dir / OLDER
    assert [p.name for p, _ in skipped] == [NEWEST] and skipped[0][1]
    assert checkpoint.latest(ckpt_dir) == ckpt_dir / OLDER  # the pointer still names NEWEST


@pytest.mark.parametrize("damage", ["truncated npz", "zeroed npz", "bit-flipped npz"])
def test_restoring_a_damaged_checkpoint_is_one_line(run, faces, damage):
    ckpt = run / "checkpoints" / NEWEST
    DAMAGES[damage](ckpt)
    model = build_model(base_config(faces, run))
    model.start_phase(Schedule(4, 0.064).phases[0])
    before = [w.copy() for w in model.generator.get_weights()]
    with pytest.raises(RunDirectoryError, match="damaged|does not fit") as error:
        checkpoint.restore(model, ckpt)
    assert "\n" not in str(error.value) and NEWEST in str(error.value)
    # Nothing was half-loaded.
    assert all(np.array_equal(a, b) for a, b in zip(before, model.generator.get_weights()))


def test_restore_matches_weights_by_name_and_checks_shapes(run, faces):
    ckpt = run / "checkpoints" / NEWEST
    model = build_model(base_config(faces, run))  # new Keras layer names in this process
    model.start_phase(Schedule(4, 0.064).phases[0])
    with np.load(ckpt / "generator.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    names = checkpoint.variable_names(model.generator)
    assert sorted(arrays) == sorted(names) and "dense.kernel" in names
    # Stored in another order: still lands on the right variables.
    np.savez(ckpt / "generator.npz", **dict(reversed(list(arrays.items()))))
    _rewrite_digests(ckpt)
    checkpoint.restore(model, ckpt)
    for name, variable in zip(names, model.generator.weights):
        np.testing.assert_array_equal(variable.numpy(), arrays[name])
    # A positional (older format) file in the wrong order is refused, not loaded misordered.
    values = [arrays[n] for n in names]
    values[0], values[2] = values[2], values[0]
    np.savez(ckpt / "generator.npz", *values)
    _rewrite_digests(ckpt)
    with pytest.raises(RunDirectoryError, match="does not fit.*shape"):
        checkpoint.restore(model, ckpt)


def _rewrite_digests(ckpt):
    state = json.loads((ckpt / "state.json").read_text())
    state["files"] = {name: checkpoint.file_digest(ckpt / name) for name in state["files"]}
    (ckpt / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize("how", ["bit flip", "old advice: delete it and 'latest'"])
def test_resume_continues_from_the_newest_loadable_checkpoint(run, faces, how, caplog):
    ckpt_dir = run / "checkpoints"
    if how == "bit flip":
        flip_byte(ckpt_dir / NEWEST / "generator.npz")
    else:
        shutil.rmtree(ckpt_dir / NEWEST)
        (ckpt_dir / "latest").unlink()
    # What a killed process leaves: a stale lock and a half-written checkpoint.
    (run / "train.lock").write_text(json.dumps({"pid": _dead_pid(), "host": _host(),
                                                "since": "earlier"}))
    (ckpt_dir / ".tmp-ckpt-killed").mkdir()
    (ckpt_dir / ".tmp-ckpt-killed" / "generator.npz").write_bytes(b"partial")
    (run / ".losses.csv.x1y2z3").write_text("kimg")
    rows_before = read_csv(run / "losses.csv")
    assert float(rows_before[-1]["kimg"]) == 0.032
    caplog.set_level(logging.INFO)
    # The run's training time continues from the checkpoint resumed (here made large to see it).
    older_state = json.loads((ckpt_dir / OLDER / "state.json").read_text())
    assert older_state["train_seconds"] > 0 and older_state["cpu_seconds"] > 0
    older_state["train_seconds"], older_state["cpu_seconds"] = 1000.0, 2000.0
    (ckpt_dir / OLDER / "state.json").write_text(json.dumps(older_state))
    # checkpoint_minutes may change on resume.
    train(base_config(faces, run, checkpoint_minutes=5.0), resume=True, stop_after_images=40,
          progress=False, log_every=1)
    final_state = checkpoint.read_state(checkpoint.latest(ckpt_dir))
    assert 1000 < final_state["train_seconds"] < 1000 + 600
    assert 2000 < final_state["cpu_seconds"] < 2000 + 1200
    assert f"resumed from {ckpt_dir / OLDER}" in caplog.text
    assert "stale lock" in caplog.text
    if how == "bit flip":
        assert f"skipped checkpoint {NEWEST}" in caplog.text
        assert (ckpt_dir / "damaged-ckpt-000000000032" / "generator.npz").exists()  # kept aside
    assert checkpoint.read_state(checkpoint.latest(ckpt_dir))["images_shown"] == 40
    assert not (ckpt_dir / ".tmp-ckpt-killed").exists() and not (run / "train.lock").exists()
    assert not (run / ".losses.csv.x1y2z3").exists()
    kimg = [float(r["kimg"]) for r in read_csv(run / "losses.csv")]
    assert kimg == sorted(set(kimg)) and kimg[-1] == 0.040  # monotonic: no repeated rows


def _dead_pid():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def _host():
    import socket

    return socket.gethostname()


def test_resume_refuses_when_no_checkpoint_can_be_loaded(run, faces):
    ckpt_dir = run / "checkpoints"
    for name in (NEWEST, OLDER):
        flip_byte(ckpt_dir / name / "discriminator.npz")
    with pytest.raises(RunDirectoryError, match="none of the 2 checkpoints.*can be loaded"):
        train(base_config(faces, run), resume=True, progress=False)
    assert sorted(p.name for p in ckpt_dir.glob("ckpt-*")) == [OLDER, NEWEST]  # nothing moved
    assert not (run / "train.lock").exists()


def test_resume_never_restarts_when_only_set_aside_checkpoints_remain(run, faces):
    ckpt_dir = run / "checkpoints"
    for name in (NEWEST, OLDER):
        checkpoint.set_aside(ckpt_dir / name)
    with pytest.raises(RunDirectoryError, match="damaged-ckpt-000000000024: set aside"):
        train(base_config(faces, run), resume=True, progress=False)


def test_resume_without_checkpoints_says_it_starts_from_zero(run, faces, caplog):
    shutil.rmtree(run / "checkpoints")
    train(base_config(faces, run), resume=True, stop_after_images=8, progress=False)
    assert "no checkpoint yet" in caplog.text and "from 0 kimg" in caplog.text
    assert checkpoint.read_state(checkpoint.latest(run / "checkpoints"))["images_shown"] == 8


def test_rotation_never_deletes_the_last_loadable_checkpoint(run, faces):
    ckpt_dir = run / "checkpoints"
    flip_byte(ckpt_dir / NEWEST / "generator.npz")
    model = build_model(base_config(faces, run))
    model.start_phase(Schedule(4, 0.064).phases[0])
    checkpoint.restore(model, ckpt_dir / OLDER)
    model.images_shown.assign(40)
    checkpoint.save(model, ckpt_dir, keep=2)
    names = sorted(p.name for p in ckpt_dir.glob("ckpt-*"))
    assert names == [OLDER, NEWEST, "ckpt-000000000040"]  # the damaged one does not count
    model.images_shown.assign(48)
    checkpoint.save(model, ckpt_dir, keep=2)
    assert sorted(p.name for p in ckpt_dir.glob("ckpt-*")) == ["ckpt-000000000040",
                                                              "ckpt-000000000048"]
    assert not [p for p in ckpt_dir.iterdir() if p.name.startswith(".")]


def test_rotation_keeps_the_newest_checkpoint_of_every_phase(run, faces, monkeypatch):
    # So that a phase that goes wrong can be trained again from the end of the one before.
    ckpt_dir = run / "checkpoints"
    model = build_model(base_config(faces, run))
    model.start_phase(Schedule(4, 0.064).phases[0])
    checkpoint.restore(model, ckpt_dir / NEWEST)
    state = model.checkpoint_state
    for images, phase in ((40, 1), (48, 1), (56, 2), (64, 2), (72, 2)):
        model.images_shown.assign(images)  # saved as if in a later phase:
        monkeypatch.setattr(model, "checkpoint_state", lambda p=phase: {**state(),
                                                                          "phase_index": p})
        checkpoint.save(model, ckpt_dir, keep=2)
    names = sorted(p.name for p in ckpt_dir.glob("ckpt-*"))
    assert names == [NEWEST, "ckpt-000000000048", "ckpt-000000000064", "ckpt-000000000072"]
    assert checkpoint.rotate(ckpt_dir, keep=2, keep_each_phase=False) == [
        "ckpt-000000000048", NEWEST]


@pytest.mark.parametrize("change,message", [
    ({"resolution": 8, "latent_dim": 32}, "resolution 8 (run: 4); latent_dim 32 (run: 16)"),
    ({"fmap_max": 16, "mbstd_group_size": 2}, "fmap_max 16 (run: 8); mbstd_group_size 2"),
    ({"crop": "celeba", "seed": 4}, "crop 'celeba' (run: 'center'); seed 4 (run: 3)"),
])
def test_resume_with_other_options_names_the_differences(run, faces, change, message):
    with pytest.raises(RunDirectoryError, match="cannot resume") as error:
        train(base_config(faces, run, **change), resume=True, progress=False)
    assert message in str(error.value)
    assert "checkpoint_minutes" in str(error.value)  # what may change
    assert not (run / "train.lock").exists()


def test_a_larger_final_kimg_continues_a_finished_run(run, faces):
    train(base_config(faces, run), resume=True, progress=False)  # finishes: 64 images
    newest = checkpoint.latest(run / "checkpoints")
    assert checkpoint.read_state(newest)["images_shown"] == 64
    longer = base_config(faces, run, final_kimg=0.096)
    train(longer, resume=True, progress=False)
    newest = checkpoint.latest(run / "checkpoints")
    assert checkpoint.read_state(newest)["images_shown"] == 96
    assert json.loads((run / "run.json").read_text())["final_kimg"] == 0.096  # the run's now
    # A shorter last phase than what was shown trains nothing and keeps every checkpoint.
    before = sorted(p.name for p in (run / "checkpoints").glob("ckpt-*"))
    train(base_config(faces, run, final_kimg=0.032), resume=True, progress=False)
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*")) == before


def test_export_of_a_resumed_run_names_every_start(run, faces, tmp_path):
    # Bug: the export named only the first start's command and --kimg, so a run resumed to a
    # longer schedule exported metadata describing a shorter one.
    from progan_tf.training.runs import training_commands

    # A run started before starts.json existed: its first command is the one run.json names.
    (run / "starts.json").unlink()
    (run / "run.json").write_text(json.dumps(
        {**json.loads((run / "run.json").read_text()), "command": "progan-tf train first"}))
    for command in ("progan-tf train again --resume", "progan-tf train again --resume"):
        train(base_config(faces, run, command=command), resume=True, progress=False)
    train(base_config(faces, run, final_kimg=0.096, command="progan-tf train longer --resume"),
          resume=True, progress=False)
    assert training_commands(run) == ["progan-tf train first", "progan-tf train again --resume",
                                      "progan-tf train longer --resume"]
    metadata = json.loads((export_run(run, tmp_path / "export") / "metadata.json").read_text())
    assert metadata["training_command"] == ("progan-tf train first && progan-tf train again "
                                            "--resume && progan-tf train longer --resume")
    assert metadata["config"]["final_kimg"] == 0.096 and metadata["images_shown"] == 96
    assert metadata["schedule"]["final_kimg"] == 0.096


def test_resume_with_another_data_folder_is_refused(run, faces, tmp_path):
    other = write_faces(tmp_path / "other", count=4)
    with pytest.raises(RunDirectoryError, match=re.escape(f"data_dir '{other.resolve()}'")):
        train(base_config(other, run), resume=True, progress=False)


def test_damaged_run_json_is_one_line(run, faces):
    (run / "run.json").write_text('{"data_dir": ')
    with pytest.raises(RunDirectoryError, match=r"run\.json' is damaged .*JSONDecodeError"):
        train(base_config(faces, run), resume=True, progress=False)


BAD_OPTIONS = [
    ({"kimg_per_phase": float("inf")}, "kimg_per_phase"),
    ({"kimg_per_phase": float("nan")}, "kimg_per_phase"),
    ({"kimg_per_phase": 0}, "kimg_per_phase"),
    ({"final_kimg": float("inf")}, "final_kimg"),
    ({"final_kimg": -1.0}, "final_kimg"),
    ({"batch_sizes": {4: 0}}, "batch size for 4x4"),
    ({"batch_sizes": {4: -4}}, "batch size for 4x4"),
    ({"seed": -1}, "seed"),
    ({"resolution": 48}, "power of two"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"checkpoint_minutes": 0}, "checkpoint_minutes"),
]


@pytest.mark.parametrize("options,message", BAD_OPTIONS)
def test_bad_options_fail_before_anything_is_written(faces, tmp_path, options, message):
    out = tmp_path / "run"
    with pytest.raises(DatasetError, match=message) as error:
        train(tiny_config(faces, out, **options), progress=False)
    assert "\n" not in str(error.value)
    assert not out.exists()  # nothing blocks the corrected command


def test_a_failed_first_start_leaves_nothing_behind(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "run"
    with pytest.raises(DatasetError, match="no image files"):
        train(tiny_config(empty, out), progress=False)
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(DatasetError, match="no image files"):
        train(tiny_config(empty, existing), progress=False)
    assert existing.is_dir() and not list(existing.iterdir())


def test_truncate_losses_drops_rows_after_the_checkpoint_and_partial_lines(tmp_path):
    fields = cb.LOSS_FIELDS
    lines = [",".join(fields)]
    for kimg in (0.008, 0.016, 0.024, 0.032):
        lines.append(",".join([str(kimg), "4", "0", "1.0", "0.5", "-0.5", "0.1", "0.2"]))
    (tmp_path / "losses.csv").write_text("\r\n".join(lines) + "\r\n0.04,4,0,1.0,0.")
    assert cb.truncate_losses(tmp_path, 24) == 2
    rows = read_csv(tmp_path / "losses.csv")
    assert [r["kimg"] for r in rows] == ["0.008", "0.016", "0.024"]
    assert rows[0] == dict(zip(fields, lines[1].split(",")))  # rows kept as written
    assert cb.truncate_losses(tmp_path, 24) == 0


def test_unusable_output_folders_are_one_line(faces, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("my notes")
    cases = [(a_file, "is a file"), (a_file / "run", "cannot create the run folder")]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases.append((locked / "run", "cannot create the run folder"))
    for out, message in cases:
        with pytest.raises(RunDirectoryError, match=message) as error:
            train(tiny_config(faces, out), progress=False)
        assert "\n" not in str(error.value)
    assert a_file.read_text() == "my notes"
