"""`robust-cli benchmark`: models on clean and corrupted data, Table-2/3-style results."""

import re
from pathlib import Path

import click

from keras_robust.cli import options


DEFAULT_OUTPUT = "robust-benchmark"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".npz")


def default_output(dataset):
    """`robust-benchmark`, or `robust-benchmark-DATASET` (a path's last two parts): benchmarks of different data
    do not meet in one folder."""
    if dataset is None:
        return DEFAULT_OUTPUT
    name = "-".join(Path(str(dataset)).parts[-2:])
    for suffix in ARCHIVE_SUFFIXES:
        name = name.removesuffix(suffix)
    return f"{DEFAULT_OUTPUT}-" + (re.sub(r"[^\w.]+", "-", name).strip("-.") or "dataset")


@click.command()
@options.dataset_options(
    required=False,
    help="cifar10_sample (default: 1,000 CIFAR-10 test images shipped with the package), mnist (the embedded "
         "MNIST test set: without --model, the push-pull paper's LeNet experiment), cifar10_corrupted (the released "
         "CIFAR-10-C through tfds, for numbers comparable with published ones), imagenet2012_corrupted, or "
         + options.DATASET_HELP[0].lower()
         + options.DATASET_HELP[1:])
@options.model_option(
    multiple=True,
    help="Model to evaluate (repeatable). " + options.MODEL_HELP + " Default: ResNet20 and ResNet20PP (pretrained) "
         "on cifar10_sample, LeNet-A and LeNet-PA trained briefly on mnist, with --weights cifar10 every "
         "pretrained CIFAR-10 model.")
@options.weights_option()
@options.limit_option(help="Evaluate this many images (a seeded random subset; default all, 500 in the default "
                           "job).")
@options.corruption_options()
@options.levels_option("1,2,3,4,5", help="Comma-separated severities of the corruptions.")
@click.option("--baseline", default="auto", show_default=True,
              help="What mCE and rCE are normalised by: 'auto' (ResNet20 on cifar10_sample, LeNet-A on mnist, "
                   "alexnet-cifar10 with --weights cifar10, else none), 'alexnet-cifar10', 'none', or an "
                   "evaluated model's name.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True,
              help="MNIST LeNet experiment: training epochs.")
@click.option("--train-size", type=click.IntRange(min=1), default=8000, show_default=True,
              help="MNIST LeNet experiment: training digits.")
@click.option("--learning-rate", type=float, default=0.03, show_default=True,
              help="MNIST LeNet experiment: initial SGD learning rate (the paper's 0.1 is unstable in this short run).")
@options.seed_option()
@options.batch_size_option(256)
@options.distribute_option()
@options.output_option(help="Folder for results.json, results.csv, report.md and the PNG figures. [default: "
                            f"{DEFAULT_OUTPUT}; with --dataset, {DEFAULT_OUTPUT}-DATASET]")
@options.overwrite_option()
@click.option("--figures/--no-figures", default=True, show_default=True, help="Draw PNG figures (needs matplotlib).")
@options.quiet_option()
def benchmark(dataset, split, data_dir, download, models, weights, limit, corruption_names, preset, levels, baseline,
              epochs, train_size, learning_rate, seed, batch_size, distribute, output, overwrite, figures, quiet):
    """Evaluate models on clean and corrupted data: E per corruption, E_clean, E_corr, mCE, rCE.

    Without arguments it runs the default, offline job: the shipped pretrained
    ResNet20 and its push-pull twin ResNet20PP on 500 of the 1,000 embedded
    CIFAR-10 test images (--limit 1000 for all) and their 19 corruptions at 5
    severities, mCE and rCE normalised by the plain ResNet20. `--dataset mnist` runs the push-pull paper's MNIST
    experiment (LeNet-A against LeNet-PA, with the noise of Fig. 4 and the
    contrast of Fig. 5).
    """
    strategy = options.strategy(distribute)
    from keras_robust.benchmarking import benchmark as run
    from keras_robust.benchmarking.figures import missing

    output = output or default_output(dataset)
    options.refuse_existing(output, overwrite, inputs=[dataset, data_dir, *models, weights])
    skipped = figures and missing()  # found before the evaluation; the rest of the output is still written
    if skipped:
        click.echo(f"note: the figures will be skipped: {skipped}", err=True)
    result = run(models or None, dataset, weights=weights, split=split, limit=limit, corruptions=corruption_names,
                 levels=levels, preset=preset, baseline=baseline, seed=seed, batch_size=batch_size,
                 data_dir=data_dir, download=download, verbose=not quiet, epochs=epochs, train_size=train_size,
                 learning_rate=learning_rate, distribute=strategy)
    if not options.writes_files(strategy):
        click.echo(f"This worker's share is evaluated; worker 0 writes the results to {output}/")
        return
    folder = result.save(output, overwrite=overwrite, figures=figures and not skipped)
    click.echo(result.to_markdown())
    click.echo(f"Results written to {folder}/" + (f" (figures skipped: {skipped})" if skipped else ""))
