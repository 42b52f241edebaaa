"""`robust-cli predict`: top-k classes of image files with an exported or .keras model."""

import click

from keras_robust.cli import options

BATCH_SIZE = 256


def _read_labels(path, classes):
    names = [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    if len(names) != classes:
        raise ValueError(
            f"--labels must list one name per line for the model's {classes} classes. "
            f"Received: {len(names)} names in {path}"
        )
    return names


@click.command()
@options.model_option(required=True, folders=True,
                      help="A builder name (with its shipped pretrained weights, e.g. ResNet20PP), a .keras file "
                           "or a folder written by `robust-cli export`.")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--top-k", "-k", default=3, show_default=True, type=click.IntRange(min=1),
              help="How many classes to print per image, best first.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="Text file with one class name per line.")
@click.option("--trust-saved-model", is_flag=True,
              help="Allow a SavedModel folder as --model. SavedModels are programs: loading one runs its code.")
@options.quiet_option()
def predict(model, images, top_k, labels, trust_saved_model, quiet):
    """Print the top-k classes of IMAGES (files or folders) under --model.

    Images (JPEG, PNG, BMP, GIF, PPM, TIFF, WebP) of another size than the
    model's input are resized to it, and a note says so. A .keras file is
    loaded in safe mode; a SavedModel folder only with --trust-saved-model.
    """
    import os

    import numpy as np

    from keras_robust.export import Classifier
    from keras_robust.image_files import list_images, read_image
    from keras_robust.progress import progress

    if os.path.isdir(model) and not trust_saved_model:
        raise ValueError(
            f"{model} is a TensorFlow SavedModel folder. SavedModels are programs: loading and calling one runs "
            "whatever operations its author put in it (reading and writing files included), so it is refused "
            "unless you trust where it came from: pass --trust-saved-model, or use a .keras file (loaded in safe "
            f"mode). Received: --model {model}"
        )
    classifier = Classifier(model)
    files = list_images(images)
    names = None
    starts = range(0, len(files), BATCH_SIZE)
    for start in progress(starts, label=f"Classifying {len(files)} images", verbose=not quiet and len(starts) > 1):
        batch = files[start : start + BATCH_SIZE]
        pixels = []
        for file in batch:
            image, resized = read_image(file, classifier.input_shape)
            if resized:
                click.echo(f"note: {file} resized to {image.shape[0]}x{image.shape[1]}", err=True)
            pixels.append(image)
        probabilities = classifier(np.stack(pixels))["probabilities"]
        if names is None:
            classes = probabilities.shape[-1]
            names = (
                _read_labels(labels, classes) if labels
                else classifier.class_names or [str(index) for index in range(classes)]
            )
        for file, row in zip(batch, probabilities):
            best = np.argsort(-row, kind="stable")[:top_k]
            click.echo(f"{file}: " + ", ".join(f"{names[i]} {row[i]:.3f}" for i in best))
