"""`robust-cli rank`: DeepCorrect correction priorities of a model's filters."""

import click

# Kept literal so that `robust-cli --help` does not import Keras; the
# library checks them again (keras_robust.deepcorrect.distortions.LEVELS).
DISTORTIONS = ("awgn", "gaussian_blur")


@click.command()
@click.argument("model")
@click.option("--data", required=True, type=click.Path(), help="Labelled images: a folder or a .tar.gz of <class>/<image> files.")
@click.option("--split", default="test", show_default=True, help="Split of --data to read (archive folder or tfds split).")
@click.option("--distortion", required=True, type=click.Choice(DISTORTIONS))
@click.option("--levels", default=None, help="Comma-separated distortion levels (default: the CIFAR levels).")
@click.option("--layers", default=None, help="Comma-separated layer names (default: every Conv2D).")
@click.option("--images", "limit", default=500, show_default=True, type=click.IntRange(min=1))
@click.option("--weights", default=None, help='Weights of a builder name, e.g. "cifar10".')
@click.option("--output", "-o", required=True, type=click.Path(), help="JSON file to write.")
def rank(model, data, split, distortion, levels, layers, limit, weights, output):
    """Rank the filters of MODEL (builder name or .keras file) by correction priority.

    Runs Algorithm 1 of DeepCorrect on LIMIT images of --data and their
    distorted copies at every level, and writes per-layer scores and orders.
    """
    from keras_robust.datasets import load_images
    from keras_robust.deepcorrect import rank_filters
    from keras_robust.deepcorrect.distortions import distort_levels
    from keras_robust.models import resolve_model

    levels = _levels(levels)
    network = resolve_model(model, weights=weights)
    found = load_images(data, split=split, limit=limit, seed=0)
    ranking = rank_filters(
        network, layers.split(",") if layers else None, found.images.astype("float32"),
        distort_levels(found.images, distortion, levels, seed=0), found.labels,
    )
    ranking.save(output)
    click.echo(
        f"ranked {sum(len(s) for s in ranking.scores.values())} filters of "
        f"{len(ranking.scores)} layers (distorted top-1 {ranking.baseline:.4f}) -> {output}"
    )


def _levels(text):
    if not text:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--levels must be comma-separated numbers. Received: {text!r}") from None
