"""Loading the library, and the ctypes structs against the C sizes."""

import ctypes
import os
import subprocess
import sys

import pytest

import cscore
from cscore import _library, _structs
from conftest import PACKAGE_ROOT


def test_version_matches_package():
    assert cscore.library_version() == cscore.__version__


@pytest.mark.parametrize(
    "struct, init",
    [
        (_structs.TrackerOptions, "cs_tracker_options_init"),
        (_structs.DatasetOptions, "cs_dataset_options_init"),
        (_structs.BootstrapOptions, "cs_bootstrap_options_init"),
        (_structs.KdeOptions, "cs_kde_options_init"),
        (_structs.KdeResult, "cs_kde_result_init"),
    ],
)
def test_struct_size_equals_c_sizeof(struct, init):
    # Each init function writes the C sizeof into struct_size. The struct
    # sits at the start of a larger buffer, so that a mirror shorter than
    # the C struct cannot let the call write past the end.
    buffer = ctypes.create_string_buffer(4096)
    getattr(_library.lib, init)(ctypes.byref(struct.from_buffer(buffer)))
    assert ctypes.sizeof(struct) == ctypes.c_size_t.from_buffer(buffer).value


def import_in_subprocess(environment):
    """Import cscore in a fresh interpreter; return (exit code, output)."""
    code = "import cscore; print(cscore.library_path())"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=os.sep
    )
    return result.returncode, result.stdout + result.stderr


def clean_environment(**extra):
    environment = {key: value for key, value in os.environ.items() if key != _library.ENVIRONMENT_VARIABLE}
    environment["PYTHONPATH"] = str(PACKAGE_ROOT)
    environment.update(extra)
    return environment


def test_environment_variable_wins():
    code, output = import_in_subprocess(clean_environment(CSCORE_LIBRARY=_library.library_path))
    assert code == 0, output
    assert output.strip() == _library.library_path


def test_wrong_environment_path_fails_clearly():
    code, output = import_in_subprocess(clean_environment(CSCORE_LIBRARY="/nonexistent/libcscore.so"))
    assert code != 0
    assert "ImportError: cannot load libcscore.so" in output
    assert "CSCORE_LIBRARY: /nonexistent/libcscore.so" in output


def test_build_tree_found_in_place():
    in_place = _library._build_tree_library()
    if in_place is None or not in_place.exists():
        pytest.skip("no build/libcscore.so in this clone")
    code, output = import_in_subprocess(clean_environment())
    assert code == 0, output
    assert output.strip() == str(in_place)
