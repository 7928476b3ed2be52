"""DCGAN: the networks, the Keras model, the family on the shared training loop, its export
(loaded by ``load_generator`` and used by interpolation and recovery), the command line, and
bad input.  Every model is tiny (16x16, a few feature maps), so each test takes seconds."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv, tiny_config, write_faces
from PIL import Image

import progan_tf as pt
from progan_tf import cli
from progan_tf.dcgan import (
    DCGAN,
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    ProgressGrids,
    TimeBudget,
    build_model,
    export_run,
    train,
)
from progan_tf.dcgan.config import run_arch
from progan_tf.dcgan.networks import layout
from progan_tf.errors import (
    DatasetError,
    ModelLoadError,
    OptionError,
    RunDirectoryError,
    TrainingInterrupted,
)
from progan_tf.training import checkpoint


def tiny(data_dir, out_dir, **overrides):
    """A 16x16 DCGAN (latent 8, width 4) of 128 images in batches of 8: seconds to train."""
    options = dict(data_dir=str(data_dir), out_dir=str(out_dir), resolution=16, latent_dim=8,
                   width=4, kimg=0.128, batch_size=8, grid_every_kimg=0.064, seed=5)
    options.update(overrides)
    return DCGANConfig(**options)


@pytest.fixture(scope="module")
def run(faces, tmp_path_factory):
    """One finished tiny run (shared: do not modify it)."""
    return train(tiny(faces, tmp_path_factory.mktemp("dcgan") / "run"), progress=False)


@pytest.fixture(scope="module")
def export(run, tmp_path_factory):
    return export_run(run, tmp_path_factory.mktemp("dcgan-export") / "export")


# ---------------------------------------------------------------------------------------------
# The networks and the model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution, channels, widths", [
    (16, 3, [8, 4]), (28, 1, [8, 4]), (32, 3, [16, 8, 4]), (64, 3, [32, 16, 8, 4])])
def test_networks_map_latents_to_images_and_images_to_one_logit(resolution, channels, widths):
    generator = DCGANGenerator(latent_dim=6, resolution=resolution, width=4, channels=channels)
    discriminator = DCGANDiscriminator(resolution=resolution, width=4, channels=channels)
    assert generator.widths() == widths
    images = generator(tf.random.normal([3, 6]))
    assert tuple(images.shape) == (3, resolution, resolution, channels)
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0  # tanh
    assert tuple(discriminator(images).shape) == (3, 1)
    # The paper's layers: transposed convolutions up, strided convolutions down, no pooling.
    assert [layer.strides for layer in generator.ups + [generator.to_image]] == \
        [(2, 2)] * len(widths)
    assert all(layer.strides == (2, 2) for layer in discriminator.downs)
    assert len(discriminator.norms) == len(discriminator.downs) - 1  # none on D's input layer


def test_weights_start_from_the_papers_normal_distribution():
    keras.utils.set_random_seed(0)
    generator = DCGANGenerator(latent_dim=64, resolution=32, width=16)
    kernel = generator.ups[0].kernel.numpy()
    assert abs(kernel.mean()) < 2e-3 and abs(kernel.std() - 0.02) < 2e-3
    gamma = generator.norms[0].gamma.numpy()
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03


def test_networks_save_and_load_as_keras_files(tmp_path):
    generator = DCGANGenerator(latent_dim=5, resolution=28, width=3, channels=1)
    generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    latents = tf.random.normal([2, 5])
    np.testing.assert_allclose(loaded(latents), generator(latents), atol=1e-6)
    assert loaded.get_config()["channels"] == 1


def test_unsupported_resolutions_and_channels_are_refused():
    for bad in (48, 8, 128, "32", True):
        with pytest.raises(OptionError, match="resolution must be one of 16, 28, 32, 64"):
            layout(bad)
    with pytest.raises(OptionError, match="channels must be 3"):
        DCGANGenerator(resolution=16, channels=4)


def test_losses_are_the_binary_cross_entropies_of_the_paper():
    gan = DCGAN(DCGANGenerator(latent_dim=4, resolution=16, width=2),
                DCGANDiscriminator(resolution=16, width=2))
    undecided = tf.zeros([4, 1])  # D(x) = 0.5 everywhere
    np.testing.assert_allclose(gan.discriminator_loss(undecided, undecided), 2 * np.log(2),
                               rtol=1e-6)
    np.testing.assert_allclose(gan.generator_loss(undecided), np.log(2), rtol=1e-6)
    sure = tf.fill([4, 1], 20.0)  # D is sure the images are real: G's loss vanishes
    assert float(gan.generator_loss(sure)) < 1e-6
    assert float(gan.discriminator_loss(sure, -sure)) < 1e-6
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-4)
    assert gan.d_optimizer.beta_1 == 0.5


def test_fit_trains_on_an_in_memory_dataset_and_draws_a_grid_per_epoch():
    """notebook 05's MNIST pattern: compile, fit on arrays, a progress grid after each epoch."""
    gan = build_model(DCGANConfig("-", "-", resolution=28, channels=1, latent_dim=4, width=2))
    gan.compile()
    digits = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    labels = np.zeros(32)
    grids = ProgressGrids(np.zeros((4, 4), "float32"))
    history = gan.fit(digits, labels, batch_size=8, epochs=2, verbose=0, callbacks=[grids])
    assert len(history.history["d_loss"]) == 2 and int(gan.images_shown.numpy()) == 64
    assert [shown for shown, _ in grids.grids] == [32, 64]
    assert grids.grids[-1][1].shape == (4, 28, 28, 3)  # grey, shown as RGB


# ---------------------------------------------------------------------------------------------
# Training on the shared infrastructure, exporting, using the export
# ---------------------------------------------------------------------------------------------


def test_a_run_logs_losses_scores_progress_grids_and_time(run):
    rows = read_csv(run / "losses.csv")
    assert list(rows[0]) == ["kimg", "d_loss", "g_loss", "real_score", "fake_score"]
    assert all(0 <= float(row["real_score"]) <= 1 for row in rows)
    assert (run / "losses.png").is_file() and list((run / "logs").iterdir())
    grids = sorted(path.name for path in (run / "samples").glob("progress-*.png"))
    assert grids == ["progress-000000000064.png", "progress-000000000128.png"]
    assert (run / "samples" / "final-16px.png").is_file()
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert state["images_shown"] == 128 and state["train_seconds"] > 0
    assert state["cpu_seconds"] > 0
    assert json.loads((run / "run.json").read_text())["arch"] == "dcgan"
    assert run_arch(run) == "dcgan"


def test_the_export_works_with_load_generator_interpolation_and_recovery(export):
    generator = pt.load_generator(export)
    assert generator.latent_dim == 8 and generator.image_shape == (16, 16, 3)
    assert generator.metadata["arch"] == "dcgan" and generator.metadata["kimg"] == 0.128
    keyframes = pt.sample_latents(2, 8, seed=1)
    frames = generator(pt.walk(keyframes, 5, method="hypersphere")).numpy()
    assert frames.shape == (5, 16, 16, 3) and 0 <= frames.min() and frames.max() <= 1
    # Each image depends on its own latent only (batch norm uses its moving averages).
    np.testing.assert_allclose(generator(keyframes[:1]), generator(keyframes)[:1], atol=1e-5)
    target = generator(pt.sample_latents(1, 8, seed=2))[0].numpy()
    result = pt.recover_latent(generator, target, steps=4, restarts=2, seed=3)
    assert np.isfinite(result.psnr) and result.latent.shape == (8,)


def test_the_demo_runs_on_the_export(export, tmp_path):
    from progan_tf.demo import run_demo

    result = run_demo(tmp_path / "demo", str(export), steps=3, restarts=2, frames=3)
    assert len(result.files()) == 10 and all(path.is_file() for path in result.files())
    assert np.isfinite(json.loads((tmp_path / "demo" / "metrics.json").read_text())["psnr"])


def test_seeded_resume_reproduces_the_uninterrupted_run(faces, run, tmp_path):
    split = tmp_path / "split"
    train(tiny(faces, split), stop_after_images=64, progress=False)
    assert checkpoint.read_state(checkpoint.latest(split / "checkpoints"))["images_shown"] == 64
    train(tiny(faces, split), resume=True, progress=False)
    straight, resumed = read_csv(run / "losses.csv"), read_csv(split / "losses.csv")
    assert [row["kimg"] for row in straight] == [row["kimg"] for row in resumed]
    for a, b in zip(straight, resumed):
        for key in ("d_loss", "g_loss", "real_score"):
            np.testing.assert_allclose(float(a[key]), float(b[key]), rtol=1e-4, atol=1e-4)
    # --resume with a longer --kimg trains a finished run further.
    train(tiny(faces, split, kimg=0.192), resume=True, progress=False)
    assert checkpoint.read_state(checkpoint.latest(split / "checkpoints"))["images_shown"] == 192


def test_resume_with_other_options_or_of_another_family_is_refused(faces, run, tmp_path):
    with pytest.raises(RunDirectoryError, match=r"width 8 \(run: 4\)"):
        train(tiny(faces, run, width=8), resume=True, progress=False)
    from progan_tf.gan.train import train as train_progan

    progan = train_progan(tiny_config(faces, tmp_path / "progan", resolution=4), progress=False)
    before = {path: path.stat().st_mtime_ns for path in progan.rglob("*")}
    with pytest.raises(RunDirectoryError, match="holds a progan run, not a dcgan one; resume it "
                                                "with --arch progan"):
        train(tiny(faces, progan), resume=True, progress=False)
    with pytest.raises(RunDirectoryError, match="holds a progan run"):
        export_run(progan, tmp_path / "export")
    assert {path: path.stat().st_mtime_ns for path in progan.rglob("*")} == before  # untouched
    assert not (tmp_path / "export").exists()


def test_bad_options_are_refused_before_anything_is_written(faces, tmp_path):
    for change, message in (({"resolution": 48}, "resolution must be one of 16, 28, 32, 64"),
                            ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
                            ({"kimg": 0}, "kimg must be"), ({"channels": 2}, "channels must"),
                            ({"holdout": 48}, "leaves nothing")):
        with pytest.raises(DatasetError, match=message):
            train(tiny(faces, tmp_path / "run", **change), progress=False)
        assert not (tmp_path / "run").exists()


def test_grey_and_transparent_pictures_train_and_grey_runs_export_rgb(tmp_path):
    folder = write_faces(tmp_path / "faces", count=16, size=20)
    Image.open(folder / "0000.png").convert("L").save(folder / "grey.png")
    Image.open(folder / "0001.png").convert("RGBA").save(folder / "clear.png")
    Image.new("LA", (20, 20)).save(folder / "grey-transparent.png")
    config = tiny(folder, tmp_path / "run", channels=1, kimg=0.016)
    train(config, progress=False)
    assert json.loads((tmp_path / "run" / "dataset.json").read_text())["images"] == 19
    generator = pt.load_generator(export_run(tmp_path / "run", tmp_path / "export"))
    images = generator(pt.sample_latents(2, 8, seed=0)).numpy()
    assert images.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # grey, served as RGB


def test_a_time_budget_stops_the_run_with_a_checkpoint(faces, tmp_path):
    budget = TimeBudget(1e-6, on_stop=lambda model: int(model.images_shown.numpy()))
    with pytest.raises(TrainingInterrupted):
        train(tiny(faces, tmp_path / "run", kimg=10), progress=False, extra_callbacks=[budget])
    assert budget.fired and budget.result == 16
    saved = checkpoint.read_state(checkpoint.latest(tmp_path / "run" / "checkpoints"))
    assert saved["images_shown"] == 16  # the step after the budget, then saved and stopped


# ---------------------------------------------------------------------------------------------
# The command line and the bundled handle
# ---------------------------------------------------------------------------------------------


def test_cli_trains_and_exports_a_dcgan(faces, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(faces), "--arch", "dcgan", "--resolution", "16", "--width",
                     "4", "--latent-dim", "8", "--kimg", "0.032", "--batch-size", "8",
                     "--out", str(out)]) == 0
    stored = DCGANConfig.from_json((out / "run.json").read_text())
    assert (stored.latent_dim, stored.width, stored.batch_size) == (8, 4, 8)
    assert cli.main(["export", str(out), str(tmp_path / "export")]) == 0
    assert pt.load_generator(tmp_path / "export").metadata["arch"] == "dcgan"
    capsys.readouterr()
    # The DCGAN's own default latent size is the paper's 100, ProGAN's stays 512.
    args = cli.build_parser().parse_args(["train", "d", "--out", "o", "--arch", "dcgan"])
    assert cli.check_train_arch(args) == "dcgan" and args.latent_dim == 100
    args = cli.build_parser().parse_args(["train", "d", "--out", "o"])
    assert cli.check_train_arch(args) == "progan" and args.latent_dim == 512


@pytest.mark.parametrize("args, message", [
    (["--arch", "dcgan", "--fmap-max", "8"], "--fmap-max is an option of a progressive GAN and "
                                             "--arch stylegan only; drop it, or pass --arch "
                                             "progan or stylegan"),
    (["--arch", "dcgan", "--loss", "ns-r1", "--init", "bundled"],
     "--init is an option of a progressive GAN only"),
    (["--kimg", "3"], "--kimg is an option of --arch dcgan, pix2pix, srgan, cyclegan and "
                      "stylegan only"),
    (["--arch", "dcgan", "--holdout", "8", "--quality-every-kimg", "1"],
     "--quality-every-kimg is an option of a progressive GAN only"),
    (["--arch", "dcgan", "--resolution", "48"], "resolution must be one of 16, 28, 32, 64"),
])
def test_cli_refuses_options_of_the_other_family_in_one_line(args, message, faces, tmp_path,
                                                             capsys):
    assert cli.main(["train", str(faces), "--out", str(tmp_path / "run"), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "run").exists()


def test_cli_refuses_resuming_a_run_of_the_other_family(faces, run, tmp_path, capsys):
    assert cli.main(["train", str(faces), "--out", str(run), "--resume"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and "holds a dcgan run; resume it with " \
                                                      "--arch dcgan" in error


def test_cli_refuses_an_unknown_arch(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "d", "--out", "o", "--arch", "biggan"])
    assert stopped.value.code == 2
    assert "argument --arch: invalid choice: 'biggan'" in capsys.readouterr().err


def test_bundled_dcgan_handle_loads_or_says_it_is_not_shipped_in_one_line():
    from progan_tf.loading import bundled_dcgan_folder

    if bundled_dcgan_folder().joinpath("saved_model.pb").is_file():
        generator = pt.load_generator("bundled-dcgan")
        assert generator.metadata["arch"] == "dcgan"
        assert generator.image_shape == tuple(generator.metadata["image_shape"])
    else:
        with pytest.raises(ModelLoadError, match="ships no DCGAN weights yet") as error:
            pt.load_generator("bundled-dcgan")
        assert "\n" not in str(error.value) and error.value.__cause__ is None


def test_progan_api_refuses_a_dcgan_run_by_name(faces, run, tmp_path):
    """The Python API, not only the CLI, says the run is a DCGAN's (before: 'other options')."""
    from progan_tf.gan.export import export_run as export_progan
    from progan_tf.gan.train import TrainConfig
    from progan_tf.gan.train import train as train_progan

    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    with pytest.raises(RunDirectoryError, match="holds a dcgan run, not a progan one; resume "
                                                "it with --arch dcgan"):
        train_progan(TrainConfig(str(faces), str(run), resolution=8), resume=True,
                     progress=False)
    with pytest.raises(RunDirectoryError, match="holds a dcgan run, not a progan one; export "
                                                "it with 'progan-tf export'"):
        export_progan(run, tmp_path / "export")
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing touched
    assert not (tmp_path / "export").exists()
