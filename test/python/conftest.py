"""Shared fixtures for the Python tests."""

import os
from pathlib import Path

import pytest

# CI clones the repository with shared/ beside it.
SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The directory of reference .tflite models. Missing, it skips the test
    on a developer's machine but fails it in CI, where it must be present."""
    if not SHARED_MODELS.is_dir():
        message = f"reference models not found at {SHARED_MODELS}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_MODELS
