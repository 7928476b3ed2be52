"""The training data pipeline lives in :mod:`progan_tf.training.data`; this name keeps old imports.

Every model family trains on an image folder, so the pipeline is shared infrastructure.
"""

from progan_tf.training.data import (
                                     CROPS,
                                     IMAGE_SUFFIXES,
                                     ImageFolder,
                                     decode_training_image,
                                     describe,
                                     list_image_files,
                                     load_image_folder,
                                     training_dataset,
)

__all__ = ["CROPS", "IMAGE_SUFFIXES", "ImageFolder", "decode_training_image", "describe",
           "list_image_files", "load_image_folder", "training_dataset"]
