"""`robust-cli corrupt`: a corrupted copy of a dataset, in the CIFAR-10-C layout."""

import json
import sys

import click

from keras_robust.cli.benchmark import corruption_list, int_list


@click.command()
@click.argument("source")
@click.option("--output", required=True, type=click.Path(),
              help="A folder (CIFAR-10-C layout: <corruption>.npy with the severities stacked, labels.npy) "
                   "or a .npz file with the same arrays.")
@click.option("--corruptions", "corruption_names", default="all", show_default=True,
              help="'all', a subset (noise, blur, weather, digital) or comma-separated corruption names.")
@click.option("--severities", default="1,2,3,4,5", show_default=True, help="Comma-separated severities.")
@click.option("--preset", default="cifar", show_default=True, help="Corruption parameter preset.")
@click.option("--split", default="test", show_default=True, help="Split of a tfds dataset or archive.")
@click.option("--data-dir", default=None, type=click.Path(), help="tfds data folder.")
@click.option("--download", is_flag=True, help="Let tfds download a dataset that is not prepared.")
@click.option("--limit", type=int, default=None, help="Corrupt this many images (a seeded random subset).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def corrupt(source, output, corruption_names, severities, preset, split, data_dir, download, limit, seed,
            overwrite):
    """Write corrupted copies of SOURCE: a tfds name, a folder of class
    sub-folders, a .tar.gz of <split>/<class>/ images, or an .npz file with
    images and labels.

    Each <corruption> array holds every image at the first severity, then at
    the next, and so on; labels.npy repeats the labels once per severity.
    """
    from pathlib import Path

    import numpy as np

    from keras_robust.atomic import atomic_output
    from keras_robust.benchmarking.evaluation import distortion_tasks
    from keras_robust.datasets import load_images

    if Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} already exists. Pass --overwrite to replace it.")
    names = corruption_list(corruption_names)
    severity_list = int_list(severities, "--severities")
    tasks = distortion_tasks(names, severity_list, preset=preset, seed=seed)
    data = load_images(source, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
    arrays = {}
    with click.progressbar(tasks, label=f"Corrupting {len(data.labels)} images",
                           file=sys.stderr,
                           item_show_func=lambda t: t and f"{t[0]} {t[1]}") as bar:
        for name, _, apply in bar:
            arrays.setdefault(name, []).append(apply(data.images))
    arrays = {name: np.concatenate(parts) for name, parts in arrays.items()}
    arrays["labels"] = np.tile(data.labels, len(severity_list))
    info = {"source": str(source), "split": split, "severities": severity_list, "preset": preset, "seed": seed,
            "images_per_severity": int(len(data.labels)), "class_names": list(data.class_names)}
    with atomic_output(output, overwrite=overwrite, suffix=".npz" if output.endswith(".npz") else "") as tmp:
        if output.endswith(".npz"):
            with open(tmp, "wb") as file:
                np.savez(file, **arrays, info=np.array(json.dumps(info)))
        else:
            tmp.mkdir()
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
            (tmp / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    click.echo(f"Wrote {len(names)} corruption(s) x {len(severity_list)} severities of "
               f"{len(data.labels)} images to {output}")
