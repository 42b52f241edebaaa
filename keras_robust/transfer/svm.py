"""Linear SVMs on deep features; C chosen on held-out validation images by scikit-learn's `GridSearchCV`."""

import numpy as np
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from keras_robust.validation import check_number

DEFAULT_CS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def check_Cs(Cs):
    """Checks that `Cs` holds one or more positive finite numbers, returns it as a tuple of floats."""
    Cs = tuple(check_number(f"Cs[{i}]", C, minimum=0, exclusive_minimum=True) for i, C in enumerate(Cs))
    if not Cs:
        raise ValueError("`Cs` must hold one or more positive numbers. Received: Cs=()")
    return Cs


def linear_svm_pipeline(C=1.0, max_iter=5000):
    """`StandardScaler` followed by a one-vs-rest `LinearSVC`."""
    return Pipeline([
        ("scale", StandardScaler()),
        ("svm", LinearSVC(C=C, dual="auto", max_iter=max_iter)),
    ])


def linear_svm_search(test_fold, Cs=DEFAULT_CS, max_iter=5000):
    """`GridSearchCV` of `linear_svm_pipeline` over C with one predefined validation fold.

    Fitted on the training and validation rows together, it fits one
    pipeline per C on the rows whose `test_fold` is -1, scores it on the rows
    whose `test_fold` is 0 by balanced accuracy (the mean over classes of
    the fraction of each class's images classified correctly), and refits
    the best C on all rows. Among equally scored Cs the smallest wins. Its
    `score` is balanced accuracy too.

    Args:
        test_fold: -1 for each training row, 0 for each validation row (see
            `sklearn.model_selection.PredefinedSplit`).
        Cs: candidate values of the SVM's C.
        max_iter: `LinearSVC` iteration limit.

    Example:

    ```python
    import numpy as np

    from keras_robust.transfer import linear_svm_search

    x, y = np.random.default_rng(0).normal(size=(40, 3)), np.tile([0, 1], 20)
    search = linear_svm_search(np.repeat([-1, 0], 20), Cs=(0.01, 1.0)).fit(x, y)
    assert search.best_params_["svm__C"] in (0.01, 1.0)
    ```
    """
    values = np.unique(test_fold).tolist()
    if values != [-1, 0]:
        raise ValueError(f"`test_fold` must hold -1 (training rows) and 0 (validation rows), both. "
                         f"Received: test_fold with values {values}")
    return GridSearchCV(
        linear_svm_pipeline(max_iter=max_iter), {"svm__C": sorted(check_Cs(Cs))},
        scoring="balanced_accuracy", cv=PredefinedSplit(test_fold), refit=True, error_score="raise",
    )
