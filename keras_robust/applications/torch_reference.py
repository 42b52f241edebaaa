"""PyTorch twins of the package's CIFAR models, written from the authors' architecture facts (`../shared/README.md`).

The references that the shipped weights are checked against (`tests/test_pretrained.py`: the authors'
checkpoints load into them with `strict=True`) and that the training benchmark times the Keras models against
(`benchmarks/training_speed.py`). Needs the `torch` extra.
"""

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F


class PushPull(nn.Module):
    """The push–pull layer with alpha 1 and scale 2: the pull kernel is the push kernel upsampled and negated."""

    def __init__(self, cin, cout, kernel_size=3, bias=False):
        super().__init__()
        self.push = nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=bias)
        self.pull_size = 2 * kernel_size + 1

    def forward(self, x):
        pull = F.interpolate(self.push.weight, size=(self.pull_size, self.pull_size), mode="bilinear",
                             align_corners=True)
        pulled = F.conv2d(x, -pull, padding=self.pull_size // 2)
        if self.push.bias is not None:
            pulled = pulled + self.push.bias[None, :, None, None]
        return F.relu(self.push(x)) - F.relu(pulled)


def stem(cout, push_pull):
    return PushPull(3, cout) if push_pull else nn.Conv2d(3, cout, 3, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(nn.Module):
    def __init__(self, depth, push_pull):
        super().__init__()
        self.conv1, self.bn1 = stem(16, push_pull), nn.BatchNorm2d(16)
        cin = 16
        for stage, width in enumerate((16, 32, 64)):
            blocks = []
            for block in range((depth - 2) // 6):
                blocks.append(BasicBlock(cin, width, 2 if stage and not block else 1))
                cin = width
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.fc(self.layer3(self.layer2(self.layer1(x))).mean((2, 3)))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))
        return torch.cat([x, y], 1)


class TorchDenseNet(nn.Module):
    def __init__(self, depth, growth, push_pull):
        super().__init__()
        features, channels, layers = OrderedDict(conv0=stem(24, push_pull)), 24, (depth - 4) // 6
        for block in (1, 2, 3):
            features[f"denseblock{block}"] = nn.Sequential(OrderedDict(
                (f"denselayer{i + 1}", DenseLayer(channels + i * growth, growth)) for i in range(layers)
            ))
            channels += layers * growth
            if block < 3:
                features[f"transition{block}"] = nn.Sequential(OrderedDict(
                    norm=nn.BatchNorm2d(channels), relu=nn.ReLU(),
                    conv=nn.Conv2d(channels, channels // 2, 1, bias=False), pool=nn.AvgPool2d(2),
                ))
                channels //= 2
        features["norm_final"] = nn.BatchNorm2d(channels)
        self.features, self.classifier = nn.Sequential(features), nn.Linear(channels, 10)

    def forward(self, x):
        return self.classifier(F.relu(self.features(x)).mean((2, 3)))


class TorchLeNet(nn.Module):
    """LeNet of the push–pull paper's Table 1 (`keras_robust.applications.LeNet`), plain or push–pull first layer.

    For timing: the same layers and shapes as the Keras model; its push–pull bias is not checked against the
    authors' code (their LeNet checkpoints are not available).
    """

    def __init__(self, first=6, second=16, hidden=(128, 64), push_pull=False, classes=10):
        super().__init__()
        self.conv1 = PushPull(1, first, kernel_size=5, bias=True) if push_pull else nn.Conv2d(1, first, 5, padding=2)
        self.conv2 = nn.Conv2d(first, second, 5)
        sizes = (second * 25, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.fc = nn.Linear(sizes[-1], classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.fc(x)
