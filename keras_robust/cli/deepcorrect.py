"""`robust-cli deepcorrect`: add correction units to a model and train them."""

import click

from keras_robust.cli.rank import _levels
from keras_robust.deepcorrect.builder import UNITS
from keras_robust.deepcorrect.distortions import LEVELS


@click.command()
@click.argument("model")
@click.option("--ranking", required=True, type=click.Path(), help="JSON file written by `robust-cli rank`.")
@click.option("--data", required=True, type=click.Path(), help="Labelled training images (folder or .tar.gz).")
@click.option("--split", default="test", show_default=True, help="Split of --data to read (archive folder or tfds split).")
@click.option("--distortion", required=True, type=click.Choice(sorted(LEVELS)))
@click.option("--levels", default=None, help="Comma-separated distortion levels (default: the CIFAR levels).")
@click.option("--beta", default=0.75, show_default=True, type=click.FloatRange(0, 1, min_open=True))
@click.option("--unit", default="bottleneck", show_default=True, type=click.Choice(UNITS))
@click.option("--images", "limit", default=None, type=click.IntRange(min=1), help="Train on this many images.")
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=2))
@click.option("--learning-rate", default=0.1, show_default=True, type=float)
@click.option("--weights", default=None, help='Weights of a builder name, e.g. "cifar10".')
@click.option("--output", "-o", required=True, type=click.Path(), help=".keras file to write.")
def deepcorrect(model, ranking, data, split, distortion, levels, beta, unit, limit, epochs,
                batch_size, learning_rate, weights, output):
    """Build a DeepCorrect model from MODEL and a ranking, train it, save it.

    Every ranked layer gets a correction unit on its top BETA filters; the
    pretrained layers stay frozen. Batches mix clean and distorted images
    half and half, each at a random level. Prints the trainable parameters
    and FLOPs of the base and corrected models.
    """
    from keras_robust.datasets import load_images
    from keras_robust.deepcorrect import FilterRanking, build_deepcorrect
    from keras_robust.deepcorrect.training import fit_deepcorrect, trainable_parameters
    from keras_robust.models import resolve_model, save_model
    from keras_robust.utils import count_flops

    if not output.endswith(".keras"):
        raise ValueError(f"--output must end in .keras. Received: {output}")
    network = resolve_model(model, weights=weights)
    corrected = build_deepcorrect(network, FilterRanking.load(ranking), beta, unit=unit)
    found = load_images(data, split=split, limit=limit, seed=0)
    history = fit_deepcorrect(
        corrected, found.images, found.labels, distortion, _levels(levels),
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
    )
    save_model(corrected, output, overwrite=True)
    click.echo(
        f"trainable parameters {trainable_parameters(corrected):,}, FLOPs "
        f"{count_flops(corrected):,} (base {count_flops(network):,}); final training "
        f"accuracy {history.history['accuracy'][-1]:.4f} -> {output}"
    )
