"""``progan-tf --help`` answers at once: nothing the help needs imports TensorFlow.

The parser takes its defaults and choices from :mod:`progan_tf.constants` (TensorFlow-free), the
same tuples the package checks its arguments against. These tests run the help in a fresh
interpreter and look at ``sys.modules`` afterwards, so a module-level ``import tensorflow``
anywhere on the help's path -- or a default read from a module that imports it -- fails them.
"""

import subprocess
import sys

import pytest

from progan_tf import constants
from progan_tf.cli_parser import INVERT_LOSSES, build_parser

COMMANDS = ["generate", "interpolate", "train", "export", "evaluate", "invert", "demo", "translate",
            "upscale", "train-encoder", "mix"]

# Prints the help of argv (given as sys.argv[1:]), then the heavy modules that got imported.
RUNNER = """
import contextlib, io, sys
from progan_tf import cli
with contextlib.redirect_stdout(io.StringIO()) as help_text:
    try:
        cli.main(sys.argv[1:])
    except SystemExit as stop:
        assert stop.code == 0, stop.code
assert help_text.getvalue().startswith(("usage: progan-tf", "progan-tf ")), help_text.getvalue()
heavy = ("tensorflow", "keras", "tensorflow_hub", "numpy")
print(" ".join(sorted(name for name in heavy if name in sys.modules)) or "none")
"""


@pytest.mark.parametrize("argv", [["--help"], ["--version"]] + [[c, "--help"] for c in COMMANDS])
def test_help_does_not_import_tensorflow(argv):
    result = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    imported = result.stdout.split()
    assert "tensorflow" not in imported and "keras" not in imported, imported


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, progan_tf; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def option_action(command, dest):
    parser = build_parser()
    sub = next(action for action in parser._actions if action.dest == "command")
    for action in sub.choices[command]._actions:
        if action.dest == dest:
            return action
    raise AssertionError(f"{command} has no option {dest}")


def choices_of(command, dest):
    action = option_action(command, dest)
    return action.choices, action.default


def test_defaults_and_choices_are_the_packages():
    assert choices_of("interpolate", "method") == (constants.INTERPOLATION_METHODS,
                                                   "hypersphere")
    assert choices_of("train", "crop") == (constants.CROPS, "center")
    assert choices_of("evaluate", "crop") == (constants.CROPS, "center")
    assert choices_of("train", "precision") == (constants.PRECISIONS, "float32")
    assert choices_of("invert", "loss") == (INVERT_LOSSES, "mse")
    assert set(INVERT_LOSSES) == set(constants.RECOVERY_LOSSES) - {"discriminator"}
    for command in ("generate", "interpolate", "evaluate", "invert"):
        assert choices_of(command, "model") == (None, constants.DEFAULT_MODEL)
    assert choices_of("demo", "model") == (None, constants.BUNDLED)
    # --steps/--restarts default to None: the fast path (an encoder) and the full search have
    # their own defaults, both named in the help, chosen when the command knows which it takes.
    for command in ("invert", "demo"):
        for option, fast, full in [
                ("steps", constants.ENCODER_REFINE_STEPS, constants.RECOVERY_STEPS),
                ("restarts", constants.ENCODER_REFINE_RESTARTS, constants.RECOVERY_RESTARTS)]:
            action = option_action(command, option)
            assert action.default is None
            assert f"default {fast} after an encoder, {full} for the full search" in \
                " ".join(action.help.split())
