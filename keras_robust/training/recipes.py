"""The training recipes of the push-pull paper (Strisciuglio et al., 2020, sections 4.1.1 and 4.2.2)."""

import dataclasses
import math

import keras

from keras_robust.optimizers import SGDWithL2
from keras_robust.validation import check_choice, check_int


DECAYS = ("step", "cosine")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """SGD with Nesterov momentum, coupled L2 weight decay and a step or cosine learning rate.

    `decay="step"` (the papers'): the learning rate starts at `learning_rate`
    and is multiplied by `gamma` at each epoch in `milestones`.
    `decay="cosine"`: it rises linearly from 0 to `learning_rate` over
    `warmup_epochs`, then follows a half cosine down to 0 at the last step.

    Args:
        name: name of the recipe.
        epochs: number of training epochs.
        batch_size: global batch size (summed over devices).
        learning_rate: initial learning rate.
        milestones: epochs at which the learning rate is multiplied by `gamma`.
        weight_decay: coupled L2 factor (PyTorch's SGD `weight_decay`).
        augment: whether to pad by 4 pixels, crop back at random and flip
            horizontally (the standard CIFAR augmentation).
        gamma: learning-rate factor at each milestone.
        momentum: Nesterov momentum.
        decay: `"step"` or `"cosine"`.
        warmup_epochs: epochs of linear warm-up of the cosine schedule.

    Example:

    >>> RECIPES["resnet"].shortened(20).milestones
    (8, 12, 16)
    >>> RECIPES["resnet"].shortened(20).learning_rate_at(12)
    0.001...
    """

    name: str
    epochs: int
    batch_size: int
    learning_rate: float
    milestones: tuple
    weight_decay: float
    augment: bool
    gamma: float = 0.1
    momentum: float = 0.9
    decay: str = "step"
    warmup_epochs: int = 0

    def __post_init__(self):
        for field in ("epochs", "batch_size"):
            check_int(field, getattr(self, field), minimum=1)
        check_choice("decay", self.decay, DECAYS)
        check_int("warmup_epochs", self.warmup_epochs, minimum=0, maximum=self.epochs - 1)
        if list(self.milestones) != sorted(set(self.milestones)):
            raise ValueError(f"`milestones` must be increasing. Received: milestones={self.milestones}")

    def shortened(self, epochs):
        """The recipe over `epochs` epochs, its milestones scaled in proportion.

        A 20-epoch ResNet run keeps the shape of the 200-epoch schedule
        (decays at 8, 12 and 16). Milestones that fall on epoch 0 or past the
        end are dropped. A cosine schedule keeps its warm-up (at most all
        epochs but the last).
        """
        epochs = check_int("epochs", epochs, minimum=1)
        scaled = sorted({round(m * epochs / self.epochs) for m in self.milestones})
        milestones = tuple(m for m in scaled if 0 < m < epochs)
        return dataclasses.replace(self, epochs=epochs, milestones=milestones,
                                   warmup_epochs=min(self.warmup_epochs, epochs - 1))

    def learning_rate_at(self, epoch):
        """Learning rate during `epoch` (0-based; for the cosine schedule, at the epoch's first step)."""
        if self.decay == "cosine":
            if epoch < self.warmup_epochs:
                return self.learning_rate * epoch / self.warmup_epochs
            progress = (epoch - self.warmup_epochs) / (self.epochs - self.warmup_epochs)
            return self.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))
        return self.learning_rate * self.gamma ** sum(epoch >= m for m in self.milestones)

    def schedule(self, steps_per_epoch):
        """The learning rate as a function of the optimizer step (a float without milestones)."""
        if self.decay == "cosine":
            return keras.optimizers.schedules.CosineDecay(
                0.0, (self.epochs - self.warmup_epochs) * steps_per_epoch, warmup_target=self.learning_rate,
                warmup_steps=self.warmup_epochs * steps_per_epoch,
            )
        if not self.milestones:
            return self.learning_rate
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            # The schedule keeps values[i] up to and including boundaries[i].
            boundaries=[m * steps_per_epoch - 1 for m in self.milestones],
            values=[self.learning_rate_at(m) for m in (0, *self.milestones)],
        )

    def optimizer(self, steps_per_epoch):
        """A fresh `SGDWithL2` whose schedule counts `steps_per_epoch` steps per epoch."""
        return SGDWithL2(
            l2=self.weight_decay, learning_rate=self.schedule(steps_per_epoch), momentum=self.momentum,
            nesterov=True,
        )


RECIPES = {
    "resnet": Recipe("resnet", 200, 128, 0.1, (80, 120, 160), 1e-4, augment=True),
    "densenet": Recipe("densenet", 350, 64, 0.1, (150, 225, 300), 1e-4, augment=True),
    # The paper gives no batch size for LeNet; 128 as for ResNet. No flips for digits.
    "lenet": Recipe("lenet", 90, 128, 0.1, (30, 60), 5e-4, augment=False),
    # Not the papers': a 30-epoch schedule for CIFAR ResNets (cosine after 2 warm-up epochs, the stronger L2 that
    # short schedules use), measured in docs/tutorials/training.md against the paper's 200-epoch recipe.
    "resnet-cosine": Recipe("resnet-cosine", 30, 128, 0.1, (), 5e-4, augment=True, decay="cosine", warmup_epochs=2),
}


def recipe_for(model_name):
    """The recipe of a model name: the `recipe` of its pretrained weights' record where it has one
    (`keras_robust.applications.WEIGHTS`), else by name: `ResNet*` -> resnet, `DenseNet*` -> densenet,
    `LeNet*` -> lenet."""
    from keras_robust.applications import WEIGHTS

    recipes = {record.recipe for record in WEIGHTS.values() if record.model.lower() == str(model_name).lower()}
    if len(recipes) == 1:
        return RECIPES[recipes.pop()]
    for key in RECIPES:
        if str(model_name).lower().startswith(key):
            return RECIPES[key]
    raise ValueError(
        f"No recipe for model {model_name!r}: names starting with ResNet, DenseNet or LeNet have one; "
        f"otherwise pass a recipe by name ({', '.join(RECIPES)})."
    )
