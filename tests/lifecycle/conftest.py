"""A second trained model (another seed), for the tests that install one model after another."""

from __future__ import annotations

from pathlib import Path

import pytest

SECOND_ROWS = 1_500
SECOND_SEED = 77


@pytest.fixture(scope="session")
def second_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.pipeline import train
    from training.synthetic import generate_customers

    out_dir = tmp_path_factory.mktemp("second-model")
    train(generate_customers(SECOND_ROWS, seed=SECOND_SEED), out_dir, trials=2, seed=SECOND_SEED)
    return out_dir
