"""The builder names of `keras_robust.applications`, importable without Keras (so that `robust-cli` can refuse an
unknown name before TensorFlow loads). `keras_robust.applications.BUILDERS` maps exactly these names."""

import difflib

# In the order of the papers' tables.
MODEL_NAMES = (
    "ResNet20", "ResNet32", "ResNet44", "ResNet56", "ResNet20PP", "ResNet32PP", "ResNet44PP", "ResNet56PP",
    "DenseNet40_12", "DenseNet100_12", "DenseNet100_24", "DenseNet40_12PP", "DenseNet100_12PP", "DenseNet100_24PP",
    "LeNetA", "LeNetB", "LeNetC", "LeNetD", "LeNetPA", "LeNetPB", "LeNetPC", "LeNetPD",
    "AlexNetCIFAR",
)


def canonical_name(name):
    """`name` as spelled in `MODEL_NAMES` (matched case-insensitively), or `None`."""
    return {known.lower(): known for known in MODEL_NAMES}.get(str(name).lower())


def closest_name(name):
    """The builder name closest to `name`, or `None` when none is close."""
    def similarity(known):
        return difflib.SequenceMatcher(None, str(name).lower(), known.lower()).ratio()

    best = max(MODEL_NAMES, key=similarity)  # ties go to the first in the tables' order
    return best if similarity(best) >= 0.6 else None
