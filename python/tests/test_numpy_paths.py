"""The two data paths: numpy strided views into the raw blocks, and the
per-field C calls used without numpy. They must agree value for value; the
package must import and work where numpy cannot be imported at all; and the
numpy path must make a population of 10,000 cheap to drive (zero-copy
views, raw blocks)."""

import os
import subprocess
import sys
import time
import unittest

from _support import PYTHON_DIR, TempDirTest, as_list, data, drive

_CIRCUIT = None


def circuit():
    global _CIRCUIT
    if _CIRCUIT is None:
        _CIRCUIT = drive.compile(data("basic.drive"), cache=False)
    return _CIRCUIT


def scripted_run(use):
    """The same sequence of sets, steps and gets on either path."""
    prev = drive.use_numpy(use)
    try:
        pop = circuit().population(5, on_invalid="ignore")
        seen = []
        pop.set("gain", [0, 1, 2, 3, 4])
        pop.set("bias", -0.25)
        for k in range(30):
            pop.set("x", [(k * i % 7) / 7 for i in range(5)])
            pop.set("v", [[(k + e) % 3 - 1, 0.5, -(i % 2)] for e, i in
                          zip(range(5), range(5))])
            pop.set("v[2]", 1.5 if k % 4 == 0 else -1.5)
            pop.set("go", [(k + i) % 3 == 0 for i in range(5)])
            pop.set("free", 3.0 if k != 17 else float("nan"))  # one invalid tick
            seen.append(pop.step())
            seen.append({k2: as_list(v) for k2, v in pop.outputs().items()})
            seen.append(as_list(pop.get("p.w")))
        pop.reset(3)
        seen.append({k2: as_list(v) for k2, v in pop.params().items()})
        pop.close()
        return seen
    finally:
        drive.use_numpy(prev)


class Paths(TempDirTest):
    @unittest.skipUnless(drive.HAVE_NUMPY, "numpy not available")
    def test_numpy_and_plain_agree(self):
        a = scripted_run(True)
        b = scripted_run(False)
        # NaN != NaN: compare the invalid tick's outputs by repr.
        self.assertEqual(repr(a), repr(b))
        self.assertIn(5, a)  # the NaN tick counted once per instance

    def test_use_numpy_switch(self):
        prev = drive.use_numpy(False)
        try:
            self.assertFalse(drive.numpy_enabled())
            i = circuit().instance()
            i.set("v", (1, 2, -1))
            self.assertEqual(i.get("v"), [1.0, 2.0, -1.0])
            self.assertIsInstance(circuit().population(2).get("x"), list)
            with self.assertRaises(drive.DriveError):
                i.view("x")
        finally:
            drive.use_numpy(prev)
        if not drive.HAVE_NUMPY:
            with self.assertRaises(drive.DriveError):
                drive.use_numpy(True)

    def run_without_numpy(self, prelude, env_extra=None):
        code = prelude + (
            "import sys; sys.path.insert(0, %r)\n"
            "import drive\n"
            "assert not drive.HAVE_NUMPY and not drive.numpy_enabled()\n"
            "assert 'numpy' not in sys.modules or sys.modules['numpy'] is None\n"
            "c = drive.compile(%r, cache=False)\n"
            "p = c.population(3)\n"
            "p.set('gain', [1, 2, 3]); p.set('x', 0.5); p.set('v', [[0, 0, 1]] * 3)\n"
            "p.step(2)\n"
            "assert p.get('pleasure') == [0.5, 1.0, 1.5], p.get('pleasure')\n"
            "assert p.get('w')[2] == [0.0, 0.0, 3.0]\n"
            "print('ok')\n" % (PYTHON_DIR, data("basic.drive")))
        env = dict(os.environ, **(env_extra or {}))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")

    def test_works_where_numpy_cannot_be_imported(self):
        # sys.modules['numpy'] = None makes `import numpy` raise ImportError.
        self.run_without_numpy("import sys; sys.modules['numpy'] = None\n")

    def test_drive_no_numpy_environment_variable(self):
        self.run_without_numpy("", {"DRIVE_NO_NUMPY": "1"})


@unittest.skipUnless(drive.HAVE_NUMPY, "numpy not available")
class BigPopulation(TempDirTest):
    N = 10_000

    def setUp(self):
        super().setUp()
        import numpy as np
        self.np = np
        prev = drive.use_numpy(True)
        self.addCleanup(drive.use_numpy, prev)
        self.pop = circuit().population(self.N)
        self.addCleanup(self.pop.close)

    def test_ten_thousand_instances_quickly(self):
        np, pop, n = self.np, self.pop, self.N
        rng = np.random.default_rng(0)
        gains = rng.uniform(0, 4, n)
        t0 = time.perf_counter()
        pop.set("gain", gains)
        for _ in range(20):
            pop.set("x", rng.uniform(0, 1, n))
            pop.set("v", rng.uniform(-1, 1, (n, 3)))
            pop.set("go", rng.uniform(size=n) < 0.5)
            pop.step()
            out = pop.outputs()
        elapsed = time.perf_counter() - t0
        self.assertEqual(out["w"].shape, (n, 3))
        self.assertEqual(out["fired"].dtype, bool)
        np.testing.assert_array_equal(out["pleasure"], gains * pop.get("x"))
        # 20 rounds of 4 sets, a step and 7 output reads for 10,000 instances:
        # a few ms each with numpy; per-field calls would take seconds.
        self.assertLess(elapsed, 2.0)

    def test_views_are_zero_copy(self):
        np, pop = self.np, self.pop
        x = pop.view("x")
        v = pop.view("v")
        gain = pop.view("gain")
        self.assertEqual((x.shape, v.shape), ((self.N,), (self.N, 3)))
        x[:] = np.linspace(0, 1, self.N)
        v[:, 1] = 0.5
        gain[::2] = 1.0
        pop.step()
        np.testing.assert_array_equal(pop.get("x"), np.linspace(0, 1, self.N))
        self.assertTrue((pop.get("v")[:, 1] == 0.5).all())
        expect = np.where(np.arange(self.N) % 2 == 0, 1.0, 2.0) * np.linspace(0, 1, self.N)
        np.testing.assert_array_equal(pop.view("pleasure"), expect)
        go = pop.view("go")
        self.assertEqual(go.dtype, np.uint8)
        go[:] = 1
        self.assertTrue(pop.get("go").all())

    def test_blocks(self):
        b = self.pop.blocks()
        c = circuit()
        # Columns of 10,000 instances are 10,008 long: rounded up to 16, plus
        # 8, so that no two lie a multiple of 4 KB apart.
        m = self.pop.columns
        self.assertEqual(m, 10_008)
        self.assertEqual(b["inputs"].shape, (m * c.in_size,))
        self.assertEqual(b["outputs"].shape, (m * c.out_size,))
        self.assertEqual(b["states"].shape, (m * c.state_size,))
        # In columns: the default of gain (2.0) of instance 5 sits at
        # offset * m + 8 * 5.
        at = c.field("gain").offset * m + 8 * 5
        self.assertEqual(b["states"][at:at + 8].view(self.np.float64)[0], 2.0)

    def test_a_view_keeps_its_population_alive(self):
        pop = circuit().population(3)
        x = pop.view("x")
        del pop
        x[:] = 0.5  # must not write into freed memory
        self.assertEqual(x.tolist(), [0.5] * 3)


if __name__ == "__main__":
    unittest.main()
