"""Linear SVM on deep features, C chosen on held-out validation images."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

DEFAULT_CS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def mean_per_class_accuracy(y_true, y_pred):
    """Mean over classes of the fraction of each class's images classified correctly."""
    return float(balanced_accuracy_score(y_true, y_pred))


def linear_svm_pipeline(C=1.0, max_iter=5000):
    """`StandardScaler` followed by a one-vs-rest `LinearSVC`."""
    return Pipeline([
        ("scale", StandardScaler()),
        ("svm", LinearSVC(C=C, dual="auto", max_iter=max_iter)),
    ])


class ValidatedLinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM whose C maximises mean per-class accuracy on validation data.

    For each C a scaled `LinearSVC` is fitted on the training features and
    scored on the validation features; the best C is then refitted on training
    and validation features together.

    Args:
        Cs: candidate values of the SVM's C.
        max_iter: `LinearSVC` iteration limit.
        refit_on_validation: refit the chosen C on training plus validation
            features (True) or keep the model fitted on training features only.

    Example:
        >>> svm = ValidatedLinearSVC().fit(x_train, y_train, validation_data=(x_val, y_val))
        >>> svm.C_, svm.score(x_test, y_test)  # score: mean per-class accuracy
    """

    def __init__(self, Cs=DEFAULT_CS, max_iter=5000, refit_on_validation=True):
        self.Cs = Cs
        self.max_iter = max_iter
        self.refit_on_validation = refit_on_validation

    def fit(self, X, y, validation_data=None):
        """Choose C on `validation_data=(X_val, y_val)`, then fit.

        Without validation data (or with a single candidate C) the first C is used.
        """
        if len(self.Cs) == 0 or min(self.Cs) <= 0:
            raise ValueError(f"Cs must be positive numbers. Received: Cs={self.Cs}")
        X, y = np.asarray(X), np.asarray(y)
        self.classes_ = np.unique(y)
        template = linear_svm_pipeline(max_iter=self.max_iter)
        self.validation_scores_ = {}
        if validation_data is not None and len(self.Cs) > 1:
            X_val, y_val = (np.asarray(a) for a in validation_data)
            for C in self.Cs:
                model = clone(template).set_params(svm__C=C).fit(X, y)
                self.validation_scores_[C] = mean_per_class_accuracy(y_val, model.predict(X_val))
            self.C_ = max(self.Cs, key=lambda C: (self.validation_scores_[C], -C))
            if self.refit_on_validation:
                X, y = np.concatenate([X, X_val]), np.concatenate([y, y_val])
        else:
            self.C_ = self.Cs[0]
        self.pipeline_ = clone(template).set_params(svm__C=self.C_).fit(X, y)
        return self

    def predict(self, X):
        return self.pipeline_.predict(X)

    def score(self, X, y, sample_weight=None):
        """Mean per-class accuracy (the paper's measure), not plain accuracy."""
        return mean_per_class_accuracy(y, self.predict(X))
