"""progan-tf: Progressive GANs in TensorFlow/Keras, notebook first.

    import progan_tf as pt
    gen = pt.load_generator("https://tfhub.dev/google/progan-128/1")   # or "bundled" offline
    z = pt.sample_latents(8, gen.latent_dim, seed=7)
    pt.show_grid(gen(z))
    frames = gen(pt.interpolate_hypersphere(z[0], z[1], 100))
    pt.animate(frames, "walk.gif")

The training side lives in :mod:`progan_tf.training` (what every GAN family shares) and
:mod:`progan_tf.gan` (ProGAN); quality metrics in :mod:`progan_tf.metrics`; stand-in models for
tests and offline demos in :mod:`progan_tf.testing`.

The layering rule (CONTRIBUTING.md explains it): modules form layers, and a module imports only
from its own layer or the layers below it, and only their public names.

1. Helpers -- ``errors``, ``constants``, ``checks``, ``fileio``: the standard library only,
   never TensorFlow, so the CLI can import them before it decides whether it needs TensorFlow.
2. Inference core -- ``pixels``, ``image_sources``, ``images``, ``display``, ``latents``,
   ``interpolation``, ``downloads``, ``model_folders``, ``loading``, ``generator``, ``animation``.
3. Built on the core -- ``face``, ``metrics``, ``recovery``, ``notebook``, ``directions``,
   ``edits``, ``explorer``, ``translators``, ``upscalers``.
4. Training -- ``training`` (shared infrastructure), then the families plugged into it:
   ``gan`` (ProGAN), ``dcgan``, ``pix2pix``, ``srgan``, ``stylegan``, ``cyclegan``.
   Inference never imports training at module level; what it needs from a trained network
   goes through a public seam (``ProgressiveDiscriminator.features``).
5. Entry points -- ``cli`` and its ``cli_*`` modules, ``demo``, ``demo_page``: the public API
   only.

Every ``pt.<name>`` is imported from its module on first use, so ``import progan_tf`` is instant
and imports no TensorFlow; ``__init__.pyi`` spells the same names out for IDEs and type
checkers.
"""

import importlib
import os
import sys

if "tensorflow" not in sys.modules:
    # TensorFlow's C++ runtime logs to stderr below Python's reach: start-up notices (oneDNN,
    # CPU instructions), and Grappler's "remapper failed" / "layout failed" lines, which it logs
    # at ERROR level although they only mean an optional graph rewrite was skipped. Level 3 keeps
    # only fatal messages; real failures still reach the user as Python exceptions (tf.errors).
    # The level is read once, when TensorFlow starts, so it only helps if set before that; and
    # setdefault leaves a level the user chose (e.g. TF_CPP_MIN_LOG_LEVEL=0 to debug) alone.
    # TensorFlow 2.21 still prints a few INFO lines before it reads the level (oneDNN on
    # AVX-512 CPUs, no CUDA driver); hiding those would mean redirecting the process's stderr,
    # which a library must not do.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Public name -> module.  Imported on first use (PEP 562), so that ``import progan_tf`` and
# ``progan-tf --help`` do not pay for importing TensorFlow.  IDEs and type checkers cannot
# follow a lazy import, so ``__init__.pyi`` lists the same names as plain imports (a test keeps
# the two lists equal).
_EXPORTS = {
    "animate": "animation",
    **dict.fromkeys(["BUNDLED", "BUNDLED_PIX2PIX", "BUNDLED_SRGAN", "PROGAN_128"], "constants"),
    "BUNDLED_CYCLEGAN": "constants",
    **dict.fromkeys(["DatasetError", "DemoError", "DownloadFailed", "DownloadTimeout",
                     "FaceNotFoundWarning", "HubLockHeld", "ImageLoadError", "LatentError",
                     "MetricError", "MissingDependencyError", "ModelLoadError", "NotebookStop",
                     "OptionError", "OutputPathError", "ProganError", "RecoveryError",
                     "RedirectRefused", "RunDirectoryError", "TrainingInterrupted"], "errors"),
    **dict.fromkeys(["direction_from_labels", "edit_latent", "random_directions"], "directions"),
    **dict.fromkeys(["edit_strip", "effect_size", "strip_effect", "visible_angle"], "edits"),
    **dict.fromkeys(["Explorer", "explore"], "explorer"),
    **dict.fromkeys(["Generator", "load_generator"], "generator"),
    **dict.fromkeys(["display_image", "load_image", "make_grid", "save_image", "show_grid",
                     "show_image", "show_side_by_side", "to_uint8"], "images"),
    **dict.fromkeys(["interpolate", "interpolate_hypersphere", "lerp", "loop", "slerp", "walk"],
                    "interpolation"),
    **dict.fromkeys(["cosine_similarity", "latent_norms", "sample_latents"], "latents"),
    **dict.fromkeys(["RecoveryResult", "RecoverySettings", "discriminator_extractor",
                     "find_closest_latent_vector", "perceptual_extractor", "psnr",
                     "recover_latent", "ssim", "Encoder", "load_encoder",
                     "plan_search"], "recovery"),
    "face_crop": "face",
    **dict.fromkeys(["Translator", "load_translator"], "translators"),
    **dict.fromkeys(["Upscaler", "load_upscaler"], "upscalers"),
    "BUNDLED_STYLEGAN": "constants",
    "StyleBasedGenerator": "style_generator",
    **dict.fromkeys(["Projection", "project"], "projection"),
    **dict.fromkeys(["StyleMix", "style_mix"], "stylegan.mixing"),
}

__version__ = "0.1.0"

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"progan_tf.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'progan_tf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

