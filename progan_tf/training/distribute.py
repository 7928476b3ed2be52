"""Training on several devices or machines with TensorFlow's own engine (``tf.distribute``).

``progan-tf train --distribute NAME`` picks one of :data:`STRATEGIES`; :func:`make_strategy`
creates it, and :func:`~progan_tf.training.loop.train` runs Keras ``fit`` under it:

* ``mirrored`` -- :class:`tf.distribute.MirroredStrategy` over every local GPU (or the CPU);
* ``multi-worker`` -- :class:`tf.distribute.MultiWorkerMirroredStrategy`, one process per
  machine, the cluster read from the ``TF_CONFIG`` environment variable (see
  :func:`read_tf_config`);
* ``tpu`` -- :class:`tf.distribute.TPUStrategy` on the TPU of a Colab or Cloud TPU runtime.

The batch sizes of a schedule are *global*: every step shows ``batch_size`` images in all,
each replica computing ``batch_size / replicas`` of them, so a run trains the same on one
device as on eight (:func:`check_batch_sizes` refuses a batch that does not divide evenly).

Only the *chief* writes into the run folder (:func:`is_chief`): checkpoints, samples, logs,
``run.json``, ``dataset.json`` and the lock.  The other workers train and write nothing; when
resuming, each restores the checkpoint the chief chose (:func:`agree_with_chief`), so no worker
ever starts over on its own.

TensorFlow is imported only inside the functions: :mod:`progan_tf.cli` validates
``TF_CONFIG`` and creates the strategy *before* TensorFlow does anything else, which
``MultiWorkerMirroredStrategy`` requires.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from progan_tf.constants import DISTRIBUTE_STRATEGIES
from progan_tf.errors import DatasetError, OptionError, RunDirectoryError

__all__ = ["STRATEGIES", "TF_CONFIG_EXAMPLE", "agree_with_chief", "average_logs_across_workers",
           "check_batch_sizes", "chief_in_tf_config", "describe", "is_chief", "make_strategy",
           "missing_checkpoint", "num_workers", "read_tf_config", "worker_failures"]

log = logging.getLogger(__name__)

STRATEGIES = DISTRIBUTE_STRATEGIES
"""The values of ``--distribute`` (besides none: TensorFlow's default strategy)."""

TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}\'')
"""An example ``TF_CONFIG`` for two machines, as error messages show it (index 1 on host2)."""

_ROLES = ("chief", "worker", "evaluator", "ps")


def _tf_config_error(problem: str) -> OptionError:
    return OptionError(f"--distribute multi-worker reads the cluster from TF_CONFIG, and "
                       f"{problem}; set it on every machine, e.g. {TF_CONFIG_EXAMPLE} (index 1 "
                       f"on host2)")


def read_tf_config(environ: Mapping[str, str] | None = None) -> dict:
    """The cluster of ``TF_CONFIG``, checked without TensorFlow.

    ``TF_CONFIG`` is JSON with a ``cluster`` (``"worker"``, optionally one ``"chief"``: lists
    of ``host:port``) and this process's ``task`` (its ``type`` and ``index`` in that list).

    Args:
        environ: Where to read ``TF_CONFIG`` (default ``None``: ``os.environ``).

    Returns:
        The parsed ``TF_CONFIG``.

    Raises:
        OptionError: it is missing or invalid; one line saying what to set, with an example.

    Example:
    >>> config = read_tf_config({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:1"]}, '
    ...                                       '"task": {"type": "worker", "index": 1}}'})
    >>> config["task"]
    {'type': 'worker', 'index': 1}
    >>> read_tf_config({})
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: --distribute multi-worker reads the cluster from TF_CONFIG, \
and TF_CONFIG is not set; set it on every machine, e.g. TF_CONFIG='{"cluster": {"worker": \
["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}' (index 1 on host2)
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "")
    if not text.strip():
        raise _tf_config_error("TF_CONFIG is not set")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise _tf_config_error(f"TF_CONFIG is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise _tf_config_error("TF_CONFIG is not a JSON object")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise _tf_config_error('TF_CONFIG has no "cluster" object')
    for role, addresses in cluster.items():
        if role not in _ROLES:
            raise _tf_config_error(f'its cluster names an unknown task type {role!r} (expected '
                                   f'"worker" and optionally "chief")')
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and ":" in a for a in addresses)):
            raise _tf_config_error(f'its cluster\'s "{role}" is not a list of "host:port" '
                                   f'addresses')
    if not cluster.get("worker") and not cluster.get("chief"):
        raise _tf_config_error('its cluster lists no "worker"')
    if len(cluster.get("chief", [])) > 1:
        raise _tf_config_error('its cluster lists more than one "chief"')
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise _tf_config_error('TF_CONFIG has no "task" with this machine\'s "type" and "index"')
    role, index = task["type"], task["index"]
    if role not in cluster:
        raise _tf_config_error(f"its task type {role!r} is not in the cluster "
                               f"({', '.join(cluster)})")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(
            cluster[role]):
        raise _tf_config_error(f"its task index {index!r} is not a position in the cluster's "
                               f'"{role}" list (0 to {len(cluster[role]) - 1})')
    return config


def chief_in_tf_config(config: Mapping) -> bool:
    """Whether the task of a ``TF_CONFIG`` is the chief, as TensorFlow defines it.

    The chief is the task of type ``"chief"``, or worker 0 when the cluster has no chief.

    Example:
    >>> chief_in_tf_config({"cluster": {"worker": ["a:1", "b:1"]},
    ...                     "task": {"type": "worker", "index": 0}})
    True
    >>> chief_in_tf_config({"cluster": {"chief": ["a:1"], "worker": ["b:1"]},
    ...                     "task": {"type": "worker", "index": 0}})
    False
    """
    cluster, task = config.get("cluster", {}), config.get("task", {})
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index") == 0 and "chief" not in cluster


def make_strategy(name: str | None) -> Any:
    """The ``tf.distribute`` strategy that ``--distribute NAME`` names (``None``: none).

    Call it before TensorFlow does any other work (lists devices, builds a tensor):
    ``MultiWorkerMirroredStrategy`` must configure the runtime first.

    Args:
        name: One of :data:`STRATEGIES`, or ``None`` for TensorFlow's default strategy.

    Returns:
        The strategy, or ``None`` for ``name=None``.

    Raises:
        OptionError: an unknown name, a missing or invalid ``TF_CONFIG`` (multi-worker), or no
            TPU to connect to (tpu); one line saying what to do.

    Example:
    >>> make_strategy(None) is None
    True
    >>> make_strategy("horovod")
    Traceback (most recent call last):
    ...
    progan_tf.errors.OptionError: distribute must be one of 'mirrored', 'multi-worker', \
'tpu'. Received: distribute='horovod'
    """
    if name is None:
        return None
    if name not in STRATEGIES:
        raise OptionError(f"distribute must be one of {', '.join(map(repr, STRATEGIES))}. "
                          f"Received: distribute={name!r}")
    if name == "multi-worker":
        read_tf_config()  # before TensorFlow: its own errors are long and late
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            if "startup" not in str(error):
                raise
            raise OptionError("--distribute multi-worker must create its strategy before "
                              "TensorFlow starts; call make_strategy() first in the process "
                              "(in a notebook: restart the kernel)") from None
    return _tpu_strategy(tf)


def _tpu_strategy(tf: Any) -> Any:
    """``TPUStrategy`` on the TPU of this runtime (Colab, a TPU VM or ``TPU_NAME``)."""
    no_tpu = ("--distribute tpu found no TPU ({}); in Colab choose Runtime > Change runtime type "
              "> TPU, on Google Cloud set TPU_NAME, or drop --distribute")
    resolvers = tf.distribute.cluster_resolver
    try:
        try:
            resolver = resolvers.TPUClusterResolver()  # TPU_NAME, a TPU node (older Colab)
        except ValueError:
            resolver = resolvers.TPUClusterResolver(tpu="local")  # a TPU VM (Colab today)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OptionError(no_tpu.format(reason)) from None
    return tf.distribute.TPUStrategy(resolver)


def num_workers(strategy: Any) -> int:
    """The number of machines (processes) ``strategy`` trains on: 1 unless multi-worker."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or type(strategy).__name__.startswith("TPU"):
        return 1
    spec = resolver.cluster_spec()
    jobs = spec.jobs if spec else []
    return max(1, sum(spec.num_tasks(job) for job in jobs if job in ("chief", "worker")))


def is_chief(strategy: Any = None) -> bool:
    """Whether this process writes the run folder: always, unless it is a multi-worker non-chief.

    Args:
        strategy: The strategy (default ``None``: the current one, ``tf.distribute``'s
            default outside any scope).

    Returns:
        ``strategy.extended.should_checkpoint``: ``True`` on one machine; with
        ``MultiWorkerMirroredStrategy``, ``True`` on the chief only (task ``chief``, or worker 0
        when there is none).
    """
    if strategy is None:
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
    return bool(strategy.extended.should_checkpoint)


def describe(strategy: Any) -> str:
    """``"MirroredStrategy, 2 replicas"``, ``"... worker 1 of 2"``: for log lines."""
    if strategy is None:
        return "default strategy, 1 replica"
    text = f"{type(strategy).__name__}, {strategy.num_replicas_in_sync} replicas"
    workers = num_workers(strategy)
    if workers > 1:
        resolver = strategy.cluster_resolver
        text += f", task {resolver.task_type} {resolver.task_id} of {workers} machines"
    return text


def check_batch_sizes(phases: Any, strategy: Any) -> None:
    """Refuse batch sizes that the replicas of ``strategy`` cannot share evenly.

    Args:
        phases: The schedule's phases (each with ``name`` and ``batch_size``).
        strategy: The strategy (``None``: one replica, nothing to check).

    Raises:
        DatasetError: a phase's (global) batch size is not a multiple of the replicas.
    """
    if strategy is None:
        return
    replicas = int(strategy.num_replicas_in_sync)
    uneven = {f"{getattr(p, 'resolution', p.name)}:{p.batch_size}": None for p in phases
              if p.batch_size % replicas}
    if uneven:
        sizes = ",".join(uneven)
        raise DatasetError(
            f"batch sizes are global and each of the {replicas} replicas trains an equal share, "
            f"so every batch size must be a multiple of {replicas}; change --batch-sizes. "
            f"Received: batch_sizes={sizes}")


def agree_with_chief(strategy: Any, value: int) -> int:
    """The chief's ``value`` (a whole number >= -1), on every worker.

    Workers of a multi-worker run resume from the checkpoint the chief chose: the chief finds
    it (and sets damaged ones aside), then every worker learns its image count through one
    all-reduce, which also makes the others wait for the chief.  On one machine this returns
    ``value`` without any communication.

    Args:
        strategy: The strategy (``None``: one machine).
        value: This worker's value; only the chief's counts.

    Returns:
        The chief's value.
    """
    if strategy is None or num_workers(strategy) == 1:
        return int(value)
    import tensorflow as tf

    # A sum in which only the chief's replicas count (ReduceOp has no MAX), split between them.
    share = float(value) / len(strategy.extended.worker_devices) if is_chief(strategy) else 0.0
    values = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(share, tf.float64))
    return round(float(strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None)))


def average_logs_across_workers(model: Any) -> None:
    """Let Keras ``fit`` average ``model``'s step logs across the workers of a multi-worker run.

    Keras 3 reduces what ``train_step`` returns with ``strategy.reduce("MEAN", value, axis=0)``
    under ``MultiWorkerMirroredStrategy``, which fails on the scalar losses every model returns
    ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388).  This wraps ``model.train_step`` so that it returns each
    value as a vector of one: the reduction then yields the scalar mean over all replicas.

    Args:
        model: The ``keras.Model`` to train (changed in place; a second call does nothing).
    """
    if getattr(model, "_logs_as_vectors", False):
        return
    import tensorflow as tf

    step = model.train_step

    def train_step(data: Any) -> Any:
        return tf.nest.map_structure(lambda value: tf.reshape(value, [1]), step(data))

    model.train_step = train_step
    model._logs_as_vectors = True


@contextlib.contextmanager
def worker_failures(strategy: Any) -> Iterator[None]:
    """Turn a lost worker of a multi-worker run into one line instead of TensorFlow's trace.

    When one worker stops (an error, a kill, a lost machine), the others' next collective
    operation fails within seconds with ``UnavailableError`` or similar; this says what happened
    and what to do.  On one machine it changes nothing.

    Raises:
        RunDirectoryError: another worker stopped or cannot be reached.
    """
    if num_workers(strategy) == 1:
        yield
        return
    import tensorflow as tf

    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError,
            tf.errors.DeadlineExceededError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = reason.split("}}")[-1].strip()[:160]
        raise RunDirectoryError(
            f"another worker of this multi-worker run stopped or cannot be reached ({reason}); "
            f"its own output says why; the run folder keeps its newest checkpoint: start every "
            f"worker again (with --resume once the run exists)") from None


def missing_checkpoint(run_dir: Any, images: int) -> RunDirectoryError:
    """The error of a worker that cannot see the checkpoint its chief resumes from."""
    return RunDirectoryError(
        f"the chief resumes from the checkpoint at {images / 1000:g} kimg, which this worker "
        f"cannot load from {str(run_dir)!r}; every worker must see the same run folder (a shared "
        f"file system, mounted at the same path)")
