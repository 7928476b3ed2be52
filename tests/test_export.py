"""``progan_tf.gan.export``: the TF Hub tutorial's loop, safe overwrites, fade-in refusal."""

import gc
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import progan_tf
from progan_tf.errors import RunDirectoryError
from progan_tf.gan import export
from progan_tf.gan.networks import ProgressiveGenerator
from progan_tf.loading import bundled_folder
from progan_tf.training import export as mechanics

BUNDLED = Path(str(bundled_folder()))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def tiny_generator(stage=8, resolution=8, seed=0, latent_dim=16, width=16):
    import keras

    keras.utils.set_random_seed(seed)
    generator = ProgressiveGenerator(latent_dim=latent_dim, resolution=resolution,
                                     fmap_base=32 * width, fmap_max=width)
    generator.set_stage(stage)
    return generator


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    generator = tiny_generator()
    path = export.export_generator(generator, tmp_path_factory.mktemp("e") / "export")
    return path, generator


def tutorial_loop(path, latent_dim):
    """The recovery loop of TF Hub's progan-128 tutorial, as written there: only the signature
    is kept, and the latent is a ``tf.Variable`` read inside a ``GradientTape``."""
    import tensorflow_hub as hub

    progan = hub.load(str(path)).signatures["default"]
    gc.collect()  # the loaded object is gone now; only the signature is left
    vector = tf.Variable(tf.random.normal([1, latent_dim], seed=1))
    target = tf.zeros_like(progan(vector.read_value())["default"][0])
    optimizer = tf.optimizers.Adam(learning_rate=0.01)
    loss_fn = tf.losses.MeanAbsoluteError(reduction="sum")
    losses = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            image = progan(vector.read_value())["default"][0]
            regularizer = tf.abs(tf.norm(vector) - np.sqrt(latent_dim))
            loss = loss_fn(image, target) + regularizer
            losses.append(float(loss))
        grads = tape.gradient(loss, [vector])
        optimizer.apply_gradients(zip(grads, [vector]))
    assert grads[0] is not None and np.all(np.isfinite(grads[0].numpy()))
    assert float(tf.norm(grads[0])) > 0
    plain = progan(tf.zeros([2, latent_dim]))["default"]  # and plain calls, with a keyword too
    assert plain.shape[0] == 2
    assert np.array_equal(plain.numpy(), progan(default=tf.zeros([2, latent_dim]))["default"])
    return losses


def test_tutorial_loop_works_on_an_export(tiny_export):
    path, _ = tiny_export
    losses = tutorial_loop(path, 16)
    assert len(losses) == 3 and losses[-1] != losses[0]  # the latent moved


def test_tutorial_loop_works_on_the_bundled_model():
    tutorial_loop(BUNDLED, 512)


def test_signature_survives_gc_through_tf_saved_model_load(tiny_export):
    path, generator = tiny_export
    function = tf.saved_model.load(str(path)).signatures["default"]
    gc.collect()
    z = tf.random.normal([3, 16], seed=2)
    expected = tf.clip_by_value(generator(z) * 0.5 + 0.5, 0.0, 1.0)
    np.testing.assert_allclose(function(default=z)["default"].numpy(), expected, atol=1e-6)


def test_export_outputs_and_size(tmp_path):
    """Same pictures as the Keras model; only the exported stage's weights are stored."""
    generator = tiny_generator(stage=8, resolution=32, latent_dim=32, width=96)
    path = export.export_generator(generator, tmp_path / "low")
    loaded = progan_tf.load_generator(str(path))
    z = progan_tf.sample_latents(5, 32, seed=3)
    expected = tf.clip_by_value(generator(z) * 0.5 + 0.5, 0.0, 1.0).numpy()
    np.testing.assert_allclose(loaded(z).numpy(), expected, atol=1e-6)
    used = sum(int(np.prod(v.shape)) * 4
               for layer in [generator.dense, *generator.blocks[0], *generator.blocks[1],
                             generator.to_rgb[1]] for v in layer.weights)
    everything = sum(int(np.prod(v.shape)) * 4 for v in generator.weights)
    size = (path / "saved_model.pb").stat().st_size
    assert used <= size < used + 100_000 and size < 0.6 * everything
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["format"] == "progan-tf export 1" and meta["resolution"] == 8
    assert export.is_export(path)


def test_reexport_keeps_keras_files_and_metadata(tmp_path):
    copy = tmp_path / "bundled"
    shutil.copytree(BUNDLED, copy)
    z = tf.constant(progan_tf.sample_latents(4, 512, seed=5))
    before = tf.saved_model.load(str(BUNDLED)).signatures["default"](default=z)["default"]
    assert export.reexport(copy) == copy
    after = tf.saved_model.load(str(copy)).signatures["default"](default=z)["default"]
    assert np.array_equal(before.numpy(), after.numpy())
    for name in ("metadata.json", "generator.keras", "discriminator.keras"):
        assert (copy / name).read_bytes() == (BUNDLED / name).read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(RunDirectoryError, match="not a progan-tf export"):
        export.reexport(tmp_path)


# ------------------------------------------------------------------------------------------
# --overwrite replaces only an earlier export


def fake_run(folder):
    """Enough of a run folder for the checks that come before any loading."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text("{}")
    return folder


def snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else b"")
                  for p in folder.rglob("*"))


def test_overwrite_never_touches_what_is_not_an_export(tmp_path, monkeypatch):
    home = tmp_path / "home"
    run = fake_run(home / "runs" / "r1")
    (home / "notes.txt").write_text("my notes")
    (home / "photos").mkdir()
    (home / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not really")
    monkeypatch.chdir(home)
    before = snapshot(tmp_path)
    cases = {
        ".": "current folder",
        str(home): "current folder",
        str(tmp_path): "current folder",
        str(run): "holds the training run",
        str(home / "runs"): "holds the training run",
        str(home / "photos"): "--overwrite only replaces an earlier export",
        str(home / "notes.txt"): "is a file",
        str(home / "notes.txt" / "export"): "is a file, not a folder",
    }
    for out, message in cases.items():
        with pytest.raises(RunDirectoryError, match=message) as info:
            export.export_run(run, out, overwrite=True)
        assert "\n" not in str(info.value)
    assert snapshot(tmp_path) == before  # nothing deleted, nothing left behind
    other_run = fake_run(tmp_path / "elsewhere")
    with pytest.raises(RunDirectoryError, match="is a training run"):
        export.export_run(run, other_run, overwrite=True)
    assert (other_run / "run.json").read_text() == "{}"
    assert (home / "notes.txt").read_text() == "my notes"


def test_overwrite_refuses_an_export_holding_user_files(tiny_export, tmp_path):
    path, generator = tiny_export
    out = tmp_path / "export"
    shutil.copytree(path, out)
    (out / "my-notes.md").write_text("keep me")
    with pytest.raises(RunDirectoryError, match="holds files an export does not.*my-notes.md"):
        export.export_generator(generator, out, overwrite=True)
    assert (out / "my-notes.md").read_text() == "keep me"
    with pytest.raises(RunDirectoryError, match="already exists"):
        export.export_generator(generator, tmp_path / "export")


def test_overwrite_replaces_an_earlier_export_and_cleans_leftovers(tiny_export, tmp_path):
    path, generator = tiny_export
    out = tmp_path / "export"
    shutil.copytree(path, out)
    leftovers = [tmp_path / ".export.tmp-abc123", tmp_path / ".export.old-deadbeef"]
    for leftover in leftovers:
        leftover.mkdir()
        (leftover / "saved_model.pb").write_bytes(b"half")
    keep = tmp_path / ".other.tmp-abc123"  # not ours to delete: another export's name
    keep.mkdir()
    export.export_generator(generator, out, metadata={"tag": "new"}, overwrite=True)
    assert json.loads((out / "metadata.json").read_text())["tag"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-abc123", "export"]


@pytest.mark.parametrize("exchange", [True, False])
def test_failed_swap_leaves_the_old_export(tiny_export, tmp_path, monkeypatch, exchange):
    path, generator = tiny_export
    out = tmp_path / "export"
    shutil.copytree(path, out)
    before = snapshot(out)
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(src).name.startswith(".export.tmp-"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    def failing_exchange(a, b):
        raise OSError(5, "Input/output error")

    if exchange:
        monkeypatch.setattr(mechanics, "exchange", failing_exchange)
    else:
        monkeypatch.setattr(mechanics, "exchange", lambda a, b: False)
        monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(RunDirectoryError, match="error|No space.*nothing was replaced"):
        export.export_generator(generator, out, metadata={"tag": "new"}, overwrite=True)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


@pytest.mark.parametrize("exchange", [True, False])
def test_failed_cleanup_keeps_the_new_export(tiny_export, tmp_path, monkeypatch, exchange):
    path, generator = tiny_export
    out = tmp_path / "export"
    shutil.copytree(path, out)
    if not exchange:
        monkeypatch.setattr(mechanics, "exchange", lambda a, b: False)
    real_rmtree = shutil.rmtree

    def failing_rmtree(target, *args, **kwargs):
        if Path(target).name.startswith(".export.") and not kwargs.get("ignore_errors"):
            raise OSError(16, "Device or resource busy")
        return real_rmtree(target, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", failing_rmtree)
    with pytest.raises(RunDirectoryError, match="busy"):
        export.export_generator(generator, out, metadata={"tag": "new"}, overwrite=True)
    assert json.loads((out / "metadata.json").read_text())["tag"] == "new"
    assert export.is_export(out)
    monkeypatch.undo()
    export.export_generator(generator, out, metadata={"tag": "newer"}, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_exchange_swaps_two_folders_or_leaves_both(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / f"from-{folder.name}").touch()
    swapped = mechanics.exchange(a, b)
    assert [p.name for p in a.iterdir()] == (["from-b"] if swapped else ["from-a"])
    assert [p.name for p in b.iterdir()] == (["from-a"] if swapped else ["from-b"])
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert swapped  # glibc has renameat2 since 2.28, and local file systems support it


KILLER = textwrap.dedent("""
    import os, shutil, signal, sys
    from pathlib import Path
    from progan_tf.gan import export
    from progan_tf.gan.networks import ProgressiveGenerator
    from progan_tf.training import export as mechanics

    point, out = sys.argv[1], Path(sys.argv[2])
    generator = ProgressiveGenerator(latent_dim=16, resolution=8, fmap_base=64, fmap_max=16)
    generator.set_stage(8)
    real = {"exchange": mechanics.exchange, "rmtree": shutil.rmtree}

    def kill_at(name):
        def wrapper(*args, **kwargs):
            if name == point and Path(args[0]).name.startswith(".export."):
                os.kill(os.getpid(), signal.SIGKILL)
            return real[name](*args, **kwargs)
        return wrapper

    mechanics.exchange = kill_at("exchange")
    shutil.rmtree = kill_at("rmtree")
    export.export_generator(generator, out, metadata={"tag": "new"}, overwrite=True)
""")


@pytest.mark.parametrize("point,expected", [("exchange", "old"), ("rmtree", "new")])
def test_sigkill_during_overwrite_leaves_a_complete_export(tiny_export, tmp_path, point,
                                                           expected):
    import tensorflow_hub as hub

    path, generator = tiny_export
    out = tmp_path / "export"
    shutil.copytree(path, out)
    info = json.loads((out / "metadata.json").read_text())
    (out / "metadata.json").write_text(json.dumps({**info, "tag": "old"}))
    result = subprocess.run([sys.executable, "-c", KILLER, point, str(out)], env=ENV,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert json.loads((out / "metadata.json").read_text())["tag"] == expected
    assert export.is_export(out)
    images = hub.load(str(out)).signatures["default"](default=tf.zeros([1, 16]))["default"]
    assert images.shape == (1, 8, 8, 3)
    assert any(p.name.startswith(".export.") for p in tmp_path.iterdir())  # a leftover ...
    export.export_generator(generator, out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # ... cleaned up next time


# ------------------------------------------------------------------------------------------
# Fade-in checkpoints


@pytest.fixture(scope="module")
def fading_run(tmp_path_factory, faces):
    from conftest import tiny_config

    from progan_tf.gan.train import train

    root = tmp_path_factory.mktemp("fade")
    config = tiny_config(faces, root / "run")
    # 4x4 stable: 64 images; 8x8 fade-in: 64 more. Stop half-way through the fade-in.
    return train(config, stop_after_images=96, progress=False)


def test_export_refuses_a_mid_fade_in_checkpoint(fading_run, tmp_path):
    with pytest.raises(RunDirectoryError) as info:
        export.export_run(fading_run, tmp_path / "e")
    message = str(info.value)
    assert "\n" not in message and "fade-in" in message and "8x8" in message
    assert "alpha 0.50" in message
    assert "train to the end of the phase or pass --allow-fade-in" in message
    assert not (tmp_path / "e").exists()
    out = export.export_run(fading_run, tmp_path / "e", allow_fade_in=True)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["fading"] is True and meta["alpha"] == 0.5 and meta["phase"] == "8x8 fade-in"
    assert meta["train_seconds"] > 0 and meta["cpu_seconds"] > 0  # the run's training time


def test_readme_snippets_run_on_an_export(tiny_export):
    """The code README's "Using an export from TensorFlow Hub code and Keras 3" shows."""
    import re

    path, generator = tiny_export
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Using an export from TensorFlow Hub code and Keras 3", 1)[1]
    section = section.split("\n## ", 1)[0]
    code = "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.S))
    code = code.replace('"exports/celeba32"', repr(str(path)))
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation
    assert namespace["grads"][0].shape == (1, 16)
    assert float(tf.norm(namespace["grads"][0])) > 0
    z = np.random.default_rng(0).standard_normal((4, 16)).astype("float32")
    expected = tf.clip_by_value(generator(z) * 0.5 + 0.5, 0.0, 1.0)
    np.testing.assert_allclose(np.asarray(namespace["pictures"]), expected, atol=1e-6)


def test_export_of_a_damaged_run_is_one_line(fading_run, tmp_path):
    run = shutil.copytree(fading_run, tmp_path / "run")
    (run / "dataset.json").write_text("{trunc")  # only described in metadata: exported as null
    out = export.export_run(run, tmp_path / "e", allow_fade_in=True)
    assert json.loads((out / "metadata.json").read_text())["dataset"] is None
    (run / "run.json").write_text('{"data_dir": ')
    with pytest.raises(RunDirectoryError, match="is damaged") as info:
        export.export_run(run, tmp_path / "f", allow_fade_in=True)
    assert "\n" not in str(info.value) and not (tmp_path / "f").exists()
