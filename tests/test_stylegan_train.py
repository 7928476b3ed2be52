"""The style-based generator as a family: its options, the Keras model's step, a tiny run on the
shared loop (resume included), the export with its mapping and synthesis signatures loaded by
``load_generator``, style mixing on the loaded model, the command line (``train --arch
stylegan``, ``export``, ``mix``) and bad input.  Every model is tiny (16x16, 8 feature maps), so
each test takes seconds."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv
from PIL import Image

import progan_tf as pt
from progan_tf import cli
from progan_tf.errors import (
    DatasetError,
    LatentError,
    ModelLoadError,
    OptionError,
    RunDirectoryError,
)
from progan_tf.style_generator import StyleBasedGenerator
from progan_tf.stylegan import (
    StyleDiscriminator,
    StyleGAN,
    StyleGANConfig,
    StyleGenerator,
    export_run,
    export_style_generator,
    make_discriminator,
    train,
)

TINY = dict(resolution=16, latent_dim=8, w_dim=8, fmap_base=16, fmap_max=8, mapping_layers=2,
            batch_size=8, seed=2)


def tiny(data_dir, out_dir, **overrides):
    """16x16, 8 feature maps, w of 8: 64 images in 8 steps, a progress grid every 32."""
    return StyleGANConfig(**{"data_dir": str(data_dir), "out_dir": str(out_dir), **TINY,
                             "kimg": 0.064, "grid_every_kimg": 0.032, **overrides})


def tiny_generator(resolution=16):
    return StyleGenerator(latent_dim=8, w_dim=8, resolution=resolution, fmap_base=16,
                          fmap_max=8, mapping_layers=2, seed=0)


@pytest.fixture(scope="module")
def run(faces, tmp_path_factory):
    return train(tiny(faces, tmp_path_factory.mktemp("stylegan") / "run"), progress=False,
                 log_every=1)


@pytest.fixture(scope="module")
def export(run, tmp_path_factory):
    return export_run(run, tmp_path_factory.mktemp("stylegan-export") / "export")


@pytest.fixture(scope="module")
def loaded(export):
    return pt.load_generator(export)


# ---------------------------------------------------------------------------------------------
# Options and the model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"resolution": 48}, "resolution must be one of 8, 16, 32, 64"),
    ({"mixing_probability": 1.5}, "mixing_probability must be a finite number >= 0 and <= 1"),
    ({"truncation_psi": -0.1}, "truncation_psi must be a finite number >= 0"),
    ({"discriminator": "patch"}, "discriminator"),
    ({"loss": "hinge"}, "loss"),
    ({"augment_policy": "zoom"}, "augment_policy must name some of"),
    ({"w_dim": 0}, "w_dim"),
])
def test_bad_options_are_refused_before_anything_is_written(faces, tmp_path, options, message):
    with pytest.raises(DatasetError, match=message) as raised:
        train(tiny(faces, tmp_path / "run", **options), progress=False)
    assert "\n" not in str(raised.value) and not (tmp_path / "run").exists()


# WGAN-GP with ProGAN's discriminator trains in the module's run and in StyleGAN's doctest.
@pytest.mark.parametrize("loss, augment, residual", [("ns-r1", "ada", True)])
def test_a_step_trains_both_networks_with_the_other_recipe_and_discriminator(loss, augment,
                                                                             residual):
    generator = tiny_generator(8)
    critic = (StyleDiscriminator if residual else make_discriminator)(8, fmap_base=16,
                                                                      fmap_max=8)
    gan = StyleGAN(generator, critic, loss=loss, augment=augment, r1_interval=1)
    gan.start_phase(None)
    before_g = [v.numpy().copy() for v in generator.trainable_variables]
    before_d = [v.numpy().copy() for v in gan.discriminator_variables()]
    before_avg = gan.ema_generator.mapping_network.w_avg.numpy().copy()
    reals = tf.random.uniform([4, 8, 8, 3], -1, 1, seed=1)
    logs = gan.train_on_batch(reals, return_dict=True)
    assert all(np.isfinite(value) for value in logs.values())
    assert all(not np.array_equal(a, v.numpy())
               for a, v in zip(before_d, gan.discriminator_variables()))
    changed = [not np.array_equal(a, v.numpy())
               for a, v in zip(before_g, generator.trainable_variables)]
    assert sum(changed) > len(changed) // 2  # mapping and synthesis both train
    assert not np.array_equal(before_avg, gan.ema_generator.mapping_network.w_avg.numpy())
    assert int(gan.step_count.numpy()) == 1 and int(gan.images_shown.numpy()) == 4


def test_style_mixing_regularisation_crosses_over_inside_the_layers():
    gan = StyleGAN(tiny_generator(), make_discriminator(16, fmap_base=16, fmap_max=8),
                   mixing_probability=1.0)
    ws = gan.style_mixing_ws(64).numpy()
    # Every sample mixes: its first layer's w differs from its last layer's.
    assert all(not np.allclose(w[0], w[-1]) for w in ws)
    gan = StyleGAN(tiny_generator(), make_discriminator(16, fmap_base=16, fmap_max=8),
                   mixing_probability=0.0)
    ws = gan.style_mixing_ws(8).numpy()
    np.testing.assert_array_equal(ws, np.repeat(ws[:, :1], ws.shape[1], axis=1))


# ---------------------------------------------------------------------------------------------
# A run on the shared loop
# ---------------------------------------------------------------------------------------------


def test_a_run_trains_logs_draws_progress_and_checkpoints(run):
    rows = read_csv(run / "losses.csv")
    assert len(rows) == 8 and {"d_loss", "g_loss", "wasserstein"} <= set(rows[0])
    samples = sorted(p.name for p in (run / "samples").iterdir())
    assert samples == ["final-16px.png", "progress-000000000032.png",
                       "progress-000000000064.png"]
    assert json.loads((run / "run.json").read_text())["arch"] == "stylegan"


def test_resume_trains_further_and_refuses_changed_networks(run, faces, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)  # the module's run (64 images), resumed to 96
    with pytest.raises(RunDirectoryError, match="w_dim 4 .run: 8.") as raised:
        train(tiny(faces, copy, kimg=0.096, w_dim=4), resume=True, progress=False)
    assert "\n" not in str(raised.value)
    train(tiny(faces, copy, kimg=0.096, truncation_psi=0.7), resume=True, progress=False,
          log_every=1)
    assert len(read_csv(copy / "losses.csv")) == 12
    assert (copy / "checkpoints" / "ckpt-000000000096").is_dir()


# ---------------------------------------------------------------------------------------------
# The export and load_generator
# ---------------------------------------------------------------------------------------------


def test_the_export_has_progan_128s_interface_and_the_synthesis_path(export, loaded):
    module = tf.saved_model.load(str(export))
    assert sorted(module.signatures) == ["default", "mapping", "synthesis"]
    default = module.signatures["default"]
    assert default.structured_input_signature[1]["default"].shape.as_list() == [None, 8]
    metadata = json.loads((export / "metadata.json").read_text())
    assert (metadata["arch"], metadata["num_ws"], metadata["w_dim"]) == ("stylegan", 6, 8)
    assert metadata["layer_ranges"] == {"coarse": [0, 1], "middle": [2, 3], "fine": [4, 5]}
    assert metadata["truncation_psi"] == 1.0 and "training_command" in metadata
    assert isinstance(loaded, StyleBasedGenerator)
    assert (loaded.latent_dim, loaded.image_shape, loaded.num_ws) == (8, (16, 16, 3), 6)


def test_synthesis_of_the_mapping_is_the_generator_and_latents_are_repeatable(loaded):
    z = pt.sample_latents(3, 8, seed=4)
    images = loaded(z).numpy()
    assert images.min() >= 0 and images.max() <= 1 and images.std() > 0
    np.testing.assert_allclose(loaded.synthesis(loaded.mapping(z)), images, atol=1e-5)
    np.testing.assert_array_equal(loaded(z).numpy(), images)  # constant noise
    ws = loaded.mapping(z, truncation_psi=0.0).numpy()  # the average face's w on every row
    np.testing.assert_allclose(ws[0], ws[2], atol=1e-6)


def test_the_export_keeps_the_in_memory_generators_images(tmp_path):
    generator = tiny_generator()
    loaded = pt.load_generator(export_style_generator(generator, tmp_path / "e",
                                                      truncation_psi=0.5))
    z = pt.sample_latents(2, 8, seed=1)
    expected = (generator(z, truncation_psi=0.5, noise_mode="const").numpy() + 1) / 2
    np.testing.assert_allclose(loaded(z), np.clip(expected, 0, 1), atol=1e-5)
    assert loaded.truncation_psi == 0.5


def test_bundled_stylegan_loads_offline_with_both_paths():
    """Issue 15: the shipped weights load by handle, z -> image and w+ -> image agree."""
    model = pt.load_generator("bundled-stylegan")
    assert isinstance(model, StyleBasedGenerator) and model.metadata["arch"] == "stylegan"
    z = pt.sample_latents(2, model.latent_dim, seed=0)
    np.testing.assert_allclose(model.synthesis(model.mapping(z)), model(z), atol=1e-4)


def test_bundled_stylegan_missing_says_so_in_one_line(monkeypatch, tmp_path):
    from progan_tf import loading

    monkeypatch.setattr(loading, "bundled_stylegan_folder", lambda: tmp_path / "stylegan")
    with pytest.raises(ModelLoadError, match="ships no style-based generator weights") \
            as raised:
        pt.load_generator("bundled-stylegan")
    assert "\n" not in str(raised.value) and "--arch stylegan" in str(raised.value)


# ---------------------------------------------------------------------------------------------
# Style mixing on loaded and in-memory generators
# ---------------------------------------------------------------------------------------------


def test_style_mix_on_the_loaded_export_takes_the_sources_layers(loaded):
    sources, destinations = pt.sample_latents(2, 8, seed=1), pt.sample_latents(3, 8, seed=2)
    mix = pt.style_mix(loaded, sources, destinations, layers="fine")
    assert mix.mixed.shape == (3, 2, 16, 16, 3) and mix.layers == [4, 5]
    assert mix.grid().shape == (64, 48, 3)
    ws_s, ws_d = loaded.mapping(sources, 1.0).numpy(), loaded.mapping(destinations, 1.0).numpy()
    expected = ws_d[1].copy()
    expected[4:] = ws_s[0, 4:]
    np.testing.assert_allclose(mix.mixed[1, 0], loaded.synthesis(expected[None])[0], atol=1e-5)
    np.testing.assert_allclose(mix.destinations, loaded.synthesis(ws_d), atol=1e-5)


def test_style_mix_takes_w_plus_and_in_memory_generators_alike(loaded):
    ws = loaded.mapping(pt.sample_latents(2, 8, seed=3)).numpy()
    assert pt.style_mix(loaded, ws[:1], ws[1:], layers=[0, 5]).mixed.shape == (1, 1, 16, 16, 3)
    mix = pt.style_mix(tiny_generator(), pt.sample_latents(1, 8), pt.sample_latents(1, 8))
    assert mix.layers == [0, 1] and 0 <= mix.mixed.min() <= mix.mixed.max() <= 1


@pytest.mark.parametrize("layers, message", [
    ("outer", "layers must be one of 'coarse', 'middle', 'fine'"),
    ([0, 6], r"layers must be indices in \[0, 6\)"),
    (slice(2, 9), r"bounds in \[0, 6\]"),
    ([], "layers select none"),
])
def test_style_mix_refuses_layers_out_of_bounds_in_one_line(loaded, layers, message):
    z = pt.sample_latents(1, 8)
    with pytest.raises(OptionError, match=message) as raised:
        pt.style_mix(loaded, z, z, layers=layers)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("source, message", [
    (np.zeros((1, 512)), "size 512"),
    (np.zeros((1, 10, 8)), r"w\+ \[1, 10, 8\], but this generator takes \[N, 6, 8\]"),
    (np.full((1, 8), np.nan), "NaN"),
])
def test_style_mix_refuses_latents_of_another_model_in_one_line(loaded, source, message):
    with pytest.raises(LatentError, match=message) as raised:
        pt.style_mix(loaded, source, pt.sample_latents(1, 8))
    assert "\n" not in str(raised.value)


def test_style_mix_refuses_a_generator_without_a_synthesis_path(stand_in_generator):
    with pytest.raises(OptionError, match="no synthesis path") as raised:
        pt.style_mix(stand_in_generator, pt.sample_latents(1, 8), pt.sample_latents(1, 8))
    assert "\n" not in str(raised.value)


def test_synthesis_refuses_w_plus_of_another_shape(loaded):
    with pytest.raises(LatentError, match=r"takes w\+ \[N, 6, 8\]"):
        loaded.synthesis(np.zeros((1, 4, 8), np.float32))


# ---------------------------------------------------------------------------------------------
# Projection into w+
# ---------------------------------------------------------------------------------------------


def test_projection_recovers_an_image_made_from_a_known_w_plus(loaded):
    ws = loaded.mapping(pt.sample_latents(2, 8, seed=11), 1.0).numpy()
    ws[0, 3:] = ws[1, 3:]  # a w+ no single w gives
    target = loaded.synthesis(ws[:1]).numpy()[0]
    projection = pt.project(loaded, target, steps=150)
    assert projection.ws.shape == (1, 6, 8)
    start = projection.result.losses[0]
    assert projection.result.best_loss < start / 10 and projection.result.psnr > 25
    np.testing.assert_allclose(loaded.synthesis(projection.ws)[0], projection.result.image,
                               atol=1e-4)
    assert pt.style_mix(loaded, projection.ws, ws[1:], "coarse").mixed.shape == \
        (1, 1, 16, 16, 3)


def test_projection_refuses_a_generator_without_a_synthesis_path(stand_in_generator):
    with pytest.raises(OptionError, match="needs a style-based generator") as raised:
        pt.project(stand_in_generator, np.zeros((8, 8, 3)))
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_trains_exports_and_mixes(faces, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(faces), "--arch", "stylegan", "--resolution", "16",
                     "--latent-dim", "8", "--w-dim", "8", "--fmap-base", "16", "--fmap-max",
                     "8", "--mapping-layers", "2", "--kimg", "0.016", "--batch-size", "8",
                     "--truncation-psi", "0.7", "--out", str(out)]) == 0
    stored = StyleGANConfig.from_json((out / "run.json").read_text())
    assert (stored.w_dim, stored.fmap_base, stored.truncation_psi, stored.loss) == \
        (8, 16, 0.7, "wgan-gp")
    assert cli.main(["export", str(out), str(tmp_path / "export")]) == 0
    assert cli.main(["mix", "1", "2", "--model", str(tmp_path / "export"), "--layers",
                     "middle", "--out", str(tmp_path / "mix")]) == 0
    written = sorted(p.name for p in (tmp_path / "mix").iterdir())
    assert written == ["a.png", "b.png", "comparison.png", "mix.png"]
    assert Image.open(tmp_path / "mix" / "mix.png").size == (16, 16)
    assert Image.open(tmp_path / "mix" / "comparison.png").size[1] > 128  # legible
    assert "B with A's middle" in capsys.readouterr().out


def test_cli_mix_projects_a_photo_into_w_plus(export, faces, tmp_path, capsys):
    assert cli.main(["mix", str(faces / "0003.png"), "5", "--model", str(export), "--steps",
                     "20", "--layers", "fine", "--out", str(tmp_path / "mix")]) == 0
    assert "A: 0003.png (projected, " in capsys.readouterr().out
    assert (tmp_path / "mix" / "comparison.png").is_file()


def test_cli_mix_uses_the_shipped_generator_by_default(tmp_path, capsys):
    assert cli.main(["mix", "1", "2", "--out", str(tmp_path / "mix")]) == 0
    assert "B with A's coarse" in capsys.readouterr().out
    comparison = pt.load_image(tmp_path / "mix" / "comparison.png", crop=None)
    assert comparison.shape[0] >= 32 * 4  # 32x32 faces, enlarged by a whole factor


def test_cli_train_keeps_the_style_based_defaults_of_shared_options(faces, tmp_path):
    from progan_tf.cli_families import check_train_arch
    from progan_tf.cli_parser import build_parser
    from progan_tf.cli_stylegan import stylegan_options

    args = build_parser().parse_args(["train", str(faces), "--arch", "stylegan", "--out",
                                      str(tmp_path / "run"), "--w-dim", "8", "--fmap-max", "64"])
    assert check_train_arch(args) == "stylegan"
    config = StyleGANConfig(**stylegan_options(args))
    assert (config.fmap_base, config.fmap_max, config.w_dim) == (1024, 64, 8)  # not 8192


@pytest.mark.parametrize("argv, message", [
    (["--arch", "stylegan", "--blocks", "3"], "--blocks is an option of --arch srgan only"),
    (["--w-dim", "8"], "--w-dim is an option of --arch stylegan only"),
    (["--arch", "stylegan", "--resolution", "12"], "resolution must be one of 8, 16"),
])
def test_cli_train_refuses_bad_options_in_one_line(faces, tmp_path, capsys, argv, message):
    assert cli.main(["train", str(faces), "--out", str(tmp_path / "run"), *argv]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv, message", [
    (["1", "2", "--layers", "0,6"], r"layers must be indices in [0, 6)"),
    (["1", "no-such-photo.png"], "B must be a seed (a whole number) or the path of a photo"),
    (["NOT_AN_IMAGE", "2"], "is not an image file Pillow can read"),
    (["1", "2", "--model", "bundled"], "has no synthesis path"),
    (["1", "2", "--model", "bundled-stylegan"], "ships no style-based generator weights yet"),
])
def test_cli_mix_refuses_bad_input_in_one_line(export, faces, tmp_path, capsys, argv, message,
                                               monkeypatch):
    from progan_tf import loading

    # the weights ship: an installation without them is made by pointing the folder elsewhere
    monkeypatch.setattr(loading, "bundled_stylegan_folder", lambda: tmp_path / "no-stylegan")
    (tmp_path / "notes.png").write_text("not a picture")
    argv = [str(tmp_path / "notes.png") if a == "NOT_AN_IMAGE" else a for a in argv]
    model = [] if "--model" in argv else ["--model", str(export)]
    assert cli.main(["mix", *argv, *model, "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_cli_mix_refuses_a_layer_list_argparse_cannot_read(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["mix", "1", "2", "--layers", "top", "--out", "o"])
    assert raised.value.code == 2
    assert "must be coarse, middle, fine or comma-separated" in capsys.readouterr().err
