"""A second model family on the shared infrastructure: the interface is enough to train,
resume and export something that is not ProGAN."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv

from progan_tf.training import ModelFamily, checkpoint, train
from progan_tf.training import export as mechanics


@dataclasses.dataclass
class ToyConfig:
    data_dir: str
    out_dir: str
    seed: int = 0
    latent_dim: int = 4
    checkpoint_minutes: float = 10.0
    jit_compile: bool = False
    command: str = ""

    def validate(self):
        pass

    def to_json(self):
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


@dataclasses.dataclass(frozen=True)
class OnePhase:
    index: int = 0
    name: str = "all of it"
    start_images: int = 0
    end_images: int = 64
    batch_size: int = 8


class OneSchedule:
    phases = [OnePhase()]
    total_images = 64

    def phase_at(self, images_shown):
        return self.phases[0]

    def to_dict(self):
        return {"images": self.total_images}


class ToyGAN(keras.Model):
    """A dense generator of 4x4 pictures and a dense critic: the smallest GAN with a state."""

    def __init__(self, latent_dim, seed):
        super().__init__()
        keras.utils.set_random_seed(seed)
        self.latent_dim = latent_dim
        self.generator = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(48),
                                           keras.layers.Reshape((4, 4, 3))])
        self.discriminator = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
                                               keras.layers.Dense(1)])
        self.g_optimizer, self.d_optimizer = keras.optimizers.Adam(), keras.optimizers.Adam()
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.images_shown = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step_count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.phase = None

    def start_phase(self, phase, jit_compile=False):
        self.phase = phase
        self.compile(jit_compile=jit_compile)

    def train_step(self, real):
        batch = tf.shape(real)[0]
        latents = tf.random.stateless_normal([batch, self.latent_dim],
                                             seed=tf.stack([self.step_count, 1]))
        with tf.GradientTape(persistent=True) as tape:
            fake_scores = self.discriminator(self.generator(latents))
            d_loss = tf.reduce_mean(tf.nn.softplus(fake_scores)
                                    + tf.nn.softplus(-self.discriminator(real)))
            g_loss = tf.reduce_mean(tf.nn.softplus(-fake_scores))
        for loss, net, opt in ((d_loss, self.discriminator, self.d_optimizer),
                               (g_loss, self.generator, self.g_optimizer)):
            opt.apply(tape.gradient(loss, net.trainable_variables), net.trainable_variables)
        self.images_shown.assign_add(tf.cast(batch, tf.int64))
        self.step_count.assign_add(1)
        return {"d_loss": d_loss, "g_loss": g_loss}

    def sample(self, latents):
        return tf.clip_by_value(self.generator(latents) * 0.5 + 0.5, 0.0, 1.0)

    def checkpoint_networks(self):
        return {"generator": self.generator, "discriminator": self.discriminator}

    def checkpoint_optimizers(self):
        return {"g_optimizer": (self.g_optimizer, "generator",
                                self.generator.trainable_variables),
                "d_optimizer": (self.d_optimizer, "discriminator",
                                self.discriminator.trainable_variables)}

    def checkpoint_state(self):
        return {"step_count": int(self.step_count.numpy())}

    def optimizer_state_applies(self, state):
        return True

    def restore_checkpoint_state(self, state):
        self.step_count.assign(state["step_count"])


class ToyFamily(ModelFamily):
    config_class = ToyConfig
    loss_columns = ("d_loss", "g_loss")
    loss_curves = {"d_loss": "D", "g_loss": "G"}
    sample_count = 4

    def build_model(self, config, strategy=None, precision=None):
        return ToyGAN(config.latent_dim, config.seed)

    def schedule(self, config):
        return OneSchedule()

    def load_data(self, config):
        images = np.random.default_rng(0).uniform(-1, 1, (16, 4, 4, 3)).astype("float32")
        return images, {"images": len(images)}

    def dataset(self, config, data, phase, start_index):
        return (tf.data.Dataset.from_tensor_slices(data).repeat().skip(start_index % len(data))
                .batch(phase.batch_size, drop_remainder=True))

    def export(self, model, out_dir, metadata, overwrite, protect):
        spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="default")

        def fill(folder):
            function = mechanics.frozen_function(model.generator, spec,
                                                 lambda images: {"default": images})
            mechanics.save_signature(function, folder)
            model.generator.save(folder / "generator.keras")
            mechanics.write_metadata(folder, metadata)

        return mechanics.write_export(out_dir, fill, overwrite, protect)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    config = ToyConfig(data_dir=str(tmp_path_factory.mktemp("data")),
                       out_dir=str(tmp_path_factory.mktemp("toy") / "run"))
    run = train(ToyFamily(), config, stop_after_images=32, progress=False, log_every=1)
    return run, config


def test_a_second_family_trains_resumes_and_exports(toy_run, tmp_path):
    run, config = toy_run
    assert checkpoint.read_state(checkpoint.latest(run / "checkpoints"))["images_shown"] == 32
    train(ToyFamily(), config, resume=True, progress=False, log_every=1)
    state = checkpoint.read_state(checkpoint.latest(run / "checkpoints"))
    assert state["images_shown"] == 64 and state["step_count"] == 8
    rows = read_csv(run / "losses.csv")
    assert list(rows[0]) == ["kimg", "d_loss", "g_loss"]
    assert [round(float(r["kimg"]) * 1000) for r in rows] == list(range(8, 72, 8))
    assert (run / "samples" / "phase-00.png").exists() and (run / "losses.png").exists()
    out = mechanics.export_run(ToyFamily(), run, tmp_path / "export")
    assert mechanics.is_export(out)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["images_shown"] == 64 and meta["phase"] == "all of it"
    serve = tf.saved_model.load(str(out)).signatures["default"]
    assert serve(default=tf.zeros([2, 4]))["default"].shape == (2, 4, 4, 3)
