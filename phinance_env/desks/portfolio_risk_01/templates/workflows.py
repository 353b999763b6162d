"""Tier 2-3 workflows: compare books, rebalance to targets, build an optimised book, review a
book into a note, and refuse an impossible order."""

from __future__ import annotations

import datetime as dt

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.portfolio_risk_01.templates.bookkeeping import CASH, new_name
from phinance_env.desks.portfolio_risk_01.templates.questions import figure
from phinance_env.desks.portfolio_risk_01.templates.world import money, spoken_date

def whole_shares(weights: dict[str, float], prices: dict[str, float], total: float) -> dict[str, int]:
    """The desk's rebalance rule: floor(weight x total value / close) shares of each ticker."""
    import math

    return {t: int(math.floor(w * total / prices[t] + 1e-9)) for t, w in weights.items()}


NOT_IN_STORE = ("AAPL", "MSFT", "TSLA", "AMZN", "NVDA", "JPM", "XOM", "SPY", "QQQ", "GOOG")


class RiskiestBook(Template):
    name = "riskiest_book"
    tier = 2
    phrasings = (
        "Which of our books had the highest 1-day 99% historical VaR as a fraction of its value at the close of {as_of}?",
        "On {when}, which portfolio was riskiest by 99% one-session historical VaR relative to its size?",
        "Compare every book's 99% historical 1-day VaR (as a percentage of value) on {as_of}: which one is highest?",
    )

    class Expected(Expected):
        session: str
        winner: str
        books: dict[str, int]
        """Every book compared: name -> portfolio id."""

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"])}

    def dates(self, p):
        return [p["as_of"]]

    def sample(self, rng, world, period):
        as_of = world.draw_session(rng, period, "2013-06-03")
        live = [b for b in world.books.values() if world.risk_start(b) <= as_of and b.holdings(as_of).tickers]
        if len(live) < 3:
            raise Reject("too few books")
        # One book is riskiest on most dates: keep its share near the others' so that always
        # naming it does not pay.
        if self._ranking(world, as_of)[0] == "Tech Growth" and rng.random() < 0.6:
            raise Reject("balance: the usual winner")
        return {"as_of": as_of}

    @staticmethod
    def _ranking(truth, as_of):
        var = {b.name: truth.risk(b.holdings(as_of), as_of).historical[0.99].var
               for b in truth.books.values() if b.inception <= as_of and b.holdings(as_of).tickers}
        ranked = sorted(var, key=var.get, reverse=True)
        if var[ranked[0]] - var[ranked[1]] < 0.0005:
            raise Reject("too close: the top two books are within 0.05 pp")
        return ranked

    def truth(self, p, truth):
        ranked = self._ranking(truth, p["as_of"])
        return {"session": p["as_of"], "winner": ranked[0], "books": {n: truth.books[n].id for n in sorted(ranked)}}

    def oracle(self, p, exp):
        calls = [_call("list_portfolios")] + [_call("compute_risk", portfolio=n, as_of_date=p["as_of"]) for n in exp["books"]]
        return Solution(calls=calls, answer=f"'{exp['winner']}' had the highest 99% historical VaR relative to its value on {p['as_of']}.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = next(n for n in exp["books"] if n != exp["winner"])
        return {"wrong_book": good.model_copy(update={"answer": good.answer.replace(exp["winner"], other)}),
                "one_report": Solution(calls=good.calls[:2], answer=good.answer)}


class RebalanceToTarget(Template):
    name = "rebalance_to_target"
    tier = 3
    asks = False
    phrasings = (
        "Rebalance '{book}' at the close of {date} to {targets_said}, the rest in cash, in whole shares.",
        "On {when}, bring '{book}' to target weights {targets_said} (leave the remainder in cash). Execute the trades.",
        "Please move '{book}' to {targets_said} of its value at {date}'s close; anything else it holds should be sold.",
    )

    class Expected(Expected):
        portfolio_id: int
        session: str
        targets: dict[str, float]
        prices: dict[str, float]
        tolerance: dict[str, float]
        shares_before: dict[str, int]
        cash_before: float

    def words(self, p):
        said = ", ".join(f"{w:.0%} {t}" for t, w in p["targets"].items())
        return {**p, "targets_said": said, "when": spoken_date(p["date"])}

    def dates(self, p):
        return [p["date"]]

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        date = world.draw_session(rng, period, max(book.last_trade, "2006-01-04"))
        if date <= book.last_trade:
            raise Reject("before the book's last trade")
        held = sorted(book.holdings(date).tickers)
        keep = rng.sample(held, min(len(held), rng.randint(1, 3))) if held else []
        extra = rng.sample([t for t in world.tradables() if t not in held], rng.randint(1, 2))
        tickers = sorted({*keep, *extra})
        cuts = sorted(rng.sample(range(5, 90, 5), len(tickers) - 1))
        total = rng.choice((85, 90, 95))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
        weights = {t: round(total * w / 100 / 5) * 5 / 100 for t, w in zip(tickers, parts)}
        if any(w < 0.05 for w in weights.values()) or sum(weights.values()) > 1:
            raise Reject("degenerate weights")
        return {"book": book.name, "date": date, "targets": weights}

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        held = book.holdings(p["date"])
        mark = truth.mark(held, p["date"])
        prices = {t: truth.close(t, p["date"]) for t in sorted({*p["targets"], *held.tickers})}
        return {"portfolio_id": book.id, "session": p["date"], "targets": p["targets"], "prices": prices,
                "tolerance": {t: max(0.01, 1.5 * prices[t] / mark.total_value) for t in p["targets"]},
                "shares_before": {t: int(n) for t, n in held.positions.items()}, "cash_before": held.cash}

    def oracle(self, p, exp):
        target = ", ".join(f"{t}:{w}" for t, w in p["targets"].items())
        before = exp["shares_before"]
        total = exp["cash_before"] + sum(n * exp["prices"][t] for t, n in before.items())
        after = whole_shares(exp["targets"], exp["prices"], total)
        deltas = {t: after.get(t, 0) - before.get(t, 0) for t in sorted({*before, *after})}
        orders = sorted((d > 0, t, abs(d)) for t, d in deltas.items() if d)  # sells first
        calls = [_call("propose_rebalance", portfolio=p["book"], date=p["date"], target=target)]
        calls += [_call("place_trade", portfolio=p["book"], ticker=t, side="buy" if buy else "sell", shares=n,
                        date=p["date"]) for buy, t, n in orders]
        return Solution(calls=calls, answer=f"Rebalanced {p['book']} on {p['date']}.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"proposal_only": Solution(calls=good.calls[:1], answer=good.answer),
                "first_order_only": Solution(calls=good.calls[:2], answer=good.answer)}


class MinVolBook(Template):
    name = "min_vol_book"
    tier = 3
    asks = False
    phrasings = (
        "Open '{name}' with {cash_said} on {date} and invest it, at that close and in whole shares, in the "
        "minimum-volatility mix of {tickers_said}: long only, fully invested, each weight between {lo:.0%} and "
        "{hi:.0%}, estimated on the 250 sessions of daily returns ending {date}.",
        "Build a new book '{name}' ({cash_said}, inception {when}) holding {tickers_said} in minimum-variance weights "
        "({lo:.0%}-{hi:.0%} each, 250-session window); buy the whole shares at {date}'s close.",
        "I need a low-volatility sleeve: create '{name}' with {cash_said} as of {date}, then buy {tickers_said} at the "
        "minimum-volatility weights (bounds {lo:.0%} to {hi:.0%}, last 250 sessions).",
    )

    class Expected(Expected):
        name: str
        cash: float
        session: str
        weights: dict[str, float]
        prices: dict[str, float]
        tolerance: dict[str, float]

    def words(self, p):
        return {**p, "cash_said": money(p["cash"]), "when": spoken_date(p["date"]),
                "tickers_said": ", ".join(p["tickers"][:-1]) + f" and {p['tickers'][-1]}"}

    def dates(self, p):
        return [p["date"]]

    def sample(self, rng, world, period):
        date = world.draw_session(rng, period, "2006-02-01")
        tickers = sorted(rng.sample(world.tradables(), rng.randint(3, 5)))
        hi = rng.choice((0.4, 0.5, 0.6))
        lo = rng.choice((0.0, 0.05)) if len(tickers) * hi >= 1 else 0.0
        return {"name": new_name(rng, world), "cash": float(rng.choice(CASH[2:])), "date": date, "tickers": tickers,
                "lo": lo, "hi": hi}

    def truth(self, p, truth):
        from phinance_env.desks.portfolio_risk_01 import analysis
        from phinance_env.desks.portfolio_risk_01.optimise import optimise_weights
        from phinance_env.desks.portfolio_risk_01.risk import window_returns

        closes = analysis.closes_for(truth.store, p["tickers"], p["date"])
        returns, _ = window_returns(closes, p["tickers"], p["date"], 250)
        opt = optimise_weights(returns, "min_volatility", p["lo"], p["hi"])
        prices = {t: truth.close(t, p["date"]) for t in p["tickers"]}
        if max(prices[t] / p["cash"] for t in p["tickers"]) > 0.02:
            raise Reject("too coarse: a share is over 2% of the cash")
        equal = 1 / len(p["tickers"])
        if max(abs(w - equal) for w in opt.weights.values()) < 0.05:
            raise Reject("too close to equal weights to tell apart")
        return {"name": p["name"], "cash": p["cash"], "session": p["date"], "weights": opt.weights, "prices": prices,
                "tolerance": {t: 0.02 + 1.5 * prices[t] / p["cash"] for t in p["tickers"]}}

    def _calls(self, p, **over):
        calls = [_call("create_portfolio", name=p["name"], cash=p["cash"], inception_date=p["date"]),
                 _call("propose_rebalance", portfolio=p["name"], date=p["date"], objective=over.get("objective", "min_volatility"),
                       tickers=",".join(p["tickers"]), min_weight=p["lo"], max_weight=p["hi"])]
        return calls

    def _buys(self, p, weights, prices):
        shares = whole_shares(weights, prices, p["cash"])
        return [_call("place_trade", portfolio=p["name"], ticker=t, side="buy", shares=n, date=p["date"])
                for t, n in sorted(shares.items()) if n > 0]

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p) + self._buys(p, exp["weights"], exp["prices"]),
                        answer=f"Opened {p['name']} and bought the minimum-volatility mix.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        equal = {t: 0.98 / len(p["tickers"]) for t in p["tickers"]}
        return {"equal_weights": Solution(calls=self._calls(p) + self._buys(p, equal, exp["prices"]), answer=good.answer),
                "no_trades": Solution(calls=self._calls(p), answer=good.answer)}


class RiskReview(Template):
    name = "risk_review"
    tier = 3
    asks = False
    phrasings = (
        "Review '{book}' as of {as_of}: run its risk report and its limit check, then write a note titled '{title}' "
        "giving the 1-day 99% historical VaR in dollars and whether any limit is breached.",
        "End-of-day review for '{book}' on {when}. Compute its risk, check its limits, and record a note '{title}' that "
        "states the 99% historical one-session VaR (USD) and the limit status.",
        "Please do the {as_of} risk review of '{book}' and file it as a note called '{title}' with its 99% historical "
        "VaR in dollars and whether it breaches any of its limits.",
    )

    class Expected(Expected):
        portfolio_id: int
        session: str
        title: str
        var: dict
        breach: bool

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"])}

    def dates(self, p):
        return [p["as_of"]]

    def sample(self, rng, world, period):
        # Breaches are rarer than not: pick the verdict first, half the time each, then look
        # for a book and date that have it, so that always writing "no breach" does not pay.
        want = rng.random() < 0.5
        for _ in range(40):
            book = world.books[rng.choice(sorted(world.books))]
            as_of = world.draw_session(rng, period, world.risk_start(book))
            if book.holdings(as_of).tickers and self._breach(world, book, as_of) is want:
                return {"book": book.name, "as_of": as_of, "title": f"{book.name} review {as_of}"}
        raise Reject("balance: no book and date with the verdict drawn")

    @staticmethod
    def _breach(truth, book, as_of) -> bool:
        from phinance_env.desks.portfolio_risk_01 import analysis

        statuses = []
        for metric, threshold in book.limits.items():
            v = analysis.limit_value(truth.store, book.holdings(as_of), as_of, metric)
            if v.value is None:
                raise Reject("a limit cannot be computed")
            statuses.append(v.value > threshold + 1e-12)
        return any(statuses)

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        var = truth.risk(book.holdings(p["as_of"]), p["as_of"]).historical[0.99]
        return {"portfolio_id": book.id, "session": p["as_of"], "title": p["title"],
                "var": figure(usd=var.var_usd, frac=var.var), "breach": self._breach(truth, book, p["as_of"])}

    def _body(self, p, var_usd, breach):
        verdict = "A limit is breached." if breach else "No limit is breached."
        return f"99% historical 1-day VaR on {p['as_of']}: {money(var_usd)}. {verdict}"

    def _calls(self, p, body, title=None):
        return [_call("compute_risk", portfolio=p["book"], as_of_date=p["as_of"]),
                _call("check_limits", portfolio=p["book"], date=p["as_of"]),
                _call("create_note", title=title or p["title"], portfolio=p["book"], body=body, report_id="$0.report_id")]

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p, self._body(p, exp["var"]["usd"], exp["breach"])), answer="Review filed.")

    def mutants(self, p, exp):
        return {"wrong_verdict": Solution(calls=self._calls(p, self._body(p, exp["var"]["usd"], not exp["breach"])), answer="Done."),
                "wrong_var": Solution(calls=self._calls(p, self._body(p, exp["var"]["usd"] * 1.3, exp["breach"])), answer="Done."),
                "no_limit_check": Solution(calls=[c for c in self._calls(p, self._body(p, exp["var"]["usd"], exp["breach"]))
                                                  if c.tool != "check_limits"], answer="Done.")}


class RefuseTrade(Template):
    """An order the desk cannot take. Right: try it (or look), refuse clearly, write nothing."""

    name = "refuse_trade"
    tier = 3
    dated = False
    KINDS = ("before_inception", "beyond_data", "not_tradable", "unknown_ticker")
    phrasings = (
        "Buy {shares} shares of {ticker} for '{book}' at the close of {date}.",
        "Please put {shares} {ticker} into '{book}', filled on {date}.",
        "Execute a purchase of {shares} shares of {ticker} in the '{book}' portfolio on {date}.",
    )

    class Expected(Expected):
        kind: str
        ticker: str
        book: str

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        kind = rng.choice(self.KINDS)
        ticker, date = rng.choice(world.stocks()), world.draw_session(rng, None, book.inception)
        if kind == "before_inception":
            date = (dt.date.fromisoformat(book.inception) - dt.timedelta(days=rng.randint(20, 400))).isoformat()
        elif kind == "beyond_data":
            date = (dt.date(2019, 1, 7) + dt.timedelta(days=rng.randint(0, 600))).isoformat()
        elif kind == "not_tradable":
            ticker = "^VIX"
            date = world.draw_session(rng, None, max(book.inception, "2014-06-02"))
        else:
            ticker = rng.choice(NOT_IN_STORE)
        return {"book": book.name, "kind": kind, "ticker": ticker, "date": date, "shares": rng.choice((10, 50, 100, 200))}

    def truth(self, p, truth):
        return {"kind": p["kind"], "ticker": p["ticker"], "book": p["book"]}

    def _answer(self, p):
        why = {"before_inception": f"'{p['book']}' did not exist yet on {p['date']}",
               "beyond_data": f"{p['date']} is beyond the last session in the data",
               "not_tradable": f"{p['ticker']} cannot be traded (closes only)",
               "unknown_ticker": f"{p['ticker']} is not a ticker the desk knows"}[p["kind"]]
        return f"I can't place that order: {why}. Nothing was traded."

    def oracle(self, p, exp):
        return Solution(calls=[_call("place_trade", portfolio=p["book"], ticker=p["ticker"], side="buy",
                                     shares=p["shares"], date=p["date"])], answer=self._answer(p))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        fudge = Solution(calls=[_call("place_trade", portfolio=p["book"], ticker="^GSPC", side="buy", shares=1,
                                      date="2018-12-31")], answer=good.answer)
        return {"claims_done": good.model_copy(update={"answer": f"Done: bought {p['shares']} {p['ticker']} for {p['book']}."}),
                "traded_something_else": fudge}


TEMPLATES = (RiskiestBook(), RebalanceToTarget(), MinVolBook(), RiskReview(), RefuseTrade())
