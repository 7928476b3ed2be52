"""Checkpoints now live in :mod:`progan_tf.training.checkpoint`; this name keeps old imports.

``write_text_atomic`` is :func:`progan_tf.fileio.write_text` under its older name.
"""

from progan_tf.fileio import write_text as write_text_atomic
from progan_tf.training.checkpoint import (
                                          DAMAGED_PREFIX,
                                          DELETING_PREFIX,
                                          FORMAT,
                                          LATEST,
                                          REPLACED_PREFIX,
                                          STATE,
                                          TMP_PREFIX,
                                          checkpoint_images,
                                          checkpoints,
                                          clean_up,
                                          file_digest,
                                          find_loadable,
                                          latest,
                                          problem,
                                          read_state,
                                          restore,
                                          rotate,
                                          save,
                                          set_aside,
                                          variable_names,
)

__all__ = ["DAMAGED_PREFIX", "DELETING_PREFIX", "FORMAT", "LATEST", "REPLACED_PREFIX", "STATE",
           "TMP_PREFIX", "checkpoint_images", "checkpoints", "clean_up", "file_digest",
           "find_loadable", "latest", "problem", "read_state", "restore", "rotate", "save",
           "set_aside", "variable_names", "write_text_atomic"]
