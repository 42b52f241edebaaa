"""Correction priority of convolutional filters (Algorithm 1 of DeepCorrect)."""

import json
import os
from dataclasses import dataclass, field

import keras
import numpy as np

from keras_robust.deepcorrect.graph import as_functional, correction_point, cut, rebuild


@dataclass
class FilterRanking:
    """Correction priorities τ(i, j) = p_swp(i, j) - p_b of chosen layers.

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

    def to_json(self):
        return {
            "baseline": float(self.baseline),
            "scores": {k: [float(v) for v in s] for k, s in self.scores.items()},
            "points": dict(self.points),
            "orders": {k: [int(i) for i in o] for k, o in self.orders.items()},
        }

    def save(self, path):
        """Writes the ranking to a JSON file (atomically)."""
        path = os.fspath(path)
        temporary = f"{path}.tmp{os.getpid()}"
        with open(temporary, "w") as file:
            json.dump(self.to_json(), file, indent=1)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path):
        """Reads a ranking written by `save`."""
        with open(path) as file:
            data = json.load(file)
        if not isinstance(data, dict) or not {"baseline", "scores"} <= set(data):
            raise ValueError(
                f"{path} is not a filter ranking: expected a JSON object with "
                f"'baseline' and 'scores'. Received keys: {list(data)[:5] if isinstance(data, dict) else type(data).__name__}"
            )
        scores = {k: np.asarray(v, dtype="float64") for k, v in data["scores"].items()}
        return cls(float(data["baseline"]), scores, dict(data.get("points", {})))


def _triplets(clean, distorted, labels):
    """Clean images repeated once per distorted set, all distorted sets, labels."""
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
    return np.concatenate([clean] * len(sets)), np.concatenate(sets), np.tile(labels, len(sets))


def _layers(model, layers):
    if isinstance(layers, str):
        layers = [layers]
    if layers is None:
        layers = [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    return list(layers)


def _accuracy(model, images, labels, batch_size):
    predictions = model.predict(images, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == labels))


def _swapped(distorted_point, clean_point, filters):
    """Copies of the distorted activations, channel `filters[i]` clean in copy i."""
    copies = np.repeat(distorted_point[None], len(filters), axis=0)
    for i, j in enumerate(filters):
        copies[i, ..., j] = clean_point[..., j]
    return copies.reshape((-1,) + distorted_point.shape[1:])


def _rank(model, layers, clean, distorted, labels, batch_size, correct_counts):
    """τ = p_swp - p_b per filter, from `correct_counts(model, point, ...)`."""
    model = as_functional(model)
    clean, distorted, labels = _triplets(clean, distorted, labels)
    baseline = _accuracy(model, distorted, labels, batch_size)
    scores, points = {}, {}
    for name in _layers(model, layers):
        points[name] = correction_point(model, name)
        correct = correct_counts(model, points[name], clean, distorted, labels)
        scores[name] = correct / len(labels) - baseline
    return FilterRanking(baseline, scores, points)


def _run(model, inputs):
    """A compiled forward pass; always a list of numpy outputs."""
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    outputs = model.predict_on_batch(inputs)
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def rank_filters(model, layers, clean, distorted, labels, *, filter_batch=16, batch_size=64):
    """Correction priority τ of every filter of `layers` (Algorithm 1).

    For each layer the clean and distorted activations up to it (and every
    other tensor the rest of the graph needs) are computed once; the rest of
    the network then runs on `filter_batch` swapped copies at a time.

    Args:
        model: a functional or Sequential classifier (argmax of its output).
        layers: names of the layers to rank (`None`: every `Conv2D`).
        clean: clean images, as the model takes them.
        distorted: distorted versions of `clean`, or a list of such arrays
            (several distortions or levels); τ is averaged over all of them.
        labels: integer labels of `clean`.
        filter_batch: filters whose swapped copies run in one batch.
        batch_size: images per chunk (the tail sees `filter_batch` times more).

    Returns:
        A `FilterRanking`.
    """
    def correct_counts(model, point, clean, distorted, labels):
        point_tensor, cut_tensors = cut(model, point)
        where = [t is point_tensor for t in cut_tensors].index(True)
        head = keras.Model(model.inputs, cut_tensors)
        tail = keras.Model(cut_tensors, model.outputs)
        width = point_tensor.shape[-1]
        correct = np.zeros(width, dtype="int64")
        for start in range(0, len(labels), batch_size):
            chunk = slice(start, start + batch_size)
            clean_point = _run(head, clean[chunk])[where]
            distorted_cut = _run(head, distorted[chunk])
            for first in range(0, width, filter_batch):
                filters = list(range(first, min(first + filter_batch, width)))
                feed = [np.concatenate([v] * len(filters)) for v in distorted_cut]
                feed[where] = _swapped(distorted_cut[where], clean_point, filters)
                predicted = np.argmax(_run(tail, feed)[0], axis=-1)
                hits = predicted.reshape(len(filters), -1) == labels[chunk]
                correct[filters] += hits.sum(axis=1)
        return correct

    return _rank(model, layers, clean, distorted, labels, batch_size, correct_counts)


def naive_rank_filters(model, layers, clean, distorted, labels, *, batch_size=256):
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

    return _rank(model, layers, clean, distorted, labels, batch_size, correct_counts)
