"""Task templates: from parameters and the data, each derives the task text, the ground
truth its verifier checks (``expected``), an oracle solution and plausible wrong ones.

Adding instances (or scenarios) takes parameters only: see ``scenarios/phinance_01.toml``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from phinance_env.awm.contract import Expected, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution

TOL_BPS = 1.0          # answers quote bps rounded to integers
TOL_AUC = 0.002        # AUC quoted to 3 decimals
TOL_COVERAGE = 0.002
TOL_SIGMA = 0.002      # annualized sigma as a fraction (0.2%)

Direction = Literal["up", "flat", "down"]
Verdict = Literal["PASS", "FAIL"]


@dataclass
class Truth:
    """What ground truth is computed from: the bar store, the models and the initial DB."""

    initial_db: Path
    _backtests: dict = field(default_factory=dict, repr=False)

    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return BarStore.open()

    @cached_property
    def projections(self):
        from phinance_env.projection import ProjectionEngine

        return ProjectionEngine(self.store)

    def project(self, ticker: str, as_of: str, horizons=(1, 5, 21)):
        return self.projections.project(ticker, as_of, horizons)

    def backtest(self, tickers: str, start: str, end: str):
        """Each distinct backtest once per export: many tasks may ask the same one."""
        from phinance_env.backtest import run_backtest

        key = (tickers, start, end)
        if key not in self._backtests:
            self._backtests[key] = run_backtest(self.store, tickers, start, end)
        return self._backtests[key]

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with sqlite3.connect(f"file:{self.initial_db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()


def _shift(value: float, by: float) -> float:
    return round(value + by, 2)


def _cone_answer(exp: dict, ticker: str, lo: float, hi: float, direction: str) -> str:
    return (f"{ticker} as of {exp['as_of']}: the next-session call is {direction} "
            f"(P(up) = {exp['p_up']:.2f}, P(down) = {exp['p_down']:.2f}); the 75% cone is "
            f"[{lo:+.0f}, {hi:+.0f}] bps. Next-day direction is close to a coin flip.")


class ProjectionAnswer(Template):
    name = "projection_answer"

    class Expected(Expected):
        ticker: str
        as_of: str
        direction: Direction
        p_up: float
        p_down: float
        cone75_bps: tuple[float, float]
        tol_bps: float

    def text(self, p):
        return (f"What is the projected next-session direction for {p['ticker']} as of {p['as_of']}, "
                f"and what is its 75% cone in basis points?")

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        one = packet.horizons[0]
        return {"ticker": packet.ticker, "as_of": packet.as_of,
                "direction": one.direction.call, "p_up": one.direction.up, "p_down": one.direction.down,
                "cone75_bps": [one.cone(0.75).lower_bps, one.cone(0.75).upper_bps], "tol_bps": TOL_BPS}

    def oracle(self, p, exp):
        lo, hi = exp["cone75_bps"]
        return Solution(calls=[_call("get_projection", ticker=p["ticker"], as_of_date=p["as_of"])],
                        answer=_cone_answer(exp, exp["ticker"], lo, hi, exp["direction"]))

    def mutants(self, p, exp):
        lo, hi = exp["cone75_bps"]
        wrong_dir = "down" if exp["direction"] != "down" else "up"
        good = self.oracle(p, exp)
        return {
            "wrong_cone_number": good.model_copy(update={"answer": _cone_answer(exp, exp["ticker"], lo, _shift(hi, 15), exp["direction"])}),
            "wrong_direction": good.model_copy(update={"answer": _cone_answer(exp, exp["ticker"], lo, hi, wrong_dir)}),
            "every_direction": good.model_copy(update={"answer": _cone_answer(exp, exp["ticker"], lo, hi, "up, down or flat")}),
            "wrong_date": Solution(calls=[_call("get_projection", ticker=p["ticker"], as_of_date=p["wrong_date"])], answer=good.answer),
            "no_tool_call": Solution(calls=[], answer=good.answer),
        }


class ProjectionNote(Template):
    name = "projection_note"

    class Expected(ProjectionAnswer.Expected):
        title: str

    def text(self, p):
        return (f"Project {p['ticker']} as of {p['as_of']} and save a note titled '{p['title']}' about "
                f"{p['ticker']} that records the next-session direction call and the 75% cone in bps, "
                f"linked to that projection run.")

    def truth(self, p, truth):
        return {**ProjectionAnswer().truth(p, truth), "title": p["title"]}

    def _solution(self, p, exp, ticker, as_of, hi_shift=0.0):
        lo, hi = exp["cone75_bps"]
        body = _cone_answer(exp, exp["ticker"], lo, _shift(hi, hi_shift), exp["direction"])
        return Solution(calls=[
            _call("get_projection", ticker=ticker, as_of_date=as_of),
            _call("create_note", title=p["title"], body=body, ticker=ticker, projection_run_id="$0.run_id"),
        ], answer=f"Saved the note '{p['title']}'.")

    def oracle(self, p, exp):
        return self._solution(p, exp, exp["ticker"], exp["as_of"])

    def mutants(self, p, exp):
        return {
            "wrong_ticker": self._solution(p, exp, p["wrong_ticker"], exp["as_of"]),
            "wrong_date": self._solution(p, exp, exp["ticker"], p["wrong_date"]),
            "wrong_number": self._solution(p, exp, exp["ticker"], exp["as_of"], hi_shift=20),
        }


class BacktestGate(Template):
    name = "backtest_gate"

    class Expected(Expected):
        tickers: str
        start: str
        end: str
        verdict: Verdict
        mean_oos_auc: float
        tol_auc: float

    def text(self, p):
        return (f"Run a walk-forward backtest of {p['tickers']} from {p['start']} to {p['end']}. Does it "
                f"pass the AUC gate, and what is the mean out-of-sample AUC?")

    def truth(self, p, truth):
        report = truth.backtest(p["tickers"], p["start"], p["end"])
        return {"tickers": ",".join(report.tickers), "start": report.start,
                "end": report.end, "verdict": report.gate.verdict,
                "mean_oos_auc": report.pooled.mean_fold_auc, "tol_auc": TOL_AUC}

    def _answer(self, exp, verdict, auc):
        return (f"The backtest {verdict}s the gate: mean out-of-sample AUC {auc:.3f}, i.e. next-day "
                f"direction is close to a coin flip.")

    def oracle(self, p, exp):
        return Solution(calls=[_call("run_backtest", tickers=p["tickers"], start=p["start"], end=p["end"])],
                        answer=self._answer(exp, exp["verdict"].lower(), exp["mean_oos_auc"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        other = "pass" if exp["verdict"] == "FAIL" else "fail"
        return {
            "wrong_verdict": good.model_copy(update={"answer": self._answer(exp, other, exp["mean_oos_auc"])}),
            "wrong_auc": good.model_copy(update={"answer": self._answer(exp, exp["verdict"].lower(), exp["mean_oos_auc"] + 0.03)}),
            "wrong_period": Solution(calls=[_call("run_backtest", tickers=p["tickers"], start=p["wrong_start"], end=p["end"])], answer=good.answer),
        }


class CreateWatchlist(Template):
    name = "create_watchlist"

    class Expected(Expected):
        name: str
        tickers: list[str]

    def text(self, p):
        names = p["tickers"]
        return f"Create a watchlist named '{p['name']}' containing {', '.join(names[:-1])} and {names[-1]}."

    def truth(self, p, truth):
        return {"name": p["name"], "tickers": [truth.store.ticker(t).symbol for t in p["tickers"]]}

    def oracle(self, p, exp):
        return Solution(calls=[_call("create_watchlist", name=p["name"], tickers=",".join(p["tickers"]))],
                        answer=f"Created watchlist '{p['name']}'.")

    def mutants(self, p, exp):
        return {
            "missing_ticker": Solution(calls=[_call("create_watchlist", name=p["name"], tickers=",".join(p["tickers"][:-1]))], answer="Done."),
            "wrong_ticker": Solution(calls=[_call("create_watchlist", name=p["name"], tickers=",".join(p["tickers"][:-1] + [p["wrong_ticker"]]))], answer="Done."),
            "wrong_name": Solution(calls=[_call("create_watchlist", name=p["name"] + " 2", tickers=",".join(p["tickers"]))], answer="Done."),
        }


class RankSector(Template):
    name = "rank_sector"

    class Expected(Expected):
        sector_tickers: list[str]
        winner: str
        winner_p_up: float
        watchlist: str
        as_of: str

    def text(self, p):
        return (f"Among the {p['sector']} stocks in the synthetic universe, which one has the highest "
                f"projected probability of rising over the next session as of {p['as_of']}? Add it to "
                f"the '{p['watchlist']}' watchlist.")

    def truth(self, p, truth):
        tickers = sorted(t.symbol for t in truth.store.tickers() if t.sector == p["sector"] and t.source == "synthetic")
        p_up = {t: truth.project(t, p["as_of"], (1,)).horizons[0].direction.up for t in tickers}
        winner = max(tickers, key=lambda t: (p_up[t], t))
        on_list = [r[0] for r in truth.query(
            "SELECT i.ticker FROM watchlist_items i JOIN watchlists w ON w.id = i.watchlist_id WHERE w.name = ?",
            (p["watchlist"],))]
        if winner in on_list:
            raise ValueError(f"rank_sector: {winner} is already on {p['watchlist']!r}; pick other parameters")
        as_of = truth.project(winner, p["as_of"], (1,)).as_of
        return {"sector_tickers": tickers, "winner": winner,
                "winner_p_up": p_up[winner], "watchlist": p["watchlist"], "as_of": as_of}

    def _solution(self, p, exp, pick: str):
        return Solution(calls=[
            _call("list_tickers", source="synthetic"),
            _call("compare_projections", tickers=",".join(exp["sector_tickers"]), as_of_date=p["as_of"], rank_by="p_up"),
            _call("add_watchlist_item", watchlist=p["watchlist"], ticker=pick),
        ], answer=f"{exp['winner'] if pick == exp['winner'] else pick} has the highest P(up) "
                  f"({exp['winner_p_up']:.3f}); added it to '{p['watchlist']}'.")

    def oracle(self, p, exp):
        s = self._solution(p, exp, exp["winner"])
        return s.model_copy(update={"calls": s.calls[:2] + [_call("add_watchlist_item", watchlist=p["watchlist"], ticker="$1.data.0.ticker")]})

    def mutants(self, p, exp):
        runner_up = next(t for t in exp["sector_tickers"] if t != exp["winner"])
        return {"wrong_pick": self._solution(p, exp, runner_up)}


class CreateAlert(Template):
    name = "create_alert"

    class Expected(Expected):
        ticker: str
        metric: str
        operator: str
        threshold: float
        horizon: str

    def text(self, p):
        return (f"Set an alert on {p['ticker']} for when its {p['horizon']} {p['metric']} goes "
                f"{'above' if p['operator'] == '>' else 'below'} {p['threshold']}.")

    def truth(self, p, truth):
        return {"ticker": truth.store.ticker(p["ticker"]).symbol, "metric": p["metric"],
                "operator": p["operator"], "threshold": float(p["threshold"]), "horizon": p["horizon"]}

    def _solution(self, **over):
        args = {k: over[k] for k in ("ticker", "metric", "operator", "threshold", "horizon")}
        return Solution(calls=[_call("create_alert", **args)], answer="Alert created.")

    def oracle(self, p, exp):
        return self._solution(**p)

    def mutants(self, p, exp):
        flip = "<" if p["operator"] == ">" else ">"
        return {
            "wrong_threshold": self._solution(**{**p, "threshold": p["threshold"] * 1.1}),
            "wrong_operator": self._solution(**{**p, "operator": flip}),
            "wrong_ticker": self._solution(**{**p, "ticker": p["wrong_ticker"]}),
        }


class VolatilityCompare(Template):
    name = "volatility_compare"

    class Expected(Expected):
        tickers: tuple[str, str]
        as_of: str
        sigmas: dict[str, float]
        winner: str
        tol_sigma: float

    def text(self, p):
        a, b = p["tickers"]
        return (f"As of {p['as_of']}, which is projected to be more volatile over the next session, {a} or "
                f"{b}? Give both annualized volatilities.")

    def truth(self, p, truth):
        packets = {t: truth.project(t, p["as_of"], (1,)) for t in p["tickers"]}
        sigmas = {k: v.horizons[0].annualized_sigma for k, v in packets.items()}
        winner = max(sigmas, key=sigmas.get)
        as_of = next(iter(packets.values())).as_of
        return {"tickers": list(p["tickers"]), "as_of": as_of, "sigmas": sigmas,
                "winner": winner, "tol_sigma": TOL_SIGMA}

    def _answer(self, exp, sigmas):
        winner = max(sigmas, key=sigmas.get)
        parts = ", ".join(f"{t} {s * 100:.1f}%" for t, s in sigmas.items())
        return f"{winner} is projected to be more volatile: annualized sigma {parts}."

    def oracle(self, p, exp):
        a, b = exp["tickers"]
        return Solution(calls=[_call("get_projection", ticker=a, as_of_date=p["as_of"], horizon="1d"),
                               _call("get_projection", ticker=b, as_of_date=p["as_of"], horizon="1d")],
                        answer=self._answer(exp, exp["sigmas"]))

    def mutants(self, p, exp):
        a, b = exp["tickers"]
        good = self.oracle(p, exp)
        wrong = {a: exp["sigmas"][a] + 0.05, b: exp["sigmas"][b]}
        return {
            "wrong_number": good.model_copy(update={"answer": self._answer(exp, wrong)}),
            "wrong_date": Solution(calls=[_call("get_projection", ticker=a, as_of_date=p["wrong_date"]),
                                          _call("get_projection", ticker=b, as_of_date=p["wrong_date"])], answer=good.answer),
        }


class CleanupWatchlist(Template):
    name = "cleanup_watchlist"

    class Expected(Expected):
        ticker: str
        watchlist: str
        delete: str

    def text(self, p):
        return f"Remove {p['ticker']} from the '{p['watchlist']}' watchlist and delete the '{p['delete']}' watchlist."

    def truth(self, p, truth):
        return {"ticker": truth.store.ticker(p["ticker"]).symbol,
                "watchlist": p["watchlist"], "delete": p["delete"]}

    def oracle(self, p, exp):
        return Solution(calls=[_call("list_watchlists"),
                               _call("remove_watchlist_item", watchlist=p["watchlist"], ticker=p["ticker"]),
                               _call("delete_watchlist", name=p["delete"])], answer="Done.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {
            "only_removed": Solution(calls=good.calls[:2], answer="Done."),
            "wrong_ticker": Solution(calls=[good.calls[0], _call("remove_watchlist_item", watchlist=p["watchlist"], ticker=p["wrong_ticker"]), good.calls[2]], answer="Done."),
            "deleted_both": Solution(calls=[good.calls[0], _call("delete_watchlist", name=p["watchlist"]), good.calls[2]], answer="Done."),
        }


class TrackAndProject(Template):
    name = "track_and_project"

    class Expected(Expected):
        ticker: str
        as_of: str
        cone90_prices: tuple[float, float]

    def text(self, p):
        return (f"Start tracking {p['ticker']}, then project it as of {p['as_of']} and tell me the price "
                f"range of its 90% cone for the next session.")

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        c90 = packet.horizons[0].cone(0.90)
        return {"ticker": packet.ticker, "as_of": packet.as_of,
                "cone90_prices": [c90.lower_price, c90.upper_price]}

    def _answer(self, exp, lo, hi):
        return f"{exp['ticker']} is now tracked. Its next-session 90% cone as of {exp['as_of']} runs from {lo:,.2f} to {hi:,.2f}."

    def oracle(self, p, exp):
        lo, hi = exp["cone90_prices"]
        return Solution(calls=[_call("track_ticker", ticker=p["ticker"]),
                               _call("get_projection", ticker=p["ticker"], as_of_date=p["as_of"])],
                        answer=self._answer(exp, lo, hi))

    def mutants(self, p, exp):
        lo, hi = exp["cone90_prices"]
        good = self.oracle(p, exp)
        return {
            "not_tracked": Solution(calls=good.calls[1:], answer=good.answer),
            "wrong_price": good.model_copy(update={"answer": self._answer(exp, lo, hi * 1.01)}),
        }


class BacktestNote(Template):
    name = "backtest_note"

    class Expected(Expected):
        tickers: str
        start: str
        end: str
        title: str
        coverage_75: float
        verdict: Verdict
        tol_coverage: float

    def text(self, p):
        return (f"Backtest {p['tickers']} from {p['start']} to {p['end']} and save a note titled "
                f"'{p['title']}' stating the 75% cone coverage and the gate verdict, linked to the backtest run.")

    def truth(self, p, truth):
        report = truth.backtest(p["tickers"], p["start"], p["end"])
        return {"tickers": ",".join(report.tickers), "start": report.start,
                "end": report.end, "title": p["title"], "coverage_75": report.pooled.coverage.c75,
                "verdict": report.gate.verdict, "tol_coverage": TOL_COVERAGE}

    def _solution(self, p, exp, coverage, verdict, start):
        body = (f"75% cone coverage {coverage:.3f} (nominal 0.75). Gate verdict: {verdict} "
                f"(direction is barely predictable).")
        return Solution(calls=[_call("run_backtest", tickers=p["tickers"], start=start, end=p["end"]),
                               _call("create_note", title=p["title"], body=body, backtest_run_id="$0.run_id")],
                        answer=f"Saved the note '{p['title']}'.")

    def oracle(self, p, exp):
        return self._solution(p, exp, exp["coverage_75"], exp["verdict"], p["start"])

    def mutants(self, p, exp):
        other = "PASS" if exp["verdict"] == "FAIL" else "FAIL"
        return {
            "wrong_coverage": self._solution(p, exp, exp["coverage_75"] + 0.02, exp["verdict"], p["start"]),
            "wrong_verdict": self._solution(p, exp, exp["coverage_75"], other, p["start"]),
            "wrong_period": self._solution(p, exp, exp["coverage_75"], exp["verdict"], p["wrong_start"]),
        }


class UntrackAndAlerts(Template):
    name = "untrack_and_alerts"

    class Expected(Expected):
        ticker: str
        alert_ids: list[int]

    def text(self, p):
        return f"Stop tracking {p['ticker']} and delete all of its alerts."

    def truth(self, p, truth):
        symbol = truth.store.ticker(p["ticker"]).symbol
        ids = [r[0] for r in truth.query("SELECT id FROM alerts WHERE ticker = ? ORDER BY id", (symbol,))]
        if not ids:
            raise ValueError(f"untrack_and_alerts: {symbol} has no alerts in the initial state")
        return {"ticker": symbol, "alert_ids": ids}

    def oracle(self, p, exp):
        return Solution(calls=[_call("list_alerts", ticker=p["ticker"])]
                        + [_call("delete_alert", alert_id=i) for i in exp["alert_ids"]]
                        + [_call("untrack_ticker", ticker=p["ticker"])], answer="Done.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"kept_one_alert": Solution(calls=good.calls[:1] + good.calls[2:], answer="Done."),
                "still_tracked": Solution(calls=good.calls[:-1], answer="Done.")}


class PriceLookup(Template):
    name = "price_lookup"

    class Expected(Expected):
        ticker: str
        close: float
        max_high: float

    def text(self, p):
        return (f"What was {p['ticker']}'s close on {p['date']}, and what was the highest high over the "
                f"{p['sessions']} trading sessions ending that day?")

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


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    ProjectionAnswer(), ProjectionNote(), BacktestGate(), CreateWatchlist(), RankSector(), CreateAlert(),
    VolatilityCompare(), CleanupWatchlist(), TrackAndProject(), BacktestNote(), UntrackAndAlerts(), PriceLookup(),
)}
