"""Option 2: rollouts over a stock AWM data folder (its own server code, DB and verifiers),
here a small notes environment the test writes in AWM's file format."""

import json
import sqlite3

import pytest

from phinance_env.awm.solution import Solution, ToolStep
from phinance_env.episodes.rollout import RolloutConfig, rollout, summarize
from tests.scripted_llm import scripted_llm
from tests.support import served

pytestmark = pytest.mark.integration

FULL_CODE = '''from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import create_engine, text
import uvicorn

engine = create_engine("sqlite:///notes.db")
app = FastAPI()


class NoteIn(BaseModel):
    title: str


@app.post("/notes", operation_id="create_note")
def create_note(note: NoteIn) -> dict:
    """Create a note with a title."""
    if not note.title.strip():
        raise HTTPException(422, "title is empty")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes (title) VALUES (:t)"), {"t": note.title})
    return {"ok": True}


@app.get("/notes", operation_id="list_notes")
def list_notes() -> dict:
    """List notes."""
    with engine.connect() as conn:
        return {"titles": [r[0] for r in conn.execute(text("SELECT title FROM notes"))]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8001)
'''

VERIFIER = '''def verify_task_completion(initial_db_path, final_db_path, final_answer):
    import sqlite3
    conn = sqlite3.connect(final_db_path)
    titles = [r[0] for r in conn.execute("SELECT title FROM notes")]
    conn.close()
    return {"result": "complete" if "hello" in titles else "others"}
'''


@pytest.fixture
def awm_folder(tmp_path):
    folder = tmp_path / "outputs"
    (folder / "databases").mkdir(parents=True)
    db = folder / "databases" / "toy_notes_1.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")

    def jsonl(name, rows):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))

    jsonl("gen_envs.jsonl", [{"scenario": "Toy Notes 1", "db_path": "outputs/databases/toy_notes_1.db", "full_code": FULL_CODE}])
    jsonl("gen_tasks.jsonl", [{"scenario": "Toy Notes 1", "tasks": ["Create a note titled 'hello'."]}])
    jsonl("gen_verifier.pure_code.jsonl", [{"scenario": "Toy Notes 1", "task_idx": 0, "task": "Create a note titled 'hello'.",
                                            "verification": {"code": VERIFIER, "raw_response": ""}}])
    return folder


def test_rollout_over_a_stock_awm_folder(awm_folder, tmp_path):
    solution = Solution(calls=[ToolStep(tool="create_note", arguments={"title": "hello"})], answer="Created.")
    with served(scripted_llm(solution)) as llm:
        rows = rollout(RolloutConfig(scenario="toy_notes_1", data_dir=str(awm_folder), policy="openai",
                                     out=tmp_path / "runs", openai={"api_url": f"{llm}/v1", "model": "scripted"}))
    assert summarize(rows)["success_rate"] == 1.0, rows[0]["error"]
    nothing = rollout(RolloutConfig(scenario="toy_notes_1", data_dir=str(awm_folder), policy="null", out=tmp_path / "null"))
    assert summarize(nothing)["success_rate"] == 0.0
    with sqlite3.connect(awm_folder / "databases" / "toy_notes_1.db") as conn:  # the shared file is untouched
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0
