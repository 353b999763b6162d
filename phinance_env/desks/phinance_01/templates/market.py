"""Templates about the bars themselves: prices, ranges and instrument facts."""

from __future__ import annotations

import datetime as dt

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.phinance_01.templates.world import TOL_PCT, spoken_date


class PriceLookup(Template):
    name = "price_lookup"
    tier = 1
    phrasings = (
        "What was {ticker}'s close on {date}, and what was the highest high over the {sessions} trading sessions ending that day?",
        "Where did {name} close on {when}, and what was its highest intraday high in the {sessions} sessions up to and including that day?",
        "For {ticker}: the closing level on {when} and the peak high across the last {sessions} trading days ending then.",
    )

    class Expected(Expected):
        ticker: str
        close: float
        max_high: float

    def words(self, p):
        return {"name": p["ticker"], "when": spoken_date(p["date"]), **p}

    def dates(self, p):
        return [p["date"]]

    def sample(self, rng, world, period):
        ticker = rng.choice(world.tickers())
        return {"ticker": ticker, "name": world.name(ticker), "date": world.session(rng, ticker, period, warmup=40),
                "sessions": rng.choice((5, 10, 10, 15, 20, 30))}

    def truth(self, p, truth):
        frame = truth.store.bars(p["ticker"], None, dt.date.fromisoformat(p["date"]))
        window = frame.iloc[-p["sessions"]:]
        if str(window.index[-1].date()) != p["date"]:
            raise ValueError(f"price_lookup: {p['date']} is not a session of {p['ticker']}")
        return {"ticker": truth.store.ticker(p["ticker"]).symbol,
                "close": round(float(window["close"].iloc[-1]), 4), "max_high": round(float(window["high"].max()), 4)}

    def _answer(self, exp, close, high):
        return f"{exp['ticker']} closed at {close:,.2f}; the highest high in that window was {high:,.2f}."

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_price_history", ticker=p["ticker"], end=p["date"], limit=p["sessions"])],
                        answer=self._answer(exp, exp["close"], exp["max_high"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_close": good.model_copy(update={"answer": self._answer(exp, exp["close"] * 1.01, exp["max_high"])}),
                "close_as_high": good.model_copy(update={"answer": self._answer(exp, exp["close"], exp["close"])})}


class TickerProfile(Template):
    name = "ticker_profile"
    tier = 1
    dated = False
    phrasings = (
        "What sector is {ticker} in, and how many daily bars does the store hold for it?",
        "Which sector does {name} belong to, and how many trading days of data do we have on it?",
        "Quick fact check on {name}: its sector and the number of daily bars available.",
    )

    class Expected(Expected):
        ticker: str
        sector: str
        bar_count: int
        other_sectors: list[str]

    def sample(self, rng, world, period):
        ticker = rng.choice(world.tickers(projectable=False))
        return {"ticker": ticker, "name": world.name(ticker)}

    def truth(self, p, truth):
        info = truth.store.ticker(p["ticker"])
        others = sorted({t.sector for t in truth.store.tickers()} - {info.sector})
        return {"ticker": info.symbol, "sector": info.sector, "bar_count": info.n_bars, "other_sectors": others}

    def _answer(self, exp, sector, count):
        return f"{exp['ticker']} is in the {sector} sector; the store holds {count:,} daily bars for it."

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_ticker", ticker=p["ticker"])],
                        answer=self._answer(exp, exp["sector"], exp["bar_count"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_sector": good.model_copy(update={"answer": self._answer(exp, exp["other_sectors"][0], exp["bar_count"])}),
                "wrong_count": good.model_copy(update={"answer": self._answer(exp, exp["sector"], exp["bar_count"] - 21)}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class ReturnBetween(Template):
    name = "return_between"
    tier = 2
    phrasings = (
        "By how much did {ticker}'s close change from {start} to {end}, in percent?",
        "What was {name}'s percentage move, close to close, between {start_said} and {end_said}?",
        "Give me the simple return of {name} from the close on {start} to the close on {end}, as a percentage.",
    )

    class Expected(Expected):
        ticker: str
        start: str
        end: str
        change_pct: float
        tol_pct: float

    def words(self, p):
        return {"name": p["ticker"], "start_said": spoken_date(p["start"]), "end_said": spoken_date(p["end"]), **p}

    def dates(self, p):
        return [p["start"], p["end"]]

    def sample(self, rng, world, period):
        ticker = rng.choice(world.tickers())
        days = world.sessions(ticker, period, warmup=0)
        if len(days) < 70:
            raise Reject("period too short")
        i = rng.randrange(len(days) - 65)
        return {"ticker": ticker, "name": world.name(ticker), "start": days[i], "end": days[i + rng.randint(5, 60)]}

    def truth(self, p, truth):
        frame = truth.store.bars(p["ticker"], dt.date.fromisoformat(p["start"]), dt.date.fromisoformat(p["end"]))
        first, last = float(frame["close"].iloc[0]), float(frame["close"].iloc[-1])
        if str(frame.index[0].date()) != p["start"] or str(frame.index[-1].date()) != p["end"]:
            raise Reject("not sessions: a range end is not a session")
        change = 100 * (last / first - 1)
        if abs(change) < 0.2:
            raise Reject("flat: the move is under 0.2%")
        return {"ticker": truth.store.ticker(p["ticker"]).symbol, "start": p["start"], "end": p["end"],
                "change_pct": round(change, 4), "tol_pct": TOL_PCT}

    def _answer(self, exp, change):
        return f"{exp['ticker']} moved {change:+.2f}% from the {exp['start']} close to the {exp['end']} close."

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_price_history", ticker=p["ticker"], start=p["start"], end=p["end"])],
                        answer=self._answer(exp, exp["change_pct"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"sign_flipped": good.model_copy(update={"answer": self._answer(exp, -exp["change_pct"])}),
                "off_by_half_a_point": good.model_copy(update={"answer": self._answer(exp, exp["change_pct"] + 0.5)}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


TEMPLATES = (PriceLookup(), TickerProfile(), ReturnBetween())
