"""Shared set-up of the Python binding tests: where the package, libdrive,
drivec and the test circuits are, temporary directories, and a decorator
that runs a test class twice, over the numpy path and the pure-Python path.

Run by ctest (python/CMakeLists.txt) with DRIVE_LIB, DRIVEC and
DRIVE_CACHE_DIR set; by hand:

    DRIVE_LIB=build-dev/libdrive.so DRIVEC=build-dev/drivec \
        /usr/bin/python3 -m unittest discover -s python/tests -v

DRIVE_NO_NUMPY=1 runs everything as on a system without numpy.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_DIR)
DATA = os.path.join(HERE, "data")

if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import drive  # noqa: E402  (needs the path above)


def data(name):
    return os.path.join(DATA, name)


def drivec():
    """The drivec binary: $DRIVEC, else the first build tree that has one."""
    env = os.environ.get("DRIVEC")
    if env:
        return env
    for d in ("build-dev", "build"):
        p = os.path.join(REPO, d, "drivec")
        if os.access(p, os.X_OK):
            return p
    raise unittest.SkipTest("no drivec: set DRIVEC")


def build_so(src, out_dir, circuit=None):
    """`drivec build SRC -o OUT_DIR/NAME.so` (one circuit with --circuit)."""
    name = os.path.splitext(os.path.basename(src))[0] + (f"_{circuit}" if circuit else "")
    so = os.path.join(out_dir, name + ".so")
    cmd = [drivec(), "build", src, "-o", so, "--no-cache"]
    if circuit:
        cmd += ["--circuit", circuit]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return so


class TempDirTest(unittest.TestCase):
    """A fresh directory per test in self.tmp, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="drive-py-")
        self.addCleanup(shutil.rmtree, self.tmp, True)


def both_paths(mixin, base=None):
    """Make two TestCase classes of a mixin of tests: `<mixin>Numpy` with
    the numpy data path and `<mixin>Plain` with the per-field C calls
    (use_numpy(False)); the numpy one is skipped without numpy. The mixin
    is not a TestCase itself, so unittest does not run it a third time.

        ValuesNumpy, ValuesPlain = both_paths(Values)
    """
    base = base or TempDirTest

    def make(use, suffix):
        def setUp(self):
            if use and not drive.HAVE_NUMPY:
                self.skipTest("numpy not available")
            prev = drive.use_numpy(use)
            self.addCleanup(drive.use_numpy, prev)
            self.numpy = use
            if hasattr(mixin, "setUp"):
                mixin.setUp(self)
            else:
                base.setUp(self)

        name = mixin.__name__ + suffix
        return type(name, (mixin, base), {"setUp": setUp, "__module__": mixin.__module__,
                                          "__qualname__": name})

    return make(True, "Numpy"), make(False, "Plain")


def as_list(v):
    """A value from get() as nested Python lists/floats, whichever path."""
    if hasattr(v, "tolist"):
        return v.tolist()
    return v
