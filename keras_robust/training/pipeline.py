"""tf.data input pipelines for training: in-memory images, deterministic order, batched augmentation."""

import math

import numpy as np
import tensorflow as tf

PAD = 4


def _validate(images, labels):
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be an (N, H, W, C) or (N, H, W) array. Received: shape={images.shape}"
        )
    if labels.shape != (len(images),):
        raise ValueError(
            f"`labels` must hold one integer per image, shape ({len(images)},). Received: shape={labels.shape}"
        )
    return images, labels.astype("int32")


def steps_per_epoch(num_images, batch_size):
    """Batches per epoch; the last one may be smaller (PyTorch's `drop_last=False`)."""
    return math.ceil(num_images / batch_size)


def augment_batch(images, seed):
    """Pad by 4 pixels with zeros, crop back at a random place, flip half of the images.

    Stateless: the same `seed` (an int tensor of shape (2,)) gives the same batch.

    Args:
        images: (B, H, W, C) tensor.
        seed: int32/int64 tensor of shape (2,).
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    offsets = tf.random.stateless_uniform(
        [shape[0], 2], seed=crop_seed, minval=0, maxval=2 * PAD + 1, dtype=tf.int32
    )
    rows = offsets[:, :1] + tf.range(height)[None]
    cols = offsets[:, 1:] + tf.range(width)[None]
    cropped = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    flip = tf.random.stateless_uniform([shape[0], 1, 1, 1], seed=flip_seed) < 0.5
    return tf.where(flip, tf.reverse(cropped, axis=[2]), cropped)


def training_dataset(images, labels, batch_size, *, epochs, seed, start_epoch=0, augment=False):
    """Batches of epochs `start_epoch .. epochs - 1`, each a fresh permutation of the images.

    The order and the augmentation of every batch depend only on `seed`, the
    epoch and the batch index, so a run resumed at `start_epoch` sees exactly
    the batches the uninterrupted run would have seen. Use with
    `model.fit(..., steps_per_epoch=steps_per_epoch(len(images), batch_size))`.

    Args:
        images: uint8 or float array (N, H, W, C) (or (N, H, W)), raw pixels.
        labels: int array (N,).
        batch_size: images per batch.
        epochs: index of the epoch after the last.
        seed: int, the seed of the shuffling and of the augmentation.
        start_epoch: first epoch to produce.
        augment: apply `augment_batch`.

    Example:

    >>> import numpy as np
    >>> images = np.zeros((10, 32, 32, 3), "uint8")
    >>> dataset = training_dataset(images, np.arange(10), 4, epochs=2, seed=0, augment=True)
    >>> print(*(int(labels.shape[0]) for _, labels in dataset))
    4 4 2 4 4 2
    """
    images, labels = _validate(images, labels)
    count = len(images)
    images_t, labels_t = tf.constant(images), tf.constant(labels)
    steps = steps_per_epoch(count, batch_size)

    def epoch_batches(epoch):
        order = tf.argsort(tf.random.stateless_uniform([count], seed=tf.stack([tf.cast(seed, tf.int64), epoch])))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate()
        return batches.map(lambda step, indices: (epoch * steps + step, indices))

    def load(step, indices):
        batch = tf.gather(images_t, indices)
        if augment:
            batch = augment_batch(batch, tf.stack([tf.cast(seed, tf.int64) + 1, step]))
        return batch, tf.gather(labels_t, indices)

    dataset = tf.data.Dataset.range(start_epoch, epochs).flat_map(epoch_batches)
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return _with_options(dataset.prefetch(tf.data.AUTOTUNE))


def evaluation_dataset(images, labels, batch_size):
    """Batches of `images` in order, without augmentation."""
    images, labels = _validate(images, labels)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    return _with_options(dataset.prefetch(tf.data.AUTOTUNE))


def _with_options(dataset):
    # The data is in memory, not in files: across workers, shard by element.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
