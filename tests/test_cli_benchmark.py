"""`robust-cli benchmark` and `robust-cli corrupt` end to end, on a few images."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from keras_robust.cli.main import cli

FEW = ["--corruptions", "gaussian_noise,brightness", "--levels", "1,5"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, images=rng.integers(0, 256, (12, 28, 28, 1), dtype=np.uint8), labels=np.arange(12) % 10)
    return path


def test_mnist_lenet_experiment_tiny(tmp_path):
    out = tmp_path / "bench"
    result = invoke("benchmark", "--dataset", "mnist", "--epochs", 1, "--train-size", 600, "--limit", 60, *FEW,
                    "--output", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert list(report["models"]) == ["LeNet-A", "LeNet-PA"]
    assert report["images"] == 60 and report["baseline"] == "LeNet-A"
    for model in report["models"].values():
        assert set(model["errors"]) == {"gaussian_noise_variance", "contrast_poisson", "gaussian_noise", "brightness"}
        assert len(model["errors"]["gaussian_noise_variance"]) == 6
        assert len(model["errors"]["contrast_poisson"]) == 4
        assert all(0 <= e <= 100 for levels in model["errors"].values() for e in levels.values())
    assert report["models"]["LeNet-A"]["mCE"] == pytest.approx(100)
    assert any("normalised by LeNet-A" in note for note in report["notes"])
    assert report["verdict"] in result.output and "Overall: LeNet-" in result.output
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * (1 + 6 + 4 + 2 * 2)
    assert rows[0] == "model,distortion,level,error_percent,accuracy"
    for row in rows[1:]:  # errors in percent, accuracies as fractions
        error, accuracy = map(float, row.split(",")[3:])
        assert accuracy == pytest.approx(1 - error / 100, abs=1e-4)
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["error_per_corruption.png", "error_vs_contrast_poisson.png",
                    "error_vs_gaussian_noise_variance.png", "error_vs_severity.png"]
    report = (out / "report.md").read_text()
    assert all(f"]({png})" in report for png in pngs)  # the report embeds every figure
    assert "Corrupting and evaluating: 14/14" in result.output  # the progress line (not a terminal: no bar)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]  # no temporary left


def test_benchmark_of_named_models_on_npz_is_reproducible(tmp_path, tiny_npz):
    outputs = []
    for name in ("a", "b"):
        result = invoke("benchmark", "--dataset", tiny_npz, "--model", "LeNetA", "--model", "LeNetPA", *FEW,
                        "--baseline", "LeNetA", "--no-figures", "--output", tmp_path / name)
        assert result.exit_code == 0, result.output
        outputs.append(json.loads((tmp_path / name / "results.json").read_text())["models"]["LeNetA"]["errors"])
    # Seeded corruptions and seeded initial weights: two runs agree exactly.
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"gaussian_noise", "brightness"}


def test_files_that_share_a_name_are_told_apart_by_their_folders(tmp_path, tiny_npz):
    from keras_robust.applications import LeNetA, LeNetPA
    from keras_robust.models import save_model

    for folder, builder in (("s0", LeNetA), ("s1", LeNetPA)):
        save_model(builder(weights=None), tmp_path / folder / "best.keras")
    result = invoke("benchmark", "--dataset", tiny_npz, "--model", tmp_path / "s0" / "best.keras",
                    "--model", tmp_path / "s1" / "best.keras", "--baseline", "s0/best", *FEW, "--no-figures",
                    "--output", tmp_path / "out")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(report["models"]) == ["s0/best", "s1/best"] and report["baseline"] == "s0/best"
    assert report["models"]["s0/best"]["mCE"] == pytest.approx(100)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "cifar10", "--data-dir", "{tmp}/tfds", "--model", "LeNetA"], "--data-dir"),
        (["--dataset", "{tmp}/missing.npz", "--model", "LeNetA"], "No such dataset file"),
        (["--dataset", "{npz}", "--model", "NoSuchNet"], "unknown model 'NoSuchNet'"),
        (["--dataset", "{npz}", "--model", "LeNetA", "--corruptions", "rain"], "Unknown corruption"),
        (["--dataset", "{npz}", "--model", "LeNetA", "--levels", "0,9"], "Severities must be among"),
        (["--dataset", "{npz}", "--model", "LeNetA", "--baseline", "VGG"], "Unknown baseline 'VGG'"),
        (["--dataset", "{npz}"], "Name the models to evaluate"),
        (["--dataset", "{npz}", "--model", "LeNetA", "--model", "LeNetA"], "The same model is given twice: 'LeNetA'"),
        (["--dataset", "{npz}", "--model", "LeNetA", "--baseline", "alexnet-cifar10", "--levels", "1"],
         "evaluate all five"),
    ],
)
def test_bad_input_exits_non_zero_without_traceback(tmp_path, tiny_npz, args, message):
    args = [a.format(tmp=tmp_path, npz=tiny_npz) for a in args]
    result = invoke("benchmark", *args, "--output", tmp_path / "out")
    assert result.exit_code in (1, 2), result.output  # 2: click's usage errors, refused before any work
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_offline_tfds_message_names_the_ways_to_supply_data(tmp_path):
    result = invoke("corrupt", "--dataset", "cifar10", "--data-dir", tmp_path / "tfds", "--output", tmp_path / "c.npz")
    assert result.exit_code == 1
    assert "not prepared" in result.output and "--data-dir" in result.output and "folder" in result.output
    assert "Traceback" not in result.output


def test_existing_output_is_refused_then_replaced(tmp_path, tiny_npz):
    out = tmp_path / "bench"
    out.mkdir()
    args = ["--dataset", tiny_npz, "--model", "LeNetA", *FEW, "--no-figures", "--output", out]
    refused = invoke("benchmark", *args)
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert invoke("benchmark", *args, "--overwrite").exit_code == 0
    assert (out / "results.json").is_file()


def test_corrupt_npz_to_npz(tmp_path, tiny_npz):
    out = tmp_path / "tiny-c.npz"
    result = invoke("corrupt", "--dataset", tiny_npz, *FEW, "--output", out)
    assert result.exit_code == 0, result.output
    assert "Corrupting 12 images" in result.output
    with np.load(out) as arrays:
        assert arrays["gaussian_noise"].shape == (24, 28, 28, 1)
        assert arrays["gaussian_noise"].dtype == np.uint8
        assert arrays["labels"].tolist() == (np.arange(12) % 10).tolist() * 2
        clean = np.load(tiny_npz)["images"]
        assert not np.array_equal(arrays["gaussian_noise"][:12], clean)
        info = json.loads(str(arrays["info"]))
    assert info["severities"] == [1, 5] and info["images_per_severity"] == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-c.npz"]


def test_corrupt_folder_to_cifar10c_layout(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    for class_name in ("cat", "dog"):
        (tmp_path / "images" / class_name).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
                tmp_path / "images" / class_name / f"{index}.png")
    out = tmp_path / "images-c"
    result = invoke("corrupt", "--dataset", tmp_path / "images", "--corruptions", "brightness", "--levels", "3",
                    "--output", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".keras_robust-output", "brightness.npy", "info.json", "labels.npy"]
    assert np.load(out / "brightness.npy").shape == (6, 16, 16, 3)
    assert np.load(out / "labels.npy").tolist() == [0, 0, 0, 1, 1, 1]
    assert json.loads((out / "info.json").read_text())["class_names"] == ["cat", "dog"]


def test_failed_corrupt_leaves_nothing(tmp_path, tiny_npz):
    result = invoke("corrupt", "--dataset", tiny_npz, "--corruptions", "gaussian_noise,rain", "--output", tmp_path / "x.npz")
    assert result.exit_code == 1 and "rain" in result.output
    assert list(tmp_path.iterdir()) == []


def test_default_job_pretrained_resnets_on_the_embedded_cifar_sample(tmp_path):
    """The default job, cut to 20 images and two corruptions at one severity (the full job is `make demo`)."""
    out = tmp_path / "bench"
    result = invoke("benchmark", "--limit", 20, "--corruptions", "fog,gaussian_noise", "--levels", 5, "-o", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert list(report["models"]) == ["ResNet20", "ResNet20PP"] and report["baseline"] == "ResNet20"
    assert report["images"] == 20 and "CIFAR-10 test images shipped with the package" in report["dataset"]
    for model in report["models"].values():
        assert model["clean_error"] < 40  # pretrained, not random (90% error)
        assert set(model["errors"]) == {"fog", "gaussian_noise"}
    assert report["models"]["ResNet20"]["mCE"] == pytest.approx(100)
    assert "normalised by ResNet20" in (out / "report.md").read_text()
    times = report["timings"]  # measured in this run, stated in the report
    assert 0 < times["corruption"] <= times["wall"] and 0 < times["inference"] <= times["wall"]
    assert f"images took {times['corruption']:.1f} s and evaluating the models on all the images {times['inference']:.1f} s" in (
        out / "report.md").read_text()
    assert sorted(p.name for p in out.glob("*.png")) == ["error_per_corruption.png", "error_vs_severity.png"]


def test_each_dataset_has_its_own_default_output_folder(tmp_path, tiny_npz, monkeypatch):
    from keras_robust.cli.benchmark import default_output

    assert default_output(None) == "robust-benchmark"
    assert default_output("mnist") == "robust-benchmark-mnist"
    assert default_output("cifar10-jpeg/test.tar.gz") == "robust-benchmark-cifar10-jpeg-test"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "robust-benchmark").mkdir()  # another job's folder: left alone
    result = invoke("benchmark", "--dataset", tiny_npz, "--model", "LeNetA", *FEW,
                    "--no-figures", "--quiet")
    assert result.exit_code == 0, result.output
    written = tmp_path / default_output(str(tiny_npz))
    assert (written / "results.json").is_file() and not any((tmp_path / "robust-benchmark").iterdir())
