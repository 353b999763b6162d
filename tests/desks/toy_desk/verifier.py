"""The toy desk's verifier: plain Python, sqlite3/json/re only, never raises."""

import re
import sqlite3

EXPECTED = {}
NUMBER_RE = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


def _rows(path, sql, args=()):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def _check_log_close(initial, final, answer, exp):
    before = {r["id"] for r in _rows(initial, "SELECT id FROM close_log")}
    new = [r for r in _rows(final, "SELECT * FROM close_log ORDER BY id") if r["id"] not in before]
    numbers = [float(t.replace(",", "")) for t in NUMBER_RE.findall(re.sub(r"\d{4}-\d{2}-\d{2}", " ", answer or ""))]
    return {
        "answer_concise": len(numbers) <= 3,  # an answer, not a dump of every number in sight
        "close_recorded": [(r["ticker"], r["session"]) for r in new] == [(exp["ticker"], exp["session"])],
        "close_in_answer": any(abs(x - exp["close"]) <= 0.01 for x in numbers),
    }


CHECKS = {"log_close": _check_log_close}


def verify_task_completion(initial_db_path, final_db_path, final_answer, expected=None):
    exp = expected or EXPECTED
    try:
        checks = CHECKS[exp["template"]](initial_db_path, final_db_path, final_answer, exp)
    except Exception as exc:  # noqa: BLE001 - a verifier reports, it never raises
        return {"result": "others", "reward": 0.0, "checks": {}, "error_kind": "verifier_error",
                "error": f"{type(exc).__name__}: {exc}"[:500]}
    ok = all(checks.values())
    return {"result": "complete" if ok else "others", "reward": 1.0 if ok else 0.0, "checks": checks}


def verify_task(initial_db_path, final_db_path, expected=None):
    exp = expected or EXPECTED
    return {"expected": exp, "close_log": _rows(final_db_path, "SELECT * FROM close_log ORDER BY id")}
