"""`robust-cli corrupt`: a corrupted copy of a dataset, in the CIFAR-10-C layout."""

import json

import click

from keras_robust.cli import options


@click.command()
@options.dataset_options(help="Images to corrupt: " + options.DATASET_HELP)
@options.output_option(required=True,
                       help="A folder (CIFAR-10-C layout: <corruption>.npy with the severities stacked, labels.npy) "
                            "or a .npz file with the same arrays.")
@options.corruption_options()
@options.levels_option("1,2,3,4,5", help="Comma-separated severities.")
@options.limit_option(help="Corrupt this many images (a seeded random subset).")
@options.seed_option()
@options.overwrite_option()
@options.quiet_option()
def corrupt(dataset, split, data_dir, download, output, corruption_names, preset, levels, limit, seed, overwrite,
            quiet):
    """Write corrupted copies of --dataset.

    Each <corruption> array holds every image at the first severity, then at
    the next, and so on; labels.npy repeats the labels once per severity.
    """
    import numpy as np

    from keras_robust.atomic import atomic_output
    from keras_robust.benchmarking import corruption_names as chosen_names
    from keras_robust.benchmarking.evaluation import distortion_tasks
    from keras_robust.datasets import load_images
    from keras_robust.progress import progress

    options.refuse_existing(output, overwrite, inputs=[dataset, data_dir])
    names = chosen_names(corruption_names)
    tasks = distortion_tasks(names, levels, preset=preset, seed=seed)
    data = load_images(dataset, split, data_dir=data_dir, download=download, limit=limit, seed=seed)
    arrays = {}
    for task in progress(tasks, label=f"Corrupting {len(data.labels)} images", verbose=not quiet,
                         describe=lambda task: f"{task.group} {task.level}"):
        arrays.setdefault(task.group, []).append(task.apply(data.images))
    arrays = {name: np.concatenate(parts) for name, parts in arrays.items()}
    arrays["labels"] = np.tile(data.labels, len(levels))
    info = {"source": str(dataset), "split": split, "severities": list(levels), "preset": preset, "seed": seed,
            "images_per_severity": int(len(data.labels)), "class_names": list(data.class_names)}
    is_npz = str(output).endswith(".npz")
    with atomic_output(output, overwrite=overwrite, suffix=".npz" if is_npz else "") as tmp:
        if is_npz:
            with open(tmp, "wb") as file:
                np.savez(file, **arrays, info=np.array(json.dumps(info)))
        else:
            tmp.mkdir()
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
            (tmp / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    click.echo(f"Wrote {len(names)} corruption(s) x {len(levels)} severities of {len(data.labels)} images to {output}")
