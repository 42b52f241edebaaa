"""Training DeepCorrect models and the paper's baselines on mixed batches.

The defaults follow the paper (Sec. V-A) and the authors' CIFAR code: SGD
with Nesterov momentum 0.9, the loss of Eq. 5 with an L1 regulariser R on
the trained kernels, augmented batches half clean and half distorted, the
learning rate divided by 10 after every 30% of the steps; except the rate,
0.01 without warm-up instead of the paper's 0.1 after a warm-up epoch (see
`fit_deepcorrect`).
"""

import math
from pathlib import Path

import keras
import numpy as np
from keras import ops

from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset
from keras_robust.graph import as_functional, clone
from keras_robust.layers.stability_regularizer import StabilityRegularizer
from keras_robust.progress import keras_verbose
from keras_robust import checkpoint
from keras_robust.validation import check_choice

STABILITY_LAYERS = ("all", "dense")


def paper_schedule(learning_rate, total_steps, warmup_steps=0):
    """The paper's schedule after an optional warm-up at a tenth of the rate.

    `warmup_steps` steps at `learning_rate / 10` (the authors' CIFAR code
    warms correction units up for one epoch at 0.01), then `learning_rate`,
    divided by 10 after every 30% of the remaining steps.

    Example:

    ```python
    from keras_robust.deepcorrect.training import paper_schedule

    schedule = paper_schedule(0.1, 110, warmup_steps=10)
    rates = [round(float(schedule(s)), 6) for s in (0, 9, 10, 39, 40, 70, 100)]
    assert rates == [0.01, 0.01, 0.1, 0.1, 0.01, 0.001, 0.0001]
    ```
    """
    total_steps = max(1, int(total_steps))
    warmup_steps = min(max(0, int(warmup_steps)), total_steps - 1)
    rest = total_steps - warmup_steps
    starts = [warmup_steps] if warmup_steps else []  # first step of each new rate
    for f in (0.3, 0.6, 0.9):
        step = warmup_steps + max(1, int(rest * f))
        if step < total_steps and step > (starts[-1] if starts else 0):
            starts.append(step)
    values = [learning_rate / 10] if warmup_steps else []
    values += [learning_rate / 10**i for i in range(len(starts) - len(values) + 1)]
    if not starts:
        return learning_rate
    boundaries = [step - 1 for step in starts]  # the decay keeps values[i] while step <= boundaries[i]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def trainable_parameters(model):
    """Number of trainable scalars of a model."""
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def _add_l1(model, l1):
    """Sets the L1 regulariser λ = `l1` (none if 0) on every trainable kernel for
    this training, even those whose layer has its own (a `CorrectionUnit`'s
    1e-5); returns `[(variable, previous regulariser)]` to restore afterwards."""
    previous = []
    for variable in model.trainable_weights:
        if len(variable.shape) > 1:
            previous.append((variable, variable.regularizer))
            variable.regularizer = keras.regularizers.L1(l1) if l1 else None
    return previous


def fit_deepcorrect(
    model, images, labels, distortion, levels=None, *, epochs=10, batch_size=64,
    learning_rate=0.01, warmup_epochs=0.0, momentum=0.9, nesterov=True, l1=1e-5,
    weight_decay=None, augment=True, recalibrate=False, seed=0, callbacks=None,
    checkpoint_dir=None, save_every=None, verbose=0,
):
    """Trains the trainable weights of `model` on half clean, half distorted batches.

    The paper's protocol (Sec. V-A) with the authors' CIFAR details: SGD
    with Nesterov momentum, the cross-entropy plus λ·R(W) with R the L1
    norm of the trained kernels (Eq. 5; kernels whose layer has its own
    regulariser keep it), the authors' augmentation, an optional warm-up at a
    tenth of the learning rate, then `paper_schedule`. The paper trains its
    units at 0.1 after a warm-up epoch (`learning_rate=0.1,
    warmup_epochs=1`); the defaults are 0.01 without warm-up, the best of
    the rates measured on ResNet20 with units that start as the identity
    (behind batch normalization the paper's rate, set for AlexNet, blows the
    units up: see the DeepCorrect tutorial's probe). To fine-tune, the paper
    uses 10 times less than the pretraining rate (0.001 for AlexNet, 0.01 in
    the authors' CIFAR code) and no warm-up.
    The batches come from `mixed_distortion_dataset`: prepared by tensor
    operations on the input pipeline's threads while the model trains.

    With `checkpoint_dir`, the run is resumable: every `save_every` steps
    (default: every epoch) the model and optimizer variables, the step and
    the state of callbacks that have `get_state`/`set_state` (such as
    `AccuracyCurve`) are written to `checkpoint_dir/checkpoint.npz`, and a
    call with the same arguments continues from there with the batches the
    uninterrupted run would have seen.

    Args:
        model: a classifier with softmax outputs (a DeepCorrect model, a
            `finetune_copy`, or a `stability_model`).
        images, labels: raw [0, 255] training images and integer labels.
        distortion, levels: as in `mixed_distortion_dataset`.
        epochs: passes over `images`.
        batch_size: images per step.
        learning_rate: the rate after the warm-up (the paper's: 0.1).
        warmup_epochs: epochs (a float) at `learning_rate / 10` first; 0: none
            (the paper's: 1).
        momentum, nesterov: SGD momentum.
        l1: λ of the L1 regulariser R (0 or `None`: no regulariser added).
        weight_decay: optional decoupled weight decay (not the paper's; `None`).
        augment: augment the batches (the authors' rotation, shift and flip).
        recalibrate: before training, re-estimate the statistics of the
            batch normalizations on one pass over the same batches
            (`recalibrate_batch_norm`).
        seed: seed of the batches.
        callbacks: `keras.callbacks.Callback`s of `model.fit`.
        checkpoint_dir: folder of the resumable state (`None`: not saved).
        save_every: steps between two saved states (default: one epoch).
        verbose: progress of `model.fit`, as
            `keras_robust.progress.check_verbose` (default: none).

    Returns:
        A `keras.callbacks.History` of the epochs trained by this call.

    Example:

    ```python
    import numpy as np
    import keras
    from keras_robust.deepcorrect.training import fit_deepcorrect

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).integers(0, 256, (8, 8, 8, 3)).astype("float32")
    history = fit_deepcorrect(model, x, np.arange(8) % 2, "awgn", epochs=1, batch_size=4)
    assert len(history.history["loss"]) == 1
    ```
    """
    images, labels = np.asarray(images), np.asarray(labels)
    steps = math.ceil(len(images) / batch_size)
    total = epochs * steps

    def batches(start, stop):
        return mixed_distortion_dataset(images, labels, distortion, levels, batch_size, seed=seed, augment=augment,
                                        start_step=start, stop_step=stop)

    callbacks = list(callbacks or [])
    state = checkpoint.load_state(checkpoint_dir) if checkpoint_dir is not None else None
    config = {"trainable": trainable_parameters(model), "images": len(images),
              "distortion": str(distortion), "levels": None if levels is None else [float(v) for v in levels],
              "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
              "warmup_epochs": warmup_epochs, "l1": l1, "augment": augment, "recalibrate": recalibrate, "seed": seed}
    if state and state["config"] != config:
        raise ValueError(f"{checkpoint_dir} holds the checkpoint of another run ({state['config']}); this run is "
                         f"{config}. Use another folder or delete it.")
    if recalibrate and not state:
        recalibrate_batch_norm(model, batches(0, steps))
    optimizer = keras.optimizers.SGD(
        paper_schedule(learning_rate, total, round(warmup_epochs * steps)),
        momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
    )
    added = _add_l1(model, l1)
    try:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        start = 0
        if state:
            model.optimizer.build(model.trainable_variables)
            checkpoint.restore_variables(model.variables, state["model"], "model")
            checkpoint.restore_variables(model.optimizer.variables, state["optimizer"], "optimizer")
            start = state["extra"]["step"]
            for callback in callbacks:
                if hasattr(callback, "set_state") and type(callback).__name__ in state["extra"]["callbacks"]:
                    callback.set_state(state["extra"]["callbacks"][type(callback).__name__])
        if checkpoint_dir is not None:
            callbacks.append(StepCheckpoint(checkpoint_dir, save_every or steps, total, config, callbacks[:]))
        history = keras.callbacks.History()
        history.history = {}

        def run(first_step, last_step, initial_epoch, final_epoch, steps_per_epoch):
            fitted = model.fit(batches(first_step, last_step), initial_epoch=initial_epoch, epochs=final_epoch,
                               steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=keras_verbose(verbose),
                               shuffle=False)
            for key, values in fitted.history.items():
                history.history.setdefault(key, []).extend(values)

        epoch = start // steps
        if start % steps:  # the rest of an interrupted epoch, then whole epochs
            run(start, (epoch + 1) * steps, epoch, epoch + 1, (epoch + 1) * steps - start)
            epoch += 1
        if epoch < epochs:
            run(epoch * steps, total, epoch, epochs, steps)
        return history
    finally:
        for variable, regularizer in added:
            variable.regularizer = regularizer


class StepCheckpoint(keras.callbacks.Callback):
    """Writes the resumable state of `fit_deepcorrect` every `every` optimizer steps and at the last one."""

    def __init__(self, directory, every, total, config, stateful):
        super().__init__()
        self.directory, self.every, self.total, self.config = Path(directory), every, total, config
        self.stateful = [c for c in stateful if hasattr(c, "get_state")]

    def on_train_batch_end(self, batch, logs=None):
        step = int(ops.convert_to_numpy(self.model.optimizer.iterations))
        if step % self.every and step != self.total:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        extra = {"step": step, "callbacks": {type(c).__name__: c.get_state() for c in self.stateful}}
        checkpoint.save_state(self.directory, self.model, self.model.optimizer, epoch=0, best=float("nan"),
                              config=self.config, extra=extra)


def _batch_norms(model):
    """The `BatchNormalization` layers of a model and of the models nested in it."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _batch_norms(layer)
        elif isinstance(layer, keras.layers.BatchNormalization):
            yield layer


def recalibrate_batch_norm(model, batches, steps=None):
    """Re-estimates the batch-norm statistics of `model` on `batches`; trains no weight.

    The moving mean and variance of every `BatchNormalization` layer of the
    network (frozen or not; those nested in custom layers such as correction
    units are left alone) become the average of their batch statistics over
    the batches: the forward pass runs in training mode, with momentum
    1 - 1/t at batch t. Other weights are unchanged. This is the "BN
    recalibration" baseline of the DeepCorrect CIFAR experiment: Finetune
    re-estimates these statistics while it trains, DeepCorrect keeps them
    frozen.

    Args:
        model: a Keras model.
        batches: a `keras.utils.PyDataset` (e.g. `MixedDistortionBatches`)
            or an iterable of `(images, labels)` or of image arrays.
        steps: batches to use (default: all of them, one pass).

    Returns:
        The number of batch-norm layers recalibrated.

    Example:

    ```python
    import numpy as np
    import keras
    from keras_robust.deepcorrect.training import recalibrate_batch_norm

    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization()])
    x = np.random.default_rng(0).normal(3.0, 2.0, (64, 4)).astype("float32")
    assert recalibrate_batch_norm(model, [x[:32], x[32:]]) == 1
    assert np.allclose(model.layers[0].moving_mean.numpy(), x.mean(axis=0), atol=1e-5)
    ```
    """
    norms = list(_batch_norms(model))
    saved = [(norm, norm.trainable, norm.momentum) for norm in norms]
    iterator = (batches[i] for i in range(len(batches))) if isinstance(batches, keras.utils.PyDataset) else iter(batches)
    sums, count = None, 0
    try:
        for norm in norms:
            # Momentum 0: after each batch the moving statistics are that batch's; their running average is kept
            # here (the same as momentum 1 - 1/t at batch t).
            norm.trainable, norm.momentum = True, 0.0
        forward = _compiled_forward(model)
        for batch in iterator:
            if steps is not None and count >= steps:
                break
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            forward(ops.convert_to_tensor(np.asarray(x, dtype="float32")))
            stats = [ops.convert_to_numpy(v) for norm in norms for v in (norm.moving_mean, norm.moving_variance)]
            sums = stats if sums is None else [a + b for a, b in zip(sums, stats)]
            count += 1
        if count:
            variables = [v for norm in norms for v in (norm.moving_mean, norm.moving_variance)]
            for variable, total in zip(variables, sums):
                variable.assign(total / count)
    finally:
        for norm, trainable, momentum in saved:
            norm.trainable, norm.momentum = trainable, momentum
    return len(norms)


def _compiled_forward(model):
    """`model(x, training=True)`, compiled on TensorFlow (a traced graph instead of one dispatch per op)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda x: model(x, training=True), reduce_retracing=True)
    return lambda x: model(x, training=True)


def finetune_copy(model):
    """The Finetune baseline's starting point: a copy with every layer trainable."""
    copy = clone(as_functional(model), name=f"{model.name}_finetune")
    for layer in copy.layers:
        layer.trainable = True
    return copy


def bn_recalibrated_copy(model, batches, steps=None):
    """The "BN recalibration" baseline: a copy of `model` whose batch-norm
    statistics are re-estimated on `batches` (`recalibrate_batch_norm`), no weight trained."""
    copy = clone(as_functional(model), name=f"{model.name}_bn_recalibrated")
    recalibrate_batch_norm(copy, batches, steps)
    return copy


def stability_model(model, sigma=0.2, alpha=0.01, layers="all"):
    """Stability training (Zheng et al.) of a trainable copy of `model`.

    Returns `(training_model, copy)`: train `training_model` (its loss adds
    α·KL between the predictions for an image and a copy with Gaussian noise
    of std `sigma` on the [0, 1] scale, the paper's σ² = 0.04), evaluate `copy`.

    Args:
        model: the pretrained classifier (left unchanged).
        sigma: std of the Gaussian noise on the [0, 1] scale.
        alpha: weight α of the KL divergence.
        layers: `"all"` trains every layer; `"dense"` only the fully
            connected layers, as the paper's AlexNet Stability model (Sec.
            V-A2), the rest frozen (batch normalization in inference mode).

    Example:

    ```python
    import keras
    from keras_robust.deepcorrect.training import stability_model, trainable_parameters

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    training, evaluated = stability_model(model, layers="dense")
    assert trainable_parameters(evaluated) == 36 * 4 * 2 + 2
    ```
    """
    check_choice("layers", layers, STABILITY_LAYERS)
    copy = finetune_copy(model)
    if layers == "dense":
        for layer in copy.layers:
            layer.trainable = isinstance(layer, keras.layers.Dense)
    inputs = keras.Input(shape=copy.input_shape[1:])
    noisy = keras.layers.Rescaling(1 / 255)(inputs)
    noisy = keras.layers.Rescaling(255.0)(keras.layers.GaussianNoise(sigma)(noisy))
    outputs = StabilityRegularizer(alpha)([copy(inputs), copy(noisy)])
    return keras.Model(inputs, outputs, name=f"{model.name}_stability"), copy
