"""The ``pt.<name>`` facade: every name resolves, and the type stub lists exactly those names.

``progan_tf/__init__.py`` imports each public name on first use (PEP 562); ``__init__.pyi``
spells the same names out as imports for IDEs and type checkers. A name added to one and not the
other would be invisible to an IDE, or a stub entry that fails at run time.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import progan_tf
from progan_tf import errors

STUB = Path(progan_tf.__file__).with_name("__init__.pyi")


def stub_imports():
    """``{name: module}`` of the stub's ``from progan_tf.<module> import <name> as <name>``."""
    names = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name}: re-export it as itself"
                names[alias.name] = node.module.removeprefix("progan_tf.")
    return names


def stub_all():
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__":
            return sorted(ast.literal_eval(node.value))
    raise AssertionError("the stub has no __all__")


def test_the_stub_lists_exactly_the_lazy_names():
    # Where each name comes from is checked below: the stub's module must hold the very object
    # that pt.<name> resolves to.
    assert sorted(stub_imports()) == stub_all() == sorted(progan_tf.__all__)


@pytest.mark.parametrize("name", progan_tf.__all__)
def test_every_public_name_resolves_to_its_module(name):
    module = stub_imports()[name]
    value = getattr(progan_tf, name)
    assert value is getattr(__import__(f"progan_tf.{module}", fromlist=[name]), name)
    assert name in dir(progan_tf)


def test_every_error_class_is_public():
    classes = [name for name in errors.__all__ if isinstance(getattr(errors, name), type)]
    assert classes and set(classes) <= set(progan_tf.__all__)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'generat'"):
        progan_tf.generat  # noqa: B018 -- the attribute access is the test


def test_the_stub_sits_beside_py_typed():
    # tests/test_bundled.py builds the wheel and finds both in it.
    assert STUB.is_file() and STUB.with_name("py.typed").is_file()


def test_the_facade_imports_no_tensorflow_until_a_model_is_needed():
    code = ("import sys, progan_tf as pt; pt.BUNDLED, pt.PROGAN_128, pt.ProganError, "
            "pt.walk, pt.sample_latents; print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr
