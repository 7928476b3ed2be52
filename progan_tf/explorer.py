"""A latent explorer: a face, sliders that turn its latent along directions, a seed picker.

:func:`explore` shows a face with one slider per direction (random ones by default, named ones
found from labelled faces, e.g. with :func:`~progan_tf.directions.direction_from_labels`) and a
seed picker, and redraws as the sliders move. It can start from the latent of a recovered
photo (a :class:`~progan_tf.RecoveryResult`). A slider's value is the angle, in degrees, by
which the edit turns the latent towards its direction (:func:`~progan_tf.edit_latent`): ProGAN
only sees a latent's direction, so an angle says how strong an edit is on any model.

The logic lives in :class:`Explorer`, a plain object whose methods (:meth:`~Explorer.set_slider`,
:meth:`~Explorer.set_seed`, :meth:`~Explorer.set_latent`, :meth:`~Explorer.render`) tests drive
without a browser; the ipywidgets are a thin view on top (:meth:`~Explorer.widget`). The
generator runs in one ``tf.function`` with a fixed input signature, traced once, so moving a
slider costs one forward pass of one latent (:attr:`Explorer.tracing_count` stays 1).

**Where sliders cannot run** -- ipywidgets missing, plain Python, or a notebook executed
without anyone at the keyboard -- :func:`explore` shows a static strip per direction instead
(matplotlib), with its measured effect printed beside it. Detection (:func:`widgets_can_run`)
is a best guess: a kernel that is asked to run code but may not ask for input
(``allow_stdin`` false in the request, as nbclient, nbconvert ``--execute`` and papermill send
it) has nobody to move a slider. It cannot see a front-end that lacks a widget manager (a
notebook viewer, Colab with widgets turned off): there the widget shows as text, so pass
``static=True``. Voilà executes with ``allow_stdin`` false yet renders widgets: pass
``static=False`` there.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from progan_tf.checks import check_number, check_whole_number
from progan_tf.directions import edit_latent, random_directions
from progan_tf.display import in_ipython, labelled_panels
from progan_tf.errors import LatentError, MissingDependencyError, OptionError
from progan_tf.latents import sample_latents
from progan_tf.notebook import zoom_factor

__all__ = ["DEFAULT_DIRECTIONS", "MAX_ANGLE", "Explorer", "explore", "widgets_can_run"]

MAX_ANGLE = 45.0
"""How far a slider turns the latent either way by default, in degrees.

On the bundled 32x32 model, random directions at +-45° change a face by 47-69/255 between the
ends (notebook 04's hair direction by 86/255): clearly visible, yet at each end still the face
it started from, turned; a turn of 90° would reach a face unrelated to the start.
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
        directions: ``None`` for :data:`DEFAULT_DIRECTIONS` random directions; a whole number
            for that many; a dict ``{name: direction}``; or one direction ``[D]`` or several
            ``[M, D]`` (named ``direction 1`` ...). Each is normalised.
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
        seed: The seed of ``start``, or ``None`` when it was given as a latent.
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
        self.names, self.directions = _named_directions(directions, self.latent_dim)
        self.max_angle = check_number(max_angle, "max_angle", exclusive_minimum=0, maximum=180)
        height = int(generator.image_shape[0])
        self.zoom = zoom_factor(height) if zoom is None else check_whole_number(zoom, "zoom")
        self._angles = dict.fromkeys(self.names, 0.0)
        self._draw = tf.function(self._synthesize, input_signature=[
            tf.TensorSpec([None, self.latent_dim], tf.float32)])
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
    def image(self) -> np.ndarray:
        """uint8 ``[H, W, 3]``: the generator's face of :attr:`latent`, at its own size."""
        return self._image.copy()

    @property
    def start_image(self) -> np.ndarray:
        """uint8 ``[H, W, 3]``: the face of :attr:`start`."""
        return self._start_image.copy()

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
        """
        key = self._name(name)
        self._angles[key] = check_number(angle, "angle", minimum=-self.max_angle,
                                         maximum=self.max_angle)
        return self._redraw()

    def set_seed(self, seed: int) -> np.ndarray:
        """Starts from the face of ``seed`` (``sample_latents(1, D, seed)``); angles are kept.

        Args:
            seed: A whole number >= 0.

        Returns:
            The new picture.

        Raises:
            OptionError: If ``seed`` is not a whole number >= 0.
        """
        self._start_from_seed(seed)
        return self._redraw()

    def set_latent(self, latent: Any) -> np.ndarray:
        """Starts from a given latent (or a :class:`~progan_tf.RecoveryResult`); angles are kept.

        Args:
            latent: One latent ``[D]`` or ``[1, D]``, or an object with a ``.latent`` of that
                shape (a recovery result).

        Returns:
            The new picture.

        Raises:
            LatentError: If the latent has the wrong shape or size, is zero or not finite.
        """
        self._start_from_latent(latent)
        return self._redraw()

    def reset(self) -> np.ndarray:
        """Puts every slider back to 0 and redraws the start face.

        Returns:
            The new picture.
        """
        self._angles = dict.fromkeys(self.names, 0.0)
        return self._redraw()

    def effect(self) -> float:
        """How far the edit has moved the picture: mean absolute difference from the start face.

        Returns:
            The difference in 255ths per pixel (30 or more is clearly visible:
            :data:`~progan_tf.directions.VISIBLE_EFFECT`).
        """
        return float(np.abs(self._image.astype(np.int16) - self._start_image).mean())

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

        The strips start from the current edit (:attr:`latent`), one row per direction, the
        middle face of each row the current one, and the row's middle title says how much the
        two ends differ (:class:`~progan_tf.directions.Effect`).

        Args:
            steps: Faces per row, odd (default 5).

        Returns:
            The matplotlib figure (see :func:`progan_tf.show_grid`).

        Raises:
            OptionError: If ``steps`` is not an odd number >= 3.
        """
        from progan_tf.directions import strip_effect
        from progan_tf.display import show_grid

        steps = check_whole_number(steps, "steps", minimum=3)
        if steps % 2 == 0:
            raise OptionError(f"steps must be odd, so that the current face is in the middle. "
                              f"Received: steps={steps}")
        angles = np.linspace(-self.max_angle, self.max_angle, steps)
        current = self.latent
        latents = np.stack([edit_latent(current, direction, angle)
                            for direction in self.directions for angle in angles])
        faces = self._draw(tf.constant(latents, tf.float32)).numpy()
        titles = []
        self.effects = {}
        for row, name in enumerate(self.names):
            self.effects[name] = strip_effect(faces[row * steps:(row + 1) * steps])
            titles += [f"{angle:+.0f}°" for angle in angles]
            titles[row * steps + steps // 2] = f"{name}: ends {self.effects[name].ends:.0f}/255"
        return show_grid(faces, titles=titles, ncols=steps,
                         figsize=(2.1 * steps, 2.4 * len(self.names)))

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
        start = f"seed={self.seed}" if self.seed is not None else "a given latent"
        angles = ", ".join(f"{name!r}: {angle:+.0f}°" for name, angle in self._angles.items())
        return f"Explorer({start}, angles={{{angles}}}, {self.effect():.0f}/255 from the start)"

    # Internals -----------------------------------------------------------------------------

    def _synthesize(self, latents: tf.Tensor) -> tf.Tensor:
        images = self.generator.synthesize(latents, clip=True)
        return tf.cast(tf.round(images * 255.0), tf.uint8)

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
        self._start_label = label
        self._start_image = self._draw(tf.constant(self.start[np.newaxis])).numpy()[0]

    def _redraw(self) -> np.ndarray:
        self._image = self._draw(tf.constant(self.latent[np.newaxis])).numpy()[0]
        self._picture = labelled_panels([self._start_image, self._image],
                                        [f"start: {self._start_label}", self.caption()],
                                        zoom=self.zoom)
        self._sync_view()
        return self._picture.copy()

    def _name(self, name: str | int) -> str:
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            if 0 <= name < len(self.names):
                return self.names[int(name)]
        elif name in self._angles:
            return str(name)
        raise OptionError(f"name must be one of the directions {list(self.names)} or an index "
                          f"below {len(self.names)}. Received: name={name!r}")

    def _from_view(self, method: Any, *args: Any) -> None:
        """A widget's callback: ignored while the view itself is being brought up to date."""
        if not self._syncing:
            method(*args)

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

    Each slider turns the face's latent towards its direction by an angle (degrees); the face
    redraws as it moves, labelled with the angles and how far the picture has moved
    (in 255ths). Where widgets cannot run, a static strip per direction is shown instead, each
    with its measured effect (see :func:`widgets_can_run`).

    Args:
        generator: A :class:`~progan_tf.Generator`.
        directions: ``None`` (3 random directions), a number of random directions, a dict
            ``{name: direction}`` (e.g. found from labelled faces with
            :func:`~progan_tf.direction_from_labels`), or directions ``[D]`` / ``[M, D]``.
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
    if not in_ipython():
        if static:
            explorer.figure = explorer.strip()
        return explorer
    from IPython.display import display

    if static:
        if reason:
            print(f"A static strip instead of sliders: {reason}.")
        explorer.figure = explorer.strip()
        for name, effect in explorer.effects.items():
            print(f"{name}: turning ±{explorer.max_angle:g}° -- {effect}")
    else:
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
    try:
        request = kernel.get_parent()
    except (AttributeError, TypeError):  # ipykernel < 6: no way to tell, so assume a person
        return True, ""
    content = request.get("content", {}) if isinstance(request, Mapping) else {}
    if content.get("allow_stdin") is False:
        return False, ("this notebook is being run unattended (nbclient, nbconvert --execute or "
                       "papermill), with nobody to move a slider; static=False forces them")
    return True, ""


def _check_generator(generator: Any) -> None:
    needed = ("latent_dim", "image_shape", "synthesize")
    if not all(hasattr(generator, name) for name in needed) or isinstance(generator, type):
        shown = repr(generator)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise OptionError(f"generator must be a progan-tf Generator; load one first, e.g. "
                          f"pt.explore(pt.load_generator('bundled')). Received: "
                          f"generator={shown}")


def _named_directions(directions: Any, latent_dim: int) -> tuple[tuple[str, ...], np.ndarray]:
    """``(names, unit directions [M, D])`` from what :func:`explore` accepts."""
    if directions is None:
        directions = DEFAULT_DIRECTIONS
    if isinstance(directions, (int, np.integer)) and not isinstance(directions, bool):
        count = check_whole_number(directions, "directions", maximum=20)
        vectors = random_directions(count, latent_dim, seed=0)
        return tuple(f"random {index + 1}" for index in range(count)), vectors
    if isinstance(directions, Mapping):
        if not directions:
            raise OptionError("directions must name at least one direction. Received: "
                              "directions={}")
        names = tuple(str(name) for name in directions)
        rows = [_direction(value, name, latent_dim) for name, value in directions.items()]
        return names, np.stack(rows)
    try:
        array = np.asarray(directions, dtype=np.float64)
    except (TypeError, ValueError):
        raise OptionError(f"directions must be None, a count, a dict {{name: direction}} or an "
                          f"array [M, {latent_dim}]. Received: "
                          f"{type(directions).__name__}") from None
    rows = array[np.newaxis] if array.ndim == 1 else array
    if rows.ndim != 2 or not len(rows):
        raise LatentError(f"directions must be one direction [{latent_dim}] or several [M, "
                          f"{latent_dim}]. Received: directions of shape {array.shape}")
    names = tuple(f"direction {index + 1}" for index in range(len(rows)))
    return names, np.stack([_direction(row, name, latent_dim) for name, row in zip(names, rows)])


def _direction(value: Any, name: str, latent_dim: int) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LatentError(f"direction {name!r} must be a vector of {latent_dim} numbers. "
                          f"Received: {type(value).__name__}") from None
    if vector.shape != (latent_dim,):
        raise LatentError(f"direction {name!r} must have the generator's latent size "
                          f"{latent_dim}. Received: shape {vector.shape}")
    norm = float(np.linalg.norm(vector)) if np.isfinite(vector).all() else float("nan")
    if not norm > 0:
        raise LatentError(f"direction {name!r} must be finite and nonzero (a zero vector points "
                          f"nowhere). Received: norm {norm}")
    return vector / norm
