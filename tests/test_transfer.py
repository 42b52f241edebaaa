"""Transfer evaluation: features, linear SVMs, the split protocol, cache, data sources and the CLI."""

import json
import tarfile

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from keras_robust.cli.main import cli
from keras_robust.transfer import (
    ArraySource, Distortion, FeatureCache, FeatureExtractor, FolderSource, TfdsSource, default_feature_layer,
    evaluate_transfer, fit_images, linear_svm_pipeline, linear_svm_search, make_splits, open_source, resolve_distortion,
)
from keras_robust.transfer.protocol import Split, fit_split_svms, split_accuracies

COLOURS = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [200, 200, 30]])


def colour_images(labels, seed=0, size=(20, 24)):
    """Noisy images whose mean colour is their class: easy to tell apart from generic features."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 25, (len(labels), *size, 3))
    return np.clip(COLOURS[labels][:, None, None, :] + noise, 0, 255).astype("uint8")


def stand_in_model(seed=0, hidden_dense=False, name="stand_in"):
    """A tiny CNN on raw [0, 255] pixels, random fixed weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if hidden_dense:
        x = keras.layers.Dense(12, activation="relu", name="fc1")(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def noise_distortion():
    def apply(images, level, seed):
        rng = np.random.default_rng(seed)
        return np.clip(images + rng.normal(0, 20 * level, images.shape), 0, 255).astype("uint8")

    return Distortion("stand_in_noise", (1, 2), function=apply)


def test_splits_have_the_protocol_sizes_and_are_disjoint():
    labels = np.repeat(np.arange(3), [40, 35, 50])
    splits = make_splits(labels, n_train=25, n_val=5, n_splits=3, seed=1)
    assert len(splits) == 3
    for split in splits:
        assert np.bincount(labels[split.train]).tolist() == [25, 25, 25]
        assert np.bincount(labels[split.val]).tolist() == [5, 5, 5]
        assert np.bincount(labels[split.test]).tolist() == [10, 5, 20]  # all the rest
        everything = np.concatenate(split)
        assert len(np.unique(everything)) == len(labels)
    assert not np.array_equal(splits[0].train, splits[1].train)
    again = make_splits(labels, n_train=25, n_val=5, n_splits=3, seed=1)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again))
    capped = make_splits(labels, n_train=25, n_val=5, n_splits=1, n_test=4)[0]
    assert np.bincount(labels[capped.test]).tolist() == [4, 4, 4]


def test_splits_refuse_classes_too_small():
    with pytest.raises(ValueError, match="at least n_train \\+ n_val \\+ 1 = 31.*classes \\[1\\]"):
        make_splits(np.repeat([0, 1], [40, 30]))


def brute_force_C(x, y, train, val, Cs):
    """The protocol's model selection written out: each C's balanced validation accuracy, the best (smallest) C."""
    scores = {C: balanced_accuracy_score(y[val], linear_svm_pipeline(C).fit(x[train], y[train]).predict(x[val]))
              for C in Cs}
    return scores, min(C for C in Cs if scores[C] == max(scores.values()))


def test_C_is_chosen_by_grid_search_on_the_validation_fold_as_by_brute_force():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (3, 10))
    y = np.repeat(np.arange(3), 30)
    x = centres[y] + rng.normal(0, 1.5, (90, 10))
    train, val = np.arange(0, 90, 2), np.arange(1, 90, 2)
    # Unsorted, and 0.1 and 0.01 tie for the best validation score: the smaller C must win.
    Cs = (1.0, 0.1, 1e-4, 1e-2)
    scores, best = brute_force_C(x, y, train, val, Cs)
    assert scores[0.1] == scores[1e-2] == max(scores.values()) and best == 1e-2
    search = linear_svm_search(np.repeat([-1, 0], 45), Cs)
    assert isinstance(search, GridSearchCV) and isinstance(search.cv, PredefinedSplit)
    assert search.scoring == "balanced_accuracy" and search.refit is True
    search.fit(np.concatenate([x[train], x[val]]), np.concatenate([y[train], y[val]]))
    assert dict(zip(search.cv_results_["param_svm__C"], search.cv_results_["mean_test_score"])) == scores
    assert search.best_params_ == {"svm__C": best}
    final = search.best_estimator_
    assert isinstance(final[0], StandardScaler) and isinstance(final[-1], LinearSVC) and final[-1].C == best
    assert final[0].n_samples_seen_ == 45 + 45  # refitted on training plus validation

    # The protocol's SVMs: the same choice per split, scored by balanced (mean per-class) accuracy.
    splits = [Split(train, val, np.arange(90)), Split(val, train, np.arange(90))]
    svms = fit_split_svms([x], y, splits, Cs)
    accuracies, chosen = split_accuracies(svms, x, y, splits)
    assert chosen == [best, brute_force_C(x, y, val, train, Cs)[1]]
    assert accuracies == [balanced_accuracy_score(y, svm.predict(x)) for svm in svms]
    unbalanced = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:3], np.flatnonzero(y == 2)[:3]])
    tested = [Split(train, val, unbalanced)]
    predicted = svms[0].predict(x[unbalanced])
    assert split_accuracies(svms[:1], x, y, tested)[0] == [balanced_accuracy_score(y[unbalanced], predicted)]
    # Without validation rows, or with one C, there is nothing to choose: the first C, on the training rows.
    for one, candidates in ((Split(train, val[:0], val), Cs), (Split(train, val, val), (0.5,))):
        svm, = fit_split_svms([x], y, [one], candidates)
        assert svm[-1].C == candidates[0] and svm[0].n_samples_seen_ == 45


def test_grid_search_refuses_bad_Cs_and_folds():
    with pytest.raises(ValueError, match=r"`Cs\[1\]` must be a finite number > 0. Received: Cs\[1\]=0.0"):
        linear_svm_search(np.repeat([-1, 0], 5), Cs=(1.0, 0.0))
    with pytest.raises(ValueError, match="`Cs` must hold one or more positive numbers"):
        linear_svm_search(np.repeat([-1, 0], 5), Cs=())
    with pytest.raises(ValueError, match=r"`test_fold` must hold -1 .* and 0 .*Received: test_fold with values \[-1\]"):
        linear_svm_search(np.full(10, -1))
    labels = np.repeat(np.arange(4), 14)
    extractor = CountingExtractor(stand_in_model(0), name="base")
    CountingExtractor.images_seen = 0
    with pytest.raises(ValueError, match="`Cs` must hold one or more"):  # before any feature is extracted
        evaluate_transfer([extractor], ArraySource(colour_images(labels), labels, name="colours"), Cs=())
    assert CountingExtractor.images_seen == 0


def test_default_layer_is_first_hidden_dense_else_global_pooling():
    assert default_feature_layer(stand_in_model(hidden_dense=True)) == "fc1"
    assert default_feature_layer(stand_in_model()) == "pool"
    inputs = keras.Input((16, 16, 3))
    backbone = keras.Model(inputs, keras.layers.GlobalAveragePooling2D(name="gap")(inputs))
    assert default_feature_layer(backbone) == "gap"
    conv_only = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs))
    with pytest.raises(ValueError, match="name one with `layer=`"):
        default_feature_layer(conv_only)
    with pytest.raises(ValueError, match="no layer 'fc9'.*layers: .*pool"):
        FeatureExtractor(stand_in_model(), layer="fc9")
    extractor = FeatureExtractor(conv_only, layer="c")  # rank-4 output, flattened
    assert extractor(np.zeros((2, 16, 16, 3), "uint8")).shape == (2, 14 * 14 * 2)


def test_fit_images_resizes_and_replicates_grey_channels():
    grey = np.arange(2 * 28 * 28, dtype="uint16").reshape(2, 28, 28, 1) % 256
    fitted = fit_images(grey.astype("uint8"), (32, 32), 3)
    assert fitted.shape == (2, 32, 32, 3) and fitted.dtype == np.uint8
    assert np.array_equal(fitted[..., 0], fitted[..., 2])
    mixed = fit_images([np.zeros((10, 20, 3), "uint8"), np.full((40, 7, 3), 255, "uint8")], (16, 16))
    assert mixed.shape == (2, 16, 16, 3) and mixed[1].min() == 255


def test_cache_returns_features_only_for_their_own_key(tmp_path):
    cache = FeatureCache(tmp_path)
    key = {"model": "a", "weights_sha256": "0" * 64, "level": 1}
    features = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    path = cache.save(key, features)
    assert np.array_equal(cache.load(key), features)
    assert cache.load({**key, "level": 2}) is None
    # A file under this key's name but written for another key is not trusted.
    other = FeatureCache(tmp_path / "other")
    path.write_bytes(other.save({**key, "model": "b"}, features).read_bytes())
    assert cache.load(key) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "other"])  # no temporary files


class CountingExtractor(FeatureExtractor):
    """Counts the images that went through the network."""

    images_seen = 0

    def __call__(self, images):
        CountingExtractor.images_seen += len(images)
        return super().__call__(images)


def test_evaluation_per_level_is_cached_and_never_reuses_another_models_features(tmp_path):
    labels = np.repeat(np.arange(4), 14)
    source = ArraySource(colour_images(labels), labels, name="colours")
    cache = FeatureCache(tmp_path)
    settings = dict(n_train=6, n_val=3, n_test=None, n_splits=2, Cs=(0.01, 1.0), cache=cache)
    CountingExtractor.images_seen = 0
    results = evaluate_transfer(
        [CountingExtractor(stand_in_model(0), name="base"), CountingExtractor(stand_in_model(1), name="other")],
        source, [noise_distortion()], svm_training="per_level", **settings,
    )
    assert CountingExtractor.images_seen == 2 * 3 * 56
    assert [(r["model"], r["distortion"], r["level"]) for r in results.rows[:3]] == [
        ("base", "clean", None), ("base", "stand_in_noise", 1), ("base", "stand_in_noise", 2)]
    for model in ("base", "other"):
        assert results.accuracy(model, "clean") > 0.9  # chance is 0.25
        assert results.accuracy(model, "stand_in_noise") == pytest.approx(
            np.mean([results.accuracy(model, "stand_in_noise", level) for level in (1, 2)]))
    assert results.rows[0]["C"][0] in (0.01, 1.0) and len(results.rows[0]["split_accuracies"]) == 2

    CountingExtractor.images_seen = 0
    again = evaluate_transfer([CountingExtractor(stand_in_model(0), name="base")], source,
                              [noise_distortion()], svm_training="per_level", **settings)
    assert CountingExtractor.images_seen == 0
    assert again.rows == results.rows[:3]
    # Same name, other weights: a cache miss, never the other model's features.
    evaluate_transfer([CountingExtractor(stand_in_model(7), name="base")], source, **settings)
    assert CountingExtractor.images_seen == 56

    pooled = evaluate_transfer([FeatureExtractor(stand_in_model(0), name="base")], source,
                               [noise_distortion()], **settings)
    assert len(pooled.rows) == 3 and pooled.protocol["svm_training"] == "pooled"  # the paper's default
    table = pooled.to_markdown()
    assert "| base |" in table and "stand_in_noise (mean of levels)" in table


def test_svm_training_modes_train_on_what_they_say():
    """One SVM set per split for "pooled" and "clean" (same C at every level), retrained per level otherwise."""
    labels = np.repeat(np.arange(4), 14)
    source = ArraySource(colour_images(labels), labels, name="colours")

    def scramble(images, level, seed):  # destroys the colour code at level 2 only
        if level == 1:
            return images
        return np.random.default_rng(seed).integers(0, 256, images.shape).astype("uint8")

    settings = dict(n_train=6, n_val=3, n_splits=2, Cs=(0.01, 1.0), seed=0)
    runs = {mode: evaluate_transfer([FeatureExtractor(stand_in_model(0), name="base")], source,
                                    [Distortion("scramble", (1, 2), function=scramble)], svm_training=mode, **settings)
            for mode in ("pooled", "clean", "per_level")}
    clean = runs["clean"]
    # trained on clean features only: level 1 (unchanged images) scores exactly as clean
    assert clean.accuracy("base", "scramble", 1) == clean.accuracy("base", "clean")
    assert clean.rows[1]["C"] == clean.rows[2]["C"] == clean.rows[0]["C"]
    assert runs["pooled"].rows[1]["C"] == runs["pooled"].rows[2]["C"]
    for mode in runs:
        assert runs[mode].accuracy("base", "scramble", 2) < 0.6  # noise features: near chance 0.25
    with pytest.raises(ValueError, match="`svm_training` must be one of"):
        evaluate_transfer([FeatureExtractor(stand_in_model(0))], source, svm_training="both", **settings)


def test_default_feature_layer_is_fc6_or_fc7_as_in_the_paper():
    from keras_robust.deepcorrect.paper_models import alexnet_imagenet

    alexnet = alexnet_imagenet(classes=5)
    assert default_feature_layer(alexnet) == default_feature_layer(alexnet, "caltech101") == "fc6"
    assert default_feature_layer(alexnet, "sun397") == default_feature_layer(alexnet, "SUN-397") == "fc7"
    one_dense = stand_in_model(0, hidden_dense=True)
    assert default_feature_layer(one_dense, "sun397") == "fc1"  # only one hidden dense layer
    assert FeatureExtractor(alexnet, dataset="sun397").layer == "fc7"


def test_distortions_are_deepcorrects_sigmas_or_corruption_severities():
    awgn, blur = resolve_distortion("awgn"), resolve_distortion("gaussian_blur")
    assert (awgn.name, blur.name) == ("deepcorrect-imagenet/awgn", "deepcorrect-imagenet/gaussian_blur")
    assert awgn.levels == (10, 20, 40, 60, 80, 100) and blur.levels == (1, 2, 3, 4, 5, 6)
    images = colour_images(np.arange(4), size=(32, 32))
    assert blur.apply(images, 2).std(axis=(1, 2)).mean() < images.std(axis=(1, 2)).mean() / 2
    assert np.array_equal(awgn.apply(images, 40, seed=3), awgn.apply(images, 40, seed=3))
    assert not np.array_equal(awgn.apply(images, 40, seed=3), awgn.apply(images, 40, seed=4))
    cifar_c = resolve_distortion("gaussian_blur", preset="cifar")
    assert cifar_c.levels == (1, 2, 3, 4, 5) and cifar_c.config["name"] == "cifar/gaussian_blur"
    assert cifar_c.apply(images, 5).shape == images.shape
    assert resolve_distortion("cifar/fog", levels=[2]).levels == (2,)
    with pytest.raises(ValueError, match="Received: name='wobble'; accepted: awgn, gaussian_blur"):
        resolve_distortion("wobble")


def _mock_images(self, *args, **kwargs):
    import tensorflow as tf

    def examples():
        rng = np.random.default_rng(0)
        for index in range(48):
            label = index % 4
            height, width = rng.integers(18, 50, 2)
            image = colour_images(np.array([label]), seed=index, size=(height, width))[0]
            texts = {key: f"{index}.jpg" for key in self.info.features if key not in ("image", "label")}
            yield {"image": image, "label": label, **texts}

    return tf.data.Dataset.from_generator(examples, output_signature=self.info.features.get_tensor_spec())


@pytest.mark.parametrize("name, classes", [("caltech101", 102), ("sun397", 397)])
def test_tfds_sets_through_tfds_load_with_mock_data(tmp_path, name, classes):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(as_dataset_fn=_mock_images):
        source = open_source(name, data_dir=str(tmp_path))
        assert isinstance(source, TfdsSource) and len(source.class_names) == classes
        assert source.labels.tolist() == [i % 4 for i in range(48)]
        first = next(source.images(np.array([1, 5]), (16, 16)))
        assert first.shape == (2, 16, 16, 3) and first[..., 1].mean() > 150  # class 1 is green
        results = evaluate_transfer([FeatureExtractor(stand_in_model())], source,
                                    n_train=5, n_val=2, n_splits=2, Cs=(0.01, 1.0))
    assert results.dataset == name and results.protocol["images"] == 48
    assert results.accuracy("stand_in", "clean") > 0.9


def test_cli_says_where_to_put_a_missing_dataset(tmp_path):
    model_path = tmp_path / "m.keras"
    stand_in_model().save(model_path)
    result = CliRunner().invoke(cli, [
        "transfer", "--dataset", "caltech101", "--data-dir", str(tmp_path / "empty"), "--model", str(model_path)])
    assert result.exit_code == 1
    assert "is not prepared" in result.output and "--data-dir" in result.output and "--download" in result.output
    assert "folder of class sub-folders" in result.output and "Traceback" not in result.output


def test_cli_on_a_folder_prints_the_table_writes_json_csv_and_caches(tmp_path, monkeypatch):
    from PIL import Image

    labels = np.repeat(np.arange(3), 9)
    for index, (image, label) in enumerate(zip(colour_images(labels, size=(21, 17)), labels)):
        (tmp_path / "images" / f"class{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "images" / f"class{label}" / f"{index}.png")
    model_path = tmp_path / "m.keras"
    stand_in_model().save(model_path)
    monkeypatch.chdir(tmp_path)
    args = ["transfer", "--dataset", "images", "--model", str(model_path), "--n-train", "4", "--n-val", "2",
            "--splits", "2", "--distortion", "awgn", "--levels", "10,80", "--output", "out/result.json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "| model | clean | deepcorrect-imagenet/awgn 10 | deepcorrect-imagenet/awgn 80 |" in result.output
    assert "3 classes, 4 train + 2 val per class" in result.output and "| m | " in result.output
    saved = json.loads((tmp_path / "out/result.json").read_text())
    assert saved["protocol"]["classes"] == 3 and saved["summary"]["m"]["clean"] > 0.9
    awgn = "deepcorrect-imagenet/awgn"
    assert [(r["distortion"], r["level"]) for r in saved["results"]] == [("clean", None), (awgn, 10), (awgn, 80)]
    csv_lines = (tmp_path / "out/result.csv").read_text().splitlines()
    assert csv_lines[0] == "model,distortion,level,accuracy,std,split_accuracies,C" and len(csv_lines) == 4
    cached = sorted((tmp_path / "runs/transfer/features").glob("*.npz"))
    assert len(cached) == 3
    stamps = [path.stat().st_mtime_ns for path in cached]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert CliRunner().invoke(cli, [*args, "--overwrite"]).exit_code == 0
    assert [path.stat().st_mtime_ns for path in cached] == stamps  # reused, not rewritten
    assert isinstance(open_source("images"), FolderSource)


@pytest.mark.slow
def test_pretrained_resnet20_features_on_real_cifar_images(shared_data, tmp_path):
    """A folder of 10 classes x 40 real CIFAR-10 test images (JPEG copy), ResNet-20 features."""
    from keras_robust.applications import ResNet20

    kept = {}
    with tarfile.open(shared_data / "cifar10-jpeg" / "test.tar.gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 3 and kept.get(parts[-2], 0) < 40:
                kept[parts[-2]] = kept.get(parts[-2], 0) + 1
                (tmp_path / parts[-2]).mkdir(exist_ok=True)
                (tmp_path / parts[-2] / parts[-1]).write_bytes(archive.extractfile(member).read())
            if len(kept) == 10 and min(kept.values()) == 40:
                break
    source = open_source(tmp_path)
    assert np.bincount(source.labels).tolist() == [40] * 10
    extractor = FeatureExtractor(ResNet20(weights="cifar10"))
    assert extractor.layer == "avg_pool"
    results = evaluate_transfer([extractor], source, n_train=25, n_val=5, n_splits=2)
    # Chance is 0.10; features of the CIFAR-trained network separate CIFAR classes well.
    assert results.accuracy(extractor.name, "clean") > 0.6
