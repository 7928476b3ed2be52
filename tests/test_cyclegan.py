"""CycleGAN's core: the networks, the history pool, the losses, a few steps of ``fit``, the
learning-rate schedule, the dark/fair split of faces and the checks of two domains.

Everything is tiny (16x16 pictures, 4 feature maps, one residual block) and runs in seconds.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from progan_tf.cyclegan import (
    CycleGAN,
    ImagePool,
    LinearDecay,
    PatchGAN,
    ResnetGenerator,
    make_generator,
)
from progan_tf.cyclegan.domains import (
    MIN_DOMAIN_IMAGES,
    check_domains,
    hair_brightness,
    hair_region,
    split_domains,
)
from progan_tf.errors import DatasetError, OptionError

SIDE = 16


def tiny_gan(generator="resnet", **options):
    nets = [make_generator(generator, resolution=SIDE, width=4, blocks=1) for _ in range(2)]
    nets += [PatchGAN(resolution=SIDE, width=4, layers=2) for _ in range(2)]
    return CycleGAN(*nets, **options)


def random_pictures(count, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (count, SIDE, SIDE, 3)).astype("float32")


# -- networks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["resnet", "unet"])
def test_both_generators_keep_the_shape_and_stay_in_range(kind):
    generator = make_generator(kind, resolution=SIDE, width=4, blocks=2)
    out = generator(random_pictures(3, 0)).numpy()
    assert out.shape == (3, SIDE, SIDE, 3)
    assert np.abs(out).max() <= 1.0


def test_resnet_generator_has_its_blocks_and_reflection_padding():
    generator = ResnetGenerator(resolution=SIDE, width=4, blocks=2)
    assert len(generator.res_convs) == 2
    assert generator.stem.padding == "valid"  # the picture is reflection-padded instead
    # Fully convolutional: another multiple of 4 works too.
    assert tuple(generator(np.zeros((1, 24, 24, 3), "float32")).shape) == (1, 24, 24, 3)


def test_patchgan_is_unconditional_and_answers_per_patch():
    critic = PatchGAN(resolution=32, width=4, layers=3)
    assert tuple(critic(random_pictures(2, 1).repeat(2, 1).repeat(2, 2)).shape) == (2, 4, 4, 1)


@pytest.mark.parametrize("build, message", [
    (lambda: make_generator("vgg", resolution=SIDE), "generator"),
    (lambda: ResnetGenerator(resolution=18), "multiple of 4"),
    (lambda: PatchGAN(resolution=20, layers=3), "multiple of 8"),
    (lambda: ResnetGenerator(resolution=SIDE, blocks=-1), "blocks"),
])
def test_network_options_are_refused_in_one_line(build, message):
    with pytest.raises(OptionError, match=message) as error:
        build()
    assert "\n" not in str(error.value)


# -- the history pool -------------------------------------------------------------------------


def numbered(first, count):
    """Pictures whose every pixel is their number: ``first``, ``first + 1``, ..."""
    values = np.arange(first, first + count, dtype="float32")
    return tf.constant(np.broadcast_to(values[:, None, None, None], (count, 2, 2, 3)).copy())


def numbers(pictures):
    return np.asarray(pictures)[:, 0, 0, 0].astype(int).tolist()


def test_pool_fills_up_to_its_size_then_returns_old_pictures_half_the_time():
    pool = ImagePool(size=50, seed=3)
    assert numbers(pool(numbered(0, 30))) == list(range(30))  # filling: passed on
    assert numbers(pool(numbered(30, 20))) == list(range(30, 50))
    assert int(pool.count) == 50
    assert sorted(numbers(pool.images)) == list(range(50))
    old, stored = 0, set(range(50))
    for start in range(1000, 1400, 8):
        for offset, value in enumerate(numbers(pool(numbered(start, 8)))):
            if value != start + offset:  # an older picture, which the new one replaces
                old += 1
                assert value in stored
                stored.remove(value)
                stored.add(start + offset)
    assert sorted(numbers(pool.images)) == sorted(stored)
    assert 0.4 < old / 400 < 0.6
    assert int(pool.count) == 50 and int(pool.draws) == 450


def test_pool_is_seeded_and_works_under_tf_function():
    eager, compiled, other = (ImagePool(size=4, seed=seed) for seed in (7, 7, 8))
    call = tf.function(lambda pictures: compiled(pictures))
    runs = {"eager": [], "compiled": [], "other": []}
    for start in range(0, 64, 4):
        batch = numbered(start, 4)
        runs["eager"].append(numbers(eager(batch)))
        runs["compiled"].append(numbers(call(batch)))
        runs["other"].append(numbers(other(batch)))
    assert runs["eager"] == runs["compiled"]
    assert runs["eager"] != runs["other"]
    np.testing.assert_array_equal(eager.images.numpy(), compiled.images.numpy())


def test_pool_of_size_zero_passes_everything_on():
    pool = ImagePool(size=0)
    assert numbers(pool(numbered(5, 3))) == [5, 6, 7]


def test_pool_state_is_in_the_weights_a_checkpoint_stores():
    from progan_tf.training.weights import variable_names

    gan = tiny_gan(pool_size=5)
    assert variable_names(gan.checkpoint_networks()["pool_a"]) == ["images", "count", "draws"]
    assert {"pool_a", "pool_b"} <= set(gan.checkpoint_networks())


# -- the losses -------------------------------------------------------------------------------


class Negate(keras.Model):
    """A stand-in generator: ``-w * x`` with ``w = 1``, so that F(G(a)) == a exactly."""

    resolution = SIDE

    def __init__(self):
        super().__init__()
        self.w = self.add_weight(shape=(), initializer="ones", name="w")

    def call(self, inputs, training=False):
        return -self.w * inputs


def test_cycle_loss_is_zero_when_the_cycle_returns_the_picture_and_identity_switches():
    critics = [PatchGAN(resolution=SIDE, width=4, layers=2) for _ in range(2)]
    a, b = random_pictures(2, 2), random_pictures(2, 3)
    for mu in (0.5, 0.0):
        gan = CycleGAN(Negate(), Negate(), *critics, lambda_identity=mu, pool_size=0)
        gan.compile(run_eagerly=True)  # one step: tracing would cost more than it saves
        logs = gan.train_on_batch(a, b, return_dict=True)
        assert logs["cycle_loss"] == 0.0
        # G(b) = -b, so the identity loss is mu * lambda * mean |b - (-b)| (both directions).
        expected = mu * 10 * (np.abs(2 * b).mean() + np.abs(2 * a).mean())
        assert logs["identity_loss"] == pytest.approx(expected, rel=1e-5)
    gan = tiny_gan()
    assert float(gan.cycle_loss(a, a + 0.1)) == pytest.approx(1.0, rel=1e-4)  # 10 * 0.1
    assert float(gan.identity_loss(a, a + 0.1)) == pytest.approx(0.5, rel=1e-4)  # 5 * 0.1
    assert float(gan.adversarial_loss(tf.ones([2, 4, 4, 1]), real=True)) == 0.0
    assert float(gan.discriminator_loss(tf.ones([1, 2]), tf.ones([1, 2]))) == 0.5


def test_fit_runs_a_few_steps_with_finite_losses_and_the_step_compiles():
    gan = tiny_gan(pool_size=5, total_steps=3)
    gan.compile(run_eagerly=True)  # fit's own tracing costs ~40 s on 2 busy cores
    data = tf.data.Dataset.from_tensor_slices((random_pictures(6, 4), random_pictures(6, 5)))
    history = gan.fit(data.batch(2), epochs=1, verbose=0, shuffle=False)
    logs = {key: values[-1] for key, values in history.history.items()}
    assert set(logs) == {"d_a_loss", "d_b_loss", "g_loss", "f_loss", "cycle_loss",
                         "identity_loss"}
    assert all(np.isfinite(value) for value in logs.values())
    assert int(gan.step_count.numpy()) == 3 and int(gan.images_shown.numpy()) == 6
    assert int(gan.pool_a.count.numpy()) == 5
    assert all(int(opt.iterations.numpy()) == 3 for opt in gan.optimizers.values())
    # The same step traced into one graph (the pools' loops and the four updates).
    gan.compile()
    for seed in (10, 11):
        logs = gan.train_on_batch(random_pictures(2, seed), random_pictures(2, seed + 1),
                                  return_dict=True)
        assert all(np.isfinite(value) for value in logs.values())
    assert int(gan.step_count.numpy()) == 5 and int(gan.pool_b.draws.numpy()) == 10


def test_unet_cyclegan_trains_and_records_its_dropout_noise():
    gan = tiny_gan("unet", pool_size=2)
    gan.compile(run_eagerly=True)
    logs = gan.train_on_batch(random_pictures(2, 6), random_pictures(2, 7), return_dict=True)
    assert all(np.isfinite(value) for value in logs.values())
    state = gan.checkpoint_state()
    assert state["step_count"] == 1 and len(state["dropout_seeds"]) == 6


def test_translations_take_and_give_pictures_in_zero_one():
    gan = tiny_gan()
    pictures = np.random.default_rng(0).uniform(0, 1, (3, SIDE, SIDE, 3))
    for out in (gan.a_to_b(pictures), gan.b_to_a(pictures[0])):
        assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    assert gan.a_to_b(pictures).shape == (3, SIDE, SIDE, 3)
    pairs = np.stack([random_pictures(2, 8), random_pictures(2, 9)], axis=1)
    assert tuple(gan.sample(pairs).shape) == (12, SIDE, SIDE, 3)


# -- the learning rate ------------------------------------------------------------------------


def test_learning_rate_is_constant_then_falls_linearly_to_zero():
    schedule = LinearDecay(1.0, constant_steps=10, decay_steps=4)
    rates = [float(schedule(step)) for step in range(16)]
    assert rates[:11] == [1.0] * 11
    assert rates[11:] == pytest.approx([0.75, 0.5, 0.25, 0.0, 0.0])
    assert LinearDecay.from_config(schedule.get_config()).decay_steps == 4
    gan = tiny_gan(total_steps=8)  # decays over the second half by default
    optimizer = gan.optimizers["generator_ab"]
    rates = []
    for step in (0, 4, 6, 8):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([2e-4, 2e-4, 1e-4, 0.0])
    assert float(tiny_gan().optimizers["discriminator_a"].learning_rate) == pytest.approx(2e-4)


# -- the two domains --------------------------------------------------------------------------


def write_heads(folder, tops, size=(89, 109), start=0):
    """CelebA-sized pictures whose upper half (the hair) has the brightness ``tops[i]``."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for index, top in enumerate(tops):
        picture = np.full((height, width, 3), 128, np.uint8)
        picture[:height // 2] = top
        Image.fromarray(picture).save(folder / f"{start + index:03d}.png")
    return folder


def test_dark_and_fair_tops_go_to_their_sides(tmp_path):
    tops = [10, 15, 20, 25, 30, 35] + [128] * 8 + [220, 225, 230, 235, 240, 245]
    write_heads(tmp_path / "faces", tops)
    split = split_domains(tmp_path / "faces", low=0.3, high=0.7, resolution=32)
    names = lambda files: [os.path.basename(f) for f in files]  # noqa: E731
    assert names(split.a_files) == [f"{i:03d}.png" for i in range(6)]
    assert names(split.b_files) == [f"{i:03d}.png" for i in range(14, 20)]
    assert split.scores.shape == (20, 2)
    assert "6 dark-hair" in split.describe() and "8 left out" in split.describe()


def test_hair_region_lies_above_the_eyes():
    region = hair_region(64)
    rows = np.flatnonzero(region.any(axis=1))
    assert rows.max() < 0.42 * 64  # the eyes of the celeba crop
    assert region[:, 24:40].sum() == 8 * 16  # the middle columns only in the top band
    faces = np.zeros((1, 64, 64, 3), np.uint8)
    faces[0, 40:] = 255  # a bright chin does not count
    assert hair_brightness(faces).tolist() == [0.0]


def test_pictures_of_other_sizes_and_modes_are_loaded_alike(tmp_path):
    from progan_tf.training.data import load_image_folder

    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("L", (40, 50), 30).save(folder / "grey.png")
    Image.new("RGBA", (89, 109), (0, 0, 0, 0)).save(folder / "clear.png")
    Image.new("RGB", (300, 200), (200, 10, 10)).save(folder / "big.jpg")
    images = load_image_folder(folder, SIDE, crop="celeba").images
    assert images.shape == (3, SIDE, SIDE, 3)
    assert images[1].min() == 255  # transparency on white


def test_check_domains_accepts_two_folders(tmp_path):
    a = write_heads(tmp_path / "A", [20] * 3)
    b = write_heads(tmp_path / "B", [230] * 3)
    a_files, b_files = check_domains(a, b, min_images=3)
    assert len(a_files) == len(b_files) == 3


def test_bad_domains_are_refused_in_one_line(tmp_path):
    a = write_heads(tmp_path / "A", [20] * 3)
    b = write_heads(tmp_path / "B", [230] * 2)
    cases = [
        ((a, str(a) + os.sep), "domain A and domain B are the same folder"),
        ((a, tmp_path / "B" / ".." / "A"), "same folder"),
        ((sorted(map(str, a.iterdir())), sorted(map(str, a.iterdir()))[:1]),
         "1 file is in both domains"),
        ((a, b, 3), "domain B has 2 pictures, but CycleGAN needs at least 3 per domain"),
        ((a, b), f"domain A has 3 pictures, but CycleGAN needs at least {MIN_DOMAIN_IMAGES}"),
        ((a, tmp_path / "missing", 1), "does not exist"),
    ]
    for args, message in cases:
        with pytest.raises(DatasetError, match=message) as error:
            check_domains(*args)
        assert "\n" not in str(error.value)


def test_patchgan_is_pix2pixs_discriminator_unconditional_and_saves_as_keras(tmp_path):
    from progan_tf.pix2pix.networks import PatchDiscriminator

    critic = PatchGAN(resolution=SIDE, width=4, layers=2)
    twin = PatchDiscriminator(resolution=SIDE, width=4, max_width=32, layers=2,
                              conditional=False)
    assert isinstance(critic, PatchDiscriminator) and not critic.conditional
    assert [w.shape for w in critic.weights] == [w.shape for w in twin.weights]
    assert PatchDiscriminator(resolution=SIDE, width=4).get_config()["conditional"] is True
    critic.save(tmp_path / "d.keras")
    loaded = keras.models.load_model(tmp_path / "d.keras", compile=False)
    x = random_pictures(2, 3)
    np.testing.assert_allclose(loaded(x), critic(x), atol=1e-6)
