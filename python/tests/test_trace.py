"""CSV traces: Population.trace records a row per tick stepped while it is
open (as a context manager or closed by hand), with the default columns or
chosen signals (a vector name giving every element), for any instance; the
values match get()."""

import csv
import os
import unittest

from _support import as_list, both_paths, data, drive

_CIRCUIT = None


def circuit():
    global _CIRCUIT
    if _CIRCUIT is None:
        _CIRCUIT = drive.compile(data("basic.drive"), cache=False)
    return _CIRCUIT


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


class Traces:
    def setUp(self):
        super().setUp()
        self.pop = circuit().population(3)
        self.addCleanup(self.pop.close)
        self.path = os.path.join(self.tmp, "trace.csv")

    def test_default_columns_and_one_row_per_tick(self):
        pop = self.pop
        pop.set("x", 0.5)
        pop.set("v", [0.1, 0.2, 0.3])
        pop.set("go", True)
        ys = []
        with pop.trace(self.path):
            for k in range(5):
                pop.set("free", k)
                pop.step()
                ys.append(as_list(pop.get("y"))[0])
            pop.step(3)  # several ticks in one call: one row each
        pop.step(2)      # after the trace is closed: not recorded
        rows = read(self.path)
        self.assertEqual(rows[0], ["tick", "time", "x", "v[0]", "v[1]", "v[2]", "go", "free",
                                   "y", "w[0]", "w[1]", "w[2]", "fired", "guess", "pleasure",
                                   "pain", "reward"])
        self.assertEqual(len(rows), 1 + 8)
        self.assertEqual([r[0] for r in rows[1:]], [str(k) for k in range(8)])
        self.assertEqual(float(rows[3][1]), 0.02)
        self.assertEqual([float(r[7]) for r in rows[1:6]], [0, 1, 2, 3, 4])
        self.assertEqual([float(r[8]) for r in rows[1:6]], ys)
        self.assertEqual(rows[1][6], "1")

    def test_chosen_signals_of_another_instance(self):
        pop = self.pop
        pop.set("x", [0.1, 0.2, 0.3])
        pop.set("v", [[0, 0, 0], [1, 1, 1], [0.5, -0.5, 2]])
        with pop.trace(self.path, signals=["y", "w", "p.w[0]"], instance=2) as t:
            pop.step(2)
            self.assertEqual(t.path, self.path)
        rows = read(self.path)
        self.assertEqual(rows[0], ["tick", "time", "y", "w[0]", "w[1]", "w[2]", "p.w[0]"])
        self.assertEqual(len(rows), 3)
        self.assertEqual([float(x) for x in rows[2][3:6]], as_list(pop.get("w"))[2])
        self.assertEqual(float(rows[2][2]), as_list(pop.get("y"))[2])

    def test_a_comma_separated_string_and_manual_close(self):
        t = self.pop.trace(self.path, "x, reward")
        self.pop.step()
        t.record()  # a row by hand: the same tick again
        t.close()
        t.close()
        rows = read(self.path)
        self.assertEqual(rows[0], ["tick", "time", "x", "reward"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[1], rows[2])
        with self.assertRaises(drive.DriveError):
            t.record()

    def test_two_traces_at_once(self):
        other = os.path.join(self.tmp, "other.csv")
        with self.pop.trace(self.path, ["x"]), self.pop.trace(other, ["y"], instance=1):
            self.pop.step(4)
        self.assertEqual(len(read(self.path)), 5)
        self.assertEqual(len(read(other)), 5)

    def test_errors(self):
        with self.assertRaises(drive.DriveError) as cm:
            self.pop.trace(self.path, ["y", "wieght"])
        self.assertIn("no field 'wieght'", str(cm.exception))
        with self.assertRaises(drive.DriveError) as cm:
            self.pop.trace(os.path.join(self.tmp, "no", "such", "dir.csv"))
        self.assertIn("cannot write", str(cm.exception))
        with self.assertRaises(drive.DriveError) as cm:
            self.pop.trace(self.path, instance=3)
        self.assertIn("outside the population", str(cm.exception))

    def test_closing_the_population_closes_its_traces(self):
        pop = circuit().population(1)
        t = pop.trace(self.path, ["x"])
        pop.step(2)
        pop.close()
        self.assertEqual(len(read(self.path)), 3)
        with self.assertRaises(drive.DriveError):
            t.record()


TracesNumpy, TracesPlain = both_paths(Traces)

if __name__ == "__main__":
    unittest.main()
