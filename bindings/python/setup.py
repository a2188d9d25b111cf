"""Bundles libcscore.so into the package when it is built.

pyproject.toml contains the metadata, and this file only adds the library. The
library to bundle is, in order:

1. the file named by the environment variable CSCORE_BUNDLE_LIBRARY, or
   nothing when that variable is "none" (the installed package then
   loads the system's libcscore.so, e.g. one from `cmake --install`);
2. ../../build/libcscore.so, the CMake build of the clone that this
   folder belongs to, when it exists;
3. nothing, with a warning.

With a library bundled, the wheel is tagged for this platform, because
the library is a compiled binary.
"""

import functools
import os
import shutil
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLE_VARIABLE = "CSCORE_BUNDLE_LIBRARY"


@functools.lru_cache(maxsize=None)
def library_to_bundle():
    """Return the path of the library to copy into the package, or None."""
    chosen = os.environ.get(BUNDLE_VARIABLE)
    if chosen == "none":
        return None
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            sys.exit(f"error: {BUNDLE_VARIABLE}={chosen} is not a file; build libcscore.so first")
        return path
    in_clone = HERE.parent.parent / "build" / "libcscore.so"
    if in_clone.is_file():
        return in_clone
    print(
        f"warning: no libcscore.so to bundle (set {BUNDLE_VARIABLE} to its path); "
        "the installed package will look for the system's libcscore.so",
        file=sys.stderr,
    )
    return None


class BuildPyWithLibrary(build_py):
    """Copies the library into cscore/_lib/ next to the Python modules."""

    def run(self):
        super().run()
        source = library_to_bundle()
        if source is None:
            return
        target = Path(self.build_lib) / "cscore" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        # The build tree's libcscore.so is a symbolic link chain; copy the
        # file it ends at, under a name that the package's lookup globs.
        shutil.copyfile(source.resolve(), target / "libcscore.so")


class PlatformDistribution(Distribution):
    def has_ext_modules(self):
        return library_to_bundle() is not None


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=PlatformDistribution)
