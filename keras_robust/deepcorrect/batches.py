"""Training batches of DeepCorrect: augmented, half clean and half distorted."""

import math

import keras
import numpy as np

from keras_robust.deepcorrect.distortions import resolve
from keras_robust.pixels import to_uint8


def augment_images(images, seed=0, *, rotation=20.0, shift=0.15, flip=True):
    """Random rotations, shifts and horizontal flips, as the authors' CIFAR code.

    The authors train with Keras' `ImageDataGenerator(rotation_range=20,
    width_shift_range=0.15, height_shift_range=0.15, horizontal_flip=True)`:
    each image is rotated by an angle drawn from [-20°, 20°], shifted by up
    to 15% of its side in each direction and flipped with probability 1/2,
    with bilinear interpolation and the nearest border pixel filling in.

    Args:
        images: float or uint8 array (N, H, W, C).
        seed: seed of the random transforms.
        rotation: largest rotation in degrees (0: none).
        shift: largest shift as a fraction of the side (0: none).
        flip: whether to flip half of the images left-right.

    Returns:
        A float32 array of the shape of `images`.

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect.batches import augment_images

    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    augmented = augment_images(images, seed=1)
    assert augmented.shape == images.shape and augmented.dtype == np.float32
    ```
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"`images` must be a batch (N, H, W, C). Received: shape {images.shape}")
    rng = np.random.default_rng(seed)
    count = len(images)
    angles = np.deg2rad(rng.uniform(-rotation, rotation, count))
    shifts = rng.uniform(-shift, shift, (count, 2))
    flips = rng.random(count) < 0.5 if flip else np.zeros(count, bool)
    return affine_transform(images, angles, shifts, flips)


def affine_transform(images, angles, shifts, flips):
    """Rotate each image about its centre by `angles` (radians), shift it by `shifts` (fractions of the height
    and width) and mirror it where `flips`: bilinear, the nearest border pixel filling in (float32)."""
    images = np.asarray(images, dtype="float32")
    count, height, width = images.shape[:3]
    shifts = np.asarray(shifts) * (height, width)
    # For output pixel p of image i, the input pixel R_i (p - c - s_i) + c (then mirrored).
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    rows, cols = np.meshgrid(np.arange(height) - (height - 1) / 2, np.arange(width) - (width - 1) / 2, indexing="ij")
    rows, cols = rows[None] - shifts[:, 0, None, None], cols[None] - shifts[:, 1, None, None]
    source_rows = cos * rows - sin * cols + (height - 1) / 2
    source_cols = sin * rows + cos * cols + (width - 1) / 2
    source_cols = np.where(np.asarray(flips)[:, None, None], width - 1 - source_cols, source_cols)
    # Bilinear interpolation; coordinates clipped to the image: the nearest border pixel fills in.
    source_rows, source_cols = np.clip(source_rows, 0, height - 1), np.clip(source_cols, 0, width - 1)
    top, left = np.floor(source_rows).astype(int), np.floor(source_cols).astype(int)
    bottom, right = np.minimum(top + 1, height - 1), np.minimum(left + 1, width - 1)
    down, across = (source_rows - top)[..., None], (source_cols - left)[..., None]
    index = np.arange(count)[:, None, None]
    out = ((images[index, top, left] * (1 - across) + images[index, top, right] * across) * (1 - down)
           + (images[index, bottom, left] * (1 - across) + images[index, bottom, right] * across) * down)
    return out.astype("float32")


class MixedDistortionBatches(keras.utils.PyDataset):
    """Shuffled batches, half clean and half distorted at a random level each.

    Each image is first augmented (`augment_images`, the authors' CIFAR
    augmentation), then half of each batch is distorted, each image at a
    level drawn uniformly from `levels`.

    Args:
        images: raw [0, 255] images (N, H, W, C).
        labels: integer labels.
        distortion: `"gaussian_blur"` or `"awgn"` (the `deepcorrect/` entries of
            `keras_robust.corruptions.list_distortions()`), or any registry name.
        levels: the levels drawn from (default: the CIFAR levels).
        batch_size: images per batch.
        seed: seed of the shuffling, augmentation, choice of images and levels, noise.
        augment: whether to augment (`False`: the images as given).
        **kwargs: `keras.utils.PyDataset` arguments (`workers`, ...).

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect.batches import MixedDistortionBatches

    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)).astype("uint8")
    batches = MixedDistortionBatches(images, np.arange(8) % 2, "awgn", batch_size=4)
    x, y = batches[0]
    assert x.shape == (4, 32, 32, 3) and len(batches) == 2
    ```
    """

    def __init__(self, images, labels, distortion, levels=None, batch_size=64, seed=0,
                 augment=True, **kwargs):
        super().__init__(**kwargs)
        if len(images) != len(labels) or len(images) == 0:
            raise ValueError(
                f"Need as many labels as images, at least one. Received: "
                f"{len(images)} images, {len(labels)} labels"
            )
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        self.distortion = resolve(distortion)  # a name of keras_robust.corruptions.list_distortions()
        self.levels = tuple(levels or self.distortion.levels)
        self.batch_size, self.seed, self.augment, self.epoch = batch_size, seed, augment, 0
        self._order = np.random.default_rng([seed, 0]).permutation(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        batch = self.images[chosen].astype("float32")
        if self.augment:
            batch = np.clip(np.round(augment_images(batch, int(rng.integers(2**31)))), 0, 255)
        distorted = rng.permutation(len(chosen)) < len(chosen) // 2
        levels = rng.choice(len(self.levels), size=len(chosen))
        for level in np.unique(levels[distorted]):
            rows = distorted & (levels == level)
            batch[rows] = self.distortion.apply(to_uint8(batch[rows]), self.levels[level],
                                                seed=int(rng.integers(2**31)))
        return batch, self.labels[chosen]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))
