"""Training DeepCorrect models and the paper's two baselines on mixed batches."""

import math

import keras
import numpy as np
from keras import ops

from keras_robust.deepcorrect.distortions import LEVELS, distort
from keras_robust.deepcorrect.graph import as_functional, clone


class MixedDistortionBatches(keras.utils.PyDataset):
    """Shuffled batches, half clean and half distorted at a random level each.

    Args:
        images: raw [0, 255] images (N, H, W, C).
        labels: integer labels.
        distortion: `"gaussian_blur"` or `"awgn"`.
        levels: the levels drawn from (default: the CIFAR levels).
        batch_size: images per batch.
        seed: seed of the shuffling, the choice of images and levels, the noise.
    """

    def __init__(self, images, labels, distortion, levels=None, batch_size=64, seed=0, **kwargs):
        super().__init__(**kwargs)
        if len(images) != len(labels) or len(images) == 0:
            raise ValueError(
                f"Need as many labels as images, at least one. Received: "
                f"{len(images)} images, {len(labels)} labels"
            )
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        self.distortion, self.levels = distortion, tuple(levels or LEVELS[distortion])
        self.batch_size, self.seed, self.epoch = batch_size, seed, 0
        self._order = np.random.default_rng([seed, 0]).permutation(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        batch = self.images[chosen].astype("float32")
        distorted = rng.permutation(len(chosen)) < len(chosen) // 2
        levels = rng.choice(len(self.levels), size=len(chosen))
        for level in np.unique(levels[distorted]):
            rows = distorted & (levels == level)
            batch[rows] = distort(batch[rows], self.distortion, self.levels[level], rng)
        return batch, self.labels[chosen]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))


def paper_schedule(learning_rate, total_steps):
    """The paper's schedule: learning rate divided by 10 after every 30% of the steps."""
    boundaries = sorted({max(1, int(total_steps * f)) for f in (0.3, 0.6, 0.9)})
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries, [learning_rate / 10**i for i in range(len(boundaries) + 1)]
    )


def trainable_parameters(model):
    """Number of trainable scalars of a model."""
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def fit_deepcorrect(
    model, images, labels, distortion, levels=None, *, epochs=10, batch_size=64,
    learning_rate=0.1, momentum=0.9, weight_decay=5e-4, seed=0, verbose=0,
):
    """Trains the trainable weights of `model` on half clean, half distorted batches.

    SGD with momentum and the paper's schedule (÷10 after every 30% of the
    steps); the paper uses 0.1 for correction units and 0.001 to fine-tune.

    Args:
        model: a classifier with softmax outputs (a DeepCorrect model, a
            `finetune_copy`, or a `stability_model`).
        images, labels: raw [0, 255] training images and integer labels.
        distortion, levels: as in `MixedDistortionBatches`.
        epochs, batch_size, learning_rate, momentum, weight_decay: SGD settings.
        seed: seed of the batches.
        verbose: verbosity of `model.fit`.

    Returns:
        The `History` of `model.fit`.
    """
    batches = MixedDistortionBatches(images, labels, distortion, levels, batch_size, seed)
    optimizer = keras.optimizers.SGD(
        paper_schedule(learning_rate, epochs * len(batches)),
        momentum=momentum, weight_decay=weight_decay,
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(batches, epochs=epochs, verbose=verbose)


def finetune_copy(model):
    """The Finetune baseline's starting point: a copy with every layer trainable."""
    copy = clone(as_functional(model), name=f"{model.name}_finetune")
    for layer in copy.layers:
        layer.trainable = True
    return copy


@keras.saving.register_keras_serializable(package="keras_robust")
class StabilityRegularizer(keras.layers.Layer):
    """Adds α·KL(p_clean ‖ p_noisy) to the loss and passes `p_clean` through.

    Args:
        alpha: weight of the KL divergence (the paper's 0.01).
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect.training import StabilityRegularizer

    p = np.full((2, 4), 0.25, "float32")
    assert np.allclose(StabilityRegularizer(0.01)([p, p]), p)
    ```
    """

    def __init__(self, alpha=0.01, **kwargs):
        super().__init__(**kwargs)
        if not alpha >= 0:
            raise ValueError(f"`alpha` must be >= 0. Received: alpha={alpha}")
        self.alpha = float(alpha)

    def call(self, inputs):
        clean, noisy = inputs
        eps = keras.backend.epsilon()
        clean_c, noisy_c = ops.clip(clean, eps, 1.0), ops.clip(noisy, eps, 1.0)
        divergence = ops.sum(clean_c * (ops.log(clean_c) - ops.log(noisy_c)), axis=-1)
        self.add_loss(self.alpha * ops.mean(divergence))
        return clean

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def stability_model(model, sigma=0.2, alpha=0.01):
    """Stability training (Zheng et al.) of a trainable copy of `model`.

    Returns `(training_model, copy)`: train `training_model` (its loss adds
    α·KL between the predictions for an image and a copy with Gaussian noise
    of std `sigma` on the [0, 1] scale, the paper's σ² = 0.04), evaluate `copy`.
    """
    copy = finetune_copy(model)
    inputs = keras.Input(shape=copy.input_shape[1:])
    noisy = keras.layers.Rescaling(1 / 255)(inputs)
    noisy = keras.layers.Rescaling(255.0)(keras.layers.GaussianNoise(sigma)(noisy))
    outputs = StabilityRegularizer(alpha)([copy(inputs), copy(noisy)])
    return keras.Model(inputs, outputs, name=f"{model.name}_stability"), copy
