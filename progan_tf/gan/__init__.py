"""A Keras progressive GAN: layers, networks, the training model, its schedule and export.

ProGAN is the first model family of :mod:`progan_tf.training`, which holds what every family
shares (run folders, checkpoints, callbacks, export mechanics).  This package keeps what is
ProGAN's own: :mod:`~progan_tf.gan.layers`, :mod:`~progan_tf.gan.networks`,
:mod:`~progan_tf.gan.model` (the ``train_step``), :mod:`~progan_tf.gan.schedule`,
:mod:`~progan_tf.gan.family` (how it plugs in), :mod:`~progan_tf.gan.train` (its options and
``train``) and :mod:`~progan_tf.gan.export` (the TF Hub interface).  ``callbacks``,
``checkpoint`` and ``runlock`` here re-export the shared modules under their older names.
"""
