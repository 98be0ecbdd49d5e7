"""Shared fixtures for the Python tests."""

import os
import shutil
from pathlib import Path

import pytest

from fdt_mlir.cli.fdt_opt_mlir import JOBS
from fdt_mlir.search import signature_cache

# CI clones the repository with shared/ beside it.
SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The directory of reference .tflite models. Missing, it skips the test
    on a developer's machine but fails it in CI, where it must be present."""
    if not SHARED_MODELS.is_dir():
        _missing(f"reference models not found at {SHARED_MODELS}")
    return SHARED_MODELS


@pytest.fixture(scope="session")
def arm_toolchain() -> str:
    """arm-none-eabi-gcc for the Cortex-M tests. CI installs it (.ci/run);
    missing, it skips the test on a developer's machine but fails it in CI."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        _missing("arm-none-eabi-gcc not found (apt-get install gcc-arm-none-eabi)")
    return gcc


CMSIS_NN = Path(__file__).resolve().parents[3] / "shared" / "cmsis-nn"


@pytest.fixture(scope="session")
def cmsis_nn_source() -> Path:
    """Arm's CMSIS-NN sources beside the clone (../shared/cmsis-nn), for the
    benchmark's baseline. Missing, it skips on a developer's machine but
    fails in CI."""
    if not CMSIS_NN.is_dir():
        _missing(f"CMSIS-NN not found at {CMSIS_NN}")
    return CMSIS_NN


@pytest.fixture(scope="session", autouse=True)
def shared_signatures(tmp_path_factory):
    """One cache of lowered units for the whole run (all xdist workers and
    the compilers they start): the shared models are searched by several
    tests, in several modes, and hits are exactly what lowering gives."""
    base = tmp_path_factory.getbasetemp()
    where = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "signatures"
    os.environ[signature_cache.ENVIRONMENT] = str(where)
    return where


@pytest.fixture(scope="session", autouse=True)
def one_job_per_compile():
    """pytest already runs a worker per CPU: compiles lower their units in
    their own process (the default of --jobs), unless a test asks for more."""
    os.environ[JOBS] = "1"


def _missing(message: str):
    """What a test needs is not on this machine: a failure in CI, where
    everything must be present, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
