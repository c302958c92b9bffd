"""Type stubs of the extension module (see python/src/lib.rs)."""

Space = tuple[str, list[int], list[float], list[float]]

class VecCore:
    def __init__(
        self,
        env_id: str,
        num_envs: int,
        seed: int,
        options: list[tuple[str, str]],
        autoreset_mode: str,
        num_threads: int,
    ) -> None: ...
    @property
    def env_id(self) -> str: ...
    @property
    def options(self) -> list[tuple[str, str]]: ...
    @property
    def max_episode_steps(self) -> int: ...
    @property
    def byte_observations(self) -> bool: ...
    @property
    def observation_space(self) -> Space: ...
    @property
    def action_space(self) -> Space: ...
    def reset(
        self,
        obs: int,
        seeds: list[int | None] | None,
        mask: list[bool] | None,
        fresh: bool,
    ) -> None: ...
    def step(self, actions: int, obs: int, rewards: int, flags: int) -> bool: ...
    def ended(self, returns: int, lengths: int, final_obs: int) -> list[bool]: ...
    def render(self, frames: int, width: int, height: int) -> None: ...

def harness_random_actions(
    env_id: str,
    options: list[tuple[str, str]],
    num_envs: int,
    seed: int,
    batches: int,
    out: int,
) -> None: ...
def registry() -> list[tuple[str, str]]: ...
