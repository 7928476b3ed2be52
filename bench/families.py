"""How fast does each model family train here?  Images/s in float32 and mixed_bfloat16.

Every family the toolkit trains -- the progressive GAN at its last stable phase, DCGAN, Pix2Pix,
SRGAN's adversarial phase, CycleGAN and the style-based generator -- is built with the
options of its shipped recipe (the commands in bench/README.md) and fed by the real input
pipeline (``family.load_data`` and ``family.dataset``, exactly what ``progan-tf train``
runs) from the same few hundred faces.
Then its train steps are timed side by side with ``bench/train.py``'s ``time_side_by_side``:
every model in turn for a few rounds, so load from other processes hits all alike, and the
rate is the batch over the median step time.  Images/s counts the training examples a step
consumes (Pix2Pix: pairs; SRGAN: high-resolution faces; CycleGAN: pictures of A -- each step
also takes as many of B, the faces split into two halves).

On CPUs without native bfloat16 (AVX512_BF16/AMX) mixed_bfloat16 is emulated and slower; the
table says what it measured, not what a GPU would do.

    .venv/bin/python bench/families.py                 # bench/README.md's table (~10 min)
    .venv/bin/python bench/families.py --quick --data DIR   # smoke test (tiny, float32)
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.

from progan_tf import fileio
from progan_tf.cycle_translators import bundled_cyclegan_folder
from progan_tf.cyclegan.config import MIN_DOMAIN_IMAGES, CycleGANConfig
from progan_tf.cyclegan.family import CYCLEGAN_FAMILY
from progan_tf.dcgan.config import DCGANConfig
from progan_tf.dcgan.family import DCGAN_FAMILY
from progan_tf.gan.family import PROGAN
from progan_tf.gan.train import TrainConfig
from progan_tf.loading import bundled_dcgan_folder
from progan_tf.pix2pix.config import Pix2PixConfig
from progan_tf.pix2pix.family import PIX2PIX_FAMILY
from progan_tf.srgan.config import SRGANConfig
from progan_tf.srgan.family import SRGAN_FAMILY
from progan_tf.style_generator import bundled_stylegan_folder
from progan_tf.stylegan.config import StyleGANConfig
from progan_tf.stylegan.family import STYLEGAN_FAMILY
from progan_tf.training.data import list_image_files
from progan_tf.translators import bundled_pix2pix_folder
from progan_tf.upscalers import bundled_srgan_folder

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-8k"
PRECISIONS = ("float32", "mixed_bfloat16")


def _train_script():
    """``bench/train.py`` (its timing helpers), imported by path: bench/ is not a package."""
    spec = importlib.util.spec_from_file_location("bench_train", Path(__file__).with_name(
        "train.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_train"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def recipes(data_dir: str, quick: bool) -> list:
    """``(name, family, config)`` of each row: the shipped recipes (tiny ones with ``quick``)."""
    common = {"data_dir": data_dir, "out_dir": "", "crop": "celeba"}
    if quick:
        return [
            ("ProGAN 8x8", PROGAN, TrainConfig(**common, resolution=8, latent_dim=16,
                                               fmap_max=8, batch_sizes={4: 4, 8: 4})),
            ("DCGAN 16x16", DCGAN_FAMILY, DCGANConfig(**common, resolution=16, latent_dim=16,
                                                      width=8, batch_size=4)),
            ("Pix2Pix 16x16", PIX2PIX_FAMILY, Pix2PixConfig(**common, resolution=16, width=4,
                                                            max_width=8, batch_size=4)),
            ("SRGAN 16x16", SRGAN_FAMILY, SRGANConfig(**common, resolution=16, width=4,
                                                      blocks=1, disc_width=4, batch_size=4)),
            ("CycleGAN 16x16", CYCLEGAN_FAMILY, CycleGANConfig(
                **{**common, "data_dir": two_domains(data_dir)}, resolution=16, width=4,
                resnet_blocks=1, batch_size=4)),
            ("StyleGAN 16x16", STYLEGAN_FAMILY, StyleGANConfig(
                **common, resolution=16, latent_dim=8, w_dim=8, mapping_layers=2,
                fmap_base=16, fmap_max=8, batch_size=4)),
        ]
    return [
        ("ProGAN 64x64", PROGAN, TrainConfig(
            **common, resolution=64, fmap_base=512, fmap_max=128,
            batch_sizes={4: 64, 8: 32, 16: 16, 32: 16, 64: 16})),
        ("DCGAN 32x32", DCGAN_FAMILY, shipped(DCGANConfig(**common, resolution=32, width=64),
                                              bundled_dcgan_folder())),
        ("DCGAN 64x64", DCGAN_FAMILY, DCGANConfig(**common, resolution=64, width=64)),
        ("Pix2Pix 64x64", PIX2PIX_FAMILY, shipped(
            Pix2PixConfig(**common, resolution=64, width=32, max_width=128, batch_size=16),
            bundled_pix2pix_folder())),
        ("SRGAN 16->64", SRGAN_FAMILY, shipped(SRGANConfig(**common, resolution=64),
                                               bundled_srgan_folder())),
        ("CycleGAN 64x64", CYCLEGAN_FAMILY, shipped(CycleGANConfig(
            **{**common, "data_dir": two_domains(data_dir)}, **CYCLEGAN_RECIPE),
            bundled_cyclegan_folder())),
        ("StyleGAN 32x32", STYLEGAN_FAMILY, shipped(StyleGANConfig(
            **common, resolution=32, fmap_base=512, fmap_max=64), bundled_stylegan_folder())),
        ("StyleGAN 64x64", STYLEGAN_FAMILY, StyleGANConfig(**common, resolution=64,
                                                           fmap_base=512, fmap_max=64)),
    ]


NOT_RECIPE = ("data_dir", "out_dir", "holdout", "command", "precision", "domains")
"""Options of a shipped run that describe where it ran, not the networks or the step."""


def shipped(config, folder):
    """``config`` with the options the weights in ``folder`` were trained with, where they ship.

    The shipped model's ``metadata.json`` records its run's options, so the row times exactly
    that recipe and cannot drift from it; where nothing ships (yet), ``config`` is the recipe
    ``bench/README.md`` gives.
    """
    path = folder / "metadata.json"
    if not path.is_file():
        return config
    recorded = json.loads(path.read_text())["config"]
    names = {field.name for field in dataclasses.fields(config)} - set(NOT_RECIPE)
    return dataclasses.replace(config, **{name: value for name, value in recorded.items()
                                          if name in names})


CYCLEGAN_RECIPE = {"resolution": 64, "generator": "unet", "width": 16, "batch_size": 4}
"""The shipped CycleGAN's options (bench/README.md's command)."""


def two_domains(data: str) -> str:
    """A folder beside ``data`` whose ``A/`` and ``B/`` link to alternate faces of ``data``.

    Each domain repeats its faces up to the number a CycleGAN run needs (for ``--quick``'s
    few faces); the folder is ``data`` + ``-domains`` and is removed with it by :func:`main`.
    """
    files = list_image_files(data)
    root = Path(f"{data}-domains")
    for name, half in (("A", files[0::2]), ("B", files[1::2])):
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(max(len(half), MIN_DOMAIN_IMAGES)):
            path = Path(half[index % len(half)])
            link = root / name / f"{index:05d}{path.suffix}"
            if not link.exists():
                link.symlink_to(path.resolve())
    return str(root)


def timed_model(family, config, precision: str, data):
    """The family's model in the last phase of its schedule, and that phase's dataset."""
    config = dataclasses.replace(config, precision=precision)
    model = family.build_model(config)
    phase = family.schedule(config).phases[-1]
    model.start_phase(phase, config.jit_compile)
    return model, family.dataset(config, data, phase, phase.start_images), phase.batch_size


def few_faces(data: str, count: int) -> str:
    """A temporary folder of links to the first ``count`` images of ``data`` (sorted)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-families-"))
    for index, path in enumerate(list_image_files(data)[:count]):
        (folder / f"{index:05d}{Path(path).suffix}").symlink_to(Path(path).resolve())
    return str(folder)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of face images")
    parser.add_argument("--images", type=int, default=256,
                        help="faces loaded into each family's pipeline (default 256)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="timing per model and precision, over 3 rounds (default 30)")
    parser.add_argument("--precisions", default=None,
                        help="comma-separated (default: float32,mixed_bfloat16; with --quick, "
                             "float32)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="tiny models, a second each (smoke test)")
    args = parser.parse_args(argv)
    if args.precisions is None:  # the smoke test skips emulated bfloat16's slow tracing
        args.precisions = "float32" if args.quick else ",".join(PRECISIONS)
    args.precisions = [p for p in args.precisions.split(",") if p]
    unknown = sorted(set(args.precisions) - set(PRECISIONS))
    if unknown:
        parser.error(f"--precisions takes {', '.join(PRECISIONS)}. Received: {unknown}")
    if args.quick:
        args.images, args.seconds = min(args.images, 16), min(args.seconds, 1.0)
    return args


def main(argv=None):
    args = parse_args(argv)
    timing = _train_script()
    folder = few_faces(args.data, args.images)
    try:
        runs, names = [], []
        for name, family, config in recipes(folder, args.quick):
            data, _ = family.load_data(config)
            for precision in args.precisions:
                model, dataset, batch = timed_model(family, config, precision, data)
                runs.append((model, dataset, batch, 1))
                names.append((name, precision))
        rates = timing.time_side_by_side(runs, args.seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(f"{folder}-domains", ignore_errors=True)
    table = {}
    for (name, precision), (rate, steps) in zip(names, rates):
        table.setdefault(name, {})[precision] = {"images_per_second": rate, "steps": steps}
    head = ["model (shipped recipe)"] + [f"{p} img/s" for p in args.precisions]
    if len(args.precisions) == 2:
        head.append("bf16 / f32")
    print(f"train steps timed side by side, {args.seconds:g} s per row over 3 rounds, median "
          f"step time; real input pipeline on {args.images} faces")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, row in table.items():
        cells = [name] + [f"{row[p]['images_per_second']:.1f}" for p in args.precisions]
        if len(args.precisions) == 2:
            first, second = (row[p]["images_per_second"] for p in args.precisions)
            cells.append(f"{second / first:.2f}x")
        print("| " + " | ".join(cells) + " |")
    if args.json:
        fileio.write_json(args.json, {"rows": table, "options": vars(args)})


if __name__ == "__main__":
    main()
