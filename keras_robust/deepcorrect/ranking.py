"""Correction priority of convolutional filters (Algorithm 1 of DeepCorrect)."""

import math
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from keras_robust.deepcorrect.graph import correction_point
from keras_robust.graph import (
    as_functional, cut, fold_batch_normalization, has_activation, ordered_nodes, rebuild,
)
from keras_robust.distribution import distribution_strategy, shard, sum_over_workers
from keras_robust.metrics import predicted_classes
from keras_robust.results import Result, csv_text, markdown_table
from keras_robust.validation import check_choice


@dataclass
class FilterRanking(Result):
    """Correction priorities τ(i, j) = p_swp(i, j) - p_b of chosen layers.

    A `keras_robust.results.Result`: `save(path, overwrite=False)` writes a
    `.json` file (or `.csv`, `.md`), `FilterRanking.load(path)` reads it.

    Attributes:
        baseline: p_b, top-1 accuracy on the distorted images.
        scores: layer name -> float array of τ, one per filter (channel).
        points: layer name -> name of the layer whose output was swapped
            (the layer itself, or the batch normalization right after it).
    """

    baseline: float
    scores: dict
    points: dict = field(default_factory=dict)

    def order(self, layer):
        """Filter indices of `layer`, most susceptible (highest τ) first."""
        if layer not in self.scores:
            raise KeyError(f"No ranking for layer {layer!r}. Ranked: {list(self.scores)}")
        return np.argsort(-np.asarray(self.scores[layer]), kind="stable")

    @property
    def orders(self):
        return {name: self.order(name) for name in self.scores}

    def to_dict(self):
        """Baseline, scores, swap points and orders, as plain JSON types."""
        return {
            "baseline": float(self.baseline),
            "scores": {k: [float(v) for v in s] for k, s in self.scores.items()},
            "points": dict(self.points),
            "orders": {k: [int(i) for i in o] for k, o in self.orders.items()},
        }

    def to_markdown(self):
        """One row per layer: where it is corrected, its filters, the five most susceptible and the top τ."""
        rows = [[name, self.points.get(name, name), len(scores), " ".join(map(str, self.order(name)[:5])),
                 f"{float(np.max(scores)):.4f}"] for name, scores in self.scores.items()]
        header = ["layer", "corrected after", "filters", "most susceptible", "max τ"]
        return f"Distorted top-1 accuracy p_b: {self.baseline:.4f}\n\n" + markdown_table(header, rows) + "\n"

    def to_csv(self):
        """One row per filter: layer, filter index, τ and its rank in the layer (0: corrected first)."""
        rows = [[name, int(index), f"{float(self.scores[name][index]):.6g}", rank]
                for name in self.scores for rank, index in enumerate(self.order(name))]
        return csv_text(["layer", "filter", "score", "rank"], rows)

    @classmethod
    def from_dict(cls, data):
        """The ranking back from `to_dict()`'s output (as read from a JSON file)."""
        if not isinstance(data, dict) or not {"baseline", "scores"} <= set(data):
            raise ValueError(
                "Not a filter ranking: expected a JSON object with 'baseline' and 'scores'. Received keys: "
                f"{list(data)[:5] if isinstance(data, dict) else type(data).__name__}"
            )
        scores, baseline = data["scores"], data["baseline"]
        if not isinstance(scores, dict) or not all(isinstance(v, list) and v and all(map(_is_finite, v))
                                                   for v in scores.values()):
            raise ValueError("Not a filter ranking: 'scores' must map layer names to lists of numbers (finite, one "
                             "per filter). Received: "
                             f"{type(scores).__name__ if not isinstance(scores, dict) else 'other values'}")
        if not _is_finite(baseline):
            raise ValueError(f"Not a filter ranking: 'baseline' must be a number (finite). Received: {baseline!r}")
        points = data.get("points", {})
        if not isinstance(points, dict):
            raise ValueError(f"Not a filter ranking: 'points' must be an object. Received: {type(points).__name__}")
        return cls(float(baseline), {k: np.asarray(v, dtype="float64") for k, v in scores.items()}, dict(points))


def _is_finite(value):
    """A JSON number that is neither NaN nor infinite (Python's JSON reads NaN, Infinity and 1e400)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _triplets(clean, distorted, labels, rows=slice(None)):
    """Clean images repeated once per distorted set, all distorted sets, labels: of the images `rows` only."""
    clean = np.asarray(clean)
    labels = np.asarray(labels).reshape(-1)
    sets = distorted if isinstance(distorted, (list, tuple)) else [distorted]
    sets = [np.asarray(d) for d in sets]
    if len(labels) != len(clean) or any(d.shape != clean.shape for d in sets):
        raise ValueError(
            "Distorted image sets must each have the clean images' shape and "
            f"labels one per image. Received: clean {clean.shape}, distorted "
            f"{[d.shape for d in sets]}, labels {labels.shape}"
        )
    clean, labels = clean[rows], labels[rows]
    return np.concatenate([clean] * len(sets)), np.concatenate([d[rows] for d in sets]), np.tile(labels, len(sets))


def _layers(model, layers):
    if isinstance(layers, str):
        layers = [layers]
    if layers is None:
        layers = [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    return list(layers)


SCORES = ("accuracy_gain", "relative_error")


def _rank(model, layers, clean, distorted, labels, batch_size, correct_counts, score="accuracy_gain", strategy=None):
    """Scores per filter from `correct_counts(model, point, ...)` (see `rank_filters`).

    Under a `strategy` of several workers, each counts on its share of the
    images (`keras_robust.distribution.shard`) and the counts are summed.
    """
    check_choice("score", score, SCORES)
    model = as_functional(model)
    count = len(np.asarray(labels).reshape(-1))
    share = shard(count, strategy)
    clean, distorted, labels = _triplets(clean, distorted, labels, share)

    def total(counts):
        return sum_over_workers(counts, strategy)

    sets = [slice(start, start + len(share)) for start in range(0, len(labels), len(share))]
    hits = total([np.sum(predicted_classes(model, distorted[s], batch_size=batch_size) == labels[s]) for s in sets])
    baseline = float(np.sum(hits) / (count * len(sets)))
    # The authors' reference error of each distorted set, at least one image's worth.
    reference = [max(1.0 - h / count, 1.0 / count) for h in hits]
    scores, points = {}, {}
    for name in _layers(model, layers):
        points[name] = correction_point(model, name)
        if score == "accuracy_gain":
            correct = total(correct_counts(model, points[name], clean, distorted, labels))
            scores[name] = correct / (count * len(sets)) - baseline
            continue
        scores[name] = sum(
            np.abs((1.0 - total(correct_counts(model, points[name], clean[g], distorted[g], labels[g])) / count)
                   - error) / error for g, error in zip(sets, reference)
        )
    return FilterRanking(baseline, scores, points)


def _run(model, inputs):
    """A compiled forward pass; always a list of numpy outputs."""
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    outputs = model.predict_on_batch(inputs)
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def _equal_batches(total, size):
    """Batches of indices of one length, at most `size` (one traced shape).

    Yields `(indices, used)`: the last batch repeats its own indices to
    fill up; only the first `used` count.
    """
    size = -(-total // -(-total // size))
    for start in range(0, total, size):
        indices = np.arange(start, min(start + size, total))
        yield np.resize(indices, size), len(indices)


def _channelwise(node):
    """Whether channel j of the node's output depends on channel j of its inputs only."""
    op = node.operation
    if isinstance(op, keras.layers.BatchNormalization):
        return op.axis in (-1, len(node.input_tensors[0].shape) - 1)
    local = (keras.layers.Add, keras.layers.ReLU, keras.layers.ZeroPadding2D, keras.layers.MaxPooling2D)
    return isinstance(op, local) and getattr(op, "data_format", "channels_last") == "channels_last"


def _linear_conv(op):
    return (type(op) is keras.layers.Conv2D and op.groups == 1
            and op.data_format == "channels_last" and not has_activation(op))


def _plan(model, point_tensor):
    """What a swap of one channel of `point_tensor` changes in the rest of the graph.

    Returns `(tail_inputs, kinds, conv_inputs)`: the inputs of the nodes
    that must run on every swapped copy, and for each its kind: `None` (not
    changed by the swap), `"front"` (a channel-wise function of the point,
    changed in the swapped channel only) or the linear `Conv2D` computing it
    from a front tensor (changed by the convolution of that channel alone),
    with `conv_inputs` the inputs of those convolutions.
    """
    changed, front, convs, rest = {id(point_tensor)}, {id(point_tensor)}, {}, []
    for node in ordered_nodes(model):
        inputs = [id(t) for t in node.input_tensors]
        if not any(i in changed for i in inputs):
            continue
        outputs = [id(t) for t in node.outputs]
        changed.update(outputs)
        if _channelwise(node) and all(i in front for i in inputs if i in changed):
            front.update(outputs)
        elif _linear_conv(node.operation) and inputs[0] in front:
            convs[outputs[0]] = node
        else:
            rest.append(node)
    made = {id(t) for node in rest for t in node.outputs}
    tail_inputs = {id(t): t for node in rest for t in node.input_tensors if id(t) not in made}
    tail_inputs.update({id(t): t for t in model.outputs if id(t) not in made})
    kinds = ["front" if i in front else convs[i].operation if i in convs else None for i in tail_inputs]
    conv_inputs = [convs[i].input_tensors[0] for i in tail_inputs if i in convs]
    return list(tail_inputs.values()), kinds, conv_inputs


class _SwappedTail(keras.Model):
    """The rest of the graph on copies of a batch, copy i with channel `filters[i]` swapped.

    Called on `[filters, *distorted, *changes]`: the rest's inputs for the
    distorted images, then one array per input whose kind is not `None`
    (see `_plan`): its value with the whole point taken from the clean
    images (`"front"`), or the change of the convolution's input.
    """

    def __init__(self, tail, kinds):
        super().__init__(name="swapped_tail")
        self.tail, self.kinds = tail, kinds

    def call(self, inputs):
        filters, distorted = inputs[0], inputs[1:len(self.kinds) + 1]
        changes = iter(inputs[len(self.kinds) + 1:])
        copies = ops.shape(filters)[0]
        feed = []
        for kind, value in zip(self.kinds, distorted):
            if kind is None:
                stacked = ops.repeat(value[None], copies, axis=0)
            elif kind == "front":
                swap = ops.one_hot(filters, value.shape[-1]) > 0
                swap = ops.reshape(swap, (-1,) + (1,) * (len(value.shape) - 1) + (value.shape[-1],))
                stacked = ops.where(swap, next(changes)[None], value[None])
            else:  # conv(x + change of channel j) = conv(x) + conv of that channel's change
                delta = ops.depthwise_conv(
                    ops.take(next(changes), filters, axis=-1), ops.take(kind.kernel, filters, axis=2),
                    kind.strides, kind.padding, dilation_rate=kind.dilation_rate,
                )
                delta = ops.reshape(delta, (-1,) + tuple(delta.shape[1:3]) + (copies, kind.filters))
                stacked = value[None] + ops.transpose(delta, (3, 0, 1, 2, 4))
            feed.append(ops.reshape(stacked, (-1,) + tuple(value.shape[1:])))
        return self.tail(feed)


def rank_filters(model, layers, clean, distorted, labels, *, filter_batch=16, batch_size=128,
                 score="accuracy_gain", distribute=None):
    """Correction priority τ of every filter of `layers` (Algorithm 1).

    For each layer and batch of images, the activations up to it (and every
    other tensor the rest of the graph needs) are computed once for the
    clean and the distorted images; the rest of the network then runs on
    `filter_batch` swapped copies at a time. Channel-wise layers right
    after the swap (batch normalization, ReLU, additions, padding, max
    pooling) change only the swapped channel, so they run once, on the
    clean activations; a linear convolution that takes them adds the
    convolution of that one channel's change to its output. Every
    convolution followed by batch normalization runs as one convolution
    with the normalization folded in (`fold_batch_normalization`), which
    changes the logits only by float32 round-off.

    Args:
        model: a functional or Sequential classifier (argmax of its output).
        layers: names of the layers to rank (`None`: every `Conv2D`).
        clean: clean images, as the model takes them.
        distorted: distorted versions of `clean`, or a list of such arrays
            (several distortions or levels); τ is averaged over all of them.
        labels: integer labels of `clean`.
        filter_batch: filters whose swapped copies run in one batch.
        batch_size: images per chunk (the rest of the network sees
            `filter_batch` times more).
        score: `"accuracy_gain"`, the paper's Eq. 1: τ = p_swp - p_b, the
            top-1 gained by swapping the filter's output, on all distorted
            images together; or `"relative_error"`, the authors' code: for
            each distorted set (level) the change of top-1 error by the swap
            relative to the set's error, |e_swp - e_b| / e_b, summed over the
            sets. The second weighs every level alike (a gain at a mild
            level, where the error is small, counts more) and counts a swap
            that hurts as much as one that helps. `baseline` is p_b either way.
        distribute: None (one process), "mirrored", "multiworker" or a
            `tf.distribute.Strategy` (`keras_robust.distribution`): each
            worker of the cluster ranks on its share of the images and the
            counts are summed, giving the ranking of one process. Run the
            same call on every worker; with "multiworker", make the strategy
            (`distribution_strategy("multiworker")`) before the model.

    Returns:
        A `FilterRanking`.

    Example:

    ```python
    import numpy as np
    from keras_robust.deepcorrect import rank_filters
    from keras_robust.models import resolve_model

    model = resolve_model("ResNet20")
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    ranking = rank_filters(model, "conv1", images, images[:, ::-1], np.zeros(8, "int64"))
    print(ranking.order("conv1")[:5])
    ```
    """
    strategy = None if distribute is None else distribution_strategy(distribute)
    folded, renamed = fold_batch_normalization(as_functional(model))

    def correct_counts(_, point, clean, distorted, labels):
        model = folded
        point_tensor, cut_tensors = cut(model, renamed.get(point, point))
        tail_inputs, kinds, conv_inputs = _plan(model, point_tensor)
        cut_ids = [id(t) for t in cut_tensors]
        wanted = list({id(t): t for t in tail_inputs + conv_inputs if id(t) not in cut_ids}.values())
        head = keras.Model(model.inputs, cut_tensors)
        middle = keras.Model(cut_tensors, wanted) if wanted else None
        tail = _SwappedTail(keras.Model(tail_inputs, model.outputs), kinds)
        width = point_tensor.shape[-1]
        correct = np.zeros(width, dtype="int64")
        for rows, count in _equal_batches(len(labels), batch_size):
            # first half: the distorted images; second half: the same with the clean point
            values = _run(head, np.concatenate([distorted[rows], clean[rows]]))
            values = {i: np.concatenate([v[:len(rows)], v[len(rows):] if i == id(point_tensor) else v[:len(rows)]])
                      for i, v in zip(cut_ids, values)}
            if wanted:
                values.update(zip(map(id, wanted), _run(middle, [values[i] for i in cut_ids])))
            base = [values[id(t)][:len(rows)] for t in tail_inputs]
            inputs_of_convs = iter(conv_inputs)
            changes = []
            for tensor, kind in zip(tail_inputs, kinds):
                if kind == "front":
                    changes.append(values[id(tensor)][len(rows):])
                elif kind is not None:
                    both = values[id(next(inputs_of_convs))]
                    changes.append(both[len(rows):] - both[:len(rows)])
            for filters, used in _equal_batches(width, filter_batch):
                predicted = np.argmax(_run(tail, [filters] + base + changes)[0], axis=-1)
                hits = predicted.reshape(len(filters), -1)[:used, :count] == labels[rows[:count]]
                correct[filters[:used]] += hits.sum(axis=1)
        return correct

    return _rank(model, layers, clean, distorted, labels, batch_size, correct_counts, score, strategy)


def naive_rank_filters(model, layers, clean, distorted, labels, *, batch_size=256, score="accuracy_gain"):
    """Algorithm 1 as written: the whole network runs once per filter.

    The reference for `rank_filters` (same arguments, same result).
    """
    def correct_counts(model, point, clean, distorted, labels):
        point_layer = model.get_layer(point)
        width = point_layer.output.shape[-1]
        clean_points = keras.Model(model.inputs, point_layer.output).predict(
            clean, batch_size=batch_size, verbose=0
        )
        images = [keras.Input(shape=t.shape[1:], dtype=t.dtype) for t in model.inputs]
        clean_input = keras.Input(shape=clean_points.shape[1:])
        mask = keras.Input(shape=(width,))

        def swap(output):
            keep_clean = keras.ops.reshape(mask, (-1, 1, 1, width)) > 0.5
            return keras.ops.where(keep_clean, clean_input, output)

        swapping = keras.Model(
            images + [clean_input, mask], rebuild(model, images, after={point: swap})
        )
        correct = np.zeros(width, dtype="int64")
        for j in range(width):
            masks = np.zeros((len(labels), width), dtype="float32")
            masks[:, j] = 1
            predictions = swapping.predict(
                [distorted, clean_points, masks], batch_size=batch_size, verbose=0
            )
            correct[j] = np.sum(np.argmax(predictions, axis=-1) == labels)
        return correct

    return _rank(model, layers, clean, distorted, labels, batch_size, correct_counts, score)
