"""Several devices or machines: a `tf.distribute` strategy from a name, shares of the images, counts summed.

`fit`, `benchmark` and `rank_filters` take the same `distribute` choice: `None` (one device), `"mirrored"` (every
GPU of this machine) or `"multiworker"` (the machines of `TF_CONFIG`), or a `tf.distribute.Strategy`. Errors and
rankings are made of counts (images misclassified, swaps that correct), so each worker counts on its share of the
images and the counts are summed: the numbers are those of one device.

Example:

```python
import numpy as np
from keras_robust import distribution

strategy = distribution.distribution_strategy("mirrored")   # the CPU here: one replica
share = distribution.shard(10, strategy)                    # this worker's images
assert list(share) == list(range(10)) and distribution.sum_over_workers(np.array([3, 4]), strategy).tolist() == [3, 4]
```
"""

import os
import weakref

import numpy as np

DISTRIBUTIONS = ("mirrored", "multiworker")
# One MultiWorkerMirroredStrategy per process: TensorFlow configures its collective ops once, at start-up.
_MULTIWORKER = []
# model -> (strategy, its compiled counting step): traced once per model, not once per call.
_STEPS = weakref.WeakKeyDictionary()


def _check_backend(distribute):
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"distribute={distribute!r} runs on tf.distribute, which needs the TensorFlow backend. Received: the "
            f"{keras.backend.backend()!r} backend; set KERAS_BACKEND=tensorflow, or leave distribute=None "
            "(no --distribute) for one device."
        )


def distribution_strategy(distribute=None):
    """A `tf.distribute.Strategy` from a name.

    Args:
        distribute: None (the default strategy, one device), "mirrored"
            (`MirroredStrategy`: every GPU of this machine, or the CPU),
            "multiworker" (`MultiWorkerMirroredStrategy`: the machines listed
            in the `TF_CONFIG` environment variable; one per process, made
            before TensorFlow runs anything), or a strategy.

    Example:

    ```python
    from keras_robust.distribution import distribution_strategy

    assert distribution_strategy("mirrored").num_replicas_in_sync >= 1
    ```
    """
    import tensorflow as tf

    if distribute is None:
        return tf.distribute.get_strategy()
    if not isinstance(distribute, tf.distribute.Strategy) and distribute not in DISTRIBUTIONS:
        raise ValueError(f"`distribute` must be one of {DISTRIBUTIONS}, a tf.distribute.Strategy or None. "
                         f"Received: distribute={distribute!r}")
    _check_backend(distribute if isinstance(distribute, str) else type(distribute).__name__)
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "distribute='multiworker' needs the TF_CONFIG environment variable describing the cluster "
            '(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
            '"index": 0}}). Received: no TF_CONFIG.'
        )
    if not _MULTIWORKER:
        try:
            _MULTIWORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
        except RuntimeError as error:
            raise ValueError(
                "distribute='multiworker' must be set up before TensorFlow runs anything (a model built or "
                "loaded, a tensor made). Received: a process where it already ran. Call "
                "keras_robust.distribution.distribution_strategy('multiworker') first, then build the model."
            ) from error
    return _MULTIWORKER[0]


def is_chief(cluster_resolver):
    """Whether this task writes the files: always, except on the non-chief workers of a cluster.

    Args:
        cluster_resolver: a strategy's `cluster_resolver` (None: one process).
    """
    cluster = cluster_resolver.cluster_spec().as_dict() if cluster_resolver else {}
    if not cluster:
        return True
    task_type, task_id = cluster_resolver.task_type, cluster_resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in cluster)


def worker(strategy):
    """`(index, count)` of this process among the cluster's workers (`(0, 1)` on one machine).

    Args:
        strategy: a `tf.distribute.Strategy` or None.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver else {}
    chiefs, workers = len(cluster.get("chief", [])), len(cluster.get("worker", []))
    if chiefs + workers < 2:
        return 0, 1
    index = resolver.task_id + (chiefs if resolver.task_type == "worker" else 0)
    return index, chiefs + workers


def shard(count, strategy):
    """The indices of this worker's share of `count` images: one contiguous block per worker, in worker order.

    Args:
        count: the number of images.
        strategy: a `tf.distribute.Strategy` or None.
    """
    index, workers = worker(strategy)
    if count < workers:
        raise ValueError(f"Every worker needs at least one image. Received: {count} image(s) for {workers} workers.")
    return np.array_split(np.arange(count), workers)[index]


def sum_over_workers(counts, strategy):
    """`counts` (integers) summed over the workers of `strategy`'s cluster; every worker gets the sum.

    Args:
        counts: an integer array, this worker's counts.
        strategy: a `tf.distribute.Strategy` or None (returned as is).
    """
    counts = np.asarray(counts, dtype="int64")
    if worker(strategy)[1] == 1:
        return counts
    import tensorflow as tf

    local = iter([counts])  # the first local replica holds the counts, any other replica zeros

    def values(context):
        return tf.constant(next(local, np.zeros_like(counts)))

    per_replica = strategy.experimental_distribute_values_from_function(values)
    return np.asarray(strategy.reduce("SUM", per_replica, axis=None), dtype="int64")


def misclassified(model, images, labels, *, batch_size, strategy):
    """How many of `images` a Keras model misclassifies (argmax), each replica predicting its share of each batch.

    Args:
        model: a Keras model (TensorFlow backend).
        images: array (N, ...) of the model's inputs.
        labels: N integer labels.
        batch_size: the global batch, split across the replicas.
        strategy: a `tf.distribute.Strategy`.

    Returns:
        The count over all N images (every worker gets it).
    """
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise ValueError(f"Under a distribution strategy, models must be Keras models. Received: "
                         f"{type(model).__name__}")
    labels = np.asarray(labels).reshape(-1).astype("int64")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).with_options(options)
    if _STEPS.get(model, (None,))[0] is not strategy:
        def replica(x, y):
            return tf.reduce_sum(tf.cast(tf.argmax(model(x, training=False), axis=-1) != y, tf.int64))

        @tf.function(reduce_retracing=True)
        def step(x, y):
            return strategy.reduce("SUM", strategy.run(replica, (x, y)), axis=None)

        _STEPS[model] = (strategy, step)
    step = _STEPS[model][1]
    return sum(int(step(x, y)) for x, y in strategy.experimental_distribute_dataset(batches))


def classification_error(model, images, labels, batch_size, strategy):
    """Error in % of `model`, its predictions shared out by `strategy` (`misclassified`).

    Args:
        model, images, labels, batch_size, strategy: as `misclassified`.
    """
    count = len(np.asarray(labels).reshape(-1))
    if len(images) != count or count == 0:
        raise ValueError("images and labels must be non-empty and of equal length. Received: "
                         f"{len(images)} images and {count} labels.")
    return 100.0 * (misclassified(model, images, labels, batch_size=batch_size, strategy=strategy) / count)
