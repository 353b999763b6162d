"""Templates about walk-forward backtests: the gate verdict, AUC and cone coverage."""

from __future__ import annotations

from typing import Literal

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.phinance_01.templates.world import TOL_AUC, TOL_COVERAGE, add_months, listing, spoken_date

Verdict = Literal["PASS", "FAIL"]
MONTHS = (6, 15)  # backtest windows drawn, in months: long enough for several folds, short enough to run fast


def _draw_backtest(rng, world, period) -> dict:
    """One or two tickers and a month-aligned window inside ``period``; the plausible wrong
    window starts three months later."""
    tickers = rng.sample(world.tickers(), rng.choice((1, 1, 2)))
    start, end = world.month_range(rng, period, MONTHS)
    if max(world.store.ticker(t).first_session for t in tickers) > start:
        raise Reject("before data: a ticker starts after the window")
    return {"tickers": ",".join(tickers), "names": [world.name(t) for t in tickers], "start": start, "end": end,
            "wrong_start": add_months(start, 3)}


class BacktestTemplate(Template):
    def words(self, p):
        names = p.get("names") or p["tickers"].split(",")
        return {**p, "who": listing(names), "from_": spoken_date(p["start"]), "to": spoken_date(p["end"])}

    def dates(self, p):
        return [p["start"], p["end"]]


class BacktestGate(BacktestTemplate):
    name = "backtest_gate"
    tier = 1
    phrasings = (
        "Run a walk-forward backtest of {tickers} from {start} to {end}. Does it pass the AUC gate, and what is the mean out-of-sample AUC?",
        "Backtest {who} between {from_} and {to}: pass or fail on the direction gate, and what mean out-of-sample AUC did the folds get?",
        "How predictive were the next-day direction calls for {tickers} over {start}..{end} in a walk-forward test? Give the gate verdict and the mean OOS AUC.",
    )

    class Expected(Expected):
        tickers: str
        start: str
        end: str
        verdict: Verdict
        mean_oos_auc: float
        tol_auc: float

    def sample(self, rng, world, period):
        return _draw_backtest(rng, world, period)

    def truth(self, p, truth):
        report = truth.backtest(p["tickers"], p["start"], p["end"])
        if report.pooled.mean_fold_auc is None:
            raise Reject("no folds: the window has no out-of-sample observations")
        return {"tickers": ",".join(report.tickers), "start": report.start, "end": report.end,
                "verdict": report.gate.verdict, "mean_oos_auc": report.pooled.mean_fold_auc, "tol_auc": TOL_AUC}

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


class BacktestNote(BacktestTemplate):
    name = "backtest_note"
    tier = 2
    asks = False
    phrasings = (
        "Backtest {tickers} from {start} to {end} and save a note titled '{title}' stating the 75% cone coverage and the gate verdict, linked to the backtest run.",
        "Run the walk-forward backtest for {who} over {from_} to {to}, then record its 75% cone coverage and gate verdict in a note called '{title}' linked to that run.",
        "Write up a backtest of {tickers} ({start} to {end}) as a note named '{title}': the observed coverage of the 75% cone and pass/fail on the gate. Link the note to the run.",
    )

    class Expected(Expected):
        tickers: str
        start: str
        end: str
        title: str
        coverage_75: float
        verdict: Verdict
        tol_coverage: float

    def sample(self, rng, world, period):
        p = _draw_backtest(rng, world, period)
        title = f"Backtest {p['tickers'].replace(',', '+')} {p['start'][:7]} to {p['end'][:7]}"
        if title in world.note_titles():
            raise Reject("title taken")
        return {**p, "title": title}

    def truth(self, p, truth):
        report = truth.backtest(p["tickers"], p["start"], p["end"])
        if report.pooled.coverage.c75 is None:
            raise Reject("no folds: the window has no out-of-sample observations")
        return {"tickers": ",".join(report.tickers), "start": report.start, "end": report.end,
                "title": p["title"], "coverage_75": report.pooled.coverage.c75,
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


class BacktestCompare(BacktestTemplate):
    name = "backtest_compare"
    tier = 2
    phrasings = (
        "Over {start} to {end}, which had the higher mean out-of-sample AUC in a walk-forward backtest, {a} or {b}? Give both.",
        "Backtest {a_name} and {b_name} separately from {from_} to {to}: whose next-day direction calls ranked better out of sample (mean AUC), and by how much?",
        "Compare walk-forward direction skill for {a} vs {b} between {start} and {end}: the mean OOS AUC of each and which is higher.",
    )

    class Expected(Expected):
        tickers: tuple[str, str]
        start: str
        end: str
        aucs: dict[str, float]
        winner: str
        tol_auc: float

    def words(self, p):
        a, b = p["tickers"].split(",")
        names = p.get("names") or [a, b]
        return {**super().words(p), "a": a, "b": b, "a_name": names[0], "b_name": names[1]}

    def sample(self, rng, world, period):
        p = _draw_backtest(rng, world, period)
        if "," not in p["tickers"]:
            a = p["tickers"]
            b = rng.choice([t for t in world.tickers() if t != a and world.store.ticker(t).first_session <= p["start"]])
            p = {**p, "tickers": f"{a},{b}", "names": [world.name(a), world.name(b)]}
        return p

    def truth(self, p, truth):
        aucs = {}
        for t in p["tickers"].split(","):
            report = truth.backtest(t, p["start"], p["end"])
            if report.pooled.mean_fold_auc is None:
                raise Reject("no folds: the window has no out-of-sample observations")
            aucs[report.tickers[0]] = report.pooled.mean_fold_auc
            start, end = report.start, report.end
        a, b = aucs
        if abs(aucs[a] - aucs[b]) < 0.005:
            raise Reject("too close: the two AUCs are within 0.005")
        return {"tickers": [a, b], "start": start, "end": end, "aucs": aucs, "winner": max(aucs, key=aucs.get),
                "tol_auc": TOL_AUC}

    def _answer(self, aucs, winner):
        parts = " vs ".join(f"{t} {v:.3f}" for t, v in aucs.items())
        return f"{winner} had the higher mean out-of-sample AUC ({parts}); both are close to a coin flip."

    def oracle(self, p, exp):
        a, b = exp["tickers"]
        return Solution(calls=[_call("run_backtest", tickers=a, start=p["start"], end=p["end"]),
                               _call("run_backtest", tickers=b, start=p["start"], end=p["end"])],
                        answer=self._answer(exp["aucs"], exp["winner"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        loser = next(t for t in exp["tickers"] if t != exp["winner"])
        swapped = {t: exp["aucs"][u] for t, u in zip(exp["tickers"], reversed(exp["tickers"]))}
        return {"wrong_winner": good.model_copy(update={"answer": self._answer(swapped, loser)}),
                "no_backtests": Solution(calls=[], answer=good.answer)}


TEMPLATES = (BacktestGate(), BacktestNote(), BacktestCompare())
