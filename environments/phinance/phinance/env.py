"""The env: one gateway episode per rollout. Each episode is a fresh copy of the scenario's
state DB behind its own MCP URL; the agent runs with that URL as its toolset, the task's
reward submits the final reply to the gateway (the task's own verifier), and the episode is
released afterwards. As verifiers' harbor env does with its per-task services, the env owns
the live per-episode resource and lends it to the run.

Defaults fit the tools: the ``null`` harness (a chat loop with the MCP tools and nothing
else: no shell that could read the data folder's solutions) in the ``subprocess`` runtime,
which reaches a gateway on 127.0.0.1.
"""

from __future__ import annotations

import verifiers.v1 as vf
from phinance.gateway import Gateway
from phinance.taskset import PhinanceTask


class PhinanceEnvConfig(vf.EnvConfig):
    agent: vf.AgentConfig = vf.AgentConfig(harness={"id": "null"}, runtime=vf.SubprocessConfig())
    """The one seat. Its retries must stay off: a retried run would reuse the episode's
    already-changed state; ``--env.retries`` reruns whole episodes, each on a fresh one."""
    gateway_url: str = "http://127.0.0.1:8765"
    """Where ``phinance-env gateway serve`` listens; its key comes from $PHINANCE_GATEWAY_API_KEY."""


class PhinanceEnv(vf.Env[PhinanceEnvConfig]):
    def __init__(self, config: PhinanceEnvConfig) -> None:
        super().__init__(config)
        retries = config.agent.retries
        if retries.max_retries or any(rule.max_retries for rule in retries.rules):
            raise ValueError("phinance episodes change state as they go: use --env.retries (a whole new episode) "
                             "instead of --env.agent.retries")
        self.gateway = Gateway(config.gateway_url)

    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        if not isinstance(task, PhinanceTask):
            raise TypeError(f"the phinance env runs phinance tasks, not {type(task).__name__}")
        async with self.gateway.episode(task.data.scenario, task.data.task_id) as episode:
            if episode.task != task.data.prompt_text:
                raise ValueError(f"the gateway serves another export: {task.key} reads differently there; "
                                 "point the taskset's data_dir and the gateway at the same folder")
            await agents.agent.run(task.for_episode(episode))
