"""Training with the papers' recipes: `fit` (a `TrainingResult`), `RECIPES`, the tf.data pipeline and `SGDWithL2`."""

from keras_robust.training.pipeline import augment_batch, evaluation_dataset, steps_per_epoch, training_dataset
from keras_robust.training.recipes import RECIPES, Recipe, recipe_for
from keras_robust.optimizers import SGDWithL2
from keras_robust.training.trainer import DISTRIBUTIONS, distribution_strategy, fit
from keras_robust.training.training_result import TrainingResult

__all__ = [
    "DISTRIBUTIONS",
    "RECIPES",
    "Recipe",
    "SGDWithL2",
    "TrainingResult",
    "augment_batch",
    "distribution_strategy",
    "evaluation_dataset",
    "fit",
    "recipe_for",
    "steps_per_epoch",
    "training_dataset",
]
