"""Finding libdrive and declaring its C functions to ctypes.

This is the only module that knows the C API (runtime/drive.h and the
reflection struct of runtime/drive_abi.h); the rest of the package goes
through `lib()`. Nothing here is compiled: the library is loaded with ctypes
on first use, so `import drive` works (and can print where it would look)
even before libdrive is built.

Where the library is looked for, first match wins:

1. ``$DRIVE_LIB``: the path of the library file, or a directory holding
   ``libdrive.so``. When set it must work: no silent fallback to another
   copy, since a stale library picked up by accident is worse than an error.
2. Next to the package, for build trees and copies of the package:
   ``<pkg>/libdrive.so`` (a copy shipped inside the package),
   ``<pkg>/../libdrive.so`` and ``<pkg>/../../libdrive.so`` (the package
   copied to ``BUILD/python/drive`` of a build tree, whose root holds the
   library), then ``<pkg>/../../build/libdrive.so`` and
   ``<pkg>/../../build-dev/libdrive.so`` (the package used in place from a
   source checkout: build/ is where scripts/setup.sh builds, build-dev/ the
   usual development build).
3. The system loader: ``libdrive.so.0`` / ``libdrive.so`` on the usual
   library path (an installed libdrive).
"""

import ctypes
import ctypes.util
import os

# drive_abi.h: the version of the structs below and of the block layout. The
# library checks the version of every shared object it loads; the layout of
# drive_abi_field is mirrored here, so a mismatch would read garbage — see
# _check_layout. Version 2 holds populations in columns (the views of
# _core.py); a libdrive of version 1 lacks drive_pop_column, so _open
# refuses it rather than let the views read the wrong bytes.
ABI_VERSION = 2

KINDS = ("input", "output", "param", "state")
TYPES = ("real", "bool")
ROLES = ("plain", "learned", "reward", "total", "weight", "probe")

INPUT, OUTPUT, PARAM, STATE = range(4)
REAL, BOOL = range(2)
PLAIN, LEARNED, REWARD, TOTAL, WEIGHT, PROBE = range(6)

NO_CACHE = 1        # drive_compile flags
OPT0 = 2
RESTORE_BY_NAME = 1  # drive_restore flags
ALL_INSTANCES = ctypes.c_size_t(-1).value  # drive_pop_reset: every instance


class CField(ctypes.Structure):
    """drive_abi_field (drive_abi.h), field for field."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("base", ctypes.c_char_p),
        ("index", ctypes.c_uint32),
        ("len", ctypes.c_uint32),
        ("offset", ctypes.c_uint32),
        ("kind", ctypes.c_uint8),
        ("type", ctypes.c_uint8),
        ("role", ctypes.c_uint8),
        ("has_range", ctypes.c_uint8),
        ("lo", ctypes.c_double),
        ("hi", ctypes.c_double),
        ("init", ctypes.c_double),
    ]


def _check_layout():
    # The C struct is 2 pointers, 3 uint32, 4 uint8, 3 doubles: 56 bytes on
    # LP64. If someone changes drive_abi_field without bumping this module,
    # fail loudly here rather than misread offsets later.
    assert ctypes.sizeof(CField) == 56 and CField.lo.offset == 32, "drive_abi_field layout"


_check_layout()

_P = ctypes.c_void_p
_S = ctypes.c_size_t
_I = ctypes.c_int
_U = ctypes.c_uint
_D = ctypes.c_double
_STR = ctypes.c_char_p

# name: (restype, argtypes). Checkpoint functions are optional (see
# has_checkpoints): a library built before runtime/checkpoint.c lacks them.
_PROTOS = {
    "drive_last_error": (_STR, []),
    "drive_load": (_P, [_STR, _STR]),
    "drive_compile": (_P, [_STR, _STR, _STR, _U]),
    "drive_cache_dir": (_STR, []),
    "drive_circuit_free": (None, [_P]),
    "drive_module_name": (_STR, [_P]),
    "drive_circuit_name": (_STR, [_P]),
    "drive_source_hash": (_STR, [_P]),
    "drive_origin": (_STR, [_P]),
    "drive_tick": (_D, [_P]),
    "drive_in_size": (_S, [_P]),
    "drive_out_size": (_S, [_P]),
    "drive_state_size": (_S, [_P]),
    "drive_n_fields": (ctypes.c_uint32, [_P]),
    "drive_field_at": (ctypes.POINTER(CField), [_P, ctypes.c_uint32]),
    "drive_find": (_I, [_P, _I, _STR]),
    "drive_pop_new": (_P, [_P, _S]),
    "drive_pop_free": (None, [_P]),
    "drive_pop_size": (_S, [_P]),
    "drive_pop_reset": (None, [_P, _S]),
    "drive_pop_inputs": (_P, [_P]),
    "drive_pop_outputs": (_P, [_P]),
    "drive_pop_states": (_P, [_P]),
    "drive_pop_column": (_P, [_P, _I]),
    "drive_pop_columns": (_S, [_P]),
    "drive_pop_read_block": (_I, [_P, _S, _I, _P]),
    "drive_pop_write_block": (_I, [_P, _S, _I, _P]),
    "drive_set": (_I, [_P, _S, _I, _D]),
    "drive_get": (_D, [_P, _S, _I]),
    "drive_set_all": (_I, [_P, _I, ctypes.POINTER(_D)]),
    "drive_get_all": (None, [_P, _I, ctypes.POINTER(_D)]),
    "drive_step": (_S, [_P, _S]),
    "drive_trace_open": (_P, [_P, _S, _STR, _STR]),
    "drive_trace_record": (_I, [_P]),
    "drive_trace_close": (_I, [_P]),
}
_OPTIONAL = {
    "drive_save": (_I, [_P, _STR]),
    "drive_restore": (_I, [_P, _STR, _U]),
    "drive_restore_report": (_STR, []),
}

_lib = None
_lib_path = None


def candidates():
    """The paths tried, in order, when $DRIVE_LIB is not set."""
    pkg = os.path.dirname(os.path.abspath(__file__))
    return [
        os.path.join(pkg, "libdrive.so"),
        os.path.normpath(os.path.join(pkg, "..", "libdrive.so")),
        os.path.normpath(os.path.join(pkg, "..", "..", "libdrive.so")),
        os.path.normpath(os.path.join(pkg, "..", "..", "build", "libdrive.so")),
        os.path.normpath(os.path.join(pkg, "..", "..", "build-dev", "libdrive.so")),
    ]


def _open(path):
    lib = ctypes.CDLL(path)
    for name, (res, args) in _PROTOS.items():
        fn = getattr(lib, name)  # AttributeError: not a libdrive
        fn.restype, fn.argtypes = res, args
    for name, (res, args) in _OPTIONAL.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype, fn.argtypes = res, args
    return lib


def lib():
    """The loaded library (loaded on the first call). Raises OSError saying
    where it looked when there is none."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    env = os.environ.get("DRIVE_LIB")
    if env:
        path = os.path.join(env, "libdrive.so") if os.path.isdir(env) else env
        try:
            _lib = _open(path)
        except (OSError, AttributeError) as e:
            raise OSError(f"DRIVE_LIB={env}: cannot use {path} as libdrive: {e}") from None
        _lib_path = path
        return _lib
    tried = []
    for path in candidates():
        if os.path.exists(path):
            try:
                _lib = _open(path)
                _lib_path = path
                return _lib
            except (OSError, AttributeError) as e:
                tried.append(f"{path} ({e})")
        else:
            tried.append(f"{path} (absent)")
    for name in ("libdrive.so.0", "libdrive.so", ctypes.util.find_library("drive")):
        if not name:
            continue
        try:
            _lib = _open(name)
            _lib_path = name
            return _lib
        except (OSError, AttributeError) as e:
            tried.append(f"{name} ({e})")
    raise OSError("libdrive not found: set DRIVE_LIB to the built library "
                  "(e.g. build-dev/libdrive.so). Tried:\n  " + "\n  ".join(tried))


def lib_path():
    """The path (or loader name) of the library in use, loading it if needed."""
    lib()
    return _lib_path


def has_checkpoints():
    """Whether this libdrive has drive_save / drive_restore."""
    return getattr(lib(), "drive_save", None) is not None


def text(b):
    """A C string from the library as str (None stays None)."""
    return None if b is None else b.decode("utf-8", "replace")
