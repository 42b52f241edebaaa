"""`robust-cli benchmark`: models on clean and corrupted data, Table-2/3-style results."""

import sys

import click


def int_list(text, what):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers. Received: {text!r}") from None


def corruption_list(text):
    """All 19 names, a subset (noise, blur, weather, digital) or comma-separated names."""
    from keras_robust import corruptions

    if text in (None, "all"):
        return list(corruptions.names())
    names = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        names.extend(corruptions.names(part) if part in ("noise", "blur", "weather", "digital") else [part])
    return names


@click.command()
@click.option("--dataset", default=None, metavar="SOURCE",
              help="tfds name, folder of class sub-folders, .tar.gz of <split>/<class>/ images, or .npz with "
                   "images and labels. Default: train LeNet-A and LeNet-PA on the embedded MNIST test set.")
@click.option("--model", "model_specs", multiple=True, metavar="NAME|FILE.keras",
              help="Model to evaluate (repeatable): a keras_robust.applications builder name or a .keras file. "
                   "Default with --weights: every model with those pretrained weights.")
@click.option("--weights", default=None, help="Weights of builder names, e.g. cifar10.")
@click.option("--data-dir", default=None, type=click.Path(), help="tfds data folder.")
@click.option("--download", is_flag=True, help="Let tfds download a dataset that is not prepared.")
@click.option("--split", default="test", show_default=True, help="Split of a tfds dataset or archive.")
@click.option("--limit", type=int, default=None, help="Evaluate this many images (a seeded random subset).")
@click.option("--corruptions", "corruption_names", default="all", show_default=True,
              help="'all', a subset (noise, blur, weather, digital) or comma-separated corruption names.")
@click.option("--severities", default="1,2,3,4,5", show_default=True, help="Comma-separated severities.")
@click.option("--preset", default="cifar", show_default=True, help="Corruption parameter preset.")
@click.option("--baseline", default=None,
              help="'alexnet-cifar10', 'none', or an evaluated model's name. Default: LeNet-A for the MNIST "
                   "default, alexnet-cifar10 with --weights cifar10, otherwise none.")
@click.option("--epochs", type=int, default=5, show_default=True, help="MNIST default: training epochs.")
@click.option("--train-size", type=int, default=8000, show_default=True, help="MNIST default: training digits.")
@click.option("--learning-rate", type=float, default=0.03, show_default=True,
              help="MNIST default: initial SGD learning rate (the paper's 0.1 is unstable in this short run).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=int, default=256, show_default=True)
@click.option("--output", default="robust-benchmark", show_default=True, type=click.Path(),
              help="Folder for results.json, results.csv, report.md and the PNG figures.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Draw PNG figures (needs matplotlib).")
def benchmark(dataset, model_specs, weights, data_dir, download, split, limit, corruption_names, severities,
              preset, baseline, epochs, train_size, learning_rate, seed, batch_size, output, overwrite, figures):
    """Evaluate models on clean and corrupted data: E per corruption, E_clean, mCE, rCE.

    Without --dataset it runs the default, offline job: LeNet-A and LeNet-PA are
    trained briefly on part of the embedded MNIST test set and compared on the
    rest under the Gaussian noise of Fig. 4, the contrast + Poisson noise of
    Fig. 5 and the 19 corruptions at 5 severities of the push-pull paper.
    """
    from pathlib import Path

    from keras_robust.benchmarking import runner

    if Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} already exists. Pass --overwrite to replace it, or --output DIR.")
    names = corruption_list(corruption_names)
    severity_list = int_list(severities, "--severities")
    extra_tasks = ()
    if dataset is None:
        from keras_robust.benchmarking import mnist_default

        if model_specs or weights:
            raise ValueError("--model and --weights need --dataset; the MNIST default trains its own LeNets.")
        held_out_size = limit or 10000 - train_size
        train, (images, labels) = mnist_default.split_mnist(train_size, held_out_size, seed)
        click.echo(f"Training LeNet-A and LeNet-PA on {train_size} MNIST digits for {epochs} epoch(s)...", err=True)
        models = mnist_default.train_lenets(train, epochs=epochs, learning_rate=learning_rate, seed=seed)
        extra_tasks = mnist_default.paper_distortion_tasks(seed)
        description = f"{runner.MNIST_DEFAULT} ({train_size} digits for training, {len(labels)} held out)"
        baseline = "LeNet-A" if baseline is None else baseline
    else:
        from keras_robust.datasets import load_images

        data = load_images(dataset, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
        images, labels = data.images, data.labels
        specs = model_specs or (runner.pretrained_models(weights) if weights else ())
        if not specs:
            raise ValueError("Name the models to evaluate with --model (or pass --weights cifar10 for all pretrained).")
        models = runner.load_models(specs, weights, seed)
        description = f"{dataset} ({split} split)"
        if baseline is None:
            baseline = "alexnet-cifar10" if weights == "cifar10" else "none"
    baseline = runner.resolve_baseline(baseline, models)
    tasks_count = len(extra_tasks) + len(names) * len(severity_list)

    def progress(tasks):
        return click.progressbar(tasks, length=tasks_count, label="Corrupting and evaluating",
                                 file=sys.stderr,
                                 item_show_func=lambda t: t and f"{t[0]} {t[1]}")

    def run(tasks):
        with progress(tasks) as bar:
            yield from bar

    bench = runner.run_benchmark(models, images, labels, names, severity_list, baseline=baseline,
                                 preset=preset, seed=seed, extra_tasks=extra_tasks, batch_size=batch_size,
                                 progress=run)
    bench["dataset"] = description
    folder = runner.write_outputs(bench, output, overwrite=overwrite, figures=figures)
    click.echo(runner.markdown(bench))
    click.echo(f"Results written to {folder}/")
