"""sb3-contrib's TRPO with the RL Zoo's MuJoCo settings, run here on the v5 envs.

Why: sb3-contrib publishes TRPO at 1M steps on MuJoCo v3 (Walker2d 4502 ± 234 over 3 seeds),
trained by the RL Zoo. Our TRPO on Walker2d-v5 falls short of it, and the published figure
cannot say how much of the gap is the env version, the seeds or the algorithm. Running the same
library with the same settings on the same envs and machine as ours separates those.

Settings: the Zoo's `hyperparams/trpo.yml` MuJoCo defaults (`Walker2d-v4: *mujoco-defaults`):
2 envs × 1,024 steps a batch, γ 0.99, GAE λ 0.95, the whole batch for the Fisher
(`sub_sampling_factor` 1), 25 CG steps, damping 0.1, 20 critic passes of minibatch 128 at
Adam 1e-3, `VecNormalize` (observations and rewards), `MlpPolicy` (64 × 64, tanh). Evaluation
as the Zoo's: every 100k steps, 10 episodes, the mode (`deterministic=True`), observations
normalised with the training statistics frozen, returns unnormalised. Each line also carries the
policy's entropy and the mean return of the last 100 training episodes (sampled actions), to set
beside our runs' `train/entropy` and `train/episode_return_mean`.

    python sb3_trpo.py ENV SEED [STEPS]     # e.g. Walker2d-v5 0; one JSON line per evaluation
"""

import json
import sys
import time

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import TRPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

EVAL_EVERY = 100_000
EVAL_EPISODES = 10


def evaluate(model: TRPO, train_env: VecNormalize, env_id: str, seed: int) -> list[float]:
    """Mode-action returns on a fresh env that shares the frozen observation statistics."""
    env = VecNormalize(make_vec_env(env_id, n_envs=1, seed=seed + 10_000), norm_reward=False)
    env.obs_rms = train_env.obs_rms
    env.training = False
    returns, _ = evaluate_policy(
        model, env, n_eval_episodes=EVAL_EPISODES, deterministic=True, return_episode_rewards=True
    )
    return [float(r) for r in returns]


def main(env_id: str, seed: int, steps: int) -> None:
    torch.set_num_threads(1)
    env = VecNormalize(make_vec_env(env_id, n_envs=2, seed=seed), gamma=0.99)
    model = TRPO(
        "MlpPolicy",
        env,
        n_steps=1024,
        batch_size=128,
        gamma=0.99,
        gae_lambda=0.95,
        sub_sampling_factor=1,
        cg_max_steps=25,
        cg_damping=0.1,
        n_critic_updates=20,
        learning_rate=1e-3,
        seed=seed,
        device="cpu",
    )
    half_ln_2pi_e = 0.5 * np.log(2 * np.pi * np.e)
    start = time.monotonic()
    while model.num_timesteps < steps:
        model.learn(EVAL_EVERY, reset_num_timesteps=False)
        returns = evaluate(model, env, env_id, seed)
        row = {
            "env": env_id,
            "seed": seed,
            "steps": model.num_timesteps,
            "mean": float(np.mean(returns)),
            "returns": returns,
            # The sampled policy's training episodes (the last 100, unnormalised by the Monitor).
            "train_return": float(np.mean([e["r"] for e in model.ep_info_buffer])),
            # The Gaussian's entropy, Σ (log σᵢ + ½ ln 2πe): how far the spread has shrunk.
            "entropy": float(np.sum(model.policy.log_std.detach().numpy() + half_ln_2pi_e)),
            "seconds": round(time.monotonic() - start, 1),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    gym.logger.min_level = 40
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000)
