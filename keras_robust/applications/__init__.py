"""keras.applications-style image classifiers, plain and with push-pull layers.

Every builder takes `include_top, weights, input_tensor, input_shape, pooling,
classes, classifier_activation, name`; its models take raw pixels in
[0, 255] and normalize inside. `weights="cifar10"` loads the push-pull
authors' CIFAR-10 checkpoints shipped with the package (ResNet20-56, their PP
versions, DenseNet40_12 and DenseNet100_12 and their PP versions).
`BUILDERS` maps every builder's name to the builder.
"""

from keras_robust.applications.alexnet_cifar import AlexNetCIFAR
from keras_robust.applications.densenet_cifar import DenseNetCIFAR
from keras_robust.applications.lenet import LeNet
from keras_robust.applications.named_builders import named_builder
from keras_robust.applications.resnet_cifar import ResNetCIFAR
from keras_robust.applications.push_pull_conversion import to_push_pull
from keras_robust.applications.torch_weights import load_torch_checkpoint

ResNet20 = named_builder("ResNet20", ResNetCIFAR, depth=20)
ResNet32 = named_builder("ResNet32", ResNetCIFAR, depth=32)
ResNet44 = named_builder("ResNet44", ResNetCIFAR, depth=44)
ResNet56 = named_builder("ResNet56", ResNetCIFAR, depth=56)
ResNet20PP = named_builder("ResNet20PP", ResNetCIFAR, depth=20, push_pull=True)
ResNet32PP = named_builder("ResNet32PP", ResNetCIFAR, depth=32, push_pull=True)
ResNet44PP = named_builder("ResNet44PP", ResNetCIFAR, depth=44, push_pull=True)
ResNet56PP = named_builder("ResNet56PP", ResNetCIFAR, depth=56, push_pull=True)
DenseNet40_12 = named_builder("DenseNet40_12", DenseNetCIFAR, depth=40, growth_rate=12)
DenseNet100_12 = named_builder("DenseNet100_12", DenseNetCIFAR, depth=100, growth_rate=12)
DenseNet100_24 = named_builder("DenseNet100_24", DenseNetCIFAR, depth=100, growth_rate=24)
DenseNet40_12PP = named_builder(
    "DenseNet40_12PP", DenseNetCIFAR, depth=40, growth_rate=12, push_pull=True
)
DenseNet100_12PP = named_builder(
    "DenseNet100_12PP", DenseNetCIFAR, depth=100, growth_rate=12, push_pull=True
)
DenseNet100_24PP = named_builder(
    "DenseNet100_24PP", DenseNetCIFAR, depth=100, growth_rate=24, push_pull=True
)
LeNetA = named_builder("LeNetA", LeNet, variant="A")
LeNetB = named_builder("LeNetB", LeNet, variant="B")
LeNetC = named_builder("LeNetC", LeNet, variant="C")
LeNetD = named_builder("LeNetD", LeNet, variant="D")
LeNetPA = named_builder("LeNetPA", LeNet, variant="PA")
LeNetPB = named_builder("LeNetPB", LeNet, variant="PB")
LeNetPC = named_builder("LeNetPC", LeNet, variant="PC")
LeNetPD = named_builder("LeNetPD", LeNet, variant="PD")

BUILDERS = {
    builder.__name__: builder
    for builder in (
        ResNet20, ResNet32, ResNet44, ResNet56,
        ResNet20PP, ResNet32PP, ResNet44PP, ResNet56PP,
        DenseNet40_12, DenseNet100_12, DenseNet100_24,
        DenseNet40_12PP, DenseNet100_12PP, DenseNet100_24PP,
        LeNetA, LeNetB, LeNetC, LeNetD, LeNetPA, LeNetPB, LeNetPC, LeNetPD,
        AlexNetCIFAR,
    )
}

__all__ = [
    *BUILDERS,
    "BUILDERS",
    "DenseNetCIFAR",
    "LeNet",
    "ResNetCIFAR",
    "load_torch_checkpoint",
    "to_push_pull",
]
