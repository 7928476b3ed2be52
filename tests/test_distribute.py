"""``train --distribute``: strategy selection, its one-line errors, and training under it.

The slow test starts two worker processes on localhost with ``MultiWorkerMirroredStrategy``
through the real CLI, kills them after a checkpoint, resumes them, and checks that training
continued from the checkpoint and that only the chief wrote into the run folder.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from conftest import TRAIN_ENV, read_csv, tiny_config

from progan_tf.cli_parser import build_parser
from progan_tf.errors import DatasetError, OptionError
from progan_tf.training import checkpoint, distribute

GOOD = {"cluster": {"worker": ["localhost:1", "localhost:2"]},
        "task": {"type": "worker", "index": 1}}


def tf_config(value):
    return {"TF_CONFIG": value if isinstance(value, str) else json.dumps(value)}


# ---------------------------------------------------------------------------------------------
# TF_CONFIG, the chief, strategy names: no TensorFlow work needed
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, problem", [
    (None, "TF_CONFIG is not set"),
    ("  ", "TF_CONFIG is not set"),
    ("{cluster", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ({"task": {"type": "worker", "index": 0}}, 'no "cluster"'),
    ({"cluster": {"worker": "localhost:1"}, "task": {"type": "worker", "index": 0}},
     'is not a list of "host:port"'),
    ({"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}},
     'is not a list of "host:port"'),
    ({"cluster": {"workers": ["a:1"]}, "task": {"type": "worker", "index": 0}},
     "unknown task type 'workers'"),
    ({"cluster": {"worker": ["a:1"]}}, 'no "task"'),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}},
     "task type 'chief' is not in the cluster"),
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}},
     "task index 2 is not a position"),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "0"}},
     "task index '0'"),
    ({"cluster": {"chief": ["a:1", "b:1"], "worker": ["c:1"]},
      "task": {"type": "worker", "index": 0}}, 'more than one "chief"'),
])
def test_missing_or_bad_tf_config_is_one_line_with_an_example(value, problem):
    with pytest.raises(OptionError) as caught:
        distribute.read_tf_config({} if value is None else tf_config(value))
    message = str(caught.value)
    assert problem in message and "\n" not in message
    assert message.startswith("--distribute multi-worker reads the cluster from TF_CONFIG")
    assert distribute.TF_CONFIG_EXAMPLE in message
    # The example itself is a valid TF_CONFIG.
    example = distribute.TF_CONFIG_EXAMPLE.split("=", 1)[1].strip("'")
    assert distribute.read_tf_config({"TF_CONFIG": example})["task"]["index"] == 0


def test_a_good_tf_config_is_read():
    assert distribute.read_tf_config(tf_config(GOOD)) == GOOD


@pytest.mark.parametrize("cluster, task, chief", [
    ({"worker": ["a:1", "b:1"]}, ("worker", 0), True),
    ({"worker": ["a:1", "b:1"]}, ("worker", 1), False),
    ({"chief": ["a:1"], "worker": ["b:1"]}, ("chief", 0), True),
    ({"chief": ["a:1"], "worker": ["b:1"]}, ("worker", 0), False),
])
def test_the_chief_is_task_chief_or_worker_0_without_one(cluster, task, chief):
    config = {"cluster": cluster, "task": {"type": task[0], "index": task[1]}}
    assert distribute.chief_in_tf_config(config) is chief


def test_the_parser_offers_the_strategies_and_none_by_default():
    parser = build_parser()
    args = parser.parse_args(["train", "faces", "--out", "run"])
    assert args.distribute is None
    for name in distribute.STRATEGIES:
        assert parser.parse_args(["train", "faces", "--out", "run", "--distribute",
                                  name]).distribute == name
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    action = next(a for a in sub._actions if a.dest == "distribute")
    assert tuple(action.choices) == distribute.STRATEGIES


def test_unknown_strategy_is_one_line():
    with pytest.raises(OptionError, match="distribute must be one of 'mirrored', "
                                          "'multi-worker', 'tpu'. Received: distribute='gpu'"):
        distribute.make_strategy("gpu")
    assert distribute.make_strategy(None) is None


def cli(*args, env=None, timeout=120):
    """``progan-tf ARGS`` in a fresh interpreter (a fresh TensorFlow runtime)."""
    return subprocess.run([sys.executable, "-m", "progan_tf.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**TRAIN_ENV, **(env or {})})


def test_cli_bad_distribute_value_is_argparses_error(tmp_path):
    result = cli("train", tmp_path, "--out", tmp_path / "run", "--distribute", "gpus")
    assert result.returncode == 2
    assert "argument --distribute: invalid choice: 'gpus'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


# Runs the CLI in one fresh interpreter (TensorFlow starts once): multi-worker without TF_CONFIG,
# with a bad one, and tpu where there is none; prints each exit status and stderr as JSON.
NO_CLUSTER = """
import contextlib, io, json, os, sys
from progan_tf.cli import main
results = []
for tf_config, name in [(None, "multi-worker"), ('{"cluster": {}}', "multi-worker"),
                        (None, "tpu")]:
    os.environ.pop("TF_CONFIG", None)
    if tf_config:
        os.environ["TF_CONFIG"] = tf_config
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["train", sys.argv[1], "--out", sys.argv[2], "--distribute", name])
    results.append([code, err.getvalue()])
print(json.dumps(results))
"""


def test_cli_no_cluster_and_no_tpu_are_one_line(faces, tmp_path):
    env = {k: v for k, v in TRAIN_ENV.items()
           if k not in ("TF_CONFIG", "TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_CONFIG")}
    result = subprocess.run([sys.executable, "-c", NO_CLUSTER, str(faces), str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    (unset, bad, tpu) = json.loads(result.stdout.strip().splitlines()[-1])
    for code, stderr in (unset, bad, tpu):
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("progan-tf: error: "), stderr
    assert "reads the cluster from TF_CONFIG, and TF_CONFIG is not set; set it on every " \
           "machine, e.g. TF_CONFIG=" in unset[1]
    assert 'TF_CONFIG has no "cluster" object' in bad[1] and "e.g. TF_CONFIG=" in bad[1]
    assert "--distribute tpu found no TPU" in tpu[1]
    assert "Runtime > Change runtime type > TPU" in tpu[1]
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------------------
# MirroredStrategy in this process: one CPU device, so one replica
# ---------------------------------------------------------------------------------------------

class FakeStrategy:
    """What check_batch_sizes reads of a strategy."""

    def __init__(self, replicas):
        self.num_replicas_in_sync = replicas
        self.extended = types.SimpleNamespace(should_checkpoint=True)


def test_batches_that_the_replicas_cannot_share_are_refused(faces, tmp_path):
    from progan_tf.gan.train import train

    config = tiny_config(faces, tmp_path / "run", batch_sizes={4: 8, 8: 6})
    distribute.check_batch_sizes(config.schedule().phases, FakeStrategy(2))  # 8 and 6: even
    with pytest.raises(DatasetError) as caught:
        train(config, strategy=FakeStrategy(4), progress=False)
    assert str(caught.value) == (
        "batch sizes are global and each of the 4 replicas trains an equal share, so every batch "
        "size must be a multiple of 4; change --batch-sizes. Received: batch_sizes=8:6")
    assert not (tmp_path / "run").exists()


def test_a_lost_worker_is_one_line_and_one_machine_is_left_alone():
    import tensorflow as tf

    from progan_tf.errors import RunDirectoryError

    two = FakeStrategy(2)
    two.cluster_resolver = types.SimpleNamespace(
        cluster_spec=lambda: tf.train.ClusterSpec({"worker": ["a:1", "b:1"]}))
    assert distribute.num_workers(two) == 2
    lost = tf.errors.UnavailableError(None, None, "{{function_node x}} Collective ops is aborted "
                                                  "by: Socket closed\nAdditional GRPC error")
    with pytest.raises(RunDirectoryError) as caught:
        with distribute.worker_failures(two):
            raise lost
    assert str(caught.value).startswith("another worker of this multi-worker run stopped or "
                                        "cannot be reached (Collective ops is aborted by: Socket "
                                        "closed); ")
    with pytest.raises(tf.errors.UnavailableError):  # one machine: TensorFlow's own error
        with distribute.worker_failures(FakeStrategy(2)):
            raise lost


def test_mirrored_strategy_trains_and_writes_the_run(faces, tmp_path):
    import tensorflow as tf

    from progan_tf.gan.train import train

    strategy = distribute.make_strategy("mirrored")
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert distribute.is_chief(strategy) and distribute.num_workers(strategy) == 1
    assert distribute.agree_with_chief(strategy, 64) == 64  # one machine: no communication
    config = tiny_config(faces, tmp_path / "run", resolution=4, kimg_per_phase=0.032)
    run = train(config, strategy=strategy, progress=False, log_every=1)
    newest = checkpoint.latest(run / "checkpoints")
    assert checkpoint.read_state(newest)["images_shown"] == 32
    assert read_csv(run / "losses.csv") and (run / "samples").is_dir()


# ---------------------------------------------------------------------------------------------
# Two workers on localhost: killed after a checkpoint, resumed; only the chief writes
# ---------------------------------------------------------------------------------------------

# Runs the real CLI, recording every file the process creates, changes or removes (Python-level
# audit events) under the run folder into a report file outside it.
WORKER = """
import os, sys
run, report, argv = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3:]
fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
EVENTS = ("os.rename", "os.replace", "os.link", "os.symlink", "os.mkdir", "os.remove",
          "os.rmdir", "os.truncate", "shutil.rmtree", "shutil.move")
def record(event, path):
    if isinstance(path, (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(path))
        if path == run or path.startswith(run + os.sep):
            os.write(fd, f"{event} {path}\\n".encode())
def hook(event, args):
    if event == "open" and args[2] & WRITE:
        record(event, args[0])
    elif event in EVENTS:
        record(event, args[0])
        if event in ("os.rename", "os.replace", "os.link", "os.symlink", "shutil.move"):
            record(event + "-to", args[1])
sys.addaudithook(hook)
from progan_tf.cli import main
sys.exit(main(argv))
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_workers(tmp_path, session, run, args):
    """The chief (worker 0) and worker 1, each running ``progan-tf train ARGS``."""
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        env = {**TRAIN_ENV, "TF_CONFIG": json.dumps({"cluster": cluster,
                                                     "task": {"type": "worker",
                                                              "index": index}})}
        log = open(tmp_path / f"{session}-worker{index}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER, run, tmp_path / f"{session}-writes{index}.txt",
             "train", *map(str, args), "--distribute", "multi-worker"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        workers.append((process, log))
    return workers


def finish(workers, timeout):
    deadline = time.monotonic() + timeout
    codes = []
    for process, log in workers:
        try:
            codes.append(process.wait(max(deadline - time.monotonic(), 1)))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
        log.close()
    return codes


def written_checkpoints(report):
    """The image counts of the checkpoints a worker's write report shows it creating."""
    lines = [line.split(" ", 1) for line in report.read_text().splitlines()]
    names = {Path(path).name for event, path in lines
             if event in ("os.rename-to", "os.replace-to")}
    return sorted(checkpoint.checkpoint_images(name) for name in names
                  if checkpoint.checkpoint_images(name) is not None)


@pytest.mark.slow
def test_two_workers_are_killed_after_a_checkpoint_and_resume(faces, tmp_path):
    run = tmp_path / "run"
    # One 4x4 phase of 64 steps of 8 images (4 per worker); a checkpoint after every step, a
    # losses.csv row every 10 steps.
    options = [faces, "--out", run, "--resolution", "4", "--latent-dim", "16", "--fmap-max", "8",
               "--kimg-per-phase", "0.512", "--batch-sizes", "4:8", "--seed", "3",
               "--checkpoint-minutes", "0.0001"]
    ckpt_dir = run / "checkpoints"

    # 1. Train until a checkpoint after the first losses.csv row, then kill both workers.
    workers = start_workers(tmp_path, "first", run, options)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        newest = checkpoint.latest(ckpt_dir)
        if newest is not None and checkpoint.checkpoint_images(newest) >= 96:
            break
        assert all(process.poll() is None for process, _ in workers), \
            (tmp_path / "first-worker0.log").read_text()[-3000:]
        time.sleep(0.1)
    for process, _ in workers:
        process.send_signal(signal.SIGKILL)
    finish(workers, 30)
    newest = checkpoint.latest(ckpt_dir)
    assert newest is not None, (tmp_path / "first-worker0.log").read_text()[-3000:]
    resumed_at = checkpoint.read_state(newest)["images_shown"]
    assert 96 <= resumed_at < 512
    first_chief = workers[0][0].pid

    # 2. Resume both; they stop 12 steps after the checkpoint (a losses.csv row on the way).
    target = resumed_at + 96
    workers = start_workers(tmp_path, "second", run,
                            [*options, "--resume", "--stop-after-kimg", target / 1000])
    codes = finish(workers, 240)
    logs = [(tmp_path / f"second-worker{index}.log").read_text() for index in range(2)]
    assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]

    # Training continued from the checkpoint: the chief saved only later checkpoints (every
    # step: starting over would have saved 8, 16, ...), ending at the target after exactly
    # one step per 8 images in all; losses.csv kept its rows up to the checkpoint and went on.
    saved = written_checkpoints(tmp_path / "second-writes0.txt")
    assert saved and saved[0] > resumed_at and saved[-1] == target, saved
    state = checkpoint.read_state(checkpoint.latest(ckpt_dir))
    assert state["images_shown"] == target and state["ema_updates"] == target // 8
    kimg = [round(float(row["kimg"]) * 1000) for row in read_csv(run / "losses.csv")]
    assert kimg == sorted(set(kimg)) and kimg[-1] <= target, kimg
    assert any(k <= resumed_at for k in kimg) and any(k > resumed_at for k in kimg), kimg
    assert all("Traceback" not in text for text in logs)

    # Only the chief (worker 0) wrote into the run folder: worker 1 recorded no write at all
    # (beside the CLI's probe that the folder is writable, which it removes at once).
    assert written_checkpoints(tmp_path / "first-writes0.txt")
    for session in ("first", "second"):
        writes = (tmp_path / f"{session}-writes1.txt").read_text().splitlines()
        assert [w for w in writes if ".progan-tf-probe-" not in w] == []
    events = list((run / "logs").iterdir())  # TensorBoard names its files by process id
    assert {int(path.name.split(".")[-3]) for path in events} == {first_chief,
                                                                 workers[0][0].pid}
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoints", "dataset.json", "logs", "losses.csv", "losses.png", "run.json",
        "samples", "starts.json"]
