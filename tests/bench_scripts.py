"""Helpers for the benchmark smoke tests: import a ``bench/`` script, read its tables."""

import importlib.util
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


def load_bench_script(name: str):
    """``bench/<name>.py`` as the module ``bench_<name>``, imported once per session."""
    module_name = f"bench_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, BENCH_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of every body row of the markdown tables in ``text`` (no headers, no rules)."""
    rows, in_body = [], False
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            in_body = False
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if all(cell and set(cell) <= set("-:") for cell in cells):
            in_body = True  # the rule under a header
        elif in_body:
            rows.append(cells)
    return rows
