"""`robust-cli train`: train a model of the zoo with the papers' recipe, resumable."""

import click

from keras_robust.cli import options

RECIPE_NAMES = ["resnet", "densenet", "lenet", "resnet-cosine"]  # keras_robust.training.RECIPES, without Keras


def _has_split(source, split):
    # A plain folder of class sub-folders has no splits: it would be validated on its own images.
    from pathlib import Path

    from keras_robust.datasets.image_source import ARCHIVE_SUFFIXES

    path = Path(source).expanduser()
    return not path.is_dir() or any((path / f"{split}{suffix}").is_file() for suffix in ARCHIVE_SUFFIXES)


@click.command()
@options.model_option(required=True, help=options.MODEL_HELP + " A builder starts from random weights, a .keras "
                                                               "file from its own.")
@options.dataset_options(help="Training images: " + options.DATASET_HELP, split="train")
@options.output_option(help="Folder of the run (checkpoint, log.csv, best.keras, last.keras); default runs/MODEL. "
                            "Running again with the same folder resumes.")
@click.option("--recipe", "recipe_name", default=None, type=click.Choice(RECIPE_NAMES),
              help="Recipe; default from the model name. resnet-cosine: 30 epochs, cosine after a 2-epoch warm-up "
                   "(not the papers'; see the training tutorial).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Shorten the recipe to this many epochs (milestones scaled).")
@options.batch_size_option(None, help="Override the recipe's batch size.")
@click.option("--learning-rate", type=float, default=None,
              help="Override the recipe's initial learning rate.")
@click.option("--validation", default=None, metavar="SOURCE",
              help="Validation data; default --dataset's --validation-split when it has splits.")
@click.option("--validation-split", default=None,
              help="Split of --dataset to validate on; default 'test', or 'validation' for a shipped dataset "
                   "(cifar10_sample, mnist), whose 'train' and 'validation' splits divide its images 80/20.")
@click.option("--no-validation", is_flag=True, help="Train without validation.")
@options.limit_option(help="Train on this many images (a seeded random subset).")
@click.option("--validation-limit", type=click.IntRange(min=1), default=None, help="Validate on this many images.")
@options.seed_option(None, help="Seed of weights, data order and augmentation; a CPU run with a seed is repeatable.")
@options.distribute_option()
@options.overwrite_option()
@options.quiet_option()
def train(model, dataset, split, data_dir, download, output, recipe_name, epochs, batch_size, learning_rate,
          validation, validation_split, no_validation, limit, validation_limit, seed, distribute, overwrite, quiet):
    """Train --model (ResNet20, ResNet20PP, LeNetA, ...) on --dataset with the papers' recipe.

    Every epoch writes checkpoint.npz, last.keras, best.keras and a row of log.csv into --output; killed,
    the same command resumes from the last finished epoch.
    """
    strategy = options.strategy(distribute)
    import dataclasses
    from pathlib import Path

    from keras_robust.datasets import load_images
    from keras_robust.models import holds_weights, resolve_model
    from keras_robust.training import RECIPES, fit, recipe_for

    from keras_robust.datasets.shipped import SHIPPED

    if validation_split is None:
        validation_split = "validation" if str(dataset).lower() in SHIPPED and not Path(dataset).exists() else "test"
    is_file = holds_weights(model)
    if not is_file:
        resolve_model(model, weights=None)  # an unknown name fails before the data is read
    name = Path(model).stem if is_file else model
    recipe = RECIPES[recipe_name] if recipe_name else recipe_for(name)
    overrides = {"batch_size": batch_size, "learning_rate": learning_rate}
    recipe = dataclasses.replace(recipe, **{k: v for k, v in overrides.items() if v is not None})
    loading = {"data_dir": data_dir, "download": download, "seed": seed or 0}
    data = load_images(dataset, split, limit=limit, **loading)
    validation_data = None
    if not no_validation and (validation or _has_split(dataset, validation_split)):
        held_out = load_images(validation or dataset, validation_split, limit=validation_limit, **loading)
        if data.class_names and held_out.class_names and list(held_out.class_names) != list(data.class_names):
            raise ValueError(f"The validation images' classes differ from the training images'. Received: training "
                             f"{list(data.class_names)}, validation {list(held_out.class_names)}")
        validation_data = (held_out.images, held_out.labels)
    classes = len(data.class_names) if data.class_names else int(data.labels.max()) + 1

    def model_fn():
        if is_file:
            return resolve_model(model)
        return resolve_model(model, weights=None, input_shape=data.images.shape[1:], classes=classes)

    output = output or f"runs/{name}"
    click.echo(f"{name}: {len(data.labels)} training images, "
               f"{0 if validation_data is None else len(validation_data[1])} validation images, "
               f"recipe {recipe.name} ({epochs or recipe.epochs} epochs), output {output}")
    run = fit(model_fn, (data.images, data.labels), recipe, output, validation=validation_data, epochs=epochs,
              seed=seed, distribute=strategy, verbose=not quiet,
              overwrite=overwrite)
    summary = ", ".join(f"{key} {run.last[key]:.4f}" for key in ("accuracy", "val_accuracy") if key in run.last)
    click.echo(f"done: {run.epochs} epochs; last epoch {summary}; files in {output}")
