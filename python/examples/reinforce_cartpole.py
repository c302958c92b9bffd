"""REINFORCE with a baseline on trustbench's CartPole, in one file, NumPy only.

A CleanRL-style single file: a linear softmax policy over the 4 state
variables, 8 copies stepped by `trustbench.make_vec`, rollouts of 128 steps
per copy, discounted returns cut at episode ends (`terminated`: no bootstrap;
`truncated` and the rollout's end: bootstrapped from a linear value
baseline), normalised advantages, Adam. Prints the mean return of the
episodes that ended in each block of updates.

    python python/examples/reinforce_cartpole.py --steps 200000 --seed 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import trustbench


def features(obs: np.ndarray) -> np.ndarray:
    """The state and a constant: what the policy and the baseline are linear in."""
    return np.concatenate([obs, np.ones((len(obs), 1))], axis=1)


class Adam:
    """Adam (Kingma & Ba 2015) on one parameter array, ascending."""

    def __init__(self, shape: tuple, lr: float) -> None:
        self.m, self.v, self.t, self.lr = np.zeros(shape), np.zeros(shape), 0, lr

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * grad
        self.v = 0.999 * self.v + 0.001 * grad**2
        m_hat, v_hat = self.m / (1 - 0.9**self.t), self.v / (1 - 0.999**self.t)
        params += self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--rollout", type=int, default=128)
    parser.add_argument("--gamma", type=float, default=0.99)
    args = parser.parse_args()

    envs = trustbench.make_vec("cartpole", args.num_envs, seed=args.seed, autoreset_mode="SameStep")
    rng = np.random.default_rng(args.seed)
    n_actions, dim = envs.single_action_space.n, envs.single_observation_space.shape[0] + 1
    theta, w = np.zeros((dim, n_actions)), np.zeros(dim)
    policy_opt, value_opt = Adam(theta.shape, 0.05), Adam(w.shape, 0.05)
    obs, _ = envs.reset()
    steps, returns, start = 0, [], time.perf_counter()
    while steps < args.steps:
        xs, acts, rews, stops, boots = [], [], [], [], []
        for _ in range(args.rollout):
            x = features(obs)
            logits = x @ theta
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            a = (rng.random((len(p), 1)) > np.cumsum(p, axis=1)).sum(axis=1)
            obs, reward, terminated, truncated, info = envs.step(a)
            # A truncated episode goes on past the cut: bootstrap from its
            # final observation's value; a terminated one is worth 0 after.
            boot = np.zeros(len(a))
            for i in np.flatnonzero(truncated):
                boot[i] = features(info["final_obs"][i][None])[0] @ w
            xs.append(x), acts.append(a), rews.append(reward)
            stops.append(terminated | truncated), boots.append(boot)
            if "episode" in info:
                returns += list(info["episode"]["r"][info["_episode"]])
        steps += args.rollout * args.num_envs
        # Discounted returns, backwards, cut at episode ends.
        g = features(obs) @ w
        targets = np.zeros((args.rollout, args.num_envs))
        for t in reversed(range(args.rollout)):
            g = rews[t] + args.gamma * np.where(stops[t], boots[t], g)
            targets[t] = g
        x, a, targets = np.concatenate(xs), np.concatenate(acts), targets.reshape(-1)
        advantages = targets - x @ w
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        logits = x @ theta
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        # d log softmax(a) / d logits = onehot(a) - p
        score = -p
        score[np.arange(len(a)), a] += 1.0
        policy_opt.step(theta, x.T @ (score * advantages[:, None]) / len(a))
        value_opt.step(w, x.T @ (targets - x @ w) / len(a))
        if steps // (args.rollout * args.num_envs) % 20 == 0 and returns:
            print(f"steps {steps:7d}  mean return, last 20 episodes {np.mean(returns[-20:]):6.1f}")
    took = time.perf_counter() - start
    last = np.mean(returns[-100:])
    print(f"done: {steps} steps in {took:.1f} s; mean return of the last 100 episodes {last:.1f}")


if __name__ == "__main__":
    main()
