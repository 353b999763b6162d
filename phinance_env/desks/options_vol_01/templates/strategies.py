"""Strategies to a spec, chosen from the chain, and impossible requests that must be refused."""

from __future__ import annotations

import datetime as dt
import json

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.options_vol_01.templates.quotes import draw_contract, money_fig
from phinance_env.desks.options_vol_01.templates.world import spoken_date, strike_said

WORDS = ("Alpha", "Harbor", "Summit", "Granite", "Atlas", "Beacon", "Cedar", "Falcon", "Juniper", "Polaris", "Redwood")
SPREADS = {"bull_call": ("call", "bull call spread"), "bear_put": ("put", "bear put spread")}


def legs_json(legs: list[tuple[str, float, int]]) -> str:
    return json.dumps([{"kind": k, "strike": s, "quantity": q} for k, s, q in legs])


def new_name(rng, world, kind: str) -> str:
    name = f"{rng.choice(WORDS)} {kind} {rng.randint(1, 99)}"
    if name in world.names("strategies"):
        raise Reject("name taken")
    return name


class SpreadBuild(Template):
    name = "spread_build"
    tier = 2
    phrasings = (
        "Save a {spread_said} named '{name}' on {ticker} expiring {expiry}: buy the {k_long_said} {kind}, sell the "
        "{k_short_said} {kind}, one unit each. Priced at the close of {as_of}, what does it cost and what is its maximum gain?",
        "Build '{name}', a {ticker} {expiry} {spread_said} (long {k_long_said} {kind}, short {k_short_said} {kind}, "
        "1 unit each), and tell me its cost and max profit as of {when}.",
        "I want a {spread_said} on {ticker}: long the {k_long_said} and short the {k_short_said} {kind}s expiring "
        "{expiry}, called '{name}'. At {as_of}'s close, what is the net debit and the most it can make?",
    )

    class Expected(Expected):
        name: str
        ticker: str
        expiry: str
        session: str
        legs: list[list]
        cost: dict
        max_gain: dict
        distractors: list[dict]

    def words(self, p):
        return {**p, "spread_said": SPREADS[p["spread"]][1], "kind": SPREADS[p["spread"]][0], "when": spoken_date(p["as_of"]),
                "k_long_said": strike_said(p["k_long"]), "k_short_said": strike_said(p["k_short"])}

    def dates(self, p):
        return [p["as_of"]]

    def sample(self, rng, world, period):
        ticker, session, ch, expiry, _ = draw_contract(rng, world, period)
        spread = rng.choice(sorted(SPREADS))
        near = [k for k in ch.strikes if abs(k / ch.spot - 1) <= 0.1]
        i = rng.randrange(len(near) - 1)
        lo, hi = near[i], near[min(len(near) - 1, i + rng.randint(1, 3))]
        k_long, k_short = (lo, hi) if spread == "bull_call" else (hi, lo)
        return {"name": new_name(rng, world, "spread"), "ticker": ticker, "as_of": session, "expiry": expiry,
                "spread": spread, "k_long": k_long, "k_short": k_short}

    def truth(self, p, truth):
        kind = SPREADS[p["spread"]][0]
        ch = truth.chain(p["ticker"], p["as_of"])
        cost = ch.quote(p["expiry"], p["k_long"], kind).mid - ch.quote(p["expiry"], p["k_short"], kind).mid
        width = abs(p["k_long"] - p["k_short"])
        if cost < 0.05 or width - cost < 0.05:
            raise Reject("degenerate spread")
        return {"name": p["name"], "ticker": ch.ticker, "expiry": p["expiry"], "session": ch.session.isoformat(),
                "legs": sorted([[kind, p["k_long"], 1], [kind, p["k_short"], -1]]), "cost": money_fig(cost),
                "max_gain": money_fig(width - cost),
                "distractors": [{**money_fig(width), "tags": [r"width|wide|apart|between the strikes"]}]}

    def _legs(self, p, swap=False):
        kind = SPREADS[p["spread"]][0]
        sign = -1 if swap else 1
        return legs_json([(kind, p["k_long"], sign), (kind, p["k_short"], -sign)])

    def _answer(self, cost, gain):
        return f"It costs ${cost:,.2f} (a debit) and its maximum gain is ${gain:,.2f} per unit."

    def _calls(self, p, legs):
        return [_call("build_strategy", name=p["name"], ticker=p["ticker"], expiry=p["expiry"], legs=legs),
                _call("analyze_strategy", name=p["name"], as_of_date=p["as_of"])]

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p, self._legs(p)), answer=self._answer(exp["cost"]["usd"], exp["max_gain"]["usd"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"legs_swapped": Solution(calls=self._calls(p, self._legs(p, swap=True)), answer=good.answer),
                "gain_as_cost": good.model_copy(update={"answer": self._answer(exp["max_gain"]["usd"], exp["cost"]["usd"])}),
                "not_saved": Solution(calls=[], answer=good.answer)}


class DeltaPutSpread(Template):
    """Strikes chosen from the chain by delta: the agent must read quotes, not be told strikes."""

    name = "delta_put_spread"
    tier = 3
    asks = False
    phrasings = (
        "Build a put spread named '{name}' on {ticker} expiring {expiry}, priced at the close of {as_of}: buy the put "
        "whose delta is closest to -{delta:.2f} and sell the put {steps} strike(s) below it on the grid, one unit each. "
        "Save it and analyze it.",
        "Using the {when} chain, set up '{name}': long the {ticker} {expiry} put nearest -{delta:.2f} delta, short the put "
        "{steps} grid strike(s) lower (1 unit each). Save the strategy and run its analysis.",
        "Find the {ticker} put expiring {expiry} with delta nearest -{delta:.2f} as of {as_of}; buy it and sell the one "
        "{steps} strike(s) further down, one each, as a strategy called '{name}', then analyze it.",
    )

    class Expected(Expected):
        name: str
        ticker: str
        expiry: str
        session: str
        legs: list[list]

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"])}

    def dates(self, p):
        return [p["as_of"]]

    def sample(self, rng, world, period):
        ticker, session, ch, expiry, _ = draw_contract(rng, world, period, max_expiry=3)
        return {"name": new_name(rng, world, "put spread"), "ticker": ticker, "as_of": session, "expiry": expiry,
                "delta": rng.choice((0.2, 0.25, 0.3, 0.35, 0.4)), "steps": rng.choice((1, 2, 3))}

    def _strikes(self, p, ch):
        puts = [q for q in ch.quotes if q.expiry.isoformat() == p["expiry"] and q.kind == "put"]
        ranked = sorted(puts, key=lambda q: abs(q.delta + p["delta"]))
        if abs(abs(ranked[0].delta + p["delta"]) - abs(ranked[1].delta + p["delta"])) < 0.002:
            raise Reject("two puts are about as near the delta")
        k_long = ranked[0].strike
        i = ch.strikes.index(k_long)
        if i - p["steps"] < 0:
            raise Reject("no strike that far below")
        return k_long, ch.strikes[i - p["steps"]]

    def truth(self, p, truth):
        ch = truth.chain(p["ticker"], p["as_of"])
        k_long, k_short = self._strikes(p, ch)
        return {"name": p["name"], "ticker": ch.ticker, "expiry": p["expiry"], "session": ch.session.isoformat(),
                "legs": sorted([["put", k_long, 1], ["put", k_short, -1]])}

    def _calls(self, p, legs):
        return [_call("get_option_chain", ticker=p["ticker"], as_of_date=p["as_of"], expiry=p["expiry"], kind="put"),
                _call("build_strategy", name=p["name"], ticker=p["ticker"], expiry=p["expiry"], legs=legs_json(legs)),
                _call("analyze_strategy", name=p["name"], as_of_date=p["as_of"])]

    def oracle(self, p, exp):
        return Solution(calls=self._calls(p, [tuple(x) for x in exp["legs"]]), answer="Saved and analyzed.")

    def mutants(self, p, exp):
        (k0, q0), (k1, q1) = [(x[1], x[2]) for x in exp["legs"]]
        long_k = k0 if q0 > 0 else k1
        short_k = k1 if q0 > 0 else k0
        step = long_k - short_k
        return {"short_leg_higher": Solution(calls=self._calls(p, [("put", long_k, 1), ("put", long_k + step, -1)]), answer="Done."),
                "calls_instead": Solution(calls=self._calls(p, [("call", long_k, 1), ("call", short_k, -1)]), answer="Done."),
                "no_analysis": Solution(calls=self._calls(p, [("put", long_k, 1), ("put", short_k, -1)])[:2], answer="Done.")}


class StraddleReview(Template):
    """A review that ends in a note: build, analyze, and record the figures that matter."""

    name = "straddle_review"
    tier = 3
    asks = False
    phrasings = (
        "Save a long straddle named '{name}' on {ticker} expiring {expiry} at the {strike_said} strike (buy one call and "
        "one put), analyze it as of {as_of}, and write a note titled '{title}' about it giving its cost and both breakevens.",
        "Review a {ticker} {expiry} {strike_said} straddle as of {when}: save it as '{name}' (1 call + 1 put), run the "
        "analysis, and file a note '{title}' linked to the strategy with the cost and the two breakeven levels.",
        "Build '{name}' (long the {ticker} {strike_said} call and put, {expiry}), analyze it at {as_of}'s close and record "
        "a note titled '{title}' on the strategy with what it costs and where it breaks even.",
    )

    class Expected(Expected):
        name: str
        ticker: str
        expiry: str
        session: str
        legs: list[list]
        title: str
        cost: dict
        breakevens: list[dict]

    def words(self, p):
        return {**p, "when": spoken_date(p["as_of"]), "strike_said": strike_said(p["strike"])}

    def dates(self, p):
        return [p["as_of"]]

    def sample(self, rng, world, period):
        ticker, session, ch, expiry, _ = draw_contract(rng, world, period)
        strike = min(ch.strikes, key=lambda k: abs(k - ch.spot))
        name = new_name(rng, world, "straddle")
        return {"name": name, "ticker": ticker, "as_of": session, "expiry": expiry, "strike": strike,
                "title": f"{name} review {session}"}

    def truth(self, p, truth):
        ch = truth.chain(p["ticker"], p["as_of"])
        cost = ch.quote(p["expiry"], p["strike"], "call").mid + ch.quote(p["expiry"], p["strike"], "put").mid
        return {"name": p["name"], "ticker": ch.ticker, "expiry": p["expiry"], "session": ch.session.isoformat(),
                "legs": sorted([["call", p["strike"], 1], ["put", p["strike"], 1]]), "title": p["title"],
                "cost": money_fig(cost), "breakevens": [money_fig(p["strike"] - cost), money_fig(p["strike"] + cost)]}

    def _calls(self, p, body, strike=None):
        k = strike or p["strike"]
        return [_call("build_strategy", name=p["name"], ticker=p["ticker"], expiry=p["expiry"],
                      legs=legs_json([("call", k, 1), ("put", k, 1)])),
                _call("analyze_strategy", name=p["name"], as_of_date=p["as_of"]),
                _call("create_note", title=p["title"], body=body, strategy=p["name"], run_id="$1.run_id")]

    def _body(self, cost, lo, hi):
        return f"Costs ${cost:,.2f}. Breakevens at expiry: {lo:,.2f} and {hi:,.2f}."

    def oracle(self, p, exp):
        lo, hi = (b["usd"] for b in exp["breakevens"])
        return Solution(calls=self._calls(p, self._body(exp["cost"]["usd"], lo, hi)), answer="Review filed.")

    def mutants(self, p, exp):
        lo, hi = (b["usd"] for b in exp["breakevens"])
        cost = exp["cost"]["usd"]
        return {"one_breakeven": Solution(calls=self._calls(p, f"Costs ${cost:,.2f}. Breakeven {hi:,.2f}."), answer="Done."),
                "half_cost": Solution(calls=self._calls(p, self._body(cost / 2, p["strike"] - cost / 2, p["strike"] + cost / 2)),
                                      answer="Done."),
                "no_note": Solution(calls=self._calls(p, "")[:2], answer="Done.")}


class RefuseOption(Template):
    """A request the desk cannot price. Right: try (or look), refuse and say why, save nothing."""

    name = "refuse_option"
    tier = 3
    dated = False
    KINDS = ("expired", "off_grid", "vix", "beyond_data")
    phrasings = (
        "Price the {ticker} {strike_said} {kind} expiring {expiry} as of {as_of}, and save it as a one-leg strategy called '{name}'.",
        "What is the mid of the {ticker} {expiry} {kind} struck at {strike_said}, as of {as_of}? Save it as '{name}'.",
        "Quote and save ('{name}') the {ticker} {kind}, strike {strike_said}, expiring {expiry}, priced at {as_of}'s close.",
    )

    class Expected(Expected):
        reason: str
        ticker: str

    def words(self, p):
        return {**p, "strike_said": strike_said(p["strike"])}

    def sample(self, rng, world, period):
        reason = rng.choice(self.KINDS)
        ticker, session, ch, expiry, strike = draw_contract(rng, world, None, last="2018-11-30")
        kind = rng.choice(("call", "put"))
        if reason == "expired":
            expiry = (ch.session - dt.timedelta(days=rng.randint(10, 60))).isoformat()
        elif reason == "off_grid":
            strike = round(ch.spot * rng.choice((1.6, 1.8, 0.4, 0.5)) + 0.37, 2)
        elif reason == "vix":
            ticker = "^VIX"
        else:
            session = (dt.date(2019, 2, 1) + dt.timedelta(days=rng.randint(0, 400))).isoformat()
        return {"reason": reason, "ticker": ticker, "as_of": session, "expiry": expiry, "strike": strike, "kind": kind,
                "name": new_name(rng, world, "single")}

    def truth(self, p, truth):
        return {"reason": p["reason"], "ticker": p["ticker"]}

    def _answer(self, p):
        why = {"expired": f"the {p['expiry']} expiry is before {p['as_of']}: that option has already expired",
               "off_grid": f"strike {strike_said(p['strike'])} is not on the listed strike grid",
               "vix": "^VIX options are not offered on this desk",
               "beyond_data": f"{p['as_of']} is beyond the last session in the data"}[p["reason"]]
        return f"I can't price that: {why}. Nothing was saved."

    def oracle(self, p, exp):
        return Solution(calls=[_call("price_option", ticker=p["ticker"], as_of_date=p["as_of"], expiry=p["expiry"],
                                     strike=p["strike"], kind=p["kind"])], answer=self._answer(p))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        saved = _call("build_strategy", name=p["name"], ticker="^GSPC", expiry="2018-12-21",
                      legs=legs_json([(p["kind"], 2500.0, 1)]))
        return {"claims_price": good.model_copy(update={"answer": f"The mid is $12.34; saved as '{p['name']}'."}),
                "saved_anyway": Solution(calls=[*good.calls, saved], answer=good.answer)}


TEMPLATES = (SpreadBuild(), DeltaPutSpread(), StraddleReview(), RefuseOption())
