"""Training throughput of the Keras progressive GAN on this machine.

Prints one table: steady-state training images/s at every resolution from 4x4 to 32x32 for

* the shipped configuration (latent 512, fmap_max 64, the shipped batch sizes), and
* the 128-channel configuration at batch 16 used to compare ProGAN implementations,

each in float32, float32 with XLA, and ``mixed_bfloat16`` (bfloat16 compute, float32 weights),
plus generation images/s at 32x32 (batch 64), and the achieved GFLOP/s next to the machine's
measured float32 and bfloat16 matmul GFLOP/s. Whether the CPU has native bfloat16 instructions
(AVX512_BF16, AMX) is printed too: without them bfloat16 is emulated and slower.

FLOPs are counted analytically from the layers (2 * multiply-adds of every convolution and dense
layer in one forward pass) and a training step is charged ``4 G + 15 D`` forward passes:
the D step runs G once, D forward and backward on real and fake images (2 x 3 D), and the
gradient penalty (forward, input gradient, and its backward: about 6 D); the G step runs G and D
forward and backward (3 G + 3 D).  It is an estimate, stated as one.

    .venv/bin/python bench/train.py            # full table (about 10 minutes on 2 cores)
    .venv/bin/python bench/train.py --quick    # a few steps per row (smoke test)
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Imported after TF_CPP_MIN_LOG_LEVEL is set, so TensorFlow's start-up chatter stays quiet.
import keras
import numpy as np
import tensorflow as tf

from progan_tf.gan.layers import EqualizedConv2D, EqualizedDense
from progan_tf.gan.schedule import Phase
from progan_tf.gan.train import TrainConfig, build_model

SHIPPED_BATCHES = {4: 64, 8: 32, 16: 16, 32: 16}


PRECISIONS = (("float32", False), ("float32", True), ("mixed_bfloat16", False))


def matmul_gflops(size=2048, repeats=20, dtype=tf.float32):
    """Measured matmul GFLOP/s: the machine's practical peak for dense math in ``dtype``."""
    a = tf.cast(tf.random.normal([size, size]), dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        result = matmul(a)
    result.numpy()
    return repeats * 2 * size ** 3 / (time.perf_counter() - start) / 1e9


def all_layers(model):
    """Every layer inside ``model``, recursively, through the public ``Model.layers``."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def forward_flops(network, images_or_latents):
    """2 x multiply-adds of every equalized conv/dense layer in one forward pass (per image)."""
    sizes = {}

    def record(layer, inputs):
        shape = inputs.shape
        if isinstance(layer, EqualizedConv2D):
            sizes[id(layer)] = 2 * shape[1] * shape[2] * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, EqualizedDense):
            sizes[id(layer)] = 2 * int(np.prod(layer.kernel.shape))

    originals = {}
    for layer in all_layers(network):
        if isinstance(layer, (EqualizedConv2D, EqualizedDense)):
            originals[layer] = layer.call

            def wrapped(inputs, _layer=layer, _call=layer.call):
                record(_layer, inputs)
                return _call(inputs)
            layer.call = wrapped
    try:
        network(images_or_latents[:1])
    finally:
        for layer, call in originals.items():
            layer.call = call
    return sum(sizes.values())


def train_rate(model, resolution, batch, seconds, jit):
    """Steady-state training images/s at ``resolution`` (fade-in phase, the costlier one).

    Steps are timed for at least ``seconds`` (in ``fit`` calls of a few steps each): single step
    times on a shared 2-core machine vary by up to 2x, so a handful of steps is not a rate.
    """
    phase = Phase(0, resolution, resolution > 4, 0, 10 ** 9, batch)
    model.start_phase(phase, jit_compile=jit)
    images = tf.random.uniform([batch, resolution, resolution, 3], -1.0, 1.0)
    dataset = tf.data.Dataset.from_tensors(images).repeat()
    model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)  # trace, compile, warm up
    steps_per_call = max(1, int(8192 / (resolution * resolution * batch)))
    steps, start = 0, time.perf_counter()
    while steps == 0 or time.perf_counter() - start < seconds:
        model.fit(dataset, steps_per_epoch=steps_per_call, epochs=1, verbose=0)
        steps += steps_per_call
    return steps * batch / (time.perf_counter() - start)


def step_flops(model, resolution):
    g = forward_flops(model.generator, tf.zeros([1, model.latent_dim]))
    d = forward_flops(model.discriminator, tf.zeros([1, resolution, resolution, 3]))
    return 4 * g + 15 * d


def generation_rate(model, batch=64, seconds=2.0):
    for network in (model.generator, model.ema_generator):
        network.set_stage(32)
    generate = tf.function(lambda z: model.ema_generator(z, training=False))
    z = tf.random.normal([batch, model.latent_dim])
    generate(z).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        generate(z).numpy()
        count += batch
    return count / (time.perf_counter() - start)


def cpu_bfloat16_flags():
    """The CPU's native bfloat16 instruction sets, from /proc/cpuinfo (Linux)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle
                          if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    found = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]
    return ", ".join(found) or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps per row (smoke test)")
    parser.add_argument("--resolutions", default="4,8,16,32")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="time each row's training steps for at least this long")
    args = parser.parse_args()
    resolutions = [int(r) for r in args.resolutions.split(",")]
    size, repeats = (1024, 5) if args.quick else (2048, 20)
    peak = matmul_gflops(size, repeats)
    peak_bf16 = matmul_gflops(size, repeats, tf.bfloat16)

    configs = [("shipped (fmap 64)", 64, SHIPPED_BATCHES),
               ("128-channel", 128, {r: 16 for r in resolutions})]
    rows = []
    for name, fmap, batches in configs:
        models = {precision: build_model(TrainConfig(data_dir="", out_dir="", resolution=32,
                                                     fmap_max=fmap, precision=precision))
                  for precision in {p for p, _ in PRECISIONS}}
        for resolution in resolutions:
            batch = batches[resolution]
            flops = step_flops(models["float32"], resolution)
            seconds = 0.2 if args.quick else args.seconds
            for precision, jit in PRECISIONS:  # side by side, so load hits all alike
                rate = train_rate(models[precision], resolution, batch, seconds, jit)
                rows.append((name, resolution, batch, precision, "XLA" if jit else "-", rate,
                             rate * flops / 1e9))
        if fmap == 64:
            gen_rate = generation_rate(models["float32"], seconds=0.5 if args.quick else 3.0)
            gen_flops = forward_flops(models["float32"].ema_generator, tf.zeros([1, 512]))

    print(f"\nmachine: {os.cpu_count()} CPU cores, native bfloat16: {cpu_bfloat16_flags()}, "
          f"TensorFlow {tf.__version__}; measured matmul: float32 {peak:.0f} GFLOP/s, "
          f"bfloat16 {peak_bf16:.0f} GFLOP/s\n")
    print("| configuration | res | batch | precision | XLA | train img/s | GFLOP/s | % of matmul |")
    print("|---|---|---|---|---|---|---|---|")
    for name, resolution, batch, precision, jit, rate, gflops in rows:
        matmul = peak_bf16 if precision == "mixed_bfloat16" else peak
        print(f"| {name} | {resolution}x{resolution} | {batch} | {precision} | {jit} | "
              f"{rate:.1f} | {gflops:.1f} | {100 * gflops / matmul:.0f}% |")
    print(f"\ngeneration (shipped, EMA G, 32x32, batch 64): {gen_rate:.0f} img/s, "
          f"{gen_rate * gen_flops / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
