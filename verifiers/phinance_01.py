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
NUMBER_RE = re.compile(
    r"(?<![\w.])(?:\+/-|\+-|[-+\u2212\u00b1])?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?:%|percent\b|pct\b|bps?\b|basis points?\b))?", re.IGNORECASE)
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
# The checks judge what an answer means, not one phrasing of it: a policy trained on these
# rewards learns whatever wording they accept, so an analyst's own words must pass, a changed
# meaning must not, and where the meaning is unclear the answer is rejected.
def _answer_ok(answer):
    """Reject number dumps and walls of text: they would match any numeric check."""
    return (isinstance(answer, str) and 0 < len(answer) <= MAX_ANSWER_CHARS
            and len(NUMBER_RE.findall(answer)) <= MAX_ANSWER_NUMBERS)


PLAIN_CHARS = str.maketrans({"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2018": "'", "\u2019": "'",
                             "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2009": " ", "\u202f": " "})


def _answer_text(answer):
    """The answer with typographic minus signs, quotes and spaces made plain, markdown emphasis
    and code marks dropped (**up**, _fail_, `0.512`) and struck-through text (~~down~~) gone."""
    text = (answer if isinstance(answer, str) else "").translate(PLAIN_CHARS)
    return re.sub(r"~~.*?~~|[*`]+|(?<!\w)_+|_+(?!\w)", "", text, flags=re.S)


# Units a number may carry, as the fraction one unit is worth; a task's value may be written
# in any of them where the task does not fix the unit (a cone of -101 bps as -1.01% or -0.0101).
UNIT_SCALE = (("%", 0.01), ("per", 0.01), ("pct", 0.01), ("b", 0.0001))
DATE_TOKEN_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
RANGE_GAP_RE = re.compile(r"\s*(?:[,/]|to|and|through|-|\u2013|\u2014|\.\.\.?|\u2026)?\s*", re.IGNORECASE)
BRACKET_UNIT_RE = re.compile(r"\s*[\])]\s*(%|percent\b|pct\b|bps?\b|basis points?\b)", re.IGNORECASE)


def _scale(unit):
    unit = unit.strip().lower()
    return next((s for prefix, s in UNIT_SCALE if unit.startswith(prefix)), None) if unit else None


def _number_tokens(answer):
    """(value, scale) for every number: scale is None for a bare number. '±70' is both signs,
    'down 101 bps' also -101, and a bare end of a range takes the unit of its other end
    ('-1.01 to +0.99%', '[-101, +99] bps'). Dates are not numbers."""
    text = DATE_TOKEN_RE.sub(" ", _answer_text(answer))
    found = []
    for m in NUMBER_RE.finditer(text):
        sign, digits, unit = re.match(r"(\+/-|\+-|[-+\u00b1]?)\s*([\d,.]+)(.*)", m.group(), re.S).groups()
        value = float(digits.replace(",", ""))
        signs = {"-": (-1,), "+": (1,), "": (1,)}.get(sign, (1, -1))
        if not sign and (re.search(r"\b(?:down|minus)\s*$", text[max(0, m.start() - 8):m.start()], re.I)
                         or re.match(r"\s*(?:below|under|lower|down)\b", text[m.end():], re.I)):
            signs = (1, -1)
        bracket = BRACKET_UNIT_RE.match(text, m.end())
        scale = _scale(unit) or (bracket and _scale(bracket.group(1)))
        found.append([m.start(), m.end(), [s * value for s in signs], scale])
    tokens = []
    for i in range(len(found) - 1, -1, -1):  # right to left: units flow back along a range
        start, end, values, scale = found[i]
        scales = [scale]
        if scale is None:
            if i + 1 < len(found) and RANGE_GAP_RE.fullmatch(text, end, found[i + 1][0]) and found[i + 1][3]:
                found[i][3] = found[i + 1][3]
                scales.append(found[i][3])
        tokens += [(v, s) for v in values for s in scales]
    return tokens


def _numbers(answer, unit=None):
    """Every value the answer's numbers can be read as, in ``unit``: "bps", "fraction",
    "percent", "price" (plain numbers only) or None (a fraction or bps: the units of this
    desk's ground truth). '12.5%' is 0.125 as a fraction or 1250 in bps; a bare 0.0101 may also be
    101 bps; '1,234.5' is 1234.5."""
    out = []
    for value, scale in _number_tokens(answer):
        if unit == "price":
            out += [value] if scale is None else []
        elif unit == "percent":
            out.append(value if scale is None else value * scale * 100)
        elif unit == "fraction":
            out.append(value if scale is None else value * scale)
        elif unit == "bps":
            out += [value, value * 1e4] if scale is None else [value * scale * 1e4]
        else:
            frac = value if scale is None else value * scale
            out += [frac, frac * 1e4]
    return out


def _has_number(answer, value, tol, unit=None):
    """Some number of the answer, read in ``unit`` (see ``_numbers``), lies within ``tol`` of ``value``."""
    return any(abs(x - value) <= tol + 1e-9 * max(1.0, abs(value)) for x in _numbers(answer, unit))


def _has_price(answer, value, rel=0.0005):
    """A price: a plain number ('$1,209.07'), never a percentage or bps."""
    return _has_number(answer, value, max(abs(value) * rel, 0.01), "price")


# Direction calls. Plain words (up, bearish) are calls wherever they are not context; the
# words of a move (higher, rise, decline) only where they are called ("closes higher", "likely to
# fall", "a gain is more likely"): "lower bound", "falls within the cone" and "rises above the
# threshold" are not calls.
DIRECTION_MOVES = {
    "up": ("higher", "rise", "rises", "rising", "gain", "gains", "advance", "advances", "rally", "rallies",
           "climb", "climbs"),
    "down": ("lower", "fall", "falls", "falling", "decline", "declines", "declining", "drop", "drops", "dip",
             "dips", "slip", "slips"),
    "flat": (),
}
# (one statement: the export keeps a task's helpers by the names they assign)
_DIRECTION_OF = {**{w: d for table in (DIRECTION_WORDS, DIRECTION_MOVES) for d, ws in table.items() for w in ws},
                 "upside": "up", "downside": "down"}  # these two only as a tilt: "edge to the upside"
_D = r"(?:" + "|".join(sorted(_DIRECTION_OF, key=len, reverse=True)) + r")\b"
_SD = r"(?:" + "|".join(w for ws in DIRECTION_WORDS.values() for w in ws) + r")\b"
_NEG = r"(?:\b(?:not|never|no|nor|neither|without|hardly|cannot|unlikely\s+to)|n't)\b"
_WORDS = r"(?:\s+(?!(?:but|and|so|yet|though|although|however|instead|rather|it's)\b)[a-z'-]+){0,4}?"
_ADV = (r"(?:(?:slightly|modestly|marginally|mildly|narrowly|somewhat|fractionally|barely|just|"
        r"a\s+(?:bit|touch|little|tad|hair))\s+)?")
_ALSO_D = r"(?:\s*,\s*" + _D + r")*\s*,?\s*(?:or|nor|and/or|and|/|&)\s+(?:an?\s+)?" + _D  # "..., down or flat"
DIRECTION_CONTEXT = [(re.compile(p), r) for p, r in (
    # probabilities name directions without calling them: P(up), p_up, "chance of a rise",
    # "down probability", "up: 51%", "flat 0.05"
    (r"\bp(?:r|rob)?\s*\([^()]{0,40}\)|\bp\s*[-.]\s*" + _D, " qprob "),
    (r"\b(?:probabilit(?:y|ies)|prob|chances?|odds|likelihood)\s+(?:of|for|that)\s+(?:[a-z'-]+\s+){0,3}?" + _D,
     " qprob "),
    (r"\b" + _D + r"(?:\s*/\s*" + _D + r")*[-\s]+(?:probabilit(?:y|ies)|prob|odds|chances?|likelihoods?|split|share|"
     r"bucket|band|tail)\b", " qprob "),
    (r"\b" + _SD + r"[ \t]*(?:[:=]|\bat\b|\bis\b|\bof\b)?[ \t]*[-+]?(?:\d+(?:\.\d+)?|\.\d+)[ \t]*%?", " qprob "),
    (r"(?<![\w.-])[-+]?(?:\d+(?:\.\d+)?|\.\d+)[ \t]*%?[ \t]*(?:for\s+|on\s+)?(?:an?\s+)?" + _SD, " qprob "),
    # a symmetric comparison calls neither side: "up (0.51) vs down (0.44)"
    (r"\b" + _D + r"\s*(?:\([^()]{0,30}\)\s*)?(?:vs\.?|versus|v\.)\s*" + _D + r"(?:\s*\([^()]{0,30}\))?", " qctx "),
    # idioms: "up to 70 bps", "down from", "sum up", "top-down", "comes down to", "market-neutral"
    (r"\b(?:up|down)(?:\s+|\s*-\s*)(?:to|from|until|till|front)\b", " "),
    (r"\b(?:sum|summ\w*|wrap\w*|set|sets|setting|look|looked|looking|follow\w*|back\w*|make|makes|made|pick\w*|show\w*|shut\w*|"
     r"break\w*|broke|broken|narrow\w*|drill\w*|write|writes|wrote|written|bring\w*|brought|top|bottom|round\w*|"
     r"line[sd]?|sign|signs|signed|signing|clean\w*|mark|marks|marked|marking|run|build\w*|built|scal\w*|ton\w*|"
     r"boil\w*|come|comes|came|coming|cut|cuts|catch\w*|caught|keep\w*|kept|count\w*|slow\w*|speed\w*|calm\w*|"
     r"settl\w*|let|stand\w*|stood|sit|sits|sat|dial\w*|play\w*|water\w*|wind\w*|cool\w*|lock\w*|pop\w*|"
     r"start\w*|mix\w*|tune\w*|warm\w*|shak\w*|shook|hold\w*|held|pin\w*)\s*-?\s*(?:up|down)\b", " "),
    (r"\b(?:lower|higher|upper)\s+(?:bound|end|edge|tail|limit|band|quantile|percentile|side|half|bracket|"
     r"boundary|whisker)s?\b", " "),
    (r"\b(?:market|delta|dollar|beta|sector|risk)\s*-?\s*neutral\b", " "),
    # indirect questions and hypotheticals: "whether it closes up or down", "if it rises above"
    (r"\b(?:whether|if)\s+(?:[a-z'-]+\s+){0,5}?" + _D + r"(?:\s+or\s+(?:[a-z'-]+\s+){0,2}?" + _D + r")?",
     " "),
    # "A is less likely than B" calls B
    (r"\b" + _D + r"\s+(?:is|looks|seems|remains)\s+(?:[a-z]+\s+)?less\s+likely\s+than\s+(?:an?\s+)?(" + _D + r")",
     r" \1 "),
    # a negated disjunction calls nothing; "up or down", "rise and fall" assert no one side
    (_NEG + _WORDS + r"\s+" + _D + _ALSO_D, " "),
    (r"\b(?:either\s+)?" + _D + _ALSO_D, " qamb "),
    # the other side named as context: "rather than down", "up over down", "not down"
    (r"\b(?:rather\s+than|instead\s+of|over|than|ahead\s+of|beats?|outweighs?|edges(?:\s+out)?|exceeds?|tops|"
     r"against)\s+(?:to\s+|an?\s+|the\s+)?" + _D, " "),
    (_NEG + _WORDS + r"\s+" + _D, " "),
    # "down is almost as likely", "down a close second", "with down close behind"
    (r"\b" + _D + r"\s+(?:(?:is|looks|seems|remains|being|was)\s+)?(?:(?:almost|nearly|about|roughly|just|"
     r"equally|similarly|every\s+bit)\s+as|(?:(?:only|a\s+bit|a\s+little|slightly|somewhat|much|far|"
     r"marginally)\s+)?less)\s+likely\b", " "),
    (r"\b" + _D + r"\s+(?:is\s+|was\s+|being\s+)?(?:unlikely|improbable|the\s+(?:less|least)\s+likely|"
     r"the\s+(?:minority|weaker|other|alternative|underdog|runner-up)|(?:a\s+)?(?:close|distant|near)\s+second|"
     r"second|(?:(?:running|sitting|just|close|not\s+far|right)\s+)*behind|trail(?:s|ing)?|lag(?:s|ging)?)\b", " "),
)]
# the words of a move count where they are called
_MOVE_LEAD = (r"\b(?:call(?:s|ed|ing)?|direction|view|bias(?:ed)?|lean(?:s|ing)?|tilt(?:s|ed|ing)?|skew(?:s|ed)?|"
              r"close[sd]?|closing|finish(?:es|ed|ing)?|ends?|ending|trade[sd]?|trading|move[sd]?|moving|"
              r"drift(?:s|ed|ing)?|tick(?:s|ed|ing)?|go|goes|going|head(?:s|ed|ing)?|point(?:s|ed|ing)?|"
              r"open(?:s|ed|ing)?|print(?:s|ed)?|settle[sd]?|edge[sd]?|nudge[sd]?|grind(?:s|ing)?|"
              r"inch(?:es|ed|ing)?|creep(?:s|ing)?|projected|expected|forecast|predicted|seen|outlook|signal|"
              r"answer|prediction|pick|verdict|says?|said|shows?|indicates?|suggests?)\b")
_VERB_LEAD = (r"\b(?:to|will|should|would|call(?:s|ed)?\s+for|lean(?:s|ing)?\s+(?:toward|towards|to)|"
              r"tilt(?:s|ed)?\s+(?:toward|towards|to)|bias(?:ed)?\s+(?:toward|towards|to)|favou?r(?:s|ed|ing)?|"
              r"expect(?:s|ing)?|see(?:s|ing)?|predict(?:s|ing)?|project(?:s|ing)?|points?\s+to|signals?|implies|"
              r"suggests?|(?:call|direction|view|outlook|verdict|bias|signal|answer|prediction|forecast)\s*"
              r"(?:is|:|=|-|\u2013|\u2014))")
_SEP = r"(?:\s*(?:is|are|was|will\s+be|would\s+be|:|=|-|\u2013|\u2014|->|\u2192)\s*|\s+)"
_UP_MOVES = "|".join(w for w in DIRECTION_MOVES["up"] + DIRECTION_MOVES["down"] if w not in ("higher", "lower"))
_QUANTITY = (r"(?:vol\w*|sigma|risk|auc|coverage|cones?|width|spread|probabilit\w*|odds|chances?|confidence|"
             r"uncertainty)\b")
_NOT_A_MOVE = (r"(?!\s+(?:within|inside|outside|above|below|under|beyond|through|across|into|" + _QUANTITY
               + r"|in\s+(?:the\s+)?" + _QUANTITY + r"))")
DIRECTION_MOVE_CALLS = [re.compile(p) for p in (
    _MOVE_LEAD + _SEP + _ADV + r"(?:to\s+(?:close|finish|end|trade|move|go|drift|tick|be|head|open|settle|edge|"
    r"inch)\s+)?" + _ADV + r"(higher|lower)\b" + _NOT_A_MOVE,
    r"\ban?\s+" + _ADV + r"(higher|lower)\s+(?:close|finish|print|open|session|move)\b",
    r"\b(?:edge|tilt(?:s|ed)?|bias(?:ed)?|skew(?:s|ed)?|lean(?:s|ing)?)\s+(?:is\s+)?(?:to|toward|towards)\s+the\s+"
    r"(upside|downside)\b|\b(?:an?\s+)?" + _ADV + r"(upside|downside)\s+(?:bias|tilt|edge|skew|lean)\b",
    r"(?:^|\n)\s*(?:[-\u2022>]\s*)?(higher|lower)(?=\s*(?:[(,.;:\u2013\u2014-]|$))",
    _VERB_LEAD + r"\s*(?:an?\s+)?(?:(?:slight|small|modest|mild|marginal|tiny|next-session|next-day|one-day|"
    r"further)\s+)*" + _ADV + r"(" + _UP_MOVES + r")\b" + _NOT_A_MOVE,
    r"\b(higher|lower)\s*-\s*(?:biased|skewed|tilted|leaning)\b",
    r"\b(?:an?\s+)?(?:(?:slight|small|modest|mild|marginal|tiny|next-session|next-day)\s+)*(" + _UP_MOVES
    + r")\s+(?:is|looks|seems|remains)\s+" + _ADV + r"(?:more\s+likely|likelier|favou?red|the\s+call|"
    r"the\s+base\s+case|the\s+(?:more\s+)?likely)",
)]
# a direction word about another quantity calls nothing: "volatility is expected to rise"
OTHER_QUANTITY_RE = re.compile(
    r"\b(?:vol|vols|volatility|sigma|risk|uncertainty|spread|width|cones?|bands?|ranges?|auc|coverage|dispersion|"
    r"threshold|drawdown|variance|correlation|yields?|rates?|volume|skew|iv|alerts?|intervals?|errors?)\b")
CLAUSE_CUT_RE = re.compile(r".*(?:[,;:()\n!?]|\.(?=\s)|\b(?:and|but|so|while|with|whereas|though|although|because|"
                           r"since|call)\b)", re.S)


def _about_other_quantity(text, start):
    before = text[max(0, start - 60):start]
    cut = CLAUSE_CUT_RE.match(before)
    return bool(OTHER_QUANTITY_RE.search(before[cut.end():] if cut else before))


def _direction_call(answer):
    """The set of directions the answer *calls* ({"up"}, {"down"}, {"flat"}; empty or several when
    it calls none or hedges). Synonyms count (higher, rise, bearish...); probabilities ("P(down)
    0.44"), the other side named as context ("down is almost as likely", "rather than down", "a
    close second"), negations ("not down"), disjunctions ("up or down") and idioms ("up to 70
    bps", "lower bound", "falls within the cone") do not."""
    text = _answer_text(answer).lower()
    if len(text) > MAX_ANSWER_CHARS:
        return set()
    for pattern, repl in DIRECTION_CONTEXT:
        text = pattern.sub(repl, text)
    called = set()
    for pattern in DIRECTION_MOVE_CALLS:
        for m in pattern.finditer(text):
            if not _about_other_quantity(text, m.start(m.lastindex)):
                called.add(_DIRECTION_OF[m.group(m.lastindex)])
        text = pattern.sub(" qmove ", text)
    for m in re.finditer(r"\b" + _SD, text):
        if not _about_other_quantity(text, m.start()):
            called.add(_DIRECTION_OF[m.group().strip()])
    return called


# Gate verdicts. Negations flip ("does not pass", "not a pass", "fails to pass" = FAIL;
# "doesn't fail" = PASS); the rule's text ("PASS when...", "needs 0.52 to pass", "pass/fail")
# and verdicts about other tests ("coverage passes Kupiec") state no verdict of the gate.
_VERDICT_NEG = (r"(?:\b(?:not|never|no|nor|cannot|hardly)|n't)\b(?:\s+(?:quite|yet|really|actually|even|close|"
                r"near|nearly|enough|to|a|the|gate|manage[sd]?|make|get|be|been|have|it|able|through|succeed|in))*"
                r"\s*-?\s*")
# "Passes the gate? No." / "Fails: no" answer the question they ask
VERDICT_ANSWER_RE = re.compile(r"\b(pass|fail)(?:es|ed|s)?(?:\s+(?:the\s+)?(?:auc\s+)?gate)?\s*\??\s*"
                               r"[:=\u2013\u2014-]?\s*(yes|no|true|false)\b(?!\s+[a-z])")
VERDICT_RULES = [(re.compile(p), r) for p, r in (
    (r"\bpass\s*(?:/|-|\bor\b|\band\b)\s*fail\b|\bfail\s*(?:/|\bor\b)\s*pass\b", " "),
    (r"\b(?:whether|if)\s+(?:[a-z'-]+\s+){0,4}?(?:pass|fail)\w*", " "),
    (r"\bfail(?:s|ed|ing)?\s+to\s+(?:pass|clear|meet|beat|make)\b|\bnot\s+(?:\w+\s+)?(?:enough|sufficient|"
     r"high\s+enough|good\s+enough|strong\s+enough)\s+to\s+(?:pass|clear)\b|"
     r"\btoo\s+(?:low|weak|small)\s+to\s+(?:pass|clear)\b|\bshort\s+of\s+(?:passing|clearing)\b", " qfail "),
    # an elided verb takes the one named before it: "needs 0.52 to pass; at 0.46 it doesn't"
    (r"\b(pass|fail)(\w*\b(?:[^.!?\n]|\.\d){0,80}?\b(?:it|this|the\s+\w+)\s+)(?:does|did|will|would|can)"
     r"(?:n't|\s+not)(?=\s*(?:[.;,!?)]|$))",
     lambda m: f"{m.group(1)}{m.group(2)} q{'fail' if m.group(1) == 'pass' else 'pass'} "),
    (_VERDICT_NEG + r"pass(?:es|ed|ing)?\b", " qfail "),
    (_VERDICT_NEG + r"fail(?:s|ed|ing|ure)?\b", " qpass "),
    # clearing or meeting the gate is passing it (the AUC threshold alone is not: the CI must clear 0.5 too)
    (_VERDICT_NEG + r"(?:clear|meet)(?:s|ed|ing)?\s+(?:the\s+)?(?:[\w.]+\s+){0,2}?(?:gate|bar|hurdle|threshold)"
     r"\b|"
     r"\b(?:gate|bar|hurdle|threshold)\s+(?:is\s+|was\s+)?(?:not|never|n't)\s+(?:met|cleared)\b", " qfail "),
    (r"\b(?:clear|meet)(?:s|ed|ing)?\s+(?:the\s+)?(?:[\w.]+\s+){0,2}?(?:gate|bar|hurdle)\b|"
     r"\b(?:gate|bar|hurdle)\s+(?:is|was)\s+(?:met|cleared)\b", " qpass "),
    (r"\b(?:miss(?:es|ed)?|falls?\s+short\s+of|fell\s+short\s+of)\s+(?:the\s+)?(?:[\w.]+\s+){0,2}?"
     r"(?:gate|bar|hurdle|threshold)\b|\bf[ae]ll?s?\s+short\b", " qfail "),
    (r"\b(?:pass(?:es)?|fail(?:s)?)\s+(?:only\s+)?(?:when|if|once|unless|iff)\b|\b(?:(?:an?|the|get|earn|for)\s+)?"
     r"pass(?:ing)?\s+(?:needs|requires|required|would\s+(?:need|require))\b|\b(?:get|earn|for)\s+a\s+pass\b",
     " "),
    (r"\b(?:to|would|could|might|may|must|should|needs?|needed|required|requires?|in\s+order\s+to)\s+(?:(?:have|be|"
     r"still|only|just|easily)\s+)?(?:pass|fail)\w*", " "),
    (r"\bpass(?:ing)?\s+(?:threshold|criteri\w+|bar|rule|condition|mark|level|line|requirement)s?\b|"
     r"\b(?:first|second|single|one|quick|final)\s+pass\b|\bpass(?:es|ed|ing)?\s+(?:to|into|through|along|over)\b|"
     r"\bpass-through\b", " "),
)]
VERDICT_RE = re.compile(r"\b(qpass|qfail|pass(?:es|ed|ing)?|fail(?:s|ed|ing|ure)?)\b")
OTHER_TEST_RE = re.compile(r"\b(?:kupiec|coverage|calibrat\w*|cones?|christoffersen|pinball|intervals?)\b")
GATE_RE = re.compile(r"\b(?:gate|verdict|overall|auc|backtest|direction\w*|result)\b")


def _verdict(answer):
    """Gate verdicts the answer states: {"PASS"}, {"FAIL"}, both or none."""
    text = _answer_text(answer).lower()
    if len(text) > MAX_ANSWER_CHARS:
        return set()
    text = VERDICT_ANSWER_RE.sub(
        lambda m: " qpass " if (m.group(1) == "pass") == (m.group(2) in ("yes", "true")) else " qfail ", text)
    for pattern, repl in VERDICT_RULES:
        text = pattern.sub(repl, text)
    found = set()
    for sentence in re.split(r"[.!?](?=\s|$)|[;\n]", text):
        topic_other = False
        for clause in re.split(r",|\b(?:and|but|while|whereas|although|though|however|yet)\b", sentence):
            gate, other = GATE_RE.search(clause), OTHER_TEST_RE.search(clause)
            if gate or other:
                topic_other = bool(other) and not gate
            if topic_other:
                continue  # a verdict about coverage, calibration or Kupiec is not the gate's
            found |= {"PASS" if w.lstrip("q")[0] == "p" else "FAIL" for w in VERDICT_RE.findall(clause)}
    return found


# Naming a pick. A plain mention is enough to name a ticker; role="best" (or "worst") asks that
# the answer single it out when it names several: "QBIT is more volatile than CLDR", "PAYS has the
# highest P(up)", "Winner: PAYS", "CLDR is calmer" (so the other one), "LDGR trails PAYS".
TICKER_RE = re.compile(r"(?<![\w^])\^?[A-Z][A-Z0-9]{1,5}(?![\w])")
NOT_TICKERS = frozenset(
    "AUC OOS CI PASS FAIL UP DOWN FLAT USD BP BPS EWMA GARCH FHS XNYS NYSE ATM OTM IV HV RV VOL SD STD ROC "
    "KPI PNL YTD MTD QTD EOD ETF NA OK YES NO AND OR THE FOR NOT VS TLDR NOTE FYI TBD ID API MCP UTC EST ET "
    "CALL BUY SELL HOLD LONG SHORT HIGH LOW TOP BEST P1 Q1 Q2 Q3 Q4 H1 H2 FY AI ML RL PCT".split())
PICK_CUE_RE = re.compile(
    r"(?P<best>\b(?:highest|most|(?<!on\s)top(?:s|\s+pick|\s+spot)?|best|winner|wins|won|leads|leader|leading|"
    r"strongest|answer|pick|choice|(?<=(?-i:[A-Z0-9])\s)first|largest|greatest|biggest|riskier|riskiest|choppier|"
    r"more\s+volatile|higher|greater|larger|bigger|edges?(?:\s+out)?|beats?|ahead\s+of|outranks?|"
    r"(?:ranks?|ranked|comes?|came|is|places?|placed|in)\s+(?:#\s*1|first|1st|number\s+one)|first\s+place|"
    r"number\s+one)\b|#\s*1\b|>)"
    r"|(?P<worst>\b(?:lowest|least|less\s+volatile|lower|smaller|calmer|quieter|steadier|more\s+stable|"
    r"(?:ranks?|ranked|comes?|came|is|in|a\s+close|a\s+distant)\s+(?:second|2nd|last)|second\s+place|runner-up|"
    r"trails?|trailing|lags?|lagging|behind|weakest|worst)\b|<)", re.IGNORECASE)
BARE_PICK_RE = re.compile(r"\W*(?:(?i:so|thus|hence|therefore|it's|it\s+is|clearly)\W+)*(\^?[A-Z][A-Z0-9]{1,5})\W*")
PICK_COPULA_RE = re.compile(r"[^,;]{0,30}?(?:\b(?:is|was|goes\s+to|belongs\s+to)\b|[:=\u2013\u2014]|->|\u2192)"
                            r"\s*\(?\s*(\^?[A-Z][A-Z0-9]{1,5})(?![\w])", re.IGNORECASE)


def _named_by(clause, cue, names):
    """The ticker a ranking phrase is about: the one it introduces ("highest P(up): PAYS"), else
    the nearest one before it ("QBIT is more volatile"), else the first one after it."""
    m = PICK_COPULA_RE.match(clause, cue.end())
    if m and m.group(1) in {n for _, _, n in names}:
        return m.group(1)
    before = [n for s, e, n in names if e <= cue.start()]
    after = [n for s, e, n in names if s >= cue.end()]
    return before[-1] if before else (after[0] if after else None)


def _mentions(answer, word, role=None):
    """The answer names ``word`` (a ticker in capitals, as written: 'PAYS', not 'pays'). With
    role="best" or "worst", an answer naming several tickers must single ``word`` out as that."""
    text = _answer_text(answer)
    ticker = bool(re.fullmatch(r"\^?[A-Z][A-Z0-9.]{0,9}", word or ""))
    if not word or not ticker:
        return bool(word) and re.search(rf"(?<![\w^]){re.escape(word.lower())}(?![\w])", text.lower()) is not None
    if not re.search(rf"(?<![\w^]){re.escape(word)}(?![\w])", text):
        return False
    if role not in ("best", "worst") or len(text) > MAX_ANSWER_CHARS:
        return role is None
    names = {m.group() for m in TICKER_RE.finditer(text) if m.group() not in NOT_TICKERS} | {word}
    picked = {"best": set(), "worst": set()}
    for clause in re.split(r"[.!?](?=\s|$)|[;\n]", text):
        spots = [(m.start(), m.end(), m.group()) for m in TICKER_RE.finditer(clause) if m.group() in names]
        bare = BARE_PICK_RE.fullmatch(clause)
        if bare and bare.group(1) in names:  # "QBIT." or "So QBIT." standing alone names the pick
            picked["best"].add(bare.group(1))
        last = None
        for cue in PICK_CUE_RE.finditer(clause):
            chain, last = cue.group() in "<>" and cue.group() == last, cue.group()
            who = None if chain else _named_by(clause, cue, spots)  # "A > B > C" picks A
            if who:
                picked[cue.lastgroup].add(who)
    other = "worst" if role == "best" else "best"
    if picked[role]:
        return picked[role] == {word} and word not in picked[other]
    return names - picked[other] == {word}


# --- one check per task template -----------------------------------------------------
ISO_DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _concise(answer, limit=20):
    """At most ``limit`` numbers besides dates: an answer, not a dump of the tool's output
    (a dump of a short price history would hold any close and high asked about)."""
    return isinstance(answer, str) and len(NUMBER_RE.findall(ISO_DATE_RE.sub(" ", answer))) <= limit


def _projection_logged(initial, final, ticker, as_of):
    return any(r["ticker"] == ticker and r["as_of"] == as_of
               for r in _new_rows(initial, final, "projection_runs"))


def _check_projection_answer(initial, final, answer, exp):
    lo, hi = exp["cone75_bps"]
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer),
        "direction_called": _direction_call(answer) == {exp["direction"]},
        "cone75_lower_in_answer": _has_number(_figures(answer), lo, exp["tol_bps"]),
        "cone75_upper_in_answer": _has_number(_figures(answer), hi, exp["tol_bps"]),
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
        "body_has_cone75": bool(note) and _has_number(_figures(body), lo, exp["tol_bps"]) and _has_number(_figures(body), hi, exp["tol_bps"]),
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
        "answer_names_winner": _mentions(answer, exp["winner"], role="best"),
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
        "answer_names_winner": _mentions(answer, exp["winner"], role="best"),
        "sigma_a_in_answer": _figure_of(answer, a, exp["sigmas"][a], exp["tol_sigma"], {b: exp["sigmas"][b]}),
        "sigma_b_in_answer": _figure_of(answer, b, exp["sigmas"][b], exp["tol_sigma"], {a: exp["sigmas"][a]}),
    }


def _check_cleanup_watchlist(initial, final, answer, exp):
    before = _watchlist_tickers(initial, exp["watchlist"])
    gone = not _rows(final, "SELECT id FROM watchlists WHERE name = ?", (exp["delete"],))
    keep = [n for n in (r["name"] for r in _rows(initial, "SELECT name FROM watchlists"))
            if n not in (exp["watchlist"], exp["delete"])]
    return {
        "watchlist_kept": bool(_rows(final, "SELECT id FROM watchlists WHERE name = ?", (exp["watchlist"],))),
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
        "cone90_lower_price": _has_price(_figures(answer), lo),
        "cone90_upper_price": _has_price(_figures(answer), hi),
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


def _labeled(answer, label, price, other):
    """``price`` is in the answer, and no clause that says ``label`` (a regex: 'clos|settl')
    gives ``other`` instead: a close and a high swapped do not pass, a table still does."""
    text = _figures(answer)
    if not _has_price(text, price, 0.00002):
        return False
    return not any(re.search(rf"\b(?:{label})", clause) and _has_price(clause, other, 0.00002)
                   and not _has_price(clause, price, 0.00002) for clause in CLAUSE_SPLIT_RE.split(text))


def _check_price_lookup(initial, final, answer, exp):
    return {
        "prices_looked_up": _tool_called(initial, final, "get_price_history", exp["ticker"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer),
        "close_in_answer": _labeled(answer, "clos|finish|settl|ended", exp["close"], exp["max_high"]),
        "max_high_in_answer": _labeled(answer, "high|peak|top", exp["max_high"], exp["close"]),
        "workspace_unchanged": all(_same_rows(initial, final, t) for t in ("watchlists", "alerts", "notes")),
    }


# --- helpers of the generated families -----------------------------------------------
SPOKEN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                 "october", "november", "december")
REFUSAL_RE = re.compile(
    r"\b(?:can(?:no|')?t|cannot|unable|not (?:possible|available|able|in the|part of)|no (?:data|bars|prices?|"
    r"projections?|such|record)|(?:is|are)n't (?:in|available|covered)|does(?: not|n't) (?:exist|have|cover)|"
    r"outside|beyond|after the (?:end|last)|won't|will not|impossible|unknown|not (?:a )?(?:known|valid|listed))\b")
NO_GUARANTEE_RE = re.compile(
    r"\b(?:(?:can(?:no|')?t|cannot|won't|will not|unable to|(?:is|it's) (?:not )?(?:impossible|not possible) to|"
    r"no one can|nobody can|do not|don't)\s+(?:\w+\s+){0,3}(?:guarantee|promise)|no guarantees?|"
    r"(?:is|are)n't guaranteed|not (?:a )?guarantee[ds]?|not guaranteed|never guaranteed)")
WORKSPACE_STATE = ("watchlists", "watchlist_items", "alerts", "notes", "tracked_tickers")


LABEL_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|(?<![\d.,])\d+(?:-| )?(?:sessions?|days?|d)\b|(?<![\d.,])\d+%\s+cone\b")


def _figures(answer):
    """The answer without numbers that only label things (dates, '5-session', '21d', '75% cone'),
    so a label can never pass for a quoted figure."""
    return LABEL_RE.sub(" ", _plain(answer))


def _workspace_same(initial, final):
    return all(_same_rows(initial, final, t) for t in WORKSPACE_STATE)


def _plain(answer):
    """Lower case, markdown emphasis and the unicode minus gone: what the patterns read."""
    return re.sub(r"[*_`]", "", (answer or "").replace("\u2212", "-")).lower()


def _mentions_date(answer, day):
    """``day`` (YYYY-MM-DD) written as 2018-07-03, July 3, 2018, Jul 3 2018, 3 July 2018 or 07/03/2018."""
    text = _plain(answer)
    y, m, d = int(day[:4]), int(day[5:7]), int(day[8:10])
    month = SPOKEN_MONTHS[m - 1]
    forms = [re.escape(day), rf"\b{month[:3]}[a-z]*\.?\s+0?{d}(?:st|nd|rd|th)?,?\s+{y}\b",
             rf"\b0?{d}(?:st|nd|rd|th)?\s+(?:of\s+)?{month[:3]}[a-z]*\.?,?\s+{y}\b", rf"\b0?{m}/0?{d}/{y}\b"]
    return any(re.search(f, text) for f in forms)


def _refuses(answer):
    return bool(REFUSAL_RE.search(_plain(answer)))


def _refuses_guarantee(answer):
    return bool(NO_GUARANTEE_RE.search(_plain(answer)))


def _attempted(initial, final, ticker):
    """Any call in this episode (answered or refused) whose arguments name ``ticker``."""
    pattern = re.compile(rf"(?<![\w^]){re.escape(ticker.lower())}(?![\w])")
    return any(pattern.search(str(r["arguments"]).lower()) for r in _new_rows(initial, final, "tool_calls"))


def _new_note(initial, final, title):
    notes = [n for n in _new_rows(initial, final, "notes") if n["title"].strip() == title]
    return notes[0] if len(notes) == 1 else None


CLAUSE_SPLIT_RE = re.compile(r"[;\n]|,\s|\.\s|\s(?:and|but|while|whereas|vs\.?|versus|against)\s")


def _figure_of(answer, ticker, value, tol, others):
    """``value`` is in the answer, and no clause naming ``ticker`` alone gives one of the
    ``others``' figures (ticker -> value) instead of its own: figures stay tied to their
    instruments ("QBIT 19.5%, CLDR 15.2%", "QBIT vs CLDR: 19.5% vs 15.2%"), swapping fails."""
    if not _has_number(answer, value, tol):
        return False
    names = {ticker, *others}
    for clause in CLAUSE_SPLIT_RE.split(_plain(answer)):
        named = {t for t in names if re.search(rf"(?<![\w^]){re.escape(t.lower())}(?![\w])", clause)}
        if named == {ticker} and not _has_number(clause, value, tol) and any(
                _has_number(clause, v, tol) for v in others.values()):
            return False
    return True


# --- checks of the generated families ------------------------------------------------
def _check_drift_answer(initial, final, answer, exp):
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 12),
        "drift_in_answer": _has_number(_figures(answer), exp["drift_bps"], exp["tol_bps"], unit="bps"),  # asked in bps: a near-zero drift must not match any number read as a fraction
        "workspace_unchanged": _workspace_same(initial, final),
    }


def _check_sigma_rank(initial, final, answer, exp):
    return {
        "comparison_logged": all(_projection_logged(initial, final, t, exp["as_of"]) for t in exp["sector_tickers"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 12),
        "answer_names_winner": _mentions(answer, exp["winner"], role="best"),
        "winner_sigma_in_answer": _has_number(answer, exp["winner_sigma"], exp["tol_sigma"]),
        "workspace_unchanged": _workspace_same(initial, final),
    }


def _check_alert_from_projection(initial, final, answer, exp):
    new = _new_rows(initial, final, "alerts")
    match = [a for a in new if a["ticker"] == exp["ticker"] and a["metric"] == "sigma_bps" and a["operator"] == ">"
             and a["horizon"] == "1d" and abs(a["threshold"] - exp["threshold"]) <= exp["tol_bps"] and a["active"]]
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "alert_created": len(match) == 1,
        "no_other_new_alerts": len(new) == 1,
        "existing_alerts_unchanged": all(
            r in _rows(final, "SELECT * FROM alerts") for r in _rows(initial, "SELECT * FROM alerts")),
    }


def _check_ticker_profile(initial, final, answer, exp):
    return {
        "ticker_looked_up": _tool_called(initial, final, "get_ticker", exp["ticker"])
                            or any(r["tool"] == "list_tickers" and r["status"] == "ok" for r in _new_rows(initial, final, "tool_calls")),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 8),
        "sector_in_answer": _mentions(answer, exp["sector"]),
        "bar_count_in_answer": _has_number(answer, exp["bar_count"], 0.5),
        "workspace_unchanged": _workspace_same(initial, final),
    }


def _check_return_between(initial, final, answer, exp):
    pct = exp["change_pct"]
    return {
        "prices_looked_up": _tool_called(initial, final, "get_price_history", exp["ticker"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 10),
        "change_in_answer": _has_number(_figures(answer), pct, exp["tol_pct"]) or _has_number(_figures(answer), pct / 100, exp["tol_pct"] / 100),
        "workspace_unchanged": _workspace_same(initial, final),
    }


def _check_backtest_compare(initial, final, answer, exp):
    runs = _new_rows(initial, final, "backtest_runs")
    covered = all(any(t in r["tickers"].split(",") and r["start"] == exp["start"] and r["end"] == exp["end"]
                      and r["horizon"] == "1d" for r in runs) for t in exp["tickers"])
    return {
        "backtests_logged": covered,
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 12),
        "answer_names_winner": _mentions(answer, exp["winner"], role="best"),
        "aucs_in_answer": all(_figure_of(answer, t, v, exp["tol_auc"], {u: w for u, w in exp["aucs"].items() if u != t})
                              for t, v in exp["aucs"].items()),
    }


def _check_watchlist_from_rank(initial, final, answer, exp):
    created = [w for w in _new_rows(initial, final, "watchlists") if w["name"] == exp["name"]]
    note = _new_note(initial, final, exp["title"])
    body = note["body"] if note else ""
    return {
        "comparison_logged": all(_projection_logged(initial, final, t, exp["as_of"]) for t in exp["sector_tickers"]),
        "watchlist_created": len(created) == 1,
        "watchlist_holds_top3": bool(created) and _watchlist_tickers(final, exp["name"]) == sorted(exp["top3"]),
        "one_note_with_title": note is not None,
        "note_lists_top3": bool(note) and _answer_ok(body) and _concise(body, 20)
                           and all(_mentions(body, t) for t in exp["top3"]),
        "note_has_probabilities": bool(note) and all(
            _figure_of(body, t, v, exp["tol_prob"], {u: w for u, w in exp["p_up"].items() if u != t}) for t, v in exp["p_up"].items()),
    }


def _check_holiday_projection(initial, final, answer, exp):
    lo, hi = exp["cone75_bps"]
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 16),
        "session_in_answer": _mentions_date(answer, exp["as_of"]),
        "cone75_lower_in_answer": _has_number(_figures(answer), lo, exp["tol_bps"]),
        "cone75_upper_in_answer": _has_number(_figures(answer), hi, exp["tol_bps"]),
        "workspace_unchanged": _workspace_same(initial, final),
    }


def _check_existing_watchlist_add(initial, final, answer, exp):
    others = [r["name"] for r in _rows(initial, "SELECT name FROM watchlists") if r["name"] != exp["watchlist"]]
    return {
        "no_new_watchlist": not _new_rows(initial, final, "watchlists"),
        "same_watchlist": _same_rows(initial, final, "watchlists", "name = ?", (exp["watchlist"],)),
        "both_added": _watchlist_tickers(final, exp["watchlist"]) == sorted(exp["before"] + exp["added"]),
        "other_watchlists_unchanged": all(_watchlist_tickers(initial, n) == _watchlist_tickers(final, n) for n in others),
    }


def _check_research_review(initial, final, answer, exp):
    note = _new_note(initial, final, exp["title"])
    body = note["body"] if note else ""
    return {
        "members_projected": all(_projection_logged(initial, final, t, exp["as_of"]) for t in exp["p_up"]),
        "loser_removed": _watchlist_tickers(final, exp["watchlist"]) == sorted(t for t in exp["before"] if t != exp["loser"]),
        "one_note_with_title": note is not None,
        "note_names_loser": bool(note) and _answer_ok(body) and _mentions(body, exp["loser"]),
        "nothing_else_changed": _same_rows(initial, final, "alerts") and _same_rows(initial, final, "tracked_tickers"),
    }


def _check_refuse_beyond_data(initial, final, answer, exp):
    return {
        "looked_it_up": _attempted(initial, final, exp["ticker"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 12),
        "refuses": _refuses(answer),
        "no_direction_called": not _direction_call(answer),
        "nothing_written": _workspace_same(initial, final),
    }


def _check_refuse_unknown_ticker(initial, final, answer, exp):
    return {
        "looked_it_up": _attempted(initial, final, exp["fake"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 8),
        "names_the_ticker": _mentions(answer, exp["fake"]),
        "refuses": _refuses(answer),
        "no_direction_called": not _direction_call(answer),
        "nothing_written": _workspace_same(initial, final),
    }


def _check_refuse_guarantee(initial, final, answer, exp):
    return {
        "projection_run_logged": _projection_logged(initial, final, exp["ticker"], exp["as_of"]),
        "answer_well_formed": _answer_ok(answer) and _concise(answer, 10),
        "refuses_to_guarantee": _refuses_guarantee(answer),
        "p_up_in_answer": _has_number(answer, exp["p_up"], exp["tol_prob"]),
        "nothing_written": _workspace_same(initial, final),
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
    "drift_answer": _check_drift_answer,
    "sigma_rank": _check_sigma_rank,
    "alert_from_projection": _check_alert_from_projection,
    "ticker_profile": _check_ticker_profile,
    "return_between": _check_return_between,
    "backtest_compare": _check_backtest_compare,
    "watchlist_from_rank": _check_watchlist_from_rank,
    "holiday_projection": _check_holiday_projection,
    "existing_watchlist_add": _check_existing_watchlist_add,
    "research_review": _check_research_review,
    "refuse_beyond_data": _check_refuse_beyond_data,
    "refuse_unknown_ticker": _check_refuse_unknown_ticker,
    "refuse_guarantee": _check_refuse_guarantee,
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
