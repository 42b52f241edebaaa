"""Keras layers of keras_robust."""

from keras_robust.layers.channel_correction import ChannelCorrection
from keras_robust.layers.correction_unit import CorrectionUnit
from keras_robust.layers.push_pull import PushPull2D

__all__ = ["ChannelCorrection", "CorrectionUnit", "PushPull2D"]
