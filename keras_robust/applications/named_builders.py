"""Named builders (`ResNet20PP`, `LeNetPA`, ...) of one parametrized builder."""

import functools


def named_builder(name, builder, **fixed):
    """`builder` with the arguments `fixed` set, as a function called `name`.

    The returned function takes the remaining (keras.applications-style)
    keyword arguments of `builder`; its docstring names what it fixes.
    """

    @functools.wraps(builder)
    def build(include_top=True, weights=None, **kwargs):
        return builder(include_top=include_top, weights=weights, **fixed, **kwargs)

    settings = ", ".join(f"{key}={value!r}" for key, value in fixed.items())
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"`{builder.__name__}({settings}, ...)`: builds {name}.\n\n"
        f"Takes the other arguments of `{builder.__name__}` (include_top, weights,\n"
        "input_tensor, input_shape, pooling, classes, classifier_activation,\n"
        "name).\n\n"
        "Example:\n\n"
        f">>> from keras_robust.applications import {name}\n"
        f">>> model = {name}(weights=None)\n"
    )
    del build.__wrapped__
    return build
