"""The style-based GAN's training model: ProGAN's losses on a style generator, mixed styles.

:class:`StyleGAN` is a ``keras.Model`` whose ``train_step`` does one discriminator and one
generator update on a batch of real images, in numbered steps::

    1. D update: fakes from style-mixed ws (style_mixing_ws), scored with D's loss
    2. ADA: move the augmentation probability (augment="ada" only)
    3. G update: fresh style-mixed fakes, G's loss
    4. the generator's exponential moving average (and its tracked average w)

The losses and the augmentation are the ones ProGAN trains with, from the mixin they share,
:class:`~progan_tf.gan.recipe.AdversarialRecipe`, rather than written twice: ``"wgan-gp"``
(the project's recipe, the default), ``"ns-r1"`` (the StyleGAN2 paper's logistic loss with
lazy R1), DiffAugment and ADA.  What a style-based generator changes is where the fakes come from
(:meth:`StyleGAN.style_mixing_ws` then the synthesis network, StyleGAN's section 3.1) and what
the moving average carries (the mapping network's ``w_avg`` too, the truncation trick's
centre).  The noise inputs draw fresh noise in training; samples and the export use each
layer's stored constant noise, so a latent always gives the same image.

StyleGAN2's path-length regularisation is left out: it needs a second generator pass with a
Jacobian-vector product every few steps, about a third more time per image on a CPU, for a
smoother w space the paper measures at 1024 px, not at the 32-64 px this package trains.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np  # noqa: F401 -- the doctests use it
import tensorflow as tf

from progan_tf.checks import check_number
from progan_tf.gan.model import make_adam
from progan_tf.gan.recipe import AdversarialRecipe, as_float32
from progan_tf.pixels import from_signed_unit
from progan_tf.stylegan.networks import StyleGenerator

__all__ = ["StyleGAN"]


class StyleGAN(AdversarialRecipe, keras.Model):
    """A style generator, its discriminator and its moving average, trained together.

    The :class:`~progan_tf.training.family.Trainable` of the style-based family.  Its loss
    pieces (``discriminator_loss``, ``generator_loss``, ``gradient_penalty``, ``r1_penalty``,
    ``score``, ``augment_images``, ``update_augment_probability``) and its checkpoint state are
    :class:`~progan_tf.gan.recipe.AdversarialRecipe`'s, as ProGAN's are; what is its own is
    where the fakes come from (style mixing), the step, the moving average (which carries the
    average w) and the optimizers, kept from start to end.

    Reference:
        Karras et al., 2019, `A Style-Based Generator Architecture for GANs
        <https://arxiv.org/abs/1812.04948>`_; Karras et al., 2020, `Analyzing and Improving the
        Image Quality of StyleGAN <https://arxiv.org/abs/1912.04958>`_.

    Args:
        generator: A :class:`~progan_tf.stylegan.networks.StyleGenerator`.
        discriminator: A discriminator of the same resolution with ProGAN's interface
            (:func:`~progan_tf.stylegan.networks.make_discriminator` or
            :class:`~progan_tf.stylegan.discriminator.StyleDiscriminator`).
        mixing_probability: Share of fakes made from two latents' styles (default 0.9).
        ema_beta: Smoothing of the generator average (default 0.999; ramped up over the first
            steps as ProGAN's).
        learning_rate: Adam's learning rate for both networks (default 1e-3).
        seed: Seeds the latents, the mixing crossovers and the augmentation (default 0;
            checkpointed, so a resumed run draws the same numbers).
        loss: ``"wgan-gp"`` (default) or ``"ns-r1"``, as ProGAN's.
        gp_weight: WGAN-GP's lambda (default 10).
        drift_weight: WGAN-GP's drift epsilon (default 0.001).
        r1_gamma: R1's gamma with ``"ns-r1"`` (default 0.01).
        r1_interval: Lazy R1 every this many steps (default 16).
        augment: ``"none"`` (default), ``"diffaugment"`` or ``"ada"``.
        augment_ops: The augmentations, in order (default colour, translation, cutout).
        ada_target: ADA's target ``E[sign(D(real))]`` (default 0.6).
        ada_kimg: Thousands of images for ADA's ``p`` to go from 0 to 1 (default 100).
        ada_interval: Steps between ADA's updates (default 4).
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> from progan_tf.stylegan.networks import make_discriminator
    >>> generator = StyleGenerator(latent_dim=8, w_dim=8, resolution=8, fmap_base=16,
    ...                            fmap_max=8, mapping_layers=2)
    >>> gan = StyleGAN(generator, make_discriminator(8, fmap_base=16, fmap_max=8))
    >>> gan.start_phase(None)
    >>> logs = gan.train_on_batch(np.zeros((4, 8, 8, 3), "float32"), return_dict=True)
    >>> sorted(logs)
    ['augment_p', 'd_loss', 'g_loss', 'gradient_penalty', 'wasserstein']
    """

    def __init__(self, generator: StyleGenerator, discriminator: Any,
                 mixing_probability: float = 0.9, ema_beta: float = 0.999,
                 learning_rate: float = 1e-3, seed: int = 0, loss: str = "wgan-gp",
                 gp_weight: float = 10.0, drift_weight: float = 1e-3, r1_gamma: float = 0.01,
                 r1_interval: int = 16, augment: str = "none",
                 augment_ops: tuple = ("color", "translation", "cutout"),
                 ada_target: float = 0.6, ada_kimg: float = 100.0, ada_interval: int = 4,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mixing_probability = check_number(mixing_probability, "mixing_probability",
                                               minimum=0, maximum=1)
        self.generator, self.discriminator = generator, discriminator
        self.ema_generator = StyleGenerator.from_config(
            {**generator.get_config(), "name": "ema_generator"})
        self.ema_generator.set_weights(generator.get_weights())
        self.init_recipe(ema_beta=ema_beta, gp_weight=gp_weight, drift_weight=drift_weight,
                         learning_rate=learning_rate, seed=seed, loss=loss, r1_gamma=r1_gamma,
                         r1_interval=r1_interval, augment=augment, augment_ops=augment_ops,
                         ada_target=ada_target, ada_kimg=ada_kimg, ada_interval=ada_interval)
        self.phase = None
        self.optimizer_resolution = None
        self.g_optimizer = self.d_optimizer = None
        self.built = True  # the networks build all their weights up front

    def discriminator_variables(self) -> list:
        """What D's optimizer trains (all of its variables that the last stage uses).

        ProGAN's discriminator at its last stage keeps a fade-in input layer it never uses
        there; it is left out.
        """
        stage_variables = getattr(self.discriminator, "stage_variables", None)
        return (stage_variables(False) if stage_variables is not None
                else self.discriminator.trainable_variables)

    def call(self, latents: Any, training: bool = False) -> Any:
        """The generator's images in [-1, 1] (``fit`` never calls it; ``train_step`` does)."""
        return self.generator(latents, training=training)

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for ``phase`` (a style-based run has one): optimizers once, then compile."""
        self.phase = phase
        with self.distribute_strategy.scope():  # the strategy the model was created under
            if self.g_optimizer is None:
                self.g_optimizer = make_adam(self.learning_rate)
                self.d_optimizer = make_adam(self.learning_rate)
                self.g_optimizer.build(self.generator.trainable_variables)
                self.d_optimizer.build(self.discriminator_variables())
                self.optimizer_resolution = self.generator.resolution
            self.compile(jit_compile=jit_compile)

    # -- the paper's pieces -------------------------------------------------------------------

    def style_mixing_ws(self, batch: Any) -> tf.Tensor:
        """Style-mixing regularisation: each sample's ws from two latents, crossed at a layer.

        With probability ``mixing_probability`` a sample takes the first latent's w on the
        layers below a crossover drawn uniformly from ``1 .. num_ws - 1`` and the second's on
        the rest (StyleGAN, section 3.1); the others keep the first's everywhere.  The mapping
        runs with ``training=True``, so the tracked average w moves.
        """
        num_ws = self.generator.num_ws
        z1 = self.rng.normal([batch, self.latent_dim])
        z2 = self.rng.normal([batch, self.latent_dim])
        w1 = self.generator.mapping_network(z1, training=True)
        w2 = self.generator.mapping_network(z2, training=True)
        draws = self.rng.uniform([2, batch])
        crossover = tf.cast(1.0 + tf.floor(draws[0] * (num_ws - 1)), tf.int32)
        crossover = tf.where(draws[1] < self.mixing_probability, crossover, num_ws)
        return self.generator.mix_ws(w1, w2, crossover)

    def fakes(self, batch: Any) -> tf.Tensor:
        """A batch of generated images in [-1, 1] from style-mixed ws, with random noise."""
        ws = self.style_mixing_ws(batch)
        return self.generator.synthesis(ws, noise_mode="random", training=True)

    def update_average(self) -> None:
        """The moving average of the generator's weights; the average w is copied as is."""
        updates = tf.cast(self.ema_updates, tf.float32)
        beta = tf.minimum(self.ema_beta, (1.0 + updates) / (10.0 + updates))
        for ema_var, var in zip(self.ema_generator.trainable_variables,
                                self.generator.trainable_variables):
            ema_var.assign(var + beta * (ema_var - var))
        self.ema_generator.mapping_network.w_avg.assign(self.generator.mapping_network.w_avg)

    def train_step(self, real_images: tf.Tensor) -> dict:
        """One D and one G update on a global batch of real images; returns the losses."""
        real_images, _, _ = keras.utils.unpack_x_y_sample_weight(real_images)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(real_images)[0]
        d_vars = self.discriminator_variables()
        g_vars = self.generator.trainable_variables

        # 1. Discriminator update, on reals and on style-mixed fakes of the current generator.
        fake_images = as_float32(self.fakes(batch))
        with tf.GradientTape() as tape:
            d_parts = self.discriminator_loss(real_images, fake_images)
            # Gradients are summed over replicas: scale so that the sum is the global mean.
            scaled_d_loss = d_parts["d_loss"] / replicas
        self.d_optimizer.apply(tape.gradient(scaled_d_loss, d_vars), d_vars)

        # 2. ADA: adapt the augmentation probability to how sure D is of the reals.
        if self.augment == "ada":
            self.update_augment_probability(d_parts["real_scores"])

        # 3. Generator update (mapping and synthesis), through the discriminator just trained.
        with tf.GradientTape() as tape:
            g_loss = self.generator_loss(as_float32(self.fakes(batch)))
            scaled_g_loss = g_loss / replicas
        self.g_optimizer.apply(tape.gradient(scaled_g_loss, g_vars), g_vars)

        # 4. The moving average, and the training position.
        self.update_average()
        self.ema_updates.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_loss": d_parts["d_loss"], "g_loss": g_loss,
                "wasserstein": d_parts["wasserstein"],
                "gradient_penalty": d_parts["gradient_penalty"],
                "augment_p": tf.identity(self.augment_p)}

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer, name of its network, the variables it trains)}``."""
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.trainable_variables),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator_variables())}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: a style-based run keeps its two optimizers from start to end."""
        return True

    def sample(self, latents: Any, use_ema: bool = True) -> tf.Tensor:
        """Images in [0, 1] from ``latents`` (the average generator, constant noise)."""
        network = self.ema_generator if use_ema else self.generator
        return from_signed_unit(as_float32(network(latents, noise_mode="const")))

