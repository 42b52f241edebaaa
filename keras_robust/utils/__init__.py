"""Utilities of keras_robust."""

from keras_robust.utils.flops import count_flops

__all__ = ["count_flops"]
