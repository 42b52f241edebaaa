"""`robust-cli rank`: DeepCorrect correction priorities of a model's filters."""

import click

from keras_robust.cli import options

# Kept literal so that `robust-cli --help` does not import Keras; the
# library checks them again (keras_robust.deepcorrect.distortions.DISTORTIONS).
DISTORTIONS = ("awgn", "gaussian_blur")


def distortion_option():
    return click.option("--distortion", required=True, type=click.Choice(DISTORTIONS),
                        help="DeepCorrect's distortion; its levels are --levels (default: the CIFAR levels).")


@click.command()
@options.model_option(required=True)
@options.weights_option()
@options.dataset_options(help="Labelled images: " + options.DATASET_HELP)
@distortion_option()
@options.levels_option(help="Comma-separated distortion levels (default: the CIFAR levels).")
@click.option("--layers", default=None, help="Comma-separated layer names (default: every Conv2D).")
@options.limit_option(500, help="Rank on this many images (a seeded random subset).")
@options.seed_option()
@options.distribute_option()
@options.output_option(required=True, help="Ranking to write: .json (read by `robust-cli deepcorrect`), .csv or .md.")
@options.overwrite_option()
@options.quiet_option()
def rank(model, weights, dataset, split, data_dir, download, distortion, levels, layers, limit, seed, distribute,
         output, overwrite, quiet):
    """Rank the filters of --model by correction priority.

    Runs Algorithm 1 of DeepCorrect on --limit images of --dataset and their
    distorted copies at every level, and writes per-layer scores and orders.
    """
    strategy = options.strategy(distribute)
    from keras_robust.datasets import load_images
    from keras_robust.deepcorrect import rank_filters
    from keras_robust.deepcorrect.distortions import distort_levels
    from keras_robust.models import resolve_model

    options.refuse_existing(output, overwrite, inputs=[model, weights, dataset, data_dir])
    network = resolve_model(model, weights)
    found = load_images(dataset, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
    distorted = distort_levels(found.images, distortion, levels, seed=seed)
    if not quiet:
        click.echo(f"Ranking the filters of {network.name} on {len(found.labels)} images x {len(distorted)} "
                   f"levels of {distortion}...", err=True)
    ranking = rank_filters(network, layers.split(",") if layers else None, found.images.astype("float32"),
                           distorted, found.labels, distribute=strategy)
    if not options.writes_files(strategy):
        click.echo(f"This worker's share is ranked; worker 0 writes the ranking to {output}")
        return
    ranking.save(output, overwrite=overwrite)
    click.echo(
        f"ranked {sum(len(s) for s in ranking.scores.values())} filters of "
        f"{len(ranking.scores)} layers (distorted top-1 {ranking.baseline:.4f}) -> {output}"
    )
