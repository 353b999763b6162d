"""Verifiers of the phinance_01 tasks, as plain Python.

AWM execs this very source (see ``phinance-env export``): it may use only ``sqlite3``,
``json`` and ``re``; it opens both DBs read-only and never raises. A malformed answer is
"others"; a check that breaks (a missing table, an unreadable DB, a bad key) is "others"
with ``error_kind: verifier_error``. Each task's code string keeps only its own check from
``CHECKS`` and what that uses, one entry point (``verify_task_completion`` in code mode,
``verify_task`` in sql mode), and ``EXPECTED = {...}``: its typed ground truth.
"""

import json
import re
import sqlite3

EXPECTED = {}

MAX_ANSWER_CHARS = 4000
MAX_ANSWER_NUMBERS = 60
DIRECTION_WORDS = {
    "up": ("up", "upward", "upwards", "bullish"),
    "down": ("down", "downward", "downwards", "bearish"),
    "flat": ("flat", "sideways", "neutral"),
}
NUMBER_RE = re.compile(r"(?<![\w.])[-+\u2212]?\d[\d,]*(?:\.\d+)?%?")
WORKSPACE_TABLES = ("tracked_tickers", "watchlists", "watchlist_items", "alerts", "notes",
                    "projection_runs", "backtest_runs")


# --- reading the databases -----------------------------------------------------------
class _Db:
    """One read-only connection per database for a whole verification (a fresh connection
    per query would read the schema again every time)."""

    def __init__(self, path):
        self.path, self.conn = path, None

    def rows(self, sql, args=()):
        if self.conn is None:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self.conn.row_factory = sqlite3.Row
        return [dict(r) for r in self.conn.execute(sql, args).fetchall()]

    def close(self):
        if self.conn is not None:
            self.conn.close()


def _rows(db, sql, args=()):
    return db.rows(sql, args)


def _new_rows(initial, final, table):
    """Rows of ``table`` in the final DB whose id is not in the initial DB."""
    before = {r["id"] for r in _rows(initial, f"SELECT id FROM {table}")}
    return [r for r in _rows(final, f"SELECT * FROM {table} ORDER BY id") if r["id"] not in before]


def _same_rows(initial, final, table, where="1=1", args=()):
    sql = f"SELECT * FROM {table} WHERE {where} ORDER BY id"
    return _rows(initial, sql, args) == _rows(final, sql, args)


def _watchlist_tickers(db, name):
    rows = _rows(db, "SELECT i.ticker FROM watchlist_items i JOIN watchlists w ON w.id = i.watchlist_id"
                       " WHERE w.name = ? ORDER BY i.ticker", (name,))
    return [r["ticker"] for r in rows]


# --- reading the answer --------------------------------------------------------------
def _answer_ok(answer):
    """Reject number dumps and walls of text: they would match any numeric check."""
    return (isinstance(answer, str) and 0 < len(answer) <= MAX_ANSWER_CHARS
            and len(NUMBER_RE.findall(answer)) <= MAX_ANSWER_NUMBERS)


def _numbers(answer):
    """Every number in the answer; '12.5%' also counts as 0.125, '1,234.5' as 1234.5."""
    out = []
    for token in NUMBER_RE.findall(answer):
        percent = token.endswith("%")
        text = token.rstrip("%").replace(",", "").replace("\u2212", "-")
        try:
            value = float(text)
        except ValueError:
            continue
        out.append(value)
        if percent:
            out.append(value / 100.0)
    return out


def _has_number(answer, value, tol):
    return any(abs(x - value) <= tol for x in _numbers(answer))


def _has_price(answer, value, rel=0.0005):
    return _has_number(answer, value, max(abs(value) * rel, 0.01))


def _direction_call(answer):
    """The set of directions the answer *calls*: direction words left after removing
    probability mentions such as 'P(down) 0.43', 'down: 43%' or 'flat 0.08'."""
    text = answer.lower()
    words = "|".join(w for ws in DIRECTION_WORDS.values() for w in ws)
    prob = rf"(?:p\s*\(\s*|prob(?:ability)?\s*(?:of\s*)?)?\b({words})\b\s*\)?\s*(?:[:=]|is|of)?\s*[-+]?\d*\.?\d+\s*%?"
    text = re.sub(prob, " ", text)
    called = set()
    for direction, synonyms in DIRECTION_WORDS.items():
        if any(re.search(rf"\b{w}\b", text) for w in synonyms):
            called.add(direction)
    return called


def _verdict(answer):
    """Gate verdicts the answer states (the gate's rule text 'PASS when ...' is ignored)."""
    text = re.sub(r"\bpass(es)?\s+when\b", " ", answer.lower())
    found = set()
    if re.search(r"\bpass(es|ed|ing)?\b", text):
        found.add("PASS")
    if re.search(r"\bfail(s|ed|ing)?\b", text):
        found.add("FAIL")
    return found


def _mentions(answer, word):
    return re.search(rf"(?<![\w^]){re.escape(word.lower())}(?![\w])", answer.lower()) is not None


# --- one check per task template -----------------------------------------------------
def _projection_logged(initial, final, ticker, as_of):
    return any(r["ticker"] == ticker and r["as_of"] == as_of
               for r in _new_rows(initial, final, "projection_runs"))


def _check_projection_answer(initial, final, answer, exp):
    lo, hi = exp["cone75_bps"]
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer),
        "direction_called": _direction_call(answer) == {exp["direction"]},
        "cone75_lower_in_answer": _has_number(answer, lo, exp["tol_bps"]),
        "cone75_upper_in_answer": _has_number(answer, hi, exp["tol_bps"]),
        "workspace_unchanged": all(_same_rows(initial, final, t) for t in ("watchlists", "alerts", "notes")),
    }


def _check_projection_note(initial, final, answer, exp):
    notes = [n for n in _new_rows(initial, final, "notes") if n["title"].strip() == exp["title"]]
    note = notes[0] if len(notes) == 1 else None
    run = None
    if note and note["projection_run_id"]:
        runs = _rows(final, "SELECT * FROM projection_runs WHERE id = ?", (note["projection_run_id"],))
        run = runs[0] if runs else None
    body = note["body"] if note else ""
    lo, hi = exp["cone75_bps"]
    return {
        "one_note_with_title": note is not None,
        "note_about_ticker": bool(note) and note["ticker"] == exp["ticker"],
        "linked_run_matches": bool(run) and run["ticker"] == exp["ticker"] and run["as_of"] == exp["as_of"],
        "body_calls_direction": bool(note) and _answer_ok(body) and _direction_call(body) == {exp["direction"]},
        "body_has_cone75": bool(note) and _has_number(body, lo, exp["tol_bps"]) and _has_number(body, hi, exp["tol_bps"]),
    }


def _backtest_logged(initial, final, exp):
    return [r for r in _new_rows(initial, final, "backtest_runs")
            if r["tickers"] == exp["tickers"] and r["start"] == exp["start"] and r["end"] == exp["end"]
            and r["horizon"] == "1d"]


def _check_backtest_gate(initial, final, answer, exp):
    return {
        "backtest_run_logged": bool(_backtest_logged(initial, final, exp)),
        "answer_well_formed": _answer_ok(answer),
        "verdict_stated": _verdict(answer) == {exp["verdict"]},
        "mean_oos_auc_in_answer": _has_number(answer, exp["mean_oos_auc"], exp["tol_auc"]),
    }


def _check_create_watchlist(initial, final, answer, exp):
    created = [w for w in _new_rows(initial, final, "watchlists") if w["name"] == exp["name"]]
    return {
        "watchlist_created": len(created) == 1,
        "exact_tickers": _watchlist_tickers(final, exp["name"]) == sorted(exp["tickers"]),
        "other_watchlists_unchanged": _same_rows(initial, final, "watchlist_items",
                                                 "watchlist_id IN (SELECT id FROM watchlists WHERE name != ?)",
                                                 (exp["name"],)) if created else False,
    }


def _check_rank_sector(initial, final, answer, exp):
    before = _watchlist_tickers(initial, exp["watchlist"])
    after = _watchlist_tickers(final, exp["watchlist"])
    return {
        "winner_added": sorted(before + [exp["winner"]]) == after,
        "answer_well_formed": _answer_ok(answer),
        "answer_names_winner": _mentions(answer, exp["winner"]),
        "comparison_logged": all(_projection_logged(initial, final, t, exp["as_of"]) for t in exp["sector_tickers"]),
    }


def _check_create_alert(initial, final, answer, exp):
    new = _new_rows(initial, final, "alerts")
    match = [a for a in new if a["ticker"] == exp["ticker"] and a["metric"] == exp["metric"]
             and a["operator"] == exp["operator"] and abs(a["threshold"] - exp["threshold"]) < 1e-9
             and a["horizon"] == exp["horizon"] and a["active"]]
    return {
        "alert_created": len(match) == 1,
        "no_other_new_alerts": len(new) == 1,
        "existing_alerts_unchanged": all(
            r in _rows(final, "SELECT * FROM alerts") for r in _rows(initial, "SELECT * FROM alerts")),
    }


def _check_volatility_compare(initial, final, answer, exp):
    a, b = exp["tickers"]
    return {
        "both_projections_logged": all(_projection_logged(initial, final, t, exp["as_of"]) for t in (a, b)),
        "answer_well_formed": _answer_ok(answer),
        "answer_names_winner": _mentions(answer, exp["winner"]),
        "sigma_a_in_answer": _has_number(answer, exp["sigmas"][a], exp["tol_sigma"]),
        "sigma_b_in_answer": _has_number(answer, exp["sigmas"][b], exp["tol_sigma"]),
    }


def _check_cleanup_watchlist(initial, final, answer, exp):
    before = _watchlist_tickers(initial, exp["watchlist"])
    gone = not _rows(final, "SELECT id FROM watchlists WHERE name = ?", (exp["delete"],))
    keep = [n for n in (r["name"] for r in _rows(initial, "SELECT name FROM watchlists"))
            if n not in (exp["watchlist"], exp["delete"])]
    return {
        "ticker_removed": _watchlist_tickers(final, exp["watchlist"]) == [t for t in before if t != exp["ticker"]]
                          and exp["ticker"] in before,
        "watchlist_deleted": gone,
        "its_items_deleted": gone and not _rows(final, "SELECT i.id FROM watchlist_items i LEFT JOIN watchlists w"
                                                       " ON w.id = i.watchlist_id WHERE w.id IS NULL"),
        "other_watchlists_unchanged": all(_watchlist_tickers(initial, n) == _watchlist_tickers(final, n) for n in keep),
    }


def _check_track_and_project(initial, final, answer, exp):
    lo, hi = exp["cone90_prices"]
    tracked = [r for r in _new_rows(initial, final, "tracked_tickers") if r["symbol"] == exp["ticker"]]
    return {
        "ticker_tracked": len(tracked) == 1,
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer),
        "cone90_lower_price": _has_price(answer, lo),
        "cone90_upper_price": _has_price(answer, hi),
    }


def _check_backtest_note(initial, final, answer, exp):
    runs = {r["id"] for r in _backtest_logged(initial, final, exp)}
    notes = [n for n in _new_rows(initial, final, "notes") if n["title"].strip() == exp["title"]]
    note = notes[0] if len(notes) == 1 else None
    body = note["body"] if note else ""
    return {
        "backtest_run_logged": bool(runs),
        "one_note_with_title": note is not None,
        "note_linked_to_run": bool(note) and note["backtest_run_id"] in runs,
        "body_has_coverage75": bool(note) and _answer_ok(body) and _has_number(body, exp["coverage_75"], exp["tol_coverage"]),
        "body_states_verdict": bool(note) and _verdict(body) == {exp["verdict"]},
    }


def _check_untrack_and_alerts(initial, final, answer, exp):
    t = exp["ticker"]
    return {
        "was_tracked": bool(_rows(initial, "SELECT id FROM tracked_tickers WHERE symbol = ?", (t,))),
        "untracked": not _rows(final, "SELECT id FROM tracked_tickers WHERE symbol = ?", (t,)),
        "its_alerts_deleted": not _rows(final, "SELECT id FROM alerts WHERE ticker = ?", (t,)),
        "other_alerts_unchanged": _same_rows(initial, final, "alerts", "ticker != ?", (t,)),
        "other_tracked_unchanged": _same_rows(initial, final, "tracked_tickers", "symbol != ?", (t,)),
    }


def _tool_called(initial, final, tool, ticker):
    """A successful call of ``tool`` about ``ticker`` in this episode's tool-call log."""
    for row in _new_rows(initial, final, "tool_calls"):
        if row["tool"] == tool and row["status"] == "ok":
            try:
                args = json.loads(row["arguments"])
            except ValueError:
                continue
            if str(args.get("ticker", "")).strip().upper() == ticker:
                return True
    return False


def _check_price_lookup(initial, final, answer, exp):
    return {
        "prices_looked_up": _tool_called(initial, final, "get_price_history", exp["ticker"]),
        "answer_well_formed": _answer_ok(answer),
        "close_in_answer": _has_price(answer, exp["close"], 0.00002),
        "max_high_in_answer": _has_price(answer, exp["max_high"], 0.00002),
        "workspace_unchanged": all(_same_rows(initial, final, t) for t in ("watchlists", "alerts", "notes")),
    }


CHECKS = {
    "projection_answer": _check_projection_answer,
    "projection_note": _check_projection_note,
    "backtest_gate": _check_backtest_gate,
    "create_watchlist": _check_create_watchlist,
    "rank_sector": _check_rank_sector,
    "create_alert": _check_create_alert,
    "volatility_compare": _check_volatility_compare,
    "cleanup_watchlist": _check_cleanup_watchlist,
    "track_and_project": _check_track_and_project,
    "backtest_note": _check_backtest_note,
    "untrack_and_alerts": _check_untrack_and_alerts,
    "price_lookup": _check_price_lookup,
}


def _diff_facts(initial, final):
    facts = {}
    for table in WORKSPACE_TABLES:
        before = {r["id"]: r for r in _rows(initial, f"SELECT * FROM {table}")}
        after = {r["id"]: r for r in _rows(final, f"SELECT * FROM {table}")}
        for r in list(before.values()) + list(after.values()):
            if "packet_json" in r:
                r.pop("packet_json")
        facts[table] = {
            "added": [after[i] for i in sorted(after.keys() - before.keys())],
            "removed": [before[i] for i in sorted(before.keys() - after.keys())],
            "changed": [{"before": before[i], "after": after[i]} for i in sorted(after.keys() & before.keys())
                        if before[i] != after[i]],
        }
    return facts


# --- entry points (the export keeps one per mode) ------------------------------------
def verify_task_completion(initial_db_path, final_db_path, final_answer, expected=None):
    """Code mode: {"result": "complete" | "others", "reward": 1.0 | 0.0, "checks": {...}}."""
    exp = expected or EXPECTED
    initial, final = _Db(initial_db_path), _Db(final_db_path)
    try:
        checks = CHECKS[exp["template"]](initial, final, final_answer or "", exp)
    except Exception as exc:  # noqa: BLE001 - a verifier reports, it never raises
        # Not a wrong answer: the check itself broke (a bad key, an unreadable DB). Its own
        # kind, so a rollout counts it instead of training on a silent 0.
        return {"result": "others", "reward": 0.0, "checks": {}, "error_kind": "verifier_error",
                "error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        initial.close()
        final.close()
    ok = bool(checks) and all(bool(v) for v in checks.values())
    return {"result": "complete" if ok else "others", "reward": 1.0 if ok else 0.0,
            "checks": {k: bool(v) for k, v in checks.items()}}


def verify_task(initial_db_path, final_db_path, expected=None):
    """SQL mode: the facts an LLM judge needs (what was expected, what changed)."""
    exp = expected or EXPECTED
    initial, final = _Db(initial_db_path), _Db(final_db_path)
    try:
        return json.loads(json.dumps({"expected": exp, "state_changes": _diff_facts(initial, final)}, default=str))
    except Exception as exc:  # noqa: BLE001
        return {"expected": exp, "error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        initial.close()
        final.close()
