"""Checkpoints through the bindings: save / restore round trips (learned
weights, per-instance params, histories), refusals (another population
size, another circuit unless by name, a corrupted or missing file) that
raise DriveError with the library's message and leave the population as it
was, and restore by name across circuits. Skipped when the loaded libdrive
has no drive_save (built before runtime/checkpoint.c)."""

import os
import unittest

from _support import TempDirTest, as_list, data, drive

_CIRCUITS = {}


def circuit(name="basic.drive"):
    if name not in _CIRCUITS:
        _CIRCUITS[name] = drive.compile(data(name), cache=False)
    return _CIRCUITS[name]


def drive_inputs(pop, k):
    # Deterministic, varying inputs so that learning and pre() differ per tick.
    n = len(pop)
    pop.set("x", [((k * 7 + i * 3) % 10) / 10 for i in range(n)])
    pop.set("v", [[((k + i + e) % 5) / 5 - 0.4 for e in range(3)] for i in range(n)])
    pop.set("go", [(k + i) % 2 == 0 for i in range(n)])


def run(pop, ticks, start):
    out = []
    for k in range(start, start + ticks):
        drive_inputs(pop, k)
        pop.step()
        out.append({name: as_list(v) for name, v in pop.outputs().items()})
    return out


@unittest.skipUnless(drive.has_checkpoints(), "this libdrive has no checkpoints (drive_save)")
class Checkpoints(TempDirTest):
    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, "pop.ckpt")
        self.pop = circuit().population(4)
        self.addCleanup(self.pop.close)
        self.pop.set("gain", [0.5, 1, 2, 3])
        self.pop.set("hold", [0.02, 0.1, 0.5, 1])
        run(self.pop, 40, 0)

    def test_round_trip_continues_identically(self):
        pop = self.pop
        pop.save(self.path)
        self.assertTrue(os.path.getsize(self.path) > 0)
        weights = as_list(pop.get("p.w"))
        first = run(pop, 30, 40)
        pop.set("gain", 4)                 # change everything the file holds
        pop.reset(1)
        report = pop.restore(self.path)
        self.assertIn("restored", report)
        self.assertEqual(as_list(pop.get("p.w")), weights)
        self.assertEqual(as_list(pop.get("gain")), [0.5, 1.0, 2.0, 3.0])
        self.assertEqual(run(pop, 30, 40), first)

    def test_restore_into_a_fresh_population(self):
        self.pop.save(self.path)
        fresh = circuit().population(4)
        self.addCleanup(fresh.close)
        fresh.restore(self.path)
        self.assertEqual(as_list(fresh.get("p.w")), as_list(self.pop.get("p.w")))
        self.assertEqual(run(fresh, 10, 40), run(self.pop, 10, 40))

    def assertRefused(self, text, pop, *args, **kw):
        before = as_list(pop.get("p.w")), as_list(pop.get("gain"))
        with self.assertRaises(drive.DriveError) as cm:
            pop.restore(*args, **kw)
        self.assertIn(text, str(cm.exception))
        self.assertEqual((as_list(pop.get("p.w")), as_list(pop.get("gain"))), before)
        return cm.exception

    def test_another_population_size_is_refused(self):
        self.pop.save(self.path)
        small = circuit().population(3)
        self.addCleanup(small.close)
        self.assertRefused("4 instances", small, self.path)

    def test_a_corrupted_or_missing_file_is_refused(self):
        self.pop.save(self.path)
        with open(self.path, "r+b") as f:
            f.seek(os.path.getsize(self.path) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
        fresh = circuit().population(4)
        self.addCleanup(fresh.close)
        self.assertRefused("corrupted checkpoint", fresh, self.path)
        self.assertRefused("cannot read the checkpoint", fresh,
                           os.path.join(self.tmp, "missing.ckpt"))
        with open(self.path, "wb") as f:
            f.write(b"hello")
        self.assertRefused("not a drive checkpoint", fresh, self.path)

    def test_save_to_an_impossible_place(self):
        with self.assertRaises(drive.DriveError) as cm:
            self.pop.save(os.path.join(self.tmp, "no", "such", "dir", "x.ckpt"))
        self.assertIn("cannot save", str(cm.exception))

    def test_another_circuit_only_by_name(self):
        self.pop.save(self.path)
        other = circuit("other.drive").population(4)
        self.addCleanup(other.close)
        other.set("extra", 3)
        self.assertRefused("source hash", other, self.path)
        report = other.restore(self.path, by_name=True)
        self.assertIn("extra", report)  # named as left as it was
        self.assertEqual(as_list(other.get("p.w")), as_list(self.pop.get("p.w")))
        self.assertEqual(as_list(other.get("gain")), [0.5, 1.0, 2.0, 3.0])
        self.assertEqual(as_list(other.get("extra")), [3.0] * 4)


if __name__ == "__main__":
    unittest.main()
