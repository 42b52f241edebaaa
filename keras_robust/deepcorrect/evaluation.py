"""Top-1 accuracy over distortion levels, as DeepCorrect reports it."""

import keras
import numpy as np

from keras_robust.metrics import accuracy
from keras_robust.deepcorrect.distortions import distort_levels, resolve
from keras_robust.validation import check_int


def distorted_sets(images, distortion, levels=None, seed=0):
    """`{level: images}` with the clean images under level 0."""
    levels = tuple(levels or resolve(distortion).levels)
    sets = distort_levels(images, distortion, levels, seed=seed)
    return {0.0: np.asarray(images, dtype="float32"), **dict(zip(levels, sets))}


def top1_over_levels(model, sets, labels, batch_size=256):
    """Top-1 accuracy per level and their mean (clean images included, as in Table II)."""
    per_level = {level: accuracy(model, images, labels, batch_size=batch_size) for level, images in sets.items()}
    return float(np.mean(list(per_level.values()))), per_level


class AccuracyCurve(keras.callbacks.Callback):
    """Records top-1 over levels every `every` training steps (DeepCorrect Fig. 8).

    Args:
        sets: `{level: images}` as `distorted_sets` returns.
        labels: integer labels of the images.
        every: training steps between two measurements (also at step 0).
        batch_size: images per forward pass.

    Attributes:
        points: list of `(step, mean top-1 over the levels)`.

    Example:

    ```python
    import keras
    import numpy as np
    from keras_robust.deepcorrect.evaluation import AccuracyCurve

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.ones((8, 4), "float32"), np.arange(8) % 2
    curve = AccuracyCurve({0.0: x}, y, every=2)
    model.fit(x, y, batch_size=2, epochs=1, callbacks=[curve], verbose=0)
    assert [step for step, _ in curve.points] == [0, 2, 4]
    ```
    """

    def __init__(self, sets, labels, every, batch_size=256):
        super().__init__()
        every = check_int("every", every, minimum=1)
        self.sets, self.labels, self.every, self.batch_size = sets, labels, every, batch_size
        self.points = []

    def _measure(self, step):
        self.points.append((step, top1_over_levels(self.model, self.sets, self.labels, self.batch_size)[0]))

    def on_train_begin(self, logs=None):
        if not self.points:
            self._measure(0)

    def on_train_batch_end(self, batch, logs=None):
        # The optimizer's step count: right across the calls of a resumed training.
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if step % self.every == 0 and (not self.points or self.points[-1][0] < step):
            self._measure(step)

    def get_state(self):
        """The points so far (what a resumed training needs)."""
        return [list(point) for point in self.points]

    def set_state(self, state):
        self.points = [(int(step), float(top1)) for step, top1 in state]
