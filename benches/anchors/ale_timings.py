"""The ROM timings our arcade games copy, measured on the real games (ale-py, which ships the ROMs).

Each probe plays one game frame by frame (frameskip 1, no sticky actions) and prints what the
matching rules card cites; the ROMs are used only here, never by the harness.

    python ale_timings.py [GAME ...]  # games: breakout pong seaquest spaceinvaders beamrider qbert
"""

import sys

import ale_py
import gymnasium as gym
import numpy as np

gym.register_envs(ale_py)

NOOP = 0


def make(game: str, obs_type: str = "ram") -> gym.Env:
    env = gym.make(f"ALE/{game}-v5", obs_type=obs_type, frameskip=1, repeat_action_probability=0.0)
    env.reset(seed=0)
    return env


def ram(env: gym.Env) -> np.ndarray:
    return env.unwrapped.ale.getRAM()


def act(env: gym.Env, name: str) -> int:
    """The index of ALE action `name` in the game's minimal action set."""
    return env.unwrapped.get_action_meanings().index(name)


def breakout() -> None:
    """Serve speed (ball y = RAM 101, x = 99) and paddle speed (RAM 72)."""
    env = make("Breakout")
    env.step(act(env, "FIRE"))
    ys = [int(ram(env)[101])]
    while ram(env)[101] != 0:
        env.step(NOOP)
        ys.append(int(ram(env)[101]))
    print(
        f"breakout: served at y={ys[0]}, lost after {len(ys) - 1} frames at y={ys[-2]} "
        f"({(ys[-2] - ys[0]) / (len(ys) - 2):.2f} px/frame)"
    )
    env = make("Breakout")
    xs = [int(ram(env)[72])]
    for _ in range(9):
        env.step(act(env, "RIGHT"))
        xs.append(int(ram(env)[72]))
    print(f"breakout: paddle x holding RIGHT: {xs} (steps {np.diff(xs).tolist()} px/frame)")


def pong() -> None:
    """Serve pause and ball speed (ball x = RAM 49), never moving the paddle."""
    env = make("Pong")
    last_point, xs = None, []
    for t in range(700):
        _, r, *_ = env.step(NOOP)
        x = int(ram(env)[49])
        if r and last_point is not None:
            break
        if r:
            last_point = t
        elif last_point is not None and x != 205:
            xs.append((t, x))
    (t0, x0), (t1, x1) = xs[0], xs[-1]
    print(
        f"pong: next serve {t0 - last_point} frames after a point, towards the player "
        f"(x {x0} -> {x1}, {(x1 - x0) / (t1 - t0):.2f} px/frame)"
    )


def seaquest() -> None:
    """Oxygen (RAM 102) refill, sub depth (RAM 97), the dive that makes surfacing count, a lost
    life's length, and the speeds of sharks and of the torpedo (from the screen)."""
    env = make("Seaquest")
    t = 0
    while ram(env)[102] < 64:
        env.step(NOOP)
        t += 1
    print(f"seaquest: the tank fills from empty in {t} frames")
    for depth in range(10, 20):
        env = make("Seaquest")
        lives = 4
        for t in range(600):
            action = "NOOP" if t < 200 else "DOWN" if t < 200 + depth else "UP"
            _, _, _, _, info = env.step(act(env, action))
            if info["lives"] < lives:
                print(
                    f"seaquest: surfacing after a {depth}-pixel dive costs a life "
                    "(shallower is safe)"
                )
                break
        else:
            continue
        break
    env = make("Seaquest")
    up_at = None
    for t in range(800):
        _, _, _, _, info = env.step(act(env, "NOOP" if t < 200 else "DOWN" if t < 240 else "UP"))
        if up_at is None and t >= 240 and ram(env)[97] == 13:
            up_at = t
        if info["lives"] < 4:
            print(f"seaquest: a lost life takes {t - up_at} frames from surfacing empty")
            break
    env = make("Seaquest", "rgb")
    xs = []
    for t in range(470):
        obs, *_ = env.step(act(env, "DOWN") if 150 <= t < 175 else NOOP)
        band = obs[65:80]
        green = np.where((band[:, :, 1] > 150) & (band[:, :, 0] < 120))[1]
        if t >= 300 and len(green):
            xs.append((t, int(green.min())))
    (t0, x0), (t1, x1) = xs[0], xs[-1]
    print(f"seaquest: a level-1 shark moves {(x1 - x0) / (t1 - t0):.3f} px/frame")
    env = make("Seaquest", "rgb")
    for t in range(200):
        env.step(NOOP if t < 150 else act(env, "DOWN"))
    ends = []
    for _ in range(10):
        obs, *_ = env.step(act(env, "FIRE"))
        ys, xs_ = np.where((obs == [187, 187, 53]).all(axis=2))
        ends.append(int(xs_[(ys > 40) & (ys < 180)].max()))
    speed = (ends[-1] - ends[1]) / (len(ends) - 2)
    print(f"seaquest: the torpedo's front moves {speed:.1f} px/frame")


def spaceinvaders() -> None:
    """Start pause, shot speed (drawn on odd frames), and whether a mystery ship crosses the top."""
    env = make("SpaceInvaders", "rgb")
    shot = []
    for t in range(220):
        obs, *_ = env.step(act(env, "FIRE"))
        m = (obs == [142, 142, 142]).all(axis=2)
        m[:20] = False
        ys = np.where(m[:, 30:46])[0]
        if t % 2 == 1 and len(ys):
            shot.append((t, int(ys.min())))
    (t0, y0) = shot[0]
    (t1, y1) = min(shot, key=lambda s: (s[1], s[0]))
    print(
        f"spaceinvaders: first shot at frame {t0}; it climbs from y={y0} to y={y1} in "
        f"{t1 - t0} frames ({(y0 - y1) / (t1 - t0):.2f} px/frame)"
    )
    env = make("SpaceInvaders", "rgb")
    rng = np.random.default_rng(0)
    run, longest, action, lit_before = 0, 0, NOOP, False
    for t in range(40_000):
        if t % 4 == 0:
            action = int(rng.integers(6))
        obs, _, term, trunc, _ = env.step(action)
        # A crossing ship lights the band under the score for many frames in a row (objects are
        # drawn every other frame); shots reaching the top only for a few.
        lit = bool((obs[20:30].sum(axis=2) > 0).any())
        run = run + 1 if lit or lit_before else 0
        lit_before = lit
        longest = max(longest, run)
        if term or trunc:
            env.reset()
    print(
        f"spaceinvaders: random play, 40000 frames: longest run of frames with something under "
        f"the score {longest} (a mystery ship would cross for ~100)"
    )


def beamrider() -> None:
    """How long the intro lasts before saucers (white on the beams) appear, under random play."""
    env = make("BeamRider", "rgb")
    rng = np.random.default_rng(0)
    action, lives, events = NOOP, 3, []
    seen = False
    for t in range(3000):
        if t % 4 == 0:
            action = int(rng.integers(9))
        obs, _, _, _, info = env.step(action)
        white = (obs[40:160].min(axis=2) > 180).sum() > 0
        if white and not seen:
            events.append(f"saucers from frame {t}")
        if not white and seen:
            events.append(f"none from {t}")
        seen = white
        if info["lives"] < lives:
            lives = info["lives"]
            events.append(f"lives -> {lives} at {t}")
    print("beamrider:", "; ".join(events))


def qbert() -> None:
    """When a life's first points come (agent steps, ALE v5) and how long the shortest life is."""
    env = gym.make("ALE/Qbert-v5", obs_type="ram")
    rng = np.random.default_rng(1)
    firsts, lengths = [], []
    for ep in range(3):
        _, info = env.reset(seed=100 + ep)
        lives, start, t, first, done = info["lives"], 0, 0, None, False
        while not done:
            _, r, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            t += 1
            done = term or trunc
            if r and first is None:
                first = t - start
            if info["lives"] < lives or done:
                lengths.append(t - start)
                if first is not None:
                    firsts.append(first)
                lives, start, first = info["lives"], t, None
    print(
        f"qbert: first points of a life after >= {min(firsts)} agent steps; "
        f"shortest life {min(lengths)}"
    )


PROBES = dict(
    breakout=breakout,
    pong=pong,
    seaquest=seaquest,
    spaceinvaders=spaceinvaders,
    beamrider=beamrider,
    qbert=qbert,
)

if __name__ == "__main__":
    for name in sys.argv[1:] or PROBES:
        PROBES[name]()
