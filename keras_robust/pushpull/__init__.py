"""Push-pull inhibition (Strisciuglio et al., 2020): the method's conversion and the zoo builders' parts.

The layer itself, `PushPull2D`, is a floor every method may use
(`keras_robust.layers`); the push-pull models of the zoo (`ResNet20PP`, ...)
are builders of `keras_robust.applications`, built with `push_pull_layer` and
`push_pull_options`. `to_push_pull` converts the convolutions of any
functional or sequential model (`select_convolutions` says which, `refusal`
why a convolution is left as it is); the zoo's training recipes are
`keras_robust.training.RECIPES`.
"""

from keras_robust.pushpull.builders import PAPER_PUSH_PULL, push_pull_layer, push_pull_options
from keras_robust.pushpull.conversion import WHICH, refusal, select_convolutions, to_push_pull

__all__ = [
    "PAPER_PUSH_PULL",
    "WHICH",
    "push_pull_layer",
    "push_pull_options",
    "refusal",
    "select_convolutions",
    "to_push_pull",
]
