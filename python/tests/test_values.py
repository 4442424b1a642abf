"""Setting and getting values: scalars for every instance or one per
instance, per-instance params, whole vectors and their elements, bools,
outputs/rewards/params dicts, reset, single instances — each over both data
paths (numpy views into the blocks, and per-field C calls)."""

import math
import unittest

from _support import as_list, both_paths, data, drive

_CIRCUIT = None


def circuit():
    # One JIT compile shared by every test of the module.
    global _CIRCUIT
    if _CIRCUIT is None:
        _CIRCUIT = drive.compile(data("basic.drive"), cache=False)
    return _CIRCUIT


class Values:
    """Run over both data paths by both_paths below."""

    def setUp(self):
        super().setUp()
        self.c = circuit()
        self.pop = self.c.population(4)
        self.addCleanup(self.pop.close)

    def test_reflection(self):
        c = self.c
        self.assertEqual([f.name for f in c.inputs], ["x", "v", "go", "free"])
        self.assertEqual([f.name for f in c.outputs],
                         ["y", "w", "fired", "guess", "pleasure", "pain", "reward"])
        self.assertEqual([f.name for f in c.params], ["gain", "bias", "hold"])
        self.assertEqual([f.name for f in c.reward_streams], ["pleasure", "pain"])
        v = c.field("v")
        self.assertEqual((v.kind, v.type, v.shape, v.range, v.size), ("input", "real", (3,), (-2, 2), 3))
        self.assertEqual(v.element_names, ("v[0]", "v[1]", "v[2]"))
        self.assertEqual(c.field("go").type, "bool")
        self.assertIsNone(c.field("free").range)
        gain = c.field("gain")
        self.assertEqual((gain.kind, gain.default, gain.range), ("param", 2.0, (0, 4)))
        self.assertAlmostEqual(c.field("hold").default, 0.1)  # durations in seconds
        self.assertEqual(c.field("reward").role, "total")
        self.assertEqual(c.field("p.w").role, "weight")
        self.assertEqual(c.field("p.w").shape, (3,))
        self.assertIs(c.field("v[2]"), v)
        self.assertIn("gain", c)
        self.assertNotIn("gian", c)
        self.assertIn("param  gain: real in [0, 4] = 2", c.describe())

    def test_scalar_for_all_and_per_instance(self):
        self.pop.set("x", 0.25)
        self.assertEqual(as_list(self.pop.get("x")), [0.25] * 4)
        self.pop.set("x", [0.1, 0.2, 0.3, 0.4])
        self.assertEqual(as_list(self.pop.get("x")), [0.1, 0.2, 0.3, 0.4])
        self.pop["free"] = (1, 2, 3, 4)
        self.assertEqual(as_list(self.pop["free"]), [1.0, 2.0, 3.0, 4.0])

    def test_per_instance_params_change_the_outputs(self):
        self.assertEqual(as_list(self.pop.get("gain")), [2.0] * 4)
        self.pop.set("gain", [0, 1, 2, 4])
        self.pop.set("bias", [0, 0, 0, -1])
        self.pop.set("x", 0.5)
        self.pop.step()
        self.assertEqual(as_list(self.pop.get("y")), [0.0, 0.5, 1.0, 1.0])
        self.assertEqual(as_list(self.pop.get("pleasure")), [0.0, 0.5, 1.0, 2.0])
        self.assertEqual(as_list(self.pop.params()["gain"]), [0.0, 1.0, 2.0, 4.0])
        # A duration param, in seconds.
        self.pop.set("hold", [0.01, 0.1, 0.5, 1.0])
        self.assertEqual(as_list(self.pop.get("hold")), [0.01, 0.1, 0.5, 1.0])

    def test_vectors(self):
        pop = self.pop
        pop.set("v", 1.5)  # every element of every instance
        self.assertEqual(as_list(pop.get("v")), [[1.5] * 3] * 4)
        pop.set("v", [1, -1, 0.5])  # one vector for every instance
        self.assertEqual(as_list(pop.get("v")), [[1.0, -1.0, 0.5]] * 4)
        rows = [[i, i / 2, -i / 4] for i in range(4)]
        pop.set("v", rows)  # one per instance
        self.assertEqual(as_list(pop.get("v")), [[float(x) for x in r] for r in rows])
        pop.set("v[1]", [9, 8, 7, 6])  # one element, per instance
        self.assertEqual(as_list(pop.get("v[1]")), [9.0, 8.0, 7.0, 6.0])
        self.assertEqual(as_list(pop.get("v"))[2], [2.0, 7.0, -0.5])
        pop.set("v", [1, 1.5, 2])
        pop.set("gain", 2)
        pop.set("free", [0, 10, 0, 0])
        self.assertEqual(pop.step(), 0)
        self.assertEqual(as_list(pop.get("w")), [[2.0, 3.0, 4.0], [12.0, 13.0, 14.0],
                                                 [2.0, 3.0, 4.0], [2.0, 3.0, 4.0]])
        self.assertEqual(as_list(pop.get("w[2]")), [4.0, 14.0, 4.0, 4.0])

    def test_vector_of_length_n_is_still_one_vector(self):
        # A (len,) value is the same vector for every instance, even when
        # the population has as many instances as the vector has elements.
        pop = self.c.population(3)
        self.addCleanup(pop.close)
        pop.set("v", [1, 2, 3])
        self.assertEqual(as_list(pop.get("v")), [[1.0, 2.0, 3.0]] * 3)

    def test_bools(self):
        pop = self.pop
        pop.set("go", [True, False, 1, 0])
        got = pop.get("go")
        self.assertEqual(as_list(got), [True, False, True, False])
        self.assertTrue(all(type(b) is bool for b in as_list(got)))
        pop.set("x", 0.9)
        pop.set("v", [1, 1, 1])
        pop.step()
        self.assertEqual(as_list(pop.get("fired")), [True, False, True, False])
        self.assertEqual(as_list(pop.get("pain")), [-3.0, 0.0, -3.0, 0.0])
        pop.set("go", False)
        self.assertEqual(as_list(pop.get("go")), [False] * 4)

    def test_outputs_and_rewards(self):
        pop = self.pop
        pop.set("x", 0.5)
        pop.set("v", [0.5, 0.5, 0.5])
        pop.set("go", True)
        pop.step(3)
        out = pop.outputs()
        self.assertEqual(list(out), ["y", "w", "fired", "guess", "pleasure", "pain", "reward"])
        self.assertEqual(len(as_list(out["w"])), 4)
        rw = pop.rewards()
        self.assertEqual(list(rw), ["pleasure", "pain"])
        self.assertEqual(as_list(rw["pleasure"]), [1.0] * 4)
        self.assertEqual(as_list(rw["pain"]), [-1.5] * 4)
        self.assertEqual(as_list(pop.get("reward")), [-0.5] * 4)

    def test_steps_learn_state_and_reset_restores_it(self):
        pop = self.pop
        pop.set("gain", [1, 1, 3, 3])
        pop.set("x", 0.8)
        pop.set("v", [1, 0, -1])
        self.assertEqual(pop.step(50), 0)
        self.assertEqual(pop.ticks, 50)
        self.assertAlmostEqual(pop.time, 0.5)
        w = as_list(pop.get("p.w"))
        self.assertNotEqual(w[0], [0.0, 0.0, 0.0])
        self.assertGreater(as_list(pop.get("guess"))[0], 0.7)  # it learned x from v
        pop.reset(2)  # one instance: its param and state back to the defaults
        self.assertEqual(as_list(pop.get("gain")), [1.0, 1.0, 2.0, 3.0])
        self.assertEqual(as_list(pop.get("p.w"))[2], [0.0, 0.0, 0.0])
        self.assertEqual(as_list(pop.get("p.w"))[0], w[0])
        self.assertEqual(pop.ticks, 50)
        pop.reset()
        self.assertEqual(as_list(pop.get("gain")), [2.0] * 4)
        self.assertEqual(as_list(pop.get("p.w")), [[0.0] * 3] * 4)
        self.assertEqual(as_list(pop.get("x")), [0.8] * 4)  # inputs are kept
        self.assertEqual(pop.ticks, 0)

    def test_zero_ticks(self):
        self.assertEqual(self.pop.step(0), 0)
        self.assertEqual(self.pop.ticks, 0)


class SingleInstance:

    def setUp(self):
        super().setUp()
        self.i = circuit().instance()
        self.addCleanup(self.i.close)

    def test_scalars_come_back_as_numbers(self):
        i = self.i
        i.set("x", 0.75)
        i.set("gain", 3)
        i.step()
        y = i.get("y")
        self.assertIsInstance(y, float)
        self.assertEqual(y, 0.75 * 3 + 0.5)
        self.assertIs(i.get("fired"), False)
        self.assertEqual(len(i), 1)

    def test_vectors_come_back_as_one_row(self):
        i = self.i
        i.set("v", [0.5, 1, 1.5])
        self.assertEqual(as_list(i.get("v")), [0.5, 1.0, 1.5])
        i["v[0]"] = -1
        self.assertEqual(i["v[0]"], -1.0)
        i.step()
        out = i.outputs()
        self.assertEqual(as_list(out["w"]), [-2.0, 2.0, 3.0])
        self.assertIsInstance(out["reward"], float)
        self.assertTrue(math.isfinite(out["guess"]))


ValuesNumpy, ValuesPlain = both_paths(Values)
SingleInstanceNumpy, SingleInstancePlain = both_paths(SingleInstance)

if __name__ == "__main__":
    unittest.main()
