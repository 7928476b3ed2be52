"""Tests for progan_tf.directions and progan_tf.edits: finding directions, turning latents,
measuring edits.

The maths is checked from first principles (angles, norms, a direction planted in synthetic
labels); the claims about the bundled model (its edits become visible within the explorer's
range, at a calibrated angle) on the bundled model itself.
"""

import numpy as np
import pytest

import progan_tf as pt
from progan_tf.directions import (
    direction_from_labels,
    edit_latent,
    named_directions,
    random_directions,
)
from progan_tf.edits import (
    VISIBLE_EFFECT,
    Effect,
    edit_strip,
    edit_strips,
    effect_size,
    show_strips,
    strip_effect,
    visible_angle,
)
from progan_tf.errors import LatentError, OptionError
from progan_tf.explorer import MAX_ANGLE


def _angle(a, b):
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cosine, -1, 1))))


def _one_line(error):
    text = str(error.value)
    assert "\n" not in text, text
    return text


@pytest.fixture(scope="module")
def bundled():
    return pt.load_generator("bundled")


# --------------------------------------------------------------------------------------------
# direction_from_labels
# --------------------------------------------------------------------------------------------


def test_a_direction_planted_in_the_labels_is_found_back():
    rng = np.random.default_rng(0)
    truth = random_directions(1, 128, seed=3)[0]
    latents = rng.standard_normal((800, 128))
    found = direction_from_labels(latents, latents @ truth > 0)
    assert np.isclose(np.linalg.norm(found), 1)
    assert found @ truth > 0.9  # a random direction would score about 0 +- 0.09


def test_the_intercept_absorbs_a_threshold_and_the_norms_do_not_matter():
    rng = np.random.default_rng(1)
    truth = np.eye(64)[5]
    latents = rng.standard_normal((1000, 64))
    unit = latents / np.linalg.norm(latents, axis=1, keepdims=True)
    labels = unit @ truth > 0.1  # not through the origin: only a fit with an intercept is exact
    found = direction_from_labels(latents, labels)
    assert found @ truth > 0.9
    rescaled = latents * rng.uniform(0.1, 10, (1000, 1))  # the generator ignores the length
    assert np.allclose(direction_from_labels(rescaled, labels), found)


def test_labels_may_be_numbers_and_the_direction_points_to_the_true_ones():
    rng = np.random.default_rng(2)
    latents = rng.standard_normal((300, 32))
    labels = latents[:, 0] > 0
    as_bool = direction_from_labels(latents, labels)
    assert as_bool[0] > 0.9
    assert np.allclose(direction_from_labels(latents, labels.astype(int)), as_bool)
    assert np.allclose(direction_from_labels(latents, np.where(labels, 1.0, -1.0)), as_bool)
    assert np.allclose(direction_from_labels(latents, ~labels), -as_bool)


@pytest.mark.parametrize("labels, match", [
    ([True] * 4, "both kinds. Received: 4 of 4 True"),
    ([False] * 4, "Received: 0 of 4 True"),
    ([True, False, True], "Received: labels of shape \\(3,\\)"),
    (["a", "b", "a", "b"], "Received: labels of shape \\(4,\\) and dtype <U1"),
])
def test_bad_labels_are_one_line_option_errors(labels, match):
    with pytest.raises(OptionError, match=match) as error:
        direction_from_labels(np.ones((4, 8)), labels)
    _one_line(error)


def test_a_zero_latent_among_the_labelled_ones_is_refused():
    latents = np.ones((4, 8))
    latents[2] = 0
    with pytest.raises(LatentError, match=r"latents\[2\] is a zero vector.*Received:") as error:
        direction_from_labels(latents, [True, False, True, False])
    _one_line(error)


# --------------------------------------------------------------------------------------------
# random_directions
# --------------------------------------------------------------------------------------------


def test_random_directions_are_unit_seeded_and_apart_from_sample_latents():
    first = random_directions(5, 512, seed=7)
    assert first.shape == (5, 512)
    assert np.allclose(np.linalg.norm(first, axis=1), 1)
    assert np.array_equal(first, random_directions(5, 512, seed=7))
    assert np.array_equal(random_directions(8, 512, seed=7)[:5], first)  # more only appends
    assert not np.allclose(first, random_directions(5, 512, seed=8))
    # A face and a direction drawn with the same seed are unrelated (not the same vector, which
    # a direction could not turn: it would point along the latent).
    face = pt.sample_latents(5, 512, seed=7)
    assert np.abs(pt.cosine_similarity(face, first)).max() < 0.3


@pytest.mark.parametrize("kwargs, match", [
    ({"count": 0}, "Received: count=0"),
    ({"count": 2, "latent_dim": 1.5}, "Received: latent_dim=1.5"),
    ({"count": 2, "seed": -1}, "Received: seed=-1"),
])
def test_random_directions_refuse_bad_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        random_directions(**kwargs)


# --------------------------------------------------------------------------------------------
# edit_latent
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [-60.0, -7.5, 0.0, 12.0, 45.0, 90.0, 135.0])
def test_edit_latent_turns_by_the_angle_and_keeps_the_length(degrees):
    z = pt.sample_latents(1, 512, seed=0)[0]
    n = random_directions(1, 512, seed=0)[0]
    edited = edit_latent(z, n, degrees)
    assert edited.dtype == np.float32
    assert np.isclose(np.linalg.norm(edited), np.linalg.norm(z), rtol=1e-5)
    assert _angle(edited, z) == pytest.approx(abs(degrees), abs=1e-2)
    # It turns in the plane of z and n: towards +n for positive angles, away for negative ones.
    residual = edited - np.linalg.lstsq(np.stack([z, n]).T, edited, rcond=None)[0] @ [z, n]
    assert np.abs(residual).max() < 1e-3
    if 0 < degrees <= 90:
        assert edited @ n > z @ n
    if degrees < 0:
        assert edited @ n < z @ n


def test_edit_latent_with_several_directions_turns_along_their_sum():
    z = np.array([5.0, 0.0, 0.0])
    edited = edit_latent(z, [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]], [30.0, 40.0])
    assert np.isclose(np.linalg.norm(edited), 5)
    assert _angle(edited, z) == pytest.approx(50.0, abs=1e-3)  # sqrt(30² + 40²)
    assert edited[2] / edited[1] == pytest.approx(40 / 30)
    assert np.array_equal(edit_latent(z, [[0, 1.0, 0], [0, 0, 1.0]], [0, 0]), z.astype("f4"))


def test_edit_latent_accepts_one_latent_as_a_batch_of_one():
    z = pt.sample_latents(1, 16, seed=1)
    n = random_directions(1, 16, seed=1)[0]
    assert np.array_equal(edit_latent(z, n, 10), edit_latent(z[0], n, 10))


@pytest.mark.parametrize("latent, direction, angles, error, match", [
    (np.ones(8), np.ones(4), 10, LatentError, "direction has size 4, but the latents have size "
                                              "8.*Received: direction of shape \\(4,\\)"),
    (np.ones(8), np.zeros(8), 10, LatentError, "direction 0 is a zero vector.*Received:"),
    (np.ones(8), 3 * np.ones(8), 10, LatentError, "points along the latent.*Received: cosine"),
    (np.zeros(8), np.eye(8)[0], 10, LatentError, "zero vector.*Received: a latent of norm 0"),
    (np.ones((2, 8)), np.eye(8)[0], 10, LatentError, "Received: latent of shape \\(2, 8\\)"),
    (np.ones(8), np.eye(8)[:2], 10, OptionError, "2 finite number.*Received: angles=10"),
    (np.ones(8), np.eye(8)[0], float("nan"), OptionError, "Received: angles=nan"),
    (np.ones(8), np.eye(8)[0], "ten", OptionError, "Received: angles='ten'"),
    ([1.0, float("inf")], [0.0, 1.0], 5, LatentError, "NaN or inf.*Received: 1 non-finite"),
])
def test_edit_latent_bad_input_is_one_specific_line(latent, direction, angles, error, match):
    with pytest.raises(error, match=match) as raised:
        edit_latent(latent, direction, angles)
    _one_line(raised)


# --------------------------------------------------------------------------------------------
# Measuring: strip_effect, effect_size
# --------------------------------------------------------------------------------------------


def test_strip_effect_measures_the_ends_and_the_furthest_end_from_the_middle():
    strip = np.zeros((5, 4, 4, 3))
    strip[0] = 0.1
    strip[2] = 0.5
    strip[4] = 0.8
    effect = strip_effect(strip)
    assert effect.ends == pytest.approx(0.7 * 255)
    assert effect.from_middle == pytest.approx(0.4 * 255)
    assert strip_effect((strip * 255).round().astype(np.uint8)).ends == pytest.approx(178.5, 0.01)
    assert str(effect) == ("the ends differ by 179/255 per pixel, the end furthest from the "
                           "middle by 102/255") and "by 102/255" in str(effect)


@pytest.mark.parametrize("shape", [(4, 2, 2, 3), (1, 2, 2, 3), (3, 2, 2)])
def test_strip_effect_needs_an_odd_strip(shape):
    with pytest.raises(OptionError, match="odd number.*Received: shape"):
        strip_effect(np.zeros(shape))


def test_effect_size_matches_the_strip_it_describes(stand_in_generator):
    gen = stand_in_generator
    z = pt.sample_latents(1, gen.latent_dim, seed=2)[0]
    n = random_directions(1, gen.latent_dim, seed=2)[0]
    faces = gen(np.stack([edit_latent(z, n, -20), z, edit_latent(z, n, 20)])).numpy()
    expected = strip_effect(faces)
    measured = effect_size(gen, z, n, 20)
    assert isinstance(measured, Effect)
    assert measured.ends == pytest.approx(expected.ends, rel=1e-4)
    assert measured.from_middle == pytest.approx(expected.from_middle, rel=1e-4)


def test_effect_size_is_zero_without_a_turn_and_grows_with_the_angle(stand_in_generator):
    gen = stand_in_generator
    z = pt.sample_latents(3, gen.latent_dim, seed=4)
    n = random_directions(1, gen.latent_dim, seed=4)[0]
    assert effect_size(gen, z, n, 0) == pytest.approx((0.0, 0.0), abs=1e-3)
    sizes = [effect_size(gen, z, n, angle).ends for angle in (5, 20, 60)]
    assert 0 < sizes[0] < sizes[1] < sizes[2]


# --------------------------------------------------------------------------------------------
# Calibrated strength
# --------------------------------------------------------------------------------------------


def test_visible_angle_is_the_smallest_turn_that_reaches_the_effect(stand_in_generator):
    gen = stand_in_generator
    n = random_directions(1, gen.latent_dim, seed=5)[0]
    faces = pt.sample_latents(4, gen.latent_dim, seed=6)
    angle = visible_angle(gen, n, faces, effect=10, tolerance=0.25)
    assert 0 < angle < 90
    assert effect_size(gen, faces, n, angle).ends >= 10
    assert effect_size(gen, faces, n, angle - 0.25).ends < 10


def test_visible_angle_warns_when_no_turn_is_enough():
    def blank(latents):  # a "generator" that always draws the same picture
        return np.zeros((len(latents), 4, 4, 3), np.float32)

    with pytest.warns(UserWarning, match="even a turn of 60°"):
        assert visible_angle(blank, np.eye(8)[0], np.ones((2, 8)), max_angle=60) == 60


def test_visible_angle_calibrates_on_seeded_random_faces_by_default(stand_in_generator):
    gen = stand_in_generator
    n = random_directions(1, gen.latent_dim, seed=5)[0]
    faces = pt.sample_latents(8, gen.latent_dim, seed=3)
    assert visible_angle(gen, n, seed=3, effect=10) == visible_angle(gen, n, faces, effect=10)


@pytest.mark.parametrize("kwargs, match", [
    ({"effect": 0}, "Received: effect=0"),
    ({"max_angle": 200}, "Received: max_angle=200"),
    ({"tolerance": -1}, "Received: tolerance=-1"),
    ({"seed": -2}, "Received: seed=-2"),
])
def test_visible_angle_refuses_bad_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        visible_angle(lambda z: z, np.eye(8)[0], **kwargs)


def _hair_direction(gen, seed=7 + 3, count=48):
    """Notebook 04 section 3's direction: the automatic 'dark hair' proxy on 48 faces."""
    size = gen.image_shape[0]
    latents = pt.sample_latents(count, gen.latent_dim, seed=seed)
    faces = gen(latents).numpy()
    darkness = 1 - faces[:, : size // 5, size // 4: 3 * size // 4].mean(axis=(1, 2, 3))
    return direction_from_labels(latents, np.argsort(np.argsort(darkness)) >= count // 2)


def test_on_the_bundled_model_calibrated_edits_are_visible_on_other_faces(bundled):
    """The issue's complaint: the hair direction's ends differed by 11-16/255 at the default
    strength. Calibrated, the notebook's direction and random ones change faces visibly -- also
    faces the calibration never saw -- at angles within the explorer's sliders' range."""
    others = pt.sample_latents(8, bundled.latent_dim, seed=1234)
    found = {"hair": _hair_direction(bundled),
             **{f"random {i}": d for i, d in enumerate(random_directions(2, 512, seed=0))}}
    for name, direction in found.items():
        angle = visible_angle(bundled, direction)
        assert angle < MAX_ANGLE, (name, angle)
        calibration = pt.sample_latents(8, bundled.latent_dim, seed=0)
        assert effect_size(bundled, calibration, direction, angle).ends >= VISIBLE_EFFECT
        held_out = effect_size(bundled, others, direction, angle)  # measured: 30-34/255
        assert held_out.ends >= 0.8 * VISIBLE_EFFECT, (name, angle, held_out)
        assert held_out.from_middle < held_out.ends  # each end is still the face, edited


def test_edit_strip_by_default_is_visible_on_the_face_it_edits(bundled):
    z = pt.sample_latents(1, bundled.latent_dim, seed=11)[0]
    strip = edit_strip(bundled, z, _hair_direction(bundled), steps=5)
    assert strip.images.shape == (5, *bundled.image_shape) and strip.latents.shape == (5, 512)
    assert strip.effect.ends >= VISIBLE_EFFECT
    assert strip.angles[2] == 0 and strip.angles[4] == -strip.angles[0] > 0
    assert np.allclose(strip.images[2], bundled(z).numpy()[0], atol=1e-5)  # the middle: z itself
    figure = strip.show("hair")
    assert "hair: the ends differ by" in figure.get_suptitle()
    assert [ax.get_title() for ax in figure.axes][2] == "+0°"


def test_edit_strips_are_edit_strip_for_each_direction_in_one_call(stand_in_generator):
    gen = stand_in_generator
    z = pt.sample_latents(1, 512, seed=12)[0]
    found = random_directions(2, 512, seed=12)
    strips = edit_strips(gen, z, found, 30, steps=3)
    for strip, direction in zip(strips, found):
        alone = edit_strip(gen, z, direction, 30, steps=3)
        assert np.array_equal(strip.latents, alone.latents)
        assert np.allclose(strip.images, alone.images, atol=1e-5)
        assert strip.effect.ends == pytest.approx(alone.effect.ends, abs=0.01)
    figure = show_strips(strips, ["a", "b"])
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["-30°", f"a\nends differ {strips[0].effect.ends:.0f}/255", "+30°",
                      "-30°", f"b\nends differ {strips[1].effect.ends:.0f}/255", "+30°"]
    with pytest.raises(OptionError, match="one name per strip \\(2\\). Received: names=\\['a'\\]"):
        show_strips(strips, ["a"])


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 4}, "steps must be odd.*Received: steps=4"),
    ({"steps": 1}, "Received: steps=1"),
    ({"angle": 0}, "Received: angle=0"),
])
def test_edit_strip_refuses_bad_options(stand_in_generator, kwargs, match):
    z = pt.sample_latents(1, 512, seed=0)[0]
    with pytest.raises(OptionError, match=match):
        edit_strip(stand_in_generator, z, random_directions(1, 512)[0], **kwargs)



# --------------------------------------------------------------------------------------------
# named_directions
# --------------------------------------------------------------------------------------------


def test_named_directions_from_a_count_a_dict_or_an_array():
    names, found = named_directions(2, 16, seed=4)
    assert names == ("random 1", "random 2")
    assert np.array_equal(found, random_directions(2, 16, seed=4))
    names, found = named_directions({"hair": np.arange(16.0) + 1}, 16)
    assert names == ("hair",) and np.isclose(np.linalg.norm(found[0]), 1)
    names, found = named_directions(-np.eye(16)[:3], 16)
    assert names == ("direction 1", "direction 2", "direction 3")
    assert np.array_equal(found, -np.eye(16)[:3])


@pytest.mark.parametrize("value, error, match", [
    (21, OptionError, "Received: directions=21$"),
    ({}, OptionError, "Received: directions={}$"),
    (object(), OptionError, "Received: object$"),
    ({"hair": np.ones(3)}, LatentError, r"'hair'.*latent size 16. Received: shape \(3,\)$"),
    ({"hair": "dark"}, LatentError, "'hair'.*Received: str$"),
    ({"hair": np.full(16, np.nan)}, LatentError, "'hair'.*Received: norm nan$"),
    (np.zeros((1, 16)), LatentError, "'direction 1'.*Received: norm 0.0$"),
    (np.ones((2, 2, 16)), LatentError, r"Received: directions of shape \(2, 2, 16\)$"),
])
def test_named_directions_bad_input_is_one_specific_line(value, error, match):
    with pytest.raises(error, match=match) as raised:
        named_directions(value, 16)
    _one_line(raised)


def test_the_notebooks_direction_generalises_on_the_bundled_model(bundled):
    """Notebook 04 section 3 says the position along n should predict the attribute on fresh
    faces ("a positive value means it captured something real"): its own numbers."""
    size = bundled.image_shape[0]
    fresh = pt.sample_latents(500, bundled.latent_dim, seed=7 + 4)  # the notebook's check set
    faces = bundled(fresh).numpy()
    darkness = 1 - faces[:, : size // 5, size // 4: 3 * size // 4].mean(axis=(1, 2, 3))
    correlation = np.corrcoef(fresh @ _hair_direction(bundled), darkness)[0, 1]
    assert correlation > 0.1, correlation
