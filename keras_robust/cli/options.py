"""Options shared by the `robust-cli` commands, defined once so every verb uses the same words.

`--model`, `--weights`, `--dataset`, `--split`, `--limit`, `--levels`,
`--output/-o`, `--overwrite`, `--seed` and `--quiet` mean the same on every
command. Only click is imported here, so `robust-cli --help` stays fast.
"""

import click

MODEL_HELP = "Builder name of keras_robust.applications (ResNet20PP, LeNetA, ...) or .keras file."
DATASET_HELP = ("A tfds name, a folder of class sub-folders, a folder or .tar.gz of <split>/<class>/<image>, "
                "or an .npz with images and labels.")
WEIGHTS_HELP = ('Weights of builder names: "default" (the pretrained ones where shipped, e.g. CIFAR-10 for '
                'ResNet20PP), "none" (random), "cifar10" or a weights file.')


def parse_levels(text):
    """Comma-separated numbers -> a tuple of ints and floats (`"1,2.5"` -> `(1, 2.5)`); empty -> `None`."""
    if text is None or not str(text).strip():
        return None
    try:
        return tuple(int(v) if v.strip().lstrip("-").isdigit() else float(v) for v in str(text).split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, e.g. 1,2,3. Received: {text!r}") from None


def _default(value):
    """`default=` only when there is one: click 8.3+ takes an explicit `default=None` as a value that satisfies
    `required=True`, so a required option would go missing silently."""
    return {} if value is None else {"default": value}


def compose(*decorators):
    """One decorator applying `decorators` in the order they are written."""
    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


def check_model(value, *, folders=False):
    """A `--model` value: an existing file (or folder, where `folders`), or a builder name, returned as spelled in
    `keras_robust.model_names`. Anything else is refused here, before TensorFlow loads, with the closest name."""
    from pathlib import Path

    from keras_robust.model_names import MODEL_NAMES, canonical_name, closest_name

    path = Path(value).expanduser()
    if path.is_file() or (folders and path.is_dir()):
        return value
    if canonical_name(value):
        return canonical_name(value)
    accepted = f"a builder name ({', '.join(MODEL_NAMES)}) or a .keras file"
    if folders:
        accepted += " or a folder written by `robust-cli export`"
    if path.is_dir():
        raise click.BadParameter(f"{value} is a folder; expected {accepted}.")
    if value.endswith(".keras") or "/" in value or path.suffix:
        raise click.BadParameter(f"no such file: {value}. Expected {accepted}.")
    closest = closest_name(value)
    hint = f" Did you mean {closest}?" if closest else ""
    raise click.BadParameter(f"unknown model {value!r}.{hint} Expected {accepted}.")


def model_option(*, multiple=False, required=False, default=None, help=MODEL_HELP, folders=False):
    """`--model NAME|FILE`, checked by `check_model` (and `folders`: an exported SavedModel folder too)."""
    dest = "models" if multiple else "model"

    def convert(ctx, param, value):
        if value is None:
            return value
        if multiple:
            return tuple(check_model(v, folders=folders) for v in value)
        return check_model(value, folders=folders)

    return click.option("--model", dest, multiple=multiple, required=required, **_default(default),
                        metavar="NAME|FILE", callback=convert, help=help)


def weights_option(default=None):
    """`--weights`; `None` means the builders' default (their pretrained weights where shipped)."""
    def convert(ctx, param, value):
        if value is None or value == "default":
            return "default"
        return None if value.lower() == "none" else value

    return click.option("--weights", default=default, callback=convert, help=WEIGHTS_HELP)


def dataset_options(*, required=True, help=DATASET_HELP, split="test"):
    """`--dataset`, `--split`, `--data-dir` and `--download`: where the images come from (`split=None`: a
    command that reads every split, without `--split`)."""
    return compose(
        click.option("--dataset", required=required, metavar="SOURCE", help=help),
        *([click.option("--split", default=split, show_default=True, help="Split of a tfds dataset or archive.")]
          if split is not None else []),
        click.option("--data-dir", default=None, type=click.Path(file_okay=False),
                     help="tfds data folder where the dataset was prepared."),
        click.option("--download", is_flag=True, help="Let tfds download and prepare a dataset that is not prepared."),
    )


def limit_option(default=None, help="Use this many images (a seeded random subset)."):
    return click.option("--limit", default=default, show_default=default is not None,
                        type=click.IntRange(min=1), help=help)


def levels_option(default=None, help="Comma-separated distortion levels."):
    return click.option("--levels", default=default, show_default=default is not None,
                        callback=lambda ctx, param, value: parse_levels(value), help=help)


def output_option(*, required=False, default=None, help="File or folder to write."):
    return click.option("--output", "-o", required=required, **_default(default), show_default=default is not None,
                        type=click.Path(), help=help)


def overwrite_option():
    return click.option("--overwrite", is_flag=True, help="Replace an existing output.")


def seed_option(default=0, help="Seed of the image subset, the distortions and random weights."):
    return click.option("--seed", **_default(default), show_default=default is not None, type=click.IntRange(min=0),
                        help=help)


def batch_size_option(default, minimum=1, help=None):
    """`--batch-size`: a whole number of at least `minimum` (`default=None`: the command chooses)."""
    return click.option("--batch-size", **_default(default), show_default=default is not None,
                        type=click.IntRange(min=minimum), help=help)


def distribute_option(help="mirrored: every GPU of this machine; multiworker: the machines of TF_CONFIG (run the "
                      "same command on each, only worker 0 writes). TensorFlow backend only."):
    """`--distribute mirrored|multiworker`: the `tf.distribute` strategy (`keras_robust.distribution`); the names are
    literal here so that `robust-cli --help` does not import TensorFlow, and the library checks them again."""
    return click.option("--distribute", default=None, type=click.Choice(["mirrored", "multiworker"]), help=help)


def strategy(distribute):
    """The strategy of `--distribute` (None without it), made before the command runs anything on TensorFlow."""
    if distribute is None:
        return None
    from keras_robust.distribution import distribution_strategy

    return distribution_strategy(distribute)


def writes_files(strategy):
    """Whether this process writes the command's output: yes, except on the non-chief workers of a cluster."""
    from keras_robust.distribution import is_chief

    return strategy is None or is_chief(strategy.cluster_resolver)


def quiet_option():
    return click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")


def corruption_options():
    """`--corruptions` and `--preset` of the 19 corruptions; their levels are `--levels` (severities)."""
    return compose(
        click.option("--corruptions", "corruption_names", default="all", show_default=True,
                     help="'all', a subset (noise, blur, weather, digital) or comma-separated corruption names."),
        click.option("--preset", default="cifar", show_default=True, help="Corruption parameter preset."),
    )


def refuse_existing(path, overwrite, inputs=()):
    """Check --output before any work (`keras_robust.atomic.check_output`).

    An existing output is refused without `--overwrite`; with it, only what the
    package wrote is replaced (never an input, the working directory or a
    folder it did not make); a missing or unwritable folder fails here.
    """
    from keras_robust.atomic import check_output

    if path is not None:
        check_output(path, overwrite=overwrite, inputs=inputs)
