"""The CycleGAN training model: two translators, two discriminators, one ``train_step``.

:class:`CycleGAN` is a ``keras.Model`` with G: A -> B, F: B -> A, D_A (real A or F's?) and D_B
(real B or G's?).  Its ``train_step`` does, on every batch ``(a, b)`` of unpaired pictures in
[-1, 1]::

    1. translate: G(a), F(G(a)), F(b), G(F(b)) -- and G(b), F(a) for the identity loss
    2. G and F together:  L = A(D_B(G(a)), real) + A(D_A(F(b)), real)          # fool the Ds
                              + lambda |F(G(a)) - a| + lambda |G(F(b)) - b|      # cycle
                              + mu lambda (|G(b) - b| + |F(a) - a|)              # identity
    3. the pools: each made picture is swapped, half the time, for an earlier one
    4. D_A and D_B: 1/2 [A(D(real), real) + A(D(pooled made), fake)] each

with ``A(l, label) = mean (l - label)**2``, the least-squares (LSGAN) loss of every patch's
logit, ``lambda = 10`` and ``mu = 0.5`` (the paper's identity weight, ``0`` to switch it
off).  The cycle is what makes unpaired training work: G may only change what F can undo.
Adam(2e-4, beta1 0.5) for all four networks, the learning rate constant and then decaying
linearly to 0 over the last ``decay_steps`` steps (:class:`LinearDecay`), as in the paper.

It trains with ``fit`` on a dataset of ``(a, b)`` batches.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from progan_tf.checks import check_number, check_whole_number
from progan_tf.cyclegan.pool import ImagePool
from progan_tf.pixels import from_signed_unit

__all__ = ["CycleGAN", "LinearDecay"]


@keras.saving.register_keras_serializable(package="progan_tf.cyclegan")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate constant for ``constant_steps``, then linear to 0 over ``decay_steps``.

    Args:
        learning_rate: The rate of the first part.
        constant_steps: Steps at the full rate.
        decay_steps: Steps over which it falls to 0 (0: never decays).

    Example:
    >>> schedule = LinearDecay(2e-4, constant_steps=100, decay_steps=100)
    >>> [round(float(schedule(step)), 6) for step in (0, 99, 100, 150, 199, 200, 500)]
    [0.0002, 0.0002, 0.0002, 0.0001, 2e-06, 0.0, 0.0]
    """

    def __init__(self, learning_rate: float, constant_steps: int, decay_steps: int) -> None:
        self.learning_rate = check_number(learning_rate, "learning_rate", exclusive_minimum=0)
        self.constant_steps = check_whole_number(constant_steps, "constant_steps", minimum=0)
        self.decay_steps = check_whole_number(decay_steps, "decay_steps", minimum=0)

    def __call__(self, step: Any) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        if self.decay_steps == 0:
            return tf.fill([], tf.constant(self.learning_rate, tf.float32))
        left = (self.constant_steps + self.decay_steps - step) / self.decay_steps
        return self.learning_rate * tf.clip_by_value(left, 0.0, 1.0)

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate, "constant_steps": self.constant_steps,
                "decay_steps": self.decay_steps}


class CycleGAN(keras.Model):
    """Two generators and two PatchGANs trained together on unpaired pictures with ``fit``.

    Reference:
        Zhu, Park, Isola and Efros, 2017, `Unpaired Image-to-Image Translation using
        Cycle-Consistent Adversarial Networks <https://arxiv.org/abs/1703.10593>`_.

    Args:
        generator_ab: G, A -> B (:func:`~progan_tf.cyclegan.networks.make_generator`).
        generator_ba: F, B -> A, of the same kind and size.
        discriminator_a: D_A (a :class:`~progan_tf.cyclegan.networks.PatchGAN`): real A or
            F's picture?
        discriminator_b: D_B: real B or G's picture?
        lambda_cycle: lambda, the weight of each cycle loss (default 10).
        lambda_identity: mu, the identity loss's weight as a fraction of lambda (default 0.5;
            0 switches it off and skips its two translations).
        pool_size: Pictures per history pool (default 50; 0: no pool).
        learning_rate: Adam's learning rate for all four networks (default 2e-4).
        beta_1: Adam's first-moment decay (default 0.5).
        total_steps: The run's length in steps, for the decay (default ``None``: a constant
            rate).
        decay_steps: The last steps over which the rate falls to 0 (default: half the run).
        seed: Seeds the pools.
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> from progan_tf.cyclegan.networks import PatchGAN, make_generator
    >>> nets = [make_generator(resolution=16, width=4, blocks=1) for _ in range(2)]
    >>> nets += [PatchGAN(resolution=16, width=4, layers=2) for _ in range(2)]
    >>> gan = CycleGAN(*nets)
    >>> gan.compile(run_eagerly=True)  # one step: quicker than tracing it
    >>> a = np.zeros((2, 16, 16, 3), "float32")
    >>> sorted(gan.train_on_batch(a, a, return_dict=True))
    ['cycle_loss', 'd_a_loss', 'd_b_loss', 'f_loss', 'g_loss', 'identity_loss']
    >>> gan.a_to_b(np.full((16, 16, 3), 0.5)).shape
    (1, 16, 16, 3)
    """

    def __init__(self, generator_ab: keras.Model, generator_ba: keras.Model,
                 discriminator_a: keras.Model, discriminator_b: keras.Model,
                 lambda_cycle: float = 10.0, lambda_identity: float = 0.5, pool_size: int = 50,
                 learning_rate: float = 2e-4, beta_1: float = 0.5,
                 total_steps: int | None = None, decay_steps: int | None = None, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.lambda_cycle = check_number(lambda_cycle, "lambda_cycle", minimum=0)
        self.lambda_identity = check_number(lambda_identity, "lambda_identity", minimum=0)
        resolution = generator_ab.resolution
        self.pool_a = ImagePool(pool_size, seed=seed, name="pool_a")
        self.pool_b = ImagePool(pool_size, seed=seed + 1, name="pool_b")
        for pool in (self.pool_a, self.pool_b):
            pool.build((None, resolution, resolution, 3))
        only_first = {"dtype": tf.int64, "trainable": False,
                      "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.images_shown = tf.Variable(0, name="images_shown", **only_first)
        self.step_count = tf.Variable(0, name="step_count", **only_first)
        self.phase = None
        if total_steps is None:
            self.learning_rate = LinearDecay(learning_rate, 0, 0)
        else:
            total = check_whole_number(total_steps, "total_steps")
            decay = total // 2 if decay_steps is None else check_whole_number(
                decay_steps, "decay_steps", minimum=0, maximum=total)
            self.learning_rate = LinearDecay(learning_rate, total - decay, decay)
        self.optimizers = {}
        for name, network in self.checkpoint_networks().items():
            if name.startswith("pool"):
                continue
            optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate, beta_1=beta_1)
            optimizer.build(network.trainable_variables)
            self.optimizers[name] = optimizer
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        """G's pictures of ``inputs`` (domain A), in [-1, 1]."""
        return self.generator_ab(inputs, training=training)

    def start_phase(self, phase: Any, jit_compile: bool = False) -> None:
        """Prepare for the run's one phase: compile, optionally with XLA."""
        self.phase = phase
        with self.distribute_strategy.scope():
            self.compile(jit_compile=jit_compile)

    # -- the paper's losses -----------------------------------------------------------------

    def adversarial_loss(self, logits: tf.Tensor, real: bool) -> tf.Tensor:
        """LSGAN: the mean over patches of ``(logit - label)**2``, label 1 for real, 0 for fake."""
        return tf.reduce_mean(tf.square(logits - (1.0 if real else 0.0)))

    def discriminator_loss(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        """``(A(D(real), real) + A(D(made), fake)) / 2``: the paper halves D's objective."""
        return 0.5 * (self.adversarial_loss(real_logits, True)
                      + self.adversarial_loss(fake_logits, False))

    def cycle_loss(self, real: tf.Tensor, cycled: tf.Tensor) -> tf.Tensor:
        """``lambda * mean |real - cycled|``: there and back again should change nothing."""
        return self.lambda_cycle * tf.reduce_mean(tf.abs(real - cycled))

    def identity_loss(self, real: tf.Tensor, same: tf.Tensor) -> tf.Tensor:
        """``mu * lambda * mean |real - same|``: a picture already in the target domain stays.

        ``same`` is G(b) for b, F(a) for a; the paper uses it to keep colours (0 when mu is 0).
        """
        weight = self.lambda_identity * self.lambda_cycle
        return weight * tf.reduce_mean(tf.abs(real - same))

    def train_step(self, data: Any) -> dict:
        """One update of G and F together, then of D_A and D_B, on a batch ``(a, b)``.

        Returns:
            ``g_loss`` and ``f_loss`` (the adversarial terms of G and F), ``cycle_loss`` and
            ``identity_loss`` (both directions, weighted: the generators' objective is the sum
            of these four), ``d_a_loss`` and ``d_b_loss``.
        """
        real_a, real_b, _ = keras.utils.unpack_x_y_sample_weight(data)
        real_a, real_b = _float32(real_a), _float32(real_b)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        g_nets = [self.generator_ab, self.generator_ba]
        d_nets = [self.discriminator_a, self.discriminator_b]
        g_vars = [net.trainable_variables for net in g_nets]
        identity = self.lambda_identity > 0

        with tf.GradientTape(persistent=True) as tape:
            # 1. Translate both ways, and back.
            fake_b = _float32(self.generator_ab(real_a, training=True))
            fake_a = _float32(self.generator_ba(real_b, training=True))
            cycled_a = _float32(self.generator_ba(fake_b, training=True))
            cycled_b = _float32(self.generator_ab(fake_a, training=True))

            # 2. The generators' losses: fool the discriminators, cycle back, keep identity.
            g_loss = self.adversarial_loss(
                _float32(self.discriminator_b(fake_b, training=True)), True)
            f_loss = self.adversarial_loss(
                _float32(self.discriminator_a(fake_a, training=True)), True)
            cycle = self.cycle_loss(real_a, cycled_a) + self.cycle_loss(real_b, cycled_b)
            same = tf.zeros([])
            if identity:
                same_b = _float32(self.generator_ab(real_b, training=True))
                same_a = _float32(self.generator_ba(real_a, training=True))
                same = self.identity_loss(real_b, same_b) + self.identity_loss(real_a, same_a)
            total = (g_loss + f_loss + cycle + same) / replicas
        for name, variables in zip(("generator_ab", "generator_ba"), g_vars):
            self.optimizers[name].apply(tape.gradient(total, variables), variables)
        del tape

        # 3. The discriminators judge pictures drawn from the history pools.
        pooled_a = self.pool_a(tf.stop_gradient(fake_a))
        pooled_b = self.pool_b(tf.stop_gradient(fake_b))

        # 4. The discriminators' losses: real pictures of their domain against made ones.
        d_losses = []
        for name, net, real, pooled in zip(("discriminator_a", "discriminator_b"), d_nets,
                                           (real_a, real_b), (pooled_a, pooled_b)):
            variables = net.trainable_variables
            with tf.GradientTape() as tape:
                loss = self.discriminator_loss(_float32(net(real, training=True)),
                                               _float32(net(pooled, training=True)))
                scaled = loss / replicas
            self.optimizers[name].apply(tape.gradient(scaled, variables), variables)
            d_losses.append(loss)

        self.step_count.assign_add(1)
        batch = tf.shape(real_a)[0]
        self.images_shown.assign_add(tf.cast(batch * replicas, tf.int64))
        return {"d_a_loss": d_losses[0], "d_b_loss": d_losses[1], "g_loss": g_loss,
                "f_loss": f_loss, "cycle_loss": cycle, "identity_loss": same}

    # -- translating ----------------------------------------------------------------------

    def a_to_b(self, images: Any) -> np.ndarray:
        """G's translations of pictures of domain A.

        Args:
            images: ``[N, r, r, 3]`` or one ``[r, r, 3]`` picture, floats in [0, 1].

        Returns:
            float32 ``[N, r, r, 3]`` in [0, 1].
        """
        return _translate(self.generator_ab, images)

    def b_to_a(self, images: Any) -> np.ndarray:
        """F's translations of pictures of domain B (as :meth:`a_to_b`)."""
        return _translate(self.generator_ba, images)

    def sample(self, pairs: Any) -> tf.Tensor:
        """Rows for a sample grid: a, G(a), F(G(a)), b, F(b), G(F(b)) of each pair, in [0, 1].

        Args:
            pairs: ``[N, 2, r, r, 3]`` in [-1, 1]: pictures of A ``pairs[:, 0]`` and of B
                ``pairs[:, 1]`` (not pairs of the same face: two fixed samples).

        Returns:
            ``[6N, r, r, 3]``.
        """
        pairs = tf.convert_to_tensor(np.asarray(pairs, "float32"))
        real_a, real_b = pairs[:, 0], pairs[:, 1]
        fake_b = _float32(self.generator_ab(real_a, training=False))
        fake_a = _float32(self.generator_ba(real_b, training=False))
        rows = tf.stack([real_a, fake_b, _float32(self.generator_ba(fake_b, training=False)),
                         real_b, fake_a, _float32(self.generator_ab(fake_a, training=False))],
                        axis=1)
        return from_signed_unit(tf.reshape(rows, [-1, *rows.shape[2:]]))

    # -- the checkpoint interface of progan_tf.training.checkpoint ---------------------------

    def checkpoint_networks(self) -> dict[str, keras.Layer]:
        """The networks a checkpoint stores, by file name -- the two history pools too."""
        return {"generator_ab": self.generator_ab, "generator_ba": self.generator_ba,
                "discriminator_a": self.discriminator_a,
                "discriminator_b": self.discriminator_b,
                "pool_a": self.pool_a, "pool_b": self.pool_b}

    def checkpoint_optimizers(self) -> dict[str, tuple]:
        """``{file name: (optimizer, name of its network, the variables it trains)}``."""
        networks = self.checkpoint_networks()
        return {f"{name}_optimizer": (optimizer, name, networks[name].trainable_variables)
                for name, optimizer in self.optimizers.items()}

    def checkpoint_state(self) -> dict:
        """The step count, and the U-Nets' dropout noise generators (if U-Nets)."""
        return {"step_count": int(self.step_count.numpy()),
                "dropout_seeds": [np.asarray(drop.seed_generator.state.numpy()).tolist()
                                  for drop in self._drops()]}

    def optimizer_state_applies(self, state: dict) -> bool:
        """Always: the optimizers live from the run's start to its end."""
        return True

    def restore_checkpoint_state(self, state: dict) -> None:
        """Set the step count and the dropout noise generators from a checkpoint's state."""
        self.step_count.assign(int(state.get("step_count", 0)))
        for drop, seed in zip(self._drops(), state.get("dropout_seeds", [])):
            drop.seed_generator.state.assign(np.asarray(seed, drop.seed_generator.state.dtype))

    def _drops(self) -> list:
        return [drop for net in (self.generator_ab, self.generator_ba)
                for drop in getattr(net, "drops", [])]


def _translate(generator: keras.Model, images: Any) -> np.ndarray:
    pixels = np.asarray(images, "float32")
    if pixels.ndim == 3:
        pixels = pixels[None]
    outputs = generator(tf.convert_to_tensor(pixels * 2.0 - 1.0), training=False)
    return np.asarray(from_signed_unit(_float32(outputs)), "float32")


def _float32(tensor: Any) -> tf.Tensor:
    """Losses and samples in float32 also under a mixed-precision policy."""
    return tf.cast(tensor, tf.float32)
