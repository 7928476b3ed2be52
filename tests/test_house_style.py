"""House style that a reviewer would otherwise have to check by eye (CONTRIBUTING.md).

* **No private reach**: no module of the package (``progan_tf/**/*.py``) or of ``bench/``
  uses another module's underscore name -- ``from progan_tf.x import _y``,
  ``import progan_tf.x._y``, or ``x._y`` on a progan_tf module bound by an import. What
  another module needs gets a public name where it lives. A private module (``_y.py``) may be
  used by the other modules of its own package, never from outside it; dunder names
  (``__version__``) are public.
* **Small modules**: no module of the package is longer than :data:`MAX_LINES` lines.
* **One home for errors**: every exception or warning class is defined in
  ``progan_tf/errors.py``.

The scanners read the source with :mod:`ast` (nothing is imported), and are tested on small
snippets first, so a failure names a real file and line, not a bug in the test.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "progan_tf"
ERRORS = PACKAGE / "errors.py"
MAX_LINES = 500


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def scanned_files() -> list[Path]:
    """What the private-reach and error scans read: the package and the benchmark scripts."""
    return package_files() + sorted((REPO / "bench").glob("*.py"))


def module_name(path: Path) -> str:
    """``progan_tf/gan/data.py`` -> ``progan_tf.gan.data``; a package is its ``__init__``."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(dotted: str, root: Path = REPO) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


# --------------------------------------------------------------------------------------------
# Private reach
# --------------------------------------------------------------------------------------------


def private_reach(source: str, own: str, is_package: bool = False,
                  is_module=_is_module) -> list[tuple[int, str]]:
    """``(line, what)`` for every use of another progan_tf module's underscore name.

    Args:
        source: The module's code.
        own: Its dotted name (``progan_tf.images``); for a package, the package's name.
        is_package: Whether ``source`` is a package's ``__init__`` (for relative imports).
        is_module: Tells whether a dotted name is a module of the repository.
    """
    package = own if is_package else own.rpartition(".")[0]

    def allowed_private_module(dotted: str) -> bool:
        """A private module may be used by the modules of the package that holds it."""
        parts = dotted.split(".")
        for index, part in enumerate(parts):
            if is_private(part):
                holder = ".".join(parts[:index])
                if not (package == holder or package.startswith(holder + ".")):
                    return False
        return True

    def reach_into(dotted: str, name: str) -> str | None:
        """What is wrong with using ``name`` of module ``dotted`` here, if anything."""
        if not dotted.startswith("progan_tf") or dotted == own:
            return None
        if not allowed_private_module(dotted):
            return f"{dotted} is a private module of another package"
        submodule = f"{dotted}.{name}"
        if is_private(name) and not (is_module(submodule) and allowed_private_module(submodule)):
            return submodule
        return None

    found = []
    bound: dict[str, str] = {}  # local name -> the progan_tf module it stands for
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                dotted = ".".join(base + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            if not dotted.startswith("progan_tf"):
                continue
            if not allowed_private_module(dotted) and dotted != own:
                found.append((node.lineno, f"from {dotted} import ...: a private module of "
                                           f"another package"))
                continue
            for alias in node.names:
                problem = reach_into(dotted, alias.name)
                if problem:
                    found.append((node.lineno, f"from {dotted} import {alias.name}"))
                elif is_module(f"{dotted}.{alias.name}"):
                    bound[alias.asname or alias.name] = f"{dotted}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("progan_tf"):
                    continue
                parent, _, last = alias.name.rpartition(".")
                problem = reach_into(parent, last) if parent else None
                if problem:
                    found.append((node.lineno, f"import {alias.name}"))
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound["progan_tf"] = "progan_tf"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        chain, root = [node.attr], node.value
        while isinstance(root, ast.Attribute):
            chain.insert(0, root.attr)
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in bound:
            continue
        dotted = bound[root.id]
        for name in chain:
            problem = reach_into(dotted, name)
            if problem:
                found.append((node.lineno, f"{root.id}.{'.'.join(chain[:chain.index(name) + 1])}"
                                           f" ({problem})"))
                break
            if not is_module(f"{dotted}.{name}"):
                break
            dotted = f"{dotted}.{name}"
    return sorted(set(found))


def private_reach_in_repository() -> list[str]:
    found = []
    for path in scanned_files():
        own = module_name(path)
        for line, what in private_reach(path.read_text(encoding="utf-8"), own,
                                        is_package=path.name == "__init__.py"):
            found.append(f"{path.relative_to(REPO)}:{line}: {what}")
    return found


def _module_names(*names: str):
    return lambda dotted: dotted in names


@pytest.mark.parametrize("code", [
    "from progan_tf.images import _parse_size",
    "from progan_tf.gan.checkpoint import _umask as umask",
    "from . import _private_thing",  # in progan_tf/gan/export.py: progan_tf.gan._private_thing
    "from .checkpoint import _umask",
    "import progan_tf.recovery._internal",
    "from progan_tf.gan import checkpoint\ncheckpoint._umask()",
    "import progan_tf.gan.checkpoint as ckpt\nckpt._umask()",
    "import progan_tf.gan.checkpoint\nprogan_tf.gan.checkpoint._umask()",
    "def f():\n    from progan_tf.gan.data import _decode\n    return _decode",
    "from progan_tf.recovery._search import run",  # a private module of another package
])
def test_scanner_finds_each_kind_of_private_reach(code):
    modules = _module_names("progan_tf.gan.checkpoint", "progan_tf.gan", "progan_tf.images",
                            "progan_tf.gan.data", "progan_tf.recovery._search",
                            "progan_tf.recovery._internal")
    assert private_reach(code, "progan_tf.gan.export", is_module=modules), code


@pytest.mark.parametrize("code", [
    "from progan_tf.images import parse_size\nfrom progan_tf import __version__",
    "from progan_tf.gan import checkpoint\ncheckpoint.umask()\nimport keras\nkeras._x",
    "import progan_tf\nprogan_tf.__version__",
    "from progan_tf.gan.export import _own_helper",  # its own name
    "from progan_tf.gan._shared import helper",  # a private module of its own package
    "from . import _shared\nimport progan_tf.gan._shared\nprogan_tf.gan._shared.helper()",
    "import numpy as np\nnp._NoValue\nself._cache = {}",
])
def test_scanner_allows_public_names_own_names_and_other_libraries(code):
    modules = _module_names("progan_tf.gan.checkpoint", "progan_tf.gan", "progan_tf.images",
                            "progan_tf.gan._shared", "progan_tf.gan.export")
    assert private_reach(code, "progan_tf.gan.export", is_module=modules) == [], code


def test_no_module_reaches_into_another_modules_private_names():
    found = private_reach_in_repository()
    assert not found, "give these a public name where they live:\n" + "\n".join(found)


# The same on objects: ``network._flatten_layers()`` reaches into Keras as surely as an import
# does. Without types, "another's" is judged by name: an underscore attribute is fine on
# ``self``/``cls`` and wherever the module itself defines that name (a def, a class, an
# assignment), and namedtuple's documented ``_replace``/``_asdict``/... are public API.
NAMEDTUPLE_API = {"_asdict", "_field_defaults", "_fields", "_make", "_replace"}


def private_attributes(source: str) -> list[tuple[int, str]]:
    """``(line, expression)`` for underscore attributes the module does not define itself."""
    tree = ast.parse(source)
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    return sorted({(node.lineno, ast.unparse(node)) for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and is_private(node.attr)
                   and node.attr not in defined | NAMEDTUPLE_API
                   and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))})


def test_attribute_scanner():
    code = ("class A:\n    def _mine(self):\n        return other._mine, self._x\n"
            "for layer in network._flatten_layers():\n    pass\n"
            "point._replace(x=1)\nsys._getframe()\nmodule.__name__\n")
    assert private_attributes(code) == [(4, "network._flatten_layers"), (7, "sys._getframe")]


def test_no_module_reaches_into_private_attributes_of_other_code():
    found = [f"{path.relative_to(REPO)}:{line}: {what}" for path in scanned_files()
             for line, what in private_attributes(path.read_text(encoding="utf-8"))]
    assert not found, "use a public API (or give one a name where it lives):\n" + "\n".join(found)


# --------------------------------------------------------------------------------------------
# Module length
# --------------------------------------------------------------------------------------------


def long_modules(limit: int = MAX_LINES) -> list[str]:
    lengths = {path: len(path.read_text(encoding="utf-8").splitlines())
               for path in package_files()}
    return [f"{path.relative_to(REPO)}: {count} lines" for path, count in lengths.items()
            if count > limit]


def test_no_module_of_the_package_is_longer_than_500_lines():
    found = long_modules()
    assert not found, f"split these by responsibility (at most {MAX_LINES} lines):\n" + \
        "\n".join(found)


# --------------------------------------------------------------------------------------------
# Exception classes
# --------------------------------------------------------------------------------------------


def exception_names() -> set[str]:
    """Built-in exception names and the classes errors.py defines."""
    names = {name for name, value in vars(builtins).items()
             if isinstance(value, type) and issubclass(value, BaseException)}
    tree = ast.parse(ERRORS.read_text(encoding="utf-8"))
    return names | {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def exception_classes(source: str, known: set[str]) -> Iterator[tuple[int, str]]:
    """``(line, name)`` of every class in ``source`` that derives from an exception."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for base in node.bases:
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name in known or name.endswith(("Error", "Exception", "Warning")):
                yield node.lineno, node.name
                break


def test_scanner_finds_exception_classes():
    code = ("class A(ValueError): pass\nclass B(errors.ProganError): pass\n"
            "class C(NotebookStop): pass\nclass D(keras.Model): pass\n"
            "def f():\n    class E(tf.errors.OpError): pass\n")
    assert [name for _, name in exception_classes(code, exception_names())] == \
        ["A", "B", "C", "E"]


def test_every_exception_class_lives_in_errors_py():
    known = exception_names()
    found = [f"{path.relative_to(REPO)}:{line}: class {name}"
             for path in scanned_files() if path != ERRORS
             for line, name in exception_classes(path.read_text(encoding="utf-8"), known)]
    assert not found, "define these in progan_tf/errors.py:\n" + "\n".join(found)
