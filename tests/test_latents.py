"""Tests for progan_tf.latents: sampling, the four ways to walk between latents, and their edges.

Every property is checked from first principles (norms, angles, spans, a literal copy of the
TF Hub tutorial), never by re-running the code under test.
"""

import numpy as np
import pytest

from progan_tf import interpolation, latents
from progan_tf.constants import INTERPOLATION_METHODS
from progan_tf.errors import LatentError
from progan_tf.latents import (
    METHODS,
    as_latent_batch,
    as_latents,
    cosine_similarity,
    interpolate,
    interpolate_hypersphere,
    latent_norms,
    lerp,
    loop,
    sample_latents,
    slerp,
    walk,
)

SPHERICAL = ("hypersphere", "slerp")


def tutorial_interpolate_hypersphere(v1, v2, num_steps):
    """Literal copy of the TF Hub progan-128 tutorial's function (TensorFlow ops)."""
    import tensorflow as tf

    v1_norm = tf.norm(v1)
    v2_norm = tf.norm(v2)
    v2_normalized = v2 * (v1_norm / v2_norm)

    vectors = []
    for step in range(num_steps):
        interpolated = v1 + (v2_normalized - v1) * step / (num_steps - 1)
        interpolated_norm = tf.norm(interpolated)
        interpolated_normalized = interpolated * (v1_norm / interpolated_norm)
        vectors.append(interpolated_normalized)
    return tf.stack(vectors)


def random_pair(dim, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(dim).astype(np.float32), rng.standard_normal(dim).astype(np.float32)


def angle_between(a, b):
    """Angle in radians between rows of ``a`` and ``b``, accurate at 0 and pi (float64)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return 2 * np.arctan2(np.linalg.norm(a - b, axis=-1), np.linalg.norm(a + b, axis=-1))


def distance_to_plane(points, v1, v2):
    """How far each point is from span(v1, v2) (the great circle's plane)."""
    basis, _ = np.linalg.qr(np.stack([v1, v2], axis=1).astype(np.float64))
    points = np.asarray(points, np.float64)
    return np.linalg.norm(points - points @ basis @ basis.T, axis=-1)


# --------------------------------------------------------------------------------------------
# sample_latents
# --------------------------------------------------------------------------------------------


def test_sample_latents_shape_dtype_and_distribution():
    z = sample_latents(64, seed=3)
    assert z.shape == (64, 512) and z.dtype == np.float32
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    # In 512-D almost every sample sits near the sphere of radius sqrt(512).
    assert np.all(np.abs(np.linalg.norm(z, axis=1) / np.sqrt(512) - 1) < 0.15)


def test_sample_latents_is_reproducible_and_prefix_stable():
    np.testing.assert_array_equal(sample_latents(5, 7, seed=11), sample_latents(5, 7, seed=11))
    assert not np.array_equal(sample_latents(5, 7, seed=11), sample_latents(5, 7, seed=12))
    np.testing.assert_array_equal(sample_latents(8, seed=7)[:4], sample_latents(4, seed=7))
    assert sample_latents(3, latent_dim=128, seed=0).shape == (3, 128)


def test_sample_latents_uses_default_rng_and_accepts_a_generator():
    expected = np.random.default_rng(5).standard_normal((2, 7)).astype(np.float32)
    np.testing.assert_array_equal(sample_latents(2, 7, seed=5), expected)
    np.testing.assert_array_equal(sample_latents(2, 7, seed=np.random.default_rng(5)), expected)
    assert not np.array_equal(sample_latents(2, 7), sample_latents(2, 7))  # fresh entropy


@pytest.mark.parametrize("kwargs, fragment", [
    ({"n": 0}, "n must be a whole number >= 1. Received: n=0"),
    ({"n": -3}, "n must be a whole number >= 1. Received: n=-3"),
    ({"n": 2.5}, "n must be a whole number >= 1. Received: n=2.5"),
    ({"n": True}, "n must be a whole number >= 1. Received: n=True"),
    ({"n": 2, "latent_dim": 0}, "latent_dim must be a whole number >= 1. Received: latent_dim=0"),
    ({"n": 2, "latent_dim": -512}, "Received: latent_dim=-512"),
    ({"n": 2, "seed": -1}, "seed=-1 is not a valid random seed"),
    ({"n": 2, "seed": "abc"}, "seed='abc'"),
])
def test_sample_latents_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(LatentError, match=fragment):
        sample_latents(**kwargs)


# --------------------------------------------------------------------------------------------
# interpolate_hypersphere: the tutorial, exactly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [512, 7])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("num_steps", [2, 5, 12])
def test_hypersphere_matches_the_tf_hub_tutorial(dim, seed, num_steps):
    import tensorflow as tf

    v1, v2 = random_pair(dim, seed)
    v2 = v2 * (seed + 0.5)  # different norms, so the rescaling of v2 matters
    reference = tutorial_interpolate_hypersphere(
        tf.constant(v1, tf.float64), tf.constant(v2, tf.float64), num_steps).numpy()
    ours = interpolate_hypersphere(v1, v2, num_steps)
    assert ours.shape == (num_steps, dim) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    # ... and with the tutorial's own float32 arithmetic, to float32 accuracy.
    reference32 = tutorial_interpolate_hypersphere(tf.constant(v1), tf.constant(v2), num_steps)
    np.testing.assert_allclose(ours, reference32.numpy(), rtol=0, atol=2e-5)


def test_hypersphere_accepts_tensors():
    import tensorflow as tf

    v1, v2 = random_pair(512, 4)
    from_tensors = interpolate_hypersphere(tf.constant(v1), tf.constant(v2), 6)
    assert isinstance(from_tensors, np.ndarray) and from_tensors.dtype == np.float32
    np.testing.assert_array_equal(from_tensors, interpolate_hypersphere(v1, v2, 6))
    half = lerp(tf.constant([1.0, 2.0], tf.bfloat16), tf.constant([3.0, 4.0], tf.float16), 3)
    assert half.dtype == np.float32 and half.tolist() == [[1, 2], [2, 3], [3, 4]]


@pytest.mark.parametrize("dim", [512, 128, 7])
def test_hypersphere_path_stays_on_the_sphere_of_v1(dim):
    v1, v2 = random_pair(dim, 5)
    v2 = 3 * v2
    path = interpolate_hypersphere(v1, v2, 9)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(v1), rtol=1e-6)
    np.testing.assert_array_equal(path[0], v1)
    assert angle_between(path[-1], v2) < 1e-6  # ends in v2's direction, at v1's norm
    assert np.all(distance_to_plane(path, v1, v2) < 1e-4)  # on the great circle
    assert np.all(np.diff(angle_between(path, v1)) > 0)  # moving steadily away from v1


def test_hypersphere_with_num_steps_1_returns_v1_where_the_tutorial_divides_by_zero():
    import tensorflow as tf

    v1, v2 = random_pair(7, 6)
    tutorial = tutorial_interpolate_hypersphere(tf.constant(v1), tf.constant(v2), 1).numpy()
    assert not np.isfinite(tutorial).all()
    np.testing.assert_array_equal(interpolate_hypersphere(v1, v2, 1), v1[None])


# --------------------------------------------------------------------------------------------
# slerp and lerp: their defining properties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [512, 128, 7, 2])
@pytest.mark.parametrize("num_steps", [3, 10, 31])
def test_slerp_has_constant_angular_speed_linear_norm_and_exact_ends(dim, num_steps):
    v1, v2 = random_pair(dim, dim + num_steps)
    v2 = 1.7 * v2
    path = slerp(v1, v2, num_steps)
    assert path.shape == (num_steps, dim) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], v1)
    np.testing.assert_allclose(path[-1], v2, rtol=0, atol=1e-6)
    steps = angle_between(path[:-1], path[1:])
    np.testing.assert_allclose(steps, angle_between(v1, v2) / (num_steps - 1), rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        np.linalg.norm(path, axis=1),
        np.linspace(np.linalg.norm(v1), np.linalg.norm(v2), num_steps), rtol=1e-6)
    assert np.all(distance_to_plane(path, v1, v2) < 1e-4)


def test_slerp_by_hand_in_two_dimensions():
    path = slerp([1.0, 0.0], [0.0, 2.0], 5)
    angles = np.radians([0.0, 22.5, 45.0, 67.5, 90.0])
    radii = np.array([1.0, 1.25, 1.5, 1.75, 2.0])
    expected = radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    np.testing.assert_allclose(path, expected, atol=1e-6)


def test_lerp_is_a_straight_line_with_exact_ends():
    v1, v2 = random_pair(512, 8)
    path = lerp(v1, v2, 11)
    np.testing.assert_array_equal(path[0], v1)
    np.testing.assert_array_equal(path[-1], v2)
    np.testing.assert_allclose(path[5], (v1.astype(np.float64) + v2) / 2, atol=1e-6)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((v2 - v1) / 10, (10, 1)), atol=1e-5)
    assert lerp([0, 0], [2, 4], 3).tolist() == [[0, 0], [1, 2], [2, 4]]  # ints work too


def test_lerp_sags_in_the_middle_while_the_spherical_paths_do_not():
    v1, v2 = sample_latents(2, seed=9)
    ends = min(np.linalg.norm(v1), np.linalg.norm(v2))
    assert latent_norms(lerp(v1, v2, 11))[5] < 0.8 * ends
    assert latent_norms(interpolate_hypersphere(v1, v2, 11)).min() > 0.99 * ends
    assert latent_norms(slerp(v1, v2, 11)).min() > 0.99 * ends


def test_interpolate_dispatches_and_lists_the_methods_on_a_typo():
    v1, v2 = random_pair(7, 10)
    for method, function in zip(METHODS, (interpolate_hypersphere, slerp, lerp)):
        np.testing.assert_array_equal(interpolate(v1, v2, 6, method=method), function(v1, v2, 6))
    np.testing.assert_array_equal(interpolate(v1, v2, 6), interpolate_hypersphere(v1, v2, 6))
    with pytest.raises(LatentError, match="one of 'hypersphere', 'slerp', 'lerp'. "
                                        "Received: method='slurp'"):
        interpolate(v1, v2, 6, method="slurp")


# --------------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_zero_and_one_steps(method):
    v1, v2 = random_pair(7, 11)
    empty = interpolate(v1, v2, 0, method=method)
    assert empty.shape == (0, 7) and empty.dtype == np.float32
    np.testing.assert_array_equal(interpolate(v1, v2, 1, method=method), v1[None])
    np.testing.assert_array_equal(interpolate(v1, v2, np.int64(2), method=method)[0], v1)
    batch = np.stack([v1, v2])
    assert interpolate(batch, batch[::-1], 0, method=method).shape == (2, 0, 7)


@pytest.mark.parametrize("num_steps, fragment", [
    (-1, "num_steps must be a whole number >= 0. Received: num_steps=-1"),
    (2.5, "whole number >= 0. Received: num_steps=2.5"),
    (3.0, "whole number >= 0. Received: num_steps=3.0"),
    ("10", "whole number >= 0. Received: num_steps='10'"),
    (None, "Received: num_steps=None"),
    (True, "whole number >= 0. Received: num_steps=True"),
])
def test_bad_num_steps(num_steps, fragment):
    v1, v2 = random_pair(7, 12)
    with pytest.raises(LatentError, match=fragment):
        interpolate(v1, v2, num_steps)


@pytest.mark.parametrize("method", SPHERICAL)
def test_zero_vectors_have_no_direction(method):
    v = random_pair(7, 13)[0]
    for v1, v2, name in ((np.zeros(7), v, "v1"), (v, np.zeros(7), "v2")):
        with pytest.raises(LatentError, match=f"{name} is a zero vector.*method='lerp'"):
            interpolate(v1, v2, 5, method=method)
    np.testing.assert_allclose(lerp(np.zeros(7), v, 3)[1], v / 2, atol=1e-7)  # lerp is fine


@pytest.mark.parametrize("method", METHODS)
def test_identical_vectors_give_a_constant_path(method):
    v = random_pair(512, 14)[0]
    np.testing.assert_array_equal(interpolate(v, v, 7, method=method), np.tile(v, (7, 1)))


def test_parallel_vectors():
    v = random_pair(128, 15)[0]
    np.testing.assert_allclose(slerp(v, 3 * v, 5), lerp(v, 3 * v, 5), rtol=1e-6)
    np.testing.assert_allclose(interpolate_hypersphere(v, 3 * v, 5), np.tile(v, (5, 1)), rtol=1e-6)
    # Nearly parallel: still finite, still (to float32) the straight line.
    nudge = np.zeros(128, np.float32)
    nudge[0] = 1e-6
    path = slerp(v, v + nudge, 4)
    assert np.isfinite(path).all()
    np.testing.assert_allclose(path, lerp(v, v + nudge, 4), atol=1e-6)


@pytest.mark.parametrize("dim", [512, 7, 2])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_slerp_between_antipodal_vectors_picks_a_deterministic_arc(dim, scale):
    v = random_pair(dim, 16)[0]
    path = slerp(v, -scale * v, 9)
    assert np.isfinite(path).all()
    np.testing.assert_array_equal(path[0], v)
    np.testing.assert_allclose(path[-1], -scale * v, atol=1e-6)
    norms = np.linalg.norm(path, axis=1)
    np.testing.assert_allclose(norms, np.linspace(1, scale, 9) * np.linalg.norm(v), rtol=1e-6)
    assert norms.min() > 0.9 * np.linalg.norm(v)  # never near zero
    np.testing.assert_allclose(angle_between(path[:-1], path[1:]), np.pi / 8, atol=1e-5)
    # Deterministic: halfway it points along the axis where |v| is smallest, made orthogonal to v.
    v64 = v.astype(np.float64)
    axis = np.eye(dim)[np.argmin(np.abs(v))]
    middle = axis - (axis @ v64) / (v64 @ v64) * v64
    assert angle_between(path[4], middle) < 1e-6
    assert abs(cosine_similarity(path[4], v)) < 1e-6
    np.testing.assert_array_equal(slerp(v, -scale * v, 9), path)


def test_slerp_between_nearly_antipodal_vectors_follows_their_own_plane():
    v1, other = random_pair(64, 17)
    v2 = -v1 + 1e-3 * other
    path = slerp(v1, v2, 9)
    np.testing.assert_allclose(path[-1], v2, atol=1e-6)
    np.testing.assert_allclose(angle_between(path[:-1], path[1:]),
                               angle_between(v1, v2) / 8, atol=1e-5)
    assert np.all(distance_to_plane(path, v1, v2) < 1e-4)


def test_antipodal_vectors_are_an_error_for_hypersphere_but_fine_for_lerp():
    v = random_pair(7, 18)[0]
    with pytest.raises(LatentError, match="v1 and v2 point in opposite directions.*'slerp'"):
        interpolate_hypersphere(v, -2 * v, 5)
    np.testing.assert_allclose(lerp(v, -v, 5)[2], 0, atol=1e-7)


def test_one_dimensional_latents():
    np.testing.assert_allclose(slerp([2.0], [4.0], 3), [[2.0], [3.0], [4.0]])
    np.testing.assert_allclose(interpolate_hypersphere([2.0], [4.0], 3), [[2.0]] * 3)
    with pytest.raises(LatentError, match="opposite directions in 1 dimension.*'lerp'"):
        slerp([2.0], [-4.0], 3)


@pytest.mark.parametrize("method", METHODS)
def test_batched_pairs_equal_one_pair_at_a_time(method):
    rng = np.random.default_rng(19)
    v1 = rng.standard_normal((5, 16)).astype(np.float32)
    v2 = rng.standard_normal((5, 16)).astype(np.float32)
    v2[1] = v1[1]  # identical pair
    v2[2] = 2 * v1[2]  # parallel pair
    if method != "hypersphere":
        v2[3] = -v1[3]  # antipodal pair
    batched = interpolate(v1, v2, 6, method=method)
    assert batched.shape == (5, 6, 16)
    for i in range(5):
        np.testing.assert_allclose(batched[i], interpolate(v1[i], v2[i], 6, method=method),
                                   rtol=0, atol=1e-7)


@pytest.mark.parametrize("method", SPHERICAL)
def test_batched_errors_name_the_row(method):
    v1, v2 = np.ones((3, 4)), np.ones((3, 4))
    v2[2] = 0
    with pytest.raises(LatentError, match=r"v2\[2\] is a zero vector"):
        interpolate(v1, v2, 4, method=method)


@pytest.mark.parametrize("v1, v2, fragment", [
    (np.ones(7), np.ones(8), r"v1 has shape \[7\] but v2 has shape \[8\]"),
    (np.ones((2, 7)), np.ones(7), r"v1 has shape \[2, 7\] but v2 has shape \[7\]"),
    (np.ones((2, 3, 7)), np.ones((2, 3, 7)), r"v1 has shape \[2, 3, 7\]; pass one latent"),
    (1.0, 2.0, r"v1 has shape \[\]"),
    (np.ones(0), np.ones(0), r"v1 has shape \[0\]"),
    (np.ones((0, 7)), np.ones((0, 7)), r"v1 has shape \[0, 7\]"),
    ([1.0, np.nan], [1.0, 2.0], "v1 contains NaN or inf"),
    ([1.0, 2.0], [np.inf, 2.0], "v2 contains NaN or inf"),
    ([1e300, 2.0], [1.0, 2.0], "too large for float32"),
    (["a", "b"], [1.0, 2.0], "v1 has dtype <U1"),
    ([1 + 2j, 0], [1.0, 2.0], "v1 has dtype complex128"),
    ([[1.0, 2.0], [3.0]], [1.0, 2.0], "v1 could not be read as an array"),
    ([True, False], [1.0, 2.0], "v1 has dtype bool"),
])
def test_bad_latents(v1, v2, fragment):
    for method in METHODS:
        with pytest.raises(LatentError, match=fragment):
            interpolate(v1, v2, 3, method=method)


# --------------------------------------------------------------------------------------------
# walk and loop
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_open_walk_visits_every_keyframe_once(method):
    keys = sample_latents(4, 32, seed=20)
    path = walk(keys, 6, method=method)
    assert path.shape == (3 * 5 + 1, 32) and path.dtype == np.float32
    for i in range(3):
        segment = interpolate(path[5 * i], keys[i + 1], 6, method=method)
        np.testing.assert_allclose(path[5 * i: 5 * i + 6], segment, atol=1e-6)
    assert np.all(np.linalg.norm(np.diff(path, axis=0), axis=1) > 0)  # no repeated frame
    np.testing.assert_array_equal(walk(keys[:2], 6, method=method),
                                  interpolate(keys[0], keys[1], 6, method=method))


@pytest.mark.parametrize("method", ("slerp", "lerp"))
def test_slerp_and_lerp_walks_pass_through_the_keyframes_exactly(method):
    keys = sample_latents(4, 32, seed=21)
    path = walk(keys, 7, method=method)
    np.testing.assert_allclose(path[::6], keys, atol=1e-6)


def test_hypersphere_walk_stays_on_one_sphere_without_jumps():
    keys = sample_latents(4, 512, seed=22) * np.array([[1.0], [2.0], [0.5], [3.0]], np.float32)
    path = walk(keys, 8, method="hypersphere", loop=True)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(keys[0]), rtol=1e-6)
    np.testing.assert_allclose(angle_between(path[::7], keys), 0, atol=1e-6)  # keyframe directions
    closed = np.concatenate([path, path[:1]])
    steps = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    assert steps.max() < 2 * steps.min()  # no jump anywhere, including back to the start


@pytest.mark.parametrize("method", METHODS)
def test_looping_walk_is_seamless(method):
    keys = sample_latents(3, 16, seed=23)
    path = walk(keys, 5, method=method, loop=True)
    assert path.shape == (3 * 4, 16)
    assert not np.allclose(path[-1], path[0])  # the first frame is not repeated at the end
    # Playing path[-4:] and then path[0] again is exactly the last segment, back to keys[0].
    closing = np.concatenate([path[-4:], path[:1]])
    np.testing.assert_allclose(closing, interpolate(path[-4], path[0], 5, method=method),
                               atol=1e-6)
    if method != "hypersphere":
        np.testing.assert_allclose(path[[0, 4, 8]], keys, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_loop_goes_there_and_back_seamlessly(method):
    v1, v2 = sample_latents(2, 64, seed=24)
    path = loop(v1, v2, 6, method=method)
    assert path.shape == (10, 64)
    np.testing.assert_array_equal(path[:6], interpolate(v1, v2, 6, method=method))
    np.testing.assert_allclose(path[6:], path[4:0:-1], atol=1e-6)  # same way back ...
    assert not np.allclose(path[-1], path[0])  # ... stopping one frame before v1
    np.testing.assert_allclose(path[-1], path[1], atol=1e-6)


@pytest.mark.parametrize("call, fragment", [
    (lambda k: walk(k[:1], 5), r"keyframes has shape \[1, 8\]; walk needs at least 2"),
    (lambda k: walk(k[0], 5), r"keyframes has shape \[8\]"),
    (lambda k: walk(k, 1), "whole number >= 2. Received: steps_per_segment=1"),
    (lambda k: walk(k, 4.5), "whole number >= 2. Received: steps_per_segment=4.5"),
    (lambda k: walk(k, 5, method="cubic"), "method must be one of .*Received: method='cubic'"),
    (lambda k: walk(np.stack([k[0], k[1], -k[1]]), 5),
     r"keyframes\[1\] and keyframes\[2\] point in opposite directions"),
    (lambda k: walk(np.stack([k[0], k[1], 0 * k[1]]), 5, method="hypersphere"),
     r"keyframes\[2\] is a zero vector"),
    (lambda k: walk(np.stack([k[0], 0 * k[1]]), 5, method="slerp"),
     r"keyframes\[1\] is a zero vector"),
    (lambda k: walk(np.stack([k[0], np.full(8, np.nan)]), 5), "keyframes contains NaN"),
    (lambda k: loop(k, k, 5), r"loop takes two single latents \[D\]"),
    (lambda k: loop(k[0], k[0, :4], 5), r"v1 has shape \[8\] but v2 has shape \[4\]"),
    (lambda k: loop(k[0], k[1], 1), "whole number >= 2. Received: num_steps=1"),
])
def test_bad_walks(call, fragment):
    keys = sample_latents(3, 8, seed=25)
    with pytest.raises(LatentError, match=fragment):
        call(keys)


def test_lerp_walk_through_a_zero_keyframe_and_a_list_of_tensors():
    import tensorflow as tf

    keys = [tf.constant([1.0, 0.0]), tf.constant([0.0, 0.0]), tf.constant([0.0, 2.0])]
    np.testing.assert_allclose(walk(keys, 3, method="lerp"),
                               [[1, 0], [0.5, 0], [0, 0], [0, 1], [0, 2]])


# --------------------------------------------------------------------------------------------
# Diagnostics
# --------------------------------------------------------------------------------------------


def test_latent_norms():
    assert latent_norms([3.0, 4.0]) == pytest.approx(5.0)
    norms = latent_norms(np.array([[[3, 4], [6, 8]], [[0, 1], [5, 12]]]))
    assert norms.shape == (2, 2) and norms.dtype == np.float32
    np.testing.assert_allclose(norms, [[5, 10], [1, 13]])
    with pytest.raises(LatentError, match="path is a scalar"):
        latent_norms(3.0)
    with pytest.raises(LatentError, match="path has dtype <U"):
        latent_norms(["x"])


def test_cosine_similarity():
    assert cosine_similarity([1.0, 0.0], [1.0, 1.0]) == pytest.approx(np.sqrt(0.5))
    assert cosine_similarity([1.0, 2.0], [-2.0, -4.0]) == pytest.approx(-1.0)
    rng = np.random.default_rng(26)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    by_hand = [x @ y / np.sqrt((x @ x) * (y @ y)) for x, y in zip(a, b)]
    np.testing.assert_allclose(cosine_similarity(a, b), by_hand, rtol=1e-6)
    versus_first = cosine_similarity(a, a[0])
    assert versus_first.shape == (5,) and versus_first[0] == pytest.approx(1.0)
    np.testing.assert_allclose(versus_first, cosine_similarity(a[0], a), rtol=1e-6)


@pytest.mark.parametrize("a, b, fragment", [
    (np.ones(3), np.ones(4), "same last axis"),
    (np.ones((2, 3)), np.ones((5, 3)), "do not broadcast"),
    (np.ones((2, 3)), np.zeros((2, 3)), r"b\[0\] is a zero vector"),
    (np.zeros(3), np.ones(3), "a is a zero vector"),
    ([np.nan, 1.0], [1.0, 1.0], "a contains NaN or inf"),
])
def test_cosine_similarity_rejects(a, b, fragment):
    with pytest.raises(LatentError, match=fragment):
        cosine_similarity(a, b)


# --------------------------------------------------------------------------------------------
# Checking latents: as_latents / as_latent_batch, and where the path functions live
# --------------------------------------------------------------------------------------------


def test_as_latents_keeps_the_rank_and_rounds_to_float32():
    import tensorflow as tf

    single = as_latents([1, 2, 3])
    assert single.shape == (3,) and single.dtype == np.float32
    batch = as_latents(tf.constant([[1.0, 2.0]], tf.bfloat16), name="v1")
    assert batch.shape == (1, 2) and batch.dtype == np.float32
    np.testing.assert_array_equal(as_latents(np.float64([0.1, 0.2])),
                                  np.float32([0.1, 0.2]))


def test_as_latent_batch_makes_a_batch_and_checks_the_size():
    assert as_latent_batch(np.ones(4)).shape == (1, 4)
    assert as_latent_batch(np.ones((3, 4)), 4).shape == (3, 4)
    with pytest.raises(LatentError, match=r"initial_latents have size 4, but the generator takes "
                                          r"latents of size 8; pass \[N, 8\]"):
        as_latent_batch(np.ones((3, 4)), 8, name="initial_latents")


@pytest.mark.parametrize("value, fragment", [
    (np.ones((2, 3, 4)), r"z has shape \[2, 3, 4\]"),
    (np.ones((2, 0)), r"z has shape \[2, 0\]"),
    ([np.inf, 1.0], "z contains NaN or inf"),
    (["a"], "z has dtype <U1"),
    ([[1.0], [2.0, 3.0]], "z could not be read as an array"),
])
def test_as_latent_batch_refuses(value, fragment):
    with pytest.raises(LatentError, match=fragment):
        as_latent_batch(value, name="z")


def test_path_functions_live_in_interpolation_and_keep_their_old_address():
    assert METHODS == interpolation.METHODS == INTERPOLATION_METHODS
    for name in ("interpolate", "interpolate_hypersphere", "lerp", "loop", "slerp", "walk"):
        assert getattr(latents, name) is getattr(interpolation, name)
        assert name in latents.__all__ and name in dir(latents)
    with pytest.raises(AttributeError, match="no attribute 'wlak'"):
        latents.wlak  # noqa: B018 -- the attribute access is the test
