"""Episodes and RL reward collection: one episode engine (the step machine every way in
drives), a policy loop over it, rollouts at scale, a gym-style env."""

from phinance_env.episodes.engine import Episode, EpisodeResult, ToolReply
from phinance_env.episodes.episode import run_episode
from phinance_env.episodes.gym import AsyncPhinanceEnv, PhinanceEnv
from phinance_env.episodes.host import EpisodeHost, make_host, shared_host
from phinance_env.episodes.policies import make_policy
from phinance_env.episodes.rollout import RolloutConfig, rollout, shutdown_workers, summarize

__all__ = [
    "AsyncPhinanceEnv", "Episode", "EpisodeHost", "EpisodeResult", "PhinanceEnv", "RolloutConfig", "ToolReply",
    "make_host", "make_policy", "rollout", "run_episode", "shared_host", "shutdown_workers", "summarize",
]
