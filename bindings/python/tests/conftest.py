"""Shared fixtures: the clone's paths, the cscore program, synthetic data.

The tests load the library that cscore's lookup finds: CSCORE_LIBRARY
when set (ctest sets it to the build's libcscore.so), else the clone's
build/libcscore.so. The cscore program is CSCORE_CLI, else build/cscore.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGE_ROOT = REPO / "bindings" / "python"

# Make `import cscore` work when pytest runs without PYTHONPATH.
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))


def cli_path() -> Path:
    return Path(os.environ.get("CSCORE_CLI", REPO / "build" / "cscore"))


@pytest.fixture(scope="session")
def cli() -> Path:
    path = cli_path()
    if not path.exists():
        pytest.fail(f"the cscore program is missing at {path}; build it or set CSCORE_CLI")
    return path


def run_cli(cli: Path, *args, cwd=None) -> subprocess.CompletedProcess:
    """Run the cscore program and fail the test with its output if it fails."""
    result = subprocess.run([str(cli), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cscore {' '.join(map(str, args))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def synthetic_epochs(n: int, classes: int, epochs: int, seed: int = 0):
    """Return (logits per epoch as float32 arrays, int32 labels) whose
    correctness changes over the epochs: each example's true-label logit
    grows at its own rate, plus fresh noise each epoch."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n).astype(np.int32)
    base = rng.normal(size=(n, classes))
    rate = rng.uniform(-0.5, 1.5, size=n)
    logits = []
    for epoch in range(epochs):
        z = base + rng.normal(scale=0.7, size=(n, classes))
        z[np.arange(n), labels] += rate * epoch
        logits.append(z.astype(np.float32))
    return logits, labels


@pytest.fixture
def epochs_data():
    return synthetic_epochs(n=300, classes=7, epochs=5, seed=1)
