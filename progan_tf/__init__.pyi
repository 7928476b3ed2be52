"""Type stub of the lazy ``progan_tf`` facade: the names ``pt.<name>`` resolves, as imports.

``progan_tf/__init__.py`` imports each name on first use (PEP 562) so that ``import progan_tf``
stays fast and free of TensorFlow; IDEs and type checkers cannot follow that, so they read this
file instead. tests/test_facade.py checks that it lists exactly the names of ``_EXPORTS``.
"""

from progan_tf.animation import animate as animate
from progan_tf.constants import BUNDLED as BUNDLED
from progan_tf.constants import BUNDLED_CYCLEGAN as BUNDLED_CYCLEGAN
from progan_tf.constants import BUNDLED_PIX2PIX as BUNDLED_PIX2PIX
from progan_tf.constants import BUNDLED_SRGAN as BUNDLED_SRGAN
from progan_tf.constants import BUNDLED_STYLEGAN as BUNDLED_STYLEGAN
from progan_tf.constants import PROGAN_128 as PROGAN_128
from progan_tf.directions import direction_from_labels as direction_from_labels
from progan_tf.directions import edit_latent as edit_latent
from progan_tf.directions import random_directions as random_directions
from progan_tf.edits import edit_strip as edit_strip
from progan_tf.edits import effect_size as effect_size
from progan_tf.edits import strip_effect as strip_effect
from progan_tf.edits import visible_angle as visible_angle
from progan_tf.errors import DatasetError as DatasetError
from progan_tf.errors import DemoError as DemoError
from progan_tf.errors import DownloadFailed as DownloadFailed
from progan_tf.errors import DownloadTimeout as DownloadTimeout
from progan_tf.errors import FaceNotFoundWarning as FaceNotFoundWarning
from progan_tf.errors import HubLockHeld as HubLockHeld
from progan_tf.errors import ImageLoadError as ImageLoadError
from progan_tf.errors import LatentError as LatentError
from progan_tf.errors import MetricError as MetricError
from progan_tf.errors import MissingDependencyError as MissingDependencyError
from progan_tf.errors import ModelLoadError as ModelLoadError
from progan_tf.errors import NotebookStop as NotebookStop
from progan_tf.errors import OptionError as OptionError
from progan_tf.errors import OutputPathError as OutputPathError
from progan_tf.errors import ProganError as ProganError
from progan_tf.errors import RecoveryError as RecoveryError
from progan_tf.errors import RedirectRefused as RedirectRefused
from progan_tf.errors import RunDirectoryError as RunDirectoryError
from progan_tf.errors import TrainingInterrupted as TrainingInterrupted
from progan_tf.explorer import Explorer as Explorer
from progan_tf.explorer import explore as explore
from progan_tf.face import face_crop as face_crop
from progan_tf.generator import Generator as Generator
from progan_tf.generator import load_generator as load_generator
from progan_tf.images import display_image as display_image
from progan_tf.images import load_image as load_image
from progan_tf.images import make_grid as make_grid
from progan_tf.images import save_image as save_image
from progan_tf.images import show_grid as show_grid
from progan_tf.images import show_image as show_image
from progan_tf.images import show_side_by_side as show_side_by_side
from progan_tf.images import to_uint8 as to_uint8
from progan_tf.interpolation import interpolate as interpolate
from progan_tf.interpolation import interpolate_hypersphere as interpolate_hypersphere
from progan_tf.interpolation import lerp as lerp
from progan_tf.interpolation import loop as loop
from progan_tf.interpolation import slerp as slerp
from progan_tf.interpolation import walk as walk
from progan_tf.latents import cosine_similarity as cosine_similarity
from progan_tf.latents import latent_norms as latent_norms
from progan_tf.latents import sample_latents as sample_latents
from progan_tf.projection import Projection as Projection
from progan_tf.projection import project as project
from progan_tf.recovery import Encoder as Encoder
from progan_tf.recovery import RecoveryResult as RecoveryResult
from progan_tf.recovery import RecoverySettings as RecoverySettings
from progan_tf.recovery import discriminator_extractor as discriminator_extractor
from progan_tf.recovery import find_closest_latent_vector as find_closest_latent_vector
from progan_tf.recovery import load_encoder as load_encoder
from progan_tf.recovery import perceptual_extractor as perceptual_extractor
from progan_tf.recovery import plan_search as plan_search
from progan_tf.recovery import psnr as psnr
from progan_tf.recovery import recover_latent as recover_latent
from progan_tf.recovery import ssim as ssim
from progan_tf.style_generator import StyleBasedGenerator as StyleBasedGenerator
from progan_tf.stylegan.mixing import StyleMix as StyleMix
from progan_tf.stylegan.mixing import style_mix as style_mix
from progan_tf.translators import Translator as Translator
from progan_tf.translators import load_translator as load_translator
from progan_tf.upscalers import Upscaler as Upscaler
from progan_tf.upscalers import load_upscaler as load_upscaler

__version__: str

__all__ = [
    "BUNDLED",
    "BUNDLED_CYCLEGAN",
    "BUNDLED_PIX2PIX",
    "BUNDLED_SRGAN",
    "BUNDLED_STYLEGAN",
    "StyleBasedGenerator",
    "Projection",
    "project",
    "StyleMix",
    "style_mix",
    "DatasetError",
    "DemoError",
    "DownloadFailed",
    "DownloadTimeout",
    "Encoder",
    "Explorer",
    "FaceNotFoundWarning",
    "Generator",
    "HubLockHeld",
    "ImageLoadError",
    "LatentError",
    "MetricError",
    "MissingDependencyError",
    "ModelLoadError",
    "NotebookStop",
    "OptionError",
    "OutputPathError",
    "PROGAN_128",
    "ProganError",
    "RecoveryError",
    "RecoveryResult",
    "RecoverySettings",
    "RedirectRefused",
    "RunDirectoryError",
    "TrainingInterrupted",
    "Translator",
    "Upscaler",
    "animate",
    "cosine_similarity",
    "direction_from_labels",
    "discriminator_extractor",
    "display_image",
    "edit_latent",
    "edit_strip",
    "effect_size",
    "explore",
    "face_crop",
    "find_closest_latent_vector",
    "interpolate",
    "interpolate_hypersphere",
    "latent_norms",
    "lerp",
    "load_generator",
    "load_translator",
    "load_upscaler",
    "load_encoder",
    "load_image",
    "loop",
    "make_grid",
    "perceptual_extractor",
    "plan_search",
    "psnr",
    "random_directions",
    "recover_latent",
    "sample_latents",
    "save_image",
    "show_grid",
    "show_image",
    "show_side_by_side",
    "slerp",
    "ssim",
    "strip_effect",
    "to_uint8",
    "visible_angle",
    "walk",
]
