"""SGD with coupled L2 weight decay, as PyTorch's `torch.optim.SGD(weight_decay=...)`."""

import keras
from keras import ops

from keras_robust.validation import check_number


@keras.saving.register_keras_serializable(package="keras_robust")
class SGDWithL2(keras.optimizers.SGD):
    """SGD that adds `l2 * w` to the gradient of every trained variable.

    This is the weight decay of PyTorch's SGD and of the papers' recipes: the
    decay term goes through the momentum buffer like the loss gradient. Keras'
    own `weight_decay` argument is decoupled (`w -= lr * wd * w` after the
    step), which differs once momentum is used. Applying the decay in the
    optimizer leaves the model untouched: no regularizers to add, no rebuild.

    Args:
        l2: float >= 0, the coupled weight-decay factor.
        **kwargs: the arguments of `keras.optimizers.SGD` (`learning_rate`,
            `momentum`, `nesterov`, ...).

    Example:

    >>> optimizer = SGDWithL2(l2=1e-4, learning_rate=0.1, momentum=0.9, nesterov=True)
    >>> optimizer.get_config()["l2"]
    0.0001
    """

    def __init__(self, l2=0.0, **kwargs):
        l2 = check_number("l2", l2, minimum=0)
        super().__init__(**kwargs)
        self.l2 = l2

    def update_step(self, gradient, variable, learning_rate):
        if self.l2:
            gradient = ops.add(gradient, ops.multiply(ops.cast(self.l2, variable.dtype), variable))
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}
