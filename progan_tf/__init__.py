"""progan-tf: Progressive GANs in TensorFlow/Keras."""
