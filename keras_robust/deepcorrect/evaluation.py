"""Top-1 accuracy over distortion levels, as DeepCorrect reports it."""

import numpy as np

from keras_robust.deepcorrect.distortions import LEVELS, distort_levels


def distorted_sets(images, distortion, levels=None, seed=0):
    """`{level: images}` with the clean images under level 0."""
    levels = tuple(levels or LEVELS[distortion])
    sets = distort_levels(images, distortion, levels, seed=seed)
    return {0.0: np.asarray(images, dtype="float32"), **dict(zip(levels, sets))}


def top1_over_levels(model, sets, labels, batch_size=256):
    """Top-1 accuracy per level and their mean (clean images included, as in Table II)."""
    per_level = {
        level: float(np.mean(
            np.argmax(model.predict(images, batch_size=batch_size, verbose=0), axis=-1) == labels
        ))
        for level, images in sets.items()
    }
    return float(np.mean(list(per_level.values()))), per_level
