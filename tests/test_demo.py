"""``progan-tf demo``: the README's main job, and the page it writes, rendered by Chromium."""

from __future__ import annotations

import html.parser
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_line_error, progan_tf

import progan_tf as pt
from progan_tf.demo import MARKER, DemoError, run_demo
from progan_tf.display import zoom_factor
from progan_tf.loading import bundled_folder

STEPS, RESTARTS, FRAMES, SEED = 12, 2, 6, 3
FILES = {"grid.png", "walk.gif", "photo.png", "target.png", "recovered.png", "comparison.png",
         "search.gif", "metrics.json", "latent.npy", "index.html"}


@pytest.fixture(scope="module")
def bundled():
    return pt.load_generator("bundled")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run through the CLI with small settings: (folder, the CLI's result)."""
    out = tmp_path_factory.mktemp("demo") / "out"
    result = progan_tf("demo", "--out", out, "--steps", STEPS, "--restarts", RESTARTS,
                       "--frames", FRAMES, "--seed", SEED)
    assert result.returncode == 0, result.stderr
    return out, result


class _References(html.parser.HTMLParser):
    """The files a page points to: every <img src> and <a href>."""

    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])


def references(page: Path) -> _References:
    parser = _References()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


# --------------------------------------------------------------------------------------------
# What the demo writes
# --------------------------------------------------------------------------------------------


def test_demo_prints_every_path_index_last(demo):
    out, result = demo
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"open {(out / 'index.html').resolve().as_uri()}"
    printed = [Path(line.strip()) for line in lines[1:-1]]
    assert printed[-1] == out / "index.html"
    assert {path.name for path in printed} == FILES
    assert all(path.parent == out for path in printed)
    on_disk = {path.name for path in out.iterdir()}
    assert on_disk == FILES | {MARKER}  # no temporary files left behind


def test_demo_images_and_animations(demo, bundled):
    out, _ = demo
    height, width = bundled.image_shape[:2]
    for name in ("target.png", "recovered.png"):
        assert Image.open(out / name).size == (width, height)
    # make_grid: 4 x 4 images with 2 pixels of padding; comparison: 2 side by side.
    assert Image.open(out / "grid.png").size == (4 * (width + 2) + 2, 4 * (height + 2) + 2)
    # target | recovered: at least both at full size, side by side (labels and zoom may add)
    comparison_width, comparison_height = Image.open(out / "comparison.png").size
    assert comparison_width >= 2 * width and height <= comparison_height < comparison_width
    assert max(Image.open(out / "photo.png").size) == 256
    grid = np.asarray(Image.open(out / "grid.png"), dtype=np.float32)
    assert grid.std() > 5  # pictures, not a blank canvas
    expected_frames = {"walk.gif": 3 * (FRAMES - 1),         # a loop through 3 keyframes
                       "search.gif": math.ceil(STEPS / 5) + 1}  # every 5 steps, then the best
    # walk.gif is written at the model's size (the page enlarges it); search.gif comes from
    # RecoveryResult.save, which enlarges small models' searches by a whole factor
    zoom = {"walk.gif": 1, "search.gif": zoom_factor((height, width))}
    for name, count in expected_frames.items():
        with Image.open(out / name) as gif:
            assert gif.format == "GIF" and gif.n_frames == count and gif.n_frames > 3
            assert gif.size == (zoom[name] * width, zoom[name] * height), name
            assert gif.info.get("loop") == 0


def test_demo_metrics_and_latent(demo, bundled):
    out, _ = demo
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == STEPS and metrics["restarts"] == RESTARTS
    for key in ("psnr", "ssim", "best_loss", "wall_time", "latent_norm", "steps_per_second"):
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key]), key
    assert metrics["psnr"] > 5 and 0 < metrics["ssim"] <= 1
    latent = np.load(out / "latent.npy")
    assert latent.shape == (bundled.latent_dim,) and np.isfinite(latent).all()
    # The recovered latent really makes the recovered picture.
    image = np.asarray(Image.open(out / "recovered.png"), dtype=np.float32) / 255
    np.testing.assert_allclose(bundled(latent).numpy()[0], image, atol=1 / 255 + 1e-3)


def test_demo_page_references_exactly_the_files_written(demo):
    out, _ = demo
    page = references(out / "index.html")
    assert len(page.images) == len(set(page.images)) == 7
    assert set(page.images) | set(page.links) == FILES - {"index.html"}
    text = (out / "index.html").read_text(encoding="utf-8")
    metrics = json.loads((out / "metrics.json").read_text())
    for shown in (f"{metrics['psnr']:.2f} dB", f"{metrics['ssim']:.3f}",
                  f"{metrics['wall_time']:.1f} s", "<td>bundled</td>", "resolution"):
        assert shown in text, shown


def test_demo_escapes_the_page_and_reads_metadata(bundled, tmp_path):
    """A model folder whose name is HTML must come out as text; its metadata is shown."""
    model = tmp_path / 'a<b>&"c'
    shutil.copytree(str(bundled_folder()), model)
    metadata = json.loads((model / "metadata.json").read_text())
    metadata["kimg"], metadata["metrics"] = 321.5, {"swd": {"average": 12.34}}
    (model / "metadata.json").write_text(json.dumps(metadata))
    result = run_demo(tmp_path / "out", str(model), steps=3, restarts=1, frames=2,
                      progress=False)
    text = result.index.read_text(encoding="utf-8")
    assert "a&lt;b&gt;&amp;&quot;c" in text and "<b>a" not in text
    assert "<td>321.5</td>" in text
    assert "<th>SWD, average of the scales</th><td>12.3</td><td>-</td>" in text
    assert result.files()[-1] == result.index and len(result.files()) == len(FILES)


def test_demo_page_shows_pictures_at_whole_multiples_of_their_size(demo):
    """Every <img> is its file's size times a whole factor: sharp pixels, no distortion."""
    out, _ = demo
    text = (out / "index.html").read_text(encoding="utf-8")
    tags = re.findall(r'<img src="([^"]+)"[^>]* width="(\d+)" height="(\d+)">', text)
    assert len(tags) == 7
    for name, width, height in tags:
        with Image.open(out / name) as picture:
            factor = int(width) // picture.width
            assert factor >= 1 and (int(width), int(height)) == (picture.width * factor,
                                                                   picture.height * factor), name


def test_demo_model_metrics_are_a_readable_table(demo):
    """SWD per scale beside its noise floor and MS-SSIM beside the real value, explained --
    not the raw keys of metadata.json."""
    out, _ = demo
    text = (out / "index.html").read_text(encoding="utf-8")
    metrics = json.loads(bundled_folder().joinpath("metadata.json").read_text())["metrics"]
    swd, floor = metrics["swd"], metrics["swd_noise_floor"]
    assert len(swd["levels"]) >= 2
    for level in swd["levels"]:
        assert (f"<th>SWD at {level}x{level} (x1e3)</th><td>{swd['levels'][level]:.1f}</td>"
                f"<td>{floor['levels'][level]:.1f}</td>") in text
    assert (f"<th>MS-SSIM of random pairs</th><td>{metrics['ms_ssim_fake']:.3f}</td>"
            f"<td>{metrics['ms_ssim_real']:.3f}</td>") in text
    assert "noise floor" in text and "lower is better" in text
    for raw in ("swd_noise_floor", "ms_ssim_fake", "levels.32", "num_fake_images", "metric:"):
        assert raw not in text, raw


def test_demo_walk_caption_says_what_the_generator_does(demo, bundled):
    """The caption says the latent's length does not change the faces; it must be true."""
    out, _ = demo
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "washed-out" not in text
    assert "the length does not change the faces" in text
    z = pt.sample_latents(2, bundled.latent_dim, seed=SEED)
    assert float(np.abs(bundled(0.5 * z) - bundled(z)).max()) < 1e-3
    path = pt.interpolate_hypersphere(z[0], z[1], 5)
    lengths = np.linspace(0.3, 3.0, len(path))[:, None]  # other lengths, the same directions
    assert float(np.abs(bundled(path * lengths) - bundled(path)).max()) < 1e-3


def test_demo_replaces_an_earlier_demo_without_overwrite(demo, tmp_path):
    out, _ = demo
    again = tmp_path / "again"
    shutil.copytree(out, again)
    before = np.asarray(Image.open(again / "grid.png"))
    run_demo(again, steps=2, restarts=1, frames=2, seed=SEED + 1, progress=False)
    assert not np.array_equal(before, np.asarray(Image.open(again / "grid.png")))
    with Image.open(again / "walk.gif") as gif:
        assert gif.n_frames == 3  # the new, shorter walk replaced the old one


def test_overwrite_writes_into_a_foreign_folder_and_keeps_its_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_demo(tmp_path, steps=2, restarts=1, frames=2, overwrite=True, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert all(path.is_file() for path in result.files())
    assert (tmp_path / MARKER).is_file()


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_demo_help_lists_its_options():
    result = progan_tf("demo", "--help")
    assert result.returncode == 0 and "usage: progan-tf demo" in result.stdout
    for option in ("--model", "--out", "--seed", "--steps", "--restarts", "--overwrite"):
        assert option in result.stdout


def test_demo_bad_model_is_one_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    assert_one_line_error(progan_tf("demo", "--model", tmp_path / "no-model", "--out", out),
                          "no-model")
    assert not out.exists()


def test_demo_refuses_a_file_and_a_foreign_folder(tmp_path):
    file = tmp_path / "page.html"
    file.write_text("<p>not a folder</p>")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "index.html").write_text("<p>someone's page</p>")
    assert_one_line_error(progan_tf("demo", "--out", file), "is a file")
    assert_one_line_error(progan_tf("demo", "--out", foreign), "not empty", "--overwrite")
    assert file.read_text() == "<p>not a folder</p>"
    assert [p.name for p in foreign.iterdir()] == ["index.html"]
    assert (foreign / "index.html").read_text() == "<p>someone's page</p>"


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--restarts", "-1"),
                                           ("--frames", "1"), ("--steps", "many")])
def test_demo_bad_numbers(option, value, tmp_path):
    result = progan_tf("demo", option, value, "--out", tmp_path / "out")
    assert result.returncode == 2 and option in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("options", [{"steps": 0}, {"restarts": 2.5}, {"frames": 1},
                                     {"seed": -1}, {"steps": True}])
def test_run_demo_bad_options(options, tmp_path):
    with pytest.raises(DemoError, match=next(iter(options))):
        run_demo(tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_run_demo_out_below_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(pt.RunDirectoryError, match="cannot write"):
        run_demo(tmp_path / "file" / "out", steps=1, restarts=1, frames=2, progress=False)


# --------------------------------------------------------------------------------------------
# The page in a real browser
# --------------------------------------------------------------------------------------------

# Appended to a copy of the page: once everything has loaded (or failed to), report which
# images the browser could not decode into an element that --dump-dom then prints.
_CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) { return !(img.complete && img.naturalWidth > 0); })
                     .map(function (img) { return img.getAttribute("src"); });
  var report = document.createElement("pre");
  report.id = "image-check";
  report.textContent = JSON.stringify({count: images.length, broken: broken});
  document.body.appendChild(report);
});
</script>
"""


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium not found (scripts/test.sh installs Debian's chromium with apt-get "
                    "when it runs as root or with passwordless sudo)")
    return browser


def render_image_check(folder: Path, tmp_path: Path) -> dict:
    """Loads folder/index.html (with the check script added) in headless Chromium."""
    page = folder / "index.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("</body>") == 1
    checked = folder / "checked.html"
    checked.write_text(text.replace("</body>", _CHECK_SCRIPT + "</body>"), encoding="utf-8")
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}",
               "--virtual-time-budget=5000", "--dump-dom", checked.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'<pre id="image-check">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, f"the page's load event never reported: {result.stdout[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def test_every_image_on_the_page_loads_in_chromium(demo, tmp_path):
    out, _ = demo
    copy = tmp_path / "page"
    shutil.copytree(out, copy)
    report = render_image_check(copy, tmp_path)
    assert report == {"count": len(references(out / "index.html").images), "broken": []}
    assert report["count"] == 7


@pytest.mark.parametrize("damage", ["missing file", "corrupt file"])
def test_chromium_check_detects_a_broken_image(demo, tmp_path, damage):
    out, _ = demo
    copy = tmp_path / "page"
    shutil.copytree(out, copy)
    if damage == "missing file":
        page = copy / "index.html"
        page.write_text(page.read_text().replace('src="search.gif"', 'src="gone.gif"'))
        expected = ["gone.gif"]
    else:
        (copy / "grid.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        expected = ["grid.png"]
    report = render_image_check(copy, tmp_path)
    assert report["broken"] == expected and report["count"] == 7
