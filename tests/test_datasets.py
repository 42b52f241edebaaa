"""The embedded CIFAR-10 sample and the released-corruption data source."""

import numpy as np
import pytest

from keras_robust.datasets import CIFAR10_CLASSES, load_cifar10_jpeg, load_cifar10_sample
from keras_robust.datasets import image_source
from keras_robust.datasets.cifar10_sample import SAMPLE_FILE


def test_sample_is_balanced_uint8_cifar():
    images, labels, names = load_cifar10_sample()
    assert images.shape == (1000, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and names == CIFAR10_CLASSES
    assert np.bincount(labels, minlength=10).tolist() == [100] * 10
    # real photographs, not a constant fill: every image has contrast and the images differ
    assert images.reshape(1000, -1).std(axis=1).min() > 5
    assert len({image.tobytes() for image in images}) == 1000


def test_sample_ships_its_origin():
    readme = (SAMPLE_FILE.parent / "README.md").read_text()
    assert "Krizhevsky" in readme and "JPEG" in readme and "quality 75" in readme


def test_sample_images_are_the_test_images_they_name(shared_data):
    with np.load(SAMPLE_FILE) as arrays:
        index = arrays["test_index"]
    images, labels, _ = load_cifar10_jpeg(shared_data / "cifar10-jpeg" / "test.tar.gz")
    sample, sample_labels, _ = load_cifar10_sample()
    np.testing.assert_array_equal(sample, images[index])
    np.testing.assert_array_equal(sample_labels, labels[index])


@pytest.fixture
def mock_network(monkeypatch):
    """tfds' mock data stands in for the network: the offline check would refuse before tfds' mocked download."""
    monkeypatch.setattr(image_source, "check_network", lambda name: None)


def test_released_cifar10_c_through_tfds_mock_data(mock_network):
    tfds = pytest.importorskip("tensorflow_datasets")
    from keras_robust.datasets import released_corruptions

    source = released_corruptions("cifar10_corrupted")
    assert source.config("elastic_transform", 2) == "cifar10_corrupted/elastic_2"
    with tfds.testing.mock_data(num_examples=12):
        full = source.load("glass_blur", 5, download=True)
        part = source.load("glass_blur", 5, download=True, limit=5, seed=1)
        clean = source.load_clean(download=True, limit=4)
    assert full.images.shape == (12, 32, 32, 3) and full.images.dtype == np.uint8
    assert full.class_names == list(CIFAR10_CLASSES) and set(full.labels) <= set(range(10))
    # a seeded subset keeps positions of the full set, in order
    rows = [next(i for i, image in enumerate(full.images) if np.array_equal(image, p)) for p in part.images]
    assert len(part.labels) == 5 and rows == sorted(rows)
    np.testing.assert_array_equal(part.labels, full.labels[rows])
    assert clean.images.shape == (4, 32, 32, 3)


def test_released_sets_are_named_and_not_downloaded_silently(tmp_path):
    from keras_robust.datasets import released_corruptions

    with pytest.raises(ValueError, match="Received: name='cifar10_c'.*cifar10_corrupted"):
        released_corruptions("cifar10_c")
    with pytest.raises(FileNotFoundError, match="not prepared.*--download"):
        released_corruptions("cifar10_corrupted").load("fog", 1, data_dir=str(tmp_path))


def test_robust_cli_benchmark_on_released_cifar10_c_with_tfds_mock_data(tmp_path, mock_network):
    tfds = pytest.importorskip("tensorflow_datasets")
    from click.testing import CliRunner

    from keras_robust.cli.main import cli

    args = ["benchmark", "--dataset", "cifar10_corrupted", "--download", "--corruptions", "fog,glass_blur",
            "--levels", "5", "--no-figures", "--quiet", "-o", str(tmp_path / "out")]
    with tfds.testing.mock_data(num_examples=16):
        outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 0, outcome.output
    report = (tmp_path / "out" / "report.md").read_text()
    assert "released CIFAR-10-C" in report and "Corruptions: released, not generated" in report
    assert "ResNet20PP" in report and "glass_blur" in report


def test_released_task_labels_are_used_for_its_images():
    from keras_robust.benchmarking import evaluation

    class Released:
        group, level = "fog", 5

        def apply(self, images):
            return np.ones((4, 2, 2, 3), "uint8"), np.array([1, 1, 1, 0])

    def predict_class_one(images, *args, **kwargs):
        return np.tile([0.0, 1.0], (len(images), 1))

    results = evaluation.evaluate({"m": predict_class_one}, np.zeros((2, 2, 2, 3), "uint8"), np.array([0, 0]),
                                  [Released()])
    assert results["m"]["clean_error"] == 100.0 and results["m"]["errors"]["fog"][5] == 25.0


def _no_name_resolves(monkeypatch):
    import socket

    def refuse(host, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for variable in image_source.PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_download_without_network_is_refused_at_once_naming_the_dataset(monkeypatch, tmp_path):
    _no_name_resolves(monkeypatch)
    with pytest.raises(FileNotFoundError, match=r"'mnist': no network .*--data-dir"):
        image_source.prepared_builder("mnist", tmp_path, download=True)
    assert not any(tmp_path.rglob("*.tfrecord*"))  # nothing fetched, nothing half-prepared
    from keras_robust.transfer.sources import TfdsSource

    with pytest.raises(FileNotFoundError, match="'caltech101': no network"):
        TfdsSource("caltech101", tmp_path, download=True)


def test_behind_a_proxy_the_network_is_not_judged_by_name_resolution(monkeypatch):
    _no_name_resolves(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    image_source.check_network("mnist")  # no refusal: the proxy resolves names
    monkeypatch.delenv("HTTPS_PROXY")
    with pytest.raises(FileNotFoundError, match="no network"):
        image_source.check_network("mnist")


def test_one_rule_says_what_a_dataset_is_for_every_opener(tmp_path):
    from keras_robust.transfer import ArraySource, FolderSource, open_source

    np.savez(tmp_path / "set.npz", images=np.zeros((6, 8, 8, 3), "uint8"), labels=np.arange(6) % 2)
    (tmp_path / "classes" / "a").mkdir(parents=True)
    (tmp_path / "holds_archive").mkdir()
    (tmp_path / "holds_archive" / "test.tar.gz").write_bytes(b"")
    locate = image_source.locate_dataset
    assert locate("cifar10_sample") == ("shipped", "cifar10_sample")
    assert locate("mnist", download=True) == ("tfds", "mnist") and locate("sun397") == ("tfds", "sun397")
    assert locate(tmp_path / "set.npz") == ("npz", tmp_path / "set.npz")
    assert locate(tmp_path / "classes") == ("folder", tmp_path / "classes")
    assert locate(tmp_path / "holds_archive") == ("archive", tmp_path / "holds_archive" / "test.tar.gz")
    with pytest.raises(FileNotFoundError, match="No such dataset file or folder: .*missing.npz"):
        locate(tmp_path / "missing.npz")
    source = open_source(tmp_path / "set.npz", limit=4, seed=1)
    loaded = image_source.load_images(tmp_path / "set.npz", limit=4, seed=1)
    assert source.labels.tolist() == loaded.labels.tolist() and source.name == "set.npz"
    assert isinstance(open_source("cifar10_sample"), ArraySource)
    assert open_source("mnist").name == "mnist-test"
    from PIL import Image

    Image.fromarray(np.zeros((5, 5, 3), "uint8")).save(tmp_path / "classes" / "a" / "x.png")
    assert isinstance(open_source(tmp_path / "classes"), FolderSource)


def test_subset_positions_are_the_one_seeded_draw():
    positions = image_source.subset_positions(100, 10, seed=3)
    assert positions.tolist() == sorted(positions.tolist()) and len(set(positions.tolist())) == 10
    assert image_source.subset_positions(100, 10, seed=3).tolist() == positions.tolist()
    assert image_source.subset_positions(5, 5) is None and image_source.subset_positions(5, None) is None
    with pytest.raises(ValueError, match="Received: limit=0"):
        image_source.subset_positions(5, 0)
