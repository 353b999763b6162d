"""Tier 1 questions about one book: a risk figure, a statistic, its value, its return, a
stress loss. Each answer is checked against the desk's figure, tied to its label, and the
work must show in the state (the report or call the figure comes from)."""

from __future__ import annotations

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.portfolio_risk_01.analysis import STRESS_SCENARIOS
from phinance_env.desks.portfolio_risk_01.templates.world import REL_USD, TOL_FRAC, TOL_RATIO, money, spoken_date

CONF_TAG = {0.95: r"\b95(?:\.0+)?\s*(?:%|percent|pct|th)|\b0\.95\b", 0.99: r"\b99(?:\.0+)?\s*(?:%|percent|pct|th)|\b0\.99\b"}
METHOD_TAG = {"historical": r"historical|empirical|historic", "parametric": r"parametric|normal|gaussian|variance.covariance"}
MEASURE_TAG = {"var": r"\bvar\b|value.at.risk", "es": r"expected shortfall|\bes\b|cvar|shortfall|tail loss"}
MEASURE_SAID = {"var": "value at risk", "es": "expected shortfall"}


def figure(usd: float | None = None, frac: float | None = None, tol: float = TOL_FRAC) -> dict:
    """A figure the answer must state, in dollars or as a fraction/percentage."""
    return {"usd": usd, "frac": frac, "tol": tol, "rel": REL_USD}


class BookQuestion(Template):
    """A question about one seeded book at one session."""

    def dates(self, p):
        return [p["as_of"]]

    def draw_book(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        as_of = world.draw_session(rng, period, world.risk_start(book))
        if not world.books[book.name].holdings(as_of).tickers:
            raise Reject("no positions: the book holds only cash then")
        return book, as_of


class RiskFigure(BookQuestion):
    name = "risk_figure"
    tier = 1
    phrasings = (
        "What was the 1-day {conf_said} {method} {measure_said} of the '{book}' portfolio as of {as_of}, in dollars?",
        "For '{book}' on {when}: give me its one-session {method} {measure_said} at {conf_said} confidence, in USD.",
        "Risk check on '{book}' at the close of {as_of}: how big is its {conf_said} 1-day {method} {measure_said} in dollars?",
    )

    class Expected(Expected):
        portfolio_id: int
        session: str
        figure: dict
        distractors: list[dict]

    def words(self, p):
        return {**p, "conf_said": f"{p['confidence']:.0%}", "measure_said": MEASURE_SAID[p["measure"]],
                "when": spoken_date(p["as_of"])}

    def sample(self, rng, world, period):
        book, as_of = self.draw_book(rng, world, period)
        return {"book": book.name, "as_of": as_of, "measure": rng.choice(("var", "var", "es")),
                "method": rng.choice(("historical", "historical", "parametric")), "confidence": rng.choice((0.95, 0.99))}

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        rep = truth.risk(book.holdings(p["as_of"]), p["as_of"])
        tables = {"historical": rep.historical, "parametric": rep.parametric}

        def fig(method, conf, measure):
            tail = tables[method][conf]
            return figure(usd=getattr(tail, f"{measure}_usd"), frac=getattr(tail, measure))

        distractors = []
        for method in tables:
            for conf in (0.95, 0.99):
                for measure in ("var", "es"):
                    key = (method, conf, measure)
                    if key == (p["method"], p["confidence"], p["measure"]):
                        continue
                    tags = ([METHOD_TAG[method]] if method != p["method"] else []) + \
                           ([CONF_TAG[conf]] if conf != p["confidence"] else []) + \
                           ([MEASURE_TAG[measure]] if measure != p["measure"] else [])
                    distractors.append({**fig(*key), "tags": tags})
        return {"portfolio_id": book.id, "session": p["as_of"], "figure": fig(p["method"], p["confidence"], p["measure"]),
                "distractors": distractors}

    def _answer(self, p, fig):
        return (f"The 1-day {p['confidence']:.0%} {p['method']} {MEASURE_SAID[p['measure']]} of {p['book']} on "
                f"{p['as_of']} was {money(fig['usd'])}, {fig['frac']:.2%} of the book's value.")

    def oracle(self, p, exp):
        return Solution(calls=[_call("compute_risk", portfolio=p["book"], as_of_date=p["as_of"])],
                        answer=self._answer(p, exp["figure"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = next(d for d in exp["distractors"] if abs(d["usd"] - exp["figure"]["usd"]) > 0.01 * exp["figure"]["usd"])
        return {"other_figure": good.model_copy(update={"answer": self._answer(p, other)}),
                "no_report": Solution(calls=[_call("get_portfolio", name=p["book"], as_of_date=p["as_of"])], answer=good.answer)}


STATS = {  # stat -> (how it is said, field of the risk report, tolerance, tag)
    "volatility": ("annualised volatility", "annualised_volatility", TOL_FRAC, r"volatil|\bvol\b|sigma"),
    "beta": ("beta to the S&P 500", "beta", TOL_RATIO, r"\bbeta"),
    "drawdown": ("maximum drawdown", "max_drawdown", TOL_FRAC, r"drawdown|draw.down|peak.to.trough"),
}


class BookStat(BookQuestion):
    name = "book_stat"
    tier = 1
    phrasings = (
        "What was the {stat_said} of '{book}' over the 250 sessions ending {as_of}?",
        "Using the last 250 trading days up to {when}, what is the {stat_said} of the '{book}' book?",
        "Tell me the {stat_said} of '{book}' as of {as_of} (250-session window).",
    )

    class Expected(Expected):
        portfolio_id: int
        session: str
        figure: dict
        distractors: list[dict]

    def words(self, p):
        return {**p, "stat_said": STATS[p["stat"]][0], "when": spoken_date(p["as_of"])}

    def sample(self, rng, world, period):
        book, as_of = self.draw_book(rng, world, period)
        return {"book": book.name, "as_of": as_of, "stat": rng.choice(sorted(STATS))}

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        rep = truth.risk(book.holdings(p["as_of"]), p["as_of"])
        figs = {s: figure(frac=getattr(rep, f), tol=tol) for s, (_, f, tol, _) in STATS.items()}
        return {"portfolio_id": book.id, "session": p["as_of"], "figure": figs[p["stat"]],
                "distractors": [{**figs[s], "tags": [STATS[s][3]]} for s in STATS if s != p["stat"]]}

    def _answer(self, p, value):
        said = f"{value:.2f}" if p["stat"] == "beta" else f"{value:.2%}"
        return f"The {STATS[p['stat']][0]} of {p['book']} over the 250 sessions to {p['as_of']} was {said}."

    def oracle(self, p, exp):
        return Solution(calls=[_call("compute_risk", portfolio=p["book"], as_of_date=p["as_of"])],
                        answer=self._answer(p, exp["figure"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = max(exp["distractors"], key=lambda d: abs(d["frac"] - exp["figure"]["frac"]))
        return {"other_stat": good.model_copy(update={"answer": self._answer(p, other["frac"])}),
                "doubled": good.model_copy(update={"answer": self._answer(p, exp["figure"]["frac"] * 2 + 0.05)})}


class BookValue(BookQuestion):
    name = "book_value"
    tier = 1
    phrasings = (
        "What was the '{book}' portfolio worth at the close of {as_of}, and what was its P&L since inception?",
        "Mark '{book}' to market on {when}: total value and profit or loss since it opened?",
        "How much is '{book}' worth as of {as_of}, and how much has it made or lost since inception?",
    )

    class Expected(Expected):
        portfolio: str
        session: str
        total: dict
        pnl: dict
        distractors: list[dict]

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"])}

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        as_of = world.draw_session(rng, period, book.inception)
        return {"book": book.name, "as_of": as_of}

    def truth(self, p, truth):
        mark = truth.mark(truth.books[p["book"]].holdings(p["as_of"]), p["as_of"])
        return {"portfolio": p["book"], "session": str(mark.session), "total": figure(usd=mark.total_value),
                "pnl": figure(usd=mark.pnl, frac=mark.pnl_pct),
                "distractors": [{**figure(usd=mark.positions_value), "tags": [r"position|invested|holding|securit|stock|equit"]},
                                {**figure(usd=mark.cash), "tags": [r"\bcash"]}]}

    def _answer(self, p, total, pnl):
        word = "a profit" if pnl >= 0 else "a loss"
        return f"{p['book']} was worth {money(total)} on {p['as_of']}: {word} of {money(abs(pnl))} since inception."

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_portfolio", name=p["book"], as_of_date=p["as_of"])],
                        answer=self._answer(p, exp["total"]["usd"], exp["pnl"]["usd"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"positions_as_total": good.model_copy(update={"answer": self._answer(p, exp["distractors"][0]["usd"], exp["pnl"]["usd"])}),
                "wrong_sign": good.model_copy(update={"answer": self._answer(p, exp["total"]["usd"], -exp["pnl"]["usd"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class PeriodReturn(Template):
    name = "period_return"
    tier = 1
    phrasings = (
        "What was the time-weighted return of '{book}' from the close of {start} to the close of {end}?",
        "How did '{book}' perform between {start_said} and {end_said}? Give the time-weighted return.",
        "Give me the TWR of '{book}' over {start}..{end}.",
    )

    class Expected(Expected):
        portfolio_id: int
        end_session: str
        twr: dict

    def words(self, p):
        return {**p, "start_said": spoken_date(p["start"]), "end_said": spoken_date(p["end"])}

    def dates(self, p):
        return [p["start"], p["end"]]

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        days = world.sessions(period, book.inception)
        if len(days) < 30:
            raise Reject("no period: too few sessions")
        i = rng.randrange(len(days) - 21)
        j = min(len(days) - 1, i + rng.choice((21, 63, 126, 252, 504)))
        return {"book": book.name, "start": days[i], "end": days[j]}

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        v0 = truth.mark(book.holdings(p["start"]), p["start"]).total_value
        # trades fill at the close and there are no flows: the TWR is the value's growth
        v1 = truth.mark(book.holdings(p["end"]), p["end"]).total_value
        return {"portfolio_id": book.id, "end_session": p["end"], "twr": figure(frac=v1 / v0 - 1.0)}

    def _answer(self, p, twr):
        return f"{p['book']}'s time-weighted return from {p['start']} to {p['end']} was {twr:+.2%}."

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_performance", portfolio=p["book"], start=p["start"], end=p["end"])],
                        answer=self._answer(p, exp["twr"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_sign": good.model_copy(update={"answer": self._answer(p, -exp["twr"]["frac"] - 0.01)}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class StressLoss(BookQuestion):
    name = "stress_loss"
    tier = 1
    phrasings = (
        "If the {scenario_said} window ({first}..{last}) replayed on '{book}' as held on {as_of}, what would its P&L be?",
        "Stress '{book}' (as of {when}) with the {scenario} scenario: how much would it make or lose, in dollars and percent?",
        "How would '{book}', as it stood at the close of {as_of}, fare under the {scenario_said} stress window?",
    )

    class Expected(Expected):
        portfolio_id: int
        session: str
        scenario: str
        pnl: dict

    def words(self, p):
        first, last, what = STRESS_SCENARIOS[p["scenario"]]
        return {**p, "scenario_said": what, "first": first, "last": last, "when": spoken_date(p["as_of"])}

    def dates(self, p):
        first, last, _ = STRESS_SCENARIOS[p["scenario"]]
        return [p["as_of"], first, last]

    def sample(self, rng, world, period):
        book, as_of = self.draw_book(rng, world, period)
        names = [n for n, (first, last, _) in STRESS_SCENARIOS.items()
                 if first >= "2006-02-01" and (period is None or period.start.isoformat() <= first and last <= as_of)]
        if not names:
            raise Reject("no scenario: none inside the period before the as-of date")
        return {"book": book.name, "as_of": as_of, "scenario": rng.choice(names)}

    def truth(self, p, truth):
        from phinance_env.desks.portfolio_risk_01 import analysis

        book = truth.books[p["book"]]
        first, last, _ = STRESS_SCENARIOS[p["scenario"]]
        mark, lines = analysis.stress(truth.store, book.holdings(p["as_of"]), p["as_of"], first, last)
        pnl = sum(line.pnl for line in lines)
        return {"portfolio_id": book.id, "session": p["as_of"], "scenario": p["scenario"],
                "pnl": figure(usd=pnl, frac=pnl / mark.total_value)}

    def _answer(self, p, pnl, pct):
        word = "gain" if pnl >= 0 else "lose"
        return (f"Under {p['scenario']} {p['book']} (as of {p['as_of']}) would {word} {money(abs(pnl))}, "
                f"{abs(pct):.2%} of its value.")

    def oracle(self, p, exp):
        return Solution(calls=[_call("stress_test", portfolio=p["book"], scenario=p["scenario"], as_of_date=p["as_of"])],
                        answer=self._answer(p, exp["pnl"]["usd"], exp["pnl"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_sign": good.model_copy(update={"answer": self._answer(p, -exp["pnl"]["usd"], -exp["pnl"]["frac"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


TEMPLATES = (RiskFigure(), BookStat(), BookValue(), PeriodReturn(), StressLoss())
