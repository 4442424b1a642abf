"""Errors: every failure is a DriveError carrying libdrive's message (names
with a suggestion, params out of range, bools, fields that cannot be set),
refused writes change nothing, invalid inputs warn / raise / pass per the
population's flag, and closed handles refuse to be used."""

import unittest
import warnings

from _support import TempDirTest, as_list, both_paths, data, drive

_CIRCUIT = None


def circuit():
    global _CIRCUIT
    if _CIRCUIT is None:
        _CIRCUIT = drive.compile(data("basic.drive"), cache=False)
    return _CIRCUIT


class Errors:
    def setUp(self):
        super().setUp()
        self.c = circuit()
        self.pop = self.c.population(3)
        self.addCleanup(self.pop.close)

    def assertDriveError(self, text, fn, *args):
        with self.assertRaises(drive.DriveError) as cm:
            fn(*args)
        self.assertIn(text, str(cm.exception))
        self.assertEqual(cm.exception.message, str(cm.exception))
        return cm.exception

    def test_unknown_names_suggest_the_nearest(self):
        self.assertDriveError("circuit 'basic' has no field 'gian' (did you mean 'gain'?)",
                              self.pop.set, "gian", 1)
        self.assertDriveError("(did you mean 'guess'?)", self.pop.get, "gues")
        self.assertDriveError("has no field 'zzzzzz'", self.pop.get, "zzzzzz")
        self.assertDriveError("did you mean 'gain'", self.c.field, "gainn")

    def test_param_out_of_range_writes_nothing(self):
        self.pop.set("gain", [1, 2, 3])
        e = self.assertDriveError("5 is outside the range of param 'gain' [0, 4]",
                                  self.pop.set, "gain", [0.5, 5, 1])
        self.assertEqual(e.message, "5 is outside the range of param 'gain' [0, 4]")
        self.assertEqual(as_list(self.pop.get("gain")), [1.0, 2.0, 3.0])
        self.assertDriveError("outside the range of param 'gain'", self.pop.set, "gain", -0.1)
        self.assertDriveError("outside the range of param 'gain'", self.pop.set, "gain",
                              float("nan"))
        self.assertDriveError("outside the range of param 'hold' [0.01, 1]",
                              self.pop.set, "hold", 2)
        self.assertEqual(as_list(self.pop.get("gain")), [1.0, 2.0, 3.0])
        self.pop.set("bias", -1e6)  # no declared range: anything finite goes
        self.assertEqual(as_list(self.pop.get("bias")), [-1e6] * 3)
        self.assertDriveError("param 'bias' must be finite", self.pop.set, "bias",
                              [0, float("nan"), 0])
        self.assertDriveError("param 'bias' must be finite", self.pop.set, "bias", float("inf"))
        self.assertEqual(as_list(self.pop.get("bias")), [-1e6] * 3)

    def test_bools_take_0_1_true_false_only(self):
        self.pop.set("go", [True, True, True])
        self.assertDriveError("'go' is a bool: set it to 0 or 1, not 0.5",
                              self.pop.set, "go", [1, 0.5, 0])
        self.assertEqual(as_list(self.pop.get("go")), [True, True, True])

    def test_only_inputs_and_params_can_be_set(self):
        self.assertDriveError("'y' is an output of 'basic': only inputs and params can be set",
                              self.pop.set, "y", 1)
        self.assertDriveError("only inputs and params can be set", self.pop.set, "p.w", 0)

    def test_shapes(self):
        self.assertDriveError("x is a scalar", self.pop.set, "x", [0.1, 0.2])
        self.assertDriveError("v is a vec[3]", self.pop.set, "v", [1, 2])
        self.assertDriveError("v is a vec[3]", self.pop.set, "v", [[1, 2, 3]] * 2)
        self.assertDriveError("cannot use", self.pop.set, "x", "abc")

    def test_invalid_inputs_warn_by_default_and_keep_no_state(self):
        self.pop.set("x", [0.5, 1.5, 0.5])  # instance 1 outside [0, 1]
        self.pop.set("v", [1, 0, 0])
        with self.assertWarns(drive.InvalidInputWarning) as cm:
            bad = self.pop.step(4)
        self.assertEqual(bad, 4)
        msg = str(cm.warning)
        self.assertIn("4 of 12 instance-ticks had invalid inputs", msg)
        self.assertIn("instance 1: input 'x' = 1.5 is outside [0, 1]", msg)
        w = as_list(self.pop.get("p.w"))
        self.assertNotEqual(w[0], [0.0, 0.0, 0.0])   # learned
        self.assertEqual(w[1], [0.0, 0.0, 0.0])      # kept nothing
        self.assertEqual(as_list(self.pop.get("pleasure"))[1], 3.0)  # outputs still written

    def test_invalid_inputs_raise_or_pass(self):
        self.pop.set("free", [0, float("inf"), 0])
        self.pop.on_invalid = "raise"
        e = self.assertDriveError("instance 1: input 'free' = inf is not finite", self.pop.step)
        self.assertIn("1 of 3 instance-ticks", e.message)
        self.pop.on_invalid = "ignore"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.assertEqual(self.pop.step(2), 2)
        self.assertEqual(self.pop.invalid_inputs(),
                         [(1, "free", float("inf"), "not finite")])
        self.assertDriveError("on_invalid must be", setattr, self.pop, "on_invalid", "loud")
        quiet = self.c.population(2, on_invalid="ignore")
        quiet.set("x", 7)
        self.assertEqual(quiet.step(), 2)
        quiet.close()

    def test_bad_counts(self):
        self.assertDriveError("at least one instance", self.c.population, 0)
        self.assertDriveError("at least one instance", self.c.population, 2**64)
        self.assertDriveError("ticks must be", self.pop.step, -1)
        self.assertDriveError("instance 5 is outside", self.pop.reset, 5)
        with self.assertRaises(TypeError):
            self.c.population(2.5)


class Lifetimes(TempDirTest):
    def test_closed_population(self):
        pop = circuit().population(2)
        pop.close()
        pop.close()  # twice is fine
        for fn, args in ((pop.get, ("x",)), (pop.set, ("x", 0)), (pop.step, ()),
                         (pop.reset, ()), (pop.outputs, ())):
            with self.assertRaises(drive.DriveError) as cm:
                fn(*args)
            self.assertIn("closed", str(cm.exception))

    def test_a_circuit_outlives_its_populations(self):
        c = drive.compile(data("basic.drive"), cache=False)
        pop = c.population(2)
        with self.assertRaises(drive.DriveError) as cm:
            c.close()
        self.assertIn("still has populations", str(cm.exception))
        del c  # the population keeps it alive
        pop.set("x", 0.5)
        pop.step()
        self.assertEqual(as_list(pop.get("pleasure")), [1.0, 1.0])
        circ = pop.circuit
        pop.close()
        circ.close()
        with self.assertRaises(drive.DriveError):
            circ.population(1)

    def test_context_managers(self):
        with drive.compile(data("basic.drive"), cache=False) as c:
            with c.population(2) as pop:
                pop.step()
            self.assertIn("closed", repr(pop))


ErrorsNumpy, ErrorsPlain = both_paths(Errors)

if __name__ == "__main__":
    unittest.main()
