"""`robust-cli transfer`: linear SVMs on deep features under distortions (DeepCorrect Tables V-VII)."""

from pathlib import Path

import click

from keras_robust.cli import options

DEFAULT_MODEL = "ResNet20PP"  # the push-pull ResNet-20 with its shipped CIFAR-10 weights


@click.command()
@options.dataset_options(split=None, help="caltech101 or sun397 (tfds, under --data-dir), mnist (shipped test digits), "
                                          "or a folder of class sub-folders (Caltech-256, ...), an .npz or a .tar.gz.")
@options.limit_option(help="Use this many images of --dataset (a seeded random subset) before the per-class "
                           "protocol draws from them.")
@options.model_option(multiple=True, default=(DEFAULT_MODEL,),
                      help=options.MODEL_HELP + " Repeat to compare models. Default: ResNet20PP with its shipped "
                           "CIFAR-10 weights.")
@options.weights_option()
@click.option("--layer", default=None,
              help="Feature layer (default: first fully connected, second for SUN-397, else global pooling).")
@click.option("--distortion", "distortions", multiple=True,
              help="awgn or gaussian_blur (DeepCorrect's ImageNet sigma levels), a corruption name (severities "
                   "1-5) or a registry name (keras_robust.corruptions.list_distortions()); applied at each level to "
                   "train and test images alike; repeatable.")
@options.levels_option(help="Comma-separated levels of every distortion: sigmas for awgn/gaussian_blur, else "
                            "severities.")
@click.option("--preset", default=None, help="cifar or imagenet: use keras_robust.corruptions.corrupt's preset (also for gaussian_blur).")
@click.option("--n-train", default=25, show_default=True, help="Training images per class.")
@click.option("--n-val", default=5, show_default=True, help="Validation images per class (choose C).")
@click.option("--n-test", default=None, type=int, help="Cap on test images per class (default: all the rest).")
@click.option("--splits", default=5, show_default=True, help="Random splits to average over.")
@options.seed_option()
@click.option("--svm-training", type=click.Choice(["pooled", "clean", "per_level"]), default="pooled", show_default=True,
              help="One SVM set on clean and all levels together (the paper), one on clean only, or one per level.")
@options.batch_size_option(128)
@click.option("--cache-dir", type=click.Path(file_okay=False), default="runs/transfer/features", show_default=True,
              help="Feature cache; reruns reuse features of the same model, weights, layer, data and distortion.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write cached features.")
@options.output_option(help="Results JSON (a CSV is written beside it); default runs/transfer/<dataset>.json.")
@options.overwrite_option()
@options.quiet_option()
def transfer(dataset, data_dir, download, limit, models, weights, layer, distortions, levels, preset, n_train, n_val, n_test,
             splits, seed, svm_training, batch_size, cache_dir, no_cache, output, overwrite, quiet):
    """Linear-SVM transfer evaluation of deep features, clean and distorted.

    Without --model it evaluates the features of ResNet20PP with its shipped
    CIFAR-10 weights, e.g. `robust-cli transfer --dataset caltech101`.
    """
    from keras_robust.models import holds_weights, model_names, resolve_model
    from keras_robust.transfer import (
        FeatureCache, FeatureExtractor, evaluate_transfer, open_source, resolve_distortion,
    )

    source = open_source(dataset, data_dir=data_dir, download=download, limit=limit, seed=seed)
    output = Path(output or Path("runs/transfer") / f"{source.name}.json")
    for path in (output, output.with_suffix(".csv")):
        options.refuse_existing(path, overwrite, inputs=[dataset, data_dir, *models, weights])
    extractors = []
    for name, spec in zip(model_names(models), models):
        is_file = holds_weights(spec)
        model = resolve_model(spec, None if is_file else weights)
        name += "" if is_file or weights == "default" else f"[{weights or 'random'}]"
        extractors.append(FeatureExtractor(model, layer=layer, batch_size=batch_size, name=name, dataset=dataset))
    chosen = [resolve_distortion(name, levels, preset=preset) for name in distortions]
    results = evaluate_transfer(
        extractors, source, chosen, n_train=n_train, n_val=n_val, n_test=n_test, n_splits=splits, seed=seed,
        svm_training=svm_training, cache=None if no_cache else FeatureCache(cache_dir),
        batch_size=batch_size, verbose=not quiet,
    )
    results.save(output, overwrite=overwrite)
    results.save(output.with_suffix(".csv"), overwrite=overwrite)
    protocol = results.protocol
    click.echo(
        f"\n{source.name}: {protocol['classes']} classes, {n_train} train + {n_val} val per class, "
        f"{'all other' if n_test is None else n_test} test per class, {splits} splits; mean per-class accuracy"
    )
    click.echo(results.to_markdown())
    click.echo(f"Wrote {output} and {output.with_suffix('.csv')}")
