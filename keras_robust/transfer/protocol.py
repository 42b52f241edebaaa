"""The transfer protocol of DeepCorrect Sec. V-A7 (Tables V-VII).

Deep features of a fixed network, linear SVMs trained on them, mean per-class
accuracy averaged over random splits of `n_train` training and `n_val`
validation images per class, the rest for testing. A distortion is applied
after resizing to the model's input size. By default one set of SVMs per
distortion is trained on the clean images and all its levels together and
tested at each level (footnote 7: "a single set of linear SVMs is trained
for images affected by different levels of distortion and also clean
images"); `svm_training="clean"` trains on clean images only,
`"per_level"` one set per level.
"""

from collections import namedtuple

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from keras_robust.progress import check_verbose, progress
from keras_robust.transfer.cache import fingerprint
from keras_robust.transfer.results import TransferResults
from keras_robust.transfer.svm import DEFAULT_CS, check_Cs, linear_svm_pipeline, linear_svm_search
from keras_robust.validation import check_choice, check_int

Split = namedtuple("Split", ["train", "val", "test"])
Split.__doc__ = "Image indices of one random split: training, validation and test."
CLEAN = "clean"
SVM_TRAINING = ("pooled", "clean", "per_level")


def make_splits(labels, n_train=25, n_val=5, n_splits=5, n_test=None, seed=0):
    """Random per-class splits: `n_train` + `n_val` images per class, the rest (or `n_test`) for testing.

    Args:
        labels: int labels of all images.
        n_train, n_val: training and validation images drawn per class.
        n_splits: number of independent random splits.
        n_test: test images per class; None takes every remaining image.
        seed: seed of the draws.

    Returns:
        A list of `n_splits` `Split`s of index arrays into `labels`.
    """
    labels = np.asarray(labels)
    n_train, n_splits = check_int("n_train", n_train, minimum=1), check_int("n_splits", n_splits, minimum=1)
    n_val, n_test = check_int("n_val", n_val, minimum=0), check_int("n_test", n_test, minimum=1, allow_none=True)
    classes, counts = np.unique(labels, return_counts=True)
    small = classes[counts < n_train + n_val + 1]
    if len(small):
        raise ValueError(
            f"Every class needs at least n_train + n_val + 1 = {n_train + n_val + 1} images. "
            f"Received: classes {small[:10].tolist()} with {counts[counts < n_train + n_val + 1][:10].tolist()} images"
        )
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(labels == c) for c in classes]
    splits = []
    for _ in range(n_splits):
        parts = ([], [], [])
        for indices in members:
            indices = rng.permutation(indices)
            parts[0].append(indices[:n_train])
            parts[1].append(indices[n_train:n_train + n_val])
            parts[2].append(indices[n_train + n_val:][:n_test])
        splits.append(Split(*(np.sort(np.concatenate(p)) for p in parts)))
    return splits


def extract_condition(extractor, source, indices, distortion=None, level=None, *, seed=0, cache=None,
                      batch_size=256, verbose=False):
    """Features of the images at sorted `indices`, distorted at `level` with `seed` + batch offset (cached)."""
    key = {
        **extractor.identity(), "data": source.identity, "indices_sha256": fingerprint(indices),
        "distortion": distortion.name if distortion else CLEAN, "level": level,
        "distortion_config": {**distortion.config, "seed": seed} if distortion else {},
    }
    cached = cache.load(key) if cache is not None else None
    if cached is not None:
        return cached
    title = f"{extractor.name} {distortion.name if distortion else CLEAN}{'' if level is None else f' {level}'}"
    batches = progress(source.images(indices, extractor.image_size, extractor.channels, batch_size),
                       label=f"Features of {len(indices)} images, {title} (batches)",
                       total=-(-len(indices) // batch_size), verbose=verbose)
    features, done = [], 0
    for batch in batches:
        if distortion is not None:
            batch = distortion.apply(batch, level, seed=seed + done)
        features.append(extractor(batch))
        done += len(batch)
    features = np.concatenate(features)
    if cache is not None:
        cache.save(key, features)
    return features


def fit_split_svms(features, labels, splits, Cs):
    """One fitted `linear_svm_pipeline` per split, trained on `features` stacked.

    `features` is a list of (N, D) arrays (one condition, or the pooled
    clean and distorted ones); each split's training and validation rows of
    every array are used. With validation rows and several Cs,
    `linear_svm_search` chooses C on the validation rows and refits it on
    training plus validation rows; otherwise the first C is fitted on the
    training rows.
    """
    def stack(rows):
        return np.concatenate([f[rows] for f in features]), np.tile(labels[rows], len(features))

    svms = []
    for split in splits:
        x, y = stack(split.train)
        if len(split.val) and len(Cs) > 1:
            x_val, y_val = stack(split.val)
            test_fold = np.concatenate([np.full(len(y), -1), np.zeros(len(y_val), int)])
            search = linear_svm_search(test_fold, Cs).fit(np.concatenate([x, x_val]), np.concatenate([y, y_val]))
            svms.append(search.best_estimator_)
        else:
            svms.append(linear_svm_pipeline(check_Cs(Cs)[0]).fit(x, y))
    return svms


def split_accuracies(svms, features, labels, splits):
    """Balanced (mean per-class) test accuracy of each split's SVM on `features`, and the SVMs' Cs."""
    scores = [balanced_accuracy_score(labels[split.test], svm.predict(features[split.test]))
              for svm, split in zip(svms, splits)]
    return scores, [svm["svm"].C for svm in svms]


def evaluate_transfer(extractors, source, distortions=(), *, n_train=25, n_val=5, n_test=None,
                      n_splits=5, seed=0, Cs=DEFAULT_CS, svm_training="pooled", cache=None,
                      batch_size=256, verbose=False):
    """Mean per-class accuracy of linear SVMs on each extractor's features.

    Args:
        extractors: `FeatureExtractor`s to compare (e.g. a baseline and its
            DeepCorrect version); their names must differ.
        source: an image source of `keras_robust.transfer.sources`.
        distortions: `keras_robust.corruptions.Distortion`s (see
            `resolve_distortion`); each level is applied to training,
            validation and test images alike, seeded by `seed` and the
            image's batch offset.
        n_train, n_val: training and validation images per class.
        n_test: test images per class; None takes all remaining images (the
            paper's protocol), a number caps them for quick runs.
        n_splits: random splits to average over.
        seed: seed of the splits and of the distortions.
        Cs: candidate SVM C values, chosen on the validation images.
        svm_training: "pooled" (the paper's footnote 7) trains one set of
            SVMs on the clean images and all levels of a distortion together
            and tests each level with it; "clean" trains one set on clean
            images only and tests every level with it; "per_level" trains
            one set per level on that level's images.
        cache: a `FeatureCache`, or None.
        batch_size: images per decoding and forward pass.
        verbose: show the progress of each feature extraction, as
            `keras_robust.progress.check_verbose` (`False`: nothing).

    Returns:
        `TransferResults`.
    """
    check_Cs(Cs)
    verbose = check_verbose(verbose)
    check_choice("svm_training", svm_training, SVM_TRAINING)
    names = [extractor.name for extractor in extractors]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"Give one or more extractors with distinct names. Received: {names}")
    splits = make_splits(source.labels, n_train, n_val, n_splits, n_test, seed)
    indices = np.unique(np.concatenate([np.concatenate(split) for split in splits]))
    labels = source.labels[indices]
    # Splits as rows of the feature arrays, which hold only the selected images.
    split_rows = [Split(*(np.searchsorted(indices, part) for part in split)) for split in splits]
    results = TransferResults(
        dataset=source.name, protocol={
            "n_train": n_train, "n_val": n_val, "n_test": n_test, "n_splits": n_splits, "seed": seed,
            "classes": int(len(np.unique(labels))), "images": int(len(indices)),
            "svm_training": svm_training, "Cs": list(Cs),
        },
    )
    for extractor in extractors:
        def extract(distortion=None, level=None):
            return extract_condition(
                extractor, source, indices, distortion, level, seed=seed,
                cache=cache, batch_size=batch_size, verbose=verbose,
            )

        clean = extract()
        clean_svms = fit_split_svms([clean], labels, split_rows, Cs)
        results.add(extractor.name, CLEAN, None, *split_accuracies(clean_svms, clean, labels, split_rows))
        for distortion in distortions:
            levels = [extract(distortion, level) for level in distortion.levels]
            pooled = fit_split_svms([clean, *levels], labels, split_rows, Cs) if svm_training == "pooled" else None
            for level, features in zip(distortion.levels, levels):
                svms = {"pooled": pooled, "clean": clean_svms}.get(svm_training) or fit_split_svms(
                    [features], labels, split_rows, Cs)
                results.add(extractor.name, distortion.name, level, *split_accuracies(svms, features, labels, split_rows))
    return results
