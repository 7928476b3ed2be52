"""Tests for progan_tf.metrics: Laplacian pyramid, SWD, PSNR/SSIM, MS-SSIM, evaluate_generator."""

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageFilter

from progan_tf import metrics
from progan_tf.errors import ImageLoadError, ModelLoadError
from progan_tf.metrics import (
    MetricError,
    binomial_kernel,
    evaluate_generator,
    laplacian_level,
    laplacian_pyramid,
    ms_ssim_diversity,
    ms_ssim_report,
    ms_ssim_settings,
    psnr,
    pyramid_sizes,
    reconstruct_laplacian_pyramid,
    sliced_wasserstein_distance,
    ssim,
    swd_report,
)
from progan_tf.metrics.swd import normalise_descriptors, sliced_wasserstein

CELEBA = Path("/work/shared/data/celeba-8k")
FAST = {"descriptors_per_image": 64}  # half the paper's patches: enough for orderings, 2x faster


def load_faces(first: int, count: int, size: int) -> np.ndarray:
    """CelebA faces ``first`` .. ``first + count - 1`` as uint8 ``[count, size, size, 3]``."""
    if not CELEBA.is_dir():
        pytest.skip(f"{CELEBA} is not available")
    faces = []
    for number in range(first, first + count):
        with Image.open(CELEBA / f"{number:06d}.jpg") as image:
            # ProGAN's CelebA crop, scaled to these 89x109 images: a 64x64 square around the face.
            face = image.convert("RGB").crop((12, 28, 76, 92)).resize((size, size), Image.BOX)
        faces.append(np.asarray(face))
    return np.stack(faces)


def blurred(images: np.ndarray, radius: float = 1.0) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)))
                     for image in images])


def brightened(images: np.ndarray, shift: float) -> np.ndarray:
    """Adds ``shift`` to every pixel and clips to [0, 1], as brightening an 8-bit photo does."""
    return np.clip(images / 255.0 + shift, 0.0, 1.0).astype(np.float32)


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    return load_faces(1, 300, 32)


@pytest.fixture(scope="module")
def floor_and_blur(faces):
    return swd_report(faces[:100], faces[100:200], blurred(faces[200:300]))


# --------------------------------------------------------------------------------------------
# Laplacian pyramid
# --------------------------------------------------------------------------------------------


def test_binomial_kernel_is_the_normalised_outer_product_of_1_4_6_4_1():
    kernel = binomial_kernel()
    assert kernel.shape == (5, 5)
    assert kernel.sum() == pytest.approx(1.0)
    assert kernel[2, 2] == pytest.approx(36 / 256)
    assert kernel[0, 0] == pytest.approx(1 / 256)
    assert kernel[0, 2] == pytest.approx(6 / 256)
    np.testing.assert_array_equal(kernel, kernel.T)


@pytest.mark.parametrize("size, heights", [(128, [128, 64, 32, 16]), (64, [64, 32, 16]),
                                           (32, [32, 16]), (16, [16]), (8, [8])])
def test_pyramid_goes_from_full_resolution_down_to_16(size, heights):
    levels = laplacian_pyramid(np.zeros((2, size, size, 3), np.uint8))
    assert [level.shape for level in levels] == [(2, h, h, 3) for h in heights]
    assert all(level.dtype == np.float32 for level in levels)


def test_pyramid_matches_opencv_pyrdown_and_pyrup():
    cv2 = pytest.importorskip("cv2")
    image = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    levels = laplacian_pyramid(image[np.newaxis])
    down1 = cv2.pyrDown(image)
    down2 = cv2.pyrDown(down1)
    np.testing.assert_allclose(levels[2][0], down2, atol=1e-5)  # lowest = blurred + downsampled
    np.testing.assert_allclose(levels[1][0], down1 - cv2.pyrUp(down2), atol=1e-5)
    np.testing.assert_allclose(levels[0][0], image - cv2.pyrUp(down1), atol=1e-5)


@pytest.mark.parametrize("shape, num_levels", [((32, 32), None), ((33, 21), 4), ((128, 96), None)])
def test_pyramid_reconstructs_the_image(shape, num_levels):
    images = np.random.default_rng(1).random((2, *shape, 3)).astype(np.float32)
    levels = laplacian_pyramid(images, num_levels)
    np.testing.assert_allclose(reconstruct_laplacian_pyramid(levels), images, atol=1e-5)


def test_pyramid_of_a_flat_image_has_empty_band_pass_levels():
    levels = laplacian_pyramid(np.full((1, 64, 64, 3), 0.25, np.float32))
    for level in levels[:-1]:
        np.testing.assert_allclose(level, 0.0, atol=1e-6)
    np.testing.assert_allclose(levels[-1], 0.25, atol=1e-6)


def test_pyramid_rejects_too_many_levels():
    with pytest.raises(MetricError, match="num_levels=5 is too many for 16x16"):
        laplacian_pyramid(np.zeros((1, 16, 16, 3)), num_levels=5)
    with pytest.raises(MetricError, match="num_levels=5 is too many for 16x16"):
        laplacian_pyramid(tf.zeros((1, 16, 16, 3)), num_levels=5)
    with pytest.raises(MetricError, match="num_levels must be a whole number >= 1"):
        laplacian_pyramid(np.zeros((1, 16, 16, 3)), num_levels=0)


@pytest.mark.parametrize("shape, num_levels", [((32, 32), None), ((33, 21), 4), ((32, 24), 3)])
def test_pyramid_of_a_tensor_equals_the_pyramid_of_the_array(shape, num_levels):
    images = np.random.default_rng(8).random((2, *shape, 3)).astype(np.float32)
    from_array = laplacian_pyramid(images, num_levels)
    from_tensor = laplacian_pyramid(tf.constant(images), num_levels)
    assert all(tf.is_tensor(level) for level in from_tensor)
    assert [level.shape for level in from_array] == [tuple(level.shape) for level in from_tensor]
    for expected, level in zip(from_array, from_tensor):
        np.testing.assert_array_equal(level.numpy(), expected)
    np.testing.assert_allclose(reconstruct_laplacian_pyramid(from_tensor).numpy(), images,
                               atol=1e-5)


def test_pyramid_of_uint8_tensors_is_in_0_1():
    pixels = np.random.default_rng(9).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    for expected, level in zip(laplacian_pyramid(pixels), laplacian_pyramid(tf.constant(pixels))):
        np.testing.assert_allclose(level.numpy(), expected, atol=1e-6)


def test_pyramid_traces_in_a_tf_function_and_passes_gradients():
    # Latent recovery's "laplacian" loss traces the pyramid into its compiled search, for
    # batches of any size: only the height and width need to be known while tracing.
    images = np.random.default_rng(10).random((3, 32, 24, 3)).astype(np.float32)
    target = laplacian_pyramid(images[:1], 3)

    @tf.function(input_signature=[tf.TensorSpec([None, 32, 24, 3], tf.float32)])
    def loss_and_gradient(batch):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            levels = laplacian_pyramid(batch, 3)
            assert [tuple(level.shape[1:]) for level in levels] == [(32, 24, 3), (16, 12, 3),
                                                                    (8, 6, 3)]
            loss = tf.add_n([tf.reduce_mean(tf.abs(level - expected))
                             for level, expected in zip(levels, target)])
        return loss, tape.gradient(loss, batch)

    loss, gradient = loss_and_gradient(tf.constant(images))
    assert float(loss) > 0.0
    assert gradient.shape == images.shape and float(tf.reduce_max(tf.abs(gradient))) > 0.0
    same, _ = loss_and_gradient(tf.constant(images[:1]))
    assert float(same) == pytest.approx(0.0, abs=1e-6)


def test_pyramid_of_a_tensor_of_unknown_size_needs_num_levels():
    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
    def levels(batch):
        return laplacian_pyramid(batch, 2)[0]

    np.testing.assert_allclose(levels(tf.zeros((1, 16, 16, 3))).numpy(), 0.0)
    with pytest.raises(MetricError, match="pass num_levels"):
        tf.function(laplacian_pyramid, autograph=False).get_concrete_function(
            tf.TensorSpec([1, None, None, 3], tf.float32))


def test_one_level_equals_that_level_of_the_pyramid():
    images = np.random.default_rng(11).random((2, 33, 40, 3)).astype(np.float32)
    pyramid = laplacian_pyramid(images, 3)
    for index in range(3):
        np.testing.assert_array_equal(laplacian_level(images, index, 3), pyramid[index])
    with pytest.raises(MetricError, match=r"index must be a whole number in \[0, 2\]"):
        laplacian_level(images, 3, 3)


@pytest.mark.parametrize("size, options, expected", [
    ((128, 128), {}, [(128, 128), (64, 64), (32, 32), (16, 16)]),
    ((30, 64), {}, [(30, 64)]),
    ((32, 24), {"min_size": 4, "max_levels": 5}, [(32, 24), (16, 12), (8, 6)]),
    ((128, 128), {"min_size": 4, "max_levels": 5}, [(128, 128), (64, 64), (32, 32), (16, 16),
                                                    (8, 8)]),
])
def test_pyramid_sizes(size, options, expected):
    assert pyramid_sizes(*size, **options) == expected


# --------------------------------------------------------------------------------------------
# SWD building blocks
# --------------------------------------------------------------------------------------------


def test_descriptor_normalisation_gives_mean_0_std_1_per_channel():
    rng = np.random.default_rng(2)
    scale = np.array([0.1, 1.0, 5.0], np.float32)
    offset = np.array([3.0, -1.0, 0.5], np.float32)
    descriptors = (rng.standard_normal((4000, 7, 7, 3)) * scale + offset).astype(np.float32)
    normalised = normalise_descriptors(descriptors)
    assert normalised.shape == (4000, 147)
    per_channel = normalised.reshape(-1, 7, 7, 3).astype(np.float64)
    np.testing.assert_allclose(per_channel.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(per_channel.std(axis=(0, 1, 2)), 1.0, atol=1e-5)
    reference = descriptors.astype(np.float64)
    reference = ((reference - reference.mean(axis=(0, 1, 2))) / reference.std(axis=(0, 1, 2)))
    np.testing.assert_allclose(normalised, reference.reshape(4000, 147), atol=1e-4)


def test_normalisation_of_a_flat_channel_gives_zeros_not_nan():
    descriptors = np.ones((10, 7, 7, 3), np.float32)
    assert np.all(normalise_descriptors(descriptors) == 0.0)


def test_sliced_wasserstein_of_shifted_points_is_the_mean_projected_shift():
    # Every point moved by the same vector d: along a unit direction u the sorted projections
    # differ by exactly u . d, so the distance is the mean of |u . d| over all directions.
    rng = np.random.default_rng(3)
    points = rng.standard_normal((500, 4)).astype(np.float32)
    shift = np.array([1.0, -2.0, 0.0, 0.5], np.float32)
    distance = sliced_wasserstein(points, points + shift, 64, 2, np.random.default_rng(4))
    direction_rng = np.random.default_rng(4)  # the same draws: 2 repeats of 4x64 normals
    projected_shifts = []
    for _ in range(2):
        axes = direction_rng.standard_normal((4, 64)).astype(np.float32)
        axes /= np.linalg.norm(axes, axis=0, keepdims=True)
        projected_shifts.append(np.abs(shift @ axes))
    assert distance == pytest.approx(np.mean(projected_shifts), rel=1e-4)
    assert sliced_wasserstein(points, points, 64, 2, rng) == 0.0


# --------------------------------------------------------------------------------------------
# SWD
# --------------------------------------------------------------------------------------------


def test_identical_sets_give_exactly_zero(faces):
    result = sliced_wasserstein_distance(faces[:50], faces[:50].copy())
    assert result == {"levels": {32: 0.0, 16: 0.0}, "average": 0.0, "num_images": 50}


def test_uint8_float_and_tensor_inputs_agree(faces):
    as_float = faces[:40] / 255.0
    result = sliced_wasserstein_distance(faces[:40], tf.constant(as_float, tf.float32), **FAST)
    assert result["average"] < 1e-2


def test_independent_samples_give_a_positive_distance(floor_and_blur):
    floor = floor_and_blur["noise_floor"]
    assert set(floor["levels"]) == {32, 16}
    assert all(value > 1.0 for value in floor["levels"].values())
    assert floor["average"] == pytest.approx(np.mean(list(floor["levels"].values())))


def test_blurred_images_score_above_the_noise_floor(floor_and_blur):
    floor, blur = floor_and_blur["noise_floor"], floor_and_blur["fake"]
    assert blur["levels"][32] > 2 * floor["levels"][32]  # blur removes fine detail
    assert blur["average"] > floor["average"]
    assert floor["num_images"] == blur["num_images"] == 100


def test_uniform_brightness_offset_is_normalised_away(faces):
    # Per-set normalisation removes a global offset exactly: only structure is compared.
    darker = faces[:60] / 255.0 * 0.8
    offset = sliced_wasserstein_distance(darker, darker + 0.1, **FAST)
    other_faces = sliced_wasserstein_distance(darker, faces[60:120] / 255.0 * 0.8, **FAST)
    assert offset["average"] < 0.01
    assert other_faces["average"] > 100 * offset["average"]


def test_clipped_brightening_scores_above_an_independent_sample(faces):
    independent = sliced_wasserstein_distance(faces[100:200], faces[:100], **FAST)
    brighter = sliced_wasserstein_distance(faces[100:200], brightened(faces[:100], 0.3), **FAST)
    assert brighter["average"] > 1.2 * independent["average"]


def test_swd_grows_monotonically_with_the_brightness_shift(faces):
    originals = faces[:60]
    distances = [sliced_wasserstein_distance(originals, brightened(originals, shift),
                                             **FAST)["average"]
                 for shift in (0.05, 0.15, 0.25, 0.4)]
    assert distances == sorted(distances)
    assert distances[0] > 0.0
    assert distances[-1] > 5 * distances[0]


def test_unequal_set_sizes_are_subsampled_reproducibly(faces):
    first = sliced_wasserstein_distance(faces[:30], faces[100:180], seed=7, **FAST)
    again = sliced_wasserstein_distance(faces[:30], faces[100:180], seed=7, **FAST)
    other_seed = sliced_wasserstein_distance(faces[:30], faces[100:180], seed=8, **FAST)
    assert first["num_images"] == 30
    assert first == again
    assert first["average"] != other_seed["average"]


@pytest.mark.parametrize("size, keys", [(64, [64, 32, 16]), (20, [20]), (7, [7])])
def test_levels_are_keyed_by_their_height(size, keys):
    images = np.random.default_rng(5).random((4, size, size, 3))
    result = sliced_wasserstein_distance(images, images[::-1], descriptors_per_image=8,
                                         directions=8, repeats=1)
    assert list(result["levels"]) == keys
    assert all(math.isfinite(value) for value in result["levels"].values())


def test_swd_report_uses_the_smallest_set_for_both_numbers(faces):
    report = swd_report(faces[:40], faces[40:100], faces[100:150], **FAST)
    assert report["fake"]["num_images"] == report["noise_floor"]["num_images"] == 40


@pytest.mark.parametrize("images, message", [
    (np.zeros((4, 32, 32)), r"\[n, height, width, 3\]"),
    (np.zeros((4, 3, 32, 32)), r"has shape \(4, 3, 32, 32\)"),
    (np.zeros((0, 32, 32, 3)), "non-empty"),
    (np.full((4, 32, 32, 3), 2.0), r"must be in \[0, 1\]"),
    (np.full((4, 32, 32, 3), -0.5), r"\(x \+ 1\) / 2"),
    (np.full((4, 32, 32, 3), np.nan), "NaN"),
    (np.zeros((4, 32, 32, 3), np.int32), "dtype int32"),
    ([np.zeros((8, 8, 3)), np.zeros((9, 9, 3))], "could not be read as one array"),
])
def test_bad_image_batches_are_refused(images, message):
    with pytest.raises(ImageLoadError, match=message):
        sliced_wasserstein_distance(images, np.zeros((4, 32, 32, 3)))


def test_sets_of_different_sizes_are_refused():
    with pytest.raises(ImageLoadError, match=r"different sizes \(32, 32\) and \(16, 16\)"):
        sliced_wasserstein_distance(np.zeros((2, 32, 32, 3)), np.zeros((2, 16, 16, 3)))


def test_images_smaller_than_a_patch_are_refused():
    with pytest.raises(ImageLoadError, match="at least 7x7"):
        sliced_wasserstein_distance(np.zeros((2, 6, 6, 3)), np.zeros((2, 6, 6, 3)))


@pytest.mark.parametrize("option, message", [
    ({"descriptors_per_image": 0},
     "descriptors_per_image must be a whole number >= 1. Received: descriptors_per_image=0"),
    ({"directions": 2.5}, "directions must be a whole number"),
    ({"repeats": True}, "repeats must be a whole number"),
    ({"seed": -1}, "seed must be a whole number >= 0. Received: seed=-1"),
])
def test_bad_swd_options_are_refused(option, message):
    images = np.zeros((2, 16, 16, 3))
    with pytest.raises(MetricError, match=message):
        sliced_wasserstein_distance(images, images, **option)


# --------------------------------------------------------------------------------------------
# PSNR and SSIM
# --------------------------------------------------------------------------------------------


def test_psnr_and_ssim_of_one_pair():
    black, gray = np.zeros((16, 16, 3)), np.full((16, 16, 3), 0.1)
    assert psnr(black, gray) == pytest.approx(20.0)
    assert psnr(gray, gray) == math.inf
    assert ssim(gray, gray) == pytest.approx(1.0)
    assert ssim(black, np.random.default_rng(12).random((16, 16, 3))) < 0.1
    # A generator's output for one latent, [1, H, W, 3], compares like the image itself.
    assert psnr(black[np.newaxis], tf.constant(gray[np.newaxis])) == pytest.approx(20.0)
    assert ssim(np.zeros((5, 5, 3)), np.zeros((5, 5, 3))) == pytest.approx(1.0)  # 5x5 window


def test_psnr_refuses_images_of_different_sizes():
    with pytest.raises(MetricError, match=r"cannot compare images of shapes \(8, 8, 3\) and "
                                          r"\(9, 9, 3\).*load_image"):
        psnr(np.zeros((8, 8, 3)), np.zeros((9, 9, 3)))


# --------------------------------------------------------------------------------------------
# MS-SSIM
# --------------------------------------------------------------------------------------------


def test_ms_ssim_settings_drop_coarse_scales_for_small_images():
    small = ms_ssim_settings(32, 32)
    assert small["scales"] == 2 and small["filter_size"] == 11
    assert small["power_factors"] == pytest.approx((0.0448 / 0.3304, 0.2856 / 0.3304))
    assert ms_ssim_settings(64, 64)["scales"] == 3
    assert ms_ssim_settings(128, 128)["scales"] == 4
    assert ms_ssim_settings(160, 160)["scales"] == 4  # 160 / 16 = 10 < 11
    assert ms_ssim_settings(161, 161)["scales"] == 5  # TF rounds up: 81, 41, 21, 11
    assert ms_ssim_settings(176, 176)["power_factors"] == (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    tiny = ms_ssim_settings(8, 12)
    assert (tiny["scales"], tiny["filter_size"]) == (1, 8)
    assert tiny["filter_sigma"] == pytest.approx(1.5 * 8 / 11)


@pytest.mark.parametrize("size", [8, 21, 22, 32, 44, 161])
def test_ms_ssim_settings_are_accepted_by_tensorflow(size):
    noise = np.random.default_rng(6).random((3, size, size, 3))
    assert 0.0 <= ms_ssim_diversity(noise, num_pairs=4) < 0.5


def test_identical_images_have_ms_ssim_1(faces):
    copies = np.repeat(faces[:1], 5, axis=0)
    assert ms_ssim_diversity(copies, num_pairs=20) == pytest.approx(1.0, abs=1e-5)


def test_noise_has_low_ms_ssim_and_faces_lie_between(faces):
    noise = np.random.default_rng(7).random((50, 32, 32, 3)).astype(np.float32)
    noise_value = ms_ssim_diversity(noise, num_pairs=100)
    face_value = ms_ssim_diversity(faces, num_pairs=100)
    assert noise_value < 0.1
    assert noise_value < face_value < 0.9


def test_ms_ssim_report_puts_real_beside_fake(faces):
    collapsed = np.repeat(faces[:1], 20, axis=0)
    report = ms_ssim_report(faces[100:200], collapsed, num_pairs=50)
    assert report["fake"] == pytest.approx(1.0, abs=1e-5)
    assert report["real"] < 0.9
    assert (report["scales"], report["filter_size"]) == (2, 11)


def test_ms_ssim_pairs_are_reproducible(faces):
    assert ms_ssim_diversity(faces, 30, seed=3) == ms_ssim_diversity(faces, 30, seed=3)
    assert ms_ssim_diversity(faces, 30, seed=3) != ms_ssim_diversity(faces, 30, seed=4)


def test_ms_ssim_needs_two_images():
    with pytest.raises(ImageLoadError, match="at least 2 images"):
        ms_ssim_diversity(np.zeros((1, 32, 32, 3)))


def test_ms_ssim_refuses_bad_num_pairs():
    with pytest.raises(MetricError, match="num_pairs must be a whole number >= 1. Received: "
                                          "num_pairs=0"):
        ms_ssim_diversity(np.zeros((2, 32, 32, 3)), num_pairs=0)


def test_ms_ssim_report_refuses_different_sizes():
    with pytest.raises(ImageLoadError, match="real and fake have different sizes"):
        ms_ssim_report(np.zeros((2, 32, 32, 3)), np.zeros((2, 64, 64, 3)))


# --------------------------------------------------------------------------------------------
# evaluate_generator
# --------------------------------------------------------------------------------------------


class ReplayGenerator:
    """Stands in for a loaded generator: returns stored images in order, one per latent."""

    def __init__(self, images: np.ndarray, latent_dim: int = 8):
        self.images = images.astype(np.float32) / 255.0
        self.latent_dim = latent_dim
        self.image_shape = images.shape[1:]
        self.calls = []

    def __call__(self, latents):
        latents = np.asarray(latents)
        assert latents.shape[1] == self.latent_dim and latents.dtype == np.float32
        start = sum(self.calls)
        self.calls.append(len(latents))
        return tf.constant(self.images[start:start + len(latents)])


@pytest.fixture(scope="module")
def real_64() -> np.ndarray:
    return load_faces(1001, 120, 64)  # held out from `faces`, at twice the generator's size


def test_evaluate_generator_scores_a_good_and_a_collapsed_generator(faces, real_64):
    good = ReplayGenerator(faces[:60])
    result = evaluate_generator(good, real_64, num_images=60, batch_size=25, num_pairs=100)
    assert good.calls == [25, 25, 10]
    assert result["num_fake_images"] == 60 and result["num_real_images"] == 120
    assert result["resolution"] == [32, 32]
    assert list(result["swd"]["levels"]) == [32, 16]
    assert result["swd"]["average"] < 2 * result["swd_noise_floor"]["average"]
    assert abs(result["ms_ssim_fake"] - result["ms_ssim_real"]) < 0.15
    json.dumps(result)  # plain Python types: the CLI writes it as JSON

    collapsed = ReplayGenerator(np.repeat(faces[:1], 60, axis=0))
    bad = evaluate_generator(collapsed, real_64, num_images=60, num_pairs=100)
    assert bad["ms_ssim_fake"] == pytest.approx(1.0, abs=1e-5)
    assert bad["ms_ssim_real"] == pytest.approx(result["ms_ssim_real"])  # same seed, same reals
    assert bad["swd"]["average"] > 3 * result["swd"]["average"]
    assert bad["swd_noise_floor"] == result["swd_noise_floor"]


def test_evaluate_generator_reduces_num_images_to_the_real_data(faces):
    with pytest.warns(UserWarning, match="num_images=50 needs 100 real images .* using 20"):
        result = evaluate_generator(ReplayGenerator(faces[:50]), faces[100:140], num_images=50,
                                    num_pairs=10)
    assert result["num_fake_images"] == 20 and result["num_real_images"] == 40


def test_evaluate_generator_with_floor_images_compares_all_reals_and_the_floor_set(faces):
    """Held-out vs as many training faces: no halves, the floor is the given set's."""
    held_out, training = faces[100:140], faces[140:180]
    result = evaluate_generator(ReplayGenerator(faces[:40]), held_out, floor_images=training,
                                num_pairs=10)
    assert result["num_fake_images"] == 40 and result["num_real_images"] == 80
    assert result["noise_floor_of"] == "the real images and as many floor images"
    expected = sliced_wasserstein_distance(held_out, training)  # the same seed (0)
    assert result["swd_noise_floor"]["levels"] == pytest.approx(expected["levels"])
    halves = evaluate_generator(ReplayGenerator(faces[:40]), faces[100:180], num_pairs=10)
    assert halves["num_fake_images"] == 40 and halves["swd_noise_floor"] != \
        result["swd_noise_floor"]
    with pytest.warns(UserWarning, match="num_images=30 needs 30 real images and as many floor "
                                         "images, but 40 and 20 were given; using 20"):
        short = evaluate_generator(ReplayGenerator(faces[:30]), held_out, num_images=30,
                                   floor_images=training[:20], num_pairs=10)
    assert short["num_fake_images"] == 20
    with pytest.raises(ImageLoadError, match="hold 40 and 1 images, but evaluation needs at "
                                             "least 2 of each"):
        evaluate_generator(ReplayGenerator(faces[:10]), held_out, floor_images=training[:1])


def test_evaluate_generator_warns_when_upscaling_real_images(real_64):
    generator = ReplayGenerator(np.zeros((4, 128, 128, 3), np.uint8))
    with pytest.warns(UserWarning, match="upscaling blurs them"):
        evaluate_generator(generator, real_64[:8], num_pairs=4)


def test_evaluate_generator_refuses_objects_that_are_not_generators(faces):
    with pytest.raises(ModelLoadError, match="must be callable and have latent_dim and image_sh"):
        evaluate_generator(lambda z: z, faces)


def test_evaluate_generator_refuses_images_outside_0_1(faces):
    generator = ReplayGenerator(faces[:10])
    generator.images = generator.images * 2 - 1
    with pytest.raises(ModelLoadError, match=r"map \[-1, 1\] images .* fix the generator"):
        evaluate_generator(generator, faces[100:120])


def test_evaluate_generator_refuses_output_of_the_wrong_shape(faces, real_64):
    generator = ReplayGenerator(faces[:10])
    generator.image_shape = (64, 64, 3)
    with pytest.raises(ModelLoadError, match=r"returned shape \(10, 32, 32, 3\).* expected "
                                             r"\(10, 64, 64, 3\)"):
        evaluate_generator(generator, real_64[:20])


def test_evaluate_generator_needs_four_real_images(faces):
    with pytest.raises(ImageLoadError, match="holds 3 images, but evaluation needs at least 4"):
        evaluate_generator(ReplayGenerator(faces[:10]), faces[:3])


def test_evaluate_generator_progress_bar_on_request(faces, real_64, capsys, monkeypatch):
    # tqdm redraws only every `mininterval` seconds; an enormous one makes the check
    # independent of how fast this machine is (CI once drew only up to 16/24).
    monkeypatch.setattr(metrics.evaluate, "tqdm",
                        functools.partial(metrics.evaluate.tqdm, mininterval=1000))
    evaluate_generator(ReplayGenerator(faces[:8]), real_64, num_images=8, num_pairs=10)
    assert capsys.readouterr().err == ""  # quiet by default (notebooks, scripts)
    result = evaluate_generator(ReplayGenerator(faces[:8]), real_64, num_images=8, num_pairs=10,
                                progress=True)
    err = capsys.readouterr().err
    assert "MS-SSIM" in err and "24/24" in err  # three stages of 8 units each, to the end
    assert result["num_fake_images"] == 8
