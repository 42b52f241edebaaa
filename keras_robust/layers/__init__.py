"""Keras layers of keras_robust."""

from keras_robust.layers.push_pull import PushPull2D

__all__ = ["PushPull2D"]
