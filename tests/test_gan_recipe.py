"""The training recipe: the two losses, lazy R1, differentiable augmentation and ADA, widths."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from conftest import TRAIN_ENV as ENV
from conftest import read_csv, tiny_config

from progan_tf.errors import DatasetError
from progan_tf.gan import augment, checkpoint
from progan_tf.gan.model import ProGAN
from progan_tf.gan.networks import ProgressiveDiscriminator, ProgressiveGenerator
from progan_tf.gan.schedule import Phase
from progan_tf.gan.train import TrainConfig, read_run_config, train


def small_model(**options):
    common = {"resolution": 8, "fmap_max": 8, "stage_resolution": 8}
    generator = ProgressiveGenerator(latent_dim=8, **common)
    discriminator = ProgressiveDiscriminator(mbstd_group_size=4, **common)
    model = ProGAN(generator, discriminator, seed=1, **options)
    model.start_phase(Phase(index=0, resolution=8, fading=False, start_images=0,
                            num_images=1000, batch_size=8))
    return model


# -- augmentation ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(augment.OPERATIONS))
def test_every_augmentation_passes_gradients_to_the_images(name):
    images = tf.Variable(tf.random.uniform([4, 8, 8, 3], -1, 1, seed=0))
    rng = tf.random.Generator.from_seed(0)
    with tf.GradientTape() as tape:
        out = augment.OPERATIONS[name](images, rng)
        total = tf.reduce_sum(out * tf.random.stateless_normal(out.shape, [1, 2]))
    grads = tape.gradient(total, images)
    assert out.shape == images.shape
    assert grads is not None and float(tf.reduce_sum(tf.abs(grads))) > 0


def test_translation_moves_the_image_and_fills_with_zeros():
    image = np.zeros([1, 8, 8, 1], np.float32)
    image[0, 3, 4] = 1.0
    rng = tf.random.Generator.from_seed(5)
    positions = set()
    for _ in range(30):
        moved = translation_of(image, rng)
        assert moved.sum() in (0.0, 1.0)  # moved, or moved off the edge: never smeared
        if moved.sum():
            positions.add(tuple(np.argwhere(moved[0, ..., 0])[0]))
    assert len(positions) > 3
    assert all(abs(y - 3) <= 1 and abs(x - 4) <= 1 for y, x in positions)  # 1/8 of 8 px


def translation_of(image, rng):
    return augment.translation(tf.constant(image), rng).numpy()


def test_cutout_zeroes_a_square_of_half_the_size():
    rng = tf.random.Generator.from_seed(0)
    cut = augment.cutout(tf.ones([64, 16, 16, 1]), rng).numpy()
    zeros = (cut == 0).sum(axis=(1, 2, 3))
    assert zeros.max() == 64 and zeros.min() > 0  # 8x8 inside, clipped at the edges
    for mask in cut[..., 0] == 0:
        rows, cols = np.nonzero(mask)
        assert mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # a rectangle


def test_probability_zero_leaves_images_alone_and_one_changes_every_image():
    images = tf.random.uniform([16, 8, 8, 3], -1, 1, seed=1)
    rng = tf.random.Generator.from_seed(0)
    same = augment.augment(images, ["color", "translation", "cutout"], rng, probability=0.0)
    assert np.array_equal(same.numpy(), images.numpy())
    changed = augment.augment(images, ["color"], rng, probability=1.0)
    assert (np.abs(changed.numpy() - images.numpy()).max(axis=(1, 2, 3)) > 0).all()


def test_ada_probability_rises_when_d_is_sure_and_falls_when_it_is_not():
    p = augment.update_probability(0.5, sign_mean=1.0, target=0.6, images=64, ada_kimg=1)
    assert float(p) == pytest.approx(0.564)
    p = augment.update_probability(0.5, sign_mean=0.2, target=0.6, images=64, ada_kimg=1)
    assert float(p) == pytest.approx(0.436)
    assert float(augment.update_probability(0.99, 1.0, 0.6, images=64, ada_kimg=1)) == 1.0


# -- the losses -----------------------------------------------------------------------------


def test_lazy_r1_is_added_on_due_steps_only_and_its_gradient_reaches_d():
    model = small_model(loss="ns-r1", r1_gamma=2.0, r1_interval=4)
    real = tf.random.uniform([8, 8, 8, 3], -1, 1, seed=2)
    fake = tf.random.uniform([8, 8, 8, 3], -1, 1, seed=3)
    variables = model.discriminator.stage_variables(False)

    @tf.function
    def loss_and_grads():
        with tf.GradientTape() as tape:
            parts = model.discriminator_loss(real, fake)
        return parts, tape.gradient(parts["d_loss"], variables)

    due_parts, due_grads = loss_and_grads()  # ema_updates = 0: R1 is due
    model.ema_updates.assign(1)
    free_parts, free_grads = loss_and_grads()
    # Without R1, the loss is the logistic loss; with it, plus interval * gamma / 2 * R1.
    r1 = float(model.r1_penalty(real))
    assert float(free_parts["gradient_penalty"]) == 0.0 and r1 > 0
    assert float(due_parts["gradient_penalty"]) == pytest.approx(r1, rel=1e-4)
    assert float(due_parts["d_loss"] - free_parts["d_loss"]) == pytest.approx(4 * 1.0 * r1,
                                                                              rel=1e-4)
    # The R1 term's gradient (through tf.cond and the inner tape) is what a direct one gives.
    with tf.GradientTape() as tape:
        direct = 4 * 1.0 * model.r1_penalty(real)
    expected = tape.gradient(direct, variables)
    assert any(want is not None for want in expected)
    for due, free, want in zip(due_grads, free_grads, expected):
        want = np.zeros(due.shape) if want is None else want.numpy()  # e.g. the last bias
        np.testing.assert_allclose((due - free).numpy(), want, rtol=1e-3, atol=1e-5)


def test_scoring_reals_and_fakes_together_gives_the_scores_of_two_calls():
    real = tf.random.uniform([8, 8, 8, 3], -1, 1, seed=4)
    fake = tf.random.uniform([8, 8, 8, 3], -1, 1, seed=5)
    apart_model = small_model()
    apart = apart_model.score(real, fake)
    together_model = small_model(score_together=True)
    together_model.discriminator.set_weights(apart_model.discriminator.get_weights())
    together = together_model.score(real, fake)
    for a, b in zip(apart, together):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # A batch the groups do not divide falls back to two calls.
    odd = together_model.score(real[:6], fake[:6])
    assert odd[0].shape == (6, 1) and odd[1].shape == (6, 1)


def test_ada_moves_p_every_interval_from_the_sign_of_d_on_reals():
    model = small_model(loss="ns-r1", augment="ada", ada_kimg=0.1, ada_interval=2)
    sure = tf.ones([8, 1])  # every real scored positive: r_t = 1 > 0.6
    model.update_augment_probability(sure)
    assert float(model.augment_p) == 0.0 and float(model.ada_images) == 8  # not yet due
    model.ema_updates.assign_add(1)
    model.update_augment_probability(sure)
    assert float(model.augment_p) == pytest.approx(16 / 100) and float(model.ada_images) == 0
    model.ema_updates.assign_add(1)
    model.update_augment_probability(-sure)
    model.ema_updates.assign_add(1)
    model.update_augment_probability(-sure)
    assert float(model.augment_p) == pytest.approx(0.0, abs=1e-7)
    # The probability and its running statistic are part of a checkpoint's state.
    model.augment_p.assign(0.3)
    model.ada_images.assign(8.0)
    other = small_model(loss="ns-r1", augment="ada")
    other.restore_checkpoint_state(model.checkpoint_state())
    assert float(other.augment_p) == pytest.approx(0.3) and float(other.ada_images) == 8.0


@pytest.mark.parametrize("loss, augmentation", [("ns-r1", "ada"), ("wgan-gp", "diffaugment")])
def test_a_run_trains_and_resumes_with_each_recipe(faces, tmp_path, loss, augmentation):
    config = tiny_config(faces, tmp_path / "run", loss=loss, augment=augmentation,
                         r1_interval=2, ada_kimg=0.05, kimg_per_phase=0.032)
    run = train(config, progress=False, stop_after_images=32)
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert 0 <= state["augment_p"] <= 1
    run = train(config, resume=True, progress=False)
    final = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert final["images_shown"] >= config.schedule().total_images
    losses = read_csv(run / "losses.csv")
    assert losses and np.isfinite([float(row["d_loss"]) for row in losses]).all()


# -- options --------------------------------------------------------------------------------


def test_runs_from_before_the_recipe_options_resume_with_the_recipe_they_trained_with(tmp_path):
    stored = json.loads(TrainConfig("faces", "run").to_json())
    for name in ("loss", "augment", "fmap_decay", "r1_gamma"):
        stored.pop(name)
    (tmp_path / "run.json").write_text(json.dumps(stored))
    config = read_run_config(tmp_path)
    assert (config.loss, config.augment, config.fmap_decay) == ("wgan-gp", "none", 1.0)


@pytest.mark.parametrize("option, message", [
    ({"loss": "hinge"}, "loss must be one of"),
    ({"augment": "always"}, "augment must be one of"),
    ({"augment_policy": "color,zoom"}, "augment_policy must name some of"),
    ({"augment_policy": " , "}, "augment_policy must name some of"),
    ({"ada_target": 1.0}, "ada_target must be a number above 0 and below 1"),
    ({"ada_kimg": 0}, "ada_kimg must be"),
    ({"r1_interval": 0}, "r1_interval must be a whole number >= 1"),
    ({"r1_gamma": -1.0}, "r1_gamma must be"),
    ({"fmap_decay": -0.5}, "fmap_decay must be"),
])
def test_bad_recipe_options_are_refused_with_their_name(option, message):
    with pytest.raises(DatasetError, match=message):
        TrainConfig("faces", "run", **option).validate()


def test_cli_refuses_a_bad_policy_in_one_line_and_leaves_no_run(faces, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "progan_tf.cli", "train", str(faces), "--out",
         str(tmp_path / "run"), "--augment", "ada", "--augment-policy", "color,zoom"],
        capture_output=True, text=True, timeout=120, env=ENV)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("progan-tf: error:") and "augment_policy" in last
    assert not (tmp_path / "run").exists()


def test_fmap_decay_sets_widths_per_stage():
    paper = ProgressiveGenerator(resolution=16, latent_dim=8, fmap_base=64, fmap_max=32)
    assert [paper.width(stage) for stage in range(1, 5)] == [32, 16, 8, 4]
    slower = ProgressiveGenerator(resolution=16, latent_dim=8, fmap_base=64, fmap_max=32,
                                  fmap_decay=0.5)
    assert [slower.width(stage) for stage in range(1, 5)] == [32, 32, 22, 16]
    assert slower.get_config()["fmap_decay"] == 0.5
    assert ProgressiveGenerator.from_config(slower.get_config()).width(3) == 22


def test_the_progress_text_shows_adas_probability_once_it_is_above_zero():
    from progan_tf.gan.family import PROGAN

    phase = Phase(index=0, resolution=8, fading=False, start_images=0, num_images=1000,
                  batch_size=8)
    logs = {"alpha": 1.0, "d_loss": 0.1, "g_loss": 0.2, "augment_p": 0.0}
    assert PROGAN.describe_step(phase, logs) == "8x8 stable alpha=1.00 d=0.100 g=0.200"
    assert PROGAN.describe_step(phase, {**logs, "augment_p": 0.125}).endswith(" p=0.12")



def test_progan_and_the_style_based_gan_share_one_recipe():
    """One copy of the losses and the checkpointed state, checked alike for both families."""
    from progan_tf.gan.recipe import AdversarialRecipe
    from progan_tf.stylegan.model import StyleGAN

    for family in (ProGAN, StyleGAN):
        assert issubclass(family, AdversarialRecipe)
        for piece in ("discriminator_loss", "generator_loss", "gradient_penalty", "r1_penalty",
                      "checkpoint_state", "restore_checkpoint_state"):
            assert getattr(family, piece) is getattr(AdversarialRecipe, piece)
    with pytest.raises(ValueError, match=r"Received: ema_beta=1.5"):
        small_model(ema_beta=1.5)  # ProGAN once took any number here; StyleGAN refused it
    model = small_model(loss="ns-r1", augment="ada")
    state = model.checkpoint_state()
    assert (model.loss, model.augment, state["ema_updates"]) == ("ns-r1", "ada", 0)
