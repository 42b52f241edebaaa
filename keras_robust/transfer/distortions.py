"""Which registry distortion a transfer run applies (see `keras_robust.corruptions.list_distortions`)."""

DEEPCORRECT = ("awgn", "gaussian_blur")
FAMILY = "deepcorrect-imagenet"  # the family of those short names in transfer runs (ImageNet-scale images)


def resolve_distortion(name, levels=None, *, preset=None):
    """The registry `Distortion` meant by `name`, with `levels` if given.

    Args:
        name: a registry name (`"deepcorrect-imagenet/awgn"`, `"cifar/fog"`,
            ...); or `"awgn"` / `"gaussian_blur"`: DeepCorrect's, at the
            ImageNet levels of its transfer experiments (Sec. V-A7: σn 10-100,
            σb 1-6), unless a `preset` is named; or a corruption name of
            `keras_robust.corruptions.names()` under `preset` (default
            `"cifar"`).
        levels: the levels to evaluate (default: the entry's table).
        preset: `"cifar"` or `"imagenet"`: take the corruption of that preset.

    Returns:
        A `keras_robust.corruptions.Distortion`.

    Example:

    ```python
    from keras_robust.transfer import resolve_distortion

    assert resolve_distortion("awgn").name == "deepcorrect-imagenet/awgn"
    assert resolve_distortion("fog", levels=(5,)).levels == (5,)
    ```
    """
    from keras_robust import corruptions

    text, family = str(name), None
    if "/" not in text:
        if text in DEEPCORRECT and preset is None:
            family = FAMILY
        elif text in corruptions.names():
            family = preset or "cifar"
        else:
            raise ValueError(
                f"Unknown distortion. Received: name={name!r}; accepted: {', '.join(DEEPCORRECT)} (DeepCorrect's "
                f"sigma levels), a corruption of keras_robust.corruptions.names() or a registry name of "
                f"keras_robust.corruptions.list_distortions().")
    distortion = corruptions.get_distortion(text, family=family)
    return distortion if levels is None else distortion.with_levels(levels)
