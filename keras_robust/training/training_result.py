"""`TrainingResult`: what `fit` returns, a `Result` like the benchmark's and the ranking's."""

import dataclasses

from keras_robust.results import Result, csv_text, markdown_table
from keras_robust.training.recipes import Recipe

class TrainingResult(Result):
    """A training run: the trained model, the recipe and the per-epoch history.

    Args:
        model: the trained `keras.Model` (not saved by `save`: the run's
            folder holds it as `last.keras` and `best.keras`).
        recipe: the `Recipe` it was trained with (as shortened by `epochs=`).
        history: one dict per epoch, the rows of the run's `log.csv`, the
            epochs of earlier, interrupted calls included.
        output_dir: the run's folder.

    Example:

    >>> from keras_robust.training import RECIPES, TrainingResult
    >>> run = TrainingResult(None, RECIPES["lenet"].shortened(2), [{"epoch": 0, "accuracy": 0.5}], "runs/x")
    >>> run.last["accuracy"], run.epochs
    (0.5, 1)
    """

    def __init__(self, model, recipe, history, output_dir):
        self.model = model
        self.recipe = recipe
        self.history = [dict(row) for row in history]
        self.output_dir = str(output_dir)

    @property
    def epochs(self):
        """Epochs trained, interrupted calls included."""
        return len(self.history)

    @property
    def last(self):
        """The last epoch's row (empty before any epoch)."""
        return self.history[-1] if self.history else {}

    def to_dict(self):
        return {"recipe": dataclasses.asdict(self.recipe), "output_dir": self.output_dir, "history": self.history}

    @classmethod
    def from_dict(cls, data):
        recipe = data["recipe"]
        recipe = Recipe(**{k: tuple(v) if isinstance(v, list) else v for k, v in recipe.items()})
        return cls(None, recipe, data["history"], data["output_dir"])

    def _rows(self):
        columns = list(self.history[0]) if self.history else []  # log.csv's columns, as `checkpoint.write_log`
        return columns, [[row.get(c, "") for c in columns] for row in self.history]

    def to_markdown(self):
        columns, rows = self._rows()
        shown = [[f"{v:.4f}" if isinstance(v, float) else v for v in row] for row in rows]
        return (f"Recipe `{self.recipe.name}`, {self.epochs} of {self.recipe.epochs} epochs, files in "
                f"`{self.output_dir}`.\n\n" + markdown_table(columns, shown))

    def to_csv(self):
        return csv_text(*self._rows())
