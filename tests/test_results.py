"""Result objects: one saving rule, renderings from the object, units, and the library benchmark."""

import json
import os

import numpy as np
import pytest

from keras_robust.benchmarking import BenchmarkResult, benchmark
from keras_robust.deepcorrect import FilterRanking
from keras_robust.transfer import TransferResults


def small_benchmark_result():
    models = {
        name: {"clean_error": clean, "errors": {"fog": {1: clean + 5, 5: clean + 20}, "gaussian_noise": {1: 30.0, 5: 70.0}}}
        for name, clean in (("plain", 10.0), ("pp", 12.0))
    }
    from keras_robust.benchmarking.evaluation import summarize

    summarize(models, ["fog", "gaussian_noise"], "plain")
    return BenchmarkResult(models, dataset="made-up", corruptions=["fog", "gaussian_noise"], levels=[1, 5],
                           baseline="plain", images=4, image_shape=(8, 8, 3), notes=["a note"])


def results():
    transfer = TransferResults("digits", {"splits": 2})
    transfer.add("m", "clean", None, [0.5, 0.7], [1.0, 0.1])
    transfer.add("m", "awgn", 10, [0.4, 0.6], [1.0, 1.0])
    ranking = FilterRanking(0.25, {"conv": np.array([0.1, -0.2, 0.3])}, {"conv": "bn"})
    return [small_benchmark_result(), transfer, ranking]


@pytest.mark.parametrize("result", results(), ids=["benchmark", "transfer", "ranking"])
def test_one_saving_rule(result, tmp_path):
    for suffix, render in ((".json", result.to_json), (".csv", result.to_csv), (".md", result.to_markdown)):
        path = tmp_path / f"out{suffix}"
        assert result.save(path) == path and path.read_text() == render()
        before = path.read_text()
        with pytest.raises(FileExistsError, match="overwrite"):
            result.save(path)
        assert path.read_text() == before
        result.save(path, overwrite=True)
    again = type(result).load(tmp_path / "out.json")
    assert again.to_json() == result.to_json() and json.loads(again.to_json())
    folder = result.save(tmp_path / "folder", figures=False)
    assert sorted(os.listdir(folder)) == [".keras_robust-output", "report.md", "results.csv", "results.json"]
    assert sorted(os.listdir(tmp_path)) == ["folder", "out.csv", "out.json", "out.md"]  # no temporary left


def test_save_refuses_a_symlink_and_replaces_the_link_not_its_target(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "ranking.json").symlink_to(victim)
    ranking = results()[2]
    with pytest.raises(FileExistsError):
        ranking.save(tmp_path / "ranking.json")
    ranking.save(tmp_path / "ranking.json", overwrite=True)
    assert victim.read_text() == "keep me" and not (tmp_path / "ranking.json").is_symlink()


def test_benchmark_result_units_and_tables(tmp_path):
    result = small_benchmark_result()
    assert result.error("pp", "fog") == pytest.approx(24.5)
    assert result.accuracy("pp", "fog", 5) == pytest.approx(0.68)
    rows = result.to_csv().splitlines()
    assert rows[0] == "model,distortion,level,error_percent,accuracy"
    assert "pp,fog,5,32.0000,0.680000" in rows
    markdown = result.to_markdown()
    assert "| fog | 22.50 | 24.50 |" in markdown and "a note" in markdown
    assert "mCE (plain = 100)" in markdown and result.models["plain"]["mCE"] == pytest.approx(100)
    assert result.verdict().startswith("On the 19 corruptions, plain had the lowest mean error: 36.25%")
    loaded = BenchmarkResult.load(result.save(tmp_path / "bench"))
    assert loaded.models["pp"]["errors"]["fog"] == {1: 17.0, 5: 32.0}  # level keys are numbers again
    assert sorted(p.name for p in (tmp_path / "bench").glob("*.png")) == ["error_per_corruption.png",
                                                                          "error_vs_severity.png"]
    report = (tmp_path / "bench" / "report.md").read_text()
    assert "![Error E (%) per corruption, mean over severities](error_per_corruption.png)" in report
    assert "](error_vs_severity.png)" in report


def test_library_benchmark_on_given_models_and_data(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, images=rng.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8), labels=np.arange(10))
    result = benchmark(["LeNetA", "LeNetPA"], str(path), weights=None, corruptions="contrast", levels=(1, 5),
                       baseline="LeNetA", quiet=True)
    assert isinstance(result, BenchmarkResult) and list(result.models) == ["LeNetA", "LeNetPA"]
    assert result.images == 10 and result.corruptions == ["contrast"] and result.levels == [1, 5]
    assert all(0 <= e <= 100 for r in result.models.values() for e in r["errors"]["contrast"].values())
    assert result.models["LeNetA"]["mCE"] == pytest.approx(100)
    with pytest.raises(ValueError, match="Name the models"):
        benchmark(dataset=str(path), quiet=True)
    with pytest.raises(ValueError, match="evaluate all five"):
        benchmark(["LeNetA"], str(path), levels=(1,), baseline="alexnet-cifar10", quiet=True)
