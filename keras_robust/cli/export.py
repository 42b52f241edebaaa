"""`robust-cli export`: write a model as a TensorFlow SavedModel."""

import click


@click.command()
@click.argument("model")
@click.argument("path", type=click.Path())
@click.option(
    "--weights",
    default=None,
    help='For builder names: "cifar10" (pretrained) or a weights file; random weights if omitted.',
)
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def export(model, path, weights, overwrite):
    """Export MODEL (a builder name such as ResNet20PP, or a .keras file) to the SavedModel folder PATH.

    The SavedModel's `serve` function takes uint8 or float32 RGB images in
    [0, 255] of any batch size and returns logits and probabilities.
    """
    from keras_robust.export import export_saved_model
    from keras_robust.models import class_names, resolve_model

    keras_model = resolve_model(model, weights=weights)
    names = class_names(weights, keras_model.outputs[0].shape[-1])
    export_saved_model(keras_model, path, class_names=names, overwrite=overwrite)
    click.echo(f"Exported {keras_model.name} to {path}")
