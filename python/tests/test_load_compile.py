"""drive.compile and drive.load: the two ways to get a Circuit must give the
same description and bit-identical results; circuit selection, the cache,
include paths and the failures of both."""

import os
import pathlib
import random
import struct
import unittest

from _support import DATA, TempDirTest, build_so, data, drive


def drive_randomly(circuit, n, ticks, seed):
    """Step a population of n with seeded random inputs (some out of range,
    so invalid ticks are compared too) and per-instance params; return every
    output of every tick as exact bit patterns."""
    rng = random.Random(seed)
    pop = circuit.population(n, on_invalid="ignore")
    pop.set("gain", [rng.uniform(0, 4) for _ in range(n)])
    pop.set("hold", [rng.uniform(0.01, 1) for _ in range(n)])
    rows = []
    for _ in range(ticks):
        pop.set("x", [rng.uniform(-0.1, 1.1) for _ in range(n)])
        pop.set("v", [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(n)])
        pop.set("go", [rng.random() < 0.5 for _ in range(n)])
        pop.set("free", [rng.gauss(0, 1) for _ in range(n)])
        bad = pop.step()
        row = [bad]
        for name, value in pop.outputs().items():
            flat = value.tolist() if hasattr(value, "tolist") else value
            for v in flat:
                for x in (v if isinstance(v, list) else [v]):
                    row.append(struct.pack("<d", float(x)))
        rows.append(row)
    pop.close()
    return rows


def description(c):
    return [(f.name, f.kind, f.type, f.shape, f.range, f.role, f.default, f.offset, f.index)
            for f in c.fields]


class CompileVsLoad(TempDirTest):
    def test_same_description_and_bit_identical_outputs(self):
        jit = drive.compile(data("basic.drive"), cache=False)
        so = drive.load(build_so(data("basic.drive"), self.tmp))
        self.assertEqual(jit.origin, "jit")
        self.assertEqual(so.origin, "so")
        for attr in ("module", "name", "source_hash", "tick", "in_size", "out_size",
                     "state_size"):
            self.assertEqual(getattr(jit, attr), getattr(so, attr), attr)
        self.assertEqual(description(jit), description(so))
        self.assertEqual(jit.module, "basic")
        self.assertAlmostEqual(jit.tick, 0.01)
        a = drive_randomly(jit, 20, 150, seed=1)
        b = drive_randomly(so, 20, 150, seed=1)
        self.assertEqual(a, b)
        self.assertGreater(sum(r[0] for r in a), 0, "some ticks should have been invalid")

    def test_unoptimised_gives_the_same_values(self):
        opt = drive.compile(data("basic.drive"), cache=False)
        o0 = drive.compile(data("basic.drive"), optimize=False)
        self.assertEqual(drive_randomly(opt, 5, 60, seed=2), drive_randomly(o0, 5, 60, seed=2))

    def test_cache_serves_the_second_compile(self):
        old = os.environ.get("DRIVE_CACHE_DIR")
        os.environ["DRIVE_CACHE_DIR"] = self.tmp
        try:
            self.assertEqual(drive.cache_dir(), self.tmp)
            first = drive.compile(data("basic.drive"))
            second = drive.compile(data("basic.drive"))
            off = drive.compile(data("basic.drive"), cache=False)
        finally:
            if old is None:
                del os.environ["DRIVE_CACHE_DIR"]
            else:
                os.environ["DRIVE_CACHE_DIR"] = old
        self.assertEqual(first.origin, "jit")
        self.assertEqual(second.origin, "cache")
        self.assertEqual(off.origin, "jit")
        self.assertEqual(first.source_hash, second.source_hash)
        self.assertTrue(any(f.endswith(".so") for f in os.listdir(self.tmp)))
        self.assertEqual(drive_randomly(first, 3, 40, 3), drive_randomly(second, 3, 40, 3))

    def test_paths_may_be_pathlike(self):
        c = drive.compile(pathlib.Path(DATA) / "basic.drive", cache=False)
        self.assertEqual(c.name, "basic")
        so = drive.load(pathlib.Path(build_so(data("basic.drive"), self.tmp)))
        self.assertEqual(so.name, "basic")


class Selection(TempDirTest):
    def run_b(self, c, a):
        i = c.instance()
        i.set("a", a)
        i.step()
        return i.get("b")

    def test_circuit_by_name(self):
        so = build_so(data("two.drive"), self.tmp)
        for make in (lambda n: drive.compile(data("two.drive"), n, cache=False),
                     lambda n: drive.load(so, n)):
            self.assertEqual(self.run_b(make("first"), 1.5), 3.0)
            self.assertEqual(self.run_b(make("second"), 1.5), 4.5)

    def test_load_without_a_name_lists_the_circuits(self):
        so = build_so(data("two.drive"), self.tmp)
        with self.assertRaises(drive.DriveError) as cm:
            drive.load(so)
        self.assertIn("first, second", str(cm.exception))
        with self.assertRaises(drive.DriveError) as cm:
            drive.load(so, "thrid")
        self.assertIn("no circuit 'thrid'", str(cm.exception))
        self.assertIn("first, second", str(cm.exception))

    def test_compile_without_a_name_or_with_a_wrong_one(self):
        with self.assertRaises(drive.DriveError) as cm:
            drive.compile(data("two.drive"), cache=False)
        self.assertIn("first", cm.exception.message)
        with self.assertRaises(drive.DriveError) as cm:
            drive.compile(data("two.drive"), "thrid", cache=False)
        self.assertIn("thrid", cm.exception.message)


class IncludePath(TempDirTest):
    def setUp(self):
        super().setUp()
        lib_dir = os.path.join(self.tmp, "lib")
        os.makedirs(os.path.join(lib_dir, "mine"))
        with open(os.path.join(lib_dir, "mine", "helpers.drive"), "w") as f:
            f.write("module mine.helpers\n\ncircuit triple {\n  input a : real\n"
                    "  output b : real\n  b = 3 * a\n}\n")
        main_dir = os.path.join(self.tmp, "main")
        os.makedirs(main_dir)
        self.main = os.path.join(main_dir, "main.drive")
        with open(self.main, "w") as f:
            f.write("module main\nimport mine.helpers\n\ncircuit main {\n  input a : real\n"
                    "  output b : real\n  b = triple(a) + 1\n}\n")
        self.lib_dir = lib_dir

    def test_without_the_path_the_import_fails(self):
        with self.assertRaises(drive.DriveError) as cm:
            drive.compile(self.main, cache=False)
        self.assertIn("mine.helpers", str(cm.exception))

    def check(self, include_path):
        c = drive.compile(self.main, include_path=include_path, cache=False)
        i = c.instance()
        i["a"] = 2
        i.step()
        self.assertEqual(i["b"], 7.0)

    def test_one_directory(self):
        self.check(self.lib_dir)
        self.check(pathlib.Path(self.lib_dir))

    def test_a_list_of_directories(self):
        # The module is in the second directory: every directory of the
        # colon-separated list must be searched, not only the first.
        self.check([os.path.join(self.tmp, "nowhere"), self.lib_dir])


class Failures(TempDirTest):
    def test_diagnostics_of_a_broken_source(self):
        with self.assertRaises(drive.DriveError) as cm:
            drive.compile(data("broken.drive"), cache=False)
        msg = str(cm.exception)
        self.assertIn("does not compile", msg)
        self.assertIn("undefined name 'undefined_signal'", msg)
        self.assertIn("broken.drive:7:11", msg)

    def test_missing_source(self):
        with self.assertRaises(drive.DriveError) as cm:
            drive.compile(os.path.join(self.tmp, "nope.drive"))
        self.assertIn("nope.drive", str(cm.exception))

    def test_load_a_file_that_is_not_a_shared_object(self):
        path = os.path.join(self.tmp, "fake.so")
        with open(path, "w") as f:
            f.write("not an ELF file\n")
        with self.assertRaises(drive.DriveError) as cm:
            drive.load(path)
        self.assertIn("cannot load", str(cm.exception))

    def test_load_a_shared_object_not_built_by_drivec(self):
        with self.assertRaises(drive.DriveError) as cm:
            drive.load("libm.so.6")
        self.assertIn("libm.so.6", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
