"""Entry point of `robust-cli`: one click group, one module per command."""

import os

import click

# Errors a user can cause and fix: printed as one line, exit status 1, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError, KeyError)


class RobustGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except USER_ERRORS as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise click.ClickException(str(message)) from None


@click.group(cls=RobustGroup)
@click.version_option(package_name="keras_robust")
def cli():
    """Robustness of Keras image classifiers to common corruptions."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _register():
    # Each command module defines one click command named after the module.
    from importlib import import_module

    for module_name in COMMANDS:
        module = import_module(f"keras_robust.cli.{module_name}")
        cli.add_command(getattr(module, module_name))


COMMANDS = ["export", "predict", "transfer", "benchmark", "corrupt", "train", "rank", "deepcorrect"]
_register()
