"""The taskset and env config alone (no servers): the folder's tasks with their splits."""

from __future__ import annotations

import json

import pytest

from verifiers.v1.utils.loaders import env_config_type, taskset_class


def _taskset(data_dir, **knobs):
    config = env_config_type("phinance").model_validate({"taskset": {"id": "phinance", "data_dir": str(data_dir),
                                                                     **knobs}})
    return taskset_class("phinance")(config.taskset)


def test_tasks_carry_the_folder_metadata_and_splits(data_dir):
    meta = [json.loads(line) for line in (data_dir / "gen_task_meta.jsonl").read_text().splitlines()]
    every = list(_taskset(data_dir))
    assert len(every) == len(meta)
    for task, row in zip(every, meta, strict=False):
        assert task.key == f"{row['scenario']}/{row['task_idx']}" == task.data.id
        assert (task.data.template, task.data.tier, task.data.split, task.data.base) == (
            row["template"], row["tier"], row["split"], row["base"])
    for split in ("train", "test"):
        chosen = list(_taskset(data_dir, split=split))
        assert chosen and {t.data.split for t in chosen} == {split}
        assert len(chosen) == sum(r["split"] == split for r in meta)


def test_the_env_plays_the_null_harness_locally_and_refuses_agent_retries(data_dir, monkeypatch):
    from phinance import PhinanceEnv

    monkeypatch.setenv("PHINANCE_GATEWAY_API_KEY", "k")
    config = env_config_type("phinance").model_validate({"taskset": {"id": "phinance", "data_dir": str(data_dir)}})
    assert config.agent.harness.id == "null" and config.agent.runtime.type == "subprocess"
    retrying = env_config_type("phinance").model_validate(
        {"taskset": {"id": "phinance", "data_dir": str(data_dir)}, "agent": {"retries": {"max_retries": 2}}})
    with pytest.raises(ValueError, match="env.retries"):
        PhinanceEnv(retrying)


def test_a_missing_folder_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.delenv("PHINANCE_AWM_DATA_DIR", raising=False)
    config = env_config_type("phinance").model_validate({"taskset": {"id": "phinance"}})
    with pytest.raises(ValueError, match="phinance-env export --out"):
        list(taskset_class("phinance")(config.taskset))
