"""Templates about projections: direction calls, cones, drift, volatility, and the
research workflows built on them."""

from __future__ import annotations

from typing import Literal

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.phinance_01.templates.world import TOL_BPS, TOL_SIGMA, spoken_date

Direction = Literal["up", "flat", "down"]


def _shift(value: float, by: float) -> float:
    return round(value + by, 2)


def _cone_answer(exp: dict, ticker: str, lo: float, hi: float, direction: str) -> str:
    return (f"{ticker} as of {exp['as_of']}: the next-session call is {direction} "
            f"(P(up) = {exp['p_up']:.2f}, P(down) = {exp['p_down']:.2f}); the 75% cone is "
            f"[{lo:+.0f}, {hi:+.0f}] bps. Next-day direction is close to a coin flip.")


def _draw_ticker_session(rng, world, period, source=None) -> tuple[str, str, str]:
    ticker = rng.choice(world.tickers(source=source))
    return ticker, world.session(rng, ticker, period), world.name(ticker)


class ProjectionTemplate(Template):
    """Words for phrasings besides the parameters: ``name`` (how people say the ticker; the
    sampler stores it) and ``when`` (the as-of date spoken)."""

    def words(self, p):
        extra = {"name": p.get("name", p.get("ticker"))}
        if "as_of" in p:
            extra["when"] = spoken_date(p["as_of"])
        return {**extra, **p}

    def dates(self, p):
        return [p["as_of"]] if "as_of" in p else []


class ProjectionAnswer(ProjectionTemplate):
    name = "projection_answer"
    tier = 1
    phrasings = (
        "What is the projected next-session direction for {ticker} as of {as_of}, and what is its 75% cone in basis points?",
        "As of the close on {when}, which way is {name} projected to move in the next session, and what are the bounds of its 75% cone in bps?",
        "Give me the next-day call for {name} as of {as_of}, with the 75% range for its return in basis points.",
        "I need {ticker}'s outlook for the session after {when}: the direction call and the 75% cone (bps).",
    )

    class Expected(Expected):
        ticker: str
        as_of: str
        direction: Direction
        p_up: float
        p_down: float
        cone75_bps: tuple[float, float]
        tol_bps: float

    def sample(self, rng, world, period):
        ticker, as_of, name = _draw_ticker_session(rng, world, period)
        return {"ticker": ticker, "name": name, "as_of": as_of, "wrong_date": world.previous_session(ticker, as_of)}

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        one = packet.horizons[0]
        c75 = one.cone(0.75)
        return {"ticker": packet.ticker, "as_of": packet.as_of, "direction": one.direction.call,
                "p_up": one.direction.up, "p_down": one.direction.down,
                "cone75_bps": [c75.lower_bps, c75.upper_bps], "tol_bps": TOL_BPS}

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


class ProjectionNote(ProjectionTemplate):
    name = "projection_note"
    tier = 2
    asks = False
    phrasings = (
        "Project {ticker} as of {as_of} and save a note titled '{title}' about {ticker} that records the next-session direction call and the 75% cone in bps, linked to that projection run.",
        "Run a projection for {name} as of {when}, then write a note called '{title}' on {ticker} with the direction call and the 75% cone bounds in basis points; link it to the projection run.",
        "Please document {name}'s projection as of {as_of}: a note titled '{title}' (ticker {ticker}, linked to the run) stating the next-day call and the 75% interval in bps.",
    )

    class Expected(ProjectionAnswer.Expected):
        title: str

    def sample(self, rng, world, period):
        ticker, as_of, name = _draw_ticker_session(rng, world, period)
        wrong = rng.choice([t for t in world.tickers() if t != ticker])
        title = f"{ticker} projection {as_of}"
        if title in world.note_titles():
            raise Reject("title taken")
        return {"ticker": ticker, "name": name, "as_of": as_of, "title": title, "wrong_ticker": wrong,
                "wrong_date": world.previous_session(ticker, as_of)}

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


class RankSector(ProjectionTemplate):
    name = "rank_sector"
    tier = 2
    phrasings = (
        "Among the {sector} stocks in the synthetic universe, which one has the highest projected probability of rising over the next session as of {as_of}? Add it to the '{watchlist}' watchlist.",
        "Which of the {sector} names is most likely to be up the session after {when}? Put that stock on our '{watchlist}' watchlist.",
        "As of {as_of}, find the {sector} stock with the best odds of a next-day gain and add it to '{watchlist}'.",
    )

    class Expected(Expected):
        sector_tickers: list[str]
        winner: str
        winner_p_up: float
        watchlist: str
        as_of: str

    def sample(self, rng, world, period):
        sector = rng.choice(world.sectors())
        ticker = world.tickers(source="synthetic", sector=sector)[0]
        return {"sector": sector, "as_of": world.session(rng, ticker, period),
                "watchlist": rng.choice(sorted(world.watchlists()))}

    def truth(self, p, truth):
        tickers = sorted(truth.tickers(source="synthetic", sector=p["sector"]))
        p_up = {t: truth.project(t, p["as_of"], (1,)).horizons[0].direction.up for t in tickers}
        winner = max(tickers, key=lambda t: (p_up[t], t))
        if winner in truth.watchlists().get(p["watchlist"], []):
            raise Reject(f"winner on list: {winner} is already on {p['watchlist']!r}")
        as_of = truth.project(winner, p["as_of"], (1,)).as_of
        return {"sector_tickers": tickers, "winner": winner, "winner_p_up": p_up[winner],
                "watchlist": p["watchlist"], "as_of": as_of}

    def _solution(self, p, exp, pick: str):
        return Solution(calls=[
            _call("list_tickers", source="synthetic"),
            _call("compare_projections", tickers=",".join(exp["sector_tickers"]), as_of_date=p["as_of"], rank_by="p_up"),
            _call("add_watchlist_item", watchlist=p["watchlist"], ticker=pick),
        ], answer=f"{pick} has the highest P(up) ({exp['winner_p_up']:.3f}); added it to '{p['watchlist']}'.")

    def oracle(self, p, exp):
        s = self._solution(p, exp, exp["winner"])
        return s.model_copy(update={"calls": s.calls[:2] + [_call("add_watchlist_item", watchlist=p["watchlist"], ticker="$1.data.0.ticker")]})

    def mutants(self, p, exp):
        runner_up = next(t for t in exp["sector_tickers"] if t != exp["winner"])
        return {"wrong_pick": self._solution(p, exp, runner_up)}


class VolatilityCompare(ProjectionTemplate):
    name = "volatility_compare"
    tier = 2
    phrasings = (
        "As of {as_of}, which is projected to be more volatile over the next session, {a} or {b}? Give both annualized volatilities.",
        "Compare the projected next-session volatility of {a_name} and {b_name} as of {when}: which is riskier, and what are their annualized vols?",
        "Which of {a} and {b} has the higher projected annualized volatility for the session after {as_of}? Quote both numbers.",
    )

    class Expected(Expected):
        tickers: tuple[str, str]
        as_of: str
        sigmas: dict[str, float]
        winner: str
        tol_sigma: float

    def words(self, p):
        a, b = p["tickers"]
        names = p.get("names", [a, b])
        return {**p, "a": a, "b": b, "a_name": names[0], "b_name": names[1], "when": spoken_date(p["as_of"])}

    def sample(self, rng, world, period):
        a, b = rng.sample(world.tickers(), 2)
        as_of = world.session(rng, a, period)
        return {"tickers": [a, b], "names": [world.name(a), world.name(b)], "as_of": as_of,
                "wrong_date": world.previous_session(a, as_of)}

    def truth(self, p, truth):
        packets = {t: truth.project(t, p["as_of"], (1,)) for t in p["tickers"]}
        sigmas = {k: v.horizons[0].annualized_sigma for k, v in packets.items()}
        if abs(sigmas[p["tickers"][0]] - sigmas[p["tickers"][1]]) < 0.01:
            raise Reject("too close: the two volatilities are within 1 point")
        winner = max(sigmas, key=sigmas.get)
        as_of = next(iter(packets.values())).as_of
        return {"tickers": list(p["tickers"]), "as_of": as_of, "sigmas": sigmas, "winner": winner, "tol_sigma": TOL_SIGMA}

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
        wrong_date = p["wrong_date"]
        return {
            "wrong_number": good.model_copy(update={"answer": self._answer(exp, wrong)}),
            "wrong_date": Solution(calls=[_call("get_projection", ticker=a, as_of_date=wrong_date),
                                          _call("get_projection", ticker=b, as_of_date=wrong_date)], answer=good.answer),
        }


class TrackAndProject(ProjectionTemplate):
    name = "track_and_project"
    tier = 2
    phrasings = (
        "Start tracking {ticker}, then project it as of {as_of} and tell me the price range of its 90% cone for the next session.",
        "Add {name} to the tracked tickers and give me its next-session 90% price range as of {when}.",
        "We don't track {ticker} yet: track it, and tell me where its 90% cone puts the next close, projecting as of {as_of}.",
    )

    class Expected(Expected):
        ticker: str
        as_of: str
        cone90_prices: tuple[float, float]

    def sample(self, rng, world, period):
        untracked = [t for t in world.tickers() if t not in world.tracked()]
        if not untracked:
            raise Reject("no untracked ticker")
        ticker = rng.choice(untracked)
        return {"ticker": ticker, "name": world.name(ticker), "as_of": world.session(rng, ticker, period)}

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        c90 = packet.horizons[0].cone(0.9)
        return {"ticker": packet.ticker, "as_of": packet.as_of, "cone90_prices": [c90.lower_price, c90.upper_price]}

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


TEMPLATES = (ProjectionAnswer(), ProjectionNote(), RankSector(), VolatilityCompare(), TrackAndProject())


HORIZON_SAID = {"1d": "next-session", "5d": "5-session", "21d": "21-session"}


class DriftAnswer(ProjectionTemplate):
    name = "drift_answer"
    tier = 1
    phrasings = (
        "What is the projected {h_said} drift of {ticker} as of {as_of}, in basis points?",
        "As of {when}, what expected drift does the projection give {name} over the next {n} sessions (bps)?",
        "Expected log return for {name} over the {n} sessions after {as_of}, according to our projection - in bps, please.",
    )

    class Expected(Expected):
        ticker: str
        as_of: str
        horizon: str
        drift_bps: float
        tol_bps: float

    def words(self, p):
        return {**super().words(p), "h_said": HORIZON_SAID[p["horizon"]], "n": p["horizon"][:-1]}

    def sample(self, rng, world, period):
        ticker, as_of, name = _draw_ticker_session(rng, world, period)
        return {"ticker": ticker, "name": name, "as_of": as_of, "horizon": rng.choice(("1d", "5d", "21d"))}

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        drift = next(h.drift_bps for h in packet.horizons if h.horizon == p["horizon"])
        return {"ticker": packet.ticker, "as_of": packet.as_of, "horizon": p["horizon"], "drift_bps": drift,
                "tol_bps": TOL_BPS}

    def _answer(self, exp, drift):
        return (f"As of {exp['as_of']}, the projected {HORIZON_SAID[exp['horizon']]} drift of {exp['ticker']} is "
                f"{drift:+.1f} bps (small next to the cone: direction is barely predictable).")

    def oracle(self, p, exp):
        return Solution(calls=[_call("get_projection", ticker=p["ticker"], as_of_date=p["as_of"], horizon=p["horizon"])],
                        answer=self._answer(exp, exp["drift_bps"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"off_by_5_up": good.model_copy(update={"answer": self._answer(exp, exp["drift_bps"] + 5)}),
                "off_by_5_down": good.model_copy(update={"answer": self._answer(exp, exp["drift_bps"] - 5)}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class SigmaRank(ProjectionTemplate):
    name = "sigma_rank"
    tier = 2
    phrasings = (
        "Which {sector} stock has the highest projected next-session volatility as of {as_of}, and what is its annualized volatility?",
        "Of the {sector} names, which looks riskiest for the session after {when} by projected volatility? Give me its annualized vol.",
        "As of {as_of}, rank the {sector} stocks by projected volatility: which is on top, and at what annualized level?",
    )

    class Expected(Expected):
        sector_tickers: list[str]
        winner: str
        winner_sigma: float
        runner_up: str
        runner_up_sigma: float
        as_of: str
        tol_sigma: float

    def sample(self, rng, world, period):
        sector = rng.choice(world.sectors())
        ticker = world.tickers(source="synthetic", sector=sector)[0]
        return {"sector": sector, "as_of": world.session(rng, ticker, period)}

    def truth(self, p, truth):
        tickers = sorted(truth.tickers(source="synthetic", sector=p["sector"]))
        sig = {t: truth.project(t, p["as_of"], (1,)).horizons[0].annualized_sigma for t in tickers}
        ranked = sorted(tickers, key=lambda t: -sig[t])
        if sig[ranked[0]] - sig[ranked[1]] < 0.005:
            raise Reject("too close: the top two are within half a point")
        return {"sector_tickers": tickers, "winner": ranked[0], "winner_sigma": sig[ranked[0]],
                "runner_up": ranked[1], "runner_up_sigma": sig[ranked[1]],
                "as_of": truth.project(ranked[0], p["as_of"], (1,)).as_of, "tol_sigma": TOL_SIGMA}

    def _answer(self, ticker, sigma):
        return f"{ticker} is projected to be the most volatile, at {sigma * 100:.1f}% annualized."

    def oracle(self, p, exp):
        return Solution(calls=[_call("compare_projections", tickers=",".join(exp["sector_tickers"]),
                                     as_of_date=p["as_of"], rank_by="sigma_bps")],
                        answer=self._answer(exp["winner"], exp["winner_sigma"]))

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"runner_up": good.model_copy(update={"answer": self._answer(exp["runner_up"], exp["runner_up_sigma"])}),
                "wrong_sigma": good.model_copy(update={"answer": self._answer(exp["winner"], exp["winner_sigma"] + 0.03)})}


class AlertFromProjection(ProjectionTemplate):
    name = "alert_from_projection"
    tier = 2
    asks = False
    phrasings = (
        "Project {ticker} as of {as_of}, then set an alert for when its next-session volatility in bps goes above {mult}x that projected value, rounded to the nearest basis point.",
        "Take {name}'s projection as of {when} and add an alert that fires if the next-session sigma (bps) exceeds {mult} times today's figure - round the threshold to a whole bp.",
        "I want an alert on {ticker} for next-session volatility (in bps) above {mult}x what the projection as of {as_of} shows, rounded to a whole basis point.",
    )

    class Expected(Expected):
        ticker: str
        as_of: str
        threshold: float
        tol_bps: float

    def sample(self, rng, world, period):
        ticker, as_of, name = _draw_ticker_session(rng, world, period)
        return {"ticker": ticker, "name": name, "as_of": as_of, "mult": rng.choice((1.25, 1.5, 2)),
                "wrong_date": world.previous_session(ticker, as_of)}

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["as_of"])
        return {"ticker": packet.ticker, "as_of": packet.as_of,
                "threshold": float(round(p["mult"] * packet.horizons[0].sigma_bps)), "tol_bps": TOL_BPS}

    def _solution(self, p, threshold, metric="sigma_bps"):
        return Solution(calls=[_call("get_projection", ticker=p["ticker"], as_of_date=p["as_of"]),
                               _call("create_alert", ticker=p["ticker"], metric=metric, operator=">",
                                     threshold=threshold, horizon="1d")],
                        answer=f"Alert set at {threshold:g} bps.")

    def oracle(self, p, exp):
        return self._solution(p, exp["threshold"])

    def mutants(self, p, exp):
        return {"unscaled": self._solution(p, round(exp["threshold"] / p["mult"])),
                "wrong_metric": self._solution(p, exp["threshold"], "cone75_width_bps"),
                "no_projection": Solution(calls=self._solution(p, exp["threshold"]).calls[1:], answer="Alert set.")}


TEMPLATES = TEMPLATES + (DriftAnswer(), SigmaRank(), AlertFromProjection())
