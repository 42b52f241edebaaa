"""`robust-cli export`: write a model as a TensorFlow SavedModel."""

import click

from keras_robust.cli import options


@click.command()
@options.model_option(required=True)
@options.weights_option()
@options.output_option(required=True, help="SavedModel folder to write.")
@options.overwrite_option()
def export(model, weights, output, overwrite):
    """Export --model (a builder name such as ResNet20PP, or a .keras file) to the SavedModel folder --output.

    The SavedModel's `serve` function takes uint8 or float32 RGB images in
    [0, 255] of any batch size and returns logits and probabilities.
    """
    from keras_robust.export import export_saved_model
    from keras_robust.models import class_names, pretrained_record, resolve_model

    options.refuse_existing(output, overwrite, inputs=[model, weights])
    keras_model = resolve_model(model, weights)
    names = class_names(pretrained_record(model, weights), keras_model.outputs[0].shape[-1])
    export_saved_model(keras_model, output, class_names=names, overwrite=overwrite)
    click.echo(f"Exported {keras_model.name} to {output}")

