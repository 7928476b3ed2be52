"""The run lock lives in :mod:`progan_tf.training.runlock`; this name keeps old imports."""

from progan_tf.training.runlock import LOCK_FILE, RunLock

__all__ = ["LOCK_FILE", "RunLock"]
