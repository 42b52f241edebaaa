"""`to_push_pull` and its selection rules among the model zoo's names; defined in `keras_robust.pushpull.conversion`."""

from keras_robust.pushpull.conversion import WHICH, refusal, select_convolutions, to_push_pull

__all__ = ["WHICH", "refusal", "select_convolutions", "to_push_pull"]
