"""Verifiers of the portfolio_risk_01 tasks, as plain Python.

AWM execs this very source (see ``phinance-env export``): it may use only ``sqlite3``,
``json`` and ``re``; it opens both DBs read-only and never raises. A malformed answer is
"others"; a check that breaks is "others" with ``error_kind: verifier_error``. Each task's
code string keeps only its own check from ``CHECKS`` and what that uses, one entry point,
and ``EXPECTED = {...}``: its typed ground truth, computed from the bars at export.

What the checks hold to: state first (the blotter, positions, limits, notes, the report log:
the work must have been done through the desk), then the answer's meaning: a figure counts
only in the unit it can be read in (dollars or a percentage/fraction), a figure that belongs
to another question (the 95% VaR for the 99%, cash for the total) may appear only where the
answer says what it is, and an answer that dumps numbers is refused.
"""

import json
import re
import sqlite3

EXPECTED = {}

MAX_ANSWER_CHARS = 4000
MAX_NUMBERS = 16
MAX_SENTENCE_NUMBERS = 6  # a figure read from a sentence of more numbers than this is a dump, not a statement
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
FILLED_RE = re.compile(r"\b(?:fill(?:ed|s)?|executed|went through|go(?:es)? through|bought|purchased|completed|accepted|done)\b")
REJECTED_RE = re.compile(r"\b(?:reject\w*|refus\w*|block\w*|denied|declin\w*|breach\w*|would exceed|exceeds?)\b"
                         r"|(?:\bnot|n't|\bnever)\s+(?:\w+\s+){0,2}(?:fill\w*|execut\w*|go through|went through|placed|"
                         r"allowed|accepted)\b")
REFUSAL_RE = re.compile(
    r"\b(?:can(?:no|')?t|cannot|unable|not (?:possible|available|able|allowed|tradable|tradeable|valid|known|listed)|"
    r"impossible|no (?:data|prices?|such|closes?)|beyond|outside|after the (?:end|last)|before (?:the|its) (?:inception|book)|"
    r"did(?: not|n't) exist|does(?: not|n't) exist|unknown|not (?:a )?(?:ticker|tradable)|reject\w*|refus\w*|won't|will not)\b")
REFUSAL_REASON = {  # what a refusal must say, by why the order is impossible
    "before_inception": r"incept|open(?:ed|s)?\b|did(?: not|n't) exist|not exist|before (?:the|its) (?:book|portfolio|start)|created",
    "beyond_data": r"\bdata\b|beyond|future|after the (?:last|end)|last session|no (?:close|price|bar)|not (?:yet )?available|2018-12-31",
    "not_tradable": r"tradabl|tradeabl|not investable|closes? only|cannot be (?:traded|bought)|can't be (?:traded|bought)|index of volatility|\bvix\b",
    "unknown_ticker": r"unknown|not (?:a )?(?:known|valid|listed|recogni[sz]ed)|no such|does(?: not|n't) exist|not (?:in|on|part of) (?:the|our)|"
                      r"isn't (?:in|on|part of)|not available|not covered|no data",
}
BREACH_YES = re.compile(r"\b(?:breach(?:es|ed)?|exceed(?:s|ed)?|over (?:its|the) limit|violat\w*|above (?:its|the) (?:limit|cap))\b")
BREACH_NO = re.compile(NEGATION + r"(?:\s+\w+){0,3}\s+(?:breach\w*|exceed\w*|violat\w*)|\bwithin (?:all )?(?:its |the )?limits?"
                       r"|\b(?:all|every) limits? (?:are |is )?(?:ok|fine|respected|met|satisfied)|\bno limits?\b|\bbreach(?:es)?: none\b"
                       r"|\bcompliant\b|\bin compliance\b|\bunbreached\b")


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


def _report(initial, final, kind, portfolio_id, session):
    """A new report of ``kind`` for that book at that session: the figure came from the desk."""
    return [r for r in _new_rows(initial, final, "reports")
            if r["kind"] == kind and r["portfolio_id"] == portfolio_id and r["session"] == session]


def _called(initial, final, tool, **args):
    """A new successful call of ``tool`` whose arguments hold these values (strings compared
    without case or surrounding spaces)."""
    def same(a, b):
        return str(a).strip().lower() == str(b).strip().lower()

    for r in _new_rows(initial, final, "tool_calls"):
        if r["tool"] != tool or r["status"] != "ok":
            continue
        try:
            given = json.loads(r["arguments"])
        except ValueError:
            continue
        if all(k in given and same(given[k], v) for k, v in args.items()):
            return True
    return False


def _holdings(db, portfolio_id, session):
    """(shares by ticker, cash) of a book after its filled trades dated on or before ``session``."""
    book = db.rows("SELECT starting_cash FROM portfolios WHERE id = ?", (portfolio_id,))
    if not book:
        return None, None
    shares, cash = {}, book[0]["starting_cash"]
    for t in db.rows("SELECT * FROM trades WHERE portfolio_id = ? AND status = 'filled' AND session <= ?",
                     (portfolio_id, session)):
        sign = 1 if t["side"] == "buy" else -1
        shares[t["ticker"]] = shares.get(t["ticker"], 0) + sign * t["shares"]
        cash -= sign * t["amount"]
    return {k: v for k, v in shares.items() if v}, cash


def _weights_ok(shares, cash, exp_weights, prices, tolerance):
    """The holdings' weights of total value at the session's closes match the targets, and
    nothing outside the targets is held."""
    if shares is None or any(t not in exp_weights for t in shares) or any(t not in prices for t in shares):
        return False
    total = cash + sum(n * prices[t] for t, n in shares.items())
    if total <= 0:
        return False
    return all(abs(shares.get(t, 0) * prices[t] / total - w) <= tolerance[t] for t, w in exp_weights.items())


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
    value, kind, _ = token
    if fig.get("usd") is not None and kind in ("money", "plain") and abs(value) >= 1:
        if abs(value - abs(fig["usd"])) <= max(1.0, fig["rel"] * abs(fig["usd"])):
            return True
    if fig.get("frac") is not None and (kind == "pct" or (kind == "plain" and value < 1.5)):
        if abs(value - abs(fig["frac"])) <= fig["tol"]:
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


def _says_status(text, status):
    filled, rejected = bool(FILLED_RE.search(text)), bool(REJECTED_RE.search(text))
    return (filled and not rejected) if status == "filled" else rejected


def _says_breach(text):
    """True / False when the text says a limit is or is not breached, None when unclear."""
    no = bool(BREACH_NO.search(text))
    yes = bool(BREACH_YES.search(BREACH_NO.sub(" ", text)))
    return None if no == yes else yes


def _mentions(text, name):
    return re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", text) is not None


# --- the checks ----------------------------------------------------------------------
def _check_risk_figure(initial, final, answer, exp):
    return {
        "risk_report_logged": bool(_report(initial, final, "risk", exp["portfolio_id"], exp["session"])),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "figure_in_answer": _figure_answer(answer, exp["figure"], exp["distractors"]),
        "no_trades": _same(initial, final, "trades"),
    }


def _check_book_stat(initial, final, answer, exp):
    return {
        "risk_report_logged": bool(_report(initial, final, "risk", exp["portfolio_id"], exp["session"])),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "figure_in_answer": _figure_answer(answer, exp["figure"], exp["distractors"], signed=exp["figure"]["frac"] < 0),
        "no_trades": _same(initial, final, "trades"),
    }


def _check_book_value(initial, final, answer, exp):
    return {
        "book_marked": _called(initial, final, "get_portfolio", name=exp["portfolio"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "total_in_answer": _figure_answer(answer, exp["total"], exp["distractors"]),
        "pnl_in_answer": _signed(_plain(answer), exp["pnl"]),
        "no_trades": _same(initial, final, "trades"),
    }


def _check_period_return(initial, final, answer, exp):
    return {
        "performance_logged": bool(_report(initial, final, "performance", exp["portfolio_id"], exp["end_session"])),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "twr_in_answer": _signed(_plain(answer), exp["twr"]),
        "no_trades": _same(initial, final, "trades"),
    }


def _check_stress_loss(initial, final, answer, exp):
    runs = [r for r in _report(initial, final, "stress", exp["portfolio_id"], exp["session"])
            if json.loads(r["result"]).get("scenario") == exp["scenario"]]
    return {
        "stress_logged": bool(runs),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "pnl_in_answer": _signed(_plain(answer), exp["pnl"]),
        "no_trades": _same(initial, final, "trades"),
    }


def _new_book(initial, final, name):
    books = [b for b in _new_rows(initial, final, "portfolios") if b["name"] == name]
    return books[0] if len(books) == 1 else None


def _check_open_book(initial, final, answer, exp):
    book = _new_book(initial, final, exp["name"])
    return {
        "book_opened": book is not None and len(_new_rows(initial, final, "portfolios")) == 1,
        "cash": book is not None and abs(book["starting_cash"] - exp["cash"]) <= 0.01,
        "inception": book is not None and book["inception_date"] == exp["inception"],
        "no_trades": _same(initial, final, "trades"),
    }


def _check_set_book_limit(initial, final, answer, exp):
    rows = final.rows("SELECT metric, threshold FROM limits WHERE portfolio_id = ?", (exp["portfolio_id"],))
    limits = {r["metric"]: r["threshold"] for r in rows}
    changed = [r for r in final.rows("SELECT portfolio_id, metric, threshold FROM limits ORDER BY id")
               if r not in initial.rows("SELECT portfolio_id, metric, threshold FROM limits ORDER BY id")]
    return {
        "limit_set": abs(limits.get(exp["metric"], -1) - exp["threshold"]) <= 1e-9,
        "other_limits_kept": {m: v for m, v in limits.items() if m != exp["metric"]} == exp["others"],
        "only_this_limit_changed": len(changed) == 1,
        "no_trades": _same(initial, final, "trades"),
    }


def _fills(initial, final):
    return sorted([t["ticker"], t["side"], t["shares"], t["session"]] for t in _new_rows(initial, final, "trades")
                  if t["status"] == "filled")


def _check_buy_and_value(initial, final, answer, exp):
    book = _new_book(initial, final, exp["name"])
    trades = _new_rows(initial, final, "trades")
    return {
        "book_opened": book is not None and abs(book["starting_cash"] - exp["cash"]) <= 0.01
        and book["inception_date"] == exp["inception"],
        "trades_filled": book is not None and _fills(initial, final) == exp["fills"]
        and all(t["portfolio_id"] == book["id"] for t in trades if t["status"] == "filled"),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "total_in_answer": _figure_answer(answer, exp["total"]),
        "pnl_in_answer": _signed(_plain(answer), exp["pnl"]),
    }


def _check_limit_order(initial, final, answer, exp):
    limit = final.rows("SELECT threshold FROM limits WHERE portfolio_id = ? AND metric = 'max_position_weight'",
                       (exp["portfolio_id"],))
    orders = _new_rows(initial, final, "trades")
    mine = [o for o in orders if o["portfolio_id"] == exp["portfolio_id"] and o["ticker"] == exp["ticker"]
            and o["side"] == "buy" and o["shares"] == exp["shares"] and o["session"] == exp["session"]]
    return {
        "cap_set": bool(limit) and abs(limit[0]["threshold"] - exp["cap"]) <= 1e-9,
        "order_placed_once": len(orders) == 1 and len(mine) == 1,
        "desk_outcome": len(mine) == 1 and mine[0]["status"] == exp["status"],
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "outcome_reported": _says_status(_plain(answer), exp["status"]),
    }


def _check_riskiest_book(initial, final, answer, exp):
    text = _plain(answer)
    compared = all(_report(initial, final, "risk", pid, exp["session"]) for pid in exp["books"].values())
    named = [n for n in exp["books"] if _mentions(text, n)]
    lead = re.search(r"[^.;\n]*\b(?:highest|riskiest|largest|biggest|most|greatest|top|max\w*)\b[^.;\n]*", text)
    lead_names = sorted((text.index(n.lower(), lead.start()), n) for n in exp["books"]
                        if lead and _mentions(lead.group(), n)) if lead else []
    return {
        "every_book_measured": compared,
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "winner_named": (named == [exp["winner"]]) or (bool(lead_names) and lead_names[0][1] == exp["winner"]),
        "no_trades": _same(initial, final, "trades"),
    }


def _check_rebalance_to_target(initial, final, answer, exp):
    new = _new_rows(initial, final, "trades")
    shares, cash = _holdings(final, exp["portfolio_id"], exp["session"])
    return {
        "traded_at_the_session": bool(new) and all(t["portfolio_id"] == exp["portfolio_id"] and t["session"] == exp["session"]
                                                   for t in new if t["status"] == "filled"),
        "no_other_book_touched": all(t["portfolio_id"] == exp["portfolio_id"] for t in new),
        "weights_reached": _weights_ok(shares, cash, exp["targets"], exp["prices"], exp["tolerance"]),
    }


def _check_min_vol_book(initial, final, answer, exp):
    book = _new_book(initial, final, exp["name"])
    shares, cash = _holdings(final, book["id"], exp["session"]) if book else (None, None)
    return {
        "book_opened": book is not None and abs(book["starting_cash"] - exp["cash"]) <= 0.01
        and book["inception_date"] == exp["session"],
        "bought_at_the_session": book is not None and all(t["session"] == exp["session"] and t["side"] == "buy"
                                                         for t in _new_rows(initial, final, "trades") if t["status"] == "filled"),
        "weights_reached": _weights_ok(shares, cash, exp["weights"], exp["prices"], exp["tolerance"]),
    }


def _check_risk_review(initial, final, answer, exp):
    notes = [n for n in _new_rows(initial, final, "notes") if n["title"].strip() == exp["title"]]
    body = _plain(notes[0]["body"]) if len(notes) == 1 else ""
    return {
        "risk_report_logged": bool(_report(initial, final, "risk", exp["portfolio_id"], exp["session"])),
        "limits_checked": bool(_report(initial, final, "limits", exp["portfolio_id"], exp["session"])),
        "note_written": len(notes) == 1 and notes[0]["portfolio_id"] == exp["portfolio_id"],
        "var_in_note": len(notes) == 1 and bool([t for t in _tokens(body) if t[1] in ("money", "plain")
                                                 and _matches(t, {**exp["var"], "frac": None})]) and _concise(body),
        "verdict_in_note": len(notes) == 1 and _says_breach(body) is exp["breach"],
        "no_trades": _same(initial, final, "trades"),
    }


def _check_refuse_trade(initial, final, answer, exp):
    text = _plain(answer)
    tried = any(exp["ticker"].lower() in str(r["arguments"]).lower() or exp["book"].lower() in str(r["arguments"]).lower()
                for r in _new_rows(initial, final, "tool_calls"))
    return {
        "looked_or_tried": tried,
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 8),
        "refuses": bool(REFUSAL_RE.search(text)),
        "says_why": re.search(REFUSAL_REASON[exp["kind"]], text) is not None,
        "nothing_written": all(_same(initial, final, t) for t in ("trades", "positions", "portfolios", "limits")),
    }


CHECKS = {
    "risk_figure": _check_risk_figure,
    "book_stat": _check_book_stat,
    "book_value": _check_book_value,
    "period_return": _check_period_return,
    "stress_loss": _check_stress_loss,
    "open_book": _check_open_book,
    "set_book_limit": _check_set_book_limit,
    "buy_and_value": _check_buy_and_value,
    "limit_order": _check_limit_order,
    "riskiest_book": _check_riskiest_book,
    "rebalance_to_target": _check_rebalance_to_target,
    "min_vol_book": _check_min_vol_book,
    "risk_review": _check_risk_review,
    "refuse_trade": _check_refuse_trade,
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
        for table in ("portfolios", "positions", "trades", "limits", "notes", "reports"):
            facts[f"new_{table}"] = _new_rows(initial, final, table)[:50]
        return facts
    except Exception as exc:  # noqa: BLE001
        return {"expected": exp, "error": f"{type(exc).__name__}: {exc}"[:500]}
    finally:
        initial.close()
        final.close()
