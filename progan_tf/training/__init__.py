"""Training infrastructure shared by every GAN family: runs, checkpoints, callbacks, export.

ProGAN (:mod:`progan_tf.gan`) is the first family trained here; DCGAN, Pix2Pix, SRGAN, CycleGAN
and a style-based generator are meant to follow.  What every one of them needs is the same and
lives in this package, written once:

* :mod:`~progan_tf.training.runs` -- run folders: ``run.json`` written once, a folder that holds
  another run or no run refused in one line, the options compared when resuming;
* :mod:`~progan_tf.training.runlock` -- one training process per run folder (``train.lock``);
* :mod:`~progan_tf.training.checkpoint` and :mod:`~progan_tf.training.weights` -- atomic,
  self-checking checkpoints (``.npz`` files by structural variable name), the newest loadable
  one found, damaged ones skipped, old ones rotated;
* :mod:`~progan_tf.training.callbacks` -- the progress bar, periodic and Ctrl-C checkpoints,
  ``losses.csv``/``losses.png``, TensorBoard scalars and sample grids;
* :mod:`~progan_tf.training.export` -- the export folder, swapped in atomically, with
  ``metadata.json`` and a serving signature that keeps working when only it is kept;
* :mod:`~progan_tf.training.loop` -- :func:`train`: check, lock, resume, then Keras ``fit``
  once per phase.

Keras stays the engine: a family's model is a ``keras.Model`` whose ``train_step`` does one
update, trained with ``fit`` and ordinary callbacks, so everything Keras offers (distribution
strategies, XLA, mixed precision, your own callbacks) works unchanged.

Adding a model family
---------------------
A family is a subclass of :class:`ModelFamily` (:mod:`~progan_tf.training.family`).  It supplies
four things, and the infrastructure does the rest:

1. **Its networks and their ``train_step``** -- ``build_model(config, strategy, precision)``
   returns a ``keras.Model`` (a :class:`Trainable`) that counts ``images_shown`` and
   ``step_count``, prepares itself for a phase with ``start_phase(phase, jit_compile)``, draws
   pictures for the sample grid with ``sample(inputs)``, and tells checkpoints what to store:
   ``checkpoint_networks()``, ``checkpoint_optimizers()``, ``checkpoint_state()``,
   ``optimizer_state_applies(state)``, ``restore_checkpoint_state(state)``.
2. **Its schedule** -- ``schedule(config)`` returns the phases of a run (what changes when,
   and each phase's batch size), measured in images shown, so that resuming needs nothing
   but that count.  A family without phases returns a schedule of one phase.
3. **Its data** -- ``load_data(config)`` checks and loads what the run trains on (and what
   ``dataset.json`` records); ``dataset(config, data, phase, start_index)`` streams a phase's
   batches in an order fixed by the seed, so a resumed run sees what an uninterrupted one
   would.
4. **What it exports** -- ``export_phase(schedule, state, run_dir, **options)`` picks the
   networks a checkpoint exports (ProGAN refuses a half-blended fade-in), and
   ``export(model, out_dir, metadata, overwrite, protect)`` writes the serving function
   (:func:`~progan_tf.training.export.frozen_function`) and ``metadata.json`` through
   :func:`~progan_tf.training.export.write_export`.

Its options are a dataclass (``config_class``) with ``data_dir``, ``out_dir``, ``seed``,
``checkpoint_minutes``, ``jit_compile`` and ``command`` besides its own fields, and
``validate()``/``to_json()``/``from_json()``; ``safe_on_resume`` names the fields a resumed run
may change, ``loss_columns``/``loss_curves`` what the loss log records and plots.
:class:`progan_tf.gan.family.ProGANFamily` is the worked example.

Example:
>>> from progan_tf.gan.family import PROGAN
>>> isinstance(PROGAN, ModelFamily)
True
>>> PROGAN.loss_columns[:3]
('resolution', 'fading', 'alpha')
"""

from progan_tf.training.family import ModelFamily, Phase, Schedule, Trainable
from progan_tf.training.loop import train

__all__ = ["ModelFamily", "Phase", "Schedule", "Trainable", "train"]
