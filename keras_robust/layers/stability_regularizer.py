"""The stability-training loss of Zheng et al. (2016) as a layer."""

import keras
from keras import ops

from keras_robust.validation import check_number


@keras.saving.register_keras_serializable(package="keras_robust")
class StabilityRegularizer(keras.layers.Layer):
    """Adds α·KL(p_clean ‖ p_noisy) to the loss and passes `p_clean` through.

    Used by `keras_robust.deepcorrect.training.stability_model`, the
    "Stability" baseline of DeepCorrect (Sec. V-A2).

    Args:
        alpha: finite float >= 0, weight of the KL divergence (the paper's 0.01).
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    import numpy as np
    from keras_robust.layers import StabilityRegularizer

    p = np.full((2, 4), 0.25, "float32")
    assert np.allclose(StabilityRegularizer(0.01)([p, p]), p)
    ```
    """

    def __init__(self, alpha=0.01, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number("alpha", alpha, minimum=0)

    def call(self, inputs):
        clean, noisy = inputs
        eps = keras.backend.epsilon()
        clean_c, noisy_c = ops.clip(clean, eps, 1.0), ops.clip(noisy, eps, 1.0)
        divergence = ops.sum(clean_c * (ops.log(clean_c) - ops.log(noisy_c)), axis=-1)
        self.add_loss(ops.cast(self.alpha, divergence.dtype) * ops.mean(divergence))
        return clean

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
