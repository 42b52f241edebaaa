"""`robust-cli predict`: top-k classes of image files with an exported or .keras model."""

import click

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
@click.argument("path", type=click.Path())
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--top-k", "-k", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--labels", type=click.Path(), help="Text file with one class name per line.")
def predict(path, images, top_k, labels):
    """Print the top-k classes of IMAGES (files or folders) under the model at PATH.

    PATH is a folder written by `robust-cli export` or a .keras file. Images
    (JPEG, PNG, BMP, GIF; PPM, TIFF, WebP with Pillow installed) of another
    size than the model's input are resized to it, and a note says so.
    """
    import numpy as np

    from keras_robust.export import Classifier
    from keras_robust.image_files import list_images, read_image

    classifier = Classifier(path)
    files = list_images(images)
    names = None
    for start in range(0, len(files), BATCH_SIZE):
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
