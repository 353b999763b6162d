"""AWM packaging: scenarios, task templates, verifiers, export and discovery."""

from phinance_env.awm.export import ENVS_FILE, check_envs_file, export
from phinance_env.awm.scenario import Scenario, Task, tasks
from phinance_env.awm.solution import Solution, ToolStep, play
from phinance_env.awm.verifiers import code_string, load_verifier, run_code_string

__all__ = [
    "ENVS_FILE", "Scenario", "Solution", "Task", "ToolStep", "check_envs_file", "code_string",
    "export", "load_verifier", "play", "run_code_string", "tasks",
]
