"""Verifiers of the options_vol_01 tasks, as plain Python.

AWM execs this very source (see ``phinance-env export``): it may use only ``sqlite3``,
``json`` and ``re``; it opens both DBs read-only and never raises. Each task's code string
keeps only its own check from ``CHECKS`` and what that uses, one entry point, and
``EXPECTED = {...}``: its typed ground truth, computed from the bars at export.

What the checks hold to: the work shows in the state (the run log of the pricing or analysis
the answer needs, the saved strategy's legs), then the answer by meaning: a price counts in
dollars, a vol or delta as a percentage or decimal, a figure that answers another question
(the other option's price, the bid, the surface's vol) may appear only where the answer says
what it is, a sentence of more than six numbers is a dump, signs are read (a put's delta, a
loss). The answer-reading helpers are those of verifiers/portfolio_risk_01.py: each verifier
file is exec'd alone, so they are repeated here.
"""

import json
import re
import sqlite3

EXPECTED = {}

MAX_ANSWER_CHARS = 4000
MAX_NUMBERS = 16
MAX_SENTENCE_NUMBERS = 6
MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b|\b" + MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
                     r"|\b\d{1,2}(?:st|nd|rd|th)?\s+" + MONTHS + r",?\s+\d{4}\b|\b(?:19|20)\d{2}\b", re.IGNORECASE)
NUMBER_RE = re.compile(
    r"(?P<sign>[-+])?\s*(?P<cur>\$|usd\s*)?\s*(?P<sign2>[-+])?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"\s*(?P<unit>%|percent\b|pct\b|bps\b|basis points?\b|k\b|thousand\b|mn\b|m\b|million\b|bn\b|billion\b)?",
    re.IGNORECASE)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
LOSS_WORDS = re.compile(r"\b(?:los[es]|losing|lost|loss(?:es)?|down|drop(?:s|ped)?|fall(?:s|en)?|fell|declin\w*|negative|"
                        r"shr[iu]nk\w*|decreas\w*|underwater)\b")
GAIN_WORDS = re.compile(r"\b(?:gain(?:s|ed)?|profit\w*|up|ris(?:e|es|en)|rose|positive|earn\w*|increas\w*|grow\w*|"
                        r"grew|made|make|appreciat\w*)\b")
NEGATION = r"(?:\b(?:no|not|never|none|nothing|without|nor|zero)\b|n't\b)"


# --- reading the databases -----------------------------------------------------------
class _Db:
    """One read-only connection per database for a whole verification."""

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


def _new_rows(initial, final, table):
    before = {r["id"] for r in initial.rows(f"SELECT id FROM {table}")}
    return [r for r in final.rows(f"SELECT * FROM {table} ORDER BY id") if r["id"] not in before]


def _same(initial, final, table):
    sql = f"SELECT * FROM {table} ORDER BY id"
    return initial.rows(sql) == final.rows(sql)


# --- reading the answer --------------------------------------------------------------
def _plain(answer):
    """Lower case, markdown and unicode minus/spaces made plain."""
    text = (answer if isinstance(answer, str) else "").replace("\u2212", "-").replace("\u2013", "-")
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"~~.*?~~|[*`_]+", "", text, flags=re.S).lower()


def _answer_ok(answer):
    return isinstance(answer, str) and 0 < len(answer) <= MAX_ANSWER_CHARS


def _tokens(text):
    """Every number of ``text`` (dates left out) as (value, kind, negative): kind is 'pct' for
    a percentage (value then a fraction), 'money' for a $/USD amount, else 'plain'."""
    text = DATE_RE.sub(" ", text)
    out = []
    for m in NUMBER_RE.finditer(text):
        value = float(m.group("num").replace(",", ""))
        unit = (m.group("unit") or "").lower()
        kind = "money" if (m.group("cur") or re.match(r"\s*(?:usd|dollars?)\b", text[m.end():])) else "plain"
        if unit in ("%", "percent", "pct"):
            value, kind = value / 100, "pct"
        elif unit.startswith("b") and unit in ("bps", "basis point", "basis points"):
            value, kind = value / 1e4, "pct"
        elif unit in SCALE:
            value *= SCALE[unit]
        negative = "-" in ((m.group("sign") or "") + (m.group("sign2") or ""))
        out.append((value, kind, negative))
    return out


def _concise(answer, limit=MAX_NUMBERS):
    return len(_tokens(_plain(answer))) <= limit


def _matches(token, fig):
    """A number states ``fig``: dollars (plain or $) within max(min, rel x |usd|); a fraction as
    a percentage, or a bare decimal below 1.5, within tol. Signs are read apart (_signed)."""
    value, kind, _ = token
    if fig.get("usd") is not None and kind in ("money", "plain"):
        if abs(value - abs(fig["usd"])) <= max(fig.get("min", 0.01), fig["rel"] * abs(fig["usd"])) + 1e-9:
            return True
    if fig.get("frac") is not None and (kind == "pct" or (kind == "plain" and value < 1.5)):
        if abs(value - abs(fig["frac"])) <= fig["tol"] + 1e-12:
            return True
    return False


def _sentences(text):
    return [s for s in re.split(r"[.;:!?\n](?=\s|$)|\s[-\u2014]\s", text) if s.strip()]


def _states(text, fig):
    """Tokens of ``text`` that state ``fig`` (in dollars or as a fraction/percentage), read
    only from sentences that are statements (at most MAX_SENTENCE_NUMBERS numbers)."""
    found = []
    for sentence in _sentences(text):
        tokens = _tokens(sentence)
        if len(tokens) <= MAX_SENTENCE_NUMBERS:
            found += [t for t in tokens if _matches(t, fig)]
    return found


def _signed(text, fig):
    """``fig`` is stated with its sign: a minus on the number or a word of loss for a
    negative figure, a word of gain (and no minus) for a positive one."""
    for sentence in _sentences(text):
        found = _states(sentence, fig)
        if not found:
            continue
        negative = fig["usd"] < 0 if fig.get("usd") is not None else fig["frac"] < 0
        if negative and (any(t[2] for t in found) or LOSS_WORDS.search(sentence)):
            return True
        if not negative and not any(t[2] for t in found) and (GAIN_WORDS.search(sentence) or not LOSS_WORDS.search(sentence)):
            return True
    return False


def _no_stray(text, fig, distractors):
    """A figure that answers another question appears only where the answer names it
    (all its tags, e.g. '95%' and 'parametric'): listing candidates is not an answer. A
    number that reads as the expected figure too (rounding makes them one) is not stray."""
    for d in distractors:
        stray = [t for t in _states(text, d) if not _matches(t, fig)]
        if stray and not all(re.search(tag, text) for tag in d["tags"]):
            return False
    return True


def _figure_answer(answer, fig, distractors=(), signed=False):
    text = _plain(answer)
    stated = _signed(text, fig) if signed else bool(_states(text, fig))
    return stated and _no_stray(text, fig, distractors)


VERDICT_WORDS = {
    "rich": r"\b(?:rich|expensive|overpriced|over-priced|overvalued|pricey|dear)\b",
    "cheap": r"\b(?:cheap|underpriced|under-priced|undervalued|inexpensive)\b",
    "fair": r"\b(?:fair(?:ly)?(?: priced| valued)?|in line|neither rich nor cheap|about right)\b",
}
REFUSAL_RE = re.compile(
    r"\b(?:can(?:no|')?t|cannot|unable|not (?:possible|available|able|offered|listed|valid|on the)|impossible|no (?:data|such|quote|price)|"
    r"beyond|outside|already expired|has expired|won't|will not|refus\w*|invalid)\b")
REFUSAL_REASON = {
    "expired": r"expir|before (?:the )?(?:as.of|session|date)|in the past|already",
    "off_grid": r"grid|not (?:a )?(?:listed|valid|available) strike|strike (?:is )?not|no such strike|strikes? (?:run|range|listed|available)",
    "vix": r"vix|not offered|no options on|volatility index",
    "beyond_data": r"\bdata\b|beyond|future|last session|after the (?:last|end)|not (?:yet )?available|2018-12-31",
}


def _run(initial, final, tool, **where):
    """New runs of ``tool`` whose ticker/session and logged parameters match ``where``."""
    out = []
    for r in _new_rows(initial, final, "runs"):
        if r["tool"] != tool:
            continue
        params = json.loads(r["params"])
        ok = True
        for k, v in where.items():
            got = r.get(k) if k in ("ticker", "session") else params.get(k)
            if isinstance(v, float):
                ok = ok and got is not None and abs(float(got) - v) < 1e-6
            else:
                ok = ok and str(got).strip().lower() == str(v).strip().lower()
        if ok:
            out.append(r)
    return out


def _negated_out(text):
    return re.sub(r"\b(?:not|n't|never|hardly|neither|nor)\s+(?:\w+\s+){0,2}?(?=\w)", " NEG_", text)


def _verdict_ok(text, verdict):
    """The verdict is said and no other one is: 'not cheap' says nothing of cheap, and
    'neither rich nor cheap' is fair."""
    plain = _negated_out(text)
    said = {v for v in ("rich", "cheap") if re.search(VERDICT_WORDS[v], plain)}
    if re.search(VERDICT_WORDS["fair"], text):
        said.add("fair")
    return said == {verdict}


def _legs(db, strategy_id):
    return sorted([r["kind"], r["strike"], r["quantity"]] for r in db.rows(
        "SELECT kind, strike, quantity FROM strategy_legs WHERE strategy_id = ?", (strategy_id,)))


def _saved(initial, final, exp):
    rows = [s for s in _new_rows(initial, final, "strategies") if s["name"] == exp["name"]]
    if len(rows) != 1:
        return None
    s = rows[0]
    ok = s["ticker"] == exp["ticker"] and s["expiry"] == exp["expiry"] and _legs(final, s["id"]) == exp["legs"]
    return s if ok else None


COST_WORDS = r"cost|debit|pay|premium|price|net"
GAIN_LABEL = r"gain|profit|max|most|best|upside|make|earn"
CLAUSE_RE = re.compile(r"[;\n]|,\s|\.\s|\s(?:and|but|while|whereas|with)\s")


def _labelled(answer, fig, label):
    """``fig`` is stated in a clause that names what it is (``label``), so two figures
    swapped between their labels do not pass."""
    return any(re.search(label, clause) and _states(clause, fig) for clause in CLAUSE_RE.split(_plain(answer)))


def _untouched(initial, final):
    return all(_same(initial, final, t) for t in ("strategies", "strategy_legs", "option_books", "book_positions", "notes"))


# --- the checks ----------------------------------------------------------------------
def _check_option_price(initial, final, answer, exp):
    priced = (_run(initial, final, "price_option", ticker=exp["ticker"], session=exp["session"])
              or _run(initial, final, "get_option_chain", ticker=exp["ticker"], session=exp["session"]))
    return {
        "priced_on_the_desk": bool(priced),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "price_in_answer": _figure_answer(answer, exp["price"], exp["distractors"]),
        "delta_in_answer": _signed(_plain(answer), exp["delta"]),
        "nothing_saved": _untouched(initial, final),
    }


def _check_implied_vol_question(initial, final, answer, exp):
    return {
        "solved_on_the_desk": bool(_run(initial, final, "implied_volatility", ticker=exp["ticker"], session=exp["session"],
                                        price=float(exp["price"]))),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "iv_in_answer": _figure_answer(answer, exp["iv"], exp["distractors"]),
        "nothing_saved": _untouched(initial, final),
    }


def _check_rich_cheap(initial, final, answer, exp):
    return {
        "compared_on_the_desk": bool(_run(initial, final, "compare_to_projection", ticker=exp["ticker"],
                                          session=exp["session"], expiry=exp["expiry"])),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "verdict": _verdict_ok(_plain(answer), exp["verdict"]),
        "implied_move_in_answer": _figure_answer(answer, exp["move"]),
        "nothing_saved": _untouched(initial, final),
    }


def _check_hedge_pnl(initial, final, answer, exp):
    runs = _run(initial, final, "hedge_backtest", ticker=exp["ticker"], session=exp["start"], kind=exp["kind"],
                rebalance=exp["rebalance"])
    runs = [r for r in runs if json.loads(r["result"]).get("expiry") == exp["expiry"]
            and abs(json.loads(r["result"]).get("strike", 0) - exp["strike"]) < 1e-6
            and json.loads(r["result"]).get("position") == "short"]
    return {
        "backtested_on_the_desk": bool(runs),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "total_in_answer": _signed(_plain(answer), exp["total"]) and _no_stray(_plain(answer), exp["total"], exp["distractors"]),
        "nothing_saved": _untouched(initial, final),
    }


def _check_spread_build(initial, final, answer, exp):
    s = _saved(initial, final, exp)
    return {
        "strategy_saved": s is not None,
        "analyzed_at_the_session": s is not None and bool(_run(initial, final, "analyze_strategy", session=exp["session"],
                                                                 name=exp["name"])),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "cost_in_answer": _labelled(answer, exp["cost"], COST_WORDS) and _no_stray(_plain(answer), exp["cost"], exp["distractors"]),
        "max_gain_in_answer": _labelled(answer, exp["max_gain"], GAIN_LABEL),
    }


def _check_delta_put_spread(initial, final, answer, exp):
    s = _saved(initial, final, exp)
    return {
        "strategy_saved_with_the_right_strikes": s is not None,
        "analyzed_at_the_session": s is not None and bool(_run(initial, final, "analyze_strategy", session=exp["session"],
                                                                 name=exp["name"])),
        "only_that_strategy": len(_new_rows(initial, final, "strategies")) == 1,
    }


def _check_straddle_review(initial, final, answer, exp):
    s = _saved(initial, final, exp)
    notes = [n for n in _new_rows(initial, final, "notes") if n["title"].strip() == exp["title"]]
    body = notes[0]["body"] if len(notes) == 1 else ""
    return {
        "strategy_saved": s is not None,
        "analyzed_at_the_session": s is not None and bool(_run(initial, final, "analyze_strategy", session=exp["session"],
                                                                 name=exp["name"])),
        "note_on_the_strategy": s is not None and len(notes) == 1 and notes[0]["strategy_id"] == s["id"],
        "cost_in_note": _labelled(body, exp["cost"], COST_WORDS),
        "breakevens_in_note": all(_states(_plain(body), b) for b in exp["breakevens"]) and _concise(body, 8),
    }


def _check_refuse_option(initial, final, answer, exp):
    text = _plain(answer)
    tried = any(exp["ticker"].lower() in str(r["arguments"]).lower() for r in _new_rows(initial, final, "tool_calls"))
    return {
        "looked_or_tried": tried,
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 8),
        "refuses": bool(REFUSAL_RE.search(text)),
        "says_why": re.search(REFUSAL_REASON[exp["reason"]], text) is not None,
        "nothing_saved": _untouched(initial, final),
    }


CHECKS = {
    "option_price": _check_option_price,
    "implied_vol_question": _check_implied_vol_question,
    "rich_cheap": _check_rich_cheap,
    "hedge_pnl": _check_hedge_pnl,
    "spread_build": _check_spread_build,
    "delta_put_spread": _check_delta_put_spread,
    "straddle_review": _check_straddle_review,
    "refuse_option": _check_refuse_option,
}


def verify_task_completion(initial_db_path, final_db_path, final_answer, expected=None):
    exp = expected or EXPECTED
    initial, final = _Db(initial_db_path), _Db(final_db_path)
    try:
        checks = CHECKS[exp["template"]](initial, final, final_answer if isinstance(final_answer, str) else "", exp)
    except Exception as exc:  # noqa: BLE001 - a verifier reports, it never raises
        return {"result": "others", "reward": 0.0, "checks": {}, "error_kind": "verifier_error",
                "error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        initial.close()
        final.close()
    ok = all(checks.values())
    return {"result": "complete" if ok else "others", "reward": 1.0 if ok else 0.0, "checks": checks}


def verify_task(initial_db_path, final_db_path, expected=None):
    """SQL mode: the facts an LLM judge needs (what changed in the desk's tables)."""
    exp = expected or EXPECTED
    initial, final = _Db(initial_db_path), _Db(final_db_path)
    try:
        facts = {"expected": exp}
        for table in ("strategies", "strategy_legs", "option_books", "book_positions", "runs", "notes"):
            facts[f"new_{table}"] = _new_rows(initial, final, table)[:50]
        return facts
    except Exception as exc:  # noqa: BLE001
        return {"expected": exp, "error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        initial.close()
        final.close()
