"""Episodes and RL reward collection: one episode, rollouts at scale, a gym-style env."""

from phinance_env.episodes.episode import EpisodeResult, run_episode
from phinance_env.episodes.gym import AsyncPhinanceEnv, PhinanceEnv
from phinance_env.episodes.host import EpisodeHost
from phinance_env.episodes.policies import make_policy
from phinance_env.episodes.rollout import RolloutConfig, rollout, shutdown_workers, summarize

__all__ = [
    "AsyncPhinanceEnv", "EpisodeHost", "EpisodeResult", "PhinanceEnv", "RolloutConfig",
    "make_policy", "rollout", "run_episode", "shutdown_workers", "summarize",
]
