"""The one mapping from model names to builders: `BUILDERS`, `list_models`, `get_builder`."""

import fnmatch

from keras_robust.applications.alexnet_cifar import AlexNetCIFAR
from keras_robust.applications.densenet_cifar import (
    DenseNet40_12, DenseNet40_12PP, DenseNet100_12, DenseNet100_12PP, DenseNet100_24, DenseNet100_24PP,
)
from keras_robust.applications.lenet import LeNetA, LeNetB, LeNetC, LeNetD, LeNetPA, LeNetPB, LeNetPC, LeNetPD
from keras_robust.applications.pretrained import WEIGHTS
from keras_robust.applications.resnet_cifar import (
    ResNet20, ResNet20PP, ResNet32, ResNet32PP, ResNet44, ResNet44PP, ResNet56, ResNet56PP,
)
from keras_robust.model_names import MODEL_NAMES

# Every model the package builds, by name (`keras_robust.model_names`, in the order of the paper's tables).
BUILDERS = {name: globals()[name] for name in MODEL_NAMES}


def list_models(filter=None, *, pretrained=None):
    """Names of the models of `keras_robust.applications`, like `timm.list_models`.

    Args:
        filter: optional shell-style pattern matched case-insensitively
            against the names (e.g. `"resnet*pp"`).
        pretrained: `None` (every model), `True` (models with shipped
            pretrained weights), `False` (models without), or the name of
            weights (e.g. `"cifar10"`): the models that ship those weights.

    Returns:
        A list of builder names, in the order of `BUILDERS` (the papers'
        tables).

    Example:

    >>> from keras_robust.applications import list_models
    >>> list_models("resnet2*", pretrained=True)
    ['ResNet20', 'ResNet20PP']
    """
    if pretrained is not None and not isinstance(pretrained, (bool, str)):
        raise ValueError(
            "`pretrained` must be None, True, False or the name of weights such as 'cifar10'. "
            f"Received: pretrained={pretrained!r}"
        )
    if filter is not None and not isinstance(filter, str):
        raise ValueError(f"`filter` must be a pattern string such as 'resnet*'. Received: filter={filter!r}")
    names = []
    for name in BUILDERS:
        shipped = {record.name for record in WEIGHTS.values() if record.model == name}
        if isinstance(pretrained, bool) and bool(shipped) != pretrained:
            continue
        if isinstance(pretrained, str) and pretrained not in shipped:
            continue
        if filter is None or fnmatch.fnmatch(name.lower(), filter.lower()):
            names.append(name)
    return names


def get_builder(name):
    """The builder called `name` (case-insensitive), e.g. `get_builder("resnet20pp") is ResNet20PP`.

    Raises:
        ValueError: no builder has that name; the message lists them.

    Example:

    >>> from keras_robust.applications import get_builder
    >>> get_builder("resnet20pp").__name__
    'ResNet20PP'
    """
    by_lower = {key.lower(): builder for key, builder in BUILDERS.items()}
    if not isinstance(name, str) or name.lower() not in by_lower:
        raise ValueError(f"Unknown model {name!r}. Accepted: {', '.join(BUILDERS)}.")
    return by_lower[name.lower()]
