"""SRGAN: the networks, the Keras model and its two phases, the family on the shared training
loop, the export loaded by ``load_upscaler`` (tiled, any picture), the command line, and bad
input.  Every model is tiny (16x16 high-res, a few feature maps), so each test takes seconds."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv
from PIL import Image

from progan_tf import cli
from progan_tf.errors import (
    DatasetError,
    ImageLoadError,
    MissingDependencyError,
    ModelLoadError,
    RunDirectoryError,
)
from progan_tf.srgan import (
    SRGAN,
    SRGANConfig,
    build_discriminator,
    build_generator,
    downscale,
    export_run,
    train,
)
from progan_tf.upscalers import Upscaler, load_upscaler, upscaler_from_generator


def tiny(data_dir, out_dir, **overrides):
    """16x16 <- 4x4, width 4, one block: 64 images of content loss, then 64 adversarial."""
    options = dict(data_dir=str(data_dir), out_dir=str(out_dir), resolution=16, width=4,
                   blocks=1, disc_width=4, pretrain_kimg=0.064, kimg=0.064, batch_size=8,
                   seed=2)
    options.update(overrides)
    return SRGANConfig(**options)


@pytest.fixture(scope="module")
def run(faces, tmp_path_factory):
    return train(tiny(faces, tmp_path_factory.mktemp("srgan") / "run"), progress=False,
                 log_every=1)


@pytest.fixture(scope="module")
def export(run, tmp_path_factory):
    return export_run(run, tmp_path_factory.mktemp("srgan-export") / "export")


# ---------------------------------------------------------------------------------------------
# Networks and the model
# ---------------------------------------------------------------------------------------------


def test_the_generator_enlarges_any_size_4x_with_depth_to_space():
    generator = build_generator(width=4, blocks=2)
    assert generator(tf.zeros([1, 3, 9, 3])).shape == (1, 12, 36, 3)
    assert [layer.name for layer in generator.layers if "shuffle" in layer.name] == \
        ["up0_shuffle", "up1_shuffle"]
    assert build_discriminator(16, 4)(tf.zeros([3, 16, 16, 3])).shape == (3, 1)


def test_the_bicubic_skip_starts_as_bicubic_and_learns_the_detail_over_it():
    low = tf.random.uniform([2, 4, 5, 3], -1, 1)
    bicubic = tf.clip_by_value(tf.image.resize(low, [16, 20], method="bicubic"), -1, 1)
    model = SRGAN(build_generator(4, 1, bicubic_skip=True), build_discriminator(16, 4))
    np.testing.assert_allclose(model.generator(low), bicubic, atol=1e-6)
    phase = SRGANConfig("d", "o", content_only=True).schedule().phases[0]
    model.start_phase(phase)
    high = tf.random.uniform([4, 16, 16, 3], -1, 1)
    first = model.train_on_batch(downscale(high), high, return_dict=True)["content_loss"]
    for _ in range(20):
        last = model.train_on_batch(downscale(high), high, return_dict=True)["content_loss"]
    assert last < first  # the residual is trained (its last convolution starts at zero)
    assert float(tf.reduce_max(tf.abs(model.generator(low) - bicubic))) > 0


def test_a_run_json_from_before_the_bicubic_skip_keeps_the_paper_generator():
    # New runs default to the skip; a run.json written before the option existed trained the
    # paper's network, and must resume (and export) as that network.
    config = SRGANConfig("faces", "run")
    assert config.bicubic_skip is True
    stored = {k: v for k, v in json.loads(config.to_json()).items() if k != "bicubic_skip"}
    assert SRGANConfig.from_json(json.dumps(stored)).bicubic_skip is False
    assert SRGANConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("bicubic_skip", [False, True])
def test_networks_save_and_load_as_keras_files(tmp_path, bicubic_skip):
    generator = build_generator(width=4, blocks=1, bicubic_skip=bicubic_skip)
    generator.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras", compile=False)
    x = tf.random.uniform([1, 4, 4, 3], -1, 1)
    np.testing.assert_allclose(loaded(x), generator(x), atol=1e-6)


def test_content_only_trains_the_generator_alone_and_reports_no_adversarial_loss():
    model = SRGAN(build_generator(4, 1), build_discriminator(16, 4))
    phase = SRGANConfig("d", "o", content_only=True).schedule().phases[0]
    model.start_phase(phase)
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    high = tf.random.uniform([4, 16, 16, 3], -1, 1)
    logs = model.train_on_batch(downscale(high), high, return_dict=True)
    assert logs["adversarial_loss"] == 0 and logs["d_loss"] == 0 and logs["content_loss"] > 0
    for old, new in zip(before, model.discriminator.trainable_variables):
        np.testing.assert_array_equal(old, new.numpy())


def test_the_losses_are_named_and_the_content_loss_is_zero_only_for_the_real_picture():
    model = SRGAN(build_generator(4, 1), build_discriminator(16, 4))
    high = tf.random.uniform([2, 16, 16, 3], -1, 1)
    assert float(model.content_loss(high, high)) == 0
    assert float(model.content_loss(high, -high)) > 0
    logits = tf.zeros([2, 1])
    np.testing.assert_allclose(float(model.adversarial_loss(logits)), np.log(2), rtol=1e-6)


def test_the_vgg_content_loss_fails_offline_in_one_line(monkeypatch):
    def offline(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(MissingDependencyError, match="content_loss='pixel' \\(offline\\)"):
        SRGAN(build_generator(4, 1), build_discriminator(16, 4), content="vgg")


@pytest.mark.parametrize("options, message", [
    ({"resolution": 18}, "resolution must be a multiple of 4"),
    ({"content_loss": "l1"}, "content_loss must be one of"),
    ({"kimg": 0}, "kimg must be"),
    ({"arch": "dcgan"}, "not an SRGAN's"),
    ({"bicubic_skip": "yes"}, "bicubic_skip must be True or False"),
])
def test_bad_options_are_refused_before_anything_is_written(faces, tmp_path, options, message):
    with pytest.raises(DatasetError, match=message):
        train(tiny(faces, tmp_path / "run", **options), progress=False)
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------------------
# A run, its export and the upscaler
# ---------------------------------------------------------------------------------------------


def test_a_run_pretrains_srresnet_then_trains_the_gan(run):
    rows = read_csv(run / "losses.csv")
    assert {row["adversarial"] for row in rows} == {"0", "1"}
    assert all(float(row["d_loss"]) == 0 for row in rows if row["adversarial"] == "0")
    assert all(float(row["d_loss"]) > 0 for row in rows if row["adversarial"] == "1")
    assert all((run / "samples" / f"{name}.png").is_file() for name in ("srresnet", "srgan"))
    assert json.loads((run / "run.json").read_text())["arch"] == "srgan"


def test_the_export_loads_as_an_upscaler_and_enlarges_any_picture(export):
    metadata = json.loads((export / "metadata.json").read_text())
    assert (metadata["arch"], metadata["scale"]) == ("srgan", 4)
    upscaler = load_upscaler(export)
    assert upscaler.scale == 4
    picture = np.random.default_rng(0).uniform(size=(5, 7, 3)).astype("float32")
    result = upscaler(picture)
    assert result.shape == (20, 28, 3) and result.dtype == np.float32
    assert 0 <= result.min() and result.max() <= 1
    assert upscaler(np.stack([picture, picture])).shape == (2, 20, 28, 3)


def test_resume_continues_a_stopped_run(faces, tmp_path):
    config = tiny(faces, tmp_path / "run", pretrain_kimg=0.016, kimg=0.016)
    train(config, stop_after_images=16, progress=False, log_every=1)
    assert {row["adversarial"] for row in read_csv(tmp_path / "run" / "losses.csv")} == {"0"}
    train(config, resume=True, progress=False, log_every=1)
    assert len({row["adversarial"] for row in read_csv(tmp_path / "run" / "losses.csv")}) == 2
    with pytest.raises(RunDirectoryError):
        train(tiny(faces, tmp_path / "run", pretrain_kimg=0.016, kimg=0.016, width=8),
              resume=True, progress=False)


def test_tiles_join_without_seams():
    generator = build_generator(width=4, blocks=1)
    whole = upscaler_from_generator(generator)
    tiled = upscaler_from_generator(generator)
    tiled.tile, tiled.margin = 8, 12  # the margin covers the tiny network's receptive field
    picture = np.random.default_rng(1).uniform(size=(20, 30, 3)).astype("float32")
    a, b = whole(picture), tiled(picture)
    inner = (slice(48, -48), slice(48, -48))  # away from the picture's own border
    np.testing.assert_allclose(a[inner], b[inner], atol=1e-4)
    assert a.shape == b.shape == (80, 120, 3)


def test_grey_and_transparent_pictures_are_enlarged_as_rgb():
    upscaler = Upscaler(lambda x: np.repeat(np.repeat(x, 2, 1), 2, 2), scale=2)
    assert upscaler(np.zeros((4, 6), "uint8")).shape == (8, 12, 3)
    assert upscaler(np.zeros((4, 6, 1), "float32")).shape == (8, 12, 3)
    clear = np.zeros((4, 6, 4), "uint8")  # fully transparent: white, as load_image shows it
    assert upscaler(clear).min() == 1.0


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 3, 4, 5, 3)), "a picture \\[H, W, C\\] or a batch"),
    (np.zeros((4, 4, 5)), "1-4 channels"),
    (np.full((4, 4, 3), 2.0), "in \\[0, 1\\]"),
    (np.zeros((0, 4, 3)), "nothing to upscale"),
    (np.zeros((4, 4, 3), "int64"), "dtype=int64"),
])
def test_bad_pictures_are_refused_in_one_line(images, message):
    upscaler = Upscaler(lambda x: x, scale=1)
    with pytest.raises(ImageLoadError, match=message) as raised:
        upscaler(images)
    assert "\n" not in str(raised.value)


def test_a_huge_picture_is_refused_before_any_work():
    calls = []
    upscaler = Upscaler(lambda x: calls.append(x) or x, scale=4)
    with pytest.raises(ImageLoadError, match="1025x1024 picture is too large to upscale"):
        upscaler(np.zeros((1024, 1025, 3), "uint8"))
    assert not calls
    assert upscaler(np.zeros((8, 8, 3)), max_pixels=64).shape == (8, 8, 3)


# ---------------------------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["bundled", "bundled-dcgan",
                                    "https://tfhub.dev/google/progan-128/1"])
def test_a_generator_handle_is_not_an_upscaler(handle):
    with pytest.raises(ModelLoadError, match="is a generator \\(latents -> images\\), not an "
                                             "upscaler; load it with load_generator"):
        load_upscaler(handle)


def test_a_generator_export_folder_is_not_an_upscaler(tmp_path):
    from progan_tf.loading import bundled_folder

    with pytest.raises(ModelLoadError, match="is a progan generator export"):
        load_upscaler(str(bundled_folder()))
    with pytest.raises(ModelLoadError, match="is not an existing folder"):
        load_upscaler(tmp_path / "missing")
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        load_upscaler(tmp_path / "file.png")
    with pytest.raises(ModelLoadError, match="not a progan-tf export"):
        load_upscaler(tmp_path)


def test_bundled_srgan_loads_or_says_it_is_not_shipped_in_one_line(monkeypatch, tmp_path):
    from progan_tf import upscalers

    if upscalers.bundled_srgan_folder().joinpath("saved_model.pb").is_file():
        assert load_upscaler("bundled-srgan").scale == 4
    monkeypatch.setattr(upscalers, "bundled_srgan_folder", lambda: tmp_path / "srgan")
    with pytest.raises(ModelLoadError, match="ships no SRGAN weights yet") as raised:
        load_upscaler("bundled-srgan")
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_trains_exports_and_upscales(faces, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(faces), "--arch", "srgan", "--resolution", "16", "--width",
                     "4", "--blocks", "1", "--disc-width", "4", "--pretrain-kimg", "0.016",
                     "--kimg", "0.016", "--batch-size", "8", "--no-bicubic-skip", "--out",
                     str(out)]) == 0
    stored = SRGANConfig.from_json((out / "run.json").read_text())
    assert (stored.width, stored.blocks, stored.batch_size) == (4, 1, 8)
    assert stored.bicubic_skip is False
    capsys.readouterr()
    assert cli.main(["export", str(out), str(tmp_path / "export")]) == 0
    assert "load it with progan_tf.load_upscaler(" in capsys.readouterr().out  # was load_generator
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (18, 22, 4), np.uint8),
                    "RGBA").save(photo)
    assert cli.main(["upscale", str(photo), "--model", str(tmp_path / "export"), "--scale",
                     "4", "--out", str(tmp_path / "up")]) == 0
    written = sorted(p.name for p in (tmp_path / "up").iterdir())
    assert written == ["bicubic.png", "comparison.png", "lowres.png", "original.png",
                       "srgan.png"]
    assert Image.open(tmp_path / "up" / "lowres.png").size == (5, 4)
    assert Image.open(tmp_path / "up" / "srgan.png").size == (20, 16)
    assert Image.open(tmp_path / "up" / "comparison.png").size[1] > 128  # legible
    grey = tmp_path / "grey.png"
    Image.fromarray(np.zeros((6, 5), np.uint8), "L").save(grey)
    assert cli.main(["upscale", str(grey), "--model", str(tmp_path / "export"), "--out",
                     str(tmp_path / "up2")]) == 0
    assert Image.open(tmp_path / "up2" / "srgan.png").size == (20, 24)
    capsys.readouterr()


@pytest.mark.parametrize("args, message", [
    (["--arch", "srgan", "--fmap-max", "8"], "--fmap-max is not an option of --arch srgan"),
    (["--arch", "srgan", "--latent-dim", "8"], "--latent-dim is not an option of --arch srgan"),
    (["--blocks", "3"], "--blocks is an option of --arch srgan only"),
    (["--arch", "dcgan", "--content-only"], "--content-only is an option of --arch srgan only"),
    (["--arch", "srgan", "--resolution", "18"], "resolution must be a multiple of 4"),
])
def test_cli_refuses_options_of_other_families_in_one_line(args, message, faces, tmp_path,
                                                           capsys):
    assert cli.main(["train", str(faces), "--out", str(tmp_path / "run"), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "run").exists()


@pytest.mark.parametrize("model, message", [
    ("bundled", "is a generator (latents -> images), not an upscaler"),
    ("bundled-srgan", None),
])
def test_cli_upscale_refuses_generators_and_missing_weights_in_one_line(model, message,
                                                                       tmp_path, capsys,
                                                                       monkeypatch):
    from progan_tf import upscalers

    # the weights ship: an installation without them is made by pointing the folder elsewhere
    monkeypatch.setattr(upscalers, "bundled_srgan_folder", lambda: tmp_path / "no-srgan")
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    assert cli.main(["upscale", str(photo), "--model", model, "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and len(error.splitlines()) == 1
    assert (message or "ships no SRGAN weights yet") in error
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_cli_upscale_refuses_a_huge_photo_and_a_tiny_one_with_scale(export, tmp_path, capsys):
    huge = tmp_path / "huge.png"
    Image.fromarray(np.zeros((1100, 1000, 3), np.uint8)).save(huge)
    assert cli.main(["upscale", str(huge), "--model", str(export), "--out",
                     str(tmp_path / "o")]) == 2
    assert "too large to upscale" in capsys.readouterr().err
    tiny_photo = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tiny_photo)
    assert cli.main(["upscale", str(tiny_photo), "--model", str(export), "--scale", "4",
                     "--out", str(tmp_path / "o")]) == 2
    assert "cannot be shrunk 4 times" in capsys.readouterr().err
