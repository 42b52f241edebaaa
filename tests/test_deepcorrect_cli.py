import json

import keras
import numpy as np
from click.testing import CliRunner

from keras_robust.cli.main import cli
from keras_robust.layers import ChannelCorrection


def test_rank_then_deepcorrect(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.Rescaling(1 / 255)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.save(tmp_path / "base.keras")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", images=rng.integers(0, 256, (12, 8, 8, 3), dtype="uint8"),
             labels=np.arange(12) % 2)
    runner = CliRunner()
    common = ["--model", str(tmp_path / "base.keras"), "--dataset", str(tmp_path / "data.npz"),
              "--distortion", "awgn", "--levels", "10,20"]
    result = runner.invoke(cli, ["rank", *common, "--limit", "12", "-o", str(tmp_path / "rank.json")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "rank.json").read_text()
    again = runner.invoke(cli, ["rank", *common, "--limit", "12", "-o", str(tmp_path / "rank.json")])
    assert again.exit_code == 1 and "--overwrite" in again.output and "Traceback" not in again.output
    assert (tmp_path / "rank.json").read_text() == written
    ranking = json.loads((tmp_path / "rank.json").read_text())
    assert list(ranking["scores"]) == ["c1"] and len(ranking["scores"]["c1"]) == 4
    result = runner.invoke(cli, ["deepcorrect", *common,
                                 "--ranking", str(tmp_path / "rank.json"), "--beta", "0.5",
                                 "--epochs", "1", "--batch-size", "4", "-o", str(tmp_path / "dc.keras")])
    assert result.exit_code == 0, result.output
    assert "trainable parameters" in result.output
    loaded = keras.models.load_model(tmp_path / "dc.keras", safe_mode=True)
    assert len(loaded.get_layer("c1_correction").channels) == 2
    assert isinstance(loaded.get_layer("c1_correction"), ChannelCorrection)
    result = runner.invoke(cli, ["deepcorrect", *common, "--method",
                                 "stability", "--epochs", "1", "--batch-size", "4", "-o", str(tmp_path / "st.keras")])
    assert result.exit_code == 0, result.output
    assert f"trainable parameters {model.count_params():,}" in result.output
    refused = runner.invoke(cli, ["deepcorrect", *common, "--method", "finetune", "--epochs", "1",
                                  "-o", str(tmp_path / "st.keras")])
    assert refused.exit_code == 1 and "already exists" in refused.output and "--overwrite" in refused.output
    missing = runner.invoke(cli, ["deepcorrect", *common, "-o", str(tmp_path / "m.keras")])
    assert missing.exit_code == 1 and "--ranking is required" in missing.output
    bad = runner.invoke(cli, ["rank", *common, "--layers", "nope",
                              "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and "No layer named 'nope'" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "x.json").exists()


def test_deepcorrect_start_and_batch_norm_options(tmp_path):
    """Untrained (--learning-rate 0) units: the identity start predicts as the base, the He start does not; the
    adapted batch norms move the base's statistics, the frozen ones do not."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn")(x))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x)))
    model.save(tmp_path / "base.keras")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 8, 8, 3), dtype="uint8")
    np.savez(tmp_path / "data.npz", images=images, labels=np.arange(8) % 2)
    (tmp_path / "rank.json").write_text(json.dumps({"baseline": 0.5, "scores": {"c1": [0.4, 0.3, 0.2, 0.1]}}))
    common = ["deepcorrect", "--model", str(tmp_path / "base.keras"), "--dataset", str(tmp_path / "data.npz"),
              "--distortion", "awgn", "--ranking", str(tmp_path / "rank.json"), "--unit", "full", "--epochs", "1",
              "--batch-size", "4", "--learning-rate", "0"]
    expected = model.predict(images.astype("float32"), verbose=0)

    def predictions(*options):
        path = tmp_path / f"{'_'.join(options)}.keras"
        result = CliRunner().invoke(cli, [*common, *options, "-o", str(path)])
        assert result.exit_code == 0, result.output
        return keras.models.load_model(path, safe_mode=True).predict(images.astype("float32"), verbose=0)

    assert np.abs(predictions("--start", "identity") - expected).max() <= 1e-6
    assert np.abs(predictions("--start", "he_normal") - expected).max() > 1e-3
    assert np.abs(predictions("--batch-norm", "adapt") - expected).max() > 1e-4
    bad = CliRunner().invoke(cli, [*common, "--start", "random", "-o", str(tmp_path / "x.keras")])
    assert bad.exit_code == 2 and "'random' is not one of 'identity', 'he_normal'" in bad.output
