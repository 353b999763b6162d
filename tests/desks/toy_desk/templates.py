import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from phinance_env.awm.contract import Expected, Template, call
from phinance_env.awm.solution import Solution


@dataclass
class Truth:
    initial_db: Path
    ctx: object = None

    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return BarStore.open()


class LogClose(Template):
    name = "log_close"

    class Expected(Expected):
        ticker: str
        session: str
        close: float

    def text(self, p):
        return f"Record {p['ticker']}'s close on {p['date']} in the close log and tell me what it was."

    def truth(self, p, truth):
        bars = truth.store.bars(p["ticker"], None, dt.date.fromisoformat(p["date"]))
        return {"ticker": truth.store.ticker(p["ticker"]).symbol, "session": str(bars.index[-1].date()),
                "close": round(float(bars["close"].iloc[-1]), 4)}

    def oracle(self, p, exp):
        return Solution(calls=[call("record_close", ticker=p["ticker"], date=p["date"])],
                        answer=f"{exp['ticker']} closed at {exp['close']:,.2f} on {exp['session']}.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"wrong_date": Solution(calls=[call("record_close", ticker=p["ticker"], date=p["wrong_date"])],
                                       answer=good.answer),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


TEMPLATES = {t.name: t for t in (LogClose(),)}
