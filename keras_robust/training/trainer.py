"""Train a model with a recipe: per-epoch checkpoint, exact resume, CSV log, best and last `.keras` files."""

import dataclasses
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_robust import graph
from keras_robust.distribution import DISTRIBUTIONS, distribution_strategy, is_chief  # noqa: F401 - public here too
from keras_robust.progress import keras_verbose
from keras_robust import checkpoint
from keras_robust.training.pipeline import evaluation_dataset, steps_per_epoch, training_dataset
from keras_robust.training.training_result import TrainingResult
from keras_robust.validation import check_dataset, check_number


def _multi_worker_workarounds(model, strategy):
    """Work around keras-team/keras#20585 (tensorflow/tensorflow#72388) for two or more workers.

    Keras 3.15 fails twice under `MultiWorkerMirroredStrategy` with more than
    one worker: (1) it builds the model before `fit` by passing the first
    distributed batch (a tuple of `PerReplica` values) to `strategy.reduce`,
    which takes single values only ("Attempt to convert a value (PerReplica...)
    to a Tensor"): the build needs shapes only, so it is done here on the first
    local replica's batch; (2) it reduces the scalar logs (loss, metrics) with
    `strategy.reduce("MEAN", value, axis=0)` ("Invalid reduction dimension 0
    for input with 0 dimensions"): each step returns its logs with a leading
    axis of length 1, which that reduction averages over the workers.
    Gradients are summed over all workers by the optimizer, as before.
    """
    cluster = strategy.cluster_resolver.cluster_spec().as_dict() if strategy.cluster_resolver else {}
    if len(cluster.get("chief", [])) + len(cluster.get("worker", [])) < 2:
        return
    for step in ("train_step", "test_step"):
        def with_axis(data, step=getattr(model, step)):
            return keras.tree.map_structure(lambda value: tf.reshape(value, [1]), step(data))

        setattr(model, step, with_axis)

    def build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda x: strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues) else x, next(batches))
                break
        with strategy.scope():
            graph.symbolic_build(model, data_batch)

    graph.replace_fit_build(model, build)


class EpochCheckpoint(keras.callbacks.Callback):
    """At each epoch end: the CSV log row, `last.keras`, `best.keras`, then the checkpoint."""

    def __init__(self, directory, recipe, *, config, monitor, best, rows, write):
        super().__init__()
        self.directory = Path(directory)
        self.recipe = recipe
        self.config = config
        self.monitor = monitor
        self.best = best
        self.rows = rows
        self.write = write
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        score = float(logs.get(self.monitor, np.nan))
        improved = score > self.best
        if improved:
            self.best = score
        if not self.write:
            return
        row = {"epoch": epoch, "learning_rate": self.recipe.learning_rate_at(epoch)}
        row.update({k: float(v) for k, v in sorted(logs.items()) if k != "learning_rate"})
        row["seconds"] = round(time.perf_counter() - self._started, 3)
        self.rows.append(row)
        checkpoint.write_log(self.directory, self.rows)
        checkpoint.atomic_write(self.directory / "last.keras", self.model.save)
        if improved:
            checkpoint.atomic_write(self.directory / "best.keras", self.model.save)
        # Written last: a run killed before this line redoes the epoch, identically, and rewrites the rest.
        checkpoint.save_state(
            self.directory, self.model, self.model.optimizer, epoch=epoch + 1, best=self.best, config=self.config
        )


def fit(
    model_fn,
    train,
    recipe,
    output_dir,
    *,
    validation=None,
    epochs=None,
    seed=None,
    distribute=None,
    from_logits=False,
    callbacks=(),
    verbose="auto",
    overwrite=False,
):
    """Train the model of `model_fn` with `recipe`, resuming from `output_dir` when it holds a checkpoint.

    Every epoch writes into `output_dir`: `checkpoint.npz` (model and
    optimizer variables, next epoch, best score; what a resume needs),
    `last.keras`, `best.keras` (best validation accuracy, or training accuracy
    without validation data) and a row of `log.csv`; a new run writes its
    `checkpoint.npz` of epoch 0 first, so its folder is never one of run files
    without a checkpoint. Killed at any moment, a
    run loses at most the epoch in progress: calling `fit` again with the
    same arguments continues from the last finished epoch with the same
    weights, optimizer state and data order as the uninterrupted run. Every
    file is written to a temporary name and then renamed.

    Args:
        model_fn: callable returning a new Keras model (called inside the
            distribution strategy's scope); it takes raw pixels.
        train: (images, labels) arrays; images (N, H, W, C) raw pixels.
        recipe: a `Recipe`.
        output_dir: folder of the run's files (created when missing).
        validation: optional (images, labels) evaluated after each epoch.
        epochs: shorten (or extend) the recipe to this many epochs,
            milestones scaled (`Recipe.shortened`).
        seed: seed of the initial weights, data order and augmentation; with
            a seed, two runs on the CPU give the same weights. Without one, a
            random seed is drawn and saved so that a resume keeps it.
        distribute: None, "mirrored", "multiworker" or a
            `tf.distribute.Strategy` (see `distribution_strategy`).
        from_logits: whether the model outputs logits rather than
            probabilities.
        callbacks: extra Keras callbacks.
        verbose: as `keras_robust.progress.check_verbose`: `True` a bar on a
            terminal and a line per epoch elsewhere, `1` a bar, `2` lines,
            `False`/`0` nothing, `"auto"` Keras's choice.
        overwrite: start over in an `output_dir` that holds a run's files
            (`log.csv`, `last.keras`, `best.keras`) without a checkpoint of
            this package to resume from; without it such a folder is refused,
            as those files are not this run's to replace.

    Returns:
        A `TrainingResult`: `.model` (the trained model), `.history` (a
        dict per epoch, the rows of `log.csv`, the epochs of earlier,
        interrupted calls included), `.recipe`, `.output_dir`.
    """
    if epochs is not None and epochs != recipe.epochs:
        recipe = recipe.shortened(epochs)
    check_number("learning_rate", recipe.learning_rate, minimum=0, exclusive_minimum=True)
    images, labels = train
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    state = None if overwrite else checkpoint.load_state(output_dir)
    foreign = [name for name in checkpoint.RUN_FILES if (output_dir / name).exists()]
    if state is None and foreign and not overwrite:
        raise ValueError(
            f"{output_dir} already holds {', '.join(foreign)} but no checkpoint of a run to resume: they are not "
            "this run's to replace. Train into another output folder, or pass overwrite=True (--overwrite) to "
            "start over there."
        )
    if seed is None:
        seed = state["config"]["seed"] if state else int(np.random.SeedSequence().entropy % 2**31)
    start_epoch = state["epoch"] if state else 0
    keras.utils.set_random_seed(seed)

    strategy = distribution_strategy(distribute)
    steps = steps_per_epoch(len(images), recipe.batch_size)
    with strategy.scope():
        model = model_fn()
        classes = int(model.output_shape[-1])
        images, labels = check_dataset(images, labels, classes, training=True, name="the training data")
        if validation is not None:
            validation = check_dataset(*validation, classes, name="the validation data")
        config = {"model": model.name, "recipe": dataclasses.asdict(recipe), "seed": int(seed), "num_train": len(images)}
        config = json.loads(json.dumps(config))  # tuples become lists, as in the saved copy
        if state and state["config"] != config:
            raise ValueError(
                f"{output_dir} holds the checkpoint of another run ({json.dumps(state['config'], sort_keys=True)}); "
                f"this run is {json.dumps(config, sort_keys=True)}. Use another output folder or delete it."
            )
        model.compile(
            optimizer=recipe.optimizer(steps),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
            metrics=["accuracy"],
        )
        if state:
            model.optimizer.build(model.trainable_variables)
            checkpoint.restore_variables(model.variables, state["model"], "model")
            checkpoint.restore_variables(model.optimizer.variables, state["optimizer"], "optimizer")
        else:
            # the run's checkpoint before its first epoch: a run killed while writing the first epoch's files is
            # this run's to resume (from epoch 0), never a folder of run files without a checkpoint
            model.optimizer.build(model.trainable_variables)  # on every worker: variables are created together
            if is_chief(strategy.cluster_resolver):
                checkpoint.save_state(output_dir, model, model.optimizer, epoch=0, best=-np.inf, config=config)

    rows = [row for row in checkpoint.read_log(output_dir) if row["epoch"] < start_epoch] if state else []
    monitor = "val_accuracy" if validation is not None else "accuracy"
    saver = EpochCheckpoint(
        output_dir, recipe, config=config, monitor=monitor, best=state["best"] if state else -np.inf,
        rows=rows, write=is_chief(strategy.cluster_resolver),
    )
    _multi_worker_workarounds(model, strategy)
    if start_epoch < recipe.epochs:
        dataset = training_dataset(
            images, labels, recipe.batch_size, epochs=recipe.epochs, seed=seed, start_epoch=start_epoch,
            augment=recipe.augment,
        )
        validation_data = None if validation is None else evaluation_dataset(*validation, batch_size=256)
        model.fit(
            dataset, epochs=recipe.epochs, initial_epoch=start_epoch, steps_per_epoch=steps,
            validation_data=validation_data, callbacks=[saver, *callbacks], verbose=keras_verbose(verbose), shuffle=False,
        )
    return TrainingResult(model, recipe, saver.rows, output_dir)
