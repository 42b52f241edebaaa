"""`robust-cli deepcorrect`: add correction units to a model and train them."""

import click

from keras_robust.cli.rank import DISTORTIONS, _levels

UNITS = ("full", "bottleneck", "rank_constrained")  # keras_robust.deepcorrect.builder.UNITS


@click.command()
@click.argument("model")
@click.option("--method", default="deepcorrect", show_default=True,
              type=click.Choice(["deepcorrect", "finetune", "stability"]),
              help="DeepCorrect, or one of the paper's baselines on the same batches.")
@click.option("--ranking", type=click.Path(), help="JSON file written by `robust-cli rank` (deepcorrect only).")
@click.option("--data", required=True, type=click.Path(), help="Labelled training images (folder or .tar.gz).")
@click.option("--split", default="test", show_default=True, help="Split of --data to read (archive folder or tfds split).")
@click.option("--distortion", required=True, type=click.Choice(DISTORTIONS))
@click.option("--levels", default=None, help="Comma-separated distortion levels (default: the CIFAR levels).")
@click.option("--beta", default=0.75, show_default=True, type=click.FloatRange(0, 1, min_open=True))
@click.option("--unit", default="bottleneck", show_default=True, type=click.Choice(UNITS))
@click.option("--images", "limit", default=None, type=click.IntRange(min=1), help="Train on this many images.")
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=2))
@click.option("--learning-rate", default=None, type=float, help="Default: 0.1 (deepcorrect), 0.001 (baselines).")
@click.option("--weights", default=None, help='Weights of a builder name, e.g. "cifar10".')
@click.option("--output", "-o", required=True, type=click.Path(), help=".keras file to write.")
def deepcorrect(model, method, ranking, data, split, distortion, levels, beta, unit, limit, epochs,
                batch_size, learning_rate, weights, output):
    """Build a DeepCorrect model from MODEL and a ranking, train it, save it.

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
    network = resolve_model(model, weights=weights)
    if method == "deepcorrect":
        corrected = trained = build_deepcorrect(network, FilterRanking.load(ranking), beta, unit=unit)
    elif method == "finetune":
        corrected = trained = finetune_copy(network)
    else:
        trained, corrected = stability_model(network)
    found = load_images(data, split=split, limit=limit, seed=0)
    history = fit_deepcorrect(
        trained, found.images, found.labels, distortion, _levels(levels),
        epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate or (0.1 if method == "deepcorrect" else 0.001),
    )
    save_model(corrected, output, overwrite=True)
    click.echo(
        f"trainable parameters {trainable_parameters(corrected):,}, FLOPs "
        f"{count_flops(corrected):,} (base {count_flops(network):,}); final training "
        f"accuracy {history.history['accuracy'][-1]:.4f} -> {output}"
    )
