"""The Python objects over libdrive: Circuit, Field, Population, Instance,
Trace, and DriveError.

Two data paths exist for every bulk read and write, chosen per call:

* with numpy, a field of every instance is one view into the raw block the
  library steps (drive_pop_inputs/outputs/states, offsets from the
  reflection table), so reading or writing a field of 10,000 instances is a
  single numpy copy. The blocks hold the instances in columns (drive_abi.h):
  the field at offset o of width w (8 for a real, 1 for a bool) of instance
  i is at byte o*m + w*i, m the columns' length (drive_pop_columns: n up to
  64 instances, a little more above), so a scalar field is n contiguous
  values, a vector (n, len) with strides (8, 8*m), one element at
  (o + 8*element)*m;
* without numpy (not installed, DRIVE_NO_NUMPY=1 in the environment before
  import, or use_numpy(False)), the same operations go through drive_get /
  drive_set_all, one C call per vector element.

Both paths validate before writing and leave the library to word the
errors: a value the library would refuse (a param outside its range, a bool
other than 0 or 1) is found in Python, then set once through drive_set so
that the message raised is exactly the library's, and nothing is written.
"""

import ctypes
import math
import os
import warnings

from . import _lib as L

if os.environ.get("DRIVE_NO_NUMPY", "") not in ("", "0"):
    _np = None  # simulate a system without numpy: never even import it
else:
    try:
        import numpy as _np
    except ImportError:  # numpy is optional
        _np = None

HAVE_NUMPY = _np is not None
_use_numpy = HAVE_NUMPY


def use_numpy(flag=True):
    """Turn the numpy data path on or off (for tests and comparisons);
    returns the previous setting. Without numpy: get() returns floats and
    lists instead of ndarrays."""
    global _use_numpy
    if flag and _np is None:
        raise DriveError("numpy is not available (not installed, or DRIVE_NO_NUMPY is set)")
    prev, _use_numpy = _use_numpy, bool(flag)
    return prev


def numpy_enabled():
    """Whether get/set currently use numpy."""
    return _use_numpy


class DriveError(Exception):
    """A failure reported by libdrive (the text of drive_last_error(), which
    names the file, circuit and field concerned), or a misuse of this
    package detected before calling it. `message` holds the text."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidInputWarning(UserWarning):
    """Issued by Population.step (on_invalid="warn") when some instance-ticks
    had invalid inputs, so kept no state."""


def _fail(context=None):
    msg = L.text(L.lib().drive_last_error()) or "unknown libdrive error"
    return DriveError(f"{context}: {msg}" if context else msg)


def _fmt(v):
    return repr(float(v)) if isinstance(v, float) and not v.is_integer() else f"{v:g}"


# ---- reflection ---------------------------------------------------------------


class Field:
    """One input, output, param or state slot of a circuit; a vector is one
    Field (shape (len,)), not one per element.

    name     the signal's name ("x", "v", "c.gain", "finder.w")
    kind     "input", "output", "param" or "state"
    type     "real" or "bool"
    shape    () for a scalar, (len,) for a vector
    range    (lo, hi) when declared `in [lo, hi]`, else None
    role     "plain", "learned" (input), "reward" (a reward stream),
             "total" (the summed `reward`), "weight" (a learned weight),
             "probe" (an inner signal exported as an output)
    default  a param's default / a state slot's initial value (a tuple per
             element for vectors)
    offset   byte offset of its first element in one instance's block (in
             a population's columns, instance i's value is at offset*m + w*i,
             m = Population.columns)
    index    position of its first element in the library's field table
    """

    __slots__ = ("name", "kind", "type", "shape", "range", "role", "default", "offset",
                 "index", "element_names")

    def __init__(self, elems, index):
        c = elems[0]
        self.name = L.text(c.base)
        self.kind = L.KINDS[c.kind]
        self.type = L.TYPES[c.type]
        self.shape = (c.len,) if c.len > 1 else ()
        self.range = (c.lo, c.hi) if c.has_range else None
        self.role = L.ROLES[c.role] if c.role < len(L.ROLES) else str(c.role)
        defaults = tuple(e.init for e in elems)
        self.default = defaults if self.shape else defaults[0]
        self.offset = c.offset
        self.index = index
        self.element_names = tuple(L.text(e.name) for e in elems)

    @property
    def size(self):
        """Number of elements (1 for a scalar)."""
        return self.shape[0] if self.shape else 1

    def __repr__(self):
        ty = f"vec[{self.size}]" if self.shape else self.type
        rng = f" in [{_fmt(self.range[0])}, {_fmt(self.range[1])}]" if self.range else ""
        role = "" if self.role == "plain" else f" ({self.role})"
        return f"<Field {self.kind} {self.name}: {ty}{rng}{role}>"


class Circuit:
    """A compiled circuit: code and description. Made by compile() or load().

    Attributes: module, name, source_hash, origin ("jit", "so" or "cache"),
    tick (seconds), in_size/out_size/state_size (bytes per instance),
    fields (every Field, in the library's order: inputs, outputs, params,
    state slots), and the lists inputs, outputs (without probes), params,
    reward_streams (outputs of role "reward"; the total is the output
    `reward`), states, probes.

    A circuit stays alive as long as a population of it does.
    """

    def __init__(self, handle):
        self._lib = L.lib()
        self._h = handle
        self._n_pops = 0  # live populations: the circuit must outlive them
        lib, h = self._lib, handle
        self.module = L.text(lib.drive_module_name(h))
        self.name = L.text(lib.drive_circuit_name(h))
        self.source_hash = L.text(lib.drive_source_hash(h))
        self.origin = L.text(lib.drive_origin(h))
        self.tick = lib.drive_tick(h)
        self.in_size = lib.drive_in_size(h)
        self.out_size = lib.drive_out_size(h)
        self.state_size = lib.drive_state_size(h)
        n = lib.drive_n_fields(h)
        raw = [lib.drive_field_at(h, i).contents for i in range(n)]
        # Group the element entries of each vector (consecutive, index 0 first).
        self.fields = []
        i = 0
        while i < n:
            ln = max(raw[i].len, 1)
            if raw[i].index != 0 or i + ln > n:
                ln = 1  # not a well-formed vector start: keep it as one element
            self.fields.append(Field(raw[i:i + ln], i))
            i += ln
        self._exact = {}  # element or scalar name -> (Field, element or None)
        self._base = {}   # vector name -> Field
        for f in self.fields:
            if f.shape:
                for e, en in enumerate(f.element_names):
                    self._exact.setdefault(en, (f, e))
                self._base.setdefault(f.name, f)
            else:
                self._exact.setdefault(f.name, (f, None))
        self.inputs = [f for f in self.fields if f.kind == "input"]
        self.outputs = [f for f in self.fields if f.kind == "output" and f.role != "probe"]
        self.probes = [f for f in self.fields if f.role == "probe"]
        self.params = [f for f in self.fields if f.kind == "param"]
        self.states = [f for f in self.fields if f.kind == "state"]
        self.reward_streams = [f for f in self.fields if f.role == "reward"]

    # -- lookup

    def field(self, name):
        """The Field called `name` (a vector's name gives the whole vector).
        Raises DriveError with the library's message, suggestion included."""
        return self._resolve(name)[0]

    def _resolve(self, name):
        """(Field, element): element is None for a whole field, else the
        element index named by "v[3]"."""
        self._check()
        hit = self._exact.get(name)
        if hit is not None:
            return hit
        f = self._base.get(name)
        if f is not None:
            return f, None
        # Unknown: the library words the error (with a "did you mean").
        if self._lib.drive_find(self._h, -1, str(name).encode()) < 0:
            raise _fail()
        raise DriveError(f"circuit '{self.name}' has no field '{name}'")  # not reached

    def __contains__(self, name):
        return name in self._exact or name in self._base

    # -- populations

    def population(self, n, on_invalid="warn"):
        """n independent instances (params at their defaults, inputs 0).
        on_invalid: what step() does when an instance-tick had invalid inputs:
        "warn" (InvalidInputWarning), "raise" (DriveError) or "ignore"."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"population: n must be an int, not {type(n).__name__}")
        if not 1 <= n < 2**62:  # ctypes would wrap a larger size_t silently
            raise DriveError(f"population: a population needs at least one instance and "
                             f"fewer than 2**62; n={n}")
        return Population(self, n, on_invalid)

    def instance(self, on_invalid="warn"):
        """One instance: a Population of 1 whose get() returns a float (or a
        1-D array for a vector) rather than an array over instances."""
        return Instance(self, on_invalid)

    # -- life

    def _check(self):
        if self._h is None:
            raise DriveError(f"circuit '{self.name}' is closed")

    def close(self):
        """Free the circuit now (its populations must be closed first)."""
        if self._h is not None:
            if self._pops_alive():
                raise DriveError(f"circuit '{self.name}' still has populations: close them first")
            self._lib.drive_circuit_free(self._h)
            self._h = None

    def _pops_alive(self):
        return self._n_pops > 0

    def __del__(self):
        h = getattr(self, "_h", None)
        if h is not None:
            try:
                self._lib.drive_circuit_free(h)
            except Exception:
                pass
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self):
        """A table of the circuit's fields, one line each (state slots
        summarised), for printing."""
        lines = [f"circuit {self.module}.{self.name} ({self.origin}, tick {self.tick * 1000:g} ms, "
                 f"source {self.source_hash})"]
        for f in self.fields:
            if f.kind == "state":
                continue
            ty = f"vec[{f.size}]" if f.shape else f.type
            rng = f" in [{_fmt(f.range[0])}, {_fmt(f.range[1])}]" if f.range else ""
            extra = f" = {f.default:g}" if f.kind == "param" and not f.shape else ""
            role = "" if f.role == "plain" else f"  ({f.role})"
            lines.append(f"  {f.kind:6} {f.name}: {ty}{rng}{extra}{role}")
        if self.states:
            lines.append(f"  {sum(f.size for f in self.states)} state slots, "
                         f"{self.state_size} bytes of state per instance")
        return "\n".join(lines)

    def __repr__(self):
        def count(items, word):
            return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"
        return (f"<drive.Circuit {self.module}.{self.name} ({self.origin}): "
                f"{count(self.inputs, 'input')}, {count(self.outputs, 'output')}, "
                f"{count(self.params, 'param')}>")


def _paths(include_path):
    if include_path is None:
        return None
    if isinstance(include_path, (str, bytes, os.PathLike)):
        include_path = [include_path]
    return ":".join(os.fsdecode(os.fspath(p)) for p in include_path).encode()


def compile(path, circuit=None, include_path=None, cache=True, optimize=True):
    """Compile circuit `circuit` (None: the file's only circuit) of the
    .drive source at `path` in-process with the JIT.

    include_path: a directory or a list of directories searched for imported
    modules (after the file's own directory and $DRIVE_PATH, before the
    bundled stdlib). cache: reuse / fill the artefact cache (see
    cache_dir()), so an unchanged program loads instantly the next time.
    optimize=False skips optimisation (faster to compile, slower to run;
    never cached). Raises DriveError with the compiler's diagnostics."""
    lib = L.lib()
    flags = (0 if cache else L.NO_CACHE) | (0 if optimize else L.OPT0)
    h = lib.drive_compile(os.fsencode(os.fspath(path)),
                          circuit.encode() if circuit is not None else None,
                          _paths(include_path), flags)
    if not h:
        raise _fail()
    return Circuit(h)


def load(so_path, circuit=None):
    """Load circuit `circuit` (None: the only one) from a shared object
    built by `drivec build`. Raises DriveError (wrong file, ABI version,
    unknown circuit: the message lists the circuits there are)."""
    lib = L.lib()
    h = lib.drive_load(os.fsencode(os.fspath(so_path)),
                       circuit.encode() if circuit is not None else None)
    if not h:
        raise _fail()
    return Circuit(h)


def cache_dir():
    """Where drive.compile caches compiled circuits: $DRIVE_CACHE_DIR, else
    $XDG_CACHE_HOME/drive, else ~/.cache/drive."""
    return L.text(L.lib().drive_cache_dir())


def has_checkpoints():
    """Whether the loaded libdrive implements save/restore."""
    return L.has_checkpoints()


def library_path():
    """The libdrive in use (see drive._lib for the search order)."""
    return L.lib_path()


# ---- populations ----------------------------------------------------------------

_BLOCKS = {"input": "drive_pop_inputs", "output": "drive_pop_outputs",
           "param": "drive_pop_states", "state": "drive_pop_states"}


class Population:
    """n instances of one circuit, each with its own inputs, outputs, params
    and state, stepped together. Made by Circuit.population(n).

    Values: set(name, v) writes an input or a param; get(name) reads any
    field. A scalar is one value for every instance; a sequence (or ndarray)
    of length n gives one per instance. A vector field takes a scalar
    (every element of every instance), shape (len,) (the same vector for
    every instance) or shape (n, len). An element can be named on its own
    ("v[2]"). pop[name] and pop[name] = v are the same as get and set.

    get() returns an ndarray of shape (n,) or (n, len) with numpy (bools
    as a bool array), else a list (of lists for vectors).
    """

    _squeeze = False

    def __init__(self, circuit, n, on_invalid="warn"):
        self._h = None
        if not isinstance(circuit, Circuit):
            raise TypeError("Population(circuit, n): circuit must be a drive.Circuit")
        circuit._check()
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"the number of instances must be an int, not {type(n).__name__}")
        self.on_invalid = on_invalid
        self._c = circuit
        self._lib = circuit._lib
        h = self._lib.drive_pop_new(circuit._h, n) if n >= 1 else None
        if not h:
            if n < 1:
                raise DriveError(f"a population needs at least one instance, not {n}")
            raise _fail()
        self._h = h
        self._n = n
        self._m = self._lib.drive_pop_columns(h)  # the columns' length
        circuit._n_pops += 1
        self._ticks = 0
        self._traces = []
        self._buffers = {}  # block name -> ctypes char array over the block
        self._views = {}    # (field name, element) -> numpy view

    # -- properties

    @property
    def circuit(self):
        return self._c

    @property
    def n(self):
        """The number of instances."""
        return self._n

    @property
    def columns(self):
        """The length of the raw blocks' columns (blocks()): n up to 64
        instances, a little more above, so that columns never lie a
        multiple of 4 KB apart."""
        return self._m

    def __len__(self):
        return self._n

    @property
    def ticks(self):
        """Ticks stepped since creation or the last full reset()."""
        return self._ticks

    @property
    def time(self):
        """ticks * the circuit's tick, in seconds."""
        return self._ticks * self._c.tick

    @property
    def on_invalid(self):
        return self._on_invalid

    @on_invalid.setter
    def on_invalid(self, v):
        if v not in ("warn", "raise", "ignore"):
            raise DriveError(f"on_invalid must be 'warn', 'raise' or 'ignore', not {v!r}")
        self._on_invalid = v

    def _check(self):
        if self._h is None:
            raise DriveError("the population is closed")

    # -- raw blocks

    def _block(self, kind, owner=None):
        """A ctypes char array over the block of that kind (all instances).
        With owner, a fresh array that keeps owner alive (for views handed
        to the user); without, one cached here (internal views only, so the
        population and its buffers form no reference cycle)."""
        name = _BLOCKS[kind]
        if owner is None and name in self._buffers:
            return self._buffers[name]
        size = {"drive_pop_inputs": self._c.in_size, "drive_pop_outputs": self._c.out_size,
                "drive_pop_states": self._c.state_size}[name] * self._m
        addr = getattr(self._lib, name)(self._h)
        buf = (ctypes.c_char * max(size, 1)).from_address(addr)
        if owner is None:
            self._buffers[name] = buf
        else:
            buf._owner = owner
        return buf

    def _make_view(self, f, element, owner=None):
        # Columns (drive_abi.h): the element at offset o of instance i is at
        # o*m + w*i, m the columns' length; a vector's elements are
        # consecutive offsets, so its columns are 8*m bytes apart.
        np = _np
        n, m = self._n, self._m
        buf = self._block(f.kind, owner)
        if f.type == "bool":
            return np.ndarray((n,), np.uint8, buf, f.offset * m, (1,))
        if element is not None:
            return np.ndarray((n,), np.float64, buf, (f.offset + 8 * element) * m, (8,))
        if f.shape:
            return np.ndarray((n, f.size), np.float64, buf, f.offset * m, (8, 8 * m))
        return np.ndarray((n,), np.float64, buf, f.offset * m, (8,))

    def _view(self, f, element):
        key = (f.index, element)
        v = self._views.get(key)
        if v is None:
            v = self._views[key] = self._make_view(f, element)
        return v

    def view(self, name):
        """A writable numpy view of a field of every instance, straight into
        the library's block: shape (n,) or (n, len); bools as uint8 0/1.
        Zero-copy, for hot loops: writes bypass every check (an invalid
        input is still caught by step(); a param outside its range is not),
        and the view is valid until the population is closed (it keeps the
        population alive otherwise)."""
        self._check()
        if not _use_numpy:
            raise DriveError("view() needs numpy (not available, or turned off by use_numpy)")
        f, e = self._c._resolve(name)
        return self._make_view(f, e, owner=self)

    def blocks(self):
        """The three raw blocks as flat numpy uint8 arrays of m * size bytes:
        {"inputs", "outputs", "states"} (zero-copy, like view()). They hold
        the instances in columns, as the library steps them: the field at
        offset o of width w (8 for a real, 1 for a bool) of instance i is at
        byte o*m + w*i, m the columns' length (columns(): n up to 64
        instances, a little more above); view() gives a field's values
        directly."""
        self._check()
        if not _use_numpy:
            raise DriveError("blocks() needs numpy (not available, or turned off by use_numpy)")
        out = {}
        for key, kind, size in (("inputs", "input", self._c.in_size),
                                ("outputs", "output", self._c.out_size),
                                ("states", "state", self._c.state_size)):
            buf = self._block(kind, owner=self)
            out[key] = _np.ndarray((self._m * size,), _np.uint8, buf, 0, (1,))
        return out

    # -- values

    def _elements(self, f, element):
        return range(f.size) if element is None else (element,)

    def _shape_values(self, f, element, value, name):
        """The values to write as a list per element of per-instance
        floats (pure Python), or an ndarray (n,)/(n, len) with numpy."""
        n = self._n
        vec = element is None and bool(f.shape)
        size = f.size if vec else 1
        if _use_numpy:
            np = _np
            try:
                a = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise DriveError(f"{name}: cannot use {value!r} as a value ({e})") from None
            if vec:
                if a.ndim == 0 or a.shape == (size,):
                    return np.broadcast_to(a, (n, size))
                if a.shape == (n, size):
                    return a
                raise DriveError(f"{name} is a vec[{size}]: give a number, shape ({size},) "
                                 f"or ({n}, {size}), not shape {a.shape}")
            if a.ndim == 0:
                return np.broadcast_to(a, (n,))
            if a.shape == (n,):
                return a
            raise DriveError(f"{name} is a scalar: give a number or {n} values "
                             f"(one per instance), not shape {a.shape}")
        # Pure Python: a list of per-instance columns, one per element.
        def num(v):
            try:
                return float(v)
            except (TypeError, ValueError):
                raise DriveError(f"{name}: cannot use {v!r} as a number") from None

        def seq(v):
            return not isinstance(v, (str, bytes)) and hasattr(v, "__len__")

        if not seq(value):
            x = num(value)
            return [[x] * n for _ in range(size)]
        items = list(value)
        if vec:
            if len(items) == size and not any(seq(v) for v in items):
                return [[num(items[e])] * n for e in range(size)]
            if len(items) == n and all(seq(v) and len(v) == size for v in items):
                rows = [[num(x) for x in v] for v in items]
                return [[rows[i][e] for i in range(n)] for e in range(size)]
            raise DriveError(f"{name} is a vec[{size}]: give a number, {size} numbers, "
                             f"or {n} rows of {size}")
        if len(items) == n and not any(seq(v) for v in items):
            return [[num(v) for v in items]]
        raise DriveError(f"{name} is a scalar: give a number or {n} values (one per instance)")

    def set(self, name, value):
        """Set an input or a param: a scalar for every instance, a sequence
        of n for one each, or for a vector: (len,) for all or (n, len).
        Raises DriveError, writing nothing, when a value is refused (a param
        outside its range, a bool other than 0/1/True/False) or the field is
        not an input or a param. Inputs outside their range are accepted
        here and reported by step()."""
        self._check()
        f, element = self._c._resolve(name)
        lib, h = self._lib, self._h
        if f.kind not in ("input", "param"):
            # Let the library say why (it names the kind).
            if lib.drive_set(h, 0, f.index, 0.0) != 0:
                raise _fail()
            raise DriveError(f"'{name}' cannot be set")  # not reached
        values = self._shape_values(f, element, value, name)
        elems = list(self._elements(f, element))
        # Validate everything first (as check_set does), so a refusal
        # writes nothing; the refused value goes through drive_set so that
        # the message is the library's.
        ranged = f.kind == "param" and f.range is not None
        if _use_numpy:
            a = values.reshape(self._n, len(elems))
            bad = None
            if f.type == "bool":
                bad = (a != 0) & (a != 1)
            elif ranged:
                bad = ~((a >= f.range[0]) & (a <= f.range[1]))
            elif f.kind == "param":
                bad = ~_np.isfinite(a)  # params must be finite, as drive_set says
            if bad is not None and bad.any():
                i, k = (int(x) for x in _np.argwhere(bad)[0])
                if lib.drive_set(h, i, f.index + elems[k], float(a[i, k])) != 0:
                    raise _fail()
                raise DriveError(f"{name}: value {a[i, k]!r} refused")  # not reached
            if f.type == "bool":
                self._view(f, None)[:] = a[:, 0].astype(_np.uint8)
            elif element is not None or not f.shape:
                self._view(f, element)[:] = a[:, 0]
            else:
                self._view(f, None)[:, :] = a
            return
        for k, col in enumerate(values):
            for i, v in enumerate(col):
                refuse = ((f.type == "bool" and v != 0 and v != 1) or
                          (ranged and not (f.range[0] <= v <= f.range[1])) or
                          (f.kind == "param" and f.type == "real" and not math.isfinite(v)))
                if refuse:
                    if lib.drive_set(h, i, f.index + elems[k], v) != 0:
                        raise _fail()
                    raise DriveError(f"{name}: value {v!r} refused")  # not reached
        for k, col in enumerate(values):
            arr = (ctypes.c_double * self._n)(*col)
            if lib.drive_set_all(h, f.index + elems[k], arr) != 0:
                raise _fail()

    def get(self, name):
        """Any field (input, output, param, state slot) of every instance:
        an ndarray (n,) or (n, len) with numpy, else a list. Outputs hold
        the last step's values. Bools are bool arrays / Python bools."""
        self._check()
        f, element = self._c._resolve(name)
        if _use_numpy:
            v = self._view(f, element)
            if f.type == "bool":
                out = v.astype(bool)
            else:
                out = v.copy()
            if self._squeeze:
                out = out[0]
                return out.item() if out.ndim == 0 else out
            return out
        lib, h, n = self._lib, self._h, self._n
        conv = bool if f.type == "bool" else float
        if element is not None or not f.shape:
            idx = f.index + (element or 0)
            if self._squeeze:
                return conv(lib.drive_get(h, 0, idx))
            arr = (ctypes.c_double * n)()
            lib.drive_get_all(h, idx, arr)
            return [conv(x) for x in arr]
        rows = [[0.0] * f.size for _ in range(n)]
        arr = (ctypes.c_double * n)()
        for e in range(f.size):
            lib.drive_get_all(h, f.index + e, arr)
            for i in range(n):
                rows[i][e] = arr[i]
        return rows[0] if self._squeeze else rows

    __getitem__ = get
    __setitem__ = set

    def outputs(self):
        """Every output (reward streams and the total `reward` included,
        probes excluded) as a dict name -> value, as get() returns it."""
        return {f.name: self.get(f.name) for f in self._c.outputs}

    def rewards(self):
        """The reward streams as a dict name -> value (the total is
        get("reward"))."""
        return {f.name: self.get(f.name) for f in self._c.reward_streams}

    def params(self):
        """Every param as a dict name -> value."""
        return {f.name: self.get(f.name) for f in self._c.params}

    # -- time

    def step(self, ticks=1):
        """Step every instance `ticks` times with its inputs held; open
        traces record every tick. Returns the number of instance-ticks whose
        inputs were invalid (not finite, or outside a declared range): those
        wrote their outputs but kept no state. When it is not 0, warns
        (InvalidInputWarning), raises DriveError or stays silent, per
        on_invalid; the message names the instances and inputs. A raise
        comes after the ticks: the valid instances have been stepped."""
        self._check()
        if (isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 0
                or ticks >= 2**63):
            raise DriveError(f"step: ticks must be a whole number from 0 to 2**63 - 1, "
                             f"not {ticks!r}")
        lib, h = self._lib, self._h
        if self._traces:
            bad = 0
            for _ in range(ticks):
                bad += lib.drive_step(h, 1)
                self._ticks += 1
                for t in self._traces:
                    t.record()
        else:
            bad = lib.drive_step(h, ticks) if ticks else 0
            self._ticks += ticks
        if bad and self._on_invalid != "ignore":
            msg = self._invalid_message(bad, ticks)
            if self._on_invalid == "raise":
                raise DriveError(msg)
            warnings.warn(msg, InvalidInputWarning, stacklevel=2)
        return bad

    def invalid_inputs(self, limit=None):
        """The inputs that make a tick invalid now, as a list of
        (instance, element name, value, why)."""
        self._check()
        found = []
        for f in self._c.inputs:
            if f.type == "bool":
                continue
            lo, hi = f.range if f.range else (-math.inf, math.inf)
            for e in range(f.size):
                if _use_numpy:
                    v = self._view(f, e if f.shape else None)
                    bad = ~_np.isfinite(v) | (v < lo) | (v > hi)
                    idx = _np.flatnonzero(bad).tolist()
                    vals = [float(v[i]) for i in idx]
                else:
                    vals_all = [self._lib.drive_get(self._h, i, f.index + e) for i in range(self._n)]
                    idx = [i for i, x in enumerate(vals_all)
                           if not math.isfinite(x) or x < lo or x > hi]
                    vals = [vals_all[i] for i in idx]
                for i, x in zip(idx, vals):
                    why = ("not finite" if not math.isfinite(x)
                           else f"outside [{_fmt(lo)}, {_fmt(hi)}]")
                    found.append((i, f.element_names[e], x, why))
                    if limit is not None and len(found) >= limit:
                        return found
        return found

    def _invalid_message(self, bad, ticks):
        shown = self.invalid_inputs(limit=4)
        what = "; ".join(f"instance {i}: input '{nm}' = {x!r} is {why}"
                         for i, nm, x, why in shown[:3])
        more = " …" if len(shown) > 3 else ""
        return (f"circuit '{self._c.name}': {bad} of {ticks * self._n} instance-ticks had "
                f"invalid inputs and kept no state" + (f" ({what}{more})" if what else ""))

    def reset(self, instance=None):
        """Initialise every instance again (or only `instance`): params to
        their defaults, state to its initial values. Inputs are kept.
        A full reset also restarts the tick count (and trace times)."""
        self._check()
        if instance is None:
            self._lib.drive_pop_reset(self._h, L.ALL_INSTANCES)
            self._ticks = 0
        else:
            if not 0 <= instance < self._n:
                raise DriveError(f"instance {instance} is outside the population "
                                 f"({self._n} instances)")
            self._lib.drive_pop_reset(self._h, instance)

    # -- traces and checkpoints

    def trace(self, path, signals=None, instance=0):
        """Record instance `instance` to a CSV file at `path`, a row per
        tick stepped while the trace is open: columns tick, time, then the
        signals (names or vector names, as a list or a comma-separated
        string; default every input and output, each reward stream in its
        own column). Use as a context manager, or call close()."""
        self._check()
        if signals is not None and not isinstance(signals, str):
            signals = ",".join(signals)
        if not 0 <= instance < self._n:
            raise DriveError(f"instance {instance} is outside the population ({self._n} instances)")
        t = self._lib.drive_trace_open(self._h, instance, os.fsencode(os.fspath(path)),
                                       signals.encode() if signals is not None else None)
        if not t:
            raise _fail()
        tr = Trace(self, t, os.fspath(path))
        self._traces.append(tr)
        return tr

    def save(self, path):
        """Save a checkpoint of every instance (params, learned weights,
        timers, histories) to `path`, atomically. Raises DriveError."""
        self._check()
        if not L.has_checkpoints():
            raise DriveError(f"{L.lib_path()} has no checkpoints (drive_save): rebuild libdrive "
                             "with runtime/checkpoint.c")
        if self._lib.drive_save(self._h, os.fsencode(os.fspath(path))) != 0:
            raise _fail()

    def restore(self, path, by_name=False):
        """Restore a checkpoint saved from a population of the same size.
        by_name: accept another circuit or source hash, restoring every
        field whose name, kind and type match. Returns the library's report
        ("restored 12 fields", or which fields were left as they were).
        Raises DriveError, leaving the population unchanged."""
        self._check()
        if not L.has_checkpoints():
            raise DriveError(f"{L.lib_path()} has no checkpoints (drive_restore): rebuild "
                             "libdrive with runtime/checkpoint.c")
        flags = L.RESTORE_BY_NAME if by_name else 0
        if self._lib.drive_restore(self._h, os.fsencode(os.fspath(path)), flags) != 0:
            e = _fail()
            if "DRIVE_RESTORE_BY_NAME" in e.message:  # the C flag's Python spelling
                e = DriveError(e.message + " (here: restore(path, by_name=True))")
            raise e
        return L.text(self._lib.drive_restore_report())

    # -- life

    def close(self):
        """Free the population now (open traces are closed first). Views
        from view()/blocks() must not be used afterwards."""
        if self._h is None:
            return
        for t in list(self._traces):
            t.close()
        self._views.clear()
        self._buffers.clear()
        self._lib.drive_pop_free(self._h)
        self._h = None
        self._c._n_pops -= 1

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self._h is None else f"{self._ticks} ticks"
        return f"<drive.Population of {self._n} {self._c.name} ({state})>"


class Instance(Population):
    """A population of one: get() returns a float (bool for a bool) or a
    1-D array / list for a vector; set() takes a number or, for a vector,
    len numbers."""

    _squeeze = True

    def __init__(self, circuit, on_invalid="warn"):
        super().__init__(circuit, 1, on_invalid)

    def __repr__(self):
        state = "closed" if self._h is None else f"{self._ticks} ticks"
        return f"<drive.Instance of {self._c.name} ({state})>"


class Trace:
    """A CSV trace being recorded (Population.trace). Rows are appended by
    every tick of Population.step while it is open; record() appends one
    with the current values by hand."""

    def __init__(self, pop, handle, path):
        self._pop = pop
        self._h = handle
        self.path = path

    def record(self):
        if self._h is None:
            raise DriveError(f"the trace {self.path} is closed")
        if self._pop._lib.drive_trace_record(self._h) != 0:
            raise _fail(self.path)

    def close(self):
        """Flush and close; raises DriveError if anything failed to write."""
        if self._h is None:
            return
        h, self._h = self._h, None
        if self in self._pop._traces:
            self._pop._traces.remove(self)
        if self._pop._lib.drive_trace_close(h) != 0:
            raise _fail(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            try:
                self.close()
            except Exception:
                pass
