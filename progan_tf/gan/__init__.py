"""A Keras progressive GAN: layers, networks, training, export."""
