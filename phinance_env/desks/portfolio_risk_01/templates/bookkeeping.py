"""Book-keeping: open a book, set a limit, buy and report, trade under a limit. The verifier
reads the blotter, positions and limits (state) and checks any reported figure."""

from __future__ import annotations

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.portfolio_risk_01.ledger import Fill, book_as_of, fill_amount, infeasible
from phinance_env.desks.portfolio_risk_01.templates.questions import figure
from phinance_env.desks.portfolio_risk_01.templates.world import money, spoken_date

BOOK_WORDS = ("Alpha", "Harbor", "Summit", "Meridian", "Granite", "Atlas", "Beacon", "Cedar", "Orchid", "Falcon",
              "Juniper", "Keystone", "Lighthouse", "Northwind", "Polaris", "Redwood")
BOOK_KINDS = ("Fund", "Book", "Sleeve", "Portfolio", "Account", "Strategy")
CASH = (50_000, 100_000, 250_000, 500_000, 750_000, 1_000_000, 2_000_000)
LIMIT_SAID = {"max_position_weight": "maximum position weight", "max_var_99": "maximum 1-day 99% VaR",
              "max_drawdown": "maximum drawdown"}
LIMIT_LEVELS = {"max_position_weight": (0.2, 0.25, 0.3, 0.35, 0.4, 0.5), "max_var_99": (0.02, 0.025, 0.03, 0.04, 0.05),
                "max_drawdown": (0.1, 0.15, 0.2, 0.25, 0.3)}


def new_name(rng, world) -> str:
    name = f"{rng.choice(BOOK_WORDS)} {rng.choice(BOOK_KINDS)}"
    if name in world.books:
        raise Reject("name taken")
    return name


class OpenBook(Template):
    name = "open_book"
    tier = 1
    asks = False
    phrasings = (
        "Open a new portfolio called '{name}' with {cash_said} of cash, incepting on {date}.",
        "Set up a book named '{name}': {cash_said} starting cash, inception date {when}.",
        "Please create the '{name}' portfolio, funded with {cash_said}, as of {date}.",
    )

    class Expected(Expected):
        name: str
        cash: float
        inception: str

    def words(self, p):
        return {**p, "cash_said": money(p["cash"]), "when": spoken_date(p["date"])}

    def dates(self, p):
        return [p["date"]]

    def sample(self, rng, world, period):
        import datetime as dt

        day = dt.date.fromisoformat(world.draw_session(rng, period))
        if rng.random() < 0.3:  # a weekend or holiday: it opens on the session before
            day += dt.timedelta(days=rng.randint(1, 3))
        if period is not None and day not in period:
            raise Reject("outside the period")
        return {"name": new_name(rng, world), "cash": float(rng.choice(CASH)), "date": day.isoformat()}

    def truth(self, p, truth):
        return {"name": p["name"], "cash": p["cash"], "inception": truth.session(p["date"])}

    def oracle(self, p, exp):
        return Solution(calls=[_call("create_portfolio", name=p["name"], cash=p["cash"], inception_date=p["date"])],
                        answer=f"Opened '{p['name']}' with {money(p['cash'])} on {exp['inception']}.")

    def mutants(self, p, exp):
        import datetime as dt

        good = self.oracle(p, exp)
        later = (dt.date.fromisoformat(exp["inception"]) + dt.timedelta(days=7)).isoformat()
        return {"wrong_cash": Solution(calls=[_call("create_portfolio", name=p["name"], cash=p["cash"] / 10, inception_date=p["date"])], answer=good.answer),
                "wrong_date": Solution(calls=[_call("create_portfolio", name=p["name"], cash=p["cash"], inception_date=later)], answer=good.answer),
                "wrong_name": Solution(calls=[_call("create_portfolio", name=p["name"] + " II", cash=p["cash"], inception_date=p["date"])], answer=good.answer)}


class SetBookLimit(Template):
    name = "set_book_limit"
    tier = 1
    asks = False
    dated = False
    phrasings = (
        "Put a {metric_said} limit of {threshold:.1%} on '{book}'.",
        "Set the {metric_said} limit of '{book}' to {threshold:.1%}.",
        "From now on '{book}' may not exceed a {metric_said} of {threshold:.1%}: add that limit.",
    )

    class Expected(Expected):
        portfolio_id: int
        metric: str
        threshold: float
        others: dict[str, float]

    def words(self, p):
        return {**p, "metric_said": LIMIT_SAID[p["metric"]]}

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        metric = rng.choice(sorted(LIMIT_LEVELS))
        threshold = rng.choice(LIMIT_LEVELS[metric])
        if book.limits.get(metric) == threshold:
            raise Reject("limit already set")
        return {"book": book.name, "metric": metric, "threshold": threshold,
                "wrong_book": rng.choice([b for b in sorted(world.books) if b != book.name])}

    def truth(self, p, truth):
        book = truth.books[p["book"]]
        return {"portfolio_id": book.id, "metric": p["metric"], "threshold": p["threshold"],
                "others": {m: v for m, v in book.limits.items() if m != p["metric"]}}

    def oracle(self, p, exp):
        return Solution(calls=[_call("set_limit", portfolio=p["book"], metric=p["metric"], threshold=p["threshold"])],
                        answer="Limit set.")

    def mutants(self, p, exp):
        other = next(m for m in sorted(LIMIT_LEVELS) if m != p["metric"])
        return {"wrong_book": Solution(calls=[_call("set_limit", portfolio=p["wrong_book"], metric=p["metric"], threshold=p["threshold"])], answer="Done."),
                "wrong_metric": Solution(calls=[_call("set_limit", portfolio=p["book"], metric=other, threshold=p["threshold"])], answer="Done."),
                "percent_as_fraction": Solution(calls=[_call("set_limit", portfolio=p["book"], metric=p["metric"], threshold=min(1.0, p["threshold"] * 2))], answer="Done.")}


class BuyAndValue(Template):
    name = "buy_and_value"
    tier = 2
    phrasings = (
        "Open '{name}' with {cash_said} on {open}. On {trade} buy {n1} shares of {t1} and {n2} shares of {t2}. "
        "What is the book worth at the close of {value}, and what is its P&L since inception?",
        "New book '{name}': {cash_said} of cash from {open_said}. Buy {n1} {t1} and {n2} {t2} at the close of {trade_said}, "
        "then tell me its total value and profit or loss on {value_said}.",
        "Please start a portfolio '{name}' ({cash_said}, inception {open}), buy {n1} shares of {name1} ({t1}) and {n2} of "
        "{name2} ({t2}) on {trade}, and report its value and P&L as of {value}.",
    )

    class Expected(Expected):
        name: str
        cash: float
        inception: str
        fills: list[list]
        total: dict
        pnl: dict

    def words(self, p):
        return {**p, "cash_said": money(p["cash"]), "open_said": spoken_date(p["open"]),
                "trade_said": spoken_date(p["trade"]), "value_said": spoken_date(p["value"])}

    def dates(self, p):
        return [p["open"], p["trade"], p["value"]]

    def sample(self, rng, world, period):
        days = world.sessions(period)
        if len(days) < 80:
            raise Reject("no period: too few sessions")
        i = rng.randrange(len(days) - 70)
        j = i + rng.choice((0, 0, 1, 5, 10))
        k = j + rng.choice((5, 21, 42, 63))
        cash = float(rng.choice(CASH[1:]))
        t1, t2 = rng.sample(world.tradables(), 2)
        n = [max(1, int(cash * rng.uniform(0.25, 0.45) / world.close(t, days[j]))) for t in (t1, t2)]
        return {"name": new_name(rng, world), "cash": cash, "open": days[i], "trade": days[j], "value": days[k],
                "t1": t1, "t2": t2, "n1": n[0], "n2": n[1], "name1": world.name_of(t1), "name2": world.name_of(t2)}

    def truth(self, p, truth):
        fills = [Fill(p["trade"], t, n, fill_amount(n, truth.close(t, p["trade"]))) for t, n in ((p["t1"], p["n1"]), (p["t2"], p["n2"]))]
        mark = truth.mark(book_as_of(p["cash"], fills, p["value"]), p["value"])
        return {"name": p["name"], "cash": p["cash"], "inception": p["open"],
                "fills": sorted([f.ticker, "buy", f.shares, f.session] for f in fills),
                "total": figure(usd=mark.total_value), "pnl": figure(usd=mark.pnl, frac=mark.pnl_pct)}

    def _calls(self, p, n1=None, day=None):
        return [_call("create_portfolio", name=p["name"], cash=p["cash"], inception_date=p["open"]),
                _call("place_trade", portfolio=p["name"], ticker=p["t1"], side="buy", shares=n1 or p["n1"], date=day or p["trade"]),
                _call("place_trade", portfolio=p["name"], ticker=p["t2"], side="buy", shares=p["n2"], date=day or p["trade"]),
                _call("get_portfolio", name=p["name"], as_of_date=p["value"])]

    def _answer(self, p, total, pnl):
        word = "a profit" if pnl >= 0 else "a loss"
        return f"On {p['value']} {p['name']} was worth {money(total)}, {word} of {money(abs(pnl))} since inception."

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p), answer=self._answer(p, exp["total"]["usd"], exp["pnl"]["usd"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_shares": Solution(calls=self._calls(p, n1=p["n1"] + 10), answer=good.answer),
                "wrong_day": Solution(calls=self._calls(p, day=p["value"]), answer=good.answer),
                "wrong_sign": good.model_copy(update={"answer": self._answer(p, exp["total"]["usd"], -exp["pnl"]["usd"] - 100)})}


class LimitOrder(Template):
    """A cap is set, then an order that may or may not fit under it: the desk decides, the
    agent must report what happened. Drawn on both sides of the cap."""

    name = "limit_order"
    tier = 2
    phrasings = (
        "Cap any single position in '{book}' at {cap:.0%} of the book, then buy {shares} shares of {ticker} for it at the "
        "close of {date}. Did the order fill?",
        "Set a {cap:.0%} maximum position weight on '{book}' and try to buy {shares} {ticker} on {when}. Tell me whether "
        "it went through.",
        "First put a {cap:.0%} max-weight limit on '{book}'. Then place a buy of {shares} shares of {name} ({ticker}) on "
        "{date} and let me know if it was filled or refused.",
    )

    class Expected(Expected):
        portfolio_id: int
        cap: float
        ticker: str
        shares: int
        session: str
        status: str

    def words(self, p):
        return {**p, "when": spoken_date(p["date"])}

    def dates(self, p):
        return [p["date"]]

    def sample(self, rng, world, period):
        book = world.books[rng.choice(sorted(world.books))]
        date = world.draw_session(rng, period, max(book.inception, book.last_trade))
        held = book.holdings(date)
        if not held.tickers:
            raise Reject("no positions")
        ticker = rng.choice(sorted({*held.tickers, *world.stocks()}))
        mark = world.mark(held, date)
        price = world.close(ticker, date)
        cap = rng.choice((0.2, 0.25, 0.3, 0.35, 0.4))
        if book.limits.get("max_position_weight") == cap:
            raise Reject("cap already set: setting it would change nothing")
        room = int((cap * mark.total_value - mark.values.get(ticker, 0.0)) / price)
        affordable = int(held.cash / price)
        fits = rng.random() < 0.5
        if fits:
            shares = int(min(room, affordable) * rng.uniform(0.5, 0.95))
        else:
            shares = int(room * rng.uniform(1.15, 1.6)) + 1
        if shares < 1 or shares * price > held.cash or (not fits and room < 1 and rng.random() < 0.7):
            raise Reject("no order: the cap or the cash leaves no room")
        return {"book": book.name, "cap": cap, "ticker": ticker, "name": world.name_of(ticker), "shares": shares,
                "date": date, "wrong_shares": max(1, room // 2) if not fits else room + max(2, room // 3)}

    def truth(self, p, truth):
        from phinance_env.desks.portfolio_risk_01 import analysis

        book = truth.books[p["book"]]
        price = truth.close(p["ticker"], p["date"])
        order = Fill(p["date"], p["ticker"], p["shares"], fill_amount(p["shares"], price))
        reason = infeasible(book.starting_cash, book.fills, order)
        if reason is None:
            limits = {**book.limits, "max_position_weight": p["cap"]}
            reason = analysis.breach_reason(truth.store, book.holdings(p["date"]),
                                            book_as_of(book.starting_cash, [*book.fills, order], p["date"]), p["date"], limits)
        return {"portfolio_id": book.id, "cap": p["cap"], "ticker": p["ticker"], "shares": p["shares"],
                "session": p["date"], "status": "rejected" if reason else "filled"}

    def _calls(self, p, shares=None, cap=True):
        calls = [_call("set_limit", portfolio=p["book"], metric="max_position_weight", threshold=p["cap"])] if cap else []
        return calls + [_call("place_trade", portfolio=p["book"], ticker=p["ticker"], side="buy",
                              shares=shares or p["shares"], date=p["date"])]

    def _answer(self, p, status):
        if status == "filled":
            return f"The order filled: bought {p['shares']} {p['ticker']} at the close of {p['date']}."
        return f"The order was rejected: {p['shares']} {p['ticker']} would breach the {p['cap']:.0%} position limit."

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p), answer=self._answer(p, exp["status"]))

    def mutants(self, p, exp):
        flipped = "filled" if exp["status"] == "rejected" else "rejected"
        good = self.oracle(p, exp)
        return {"wrong_report": good.model_copy(update={"answer": self._answer(p, flipped)}),
                "no_limit": Solution(calls=self._calls(p, cap=False), answer=good.answer),
                "other_size": Solution(calls=self._calls(p, shares=p["wrong_shares"]), answer=good.answer)}


TEMPLATES = (OpenBook(), SetBookLimit(), BuyAndValue(), LimitOrder())
