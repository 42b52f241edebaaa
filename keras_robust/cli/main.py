"""Entry point of `robust-cli`: one click group, one module per command."""

import os
import pickle
import tarfile
import zipfile
import zlib

import click

# Errors a user can cause and fix (bad arguments, missing or unreadable files, full or read-only disks, broken or
# truncated archives and compressed streams, refused pickles, inputs too large for the machine's memory): printed as
# one line, exit status 1, no traceback. KeyError, AttributeError, TypeError and the rest are bugs and keep their
# traceback.
USER_ERRORS = (ValueError, OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error,
               pickle.UnpicklingError, MemoryError)


class RobustGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except MemoryError as error:
            raise click.ClickException(f"not enough memory for this input ({error or 'MemoryError'}); use fewer "
                                       "or smaller images (--limit) or a machine with more memory") from None
        except USER_ERRORS as error:
            raise click.ClickException(str(error) or type(error).__name__) from None


@click.group(cls=RobustGroup)
@click.version_option(package_name="keras_robust")
@click.option("--verbose", is_flag=True, help="Show the backends' log lines (TensorFlow, absl, CUDA probes).")
def cli(verbose):
    """Robustness of Keras image classifiers to common corruptions."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from keras_robust.cli.backend_noise import filter_stderr

        filter_stderr()


def _register():
    # Each command module defines one click command named after the module.
    from importlib import import_module

    for module_name in COMMANDS:
        module = import_module(f"keras_robust.cli.{module_name}")
        cli.add_command(getattr(module, module_name))


# In the order a user meets them (the command-line reference follows it).
COMMANDS = ["benchmark", "corrupt", "train", "rank", "deepcorrect", "transfer", "export", "predict"]
_register()
