"""The notebooks: their structure (fast) and a top-to-bottom run of each with small parameters (slow).

Runs are done like papermill: a cell of overrides is inserted after the cell tagged "parameters",
and the notebook is executed with nbclient in a temporary folder, offline (``MODEL_HANDLE`` is the
bundled model, or ``$PROGAN_TF_TEST_MODEL``). The repository's files are never written.

To let a new notebook run fast, give its slow counts a name in its parameters cell and add that
name to ``SHARED_OVERRIDES`` (used by every notebook that defines it) or to
``NOTEBOOK_OVERRIDES`` (one notebook, by file-name pattern; these must exist in the notebook).
Set ``PROGAN_TF_EXECUTED_NOTEBOOKS`` to a folder to keep the executed notebooks for inspection.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED_NOTEBOOKS = (
    "01_progan128_tfhub.ipynb",
    "02_latent_recovery.ipynb",
    "03_train_progressive_gan.ipynb",
    "04_exploring_latent_space.ipynb",
)

PROGAN_128_URL = "https://tfhub.dev/google/progan-128/1"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_URL = "https://colab.research.google.com/github/progan-tf/progan-tf/blob/main/notebooks/{}"
TEST_MODEL = os.environ.get("PROGAN_TF_TEST_MODEL", "bundled")
DATA_DIR = REPO.parent / "shared" / "data" / "celeba-8k"
NOTEBOOK_TIMEOUT_S = 300  # budget ~2 minutes each; the margin is for a busy machine

# Overrides for every notebook whose parameters cell defines the name.
SHARED_OVERRIDES = {
    "MODEL_HANDLE": TEST_MODEL,
    "USE_NETWORK": False,
    "DATA_DIR": str(DATA_DIR),
    "NUM_STEPS": 12,
    "STEPS": 40,
    "RESTARTS": 4,
}

# Overrides for one notebook (fnmatch pattern on the file name); each name must be a parameter of
# the notebook, so a renamed parameter fails loudly instead of making the run slow.
NOTEBOOK_OVERRIDES = {
    "01_*.ipynb": {"NUM_FACES": 4, "NUM_KEYFRAMES": 3},
    "02_*.ipynb": {"TUTORIAL_STEPS": 20, "STEPS_PER_IMAGE": 5},
    "03_*.ipynb": {"RESOLUTION": 8, "FMAP_MAX": 32, "KIMG_PER_PHASE": 0.512, "LOG_EVERY": 1},
    "04_*.ipynb": {"N_REAL": 1000, "N_GENERATED": 3, "N_STATS": 50, "N_CHECK": 100,
                   "STRIP_STEPS": 5},
}

# Parameters naming folders a notebook cannot run without: skipped when they are missing.
REQUIRED_FOLDERS = ("DATA_DIR",)


def _notebook_id(path: Path) -> str:
    return path.name


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tagged(nb, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.get("metadata", {}).get("tags", [])]


def _parameter_names(source: str) -> set[str]:
    """Names assigned at the top level of a parameters cell."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def overrides_for(name: str, parameters: set[str]) -> dict:
    """The overrides for notebook file ``name`` whose parameters cell defines ``parameters``."""
    values = {key: value for key, value in SHARED_OVERRIDES.items() if key in parameters}
    for pattern, specific in NOTEBOOK_OVERRIDES.items():
        if fnmatch.fnmatch(name, pattern):
            unknown = sorted(set(specific) - parameters)
            if unknown:
                raise AssertionError(f"{name}: NOTEBOOK_OVERRIDES[{pattern!r}] names {unknown}, "
                                     f"which its parameters cell does not define")
            values.update(specific)
    return values


def _override_cell(values: dict) -> nbformat.NotebookNode:
    lines = ["# Parameters injected by tests/test_notebooks.py"]
    lines += [f"{key} = {value!r}" for key, value in values.items()]
    return nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})


# --------------------------------------------------------------------------------------------
# Structure (fast)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED_NOTEBOOKS)
def test_expected_notebook_exists(name):
    assert (NOTEBOOK_DIR / name).is_file(), f"notebooks/{name} is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_notebook_is_valid_python3_notebook(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_no_outputs_committed(path):
    dirty = [i for i, cell in enumerate(_read(path).cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_title_cell_has_colab_badge_for_this_file(path):
    first = _read(path).cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# ")
    badge = f"[![Open In Colab]({BADGE_IMAGE})]({BADGE_URL.format(path.name)})"
    assert badge in first.source, f"{path.name}: no Colab badge that opens this file"
    links = re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", first.source)
    assert links == [BADGE_URL.format(path.name)], links


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_setup_cell_installs_only_when_missing(path):
    nb = _read(path)
    assert _tagged(nb, "setup") == [1], "cell 2 (and only it) must be tagged 'setup'"
    source = nb.cells[1].source
    assert nb.cells[1].cell_type == "code"
    assert 'importlib.util.find_spec("progan_tf") is None' in source
    guard, install = source.index("find_spec"), source.index("%pip install")
    assert guard < install and "progan-tf" in source[install:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_parameters_cell_defaults_to_progan128_and_reads_env(path, monkeypatch):
    nb = _read(path)
    assert _tagged(nb, "parameters") == [2], "cell 3 (and only it) must be tagged 'parameters'"
    source = nb.cells[2].source
    for node in ast.parse(source).body:  # papermill's convention: plain assignments
        assert isinstance(node, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom)), \
            f"{path.name}: parameters cell line {node.lineno} is not an assignment or import"
    monkeypatch.delenv("PROGAN_TF_MODEL", raising=False)
    defaults = {}
    exec(source, defaults)  # noqa: S102 -- our own notebook's assignments
    assert defaults["MODEL_HANDLE"] == PROGAN_128_URL
    monkeypatch.setenv("PROGAN_TF_MODEL", "some/other/model")
    from_env = {}
    exec(source, from_env)  # noqa: S102
    assert from_env["MODEL_HANDLE"] == "some/other/model"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_model_handle_is_not_hard_coded_elsewhere(path):
    nb = _read(path)
    offending = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and i != 2
                 and "tfhub.dev/google/progan" in cell.source]
    assert not offending, f"{path.name}: cells {offending} hard-code the handle; use MODEL_HANDLE"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_overrides_name_existing_parameters(path):
    nb = _read(path)
    parameters = _parameter_names(nb.cells[_tagged(nb, "parameters")[0]].source)
    values = overrides_for(path.name, parameters)
    assert values.get("MODEL_HANDLE") == TEST_MODEL


def test_overrides_for_uses_shared_names_only_where_defined():
    values = overrides_for("01_progan128_tfhub.ipynb",
                           {"MODEL_HANDLE", "NUM_STEPS", "NUM_FACES", "NUM_KEYFRAMES", "SEED"})
    assert values["MODEL_HANDLE"] == TEST_MODEL and values["NUM_STEPS"] == 12
    assert values["NUM_FACES"] == 4 and "SEED" not in values and "STEPS" not in values
    with pytest.raises(AssertionError, match="NUM_FACES"):
        overrides_for("01_progan128_tfhub.ipynb", {"MODEL_HANDLE", "NUM_KEYFRAMES"})


# --------------------------------------------------------------------------------------------
# Execution (slow)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_TIMEOUT_S + 120)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = _read(path)
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        f"{path.name} has outputs committed"
    (parameters_index,) = _tagged(nb, "parameters")
    parameters = _parameter_names(nb.cells[parameters_index].source)
    values = overrides_for(path.name, parameters)
    for key in REQUIRED_FOLDERS:
        if key in values and not Path(values[key]).is_dir():
            pytest.skip(f"{path.name} needs {key}={values[key]}, which does not exist")
    run = copy.deepcopy(nb)
    run.cells.insert(parameters_index + 1, _override_cell(values))

    monkeypatch.setenv("PROGAN_TF_MODEL", TEST_MODEL)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend, as in Jupyter
    if DATA_DIR.is_dir():
        monkeypatch.setenv("PROGAN_TF_DATA", str(DATA_DIR))

    client = NotebookClient(run, timeout=NOTEBOOK_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    started = time.monotonic()
    timings = []
    client.reset_execution_trackers()
    with client.setup_kernel():
        for index, cell in enumerate(run.cells):
            remaining = NOTEBOOK_TIMEOUT_S - (time.monotonic() - started)
            if remaining <= 0:
                pytest.fail(f"{path.name} ran longer than {NOTEBOOK_TIMEOUT_S} s; slowest "
                            f"cells (s, index): {sorted(timings, reverse=True)[:3]}")
            client.timeout = int(remaining) + 1
            cell_started = time.monotonic()
            try:
                client.execute_cell(cell, index)
            except Exception as error:  # noqa: BLE001 -- reported with the cell's source
                pytest.fail(f"{path.name}: cell {index} failed:\n{cell.source}\n\n"
                            f"{type(error).__name__}: {_strip_ansi(str(error))[-3000:]}",
                            pytrace=False)
            timings.append((round(time.monotonic() - cell_started, 1), index))
    if os.environ.get("PROGAN_TF_EXECUTED_NOTEBOOKS"):  # keep the run to look at, e.g. in CI
        keep = Path(os.environ["PROGAN_TF_EXECUTED_NOTEBOOKS"])
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(run, keep / path.name)
    print(f"{path.name}: {time.monotonic() - started:.0f} s; slowest cells (s, index): "
          f"{sorted(timings, reverse=True)[:3]}")
    assert not list(NOTEBOOK_DIR.glob("*_outputs")), "a notebook wrote into notebooks/"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
