"""The inference form of DeepCorrect models: plain convolutions, no gathers, batch norm folded.

The pass is the package's general one (`keras_robust.serving.optimize_for_inference`); the correction units supply
their plain form through its serving hook (`CorrectionUnit.serving_form`, `ChannelCorrection.serving_form`).
"""

from keras_robust.serving import optimize_for_inference

__all__ = ["optimize_for_inference"]
