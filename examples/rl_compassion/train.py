#!/usr/bin/env python3
"""train.py — reinforcement learning with a drive circuit as the reward.

An agent meets another person again and again and each time chooses to
help, ignore or harm them. The person's feelings follow from what the agent
does. The agent never sees a reward from the environment: its reward is
the compiled compassion / spite circuit of std.social
(compassion_reward.drive), which only sees the person's face, gaze and how
they seem to feel, and which is set to see them as a friend (+1), an enemy
(-1) or a stranger (0). A tabular Q-learner with softmax exploration then
learns to help a friend, to harm an enemy, and (the control) has no
preference for a stranger. All three conditions run as one drive
population with a per-instance `friend` param, stepped together.

    python3 examples/rl_compassion/train.py --plot     # the full run, redraws the plot
    python3 examples/rl_compassion/train.py --quick --check   # a few seconds; ctest runs it

Needs numpy and libdrive (DRIVE_LIB=build-dev/libdrive.so, or see
python/README.md). Everything is seeded: the same command gives the same
numbers and the same SVG.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

try:
    import numpy as np
except ImportError:  # 77: "skipped" for ctest
    print("train.py needs numpy (Debian: apt-get install python3-numpy)", file=sys.stderr)
    sys.exit(77)

import drive  # noqa: E402

ACTIONS = ("help", "ignore", "harm")
# What each action does to the person's feelings: helping pleases, being
# ignored mildly disappoints, harming hurts.
EFFECT = np.array([0.7, -0.1, -0.7])
CONDITIONS = (("friend", 1.0), ("enemy", -1.0), ("stranger", 0.0))

# Ticks of one encounter (10 ms each): the reward integral restarts, the
# person is in view (the reflex fires at the face's onset and lasts 30
# ticks), then they are gone again so the next face is a new onset.
RESET_TICKS, VIEW_TICKS, GAP_TICKS = 1, 60, 40


class OtherPeople:
    """One simulated person per agent. A lasting mood, moved by how they
    are treated, colours how they feel after each encounter; they look at
    the agent in half of the encounters (which the agent can see before
    acting, and which makes the encounter about the agent: approval /
    provocation instead of sympathy / schadenfreude)."""

    def __init__(self, n, rng):
        self.n, self.rng = n, rng
        self.reset()

    def reset(self):
        self.mood = self.rng.uniform(-0.5, 0.5, self.n)

    def looks(self):
        return self.rng.random(self.n) < 0.5

    def respond(self, actions):
        effect = EFFECT[actions]
        feeling = np.clip(0.6 * effect + 0.4 * self.mood + self.rng.normal(0, 0.1, self.n),
                          -1, 1)
        self.mood = np.clip(0.7 * self.mood + 0.3 * effect, -1, 1)
        return feeling


class CircuitReward:
    """The compiled circuit as the reward function: a population with one
    instance per agent, each with its own friend / enemy balance."""

    def __init__(self, circuit, friend):
        # "raise": an invalid input would mean a bug in this script, and a
        # tick with one keeps no state, so it must not pass silently.
        self.pop = circuit.population(len(friend), on_invalid="raise")
        self.pop.set("friend", friend)

    def encounter(self, looking, feeling):
        """Run one encounter; return each agent's integrated reward."""
        pop = self.pop
        pop.set("new_encounter", True)
        pop.set("face", 0.0)
        pop.set("eye_contact", False)
        pop.step(RESET_TICKS)
        pop.set("new_encounter", False)
        pop.set("face", 1.0)
        pop.set("eye_contact", looking)
        pop.set("their_feeling", feeling)
        pop.step(VIEW_TICKS)
        pop.set("face", 0.0)
        pop.set("eye_contact", False)
        pop.step(GAP_TICKS)
        return pop.get("encounter")


def state_of(feeling, looking):
    """What the agent knows when it acts: how the person seemed last time
    (displeased / neutral / pleased) and whether they look at it now."""
    seemed = np.digitize(feeling, [-0.2, 0.2])  # 0, 1, 2
    return seemed * 2 + looking.astype(int)


N_STATES = 6


class SoftmaxQ:
    """Tabular Q-learning, one table per agent, softmax (Boltzmann)
    exploration. The temperature is in reward units (reward x seconds of
    the circuit): an encounter with a pleased friend is worth about 0.05."""

    def __init__(self, n, rng, alpha=0.01, gamma=0.5, temperature=0.01):
        self.q = np.zeros((n, N_STATES, len(ACTIONS)))
        self.rng, self.alpha, self.gamma, self.tau = rng, alpha, gamma, temperature
        self.rows = np.arange(n)

    def policy(self, states):
        prefs = self.q[self.rows, states] / self.tau
        prefs -= prefs.max(axis=1, keepdims=True)  # overflow-safe softmax
        p = np.exp(prefs)
        return p / p.sum(axis=1, keepdims=True)

    def act(self, states):
        p = self.policy(states)
        u = self.rng.random(len(states))[:, None]
        return np.minimum((p.cumsum(axis=1) < u).sum(axis=1), len(ACTIONS) - 1)

    def update(self, s, a, r, s2, last):
        future = 0.0 if last else self.gamma * self.q[self.rows, s2].max(axis=1)
        td = r + future - self.q[self.rows, s, a]
        self.q[self.rows, s, a] += self.alpha * td


def train(episodes, encounters, agents, seed, circuit, log=None):
    """Train agents x 3 conditions. Returns, per episode and condition, the
    action frequencies (episodes, 3, 3), the mean reward per encounter
    (episodes, 3), and the mean reward per encounter when the person looked
    at the agent and when not (episodes, 3, 2: [looked, did not])."""
    n = agents * len(CONDITIONS)
    condition = np.repeat(np.arange(len(CONDITIONS)), agents)
    friend = np.array([CONDITIONS[c][1] for c in condition])
    rng = np.random.default_rng(seed)
    people = OtherPeople(n, rng)
    reward = CircuitReward(circuit, friend)
    learner = SoftmaxQ(n, rng)
    freq = np.zeros((episodes, len(CONDITIONS), len(ACTIONS)))
    mean_reward = np.zeros((episodes, len(CONDITIONS)))
    by_gaze = np.zeros((episodes, len(CONDITIONS), 2))
    for ep in range(episodes):
        people.reset()
        looking = people.looks()
        s = state_of(np.zeros(n), looking)
        counts = np.zeros((n, len(ACTIONS)))
        total = np.zeros(n)
        gaze_sum = np.zeros((n, 2))
        gaze_n = np.zeros((n, 2))
        for t in range(encounters):
            a = learner.act(s)
            feeling = people.respond(a)
            r = reward.encounter(looking, feeling)
            g = np.where(looking, 0, 1)
            gaze_sum[np.arange(n), g] += r
            gaze_n[np.arange(n), g] += 1
            looking = people.looks()
            s2 = state_of(feeling, looking)
            learner.update(s, a, r, s2, t == encounters - 1)
            counts[np.arange(n), a] += 1
            total += r
            s = s2
        for c in range(len(CONDITIONS)):
            m = condition == c
            freq[ep, c] = counts[m].sum(axis=0) / counts[m].sum()
            mean_reward[ep, c] = total[m].mean() / encounters
            by_gaze[ep, c] = gaze_sum[m].sum(axis=0) / np.maximum(gaze_n[m].sum(axis=0), 1)
        if log and (ep + 1) % max(1, episodes // 5) == 0:
            log(f"episode {ep + 1:4d}: " + "  ".join(
                f"{name} help {freq[ep, c, 0]:.2f} harm {freq[ep, c, 2]:.2f}"
                for c, (name, _) in enumerate(CONDITIONS)))
    reward.pop.close()
    return freq, mean_reward, by_gaze


def write_data(path, freq, mean_reward):
    """One row per episode: the action frequencies of each condition, then
    the mean reward per encounter of each condition."""
    cols = ["episode"] + [f"{name}_{act}" for name, _ in CONDITIONS for act in ACTIONS] + \
           [f"{name}_reward" for name, _ in CONDITIONS]
    with open(path, "w") as f:
        f.write("# " + " ".join(cols) + "\n")
        for ep in range(freq.shape[0]):
            vals = [f"{freq[ep, c, k]:.4f}" for c in range(len(CONDITIONS))
                    for k in range(len(ACTIONS))]
            vals += [f"{mean_reward[ep, c]:.6f}" for c in range(len(CONDITIONS))]
            f.write(f"{ep + 1} " + " ".join(vals) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--encounters", type=int, default=20, help="encounters per episode")
    ap.add_argument("--agents", type=int, default=50, help="agents per condition")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true",
                    help="60 episodes of 20 agents per condition (a few seconds)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless the friend agents end preferring help, the enemy "
                         "agents harm, and the strangers neither")
    ap.add_argument("--plot", action="store_true",
                    help="write learning_curve.dat and draw learning_curve.svg with gnuplot")
    ap.add_argument("--out", default=HERE, help="folder for --plot (default: this folder)")
    args = ap.parse_args()
    if args.quick:
        args.episodes, args.agents = 60, 20

    t0 = time.perf_counter()
    circuit = drive.compile(os.path.join(HERE, "compassion_reward.drive"))
    print(f"reward circuit: {circuit!r}, {len(CONDITIONS) * args.agents} instances "
          f"(libdrive: {drive.library_path()})")
    freq, mean_reward, by_gaze = train(args.episodes, args.encounters, args.agents, args.seed,
                                       circuit, log=print)
    elapsed = time.perf_counter() - t0

    last = max(1, args.episodes // 10)  # the final tenth of training
    final = freq[-last:].mean(axis=0)
    print(f"\n{args.episodes} episodes x {args.encounters} encounters x "
          f"{len(CONDITIONS) * args.agents} agents in {elapsed:.1f} s")
    gaze = by_gaze[-last:].mean(axis=0)
    print(f"over the last {last} episodes: how often each action was chosen, and the reward "
          f"per encounter (first episode -> last {last}; in the last {last}, split by whether "
          f"the person looked at the agent):")
    print(f"  {'':9} {'help':>6} {'ignore':>6} {'harm':>6}   {'reward':>17}   "
          f"{'looked':>7} {'did not':>7}")
    for c, (name, _) in enumerate(CONDITIONS):
        print(f"  {name:9} {final[c, 0]:6.3f} {final[c, 1]:6.3f} {final[c, 2]:6.3f}   "
              f"{mean_reward[0, c]:+.4f} -> {mean_reward[-last:, c].mean():+.4f}   "
              f"{gaze[c, 0]:+.4f} {gaze[c, 1]:+.4f}")

    if args.plot:
        os.makedirs(args.out, exist_ok=True)
        dat = os.path.join(args.out, "learning_curve.dat")
        svg = os.path.join(args.out, "learning_curve.svg")
        write_data(dat, freq, mean_reward)
        subprocess.run(["gnuplot", "-e", f"data='{dat}'; out='{svg}'; enc={args.encounters}",
                        os.path.join(HERE, "learning_curve.gp")], check=True)
        print(f"wrote {dat} and {svg}")

    if args.check:
        fails = []
        f, e, s = final[0], final[1], final[2]
        if not f[0] > 0.6 or not f[0] > f[2] + 0.5:
            fails.append(f"the friend agents do not end preferring help: {f}")
        if not e[2] > 0.6 or not e[2] > e[0] + 0.5:
            fails.append(f"the enemy agents do not end preferring harm: {e}")
        if not abs(s[0] - s[2]) < 0.1:
            fails.append(f"the strangers are not indifferent: {s}")
        for msg in fails:
            print("check failed:", msg)
        if fails:
            return 1
        print("check: the friend agents help, the enemy agents harm, the strangers do "
              "not care either way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
