"""DeepCorrect's distortions, taken from the registry of `keras_robust.corruptions`.

A short name (`"gaussian_blur"`, `"awgn"`) is looked up in the registry's `FAMILY`, `deepcorrect/` (the CIFAR levels
of the authors' code), by `keras_robust.corruptions.get_distortion(name, family=FAMILY)`; any registry name (e.g.
`"deepcorrect-imagenet/awgn"`, `"cifar/fog"`) is taken as it is.
"""

import numpy as np

from keras_robust.corruptions import get_distortion
from keras_robust.pixels import to_uint8

FAMILY = "deepcorrect"  # the family of the short names of DeepCorrect's commands and functions
DISTORTIONS = ("gaussian_blur", "awgn")


def resolve(name):
    """The registry `Distortion` meant by `name` (`"awgn"` -> `"deepcorrect/awgn"`).

    Example:

    ```python
    from keras_robust.deepcorrect.distortions import resolve

    assert resolve("awgn").name == "deepcorrect/awgn"
    ```
    """
    if isinstance(name, str) and "/" not in name and name not in DISTORTIONS:
        raise ValueError(f"Unknown DeepCorrect distortion. Received: name={name!r}; accepted: "
                         f"{', '.join(DISTORTIONS)} or a name of keras_robust.corruptions.list_distortions().")
    return get_distortion(name, family=FAMILY)


def distort_levels(images, name, levels=None, seed=0):
    """One distorted copy of `images` per level (a list, as `rank_filters` takes), as float32 model inputs.

    Args:
        images: uint8 array (N, H, W, C), or float values that are whole numbers in 0..255.
        name: `"gaussian_blur"`, `"awgn"` or a registry name.
        levels: the levels (default: the registry entry's).
        seed: integer seed of the noise (the same at every level).

    Returns:
        A list of float32 arrays on the 0..255 scale.

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect.distortions import distort_levels

    images = np.full((2, 32, 32, 3), 128, np.uint8)
    assert len(distort_levels(images, "awgn", levels=(5.0, 30.0))) == 2
    ```
    """
    distortion = resolve(name)
    images = to_uint8(images)
    return [distortion.apply(images, level, seed=seed).astype("float32")
            for level in (distortion.levels if levels is None else levels)]


