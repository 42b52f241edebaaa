"""`robust-cli deepcorrect`: add correction units to a model and train them."""

import click

from keras_robust.cli import options
from keras_robust.cli.rank import distortion_option

UNITS = ("full", "bottleneck", "rank_constrained")  # keras_robust.deepcorrect.builder.UNITS
STARTS = ("identity", "he_normal")  # keras_robust.layers.correction_unit.STARTS
BATCH_NORMS = ("frozen", "adapt")  # keras_robust.deepcorrect.builder.BATCH_NORMS


@click.command()
@options.model_option(required=True)
@options.weights_option()
@click.option("--method", default="deepcorrect", show_default=True,
              type=click.Choice(["deepcorrect", "finetune", "stability"]),
              help="DeepCorrect, or one of the paper's baselines on the same batches.")
@click.option("--ranking", type=click.Path(), help="JSON file written by `robust-cli rank` (deepcorrect only).")
@options.dataset_options(help="Labelled training images: " + options.DATASET_HELP)
@distortion_option()
@options.levels_option(help="Comma-separated distortion levels (default: the CIFAR levels).")
@click.option("--beta", default=0.75, show_default=True, type=click.FloatRange(0, 1, min_open=True))
@click.option("--unit", default="bottleneck", show_default=True, type=click.Choice(UNITS))
@click.option("--start", default="identity", show_default=True, type=click.Choice(STARTS),
              help="How the units start: as the identity (the model predicts as --model until trained) or with "
                   "the authors' He-normal last layer.")
@click.option("--batch-norm", default="frozen", show_default=True, type=click.Choice(BATCH_NORMS),
              help="The frozen network's batch normalizations while the units train: inference statistics, or "
                   "adapted to the training batches (the authors' Keras 1 behaviour).")
@options.limit_option(help="Train on this many images (a seeded random subset).")
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
@options.batch_size_option(64, minimum=2)
@click.option("--learning-rate", default=None, type=float,
              help="Default: 0.01 (deepcorrect: the best rate measured with the identity start; the paper's is "
                   "0.1 after a warm-up epoch, see --warmup-epochs), 0.001 (baselines).")
@click.option("--warmup-epochs", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Epochs at a tenth of the learning rate first (the paper: 1).")
@options.seed_option()
@options.output_option(required=True, help=".keras file to write.")
@options.overwrite_option()
@options.quiet_option()
def deepcorrect(model, weights, method, ranking, dataset, split, data_dir, download, distortion, levels, beta, unit,
                start, batch_norm, limit, epochs, batch_size, learning_rate, warmup_epochs, seed, output, overwrite,
                quiet):
    """Build a DeepCorrect model from --model and a ranking, train it, save it.

    Every ranked layer gets a correction unit on its top BETA filters; the
    pretrained layers stay frozen. Batches mix clean and distorted images
    half and half, each at a random level. `--method finetune` trains every
    layer instead, `--method stability` every layer with stability training.
    Prints the trainable parameters and FLOPs of the base and trained models.
    """

    from keras_robust.datasets import load_images
    from keras_robust.deepcorrect import (
        FilterRanking, build_deepcorrect, finetune_copy, fit_deepcorrect,
        stability_model, trainable_parameters,
    )
    from keras_robust.models import resolve_model, save_model
    from keras_robust.utils import count_flops

    if not output.endswith(".keras"):
        raise ValueError(f"--output must end in .keras. Received: {output}")
    if method == "deepcorrect" and not ranking:
        raise ValueError("--ranking is required with --method deepcorrect. Received: no --ranking")
    options.refuse_existing(output, overwrite, inputs=[model, weights, ranking, dataset, data_dir])
    network = resolve_model(model, weights)
    if method == "deepcorrect":
        corrected = trained = build_deepcorrect(network, FilterRanking.load(ranking), beta, unit=unit, start=start,
                                                       batch_norm=batch_norm)
    elif method == "finetune":
        corrected = trained = finetune_copy(network)
    else:
        trained, corrected = stability_model(network)
    found = load_images(dataset, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
    history = fit_deepcorrect(
        trained, found.images, found.labels, distortion, levels, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate if learning_rate is not None else 0.01 if method == "deepcorrect" else 0.001,
        warmup_epochs=warmup_epochs, seed=seed, verbose=not quiet,
    )
    save_model(corrected, output, overwrite=overwrite)
    click.echo(
        f"trainable parameters {trainable_parameters(corrected):,}, FLOPs "
        f"{count_flops(corrected):,} (base {count_flops(network):,}); final training "
        f"accuracy {history.history['accuracy'][-1]:.4f} -> {output}"
    )
