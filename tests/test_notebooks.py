"""The notebooks: their structure (fast), and a top-to-bottom run of each, small parameters (slow).

Runs are done like papermill: a cell of overrides is inserted after the cell tagged "parameters",
and the notebook is executed with nbclient in a temporary folder, offline (``MODEL_HANDLE`` is the
bundled model, or ``$PROGAN_TF_TEST_MODEL``). The repository's files are never written.

To let a new notebook run fast, give its slow counts a name in its parameters cell and add that
name to ``SHARED_OVERRIDES`` (used by every notebook that defines it) or to
``NOTEBOOK_OVERRIDES`` (one notebook, by file-name pattern; these must exist in the notebook).
Set ``PROGAN_TF_EXECUTED_NOTEBOOKS`` to a folder to keep the executed notebooks for inspection,
and ``PROGAN_TF_NOTEBOOK_DEFAULTS=1`` to run them with their own default parameters (offline, so
only the model, the network switch and the face folder are set; slow: about 15 minutes).

After each run, the claims the notebook's text makes about its own output are checked in its
kernel (``CLAIMS``): a notebook must never say what its cells do not show.
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

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED_NOTEBOOKS = (
    "01_progan128_tfhub.ipynb",
    "02_latent_recovery.ipynb",
    "03_train_progressive_gan.ipynb",
    "04_exploring_latent_space.ipynb",
    "05_dcgan_why_progressive.ipynb",
    "06_pix2pix.ipynb",
    "07_srgan.ipynb",
    "08_cyclegan.ipynb",
    "09_stylegan.ipynb",
)

PROGAN_128_URL = "https://tfhub.dev/google/progan-128/1"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_URL = "https://colab.research.google.com/github/progan-tf/progan-tf/blob/main/notebooks/{}"
TEST_MODEL = os.environ.get("PROGAN_TF_TEST_MODEL", "bundled")
DATA_DIR = REPO.parent / "shared" / "data" / "celeba-8k"
DEFAULTS = os.environ.get("PROGAN_TF_NOTEBOOK_DEFAULTS") == "1"
NOTEBOOK_TIMEOUT_S = 1800 if DEFAULTS else 300  # small runs: ~1 minute each, with a margin

# Overrides for every notebook whose parameters cell defines the name. Without the test suite's
# face folder, notebook 03 makes its own (SAMPLE_FACES) in the run's temporary folder.
SHARED_OVERRIDES = {
    "MODEL_HANDLE": TEST_MODEL,
    "USE_NETWORK": False,
    "DATA_DIR": str(DATA_DIR) if DATA_DIR.is_dir() else "sample-faces",
    # notebook 05 reads the committed race from the repository's docs/ (the kernel runs elsewhere)
    "BENCH_RESULTS": str(REPO / "docs" / "bench-dcgan-vs-progan.json"),
    **({} if DEFAULTS else {"NUM_STEPS": 12, "STEPS": 40, "RESTARTS": 4}),
}

# Overrides for one notebook (fnmatch pattern on the file name); each name must be a parameter of
# the notebook, so a renamed parameter fails loudly instead of making the run slow.
NOTEBOOK_OVERRIDES = {} if DEFAULTS else {
    "01_*.ipynb": {"NUM_FACES": 4, "NUM_KEYFRAMES": 3},
    "02_*.ipynb": {"TUTORIAL_STEPS": 20, "STEPS_PER_IMAGE": 5},
    "03_*.ipynb": {"RESOLUTION": 8, "FMAP_MAX": 32, "KIMG_PER_PHASE": 0.512, "LOG_EVERY": 1,
                   "SAMPLE_FACES": 300, "FINETUNE_PHOTOS": 64, "FINETUNE_KIMG": 0.064},
    "04_*.ipynb": {"N_REAL": 1000, "N_GENERATED": 3, "N_STATS": 50, "N_CHECK": 100,
                   "STRIP_STEPS": 5},
    "05_*.ipynb": {"RESOLUTION": 16, "WIDTH": 8, "KIMG": 0.256, "GRID_EVERY_KIMG": 0.064,
                   "NUM_FACES": 240, "HOLDOUT": 40, "LOG_EVERY": 1, "MNIST_DIGITS": 256,
                   "MNIST_EPOCHS": 2, "MNIST_WIDTH": 8, "RACE_SECONDS": 4, "PROGAN_FMAP_MAX": 8,
                   "PROGAN_KIMG_PER_PHASE": 0.032},
    "06_*.ipynb": {"RESOLUTION": 16, "WIDTH": 4, "MAX_WIDTH": 8, "KIMG": 0.064,
                   "GRID_EVERY_KIMG": 0.032, "BATCH_SIZE": 8, "NUM_FACES": 120, "HOLDOUT": 20,
                   "LOG_EVERY": 1},
    "07_*.ipynb": {"RESOLUTION": 16, "WIDTH": 4, "BLOCKS": 1, "PRETRAIN_KIMG": 0.032,
                   "KIMG": 0.032, "BATCH_SIZE": 8, "NUM_FACES": 120, "HOLDOUT": 16,
                   "LOG_EVERY": 1, "SAMPLE_FACES": 200},
    "08_*.ipynb": {"RESOLUTION": 16, "WIDTH": 4, "KIMG": 0.064, "GRID_EVERY_KIMG": 0.032,
                   "BATCH_SIZE": 8, "NUM_FACES": 400, "HOLDOUT": 8, "LOG_EVERY": 1,
                   "SAMPLE_FACES": 400},
    "09_*.ipynb": {"RESOLUTION": 16, "FMAP_BASE": 32, "FMAP_MAX": 16, "W_DIM": 16,
                   "MAPPING_LAYERS": 2, "KIMG": 0.064, "GRID_EVERY_KIMG": 0.032, "BATCH_SIZE": 8,
                   "NUM_FACES": 120, "HOLDOUT": 16, "LOG_EVERY": 1, "SAMPLE_FACES": 200},
}

# Notebooks that must survive "Run all" a second time in the same folder (a run folder exists).
RUN_TWICE = ("03_*.ipynb",)

# What each notebook's text says about its own output, checked in its kernel after a run (with
# the small test parameters and with the defaults). Keep these in step with the prose.
CLAIMS = {
    "01_*.ipynb": """
# "hypersphere stays at |v1|"; "lerp's length sags in the middle, to the fraction printed"
assert np.allclose(pt.latent_norms(paths["hypersphere"]), np.linalg.norm(v1), rtol=1e-4)
assert lerp_sag == pt.latent_norms(paths["lerp"]).min() / ends_length < 0.8
# "at 1/4 lerp and hypersphere are still closer to A than slerp is"
quarter = int(np.argmin(np.abs(t - 0.25)))
assert angles["lerp"][quarter] < angles["slerp"][quarter]
# "Differences around 1e-6 ... lerp and hypersphere show the same sequence of faces"
if float(np.abs(gen(0.5 * z) - gen(z)).max()) < 1e-3:
    assert float(np.abs(frames["lerp"] - frames["hypersphere"]).mean()) < 0.01
# "zoom turns every pixel into a sharp square"
factor = zoomed.shape[1] // faces.shape[1]
assert factor >= 1 and np.array_equal(zoomed[:, ::factor, ::factor], faces)
""",
    "02_*.ipynb": """
# "By default, scikit-image's astronaut photo is saved to a file and used, so this works offline"
if not USE_NETWORK and not IMAGE_PATH:
    assert picture_name.endswith("astronaut.png"), picture_name
# "two random latents score close to 0": the start is not the answer
assert abs(float(pt.cosine_similarity(start_z, true_z))) < 0.2
# "recover_latent matches the image more closely" than the classic recipe
assert scores[f"recover_latent ({RESTARTS} restarts)"][0] > scores["classic recipe, MAE"][0]
assert scores[f"recover_latent ({RESTARTS} restarts)"][0] > scores["classic recipe, MSE"][0]
# "with the default STEPS, the generated target is matched more closely than any real picture,
# by several dB" (a claim about converged searches: shortened test runs skip it; measured on the
# bundled model: 36.0 dB against at most 26.7 dB)
best_real = max(photo.psnr, *(found.psnr for found in non_faces.values()))
if STEPS >= 300:
    assert result.psnr > best_real + 5, (result.psnr, best_real)
""",
    "03_*.ipynb": """
# "We export the finished run": never a checkpoint in the middle of a fade-in
assert metadata["phase"].endswith("stable"), metadata["phase"]
assert metadata["images_shown"] >= config.schedule().total_images
# "a face the model never saw ... framed exactly as the training photos were"
assert config.holdout >= 1 and target_file in held_out
assert target_file not in folder.files[:len(folder) - config.holdout]
assert target.shape == (RESOLUTION, RESOLUTION, 3)
# "the tutorial's loop works" on the bare signature, and "inside a Keras 3 model"
assert np.isfinite(float(tf.norm(gradient))) and float(tf.norm(gradient)) > 0
assert tuple(as_keras(tf.zeros([1, config.latent_dim])).shape) == (1, RESOLUTION, RESOLUTION, 3)
# section 6: "FINETUNE_PHOTOS photos of DATA_DIR" in "a folder of their own"
assert len(data.list_image_files(photos)) == min(FINETUNE_PHOTOS, len(folder))
# "the architecture is the model's", "a single stable phase at the model's resolution"
from progan_tf.gan.finetune import INIT_FILE, read_init
assert tuned_config.init == "bundled"
bundled_architecture = read_init("bundled").architecture
assert {key: getattr(tuned_config, key) for key in bundled_architecture} == bundled_architecture
assert tuned_phases == [f"{tuned_config.resolution}x{tuned_config.resolution} stable"]
assert tuned_config.schedule().total_images == round(FINETUNE_KIMG * 1000)
# "start from the model's weights" (recorded when they are loaded); the export "says what it was
# fine-tuned from"; it is finished
assert json.loads((Path(FINETUNE_DIR) / INIT_FILE).read_text())["init"] == "bundled"
assert tuned_metadata["fine_tuned_from"]["init"] == "bundled"
assert tuned_metadata["images_shown"] >= tuned_config.schedule().total_images
# "the same latents through the bundled model (top row) and the fine-tuned one (bottom row)"
assert tuned.image_shape == original.image_shape and len(same_latents) == 8
""",
    "04_*.ipynb": """
# "a positive value means it captured something real"; "point roughly the same way"
assert np.corrcoef(position, check_darkness)[0, 1] > 0
assert float(pt.cosine_similarity(direction, group_difference)) > 0.5
# pt.edit_strip's default turn: "the two ends of the strip differ by at least 30/255"
if EDIT_ANGLE is None:
    assert ends_differ * 255 >= 30 and abs(ends_differ * 255 - strip.effect.ends) < 0.01
assert strip.effect.from_middle < strip.effect.ends
# section 5: run unattended, the explorer shows the static strips, each with its effect
assert explorer.mode == "static" and set(explorer.effects) == set(directions)
""",
    "05_*.ipynb": """
# MNIST: "offline it is skipped"; online, "the same latents after every epoch"
if not USE_NETWORK:
    assert mnist_digits is None
if mnist_digits is not None:
    assert len(epoch_grids.grids) == MNIST_EPOCHS
# the progress grids: "the same 16 latents every GRID_EVERY_KIMG thousand images"
assert len(progress) >= 2 and int(progress[0].stem.split("-")[1]) == round(GRID_EVERY_KIMG * 1000)
# the export: "progan-128's TF Hub interface", "load_generator reads it like any other model"
assert gen.image_shape == (RESOLUTION, RESOLUTION, 3) and gen.metadata["arch"] == "dcgan"
assert (gen.input_key, gen.output_key) == ("default", "default")
# recovery of "a face of the held-out part, which the DCGAN never saw"
assert config.holdout == HOLDOUT and len(held_out) == HOLDOUT and np.shares_memory(target, held_out)
# the race: "the same training time RACE_SECONDS each", "as many as there are held-out ones",
# measured at the final size (a ProGAN still growing: upscaled)
assert set(race_results) == {"DCGAN", "ProGAN"}
assert all(r["train_minutes"] * 60 >= RACE_SECONDS for r in race_results.values())
assert all(r["images"].shape[1:] == (RESOLUTION, RESOLUTION, 3) for r in race_results.values())
assert set(floor_levels) == set(race_results["DCGAN"]["swd"]) and len(floor_faces) == HOLDOUT
# what bench/dcgan_vs_progan.py found (the text after section 5's race): "the DCGAN won",
# "almost nine times more images per second", "about twice as close to the floor at 32 px"
bench_json = json.loads(Path(BENCH_RESULTS).read_text())  # committed with the text
finals = {name: r["final"] for name, r in bench_json["results"].items()}
assert finals["dcgan"]["swd"]["32"] < finals["progan"]["swd"]["32"]
assert 8.5 <= finals["dcgan"]["images_per_second"] / finals["progan"]["images_per_second"] < 9
assert 1.8 <= finals["progan"]["swd"]["32"] / finals["dcgan"]["swd"]["32"] <= 2.2
assert bench_json["options"]["resolution"] == 32 and bench_json["options"]["minutes"] == 20
curve = bench_json["results"]["dcgan"]["curve"]
first = next(p for p in curve if p["swd_32"] <= 2 * p["floor_32"])  # "six minutes"
assert 5.5 * 60 <= first["train_seconds"] <= 7 * 60
assert all(p["swd_32"] <= 2.5 * p["floor_32"] for p in curve  # "then stayed near twice the floor"
           if p["train_seconds"] >= first["train_seconds"])
""",
    "06_*.ipynb": """
# the sketch: "black lines on white" and dots of "the face's own" colours
assert set(np.unique(steps["inverted"])) <= {0, 255} and (steps["inverted"] == 255).any()
assert dot_colours and dot_colours <= {tuple(p) for p in face.reshape(-1, 3)}
# "the same KIMG thousand pairs -- the same number of steps";
# the second is "l1_only: no discriminator"
assert len({state["images_shown"] for state in states.values()}) == 1
assert min(state["images_shown"] for state in states.values()) >= KIMG * 1000
assert runs["U-Net, L1 only"].l1_only and not runs["pix2pix"].l1_only
# "faces neither saw": the held-out faces are the last HOLDOUT, not trained on
assert len(held_out) == HOLDOUT
assert not set(held_out.files) & set(pairs.files[:len(pairs) - HOLDOUT])
# the table: both models, every metric a number
assert set(comparison) == set(runs)
assert all(np.isfinite(list(row.values())).all() for row in comparison.values())
# "on a training face it gives that face's training sketch exactly"
assert np.array_equal((prepared * 255).round().astype(np.uint8), held_out.inputs[0])
assert pictures["translated"].shape == (RESOLUTION, RESOLUTION, 3)
""",
    "07_*.ipynb": """
# "SRGAN starts from" the SRResNet checkpoint: one run, phase srresnet then srgan
assert [p["name"] for p in metadata["schedule"]["phases"]] == ["srresnet", "srgan"]
assert metadata["images_shown"] >= config.schedule().total_images
assert json.loads((Path(srresnet_export) / "metadata.json").read_text())["images_shown"] \
    == pretrain_images
# "both exports are folders that load_upscaler reads"; "any size in, 4x out"
assert srgan_upscaler.scale == srresnet_upscaler.scale == 4
# measured on "the last HOLDOUT faces", "never trained on"
assert config.holdout == HOLDOUT and len(held_out) == HOLDOUT
assert {"bicubic", "SRResNet", "SRGAN"} <= set(table) and floor_swd > 0
# section 5: the photo is shrunk 4x and enlarged back to the original's size; a huge one refused
assert pictures["srgan"].shape == pictures["original"].shape
assert "too large to upscale" in refused
""",
    "08_*.ipynb": """
# section 1: A's 75th percentiles below the dark line, B's 25th above the fair line, the middle
# left out, no face in both; "scored at 64x64"; each domain copied into "a folder of its own"
low, high = split.thresholds
assert all(scores[f][1] < low for f in split.a_files)
assert all(scores[f][0] > high for f in split.b_files)
assert not set(split.a_files) & set(split.b_files)
assert len(split.a_files) + len(split.b_files) < len(split.files) and folder.images.shape[1] == 64
assert sorted(p.name for p in domain_dirs["a"].iterdir()) == [Path(p).name for p in split.a_files]
assert sorted(p.name for p in domain_dirs["b"].iterdir()) == [Path(p).name for p in split.b_files]
# section 2: "cycle 10 x", "identity 5 x", "a pool of 50", constant for the first half of the
# run, "falling linearly to 0" over the second; a generator keeps the picture's shape
assert model.lambda_cycle == 10 and model.lambda_cycle * model.lambda_identity == 5
assert model.pool_a.size == model.pool_b.size == 50
assert np.isclose(rates[0], 2e-4) and np.isclose(rates[steps // 2], 2e-4) and rates[steps] == 0
assert 0 < rates[3 * steps // 4] < rates[0]
assert tuple(g(picture).shape) == tuple(picture.shape)
# section 3: KIMG thousand pictures of A; a grid every GRID_EVERY_KIMG, "one pair per row" of 6
from progan_tf.constants import grid_columns
assert state["images_shown"] >= KIMG * 1000
assert len(progress) >= 2 and int(progress[0].stem.split("-")[1]) == round(GRID_EVERY_KIMG * 1000)
assert min(6, HOLDOUT) == 6 and grid_columns(6 * 6) == 6
assert {"g_loss", "f_loss", "d_a_loss", "d_b_loss", "cycle_loss", "identity_loss"} <= set(losses)
# section 4: measured on "the last HOLDOUT of each domain", never trained on; both directions,
# every number finite, "gap closed is 1 - translated / gap"
assert len(real["a"]) == len(real["b"]) == HOLDOUT
assert translator.metadata["dataset"]["images"] == len(split.a_files) - HOLDOUT
assert translator.metadata["dataset"]["images_b"] == len(split.b_files) - HOLDOUT
assert {"this run, A -> B", "this run, B -> A"} <= set(table)
assert all(np.isfinite(list(row.values())).all() for row in table.values())
assert all(np.isclose(row["closed"], 1 - row["swd"] / row["gap"]) for row in table.values())
# the title cell: section 5 also uses the shipped translator, "64x64", "120 thousand pictures";
# the table "measures this run only"
from progan_tf.cycle_translators import bundled_cyclegan_folder
assert bundled_cyclegan_folder().joinpath("saved_model.pb").is_file()
assert (TRANSLATOR in translators) == bool(TRANSLATOR)
if TRANSLATOR == "bundled-cyclegan":
    shipped = translators[TRANSLATOR]
    assert shipped.resolution == 64 and shipped.metadata["kimg"] == 120
assert {row.split(",")[0] for row in table} == {"this run"}
# section 5: the photo, both translations and both trips back, framed at each model's size
assert all(panel.shape == (model_used.resolution,) * 2 + (3,) for panel in panels)
""",
    "09_*.ipynb": """
# section 1: "num_ws = 2 x levels", one w per layer; the named ranges cover the layers, in order
assert generator.num_ws == 2 * int(np.log2(RESOLUTION // 2)) == ws.shape[1]
assert sorted(sum(ranges.values(), [])) == list(range(generator.num_ws))
assert max(ranges["coarse"]) < min(ranges["fine"])
# "with demodulation the output's spread stays where it was; without, it grows with the style"
assert max(s[True] for s in spreads.values()) / min(s[True] for s in spreads.values()) < 1.1
assert spreads[5.0][False] > 2 * spreads[0.0][False]
# the noise: strengths "start at zero", so untrained "fresh noise changes nothing at all"; at
# 0.1 fresh noise twice differs, the stored noise maps give identical images
assert not strengths.any() and untrained_change == 0
assert noise_change > 0 and np.array_equal(stored[0], stored[1])
# section 2: a run of KIMG thousand images, the last HOLDOUT faces never trained on
assert state["images_shown"] >= KIMG * 1000 and config.holdout == HOLDOUT == len(held_out)
assert len(progress) >= 2
# section 3: "the two halves give exactly what calling it gives"; the shipped weights where
# this version has them, else this notebook's export
assert halves_error < 1e-4
assert isinstance(ours, pt.StyleBasedGenerator) and ours.metadata["num_ws"] == ours.num_ws
# the title: the shipped generator is "32x32, trained ... for 240 thousand images"
import json
from progan_tf.style_generator import bundled_stylegan_folder
assert bundled_stylegan_folder().joinpath("saved_model.pb").is_file()
if STYLE_MODEL == "bundled-stylegan":
    assert model is not ours and model.resolution == 32 and model.metadata["kimg"] == 240
# the truncation strip: "the faces grow more alike as psi falls", at psi 0 "the same face"
assert spread[0.0] < 1e-5 and all(spread[a] < spread[b] for a, b in zip(psis, psis[1:]))
# section 4: the course's grid; "taking every layer from the source gives the source itself"
assert set(mixes) == {name for name in LAYER_RANGES if layer_ranges(model.resolution)[name]}
assert all(mix.mixed.shape[:2] == (2, 4) for mix in mixes.values())
assert identity_error < 1e-4
# "the coarse rows ... change the destinations most": on the shipped model "more than twice the
# middle or fine rows' change"
assert change["coarse"] == max(change.values())
if model is not ours:
    assert change["coarse"] > 2 * max(change["middle"], change["fine"])
# section 5: a w+ per photo, its PSNR beside the average face's; the default photo is held out
assert all(p.ws.shape == (1, model.num_ws, model.w_dim) for p in projections.values())
assert all(np.isfinite(p.result.psnr) for p in projections.values())
# the default photo: "the last picture of DATA_DIR", not among the NUM_FACES trained on here,
# and with the CelebA sample one of the shipped weights' held-out faces (its last 1,000 files)
if not PHOTO:
    assert len(files) > NUM_FACES or files[-1] == files[:NUM_FACES][-1]  # then in the last HOLDOUT
    last = pt.load_image(files[-1], model.resolution, crop=CROP)
    assert np.array_equal(photos["held-out face"], last)
    shipped_data = json.loads(bundled_stylegan_folder().joinpath("metadata.json").read_text())[
        "dataset"]
    if Path(DATA_DIR).name == Path(shipped_data["directory"]).name:
        assert files == sorted(files) and shipped_data["holdout"] >= 1
        assert len(files) == shipped_data["images"] + shipped_data["holdout"]
# "on the shipped model the projection is far closer" than the average face
if model is not ours:
    assert all(p.result.psnr > psnr(p.result.target, average_face) + 5
               for p in projections.values())
""",
}


def claims_for(name: str) -> str:
    """The claim checks of notebook file ``name`` (every notebook has some)."""
    found = [code for pattern, code in CLAIMS.items() if fnmatch.fnmatch(name, pattern)]
    assert found, f"{name}: no CLAIMS; list what its text says about its output"
    return "# Claims of the notebook's text, injected by tests/test_notebooks.py\n" + \
        "\n".join(found)


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
    exec(source, defaults)  # our own notebook's assignments
    assert defaults["MODEL_HANDLE"] == PROGAN_128_URL
    monkeypatch.setenv("PROGAN_TF_MODEL", "some/other/model")
    from_env = {}
    exec(source, from_env)
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
@pytest.mark.timeout(2 * NOTEBOOK_TIMEOUT_S + 120)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nb = _read(path)
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        f"{path.name} has outputs committed"
    (parameters_index,) = _tagged(nb, "parameters")
    parameters = _parameter_names(nb.cells[parameters_index].source)
    values = overrides_for(path.name, parameters)
    run = copy.deepcopy(nb)
    run.cells.insert(parameters_index + 1, _override_cell(values))
    run.cells.append(nbformat.v4.new_code_cell(claims_for(path.name),
                                               metadata={"tags": ["injected-claims"]}))

    monkeypatch.setenv("PROGAN_TF_MODEL", TEST_MODEL)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend, as in Jupyter
    if DATA_DIR.is_dir():
        monkeypatch.setenv("PROGAN_TF_DATA", str(DATA_DIR))

    passes = 2 if any(fnmatch.fnmatch(path.name, pattern) for pattern in RUN_TWICE) else 1
    for number in range(1, passes + 1):  # "Run all" again, in a new kernel, in the same folder
        executed = copy.deepcopy(run)
        seconds, timings = _execute(executed, path.name, tmp_path, f"run {number}")
        print(f"{path.name} (run {number}): {seconds:.0f} s; slowest cells (s, index): "
              f"{sorted(timings, reverse=True)[:3]}")
    if os.environ.get("PROGAN_TF_EXECUTED_NOTEBOOKS"):  # keep the run to look at, e.g. in CI
        keep = Path(os.environ["PROGAN_TF_EXECUTED_NOTEBOOKS"])
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, keep / path.name)
    assert not list(NOTEBOOK_DIR.glob("*_outputs")), "a notebook wrote into notebooks/"


def _execute(run, name: str, folder: Path, label: str) -> tuple[float, list]:
    """Runs every cell of ``run`` in a new kernel in ``folder``: (seconds, [(s, index)])."""
    from nbclient import NotebookClient

    client = NotebookClient(run, timeout=NOTEBOOK_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    started = time.monotonic()
    timings = []
    client.reset_execution_trackers()
    with client.setup_kernel():
        for index, cell in enumerate(run.cells):
            remaining = NOTEBOOK_TIMEOUT_S - (time.monotonic() - started)
            if remaining <= 0:
                pytest.fail(f"{name} ({label}) ran longer than {NOTEBOOK_TIMEOUT_S} s; slowest "
                            f"cells (s, index): {sorted(timings, reverse=True)[:3]}")
            client.timeout = int(remaining) + 1
            cell_started = time.monotonic()
            try:
                client.execute_cell(cell, index)
            except Exception as error:  # reported with the cell's source
                what = ("a claim of its text does not hold" if index == len(run.cells) - 1
                        else f"cell {index} failed")
                pytest.fail(f"{name} ({label}): {what}:\n{cell.source}\n\n"
                            f"{type(error).__name__}: {_strip_ansi(str(error))[-3000:]}",
                            pytrace=False)
            timings.append((round(time.monotonic() - cell_started, 1), index))
    return time.monotonic() - started, timings


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# --------------------------------------------------------------------------------------------
# Seeds: a search must never start at the answer
# --------------------------------------------------------------------------------------------

SEARCHES = {"recover_latent": 0}  # function -> its default seed


def _seed_uses(source: str, namespace: dict) -> tuple[set, set]:
    """(seeds given to sample_latents, seeds given to the searches) in ``source``, evaluated with
    the notebook's parameters where possible (else kept as source text)."""
    def value(node):
        try:
            expression = compile(ast.Expression(node), "<seed>", "eval")
            return eval(expression, dict(namespace))  # the notebook's own code
        except Exception:  # a loop variable, say: compare the text
            return ast.unparse(node)

    sampled, searched = set(), set()
    for node in ast.walk(ast.parse(_python_only(source))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        seed = next((keyword.value for keyword in node.keywords if keyword.arg == "seed"), None)
        if name == "sample_latents":
            if seed is None and len(node.args) >= 3:
                seed = node.args[2]
            if seed is not None:
                sampled.add(value(seed))
        elif name in SEARCHES:
            searched.add(SEARCHES[name] if seed is None else value(seed))
    return sampled, searched


def _python_only(source: str) -> str:
    """A cell's source without IPython's %magics and !commands."""
    return "\n".join(line[:len(line) - len(line.lstrip())] + "pass"
                     if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def test_seed_uses_finds_both_kinds():
    sampled, searched = _seed_uses(
        "z = pt.sample_latents(2, 512, seed=A)\nr = pt.recover_latent(g, t, seed=A + 1)\n"
        "pt.recover_latent(g, t)\nfor s in range(3):\n    pt.sample_latents(1, 512, s)\n",
        {"A": 7})
    assert sampled == {7, "s"} and searched == {8, 0}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_searches_and_their_targets_never_share_a_seed(path):
    """recover_latent(seed=S) may draw its starts like sample_latents(seed=S): a notebook (or a
    workshop answer pasted into it) that seeds a target and a search alike starts at the answer."""
    from test_workshop import _guide, runnable_blocks

    nb = _read(path)
    namespace: dict = {}
    exec(nb.cells[_tagged(nb, "parameters")[0]].source, namespace)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    sources += [code for name, code in runnable_blocks(_guide()) if name == path.name]
    for source in sources:  # each answer block on its own, and the notebook as a whole
        sampled, searched = _seed_uses(source, namespace)
        assert not sampled & searched, f"{path.name}: seed {sampled & searched} is used for " \
                                       f"targets and searches alike in:\n{source}"
    sampled, searched = set(), set()
    for source in sources:
        found = _seed_uses(source, namespace)
        sampled |= found[0]
        searched |= found[1]
    assert not sampled & searched, f"{path.name}: seed {sampled & searched} seeds latents and " \
                                   f"a search alike; give the searches a seed of their own"


# --------------------------------------------------------------------------------------------
# Packaging: one canonical source, a light Colab extra, GPU runtimes where wanted
# --------------------------------------------------------------------------------------------

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
GPU_NOTEBOOKS = ("02_latent_recovery.ipynb", "03_train_progressive_gan.ipynb",
                 "05_dcgan_why_progressive.ipynb", "06_pix2pix.ipynb", "07_srgan.ipynb",
                 "08_cyclegan.ipynb", "09_stylegan.ipynb")


def test_pyproject_names_one_canonical_repository():
    urls = PYPROJECT["project"]["urls"]
    repository = urls["Repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository), repository
    assert urls["Homepage"] == repository
    assert urls["Issues"] == f"{repository}/issues"
    assert BADGE_URL.startswith(repository.replace("https://github.com/",
                                                   "https://colab.research.google.com/github/"))


def test_license_file_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_colab_extra_is_light():
    extras = PYPROJECT["project"]["optional-dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
             for requirement in extras["colab"]}
    assert {"ipywidgets", "imageio-ffmpeg", "opencv-python-headless"} <= names
    assert not names & {"jupyter", "jupyterlab", "notebook", "ipykernel", "tensorflow"}, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_setup_cell_installs_the_colab_extra_from_the_repository(path):
    source = _read(path).cells[1].source
    installs = re.findall(r'%pip install -q "progan-tf\[([\w,]+)\] @ git\+(\S+?)"', source)
    assert len(installs) == 1, f"{path.name}: the set-up cell must install progan-tf once"
    extras, url = installs[0]
    assert extras == "colab"
    assert url == PYPROJECT["project"]["urls"]["Repository"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_colab_metadata_asks_for_a_gpu_only_where_wanted(path):
    metadata = _read(path).metadata
    if path.name in GPU_NOTEBOOKS:
        assert metadata.get("accelerator") == "GPU"
        assert metadata.get("colab", {}).get("gpuType")
        assert "GPU" in _read(path).cells[0].source + _read(path).cells[2].source
    else:
        assert "accelerator" not in metadata


# --------------------------------------------------------------------------------------------
# Stopping in one line (progan_tf.notebook itself is tested in tests/test_notebook_module.py)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_model_cell_fails_in_one_line_naming_the_bundled_model(tmp_path):
    """An unloadable MODEL_HANDLE (offline, say) stops each notebook with one line, no traceback."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    loading = 0
    for path in NOTEBOOKS:
        nb = _read(path)
        (parameters_index,) = _tagged(nb, "parameters")
        load = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                and "gen = pt.load_generator(MODEL_HANDLE)" in cell.source]
        if not load:
            continue
        loading += 1
        run = copy.deepcopy(nb)
        run.cells = [run.cells[parameters_index],
                     _override_cell({"MODEL_HANDLE": str(tmp_path / "no-such-model")}),
                     run.cells[load[0]]]
        client = NotebookClient(run, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}})
        with pytest.raises(CellExecutionError):
            client.execute()
        errors = [output for output in run.cells[-1].outputs if output.output_type == "error"]
        assert len(errors) == 1, f"{path.name}: {run.cells[-1].outputs}"
        lines = [_strip_ansi(line) for line in errors[0].traceback]
        assert len(lines) == 1, f"{path.name}: a {len(lines)}-line traceback:\n" + "\n".join(lines)
        assert lines[0].startswith("NotebookStop: ") and "MODEL_HANDLE = 'bundled'" in lines[0]
        assert "no-such-model" in lines[0]
    assert loading >= 3
