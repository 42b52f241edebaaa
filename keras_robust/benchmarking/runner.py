"""`benchmark(...)`: which data, which models, which baseline, then one evaluation -> `BenchmarkResult`."""

from pathlib import Path

import numpy as np

from keras_robust.benchmarking import evaluation
from keras_robust.benchmarking.report import BenchmarkResult

SEVERITIES = (1, 2, 3, 4, 5)
SUBSETS = ("noise", "blur", "weather", "digital")
# Embedded data sets: no download, no ../shared.
CIFAR10_SAMPLE = "cifar10_sample"
MNIST = "mnist"
DEFAULT_DATASET = CIFAR10_SAMPLE
# The default job on the CIFAR-10 sample: the shipped pretrained plain ResNet-20 and its push-pull twin, on 500 of
# its 1,000 images (a seeded subset), so that 2 models x 95 corrupted copies run in under 3 minutes on 2 cores.
SAMPLE_MODELS = ("ResNet20", "ResNet20PP")
SAMPLE_LIMIT = 500
MODEL_NOTE = (
    "mCE and rCE are normalised by {baseline}, evaluated here on the same images: 100 means as robust as "
    "{baseline}, below 100 more robust. (The push-pull paper normalises by AlexNet's errors published for the "
    "released CIFAR-10-C, which are not comparable with errors on other images.)"
)
ALEXNET_NOTE = (
    "mCE and rCE are normalised by the AlexNet errors published by Strisciuglio et al. (2020, Appendix 2) on "
    "the released CIFAR-10-C; on other images (generated corruptions, the JPEG copy) they are indicative only."
)


def corruption_names(corruptions="all"):
    """The corruption names meant by `corruptions`.

    Args:
        corruptions: `"all"` (the 19), a subset (`"noise"`, `"blur"`,
            `"weather"`, `"digital"`), comma-separated names and subsets, or a
            list of them.
    """
    from keras_robust import corruptions as suite

    parts = corruptions.split(",") if isinstance(corruptions, str) else list(corruptions)
    names = []
    for part in (str(p).strip() for p in parts if str(p).strip()):
        names.extend(suite.names() if part == "all" else suite.names(part) if part in SUBSETS else [part])
    return list(dict.fromkeys(names))


def pretrained_models(weights):
    """Builder names that have shipped pretrained `weights`."""
    from keras_robust.applications import list_models

    names = list_models(pretrained=weights) if isinstance(weights, str) else []
    if not names:
        raise ValueError(f"No model has pretrained weights. Received: weights={weights!r}")
    return names


def load_models(specs, weights="default", seed=0):
    """`{name: model}` of builder names (with `weights`) or .keras files; untrained weights drawn with `seed`."""
    import keras

    from keras_robust.models import resolve_model

    keras.utils.set_random_seed(seed)
    models = {}
    for spec in specs:
        is_file = not isinstance(spec, str) or spec.endswith(".keras") or Path(spec).exists()
        name = (spec.name if hasattr(spec, "layers") else Path(str(spec)).stem) if is_file else str(spec)
        if is_file or weights != "default":
            models[name] = resolve_model(spec, weights=None if is_file else weights)
        else:
            models[name] = resolve_model(spec)  # the builder's default weights: pretrained where shipped
    return models


def resolve_baseline(baseline, models):
    """`"alexnet-cifar10"`, the name of one of `models`, or `None` for "none"."""
    if baseline in (None, "none"):
        return None
    if baseline == "alexnet-cifar10" or baseline in models:
        return baseline
    raise ValueError(
        f"Unknown baseline {baseline!r}. Accepted: 'alexnet-cifar10', 'none', or one of the "
        f"evaluated models: {', '.join(models)}."
    )


def _subset(images, labels, limit, seed):
    if limit is None or limit >= len(labels):
        return images, labels
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"`limit` must be a positive int. Received: limit={limit!r}")
    keep = np.sort(np.random.default_rng(seed).permutation(len(labels))[:limit])
    return images[keep], labels[keep]


def _plan(models, dataset, *, weights, split, limit, seed, data_dir, download, training, quiet):
    """The job: images, labels, {name: model}, description, extra tasks, default baseline."""
    if dataset == MNIST and models is None:
        from keras_robust.benchmarking import mnist_default

        train_size = training.get("train_size", 8000)
        train, (images, labels) = mnist_default.split_mnist(train_size, limit or 10000 - train_size, seed)
        epochs = training.get("epochs", 5)
        if not quiet:
            import click

            click.echo(f"Training LeNet-A and LeNet-PA on {train_size} MNIST digits for {epochs} epoch(s)...",
                       err=True)
        trained = mnist_default.train_lenets(train, epochs=epochs, learning_rate=training.get("learning_rate", 0.03),
                                             seed=seed)
        description = f"embedded MNIST test set ({train_size} digits for training, {len(labels)} held out)"
        return images, labels, trained, description, mnist_default.paper_distortion_tasks(seed), "LeNet-A"
    if dataset == CIFAR10_SAMPLE:
        from keras_robust.datasets import load_cifar10_sample

        images, labels, _ = load_cifar10_sample()
        count = len(labels) if limit is None and models is not None else limit or SAMPLE_LIMIT
        _subset(images, labels, count, seed)  # checks `limit`
        images, labels = images[:count], labels[:count]  # the classes take turns: any first 10k hold k of each
        description = (f"embedded CIFAR-10 sample, its first {len(labels)} images (of 1,000 CIFAR-10 test images, "
                       "100 per class, from the JPEG copy of the test set: JPEG-compressed once, so errors are "
                       "higher than on the PNG originals and not comparable with published ones)")
        specs = SAMPLE_MODELS if models is None else models
        baseline = SAMPLE_MODELS[0] if models is None else None
        return images, labels, load_models(specs, weights, seed), description, [], baseline
    if dataset == MNIST:
        from keras_robust.datasets import load_mnist_test

        images, labels = _subset(*load_mnist_test(), limit, seed)
        return images, labels, load_models(models, weights, seed), "embedded MNIST test set", [], None
    from keras_robust.datasets import load_images

    if models is None and weights in (None, "default"):
        raise ValueError(f"Name the models to evaluate on {dataset} (builder names or .keras files), or pass "
                         "weights='cifar10' (--weights cifar10) for every pretrained model. Received: models=None")
    data = load_images(dataset, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
    specs = pretrained_models(weights) if models is None else models
    baseline = "alexnet-cifar10" if weights == "cifar10" else None
    return data.images, data.labels, load_models(specs, weights, seed), f"{dataset} ({split} split)", [], baseline


def benchmark(models=None, dataset=None, *, weights="default", split="test", limit=None, corruptions="all",
              levels=SEVERITIES, preset="cifar", baseline="auto", seed=0, batch_size=256, data_dir=None,
              download=False, quiet=False, **training):
    """Evaluate models on clean and corrupted images: E per corruption, E_clean, E_corr, mCE and rCE.

    With no arguments, the default job: the shipped pretrained ResNet20 and
    ResNet20PP on 500 images of the embedded CIFAR-10 sample
    (`keras_robust.datasets.load_cifar10_sample`; `limit=1000` for all) and
    their 19 corruptions at 5 severities, mCE and rCE normalised by the plain
    ResNet20. Offline, under 3 minutes on 2 cores.

    Args:
        models: builder names, `.keras` files or `keras.Model`s; `None`
            takes the dataset's default: ResNet20 and ResNet20PP on
            `"cifar10_sample"`, LeNet-A and LeNet-PA trained on part of the
            embedded digits on `"mnist"` (the push-pull paper's MNIST
            experiment, with its Fig. 4 and Fig. 5 distortions), every model
            with pretrained `weights` on other data.
        dataset: `"cifar10_sample"` (default), `"mnist"` (both embedded), a
            tfds name, a folder of class sub-folders, a `.tar.gz` of
            `<split>/<class>/` images or an `.npz` with images and labels.
        weights: weights of builder names (`"default"`: the builder's,
            pretrained where shipped; `None`: random).
        split: split of a tfds dataset or archive.
        limit: evaluate this many images (a seeded random subset; default:
            all, 500 in the default job).
        corruptions: `"all"`, a subset (`"noise"`, `"blur"`, `"weather"`,
            `"digital"`) or names (a list, or comma-separated).
        levels: the severities (1-5).
        preset: corruption parameter preset (`"cifar"` or `"imagenet"`).
        baseline: what mCE and rCE are normalised by: `"auto"` (the dataset's
            default: the plain twin ResNet20 or LeNet-A, `"alexnet-cifar10"`
            with `weights="cifar10"`, else none), `"alexnet-cifar10"`, the
            name of an evaluated model, or `None`/`"none"`.
        seed: seed of the corruptions, the image subset and random weights.
        batch_size: images per prediction batch.
        data_dir: tfds data folder; download: let tfds download.
        quiet: bool, no progress lines.
        **training: the MNIST experiment's `epochs` (5), `train_size` (8000)
            and `learning_rate` (0.03).

    Returns:
        A `keras_robust.benchmarking.BenchmarkResult`.

    Example:

    >>> from keras_robust.benchmarking import benchmark
    >>> result = benchmark(limit=20, corruptions="fog", levels=(5,), quiet=True)
    >>> sorted(result.models)
    ['ResNet20', 'ResNet20PP']
    """
    from keras_robust.progress import progress

    unknown = set(training) - {"epochs", "train_size", "learning_rate"}
    if unknown:
        raise TypeError(f"benchmark() got unexpected keyword arguments {sorted(unknown)}")
    dataset = DEFAULT_DATASET if dataset is None else str(dataset)
    models = None if models is None else list([models] if isinstance(models, str) else models)
    names, levels = corruption_names(corruptions), list(levels)
    tasks = evaluation.distortion_tasks(names, levels, preset=preset, seed=seed)  # checks names and levels first
    if baseline == "alexnet-cifar10" and sorted(levels) != list(SEVERITIES):
        raise ValueError("The AlexNet baseline holds errors averaged over severities 1-5: evaluate all five. "
                         f"Received: levels={levels}")
    images, labels, loaded, description, extra, default_baseline = _plan(
        models, dataset, weights=weights, split=split, limit=limit, seed=seed, data_dir=data_dir,
        download=download, training=training, quiet=quiet)
    chosen = resolve_baseline(default_baseline if baseline == "auto" else baseline, loaded)
    if chosen == "alexnet-cifar10" and sorted(levels) != list(SEVERITIES):
        chosen = None  # the default AlexNet baseline needs every severity: report unnormalised values
    notes = []
    if chosen is not None:
        notes = [(ALEXNET_NOTE if chosen == "alexnet-cifar10" else MODEL_NOTE).format(baseline=chosen)]
    all_tasks = [*extra, *tasks]

    def show(steps):
        return progress(steps, label="Corrupting and evaluating", total=len(all_tasks), quiet=quiet,
                        describe=lambda task: f"{task[0]} {task[1]}")

    results = evaluation.evaluate(loaded, images, labels, all_tasks, batch_size=batch_size, progress=show)
    evaluation.summarize(results, names, chosen)
    return BenchmarkResult(results, dataset=description, corruptions=names, levels=levels, baseline=chosen,
                           images=int(len(labels)), image_shape=images.shape[1:], preset=preset, seed=seed,
                           notes=notes)
