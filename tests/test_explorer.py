"""Tests for progan_tf.explorer: the explorer driven through its callbacks, without a browser.

The state object (:class:`Explorer`) is what the sliders call, so it is tested directly; the
ipywidgets view is tested by setting its widgets' values as a browser would; where widgets
cannot run (no ipywidgets, plain Python, a notebook executed unattended) the static strip is
checked instead.
"""

import builtins
import types

import numpy as np
import pytest

import progan_tf as pt
from progan_tf.directions import edit_latent, random_directions
from progan_tf.errors import LatentError, MissingDependencyError, OptionError
from progan_tf.explorer import MAX_ANGLE, Explorer, explore, widgets_can_run
from progan_tf.recovery import RecoveryResult


@pytest.fixture(scope="module")
def bundled():
    return pt.load_generator("bundled")


@pytest.fixture
def explorer(bundled):
    return Explorer(bundled, seed=3)


def _face(gen, latent):
    return np.round(gen(latent).numpy()[0] * 255).astype(np.uint8)


def _one_line(raised):
    text = str(raised.value)
    assert "\n" not in text, text
    return text


# --------------------------------------------------------------------------------------------
# State and callbacks
# --------------------------------------------------------------------------------------------


def test_it_starts_from_the_seeds_face_with_random_directions(bundled, explorer):
    assert explorer.names == ("random 1", "random 2", "random 3")
    assert np.array_equal(explorer.directions, random_directions(3, 512, seed=0))
    assert np.array_equal(explorer.start, pt.sample_latents(1, 512, seed=3)[0])
    assert explorer.seed == 3 and explorer.angles == dict.fromkeys(explorer.names, 0.0)
    assert np.array_equal(explorer.latent, explorer.start)
    assert np.abs(explorer.image.astype(int) - _face(bundled, explorer.start)).max() <= 1
    assert explorer.effect() == 0


def test_a_slider_move_redraws_the_edited_face(bundled, explorer):
    before = explorer.render()
    picture = explorer.set_slider("random 2", 25)
    assert explorer.angles["random 2"] == 25
    expected = edit_latent(explorer.start, explorer.directions[1], 25)
    assert np.allclose(explorer.latent, expected, atol=1e-5)
    assert np.abs(explorer.image.astype(int) - _face(bundled, expected)).max() <= 1
    assert picture.dtype == np.uint8 and picture.shape == before.shape
    assert not np.array_equal(picture, before) and np.array_equal(picture, explorer.render())
    assert explorer.effect() > 10
    assert explorer.caption() == f"random 2 +25°  ({explorer.effect():.0f}/255 from the start)"


def test_sliders_combine_and_return_to_the_start(explorer):
    explorer.set_slider(0, -20)
    explorer.set_slider("random 3", 15)
    assert np.allclose(explorer.latent,
                       edit_latent(explorer.start, explorer.directions, [-20, 0, 15]), atol=1e-5)
    assert "random 1 -20°,  random 3 +15°" in explorer.caption()
    explorer.set_slider(0, 0)
    explorer.set_slider(2, 0)
    assert np.array_equal(explorer.latent, explorer.start)
    assert np.array_equal(explorer.image, explorer.start_image)


def test_the_picture_is_enlarged_by_a_whole_factor_with_sharp_pixels(explorer):
    side = explorer.generator.image_shape[0]
    zoom = 192 // side  # the notebooks' rule: 32 pixels -> 6x (192), 64 pixels -> 3x
    assert explorer.zoom == zoom
    picture = explorer.render()
    height = side * zoom
    assert picture.shape[0] > height  # a label strip above the panels
    # The panels sit at the bottom left, after 2 * zoom pixels of padding: find the start face,
    # every model pixel a zoom x zoom square.
    top, left = picture.shape[0] - height - 2 * zoom, 2 * zoom
    panel = picture[top:top + height, left:left + height]
    assert np.array_equal(panel, explorer.start_image.repeat(zoom, 0).repeat(zoom, 1))
    assert Explorer(explorer.generator, zoom=2).render().shape[1] < picture.shape[1]


def test_the_seed_picker_changes_the_face_and_keeps_the_edit(bundled, explorer):
    explorer.set_slider(1, 30)
    explorer.set_seed(8)
    assert explorer.seed == 8 and explorer.angles["random 2"] == 30
    assert np.array_equal(explorer.start, pt.sample_latents(1, 512, seed=8)[0])
    assert np.abs(explorer.start_image.astype(int) - _face(bundled, explorer.start)).max() <= 1
    edited = edit_latent(explorer.start, explorer.directions[1], 30)
    assert np.allclose(explorer.latent, edited, atol=1e-5)
    explorer.reset()
    assert explorer.angles == dict.fromkeys(explorer.names, 0.0)
    assert np.array_equal(explorer.image, explorer.start_image)


def test_it_starts_from_a_recovered_photo(bundled):
    latent = pt.sample_latents(1, 512, seed=21)[0]
    result = RecoveryResult(latent=latent, image=np.zeros((32, 32, 3)),
                            target=np.zeros((32, 32, 3)), losses=np.zeros(1),
                            loss_history=np.zeros((1, 1)), frames=np.zeros((0, 32, 32, 3)),
                            psnr=20.0, ssim=0.5, wall_time=1.0, steps_per_second=1.0)
    explorer = Explorer(bundled, latent=result)
    assert explorer.seed is None and np.array_equal(explorer.start, latent)
    assert explorer.source == "recovered photo" and "a recovered photo" in repr(explorer)
    explorer.set_seed(2)
    explorer.set_latent(latent[np.newaxis])  # a batch of one works too
    assert explorer.seed is None and np.array_equal(explorer.start, latent)
    assert explorer.source == "given latent"


def test_named_directions_from_a_dict_or_an_array(bundled):
    hair = random_directions(1, 512, seed=9)[0] * 7  # any length: normalised
    explorer = Explorer(bundled, {"hair": hair, "smile": -hair + 0.1})
    assert explorer.names == ("hair", "smile")
    assert np.allclose(explorer.directions[0], hair / 7)
    explorer.set_slider("hair", -10)
    assert explorer.angles == {"hair": -10.0, "smile": 0.0}
    assert Explorer(bundled, hair).names == ("direction 1",)
    assert Explorer(bundled, np.stack([hair, -hair])).names == ("direction 1", "direction 2")
    assert Explorer(bundled, 5).names[-1] == "random 5"


def test_moving_sliders_never_retraces_the_generator(explorer):
    assert explorer.tracing_count == 1
    for step in range(25):
        explorer.set_slider(step % 3, float(step * 3 - 36))
    explorer.set_seed(4)
    explorer.set_latent(pt.sample_latents(1, 512, seed=5))
    explorer.reset()
    explorer.strip()
    assert explorer.tracing_count == 1


def test_it_works_for_another_latent_size_and_resolution(tf2_saved_model_dir):
    gen = pt.load_generator(tf2_saved_model_dir, signature="serving_default")
    explorer = Explorer(gen, 2, seed=1)
    assert explorer.directions.shape == (2, 64) and explorer.zoom == 6
    explorer.set_slider(0, MAX_ANGLE)
    assert explorer.latent.shape == (64,) and explorer.tracing_count == 1


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generator", ["bundled", None, Explorer, np.zeros(3)])
def test_a_non_generator_is_one_line_naming_the_fix(generator):
    with pytest.raises(OptionError, match=r"pt\.load_generator\('bundled'\).*Received: "
                                          r"generator=") as raised:
        explore(generator)
    _one_line(raised)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"latent": np.ones(100)}, LatentError, r"\[512\].*Received: latent of shape \(100,\)$"),
    ({"latent": np.ones((2, 512))}, LatentError, r"Received: latent of shape \(2, 512\)$"),
    ({"latent": np.zeros(512)}, LatentError, "nonzero.*Received: norm 0.0$"),
    ({"latent": "face"}, LatentError, "Received: str$"),
    ({"directions": np.ones(100)}, LatentError, r"latent size 512. Received: shape \(100,\)$"),
    ({"directions": {"hair": np.ones(3)}}, LatentError, r"'hair'.*Received: shape \(3,\)$"),
    ({"directions": {"hair": np.zeros(512)}}, LatentError, "'hair'.*Received: norm 0.0$"),
    ({"directions": {}}, OptionError, "at least one direction. Received: directions={}$"),
    ({"directions": 0}, OptionError, "Received: directions=0$"),
    ({"directions": "hair"}, OptionError, "a dict {name: direction}.*Received: str$"),
    ({"directions": np.ones((2, 2, 512))}, LatentError, r"Received: directions of shape "
                                                        r"\(2, 2, 512\)$"),
    ({"seed": -1}, OptionError, "Received: seed=-1$"),
    ({"max_angle": 0}, OptionError, "Received: max_angle=0$"),
    ({"zoom": 0}, OptionError, "Received: zoom=0$"),
])
def test_bad_input_is_one_specific_line(bundled, kwargs, error, match):
    with pytest.raises(error, match=match) as raised:
        Explorer(bundled, **kwargs)
    _one_line(raised)


@pytest.mark.parametrize("call, match", [
    (lambda e: e.set_slider("nope", 10), r"Received: name='nope'$"),
    (lambda e: e.set_slider(3, 10), r"Received: name=3$"),
    (lambda e: e.set_slider(["random 1"], 10), r"Received: name=\['random 1'\]$"),
    (lambda e: e.set_slider(0, 90), r"<= 45.0. Received: angle=90$"),
    (lambda e: e.set_slider(0, float("nan")), r"Received: angle=nan$"),
    (lambda e: e.set_seed(1.5), r"Received: seed=1.5$"),
    (lambda e: e.strip(steps=4), r"Received: steps=4$"),
])
def test_bad_callbacks_are_one_line_and_change_nothing(explorer, call, match):
    before = (explorer.angles, explorer.seed, explorer.render())
    with pytest.raises(OptionError, match=match) as raised:
        call(explorer)
    _one_line(raised)
    assert explorer.angles == before[0] and explorer.seed == before[1]
    assert np.array_equal(explorer.render(), before[2])


def test_a_bad_latent_leaves_the_explorer_as_it_was(explorer):
    start = explorer.start.copy()
    with pytest.raises(LatentError):
        explorer.set_latent(np.ones(7))
    assert np.array_equal(explorer.start, start) and explorer.seed == 3


# --------------------------------------------------------------------------------------------
# The widget view
# --------------------------------------------------------------------------------------------


def _controls(box):
    image, controls = box.children
    *sliders, row = controls.children
    seed, reset = row.children
    return image, sliders, seed, reset


def test_the_widgets_drive_the_state_and_follow_it(explorer):
    pytest.importorskip("ipywidgets")
    image, sliders, seed, reset = _controls(explorer.widget())
    assert [slider.description for slider in sliders] == list(explorer.names)
    assert sliders[0].min == -MAX_ANGLE and sliders[0].max == MAX_ANGLE
    assert seed.value == 3 and image.value == explorer.png()

    sliders[1].value = 20.0  # as a browser does when the slider is dragged
    assert explorer.angles["random 2"] == 20
    assert image.value == explorer.png() and explorer.effect() > 0
    seed.value = 6
    assert explorer.seed == 6 and image.value == explorer.png()

    explorer.set_slider(2, -12)  # from code: the view follows
    assert sliders[2].value == -12 and image.value == explorer.png()
    reset.click()
    assert explorer.angles == dict.fromkeys(explorer.names, 0.0)
    assert [slider.value for slider in sliders] == [0.0, 0.0, 0.0]
    assert explorer.tracing_count == 1


def test_the_png_is_the_rendered_picture(explorer):
    import io

    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(io.BytesIO(explorer.png()))), explorer.render())


# --------------------------------------------------------------------------------------------
# Where widgets cannot run: the static strip
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_ipywidgets(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "ipywidgets" or name.startswith("ipywidgets."):
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


def _fake_kernel(monkeypatch, allow_stdin):
    """A stand-in IPython kernel whose current request allows input or not."""
    import IPython

    request = {"header": {"msg_type": "execute_request"}, "content": {"allow_stdin": allow_stdin}}
    hooks = types.SimpleNamespace(register=lambda *args: None, unregister=lambda *args: None)
    shell = types.SimpleNamespace(kernel=types.SimpleNamespace(get_parent=lambda: request),
                                  events=hooks)  # matplotlib registers its redraw hook there
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))
    return shown


def test_without_ipywidgets_the_explorer_falls_back_to_the_strip(bundled, no_ipywidgets,
                                                                 monkeypatch, capsys):
    _fake_kernel(monkeypatch, allow_stdin=True)
    assert widgets_can_run() == (False, "ipywidgets is not installed (pip install ipywidgets)")
    for static in (None, False):
        explorer = explore(bundled, static=static)
        assert explorer.mode == "static"
        assert len([ax for ax in explorer.figure.axes if ax.images]) == 3 * 5
    printed = capsys.readouterr().out
    assert "A static strip instead of sliders: ipywidgets is not installed" in printed
    assert printed.count("random 1: turning ±45° -- the ends differ by") == 2
    with pytest.raises(MissingDependencyError, match="pip install ipywidgets"):
        Explorer(bundled).widget()


def test_a_notebook_run_unattended_gets_the_strip(bundled, monkeypatch, capsys):
    pytest.importorskip("ipywidgets")
    shown = _fake_kernel(monkeypatch, allow_stdin=False)
    live, reason = widgets_can_run()
    assert not live and "unattended" in reason
    explorer = explore(bundled, seed=2)
    assert explorer.mode == "static" and not shown
    assert "unattended" in capsys.readouterr().out
    assert explore(bundled, static=False).mode == "widgets" and len(shown) == 1  # forced


def test_a_live_notebook_gets_the_sliders(bundled, monkeypatch):
    pytest.importorskip("ipywidgets")
    shown = _fake_kernel(monkeypatch, allow_stdin=True)
    assert widgets_can_run() == (True, "")
    explorer = explore(bundled, latent=pt.sample_latents(1, 512, seed=9))
    assert explorer.mode == "widgets" and explorer.figure is None
    assert len(shown) == 1 and type(shown[0]).__name__ == "VBox"
    assert explore(bundled, static=True).mode == "static" and len(shown) == 1


def test_static_true_draws_the_strip_with_each_directions_effect(bundled):
    explorer = explore(bundled, {"a": random_directions(1, 512, seed=1)[0]}, static=True)
    assert explorer.mode == "static"
    titles = [ax.get_title() for ax in explorer.figure.axes if ax.images]
    assert titles[0] == "-45°" and titles[-1] == "+45°"
    assert titles[2] == f"a\nends differ {explorer.effects['a'].ends:.0f}/255"
    assert explorer.effects["a"].ends > 30  # at the full range, clearly visible


def test_outside_ipython_there_is_no_kernel(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert widgets_can_run() == (False, "not running in a Jupyter kernel")


def test_an_edit_that_cannot_be_made_changes_nothing(bundled):
    start = pt.sample_latents(1, 512, seed=4)[0]
    explorer = Explorer(bundled, {"itself": start, "other": random_directions(1, 512)[0]},
                        latent=start)  # a direction along the start latent cannot turn it
    before = explorer.render()
    with pytest.raises(LatentError, match="points along the latent"):
        explorer.set_slider("itself", 10)
    assert explorer.angles == {"itself": 0.0, "other": 0.0}
    assert np.array_equal(explorer.render(), before)
    pytest.importorskip("ipywidgets")
    _, sliders, _, _ = _controls(explorer.widget())
    with pytest.raises(LatentError):
        sliders[0].value = 10.0  # from the browser: the slider goes back to the state
    assert sliders[0].value == 0 and explorer.angles["itself"] == 0
