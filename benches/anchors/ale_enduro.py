"""Enduro's speed model and traffic, measured on the real ROM (ale-py, which ships it).

What `envs/src/arcade/enduro.rs` copies (rules card, v2) and why a learner can start on it:

- frame by frame (frameskip 1, no sticky actions), the speed byte (RAM 22) under the pedal,
  coasting, the brake and on the grass, its range, the speed of the traffic and where the first
  car is;
- under ALE v5 (frame skip 4, sticky actions 0.25, 108k-frame cap), a player pressing a FIRE
  combination with probability p (else a uniform action; p = 0 is the uniform-random player):
  return, episodes with a pass, the agent step of the first pass, crashes and mean speed.

    python ale_enduro.py [EPISODES]      # default 10 per p
"""

import sys
from collections.abc import Callable

import ale_py
import gymnasium as gym
import numpy as np

gym.register_envs(ale_py)
SPEED = 22  # RAM byte of the player's speed


def frames() -> tuple[gym.Env, ale_py.ALEInterface, Callable[[str], int]]:
    env = gym.make("ALE/Enduro-v5", obs_type="ram", frameskip=1, repeat_action_probability=0.0)
    env.reset(seed=0)
    return env, env.unwrapped.ale, env.unwrapped.get_action_meanings().index


def speed_model() -> None:
    env, ale, act = frames()
    sp = []
    for _ in range(300):
        env.step(act("FIRE"))
        sp.append(int(ale.getRAM()[SPEED]))
    steps = [i for i in range(1, len(sp)) if sp[i] != sp[i - 1]]
    print(
        f"pedal from the start: speed {sp[0]} -> {sp[-1]} in {len(sp)} frames, "
        f"changes at frames {steps[:5]}..., every {steps[1] - steps[0]} frames "
        f"by {sp[steps[0]] - sp[steps[0] - 1]} (46 reached at frame {sp.index(46)})"
    )
    env, ale, act = frames()
    for _ in range(60):
        env.step(act("NOOP"))
    ale.setRAM(SPEED, 46)
    sp = []
    for _ in range(16):
        env.step(act("FIRE"))
        sp.append(int(ale.getRAM()[SPEED]))
    print(f"pedal from 46: {sp} (1 every 8 frames)")
    for v in (120, 200):
        ale.setRAM(SPEED, v)
        env.step(act("FIRE"))
        print(f"speed byte set to {v}, one frame of pedal: {int(ale.getRAM()[SPEED])}")
    env, ale, act = frames()
    for _ in range(60):
        env.step(act("NOOP"))
    ale.setRAM(SPEED, 50)
    sp = []
    for _ in range(50):
        env.step(act("DOWN"))
        sp.append(int(ale.getRAM()[SPEED]))
    print(f"brake from 50: {sp[:10]}... {sp[-1]} (1 a frame, floor 6)")
    env, ale, act = frames()
    for _ in range(60):
        env.step(act("NOOP"))
    ale.setRAM(SPEED, 20)
    for _ in range(600):
        env.step(act("NOOP"))
    print(f"coasting at 20 for 600 frames: speed {int(ale.getRAM()[SPEED])}")
    env, ale, act = frames()
    for _ in range(30):
        env.step(act("NOOP"))
    ale.setRAM(SPEED, 40)
    sp = []
    for _ in range(160):
        env.step(act("LEFT"))
        sp.append(int(ale.getRAM()[SPEED]))
    drops = [i for i in range(1, len(sp)) if sp[i] < sp[i - 1]]
    print(
        f"steering left from the middle at 40: speed drops (grass) at frames {drops}: "
        f"{[sp[i] for i in drops]}"
    )


def traffic() -> None:
    """Hold the speed byte at v (no steering) and note when the first car is passed: the first
    car is (v - traffic speed) * frames ahead."""
    for v in (24, 25, 26, 28, 34, 40):
        env, ale, act = frames()
        for _ in range(10):
            env.step(act("NOOP"))
        first = None
        for t in range(3000):
            ale.setRAM(SPEED, v)
            _, r, *_ = env.step(act("NOOP"))
            if r > 0:
                first = t
                break
        ahead = f"{(v - 24) * first} at traffic speed 24" if first else "-"
        print(f"held at {v}: first pass at frame {first}; distance to the first car {ahead}")


def biased(episodes: int) -> None:
    env = gym.make("ALE/Enduro-v5", obs_type="ram")  # v5: frame skip 4, sticky 0.25, 108k cap
    names = env.unwrapped.get_action_meanings()
    fire = [names.index(a) for a in ("FIRE", "RIGHTFIRE", "LEFTFIRE")]
    ale = env.unwrapped.ale
    for p in (0.0, 0.25, 0.5, 0.75):
        rng = np.random.default_rng(0)
        rets, firsts, lens, speeds, crashes = [], [], [], [], 0
        for ep in range(episodes):
            env.reset(seed=ep)
            ret, t, first, done, sp = 0, 0, None, False, []
            while not done:
                a = int(rng.choice(fire)) if rng.random() < p else int(rng.integers(len(names)))
                before = int(ale.getRAM()[SPEED])
                _, r, term, trunc, _ = env.step(a)
                t += 1
                ret += r
                done = term or trunc
                sp.append(int(ale.getRAM()[SPEED]))
                crashes += sp[-1] == 6 and before > 10
                if r > 0 and first is None:
                    first = t
            rets.append(ret)
            lens.append(t)
            firsts.append(first)
            speeds.append(np.mean(sp))
        got = sorted(f for f in firsts if f is not None)
        print(
            f"p={p}: return {np.mean(rets):.1f} ± {np.std(rets) / np.sqrt(len(rets)):.1f}, "
            f"length {np.mean(lens):.0f}, episodes with a pass {len(got)}/{len(rets)}, "
            f"first pass at agent step {got}, crashes per episode {crashes / episodes:.1f}, "
            f"mean speed {np.mean(speeds):.1f}",
            flush=True,
        )


if __name__ == "__main__":
    speed_model()
    traffic()
    biased(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
