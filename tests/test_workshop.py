"""docs/workshop.md and scripts/jupyter.sh: the workshop guide must stay true to the repository.

The guide is parsed, not trusted:

* every notebook it names exists, and every section it quotes (``§ "Title"``, attributed to the
  last notebook or README.md named before it in the same paragraph) is a heading there;
* the timetable's minute ranges follow each other from 0 to 90;
* every exercise names its answer, and every worked answer belongs to an exercise;
* every ``python runnable`` block runs against the bundled model -- ``runnable=NOTEBOOK`` blocks
  after that notebook's parameters cell and first code cell, in guide order in one namespace, as
  a participant pastes them; plain ``runnable`` blocks on their own;
* every ``progan-tf`` command parses with the real CLI, every ``scripts/jupyter.sh`` invocation
  is accepted by the script, every error message quoted in the troubleshooting table is one the
  package prints.

scripts/jupyter.sh is checked with ``--print-command``, with stand-in ``setup.sh``/``jupyter``
in a temporary copy (which setup path runs, what is exec'd, where, with which variables), and
by starting the real JupyterLab offline and running code in its kernel.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "workshop.md"
SCRIPT = REPO / "scripts" / "jupyter.sh"
NOTEBOOK_DIR = REPO / "notebooks"
VENV_BIN = REPO / ".venv" / "bin"
PROGAN_128 = "https://tfhub.dev/google/progan-128/1"
TEST_MODEL = os.environ.get("PROGAN_TF_TEST_MODEL", "bundled")
NOTEBOOK_NAME = r"\b\d\d_[A-Za-z0-9_]+\.ipynb\b"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _without_code(markdown: str) -> str:
    """The text with fenced code blocks blanked out (their lines kept, empty)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)


def headings(markdown: str) -> list[str]:
    """The titles of all ATX headings outside fenced code, without their #'s."""
    return [m.group(1).strip() for m in
            re.finditer(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", _without_code(markdown), re.M)]


def section(markdown: str, title: str) -> str:
    """The body of the level-2 section ``## title`` (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"docs/workshop.md has no section '## {title}'"
    return match.group(1)


def github_anchor(title: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", title.lower())
    return text.replace(" ", "-")


def notebook_headings(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [title for cell in nb.cells if cell.cell_type == "markdown"
            for title in headings(cell.source)]


def section_references(markdown: str) -> list[tuple[str | None, str]]:
    """(document, title) for every ``§ "title"``; the document is the last notebook file name
    or README.md named before it in the same paragraph (None if there is none)."""
    token = re.compile(rf"(?P<doc>{NOTEBOOK_NAME}|\bREADME\.md\b)|§ \"(?P<title>[^\"]+)\"")
    references = []
    for paragraph in re.split(r"\n[ \t]*\n", _without_code(markdown)):
        text = re.sub(r"\s+", " ", paragraph)
        document = None
        for match in token.finditer(text):
            if match.group("doc"):
                document = match.group("doc")
            else:
                references.append((document, match.group("title")))
    return references


def timetable_rows(markdown: str) -> list[tuple[int, int, str]]:
    rows = []
    for line in section(markdown, "Timetable").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"(\d+)\s*[–-]\s*(\d+)", cells[0]) if line.startswith("|") else None
        if match:
            rows.append((int(match.group(1)), int(match.group(2)), cells[1]))
    return rows


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(info string, code) of every fenced block."""
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(markdown)]


def runnable_blocks(markdown: str) -> list[tuple[str | None, str]]:
    """(notebook or None, code) of every ```python runnable[=NOTEBOOK] block, in order."""
    blocks = []
    for info, code in code_blocks(markdown):
        words = info.split()
        if words[:1] != ["python"]:
            continue
        for word in words[1:]:
            if word == "runnable":
                blocks.append((None, code))
            elif word.startswith("runnable="):
                blocks.append((word.split("=", 1)[1], code))
    return blocks


def exercises(markdown: str) -> dict[str, str]:
    """Exercise id ('2.1') -> the text of its bullet."""
    found = {}
    for match in re.finditer(r"^\* \*\*E(\d+\.\d+)\*\*(.*?)(?=^\* |^#|^\s*$)", markdown,
                             re.S | re.M):
        assert match.group(1) not in found, f"exercise E{match.group(1)} appears twice"
        found[match.group(1)] = match.group(2)
    return found


def inline_code(markdown: str) -> list[str]:
    """Every `inline code` span outside code blocks, line breaks inside it made spaces."""
    spans = []
    for paragraph in re.split(r"\n[ \t]*\n", _without_code(markdown)):
        spans += [re.sub(r"\s+", " ", span) for span in re.findall(r"`([^`]+)`", paragraph)]
    return spans


def script_invocations(markdown: str) -> list[list[str]]:
    """The arguments of every ``scripts/jupyter.sh`` command in code (blocks and inline)."""
    code = "\n".join([code for _, code in code_blocks(markdown)] + inline_code(markdown))
    return [shlex.split(m.group(1)) for m in
            re.finditer(r"scripts/jupyter\.sh((?:[ \t]+[^\s`&|;]+)*)", code)]


def cli_invocations(markdown: str) -> list[list[str]]:
    """The arguments of every ``progan-tf SUBCOMMAND ...`` in code (blocks and inline)."""
    code = "\n".join([code for _, code in code_blocks(markdown)] + inline_code(markdown))
    return [shlex.split(m.group(1)) for m in
            re.finditer(r"(?<![\w-])progan-tf[ \t]+([a-z][^\n`&|;]*)", code)]


# --------------------------------------------------------------------------------------------
# The helpers themselves (so that a parser that finds nothing cannot pass the checks below)
# --------------------------------------------------------------------------------------------


def test_parsers_on_a_small_guide():
    text = ('Open `01_a.ipynb` § "One" and\n§ "Two"; README.md § "Three".\n\n'
            '§ "Orphan"\n\n```python runnable=01_a.ipynb\nx = 1\n```\n'
            '```python\n# § "In code" is ignored\n```\n## Timetable\n\n| minutes | x |\n|---|---|\n'
            '| 0–10 | a |\n| 10-90 | b |\n\n## Next\n'
            '* **E1.1** Do it. **Answer:** [A1.1](#a11-x).\n')
    assert section_references(text) == [("01_a.ipynb", "One"), ("01_a.ipynb", "Two"),
                                        ("README.md", "Three"), (None, "Orphan")]
    assert timetable_rows(text) == [(0, 10, "a"), (10, 90, "b")]
    assert runnable_blocks(text) == [("01_a.ipynb", "x = 1\n")]
    assert list(exercises(text)) == ["1.1"]
    assert headings(text) == ["Timetable", "Next"]
    assert inline_code("Run `progan-tf demo\n  --out x` now.\n\n`a`") == \
        ["progan-tf demo --out x", "a"]
    assert cli_invocations("`progan-tf demo\n--out x`") == [["demo", "--out", "x"]]
    assert github_anchor("A1.2 A latent of the wrong size") == "a12-a-latent-of-the-wrong-size"
    assert github_anchor("Break: start the training run") == "break-start-the-training-run"


# --------------------------------------------------------------------------------------------
# The guide
# --------------------------------------------------------------------------------------------


def test_guide_names_only_existing_notebooks_and_all_four():
    named = set(re.findall(NOTEBOOK_NAME, _guide()))
    missing = sorted(name for name in named if not (NOTEBOOK_DIR / name).is_file())
    assert not missing, f"docs/workshop.md names notebooks that do not exist: {missing}"
    assert named == {path.name for path in NOTEBOOK_DIR.glob("*.ipynb")}


def test_quoted_sections_exist():
    references = section_references(_guide())
    assert len(references) >= 20, "the guide should map its blocks to notebook sections"
    known = {name: set(notebook_headings(NOTEBOOK_DIR / name))
             for name in {doc for doc, _ in references if doc and doc.endswith(".ipynb")}}
    known["README.md"] = set(headings((REPO / "README.md").read_text(encoding="utf-8")))
    orphans = [title for doc, title in references if doc is None]
    assert not orphans, f"§ titles with no notebook or README.md before them: {orphans}"
    wrong = [f'{doc} § "{title}"' for doc, title in references
             if doc in known and title not in known[doc]]
    assert not wrong, "sections the guide quotes that do not exist:\n" + "\n".join(wrong)


def test_timetable_adds_up_to_90_minutes_without_gaps():
    rows = timetable_rows(_guide())
    assert len(rows) >= 5, rows
    assert rows[0][0] == 0, f"the timetable starts at minute {rows[0][0]}"
    for (_, end, block), (start, _, following) in zip(rows, rows[1:]):
        assert start == end, f"'{block}' ends at {end}, '{following}' starts at {start}"
    assert all(end > start for start, end, _ in rows), rows
    assert sum(end - start for start, end, _ in rows) == 90
    assert rows[-1][1] == 90


def test_internal_links_point_to_headings():
    text = _guide()
    counts = collections.Counter()
    anchors = set()
    for title in headings(text):  # GitHub numbers repeated headings: -1, -2, ...
        base = github_anchor(title)
        anchors.add(base if counts[base] == 0 else f"{base}-{counts[base]}")
        counts[base] += 1
    links = re.findall(r"\]\(#([^)]+)\)", _without_code(text))
    assert links, "the guide should link its blocks and answers"
    broken = sorted(set(links) - anchors)
    assert not broken, f"links to headings that do not exist: {broken}"


def test_every_timetable_block_has_a_section_with_exercises_or_is_the_break():
    text = _guide()
    blocks = [re.search(r"\[(.+?)\]\(#", block).group(1) for _, _, block in timetable_rows(text)]
    titles = headings(text)
    missing = [block for block in blocks if block not in titles]
    assert not missing, f"timetable blocks without a section of their own: {missing}"
    with_exercises = {match.group(1) for match in
                      re.finditer(r"^### ([A-F]\..+?)\n(?:(?!^#).)*?\*\*E\d", text, re.S | re.M)}
    lacking = [block for block in blocks if block[:2] in {"A.", "B.", "C.", "D.", "E.", "F."}
               and block not in with_exercises]
    assert not lacking, f"blocks without exercises: {lacking}"


def test_every_exercise_names_its_answer_and_every_answer_has_an_exercise():
    text = _guide()
    found = exercises(text)
    assert len(found) >= 10, sorted(found)
    per_block = collections.Counter(number.split(".")[0] for number in found)
    assert all(1 <= count <= 3 for count in per_block.values()), per_block
    no_answer = [number for number, body in found.items() if "**Answer:**" not in body]
    assert not no_answer, f"exercises that do not say where the answer is: {no_answer}"
    answers = section(text, "Answers")
    answer_ids = re.findall(r"^### A(\d+\.\d+) ", answers, re.M)
    assert answer_ids, "the Answers section has no '### A<n>.<m> ...' answers"
    for number, body in found.items():
        for linked in re.findall(r"\[A(\d+\.\d+)\]", body):
            assert linked == number, f"E{number} links to the answer of E{linked}"
            assert linked in answer_ids, f"E{number} links to A{linked}, which does not exist"
    orphans = [number for number in answer_ids if number not in found
               or f"[A{number}]" not in found[number]]
    assert not orphans, f"answers no exercise links to: {orphans}"


def test_python_blocks_are_marked_runnable_and_answers_have_several():
    answers = section(_guide(), "Answers")
    for info, code in code_blocks(_guide()):  # a misspelt mark would skip a block silently
        words = info.split()
        if words[:1] == ["python"]:
            unknown = [w for w in words[1:] if w != "runnable" and not w.startswith("runnable=")]
            assert not unknown, f"```{info}: unknown mark {unknown}; use runnable[=NOTEBOOK]"
            assert len(words) > 1 or code not in answers, \
                f"a Python block in the Answers section is not marked runnable:\n{code}"
    blocks = runnable_blocks(answers)
    assert len(blocks) >= 6
    notebooks = {notebook for notebook, _ in blocks}
    assert None not in notebooks, "answers run in a notebook: mark them runnable=NOTEBOOK"
    assert len(notebooks) >= 3 and all((NOTEBOOK_DIR / name).is_file() for name in notebooks)


def _runnable_groups():
    groups, standalone = collections.OrderedDict(), []
    for notebook, code in runnable_blocks(_guide()):
        if notebook is None:
            standalone.append(code)
        else:
            groups.setdefault(notebook, []).append(code)
    return ([(name, codes) for name, codes in groups.items()]
            + [(f"standalone-{i + 1}", [code]) for i, code in enumerate(standalone)])


def _notebook_context(name: str) -> dict:
    """The namespace after a notebook's parameters cell and its first code cell after it."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    (parameters,) = [i for i, cell in enumerate(nb.cells)
                     if "parameters" in cell.get("metadata", {}).get("tags", [])]
    first = next(i for i in range(parameters + 1, len(nb.cells))
                 if nb.cells[i].cell_type == "code")
    namespace = {"__name__": "__workshop__"}
    for index in (parameters, first):
        exec(compile(nb.cells[index].source, f"{name}[{index}]", "exec"), namespace)
    return namespace


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name, codes", _runnable_groups(), ids=[g[0] for g in _runnable_groups()])
def test_runnable_blocks_run_against_the_bundled_model(name, codes, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("PROGAN_TF_MODEL", TEST_MODEL)
    monkeypatch.chdir(tmp_path)  # what the blocks write lands here
    namespace = _notebook_context(name) if name.endswith(".ipynb") else {"__name__": "__workshop__"}
    if "gen" in namespace:
        assert namespace["gen"].handle == TEST_MODEL
    # How long the answers take is not asserted here (a wall-clock bound fails on a loaded
    # machine, as it did under a training job): the timeout above only stops a runaway block.
    for number, code in enumerate(codes, 1):
        try:
            exec(compile(code, f"docs/workshop.md, {name} block {number}", "exec"), namespace)
        except Exception as error:  # reported with the block
            pytest.fail(f"{name} block {number} failed: {type(error).__name__}: {error}\n\n{code}",
                        pytrace=False)
        finally:
            plt.close("all")
    if name.startswith("standalone"):  # the bundled-faces recipe: a folder notebook 03 can read
        from progan_tf.training import data

        files = data.list_image_files(tmp_path / "bundled-faces")
        assert len(files) == 1000


def test_cli_commands_in_the_guide_parse():
    from progan_tf.cli import build_parser

    commands = cli_invocations(_guide())
    assert len(commands) >= 3, commands
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit as stop:
            pytest.fail(f"docs/workshop.md: 'progan-tf {shlex.join(argv)}' does not parse "
                        f"(exit {stop.code})")


def test_error_messages_in_troubleshooting_are_printed_by_the_package():
    table = [line for line in section(_guide(), "Troubleshooting").splitlines()
             if line.startswith("| `")]
    assert len(table) >= 4, "the troubleshooting table should list the download errors"
    source = "\n".join(path.read_text(encoding="utf-8")
                       for path in (REPO / "progan_tf").rglob("*.py"))
    for line in table:
        message = re.match(r"\| `([^`]+)`", line).group(1)
        assert message in source, f"progan-tf never prints '{message}'"


def test_guide_invocations_of_the_script_are_accepted(tmp_path):
    cache = _hub_cache(tmp_path / "cache")
    folder = tmp_path / "folder"
    folder.mkdir()
    invocations = script_invocations(_guide())
    assert len(invocations) >= 5, invocations
    for argv in invocations:
        args, options = [], {"--data", "--wheels", "--hub-cache"}
        for index, arg in enumerate(argv):  # folders that exist only in the room: stand-ins
            previous = argv[index - 1] if index else ""
            args.append(str(cache if previous == "--hub-cache" else folder)
                        if previous in options else arg)
        result = _run_script("--print-command", *args)
        assert result.returncode == 0, f"scripts/jupyter.sh {shlex.join(argv)}: {result.stderr}"


# --------------------------------------------------------------------------------------------
# scripts/jupyter.sh
# --------------------------------------------------------------------------------------------


# A stand-in for `id` first on the script's PATH: `id -u` answers $FAKE_UID (a normal user's
# 1000 unless a test says 0), so the tests see the same command whoever runs them.
FAKE_BIN = Path(tempfile.mkdtemp(prefix="progan-tf-fake-id-"))
(FAKE_BIN / "id").write_text('#!/bin/sh\nif [ "$1" = "-u" ]; then echo "${FAKE_UID:-1000}"; '
                             'else exec /usr/bin/env -u FAKE_UID id "$@"; fi\n')
(FAKE_BIN / "id").chmod(0o755)


def _clean_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in {"PROGAN_TF_OFFLINE", "PROGAN_TF_MODEL", "PROGAN_TF_DATA",
                          "TFHUB_CACHE_DIR", "PIP_NO_INDEX", "PIP_FIND_LINKS"}}
    env["PATH"] = f"{FAKE_BIN}{os.pathsep}{env.get('PATH', os.defpath)}"
    env.update(extra)
    return env


def _run_script(*args, script=SCRIPT, env=None, cwd=None):
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                          env=env or _clean_env(), cwd=cwd, timeout=120)


def _printed(*args, **kwargs) -> tuple[str, dict, list[str]]:
    """(folder, variables, command) of ``--print-command``'s line."""
    result = _run_script("--print-command", *args, **kwargs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    words = shlex.split(lines[0])
    assert words[0] == "cd" and words[2:4] == ["&&", "env"], words
    variables, rest = {}, words[4:]
    while rest and re.match(r"^[A-Z_]+=", rest[0]):
        key, value = rest.pop(0).split("=", 1)
        variables[key] = value
    return words[1], variables, rest


def _hub_cache(folder: Path) -> Path:
    """A TF Hub cache that looks as if it held progan-128 (the script only checks the files)."""
    module = folder / hashlib.sha1(PROGAN_128.encode()).hexdigest()
    module.mkdir(parents=True)
    (module / "saved_model.pb").write_bytes(b"")
    return folder


def test_script_is_executable_and_valid_bash():
    assert os.access(SCRIPT, os.X_OK), "scripts/jupyter.sh is not executable (chmod +x)"
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_help_lists_every_option_the_guide_uses():
    result = _run_script("--help")
    assert result.returncode == 0 and "--print-command" in result.stdout
    used = {arg.split("=")[0] for argv in script_invocations(_guide()) for arg in argv
            if arg.startswith("--")}
    table = set(re.findall(r"^\| `(--[a-z-]+)", _guide(), re.M))
    jupyter_own = {"--port", "--no-browser"}
    documented = set(re.findall(r"--[a-z-]+", result.stdout))
    undocumented = sorted((used | table) - jupyter_own - documented)
    assert not undocumented, \
        f"options the guide uses that the script does not document: {undocumented}"


def test_print_command_starts_jupyter_in_notebooks():
    folder, variables, command = _printed()
    assert Path(folder) == NOTEBOOK_DIR
    assert Path(command[0]) == VENV_BIN / "jupyter"
    frontend = "lab" if (VENV_BIN / "jupyter-lab").exists() else "notebook"
    assert command[1] == frontend
    assert f"--notebook-dir={NOTEBOOK_DIR}" in command
    assert variables.get("JUPYTER_PREFER_ENV_PATH") == "1"
    assert "PROGAN_TF_MODEL" not in variables, "online, the notebooks' own default (progan-128)"


def test_setup_installs_a_jupyter_front_end():
    """The script picks JupyterLab or Notebook from .venv; setup must install one of them."""
    if not (VENV_BIN / "python").exists():
        pytest.skip("no .venv (run bash scripts/setup.sh)")
    assert (VENV_BIN / "jupyter-lab").exists() or (VENV_BIN / "jupyter-notebook").exists()


def test_as_root_passes_allow_root_once_and_says_why():
    for given in ([], ["--allow-root"]):
        result = _run_script("--print-command", *given, env=_clean_env(FAKE_UID="0"))
        assert result.returncode == 0, result.stderr
        command = shlex.split(result.stdout)
        assert command.count("--allow-root") == 1, command
        said = "running as root" in result.stderr
        assert said == (not given), result.stderr  # a user who passed it needs no note
    _, _, command = _printed()  # a normal user: nothing added
    assert "--allow-root" not in command


@pytest.mark.parametrize("how", ["flag", "env"])
def test_offline_uses_the_bundled_model(how):
    args, env = (["--offline"], None) if how == "flag" else ([], _clean_env(PROGAN_TF_OFFLINE="1"))
    folder, variables, command = _printed(*args, env=env)
    assert variables["PROGAN_TF_MODEL"] == "bundled"
    assert Path(folder) == NOTEBOOK_DIR and f"--notebook-dir={NOTEBOOK_DIR}" in command


def test_offline_with_a_hub_cache_uses_progan_128_from_it(tmp_path):
    cache = _hub_cache(tmp_path / "cache")
    _, variables, _ = _printed("--offline", "--hub-cache", str(cache))
    assert variables["PROGAN_TF_MODEL"] == PROGAN_128
    assert variables["TFHUB_CACHE_DIR"] == str(cache)
    _, online, _ = _printed(f"--hub-cache={cache}")  # online: only the cache is set
    assert online["TFHUB_CACHE_DIR"] == str(cache) and "PROGAN_TF_MODEL" not in online


def test_data_folder_becomes_absolute_and_extra_arguments_pass_through(tmp_path):
    (tmp_path / "faces").mkdir()
    _, variables, command = _printed("--data", "faces", "--port", "8899", "--", "--offline",
                                     cwd=tmp_path)
    assert variables["PROGAN_TF_DATA"] == str(tmp_path / "faces")
    assert command[-3:] == ["--port", "8899", "--offline"], command
    assert "PROGAN_TF_MODEL" not in variables  # --offline after -- was Jupyter's, not ours
    _, _, classic = _printed("--notebook")
    assert classic[1] == "notebook"


@pytest.mark.parametrize("args, env, message", [
    (["--data"], None, "--data needs a folder"),
    (["--data", "--offline"], None, "--data needs a folder"),
    (["--data", "/no/such/folder"], None, "no such folder"),
    (["--wheels="], None, "--wheels needs a folder"),
    (["--offline", "--hub-cache", "."], None, "holds no complete download"),
    ([], {"PROGAN_TF_OFFLINE": "maybe"}, "PROGAN_TF_OFFLINE must be 1 or 0"),
])
def test_bad_input_is_one_line_and_exit_2(args, env, message):
    result = _run_script("--print-command", *args, env=_clean_env(**(env or {})))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jupyter.sh: error: ") and message in lines[0]


# A copy of the script beside stand-ins for setup.sh, python and jupyter: which set-up path runs
# and what is finally exec'd, without installing or starting anything.

FAKE_SETUP = """#!/usr/bin/env bash
echo "PIP_NO_INDEX=${PIP_NO_INDEX:-} PIP_FIND_LINKS=${PIP_FIND_LINKS:-}" \\
    > "$(dirname "$0")/../setup-ran"
"""
FAKE_JUPYTER = """#!/usr/bin/env bash
echo "cwd=$PWD"
echo "PROGAN_TF_MODEL=${PROGAN_TF_MODEL:-}"
echo "JUPYTER_PREFER_ENV_PATH=${JUPYTER_PREFER_ENV_PATH:-}"
printf 'arg=%s\\n' "$@"
"""


def _fake_repo(root: Path, installed: bool | None) -> Path:
    """A repository with scripts/jupyter.sh; ``installed`` None: no .venv at all."""
    (root / "scripts").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy2(SCRIPT, root / "scripts" / "jupyter.sh")
    (root / "scripts" / "setup.sh").write_text(FAKE_SETUP)
    if installed is not None:
        bin_dir = root / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        for name, text in (("python", f"#!/bin/sh\nexit {0 if installed else 1}\n"),
                           ("jupyter", FAKE_JUPYTER), ("jupyter-lab", "#!/bin/sh\n")):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
    return root / "scripts" / "jupyter.sh"


def test_plain_run_sets_up_then_execs_jupyter_lab_in_notebooks(tmp_path):
    script = _fake_repo(tmp_path, installed=True)
    result = _run_script("--no-browser", script=script)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "setup-ran").read_text().strip() == "PIP_NO_INDEX= PIP_FIND_LINKS="
    lines = result.stdout.splitlines()
    assert f"cwd={tmp_path / 'notebooks'}" in lines
    assert "PROGAN_TF_MODEL=" in lines and "JUPYTER_PREFER_ENV_PATH=1" in lines
    assert [line for line in lines if line.startswith("arg=")] == [
        "arg=lab", f"arg=--notebook-dir={tmp_path / 'notebooks'}", "arg=--no-browser"]


def test_offline_skips_setup_when_installed_and_sets_the_bundled_model(tmp_path):
    script = _fake_repo(tmp_path, installed=True)
    result = _run_script("--offline", script=script)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "setup-ran").exists(), "offline must not reinstall"
    assert "PROGAN_TF_MODEL=bundled" in result.stdout.splitlines()


def test_offline_without_installation_asks_for_wheels(tmp_path):
    script = _fake_repo(tmp_path, installed=False)
    result = _run_script("--offline", script=script)
    assert result.returncode == 2 and "--wheels" in result.stderr
    assert not (tmp_path / "setup-ran").exists()


def test_wheels_install_from_the_folder_only(tmp_path):
    script = _fake_repo(tmp_path / "repo", installed=False)
    (tmp_path / "wheels").mkdir()
    result = _run_script("--offline", "--wheels", str(tmp_path / "wheels"), script=script)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "repo" / "setup-ran").read_text().strip() == \
        f"PIP_NO_INDEX=1 PIP_FIND_LINKS={tmp_path / 'wheels'}"


def test_print_command_and_no_setup_install_nothing(tmp_path):
    script = _fake_repo(tmp_path, installed=None)
    printed = _run_script("--print-command", script=script)
    assert printed.returncode == 0 and " lab " in printed.stdout  # what setup.sh would install
    missing = _run_script("--no-setup", script=script)
    assert missing.returncode == 2 and "neither JupyterLab nor Notebook" in missing.stderr
    assert not (tmp_path / "setup-ran").exists()


# The real thing: JupyterLab from .venv, offline, and a kernel that sees what the notebooks need.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.timeout(180)
def test_jupyter_starts_offline_with_the_venv_kernel(tmp_path):
    if not (VENV_BIN / "jupyter-lab").exists() and not (VENV_BIN / "jupyter-notebook").exists():
        pytest.skip("no Jupyter in .venv (run bash scripts/setup.sh)")
    from jupyter_client import BlockingKernelClient

    port, token = _free_port(), "workshop-test"
    env = _clean_env(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                     JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
                     JUPYTER_DATA_DIR=str(tmp_path / "data"))
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log = open(tmp_path / "jupyter.log", "w")  # closed in finally
    server = subprocess.Popen(
        ["bash", str(SCRIPT), "--offline", "--no-setup", "--no-browser", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", *root],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/api"
    client = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/status?token={token}")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "jupyter.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "Jupyter did not start within 90 s"
                time.sleep(0.5)
        listing = {item["name"] for item in _get(f"{base}/contents?token={token}")["content"]}
        assert {path.name for path in NOTEBOOK_DIR.glob("*.ipynb")} <= listing

        request = urllib.request.Request(f"{base}/kernels?token={token}", data=b"{}",
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            kernel = json.load(response)
        connection = tmp_path / "runtime" / f"kernel-{kernel['id']}.json"
        deadline = time.monotonic() + 60
        while True:  # the kernel's heartbeat may not answer in its first second
            try:
                client = BlockingKernelClient(connection_file=str(connection))
                client.load_connection_file()
                client.start_channels()
                client.wait_for_ready(timeout=30)
                break
            except (RuntimeError, OSError, json.JSONDecodeError):
                if client is not None:
                    client.stop_channels()
                    client = None
                assert time.monotonic() < deadline, "the kernel did not become ready"
                time.sleep(1)
        output = []
        reply = client.execute_interactive(
            "import json, os, sys, progan_tf\n"
            "print(json.dumps({'model': os.environ.get('PROGAN_TF_MODEL'), 'python': sys.prefix,"
            " 'cwd': os.getcwd(), 'package': progan_tf.__file__}))",
            output_hook=output.append, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        text = "".join(m["content"].get("text", "") for m in output if m["msg_type"] == "stream")
        seen = json.loads(text)
        assert seen["model"] == "bundled"
        assert Path(seen["python"]).resolve() == (REPO / ".venv").resolve()
        assert Path(seen["cwd"]) == NOTEBOOK_DIR
        assert Path(seen["package"]).resolve().is_relative_to(REPO)
    finally:
        if client is not None:
            client.stop_channels()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
