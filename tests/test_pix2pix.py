"""Pix2Pix: the sketch, the networks and losses, the three kinds of pairs, training on the shared
infrastructure (runs, resume, export), the translator and its bad input, and the command line.
Every model is tiny (16x16, a few feature maps), so each test takes seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv
from PIL import Image

from progan_tf import cli
from progan_tf.errors import DatasetError, ImageLoadError, ModelLoadError, OptionError
from progan_tf.pix2pix import (
    PatchDiscriminator,
    Pix2Pix,
    Pix2PixConfig,
    UNetGenerator,
    build_model,
    export_run,
    load_pairs,
    train,
)
from progan_tf.pix2pix.data import resolve_pairs
from progan_tf.pix2pix.sketch import sketch
from progan_tf.training import checkpoint
from progan_tf.translators import load_translator


def tiny(data_dir, out_dir, **overrides):
    """A 16x16 Pix2Pix (width 4, at most 8 maps) on 64 pairs in batches of 8: seconds."""
    options = dict(data_dir=str(data_dir), out_dir=str(out_dir), resolution=16, width=4,
                   max_width=8, d_layers=2, kimg=0.064, batch_size=8, grid_every_kimg=0.032,
                   seed=5)
    options.update(overrides)
    return Pix2PixConfig(**options)


@pytest.fixture(scope="module")
def run(faces, tmp_path_factory):
    """One finished tiny run on sketched faces, 8 held out (shared: do not modify it)."""
    return train(tiny(faces, tmp_path_factory.mktemp("pix2pix") / "run", holdout=8),
                 progress=False, log_every=2)


@pytest.fixture(scope="module")
def export(run, tmp_path_factory):
    return export_run(run, tmp_path_factory.mktemp("pix2pix-export") / "export")


def write_pairs(folder, count=8, size=20, side_by_side=False):
    """Pairs of coloured squares: A a grey square, B the same square in colour."""
    rng = np.random.default_rng(1)
    for index in range(count):
        a = np.full((size, size, 3), 255, np.uint8)
        b = a.copy()
        top = rng.integers(0, size // 2)
        a[top:top + size // 2, top:top + size // 2] = 100
        b[top:top + size // 2, top:top + size // 2] = rng.integers(0, 255, 3)
        if side_by_side:
            (folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / f"{index:03d}.png")
        else:
            for name, picture in (("a", a), ("b", b)):
                (folder / name).mkdir(parents=True, exist_ok=True)
                Image.fromarray(picture).save(folder / name / f"{index:03d}.png")
    return folder


# ---------------------------------------------------------------------------------------------
# The sketch, the networks, the losses
# ---------------------------------------------------------------------------------------------


def test_the_sketch_is_inverted_edges_with_dots_of_the_photos_colours():
    photo = np.full((64, 64, 3), 50, np.uint8)
    photo[16:48, 16:48] = (200, 120, 90)
    edges_only = sketch(photo, hints=0)
    assert set(np.unique(edges_only)) == {0, 255}  # black lines on white
    assert (edges_only[17:47, 17:47] == 255).all() and (edges_only[16] == 0).any()
    drawn = sketch(photo, hints=20, seed=3)
    np.testing.assert_array_equal(drawn, sketch(photo, hints=20, seed=3))  # seeded
    assert not np.array_equal(drawn, sketch(photo, hints=20, seed=4))
    colours = {tuple(pixel) for pixel in drawn.reshape(-1, 3)} - {(0, 0, 0), (255, 255, 255)}
    assert colours == {(200, 120, 90), (50, 50, 50)}  # dots of the photo's own colours
    white = np.full((16, 16, 3), 255, np.uint8)  # no non-white pixel: no dots, no lines
    assert (sketch(white, hints=10) == 255).all()
    with pytest.raises(ImageLoadError, match="one RGB image"):
        sketch(np.zeros((16, 16)))


def test_unet_has_skips_and_dropout_and_patchgan_sees_the_input():
    unet = UNetGenerator(resolution=32, width=4, max_width=16, dropout=0.5)
    assert len(unet.downs) == 5 and len(unet.ups) == 4 and len(unet.drops) == 3
    x = tf.random.uniform([2, 32, 32, 3], -1, 1, seed=1)
    out = unet(x)
    assert out.shape == (2, 32, 32, 3) and float(tf.reduce_max(tf.abs(out))) <= 1
    np.testing.assert_allclose(unet(x), unet(x), atol=1e-6)  # inference: dropout off
    assert not np.allclose(unet(x, training=True), unet(x, training=True))  # the paper's noise
    # The skip connections: the last up block sees its own maps and the first encoder block's.
    assert unet.to_image.kernel.shape[-1] == unet.ups[-1].filters + unet.downs[0].filters
    critic = PatchDiscriminator(resolution=32, width=4, max_width=16, layers=3)
    logits = critic([x, out])
    assert logits.shape == (2, 4, 4, 1)  # one logit per patch
    assert not np.allclose(critic([x, out]), critic([-x, out]))  # conditioned on the input
    with pytest.raises(OptionError, match="power of two from 16 to 256"):
        UNetGenerator(resolution=48)
    with pytest.raises(OptionError, match="d_layers must leave"):
        PatchDiscriminator(resolution=16, layers=5)


def test_losses_are_adversarial_plus_lambda_l1_and_l1_only_has_no_discriminator():
    unet = UNetGenerator(resolution=16, width=2, max_width=4)
    gan = Pix2Pix(unet, PatchDiscriminator(resolution=16, width=2, max_width=4))
    assert gan.l1_weight == 100 and gan.adversarial == "mse"
    logits = tf.zeros([2, 2, 2, 1])
    outputs, targets = tf.zeros([2, 16, 16, 3]), tf.fill([2, 16, 16, 3], 0.5)
    total, adversarial, l1 = gan.generator_loss(logits, outputs, targets)
    assert float(adversarial) == pytest.approx(1.0) and float(l1) == pytest.approx(0.5)
    assert float(total) == pytest.approx(1.0 + 100 * 0.5)
    assert float(gan.discriminator_loss(tf.ones_like(logits), logits)) == pytest.approx(0.0)
    bce = Pix2Pix(unet, PatchDiscriminator(resolution=16, width=2, max_width=4),
                  adversarial="bce")
    assert float(bce.discriminator_loss(logits, logits)) == pytest.approx(np.log(2), rel=1e-5)
    plain = Pix2Pix(UNetGenerator(resolution=16, width=2, max_width=4), None, l1_only=True)
    assert plain.discriminator is None and set(plain.checkpoint_networks()) == {"generator"}
    plain.compile()
    pair = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    before = [w.numpy().copy() for w in plain.generator.trainable_variables]
    logs = plain.train_on_batch(pair, pair[::-1], return_dict=True)
    assert logs["d_loss"] == 0 and logs["g_adv"] == 0
    assert logs["g_loss"] == pytest.approx(100 * logs["l1"], rel=1e-5)
    assert any(not np.allclose(a, b.numpy()) for a, b in
               zip(before, plain.generator.trainable_variables))
    with pytest.raises(OptionError, match="needs a discriminator"):
        Pix2Pix(unet, None)


# ---------------------------------------------------------------------------------------------
# The pairs
# ---------------------------------------------------------------------------------------------


def test_pairs_come_from_photos_folders_or_side_by_side_images(faces, tmp_path):
    sketched = load_pairs(tiny(faces, "-"))
    assert sketched.mode == "sketch" and sketched.inputs.shape == (48, 16, 16, 3)
    np.testing.assert_array_equal(sketched.inputs[3], sketch(sketched.targets[3], seed=5 + 3))
    folders = write_pairs(tmp_path / "folders")
    config = tiny(folders / "a", "-", paired_b=str(folders / "b"))
    pairs = load_pairs(config)
    assert resolve_pairs(config) == "folders" and len(pairs) == 8
    assert (pairs.inputs == pairs.inputs[..., :1]).all()  # A: grey squares; B: coloured
    side = write_pairs(tmp_path / "side", side_by_side=True)
    joined = load_pairs(tiny(side, "-"))
    assert joined.mode == "side-by-side"
    np.testing.assert_array_equal(joined.inputs, pairs.inputs)
    np.testing.assert_array_equal(joined.targets, pairs.targets)
    flipped = load_pairs(tiny(side, "-", direction="BtoA"))
    np.testing.assert_array_equal(flipped.inputs, pairs.targets)


def test_unpaired_folders_name_the_files_without_a_partner(tmp_path):
    folders = write_pairs(tmp_path / "folders")
    (folders / "b" / "003.png").rename(folders / "b" / "extra.png")
    with pytest.raises(DatasetError) as error:
        load_pairs(tiny(folders / "a", "-", paired_b=str(folders / "b")))
    message = str(error.value)
    assert "not paired" in message and "'003'" in message and "'extra'" in message
    assert "\n" not in message
    with pytest.raises(DatasetError, match="does not exist"):
        load_pairs(tiny(folders / "a", "-", paired_b=str(tmp_path / "missing")))


def test_grey_transparent_and_wrongly_sized_pictures(tmp_path):
    folders = write_pairs(tmp_path / "folders", count=4, size=24)
    Image.open(folders / "a" / "000.png").convert("L").save(folders / "a" / "000.png")
    Image.open(folders / "b" / "001.png").convert("RGBA").save(folders / "b" / "001.png")
    Image.new("RGB", (50, 30), "white").save(folders / "a" / "002.png")  # another size: framed
    pairs = load_pairs(tiny(folders / "a", "-", paired_b=str(folders / "b")))
    assert pairs.inputs.shape == (4, 16, 16, 3) and pairs.targets.shape == (4, 16, 16, 3)
    side = write_pairs(tmp_path / "side", count=3, side_by_side=True)
    Image.new("RGB", (30, 20)).save(side / "odd.png")
    with pytest.raises(DatasetError, match=r"odd.png.* is 30x20, but a side-by-side pair is "
                                           r"twice as wide"):
        load_pairs(tiny(side, "-", pairs="side-by-side"))
    assert resolve_pairs(tiny(side, "-")) == "sketch"  # not every image is A|B: photos


def test_bad_options_are_refused_before_anything_is_written(faces, tmp_path):
    for change, message in (({"resolution": 48}, "power of two from 16 to 256"),
                            ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
                            ({"pairs": "folders"}, "needs paired_b"),
                            ({"pairs": "sketch", "paired_b": "b"}, "cannot be used"),
                            ({"adversarial": "wgan"}, "adversarial must be one of"),
                            ({"holdout": 48}, "leaves nothing")):
        with pytest.raises(DatasetError, match=message):
            train(tiny(faces, tmp_path / "run", **change), progress=False)
        assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------------------
# Training, resuming, exporting, translating
# ---------------------------------------------------------------------------------------------


def test_a_run_logs_losses_and_progress_triplets(run):
    rows = read_csv(run / "losses.csv")
    assert list(rows[0]) == ["kimg", "d_loss", "g_loss", "g_adv", "l1", "real_score",
                             "fake_score"]
    assert json.loads((run / "run.json").read_text())["arch"] == "pix2pix"
    assert json.loads((run / "dataset.json").read_text())["pairs"] == "sketch"
    grids = sorted(path.name for path in (run / "samples").glob("progress-*.png"))
    assert grids == ["progress-000000000032.png", "progress-000000000064.png"]
    assert (run / "samples" / "final-16px.png").is_file()
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert state["images_shown"] == 64 and state["train_seconds"] > 0


def test_seeded_resume_reproduces_the_uninterrupted_run(faces, run, tmp_path):
    split = tmp_path / "split"
    train(tiny(faces, split, holdout=8), stop_after_images=32, progress=False, log_every=2)
    train(tiny(faces, split, holdout=8), resume=True, progress=False, log_every=2)
    straight, resumed = read_csv(run / "losses.csv"), read_csv(split / "losses.csv")
    assert [row["kimg"] for row in straight] == [row["kimg"] for row in resumed]
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(float(a["l1"]), float(b["l1"]), rtol=1e-4, atol=1e-4)


def test_the_export_is_a_translator_that_prepares_photos_as_training_did(run, export, faces):
    translator = load_translator(export)
    assert translator.resolution == 16 and translator.preparation["kind"] == "sketch"
    assert translator.metadata["arch"] == "pix2pix" and translator.metadata["kimg"] == 0.064
    photo = faces / "0003.png"
    prepared = translator.prepare(photo)
    pairs = load_pairs(tiny(faces, "-"))
    np.testing.assert_array_equal(translator.frame(photo),
                                  pairs.targets[3].astype("float32") / 255)
    # The same sketch as in training (same code, same framing; the dots' seed is a parameter).
    np.testing.assert_array_equal((prepared * 255).round(), sketch(pairs.targets[3], seed=0))
    out = translator(prepared)
    assert out.shape == (16, 16, 3) and 0 <= out.min() and out.max() <= 1
    batch = translator(np.stack([prepared, prepared]))
    np.testing.assert_allclose(batch[0], out, atol=1e-5)
    # The signature is the generator's, in inference mode.
    model = build_model(tiny(faces, "-", holdout=8))
    checkpoint.restore(model, checkpoint.latest(run / "checkpoints"))
    expected = model.generator(tf.constant(prepared[None] * 2 - 1), training=False)
    np.testing.assert_allclose(out, (expected.numpy()[0] + 1) / 2, atol=1e-4)


def test_the_translator_refuses_wrong_sizes_and_reads_grey_and_transparent(export, tmp_path):
    translator = load_translator(export)
    with pytest.raises(ImageLoadError, match=r"takes 16x16 pictures .* shape=\(32, 32, 3\)"):
        translator(np.zeros((32, 32, 3), "float32"))
    with pytest.raises(ImageLoadError, match="takes 16x16"):
        translator(np.zeros((2, 8, 8, 3), "float32"))
    assert translator(np.zeros((16, 16), np.uint8)).shape == (16, 16, 3)  # grey
    assert translator(np.zeros((1, 16, 16, 4), np.uint8)).shape == (1, 16, 16, 3)  # RGBA
    grey = tmp_path / "grey.png"
    Image.new("L", (40, 30), 90).save(grey)
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (30, 40), (0, 0, 0, 0)).save(clear)
    for path in (grey, clear):
        assert translator.prepare(path).shape == (16, 16, 3)
    assert (translator.prepare(clear) == 1).all()  # transparency on white: nothing to draw
    with pytest.raises(ImageLoadError):
        translator.prepare(tmp_path / "missing.png")


@pytest.mark.parametrize("handle, message", [
    ("bundled", "'bundled' is a generator (latents -> images), not a translator"),
    ("bundled-dcgan", "is a generator"),
    ("https://tfhub.dev/google/progan-128/1", "is a generator"),
    ("no-such-folder", "no translator at 'no-such-folder': not a folder"),
])
def test_load_translator_refuses_generator_handles_in_one_line(handle, message):
    with pytest.raises(ModelLoadError) as error:
        load_translator(handle)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_generator_export_given_to_load_translator_is_refused(tmp_path):
    from progan_tf.loading import bundled_folder

    with pytest.raises(ModelLoadError, match="is a generator .* its export says arch 'progan'"):
        load_translator(str(bundled_folder()))


def test_bundled_pix2pix_loads_or_says_it_is_not_shipped_in_one_line():
    from progan_tf.translators import bundled_pix2pix_folder

    if bundled_pix2pix_folder().joinpath("saved_model.pb").is_file():
        translator = load_translator("bundled-pix2pix")
        assert translator.metadata["arch"] == "pix2pix" and translator.resolution == 64
    else:
        with pytest.raises(ModelLoadError, match="ships no Pix2Pix weights yet") as error:
            load_translator("bundled-pix2pix")
        assert "\n" not in str(error.value) and error.value.__cause__ is None


def test_l1_only_run_exports_without_a_discriminator(faces, tmp_path):
    config = tiny(faces, tmp_path / "run", l1_only=True, kimg=0.016)
    train(config, progress=False)
    out = export_run(tmp_path / "run", tmp_path / "export")
    assert not (out / "discriminator.keras").exists()
    translator = load_translator(out)
    assert translator.metadata["l1_only"] is True


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_trains_exports_and_translates(faces, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(faces), "--arch", "pix2pix", "--resolution", "16", "--width",
                     "4", "--max-width", "8", "--kimg", "0.016", "--batch-size", "8",
                     "--hints", "3", "--out", str(out)]) == 0
    stored = Pix2PixConfig.from_json((out / "run.json").read_text())
    assert (stored.width, stored.max_width, stored.hints, stored.l1_weight) == (4, 8, 3, 100)
    capsys.readouterr()
    assert cli.main(["export", str(out), str(tmp_path / "export")]) == 0
    assert "load it with progan_tf.load_translator(" in capsys.readouterr().out
    assert load_translator(tmp_path / "export").preparation["hints"] == 3
    pictures = tmp_path / "pictures"
    assert cli.main(["translate", str(faces / "0001.png"), "--model", str(tmp_path / "export"),
                     "--out", str(pictures)]) == 0
    assert "wrote input.png, prepared.png, output.png, translation.png" in capsys.readouterr().out
    assert Image.open(pictures / "output.png").size == (128, 128)  # 16 px, shown 8x
    side = Image.open(pictures / "translation.png")
    assert side.width >= 3 * 128 and side.height > 128  # three panels under their labels


@pytest.mark.parametrize("args, message", [
    (["--arch", "pix2pix", "--fmap-max", "8"], "--fmap-max is not an option of --arch pix2pix"),
    (["--arch", "pix2pix", "--latent-dim", "8"], "--latent-dim is not an option"),
    (["--paired-b", "b"], "--paired-b is an option of --arch pix2pix only"),
    (["--arch", "dcgan", "--l1-only", "--hints", "3"], "--hints, --l1-only are options of "
                                                       "--arch pix2pix only"),
    (["--arch", "pix2pix", "--resolution", "48"], "power of two from 16 to 256"),
    (["--arch", "pix2pix", "--pairs", "folders"], "needs paired_b"),
])
def test_cli_refuses_options_of_other_families_in_one_line(args, message, faces, tmp_path,
                                                           capsys):
    assert cli.main(["train", str(faces), "--out", str(tmp_path / "run"), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "run").exists()


def test_cli_refuses_resuming_across_families(faces, run, tmp_path, capsys):
    assert cli.main(["train", str(faces), "--out", str(run), "--resume"]) == 2
    assert "holds a pix2pix run; resume it with --arch pix2pix" in capsys.readouterr().err


@pytest.mark.parametrize("model, message", [
    ("bundled", "is a generator (latents -> images), not a translator"),
    ("bundled-pix2pix", None),
])
def test_cli_translate_refuses_generators_and_bad_photos_in_one_line(model, message, export,
                                                                     tmp_path, capsys):
    from progan_tf.translators import bundled_pix2pix_folder

    if message is None:
        if bundled_pix2pix_folder().joinpath("saved_model.pb").is_file():
            model, message = "bundled-dcgan", "is a generator"  # shipped: another generator
        else:
            message = "ships no Pix2Pix weights yet"
    photo = tmp_path / "photo.png"
    Image.new("RGBA", (30, 20)).save(photo)
    assert cli.main(["translate", str(photo), "--model", model, "--out",
                     str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("progan-tf: error: ") and message in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "out").exists()
    assert cli.main(["translate", str(tmp_path / "missing.png"), "--model", str(export),
                     "--out", str(tmp_path / "out")]) == 2
    assert "missing.png" in capsys.readouterr().err and not (tmp_path / "out").exists()
