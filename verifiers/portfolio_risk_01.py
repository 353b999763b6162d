"""Verifiers of the portfolio_risk_01 tasks, as plain Python (sqlite3/json/re only)."""

import json
import re
import sqlite3

EXPECTED = {}

CHECKS = {}


def verify_task_completion(initial_db_path, final_db_path, final_answer, expected=None):
    return {"result": "others", "reward": 0.0, "checks": {}}


def verify_task(initial_db_path, final_db_path, expected=None):
    return {"expected": expected or EXPECTED}
