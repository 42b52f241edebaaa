"""Corruptions inside a ``tf.data`` pipeline."""

from keras_robust.corruptions.suite import _check_name, _check_severity, corrupt
from keras_robust.validation import check_int


def corrupt_dataset(dataset, name, severity, *, preset="cifar", seed=0, num_parallel_calls=None):
    """Corrupts the images of a ``tf.data.Dataset`` with `corrupt`, element by element.

    Elements are uint8 image tensors — one image ``(H, W, C)`` or a batch ``(N, H, W, C)`` — or tuples whose first
    item is one (``(images, labels)``); the other items pass through. Static shapes are kept. With a ``seed``, element
    ``i`` is corrupted with the seed ``(seed, i)``, so the output is the same on every run and every iteration,
    however the map is parallelized; with ``seed=None``, every iteration draws fresh randomness (augmentation).

    Args:
        dataset: the ``tf.data.Dataset``.
        name: corruption name, see `names`.
        severity: 1 to 5.
        preset: ``"cifar"`` or ``"imagenet"``.
        seed: an integer (default 0), or ``None`` for fresh randomness on every iteration.
        num_parallel_calls: passed to ``Dataset.map`` (e.g. ``tf.data.AUTOTUNE``).

    Returns:
        The mapped dataset.

    Example:
        >>> import numpy as np, tensorflow as tf
        >>> images = np.zeros((4, 32, 32, 3), np.uint8)
        >>> ds = tf.data.Dataset.from_tensor_slices((images, np.arange(4))).batch(2)
        >>> corrupt_dataset(ds, "fog", 3, seed=0).element_spec[0].shape
        TensorShape([None, 32, 32, 3])
    """
    import tensorflow as tf

    _check_name(name)
    _check_severity(severity)
    seed = check_int("seed", seed, allow_none=True)

    def corrupt_numpy(index, images):
        element_seed = None if seed is None else (int(seed), int(index))
        batch = images if images.ndim == 4 else images[None]
        out = corrupt(batch, name, severity, preset=preset, seed=element_seed)
        return out if images.ndim == 4 else out[0]

    def corrupt_element(index, element):
        images = element[0] if isinstance(element, tuple) else element
        out = tf.numpy_function(corrupt_numpy, [index, images], tf.uint8, stateful=seed is None)
        out.set_shape(images.shape)
        return (out,) + tuple(element[1:]) if isinstance(element, tuple) else out

    def unpack(index, *element):
        return corrupt_element(index, element if len(element) > 1 else element[0])

    return dataset.enumerate().map(unpack, num_parallel_calls=num_parallel_calls)

