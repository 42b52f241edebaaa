"""The ImageNet AlexNet and ResNet18 of the DeepCorrect paper (no weights).

They exist to reproduce the paper's configurations and FLOPs (Tables III,
IV, IX, X); `ALEXNET_DEEPCORRECT` and `RESNET18_DEEPCORRECT` hold the
`build_deepcorrect` arguments of Fig. 6 and Table X.
"""

import keras
from keras import layers


def alexnet_imagenet(classes=1000, name="alexnet"):
    """Caffe AlexNet (Fig. 2a): 227×227 input, grouped conv2, conv4, conv5."""
    inputs = keras.Input((227, 227, 3))
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, 2)(x)
    x = layers.Conv2D(256, 5, padding="same", groups=2, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, 2)(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, 3, padding="same", groups=2, activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", groups=2, activation="relu", name="conv5")(x)
    x = layers.Flatten()(layers.MaxPooling2D(3, 2)(x))
    x = layers.Dense(4096, activation="relu", name="fc6")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc8")(x)
    return keras.Model(inputs, outputs, name=name)


def _basic_block(x, filters, stride, name):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.ReLU()(layers.BatchNormalization(name=f"{name}_bn1")(y))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_down")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_down_bn")(shortcut)
    return layers.ReLU()(layers.Add(name=f"{name}_add")([shortcut, y]))


def resnet18_imagenet(classes=1000, name="resnet18"):
    """ResNet18 (He et al.), 224×224 input; block `s_b` adds in `layer{s}_{b}_add`."""
    inputs = keras.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.ReLU()(layers.BatchNormalization(name="bn1")(x))
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for block in (1, 2):
            stride = 2 if stage > 1 and block == 1 else 1
            x = _basic_block(x, filters, stride, f"layer{stage}_{block}")
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
    return keras.Model(inputs, outputs, name=name)


# Fig. 6: β = 0.75 in conv1-2, 0.5 in conv3-5; Deepcorr's first unit is 5×5.
ALEXNET_DEEPCORRECT = {
    "betas": {"conv1": 0.75, "conv2": 0.75, "conv3": 0.5, "conv4": 0.5, "conv5": 0.5},
    "full": {"kernel_sizes": {"conv1": 5}},
    "bottleneck": {},
    "rank_constrained": {"ranks": {"conv1": 27, "conv2": 72, "conv3": 72, "conv4": 72, "conv5": 48}},
}
# Table X: β = 0.75 after conv1 and after every skip-connection merge; the
# bottleneck depth is 31/48 of βN and P = βN/2; the last dense layer trains.
_RESNET18_POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3, 4) for b in (1, 2)]
_BOTTLENECK = dict(zip(_RESNET18_POINTS, (31, 31, 31, 62, 62, 124, 124, 248, 248)))
RESNET18_DEEPCORRECT = {
    "betas": {point: 0.75 for point in _RESNET18_POINTS},
    "full": {},
    "bottleneck": {"depths": _BOTTLENECK},
    "rank_constrained": {
        "depths": _BOTTLENECK,
        "ranks": dict(zip(_RESNET18_POINTS, (24, 24, 24, 48, 48, 96, 96, 192, 192))),
    },
    "trainable_layers": ("fc",),
}
