"""The shipped CIFAR-10 weights reproduce the authors' PyTorch checkpoints.

A small PyTorch re-implementation of the authors' architectures (written
from the architecture facts in ../shared/README.md) loads each original
checkpoint with `strict=True`; the Keras model with `weights="cifar10"`
must give the same predictions and logits within 1e-4 on real CIFAR-10
test images (the JPEG copy).
"""

import hashlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from keras_robust import applications  # noqa: E402
from keras_robust.applications.torch_reference import TorchDenseNet, TorchResNet  # noqa: E402
from keras_robust.applications import model_builder  # noqa: E402
from keras_robust.datasets import load_cifar10_jpeg  # noqa: E402


# builder name -> (authors' checkpoint stem, PyTorch reference factory)
REFERENCES = {
    "ResNet20": ("resnet-20", lambda: TorchResNet(20, False)),
    "ResNet20PP": ("resnet-20-pp", lambda: TorchResNet(20, True)),
    "ResNet56PP": ("resnet-56-pp", lambda: TorchResNet(56, True)),
    "DenseNet40_12": ("densenet-40-12", lambda: TorchDenseNet(40, 12, False)),
    "DenseNet40_12PP": ("densenet-40-12-pp", lambda: TorchDenseNet(40, 12, True)),
    "DenseNet100_12PP": ("densenet-100-12-pp", lambda: TorchDenseNet(100, 12, True)),
}


@pytest.fixture(scope="module")
def cifar_images(shared_data):
    images, labels, _ = load_cifar10_jpeg(shared_data / "cifar10-jpeg" / "test.tar.gz", limit=32)
    return images, labels


def torch_logits(reference, images):
    mean = np.array(model_builder.CIFAR_MEAN, "float32")
    std = np.array(model_builder.CIFAR_STD, "float32")
    x = (images.astype("float32") / 255 - mean) / std
    with torch.no_grad():
        return reference.eval()(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()


@pytest.mark.parametrize("builder_name", sorted(REFERENCES))
def test_shipped_weights_match_authors_pytorch_forward(builder_name, shared_data, cifar_images):
    stem_name, factory = REFERENCES[builder_name]
    path = shared_data / "pushpull-checkpoints" / f"{stem_name}.pth.tar"
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    reference = factory()
    reference.load_state_dict(checkpoint["state_dict"], strict=True)
    images, labels = cifar_images
    expected = torch_logits(reference, images)

    model = applications.BUILDERS[builder_name](weights="cifar10", classifier_activation=None)
    logits = model.predict(images, verbose=0)

    np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=0)
    np.testing.assert_array_equal(logits.argmax(1), expected.argmax(1))
    # Trained models, not noise: most of these real test images are right.
    assert (logits.argmax(1) == labels).mean() > 0.6
    record = applications.WEIGHTS[f"{builder_name}.cifar10"]
    assert 100 * record.published_top1 == pytest.approx(float(checkpoint["best_prec1"]), abs=1e-4)
    assert record.epoch == checkpoint["epoch"]
    assert record.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # The builder's default is these weights: the same logits as asking for them.
    np.testing.assert_array_equal(applications.BUILDERS[builder_name](classifier_activation=None).predict(
        images, verbose=0), logits)


def test_loading_the_original_pth_equals_the_shipped_npz(shared_data, cifar_images):
    images = cifar_images[0][:8]
    shipped = applications.DenseNet40_12PP(weights="cifar10")
    original = applications.DenseNet40_12PP(
        weights=str(shared_data / "pushpull-checkpoints" / "densenet-40-12-pp.pth.tar")
    )
    for a, b in zip(shipped.get_weights(), original.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(shipped.predict(images, verbose=0), original.predict(images, verbose=0))


@pytest.mark.parametrize(
    "builder_name, factory",
    [
        ("ResNet20", lambda: TorchResNet(20, False)),
        ("ResNet44PP", lambda: TorchResNet(44, True)),
        ("DenseNet40_12", lambda: TorchDenseNet(40, 12, False)),
        ("DenseNet100_24PP", lambda: TorchDenseNet(100, 24, True)),
    ],
)
def test_parameter_counts_match_pytorch(builder_name, factory):
    reference = factory()
    expected = sum(
        tensor.numel() for key, tensor in reference.state_dict().items()
        if not key.endswith("num_batches_tracked")
    )
    assert applications.BUILDERS[builder_name](weights=None).count_params() == expected


def test_registry_records_every_shipped_checkpoint():
    records = applications.WEIGHTS.values()
    assert all(record.licence.startswith("MIT") for record in records)
    assert {record.model for record in records} == {
        *(f"ResNet{d}{pp}" for d in (20, 32, 44, 56) for pp in ("", "PP")),
        *(f"DenseNet{d}_12{pp}" for d in (40, 100) for pp in ("", "PP")),
    }
    for record in records:
        assert record.verified_path().is_file()
