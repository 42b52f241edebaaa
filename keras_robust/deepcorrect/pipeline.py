"""DeepCorrect's training batches as a `tf.data` pipeline: augmentation and distortion as compiled tensor operations.

The same batches as `MixedDistortionBatches` (augmented, half clean and half
distorted, each distorted image at a level drawn uniformly), built by
TensorFlow ops on the pipeline's threads while the model trains: the authors'
rotation/shift/flip by one projective-transform op per batch, AWGN and
DeepCorrect's Gaussian blur as tensor ops. Every other registry distortion
runs its NumPy code inside the pipeline (`tf.numpy_function`), still in
parallel with training. Every batch depends only on the seed and its step, so
a run resumed at any step sees the batches of the uninterrupted run.
"""

import math

import numpy as np
import tensorflow as tf

from keras_robust.corruptions import deepcorrect_gaussian_taps
from keras_robust.deepcorrect.distortions import resolve

# Registry distortions with a tensor implementation here; the others run their NumPy code in the pipeline.
TENSOR_DISTORTIONS = ("deepcorrect/awgn", "deepcorrect/gaussian_blur")


def affine_parameters(count, seed, *, rotation=20.0, shift=0.15, flip=True):
    """Random angles (radians), shifts (fraction of the side, rows then columns) and flips of `count` images.

    The distributions of `augment_images`: angle uniform in ±`rotation`
    degrees, each shift uniform in ±`shift`, a flip with probability 1/2.

    Args:
        count: number of images (int or scalar tensor).
        seed: int tensor of shape (2,), the stateless seed.
    """
    angle_seed, shift_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    angles = tf.random.stateless_uniform([count], angle_seed, -rotation, rotation) * (math.pi / 180.0)
    shifts = tf.random.stateless_uniform([count, 2], shift_seed, -shift, shift)
    flips = tf.random.stateless_uniform([count], flip_seed) < 0.5
    return angles, shifts, tf.logical_and(flips, flip)


def affine_transform(images, angles, shifts, flips):
    """Rotate about the centre, shift and flip images as `augment_images` does, for given parameters.

    Bilinear interpolation, the nearest border pixel filling in (one
    `ImageProjectiveTransformV3` op for the batch).

    Args:
        images: float32 tensor (B, H, W, C).
        angles: (B,) radians; shifts: (B, 2) fractions of the height and
            width; flips: (B,) booleans.
    """
    shape = tf.shape(images)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    shift_rows, shift_cols = shifts[:, 0] * height, shifts[:, 1] * width
    cos, sin = tf.cos(angles), tf.sin(angles)
    # Output pixel (x, y) reads input column a0 x + a1 y + a2 and row b0 x + b1 y + b2.
    a0, a1 = cos, sin
    a2 = cx - sin * (cy + shift_rows) - cos * (cx + shift_cols)
    b0, b1 = -sin, cos
    b2 = cy - cos * (cy + shift_rows) + sin * (cx + shift_cols)
    sign = tf.where(flips, -1.0, 1.0)
    a0, a1, a2 = sign * a0, sign * a1, tf.where(flips, width - 1 - a2, a2)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST",
    )


def augment(images, seed, *, rotation=20.0, shift=0.15, flip=True):
    """`augment_images` as tensor ops: random rotation, shift and flip of a float32 batch (stateless)."""
    return affine_transform(images, *affine_parameters(tf.shape(images)[0], seed, rotation=rotation, shift=shift,
                                                       flip=flip))


def gaussian_blur(images, sigma, *, kernel="authors"):
    """DeepCorrect's separable Gaussian blur with a zero border (the registry's `deepcorrect/gaussian_blur`)."""
    taps = tf.constant(deepcorrect_gaussian_taps(sigma, kernel=kernel), tf.float32)
    channels = images.shape[-1]
    rows = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, channels, 1])
    cols = tf.reshape(rows, [1, -1, channels, 1])
    out = tf.nn.depthwise_conv2d(images, rows, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(out, cols, [1, 1, 1, 1], "SAME")


def _distort(images, distortion, levels, chosen, seed):
    """`images` with image i distorted at `levels[chosen[i]]` (float32 on the 0..255 scale)."""
    options = dict(distortion.options)
    if distortion.name == "deepcorrect/awgn" and not options.get("clip"):
        sigma = tf.gather(tf.constant(levels, tf.float32), chosen)
        noise = tf.random.stateless_normal(tf.shape(images), seed)
        return images + noise * sigma[:, None, None, None]
    if distortion.name == "deepcorrect/gaussian_blur" and options.get("border", "zero") == "zero":
        out = images
        for index, level in enumerate(levels):
            out = tf.where((chosen == index)[:, None, None, None],
                           gaussian_blur(images, level, kernel=options.get("kernel", "authors")), out)
        return out

    def apply(batch, chosen, seed):
        out = batch.astype("float32")
        for index in np.unique(chosen):
            rows = chosen == index
            out[rows] = distortion.apply(batch[rows], levels[index], seed=int(seed) + int(index))
        return out

    pixels = tf.cast(tf.clip_by_value(tf.round(images), 0, 255), tf.uint8)
    out = tf.numpy_function(apply, [pixels, chosen, seed[1] % (2**31)], tf.float32, stateful=False)
    return tf.ensure_shape(out, images.shape)


def mixed_batch(images, distortion, levels, seed, *, augment_images=True):
    """One training batch: augmented (optional), rounded to whole grey levels, half of it distorted.

    Args:
        images: (B, H, W, C) uint8 or float tensor, raw pixels.
        distortion: a registry `Distortion` (see `resolve`).
        levels: its levels drawn from.
        seed: int64 tensor of shape (2,).
    """
    augment_seed, pick_seed, level_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 4))
    batch = tf.cast(images, tf.float32)
    if augment_images:
        batch = tf.clip_by_value(tf.round(augment(batch, augment_seed)), 0, 255)
    count = tf.shape(batch)[0]
    rank = tf.argsort(tf.argsort(tf.random.stateless_uniform([count], pick_seed)))
    distorted = rank < count // 2  # exactly half, as `MixedDistortionBatches`
    chosen = tf.random.stateless_uniform([count], level_seed, 0, len(levels), dtype=tf.int32)
    mixed = _distort(batch, distortion, tuple(levels), chosen, noise_seed)
    return tf.where(distorted[:, None, None, None], mixed, batch)


def mixed_distortion_dataset(images, labels, distortion, levels=None, batch_size=64, *, seed=0, augment=True,
                             start_step=0, stop_step=None):
    """Batches `start_step .. stop_step - 1` of DeepCorrect training, each epoch a fresh permutation.

    Step s is batch `s % steps_per_epoch` of epoch `s // steps_per_epoch`; its
    images, augmentation and distortion depend only on `seed` and s.

    Args:
        images: raw [0, 255] images (N, H, W, C), uint8 or float.
        labels: integer labels (N,).
        distortion: `"gaussian_blur"`, `"awgn"` or any registry name.
        levels: the levels drawn from (default: the distortion's).
        batch_size: images per batch.
        seed: seed of the order, augmentation, choice of images and levels, noise.
        augment: apply the authors' rotation, shift and flip.
        start_step, stop_step: the steps produced (`stop_step=None`: without end).

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset

    images = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3)).astype("uint8")
    dataset = mixed_distortion_dataset(images, np.arange(10) % 2, "awgn", batch_size=4, stop_step=3)
    assert [int(y.shape[0]) for _, y in dataset] == [4, 4, 2]
    ```
    """
    images, labels = np.asarray(images), np.asarray(labels).astype("int32")
    if images.ndim != 4 or len(images) == 0 or labels.shape != (len(images),):
        raise ValueError(f"Need images (N, H, W, C) with N > 0 and one label each. Received: images of shape "
                         f"{images.shape}, labels of shape {labels.shape}")
    distortion = resolve(distortion)
    levels = tuple(levels or distortion.levels)
    count = len(images)
    steps = math.ceil(count / batch_size)
    first_epoch = start_step // steps
    images_t = tf.constant(images if images.dtype == np.uint8 else images.astype("float32"))
    labels_t = tf.constant(labels)
    seed = tf.constant(int(seed), tf.int64)

    def epoch_batches(epoch):
        order = tf.argsort(tf.random.stateless_uniform([count], seed=tf.stack([seed, epoch])))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate()
        return batches.map(lambda step, indices: (epoch * steps + step, indices))

    def load(step, indices):
        batch = mixed_batch(tf.gather(images_t, indices), distortion, levels, tf.stack([seed + 1, step]),
                            augment_images=augment)
        return batch, tf.gather(labels_t, indices)

    dataset = tf.data.Dataset.range(first_epoch, 2**62).flat_map(epoch_batches)
    dataset = dataset.skip(start_step - first_epoch * steps)
    if stop_step is not None:
        dataset = dataset.take(max(0, stop_step - start_step))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
