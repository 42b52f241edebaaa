"""The default benchmark: LeNet-A against LeNet-PA on the embedded MNIST test set."""

import numpy as np

# Fig. 4 of the push-pull paper: Gaussian noise of variance sigma^2 on [0, 1]
# images; the text quotes results at 0.1 and 0.2, the figure's grid is not in
# the text, so we take these levels.
NOISE_VARIANCES = (0.01, 0.05, 0.1, 0.15, 0.2, 0.3)
# Fig. 5: contrast factor C of (I - 0.5) * C + 0.5, then Poisson noise.
CONTRASTS = (0.5, 0.4, 0.3, 0.2)
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
        model = LeNet(variant, first_layer_norm=False)
        model.compile(recipe.optimizer(steps), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(*train, batch_size=recipe.batch_size, epochs=epochs, shuffle=True, verbose=verbose)
        models[f"LeNet-{variant}"] = model
    return models


def paper_distortion_tasks(seed):
    """`(group, level, apply)` of the Gaussian noise of Fig. 4 and the contrast + Poisson of Fig. 5."""
    from keras_robust import corruptions

    tasks = [
        ("gaussian_noise_variance", variance, lambda x, v=variance: corruptions.gaussian_noise_variance(x, v, seed=seed))
        for variance in NOISE_VARIANCES
    ]
    tasks += [
        ("contrast_poisson", contrast, lambda x, c=contrast: corruptions.contrast_poisson(x, c, seed=seed))
        for contrast in CONTRASTS
    ]
    return tasks
