import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits: images as uint8 in 0..255, labels 0..9."""
    data = load_digits()
    images = (data.images * (255 / 16)).round().astype(np.uint8)
    return images, data.target


@pytest.fixture(scope="session")
def tiny():
    """Classifier arguments for a search small enough to trace and train in seconds."""
    return dict(max_trials=1, epochs=5, final_epochs=5, num_blocks=2, search_filters=8, final_filters=8,
                search_normal_cells=1, final_normal_cells=1, operations=["conv_3x3", "max_pool_3x3", "identity"],
                batch_size=32, verbose=0, seed=0)
