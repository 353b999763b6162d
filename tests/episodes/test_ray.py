"""The Ray backend on a local Ray instance (needs the ray extra: make test-ray)."""

import pytest

from phinance_env.episodes.rollout import RolloutConfig, rollout, summarize

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_ray_backend_matches_the_local_pool(data_dir, tmp_path):
    try:
        rows = rollout(RolloutConfig(data_dir=data_dir, backend="ray", workers=2, repeats=2, tasks=(0, 3, 10),
                                     out=tmp_path / "ray"))
    finally:
        ray.shutdown()
    local = rollout(RolloutConfig(data_dir=data_dir, repeats=2, tasks=(0, 3, 10), out=tmp_path / "local"))
    assert summarize(rows)["success_rate"] == 1.0
    assert [(r["task_id"], r["repeat"], r["reward"], r["checks"]) for r in rows] == \
           [(r["task_id"], r["repeat"], r["reward"], r["checks"]) for r in local]
