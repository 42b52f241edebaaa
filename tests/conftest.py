import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("KERAS_ROBUST_SHARED", REPO.parent / "shared")) / "data"


@pytest.fixture(scope="session")
def optional_shared_data():
    """Path of ../shared/data, or None where it is absent (as on a user's machine)."""
    return SHARED_DATA if SHARED_DATA.is_dir() else None


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data (real data and the authors' checkpoints)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found: {SHARED_DATA}")
    return SHARED_DATA
