"""A latent explorer: a face, sliders that turn its latent along directions, a seed picker.

:func:`explore` shows a face with one slider per direction (random ones, or named ones, e.g.
found from labelled faces with :func:`~progan_tf.direction_from_labels`) and a seed picker, and
redraws as the sliders move; it can start from a recovered photo's latent. A slider's value is
the angle in degrees by which the edit turns the latent (:func:`~progan_tf.edit_latent`).

The logic lives in :class:`Explorer`, a plain object whose methods (``set_slider``,
``set_seed``, ``set_latent``, ``render``) tests drive without a browser; the ipywidgets are a
thin view on top (:meth:`Explorer.widget`). The generator runs in one ``tf.function`` with a
fixed input signature, traced once: a slider move costs one forward pass of one latent.

**Where sliders cannot run** -- no ipywidgets, plain Python, a notebook executed unattended --
:func:`explore` shows a static strip per direction instead, its measured effect printed beside
it. Detection (:func:`widgets_can_run`) is a best guess: a kernel whose request may not ask for
input (``allow_stdin`` false, as nbclient, nbconvert ``--execute`` and papermill send it) has
nobody to move a slider. A front-end without a widget manager (a notebook viewer, Colab with
widgets off) cannot be seen from the kernel: pass ``static=True`` there. Voilà executes with
``allow_stdin`` false yet renders widgets: pass ``static=False`` there.
"""

from __future__ import annotations

import io
import reprlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_number, check_whole_number
from progan_tf.directions import edit_latent, named_directions
from progan_tf.display import in_ipython, labelled_panels
from progan_tf.errors import LatentError, MissingDependencyError, OptionError
from progan_tf.latents import sample_latents
from progan_tf.notebook import zoom_factor

__all__ = ["DEFAULT_DIRECTIONS", "MAX_ANGLE", "Explorer", "explore", "widgets_can_run"]

MAX_ANGLE = 45.0
"""How far a slider turns the latent either way by default, in degrees.

On the bundled 64x64 model, turns of +-45° along random directions change faces by 51-58/255
between the ends (16 faces; ``bench/explorer.py``), each end 35-37/255 from the start: clearly
visible, yet short of the 68/255 between two unrelated faces. Notebook 04's hair direction is
stronger: visible (30/255) from 6.7°, and 140/255 between the ends at +-45°.
"""

DEFAULT_DIRECTIONS = 3
"""How many random directions :func:`explore` offers when it is given none."""

_STRIP_STEPS = 5  # faces per direction in the static strip


class Explorer:
    """The explorer's state and drawing: a start latent, one angle per direction, a picture.

    Everything the sliders do goes through these methods, so a test (or a script) can drive the
    explorer without a browser; :meth:`widget` builds the ipywidgets view, which calls them.

    Args:
        generator: A :class:`~progan_tf.Generator` (from :func:`~progan_tf.load_generator`).
        directions: ``None`` for :data:`DEFAULT_DIRECTIONS` random ones, or a count, a dict
            ``{name: direction}`` or an array ``[M, D]`` (:func:`~progan_tf.directions.
            named_directions`). Each is normalised.
        latent: The start: one latent ``[D]`` or ``[1, D]``, or a
            :class:`~progan_tf.RecoveryResult` (its ``.latent``). ``None``: the face of ``seed``.
        seed: The face to start from when no ``latent`` is given: ``sample_latents(1, D, seed)``.
        max_angle: Each slider's range, ``-max_angle`` to ``+max_angle`` degrees.
        zoom: Whole enlargement of the pictures; by default the notebooks' rule
            (:func:`progan_tf.notebook.zoom_factor`: about 192 pixels high).

    Attributes:
        generator: The generator.
        names: The directions' names, in slider order.
        directions: float64 ``[M, D]`` unit directions.
        start: float32 ``[D]``: the latent the sliders start from.
        start_image: uint8 ``[H, W, 3]``: its face, at the model's size.
        image: uint8 ``[H, W, 3]``: the face shown now, of :attr:`latent`.
        seed: The seed of ``start``, or ``None`` when it was given as a latent.
        source: Where ``start`` came from: ``"seed 3"``, ``"recovered photo"`` or
            ``"given latent"`` (the start face's label).
        max_angle: The sliders' range in degrees.
        zoom: The enlargement of the pictures.

    Raises:
        OptionError: If ``generator`` is not a generator, or an option is out of range.
        LatentError: If ``latent`` or a direction has the wrong size, is zero or not finite.

    Example:
    >>> import progan_tf as pt
    >>> explorer = Explorer(pt.load_generator("bundled"), seed=3)
    >>> explorer.names
    ('random 1', 'random 2', 'random 3')
    >>> picture = explorer.set_slider("random 2", 30)
    >>> explorer.angles["random 2"], explorer.effect() > 10
    (30.0, True)
    """

    def __init__(self, generator: Any, directions: Any = None, latent: Any = None,
                 seed: int = 0, *, max_angle: float = MAX_ANGLE, zoom: int | None = None):
        _check_generator(generator)
        self.generator = generator
        self.latent_dim = int(generator.latent_dim)
        count = DEFAULT_DIRECTIONS if directions is None else directions
        self.names, self.directions = named_directions(count, self.latent_dim)
        self.max_angle = check_number(max_angle, "max_angle", exclusive_minimum=0, maximum=180)
        height = int(generator.image_shape[0])
        self.zoom = zoom_factor(height) if zoom is None else check_whole_number(zoom, "zoom")
        self._angles = dict.fromkeys(self.names, 0.0)
        self._draw = _compiled(generator)
        self._view: dict[str, Any] = {}
        self._syncing = False
        self.seed: int | None = None
        self.mode: str | None = None  # explore() sets "widgets" or "static"
        self.figure: Any = None  # the static strip's figure, once drawn
        self.effects: dict[str, Any] = {}  # each direction's Effect in the last strip
        if latent is None:
            self._start_from_seed(seed)
        else:
            self._start_from_latent(latent)
        self._redraw()

    # State ---------------------------------------------------------------------------------

    @property
    def angles(self) -> dict[str, float]:
        """A copy of the sliders' angles in degrees, by direction name."""
        return dict(self._angles)

    @property
    def latent(self) -> np.ndarray:
        """float32 ``[D]``: the start latent turned by the sliders' angles (what is shown)."""
        if not any(self._angles.values()):
            return self.start.copy()
        return edit_latent(self.start, self.directions, list(self._angles.values()))

    @property
    def tracing_count(self) -> int:
        """How many times the generator call was traced: 1, however much the sliders move."""
        return int(self._draw.experimental_get_tracing_count())

    def set_slider(self, name: str | int, angle: float) -> np.ndarray:
        """Sets one direction's angle and redraws.

        Args:
            name: The direction's name, or its index from 0.
            angle: Degrees, within ``[-max_angle, max_angle]``.

        Returns:
            The new picture, as :meth:`render` draws it.

        Raises:
            OptionError: If there is no such direction or the angle is out of range.
            LatentError: If the direction points along the start latent (nothing is changed).
        """
        key = self._name(name)
        value = check_number(angle, "angle", minimum=-self.max_angle, maximum=self.max_angle)
        return self._update(lambda: self._angles.__setitem__(key, value))

    def set_seed(self, seed: int) -> np.ndarray:
        """Starts from the face of ``seed`` (``sample_latents(1, D, seed)``); angles are kept.

        Args:
            seed: A whole number >= 0.

        Returns:
            The new picture.

        Raises:
            OptionError: If ``seed`` is not a whole number >= 0.
        """
        seed = check_whole_number(seed, "seed", minimum=0)
        return self._update(lambda: self._start_from_seed(seed))

    def set_latent(self, latent: Any) -> np.ndarray:
        """Starts from a given latent (or a :class:`~progan_tf.RecoveryResult`); angles are kept.

        Args:
            latent: One latent ``[D]`` or ``[1, D]``, or an object with a ``.latent`` of that
                shape (a recovery result).

        Returns:
            The new picture.

        Raises:
            LatentError: If the latent has the wrong shape or size, is zero or not finite, or a
                direction with a slider away from 0 points along it (nothing is changed).
        """
        return self._update(lambda: self._start_from_latent(latent))

    def reset(self) -> np.ndarray:
        """Puts every slider back to 0 and redraws the start face; returns the new picture."""
        return self._update(lambda: self._angles.update(dict.fromkeys(self.names, 0.0)))

    def effect(self) -> float:
        """How far the edit has moved the picture: mean absolute difference from the start face.

        Returns:
            The difference in 255ths per pixel (30 or more is clearly visible:
            :data:`~progan_tf.edits.VISIBLE_EFFECT`).
        """
        return float(np.abs(self.image.astype(np.int16) - self.start_image).mean())

    def caption(self) -> str:
        """The label above the edited face: the sliders that are not at 0, and the effect."""
        moved = [f"{name} {angle:+.0f}°" for name, angle in self._angles.items() if angle]
        edit = ",  ".join(moved) if moved else "no edit"
        return f"{edit}  ({self.effect():.0f}/255 from the start)"

    def render(self) -> np.ndarray:
        """The picture the explorer shows: start face and edited face, enlarged and labelled.

        Returns:
            uint8 ``[h, w, 3]``: two panels side by side, every model pixel a sharp
            ``zoom x zoom`` square, with the start (seed or given latent) above the first and
            :meth:`caption` above the second.
        """
        return self._picture.copy()

    # Static view ---------------------------------------------------------------------------

    def strip(self, steps: int = _STRIP_STEPS) -> Any:
        """A static view: each direction's faces from ``-max_angle`` to ``+max_angle``.

        One row per direction, around the current edit (:attr:`latent`, the middle face); the
        middle title says how much the row's two ends differ, and :attr:`effects` keeps each
        row's :class:`~progan_tf.edits.Effect`.

        Args:
            steps: Faces per row, odd (default 5).

        Returns:
            The matplotlib figure (see :func:`progan_tf.show_grid`).

        Raises:
            OptionError: If ``steps`` is not an odd number >= 3.
        """
        from progan_tf.edits import edit_strips, show_strips

        strips = edit_strips(self.generator, self.latent, self.directions, self.max_angle,
                             steps=steps)
        self.effects = {name: strip.effect for name, strip in zip(self.names, strips)}
        return show_strips(strips, list(self.names))

    # Widgets -------------------------------------------------------------------------------

    def widget(self) -> Any:
        """The ipywidgets view: the picture, one slider per direction, a seed box and a reset.

        Each control calls the methods above; the picture updates as a slider moves.

        Returns:
            An ``ipywidgets.VBox``; display it (or let :func:`explore` do so).

        Raises:
            MissingDependencyError: If ipywidgets is not installed (an ``ImportError``).
        """
        try:
            import ipywidgets as widgets
        except ImportError:
            raise MissingDependencyError("the explorer's sliders need ipywidgets: pip install "
                                         "ipywidgets (or use Explorer.strip())") from None
        image = widgets.Image(value=self.png(), format="png")
        sliders = {}
        for name in self.names:
            slider = widgets.FloatSlider(value=self._angles[name], min=-self.max_angle,
                                         max=self.max_angle, step=1.0, description=name,
                                         readout_format="+.0f", continuous_update=True,
                                         style={"description_width": "initial"},
                                         layout=widgets.Layout(width="420px"))
            slider.observe(lambda change, key=name: self._from_view(
                self.set_slider, key, change["new"]), names="value")
            sliders[name] = slider
        seed = widgets.BoundedIntText(value=self.seed or 0, min=0, max=2**32 - 1,
                                      description="seed", layout=widgets.Layout(width="180px"))
        seed.observe(lambda change: self._from_view(self.set_seed, change["new"]), names="value")
        reset = widgets.Button(description="reset sliders")
        reset.on_click(lambda _: self._from_view(self.reset))
        self._view = {"image": image, "sliders": sliders, "seed": seed}
        controls = widgets.VBox([*sliders.values(), widgets.HBox([seed, reset])])
        return widgets.VBox([image, controls])

    def png(self) -> bytes:
        """:meth:`render`'s picture as PNG file contents (what the widget shows)."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self._picture).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def __repr__(self) -> str:
        start = f"seed={self.seed}" if self.seed is not None else f"a {self.source}"
        angles = ", ".join(f"{name!r}: {angle:+.0f}°" for name, angle in self._angles.items())
        return f"Explorer({start}, angles={{{angles}}}, {self.effect():.0f}/255 from the start)"

    # Internals -----------------------------------------------------------------------------

    def _update(self, change: Any) -> np.ndarray:
        """Applies ``change()`` and redraws; if either fails, the state is put back as it was."""
        saved = (dict(self._angles), self.start, self.seed, self.source, self.start_image)
        try:
            change()
            return self._redraw()
        except Exception:
            self._angles, self.start, self.seed, self.source, self.start_image = saved
            raise

    def _start_from_seed(self, seed: int) -> None:
        seed = check_whole_number(seed, "seed", minimum=0)
        self._set_start(sample_latents(1, self.latent_dim, seed)[0], f"seed {seed}")
        self.seed = seed

    def _start_from_latent(self, latent: Any) -> None:
        source = "recovered photo" if hasattr(latent, "latent") else "given latent"
        value = getattr(latent, "latent", latent)
        try:
            array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise LatentError(f"latent must be one latent [{self.latent_dim}] or a "
                              f"RecoveryResult. Received: {type(latent).__name__}") from None
        if array.shape not in ((self.latent_dim,), (1, self.latent_dim)):
            raise LatentError(f"latent must be one latent [{self.latent_dim}] (or [1, "
                              f"{self.latent_dim}]) of this generator, or a RecoveryResult. "
                              f"Received: latent of shape {array.shape}")
        array = array.reshape(-1)
        if not np.isfinite(array).all() or not np.linalg.norm(array) > 0:
            raise LatentError("latent must be finite and nonzero (a zero latent has no "
                              "direction, the only thing the generator sees). Received: "
                              f"norm {float(np.linalg.norm(array))}")
        self._set_start(array, source)
        self.seed = None

    def _set_start(self, latent: np.ndarray, label: str) -> None:
        self.start = latent.astype(np.float32)
        self.source = label
        self.start_image = self._draw(tf.constant(self.start[np.newaxis])).numpy()[0]

    def _redraw(self) -> np.ndarray:
        self.image = self._draw(tf.constant(self.latent[np.newaxis])).numpy()[0]
        self._picture = labelled_panels([self.start_image, self.image],
                                        [f"start: {self.source}", self.caption()],
                                        zoom=self.zoom)
        self._sync_view()
        return self._picture.copy()

    def _name(self, name: str | int) -> str:
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            if 0 <= name < len(self.names):
                return self.names[int(name)]
        elif isinstance(name, str) and name in self._angles:
            return name
        raise OptionError(f"name must be one of the directions {list(self.names)} or an index "
                          f"below {len(self.names)}. Received: name={name!r}")

    def _from_view(self, method: Any, *args: Any) -> None:
        """A widget's callback: ignored while the view itself is being brought up to date."""
        if self._syncing:
            return
        try:
            method(*args)
        except Exception:
            self._sync_view()  # the state refused the change: the view goes back to the state
            raise

    def _sync_view(self) -> None:
        if not self._view:
            return
        self._syncing = True
        try:
            for name, slider in self._view["sliders"].items():
                slider.value = self._angles[name]
            if self.seed is not None:
                self._view["seed"].value = self.seed
            self._view["image"].value = self.png()
        finally:
            self._syncing = False


def explore(generator: Any, directions: Any = None, latent: Any = None, seed: int = 0, *,
            max_angle: float = MAX_ANGLE, static: bool | None = None,
            zoom: int | None = None) -> Explorer:
    """Shows a face with sliders along directions in latent space, and a seed picker.

    Each slider turns the latent towards its direction by an angle (degrees); the face redraws
    as it moves, labelled with the angles and how far the picture has moved (in 255ths). Where
    widgets cannot run (:func:`widgets_can_run`), a static strip per direction is shown instead,
    with each one's measured effect printed above it.

    Args:
        generator: A :class:`~progan_tf.Generator`.
        directions: ``None`` (3 random ones), a count of random ones, a dict ``{name:
            direction}`` (e.g. from :func:`~progan_tf.direction_from_labels`) or ``[M, D]``.
        latent: Where to start: a latent ``[D]`` or a :class:`~progan_tf.RecoveryResult`
            (a recovered photo); ``None`` for the face of ``seed``.
        seed: The start face's seed when no ``latent`` is given.
        max_angle: The sliders' range in degrees (default :data:`MAX_ANGLE`).
        static: ``True`` for the static strip, ``False`` for sliders, ``None`` to decide by
            :func:`widgets_can_run`.
        zoom: Whole enlargement of the pictures; by default about 192 pixels high.

    Returns:
        The :class:`Explorer`: keep it to read the current edit (``.latent``, ``.image``) or to
        drive it from code.

    Raises:
        OptionError: If ``generator`` is not a generator, or an option is invalid.
        LatentError: If ``latent`` or a direction does not fit the generator.

    Example:
    >>> import progan_tf as pt
    >>> explorer = explore(pt.load_generator("bundled"), seed=5)  # outside IPython: static
    >>> explorer.mode, explorer.latent.shape
    ('static', (512,))
    """
    explorer = Explorer(generator, directions, latent, seed, max_angle=max_angle, zoom=zoom)
    reason = None
    if static is None:
        live, reason = widgets_can_run()
        static = not live
    elif not static:
        try:
            import ipywidgets  # noqa: F401 -- only whether it imports
        except ImportError:
            static, reason = True, "ipywidgets is not installed (pip install ipywidgets)"
    explorer.mode = "static" if static else "widgets"
    if static:
        explorer.figure = explorer.strip()
        if in_ipython():  # the figure shows below the cell, these lines above it
            if reason:
                print(f"A static strip instead of sliders: {reason}.")
            for name, effect in explorer.effects.items():
                print(f"{name}: turning ±{explorer.max_angle:g}° -- {effect}")
    elif in_ipython():
        from IPython.display import display

        display(explorer.widget())
    return explorer


def widgets_can_run() -> tuple[bool, str]:
    """Whether sliders can be used here, and why not: a best guess.

    Sliders need ipywidgets, a Jupyter kernel, and someone at a front-end that renders widgets.
    The last is guessed from the request that runs the current cell: front-ends where a person
    works (JupyterLab, Notebook, Colab, VS Code) let the kernel ask for input (``allow_stdin``);
    tools that execute a notebook unattended (nbclient, ``jupyter nbconvert --execute``,
    papermill) do not. A front-end without a widget manager cannot be detected from the kernel.

    Returns:
        ``(True, "")``, or ``(False, reason)``.

    Example:
    >>> widgets_can_run()  # plain Python, as doctests run
    (False, 'not running in a Jupyter kernel')
    """
    try:
        import ipywidgets  # noqa: F401 -- only whether it imports
    except ImportError:
        return False, "ipywidgets is not installed (pip install ipywidgets)"
    try:
        from IPython import get_ipython
    except ImportError:
        return False, "not running in a Jupyter kernel"
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return False, "not running in a Jupyter kernel"
    request = getattr(kernel, "get_parent", dict)()  # ipykernel >= 6; else assume a person
    content = request.get("content", {}) if isinstance(request, Mapping) else {}
    if content.get("allow_stdin") is False:
        return False, ("this notebook is being run unattended (nbclient, nbconvert --execute or "
                       "papermill), with nobody to move a slider; static=False forces them")
    return True, ""


def _compiled(generator: Any) -> Any:
    """The generator as one ``tf.function`` latents ``[None, D]`` -> uint8: traced once."""
    def draw(latents: tf.Tensor) -> tf.Tensor:
        images = generator.synthesize(latents, clip=True)
        return tf.cast(tf.round(images * 255.0), tf.uint8)

    return tf.function(draw, input_signature=[
        tf.TensorSpec([None, int(generator.latent_dim)], tf.float32)])


def _check_generator(generator: Any) -> None:
    needed = ("latent_dim", "image_shape", "synthesize")
    if not all(hasattr(generator, name) for name in needed) or isinstance(generator, type):
        raise OptionError(f"generator must be a progan-tf Generator; load one first, e.g. "
                          f"pt.explore(pt.load_generator('bundled')). Received: "
                          f"generator={reprlib.repr(generator)}")
