"""Keras layers of keras_robust.

Importing this package registers every Keras object of keras_robust's layers
(`keras_robust>Name`), so `.keras` files holding them load with
`keras.saving.load_model(..., safe_mode=True)`.
"""

from keras_robust.layers.channel_correction import ChannelCorrection
from keras_robust.layers.correction_unit import CorrectionUnit
from keras_robust.layers.push_pull import PushPull2D
from keras_robust.layers.stability_regularizer import StabilityRegularizer

__all__ = ["ChannelCorrection", "CorrectionUnit", "PushPull2D", "StabilityRegularizer"]
