"""keras.applications-style image classifiers, plain and with push-pull layers.

Every builder takes `include_top, weights, input_tensor, input_shape, pooling,
classes, classifier_activation, name` (plus its own options, such as the
push-pull layer's `alpha`, `scale` and `trainable_alpha`); its models take raw
pixels in [0, 255] and normalize inside. Like keras.applications, a builder
loads its pretrained weights by default where some ship with the package
(`ResNet20PP()` is the push-pull authors' CIFAR-10 model; `weights=None`
gives a random network). `WEIGHTS` holds one `PretrainedWeights` record per
shipped weights; `BUILDERS` maps every builder's name to the builder;
`list_models` lists them.
"""

from keras_robust.applications.alexnet_cifar import AlexNetCIFAR
from keras_robust.applications.densenet_cifar import (
    DenseNet40_12, DenseNet40_12PP, DenseNet100_12, DenseNet100_12PP, DenseNet100_24, DenseNet100_24PP,
    DenseNetCIFAR,
)
from keras_robust.applications.lenet import (
    LeNet, LeNetA, LeNetB, LeNetC, LeNetD, LeNetPA, LeNetPB, LeNetPC, LeNetPD,
)
from keras_robust.applications.pretrained import WEIGHTS, PretrainedWeights, pretrained_weights
from keras_robust.pushpull import to_push_pull
from keras_robust.applications.registry import BUILDERS, get_builder, list_models
from keras_robust.applications.resnet_cifar import (
    ResNet20, ResNet20PP, ResNet32, ResNet32PP, ResNet44, ResNet44PP, ResNet56, ResNet56PP, ResNetCIFAR,
)
from keras_robust.applications.torch_weights import load_torch_checkpoint

__all__ = [
    "AlexNetCIFAR",
    "BUILDERS",
    "DenseNet100_12",
    "DenseNet100_12PP",
    "DenseNet100_24",
    "DenseNet100_24PP",
    "DenseNet40_12",
    "DenseNet40_12PP",
    "DenseNetCIFAR",
    "LeNet",
    "LeNetA",
    "LeNetB",
    "LeNetC",
    "LeNetD",
    "LeNetPA",
    "LeNetPB",
    "LeNetPC",
    "LeNetPD",
    "PretrainedWeights",
    "ResNet20",
    "ResNet20PP",
    "ResNet32",
    "ResNet32PP",
    "ResNet44",
    "ResNet44PP",
    "ResNet56",
    "ResNet56PP",
    "ResNetCIFAR",
    "WEIGHTS",
    "get_builder",
    "list_models",
    "load_torch_checkpoint",
    "pretrained_weights",
    "to_push_pull",
]
