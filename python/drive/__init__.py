"""drive — Python bindings of libdrive, the host library of the drive
compiler: run compiled drive circuits (innate reward and steering circuits)
from Python, e.g. as the reward function of an RL loop.

ctypes only (nothing to compile); numpy is used when it is installed.

    import drive
    c = drive.compile("examples/01_spider/spider.drive")      # JIT, cached
    # or: c = drive.load("spider.so")                         # from `drivec build`
    pop = c.population(1000)                                 # 1000 instances
    pop.set("motion", 0.8)                                   # every instance
    pop.set("defer_gain", numpy.linspace(0, 2, 1000))        # a param per instance
    pop.step(100)                                            # 100 ticks
    pop.get("arousal")                                       # ndarray (1000,)
    pop.outputs(), pop.rewards()                             # dicts name -> values

The library is found through $DRIVE_LIB, next to the package in a build
tree, or the system loader (see drive._lib and python/README.md).
Every failure raises DriveError with libdrive's message.
"""

from ._core import (HAVE_NUMPY, Circuit, DriveError, Field, Instance, InvalidInputWarning,
                    Population, Trace, cache_dir, compile, has_checkpoints, library_path, load,
                    numpy_enabled, use_numpy)

__all__ = [
    "compile", "load", "cache_dir", "has_checkpoints", "library_path", "use_numpy",
    "numpy_enabled", "HAVE_NUMPY", "Circuit", "Field", "Population", "Instance", "Trace",
    "DriveError", "InvalidInputWarning",
]

__version__ = "0.1.0"
