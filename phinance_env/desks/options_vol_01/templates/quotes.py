"""Questions answered from the synthetic chain: a price and delta, an implied vol from a
traded price, rich or cheap against our projection, a delta-hedged option's P&L."""

from __future__ import annotations

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.options_vol_01.templates.world import (
    TOL_DELTA, TOL_PRICE_REL, TOL_VOL, spoken_date, strike_said,
)

VERDICTS = ("rich", "cheap", "fair")


def money_fig(x: float) -> dict:
    return {"usd": x, "frac": None, "tol": 0.0, "rel": TOL_PRICE_REL, "min": 0.01}


def frac_fig(x: float, tol: float) -> dict:
    return {"usd": None, "frac": x, "tol": tol, "rel": 0.0, "min": 0.0}


def draw_contract(rng, world, period, max_expiry: int = 3, band: float = 0.08, last: str = "2018-12-31"):
    """(ticker, session, chain, expiry, strike) of a listed contract near the money."""
    ticker = world.ticker(rng)
    as_of = world.session(rng, period, last)
    ch = world.chain(ticker, as_of)
    expiry = rng.choice(ch.expiries[:max_expiry]).isoformat()
    near = [k for k in ch.strikes if abs(k / ch.spot - 1) <= band]
    if not near:
        raise Reject("no strike near the money")
    return ticker, ch.session.isoformat(), ch, expiry, rng.choice(near)


class ChainQuestion(Template):
    def dates(self, p):
        return [p["as_of"]]

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"]), "strike_said": strike_said(p.get("strike", 0))}


class OptionPrice(ChainQuestion):
    name = "option_price"
    tier = 1
    phrasings = (
        "What is the mid price and the delta of the {ticker} {strike_said} {kind} expiring {expiry}, as of the close of {as_of}?",
        "On {when}, price the {expiry} {ticker} {kind} struck at {strike_said}: give its mid and its delta.",
        "Quote me the {ticker} {expiry} {strike_said}-strike {kind} at {as_of}'s close (mid price and delta).",
    )

    class Expected(Expected):
        ticker: str
        session: str
        price: dict
        delta: dict
        distractors: list[dict]

    def sample(self, rng, world, period):
        ticker, session, ch, expiry, strike = draw_contract(rng, world, period)
        return {"ticker": ticker, "as_of": session, "expiry": expiry, "strike": strike, "kind": rng.choice(("call", "put"))}

    def truth(self, p, truth):
        ch = truth.chain(p["ticker"], p["as_of"])
        q = ch.quote(p["expiry"], p["strike"], p["kind"])
        other = ch.quote(p["expiry"], p["strike"], "put" if p["kind"] == "call" else "call")
        if abs(other.mid - q.mid) < 0.02 * max(q.mid, 0.01) or q.mid < 0.05:
            raise Reject("the call and the put are too close to tell apart, or the price is ~0")
        tag = r"\bput" if other.kind == "put" else r"\bcall"
        return {"ticker": ch.ticker, "session": ch.session.isoformat(), "price": money_fig(q.mid),
                "delta": frac_fig(q.delta, TOL_DELTA),
                "distractors": [{**money_fig(other.mid), "tags": [tag]}, {**money_fig(q.bid), "tags": [r"\bbid"]},
                                {**money_fig(q.ask), "tags": [r"\bask|offer"]}]}

    def _answer(self, p, price, delta):
        return (f"The {p['ticker']} {p['expiry']} {strike_said(p['strike'])} {p['kind']} is at ${price:,.2f} mid "
                f"(synthetic quote) with a delta of {delta:.2f}.")

    def oracle(self, p, exp):
        return Solution(calls=[_call("price_option", ticker=p["ticker"], as_of_date=p["as_of"], expiry=p["expiry"],
                                     strike=p["strike"], kind=p["kind"])],
                        answer=self._answer(p, exp["price"]["usd"], exp["delta"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = exp["distractors"][0]["usd"]
        return {"other_kind": good.model_copy(update={"answer": self._answer(p, other, exp["delta"]["frac"])}),
                "wrong_delta_sign": good.model_copy(update={"answer": self._answer(p, exp["price"]["usd"], -exp["delta"]["frac"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class ImpliedVolQuestion(ChainQuestion):
    name = "implied_vol_question"
    tier = 1
    phrasings = (
        "A {ticker} {strike_said} {kind} expiring {expiry} traded at ${price:.2f} at the close of {as_of}. What implied volatility is that?",
        "Back out the implied vol: {ticker} {expiry} {kind}, strike {strike_said}, price ${price:.2f}, as of {when}.",
        "What vol does a ${price:.2f} price imply for the {ticker} {strike_said} {kind} ({expiry} expiry) on {as_of}?",
    )

    class Expected(Expected):
        ticker: str
        session: str
        price: float
        iv: dict
        distractors: list[dict]

    def sample(self, rng, world, period):
        from phinance_env.desks.options_vol_01.pricing import bsm_price

        ticker, session, ch, expiry, strike = draw_contract(rng, world, period, band=0.06)
        kind = rng.choice(("call", "put"))
        t = ch.surface.time_to(expiry)
        if t < 14 / 365:
            raise Reject("too near expiry")
        vol = round(ch.surface.vol(strike, t) + rng.choice((-4, -3, -2, -1.5, 1.5, 2, 3, 5, 8)) / 100, 3)
        price = round(bsm_price(kind, ch.spot, strike, t, vol, ch.rate, ch.dividend_yield), 2)
        if price < 0.5:
            raise Reject("price too small")
        return {"ticker": ticker, "as_of": session, "expiry": expiry, "strike": strike, "kind": kind, "price": price}

    def truth(self, p, truth):
        from phinance_env.desks.options_vol_01.pricing import implied_vol

        ch = truth.chain(p["ticker"], p["as_of"])
        t = ch.surface.time_to(p["expiry"])
        iv = implied_vol(p["price"], p["kind"], ch.spot, p["strike"], t, ch.rate, ch.dividend_yield)
        surface = ch.surface.vol(p["strike"], t)
        return {"ticker": ch.ticker, "session": ch.session.isoformat(), "price": p["price"], "iv": frac_fig(iv, TOL_VOL),
                "distractors": [{**frac_fig(surface, TOL_VOL), "tags": [r"surface|model|chain|synthetic|quoted"]}]}

    def _answer(self, p, iv):
        return f"A price of ${p['price']:.2f} implies a volatility of {iv:.2%} for that {p['kind']}."

    def oracle(self, p, exp):
        return Solution(calls=[_call("implied_volatility", ticker=p["ticker"], as_of_date=p["as_of"], expiry=p["expiry"],
                                     strike=p["strike"], kind=p["kind"], price=p["price"])],
                        answer=self._answer(p, exp["iv"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"surface_vol": good.model_copy(update={"answer": self._answer(p, exp["distractors"][0]["frac"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class RichCheap(ChainQuestion):
    name = "rich_cheap"
    tier = 2
    phrasings = (
        "As of {as_of}, are {ticker} options expiring {expiry} rich or cheap against our projection? Give the implied move too.",
        "Compare the move the {expiry} {ticker} options price with our projection's on {when}: rich, cheap or fair, and what is the implied move?",
        "Is {ticker} {expiry} volatility expensive or cheap relative to our projection at the close of {as_of}? Include the implied move.",
    )

    class Expected(Expected):
        ticker: str
        session: str
        expiry: str
        verdict: str
        move: dict

    def sample(self, rng, world, period):
        # Verdicts are not equally common: pick one first, then look for a date that has it,
        # so that always answering the commonest does not pay.
        want = rng.choice(VERDICTS)
        for _ in range(80):  # cheap is the rarest: the surface carries a premium
            ticker, session, ch, expiry, _ = draw_contract(rng, world, period)
            p = {"ticker": ticker, "as_of": session, "expiry": expiry}
            if self._compare(world, p)["verdict"] == want:
                return p
        raise Reject("balance: no date with the verdict drawn")

    @staticmethod
    def _compare(truth, p):
        from phinance_env.desks.options_vol_01.tools.quotes import projection_comparison
        from phinance_env.projection import ProjectionEngine

        ch = truth.chain(p["ticker"], p["as_of"])
        engine = truth.ctx.projections("ewma") if truth.ctx is not None else ProjectionEngine(truth.store)
        return projection_comparison(ch, p["expiry"], engine)

    def truth(self, p, truth):
        cmp = self._compare(truth, p)
        if abs(cmp["ratio"] - 1.1) < 0.01 or abs(cmp["ratio"] - 0.9) < 0.01:
            raise Reject("on a verdict's edge")
        return {"ticker": p["ticker"], "session": p["as_of"], "expiry": p["expiry"], "verdict": cmp["verdict"],
                "move": frac_fig(cmp["implied_move"], 0.0005)}

    def _answer(self, p, verdict, move):
        return f"{p['ticker']} {p['expiry']} options look {verdict} against our projection: they price a {move:.2%} move."

    def oracle(self, p, exp):
        return Solution(calls=[_call("compare_to_projection", ticker=p["ticker"], as_of_date=p["as_of"], expiry=p["expiry"])],
                        answer=self._answer(p, exp["verdict"], exp["move"]["frac"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = next(v for v in VERDICTS if v != exp["verdict"])
        return {"wrong_verdict": good.model_copy(update={"answer": self._answer(p, other, exp["move"]["frac"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class HedgePnl(ChainQuestion):
    name = "hedge_pnl"
    tier = 2
    phrasings = (
        "Sell the at-the-money {ticker} {strike_said} {kind} expiring {expiry} at the close of {as_of} and delta-hedge it "
        "every {rebalance} session(s) until expiry. What is the total P&L per unit?",
        "Backtest a short {ticker} {kind} (strike {strike_said}, expiry {expiry}) from {when}, re-hedged every "
        "{rebalance} session(s): what did the hedged position make or lose?",
        "How much does a delta-hedged short {expiry} {ticker} {strike_said} {kind}, opened {as_of} and rebalanced every "
        "{rebalance} session(s), earn or lose by expiry?",
    )

    class Expected(Expected):
        ticker: str
        start: str
        expiry: str
        strike: float
        kind: str
        rebalance: int
        total: dict
        distractors: list[dict]

    def dates(self, p):
        return [p["as_of"], p["expiry"]]

    def sample(self, rng, world, period):
        ticker = world.ticker(rng)
        last = "2018-10-01" if period is None or period.end.isoformat() >= "2018-10-01" else period.end.isoformat()
        as_of = world.session(rng, period, last)
        ch = world.chain(ticker, as_of)
        expiry = ch.expiries[rng.choice((0, 1, 1, 2))].isoformat()
        if expiry > "2018-12-31" or (period is not None and expiry > period.end.isoformat()):
            raise Reject("expiry beyond the data or the period")
        strike = min(ch.strikes, key=lambda k: abs(k - ch.spot))
        return {"ticker": ticker, "as_of": ch.session.isoformat(), "expiry": expiry, "strike": strike,
                "kind": rng.choice(("call", "put")), "rebalance": rng.choice((1, 1, 5))}

    def truth(self, p, truth):
        from phinance_env.desks.options_vol_01.hedging import delta_hedge_backtest

        bt = delta_hedge_backtest(truth.store, p["ticker"], p["as_of"], p["expiry"], p["strike"], p["kind"], p["rebalance"])
        if abs(bt.total_pnl) < 0.05:
            raise Reject("a P&L too close to zero to read a sign from")
        return {"ticker": p["ticker"], "start": bt.start.isoformat(), "expiry": bt.expiry.isoformat(), "strike": p["strike"],
                "kind": p["kind"], "rebalance": p["rebalance"], "total": money_fig(bt.total_pnl),
                "distractors": [{**money_fig(bt.option_pnl), "tags": [r"option"]}, {**money_fig(bt.hedge_pnl), "tags": [r"hedg"]},
                                {**money_fig(bt.premium), "tags": [r"premium|sold for|collected|received"]}]}

    def _answer(self, p, total):
        word = "made" if total >= 0 else "lost"
        return f"The delta-hedged short {p['kind']} {word} ${abs(total):,.2f} per unit in total by expiry."

    def oracle(self, p, exp):
        return Solution(calls=[_call("hedge_backtest", ticker=p["ticker"], start=p["as_of"], expiry=p["expiry"],
                                     strike=p["strike"], kind=p["kind"], rebalance=p["rebalance"])],
                        answer=self._answer(p, exp["total"]["usd"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_sign": good.model_copy(update={"answer": self._answer(p, -exp["total"]["usd"])}),
                "option_only": good.model_copy(update={"answer": self._answer(p, exp["distractors"][0]["usd"])}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


TEMPLATES = (OptionPrice(), ImpliedVolQuestion(), RichCheap(), HedgePnl())
