"""Offline installation into a virtual environment, as README.md shows.

Builds the package from a copy of bindings/python with the tested
libcscore.so bundled (CSCORE_BUNDLE_LIBRARY), installs it with pip
--no-build-isolation --no-deps and no package index, and imports it from
outside the clone.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path


import cscore
from conftest import PACKAGE_ROOT, REPO


def library_under_test() -> Path:
    loaded = Path(cscore.library_path())
    return loaded if loaded.is_file() else REPO / "build" / "libcscore.so"


def offline_environment(**extra):
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CSCORE_LIBRARY")
    }
    environment.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1", **extra)
    return environment


def run(command, environment, cwd):
    result = subprocess.run([str(part) for part in command], env=environment, cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_pip_install_offline_bundles_library(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    environment = offline_environment(CSCORE_BUNDLE_LIBRARY=str(library_under_test()))

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], environment, tmp_path)
    run([venv / "bin" / "pip", "install", "--no-build-isolation", "--no-deps", source], environment, tmp_path)

    check = (
        "import cscore, numpy\n"
        "print(cscore.library_path())\n"
        "tracker = cscore.Tracker(3, 2)\n"
        "tracker.observe_epoch(numpy.array([[2, 0], [0, 2], [2, 0]], 'f4'), [0, 1, 1])\n"
        "print(tracker.cbtl.tolist())\n"
    )
    output = run([venv / "bin" / "python", "-c", check], offline_environment(), tmp_path).splitlines()
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert output[0] == str(site_packages / "cscore" / "_lib" / "libcscore.so")
    assert output[1] == "[1, 1, 0]"
