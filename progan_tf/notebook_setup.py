"""The notebook helpers' former home, kept so that notebooks written for it keep working.

Everything here now lives in :mod:`progan_tf.notebook`; import it from there.

Example:
>>> from progan_tf.notebook_setup import zoom
>>> import progan_tf.notebook
>>> zoom is progan_tf.notebook.zoom
True
"""

from progan_tf.notebook import DISPLAY_SIZE, NotebookStop, labelled_panels, zoom, zoom_factor

__all__ = ["DISPLAY_SIZE", "NotebookStop", "labelled_panels", "zoom", "zoom_factor"]
