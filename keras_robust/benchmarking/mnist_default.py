"""The default benchmark: LeNet-A against LeNet-PA on the embedded MNIST test set."""

import numpy as np

from keras_robust.corruptions.registry import get_distortion
from keras_robust.progress import keras_verbose

# The levels of Figs. 4 and 5 live in the distortion registry: Gaussian noise
# of variance sigma^2 on [0, 1] images (pushpull/gaussian_noise, unclipped as
# the authors' noise transform) and contrast C then Poisson noise
# (pushpull/contrast). Read here for the scripts that cite them.
NOISE_VARIANCES = get_distortion("pushpull/gaussian_noise").levels
CONTRASTS = get_distortion("pushpull/contrast").levels
# Results keys of the two figures (report titles and figure files use them).
PAPER_GROUPS = {"gaussian_noise_variance": "pushpull/gaussian_noise", "contrast_poisson": "pushpull/contrast"}
MODELS = ("A", "PA")


def split_mnist(train_size, held_out_size, seed):
    """The embedded MNIST test set split at random into a training and a held-out part."""
    from keras_robust.datasets import load_mnist_test

    images, labels = load_mnist_test()
    if train_size < 1 or held_out_size < 1 or train_size + held_out_size > len(labels):
        raise ValueError(
            f"Training and held-out sizes must be positive and add up to at most {len(labels)}. "
            f"Received: {train_size} and {held_out_size}"
        )
    order = np.random.default_rng(seed).permutation(len(labels))
    train, held_out = order[:train_size], order[train_size : train_size + held_out_size]
    return (images[train], labels[train]), (images[held_out], labels[held_out])


def train_lenets(train, *, epochs, learning_rate, seed, variants=MODELS, verbose=0):
    """LeNets of `variants` trained on `train` with the paper's SGD recipe, shortened.

    Both are built as in Table 1, without a normalization after the first
    layer, so that they differ only by the push-pull layer. Every model starts
    from the same seed and sees the same batches. The paper's learning rate
    0.1 makes this short run unstable for both LeNet-A and LeNet-PA (see
    docs/tutorials/robustness-benchmark.md); 0.03 trains both.
    """
    import dataclasses

    import keras

    from keras_robust.applications import LeNet
    from keras_robust.training.recipes import RECIPES

    recipe = dataclasses.replace(RECIPES["lenet"].shortened(epochs), learning_rate=learning_rate)
    steps = -(-len(train[1]) // recipe.batch_size)
    models = {}
    for variant in variants:
        keras.utils.set_random_seed(seed)
        model = LeNet(variant)
        model.compile(recipe.optimizer(steps), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(*train, batch_size=recipe.batch_size, epochs=epochs, shuffle=True, verbose=keras_verbose(verbose))
        models[f"LeNet-{variant}"] = model
    return models


def paper_distortion_tasks(seed, *, clip=False):
    """`Task`s of the Gaussian noise of Fig. 4 (unclipped unless `clip`) and the contrast + Poisson of Fig. 5."""
    from keras_robust.benchmarking.evaluation import Task

    noise, contrast = (get_distortion(name) for name in PAPER_GROUPS.values())
    noise = noise.with_options(clip=clip)
    return [Task(group, level, distortion, seed)
            for group, distortion in zip(PAPER_GROUPS, (noise, contrast)) for level in distortion.levels]
