"""Tier 3: research workflows that decide on intermediate results and end in workspace
edits, and tasks whose likely first attempt fails (a non-session date, a taken name)."""

from __future__ import annotations

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.phinance_01.templates.projections import ProjectionTemplate
from phinance_env.desks.phinance_01.templates.world import TOL_BPS, TOL_PROB, listing, spoken_date
from phinance_env.desks.phinance_01.templates.workspace import LIST_WORDS


def _p_up(truth, tickers: list[str], as_of: str) -> dict[str, float]:
    return {t: truth.project(t, as_of, (1,)).horizons[0].direction.up for t in tickers}


class WatchlistFromRank(ProjectionTemplate):
    name = "watchlist_from_rank"
    tier = 3
    asks = False
    phrasings = (
        "As of {as_of}, create a watchlist called '{name}' holding the three {sector} stocks with the highest projected probability of rising next session, and save a note titled '{title}' listing them with their P(up).",
        "Build a '{name}' watchlist from the top three {sector} names by next-day P(up) as of {when}, then write a note '{title}' with each one's probability.",
        "Screen the {sector} stocks as of {as_of}: put the three most likely to rise next session on a new watchlist '{name}' and record them and their P(up) in a note titled '{title}'.",
    )

    class Expected(Expected):
        name: str
        title: str
        as_of: str
        sector_tickers: list[str]
        top3: list[str]
        p_up: dict[str, float]
        tol_prob: float

    def sample(self, rng, world, period):
        sector = rng.choice(world.sectors())
        ticker = world.tickers(source="synthetic", sector=sector)[0]
        as_of = world.session(rng, ticker, period)
        name = f"{sector} {rng.choice(LIST_WORDS)} {as_of[:7]}"
        if name in world.watchlists():
            raise Reject("name taken")
        return {"sector": sector, "as_of": as_of, "name": name, "title": f"{sector} screen {as_of}"}

    def truth(self, p, truth):
        tickers = sorted(truth.tickers(source="synthetic", sector=p["sector"]))
        p_up = _p_up(truth, tickers, p["as_of"])
        ranked = sorted(tickers, key=lambda t: (-p_up[t], t))
        if p_up[ranked[2]] - p_up[ranked[3]] < 0.002:
            raise Reject("too close: third and fourth are within 0.002")
        return {"name": p["name"], "title": p["title"], "as_of": truth.project(tickers[0], p["as_of"], (1,)).as_of,
                "sector_tickers": tickers, "top3": sorted(ranked[:3]), "p_up": {t: p_up[t] for t in ranked[:3]},
                "tol_prob": TOL_PROB}

    def _solution(self, p, exp, picks, p_up):
        body = "; ".join(f"{t}: P(up) {p_up[t]:.2f}" for t in picks) + ". Next-day direction is close to a coin flip."
        return Solution(calls=[
            _call("compare_projections", tickers=",".join(exp["sector_tickers"]), as_of_date=p["as_of"], rank_by="p_up"),
            _call("create_watchlist", name=p["name"], tickers=",".join(picks)),
            _call("create_note", title=p["title"], body=body),
        ], answer=f"Created '{p['name']}' with {listing(picks)} and saved the note '{p['title']}'.")

    def oracle(self, p, exp):
        return self._solution(p, exp, exp["top3"], exp["p_up"])

    def mutants(self, p, exp):
        fourth = next(t for t in exp["sector_tickers"] if t not in exp["top3"])
        wrong = exp["top3"][:2] + [fourth]
        shifted = {t: v + 0.05 for t, v in exp["p_up"].items()}
        good = self.oracle(p, exp)
        return {"wrong_third": self._solution(p, exp, wrong, {**exp["p_up"], fourth: 0.5}),
                "wrong_probabilities": self._solution(p, exp, exp["top3"], shifted),
                "no_note": Solution(calls=good.calls[:2], answer=good.answer)}


class HolidayProjection(ProjectionTemplate):
    name = "holiday_projection"
    tier = 3
    phrasings = (
        "Project {ticker} as of {requested} and tell me which trading session the projection is actually as of, and its 75% cone in bps.",
        "I need {name}'s projection for {requested_said}. Which session does it really use, and what is the 75% cone in basis points?",
        "Run {name}'s projection dated {requested}; report the session it is based on and the lower and upper 75% cone bounds (bps).",
    )

    class Expected(Expected):
        ticker: str
        requested: str
        as_of: str
        cone75_bps: tuple[float, float]
        tol_bps: float

    def words(self, p):
        return {**super().words(p), "requested_said": spoken_date(p["requested"])}

    def dates(self, p):
        return [p["requested"], p["as_of"]]

    def sample(self, rng, world, period):
        ticker = rng.choice(world.tickers())
        requested = world.non_session(rng, period, ticker)
        return {"ticker": ticker, "name": world.name(ticker), "requested": requested,
                "as_of": world.previous_session(ticker, requested)}

    def truth(self, p, truth):
        packet = truth.project(p["ticker"], p["requested"])
        c75 = packet.horizons[0].cone(0.75)
        if packet.as_of != p["as_of"]:
            raise Reject(f"resolved elsewhere: {p['requested']} resolves to {packet.as_of}")
        return {"ticker": packet.ticker, "requested": p["requested"], "as_of": packet.as_of,
                "cone75_bps": [c75.lower_bps, c75.upper_bps], "tol_bps": TOL_BPS}

    def _answer(self, exp, session, lo, hi):
        return (f"{exp['requested']} was not a trading session, so the projection is as of {session}, the "
                f"session before. Its next-session 75% cone is [{lo:+.0f}, {hi:+.0f}] bps.")

    def oracle(self, p, exp):
        lo, hi = exp["cone75_bps"]
        return Solution(calls=[_call("get_projection", ticker=p["ticker"], as_of_date=p["requested"])],
                        answer=self._answer(exp, exp["as_of"], lo, hi))

    def mutants(self, p, exp):
        lo, hi = exp["cone75_bps"]
        good = self.oracle(p, exp)
        return {"requested_as_session": good.model_copy(update={"answer": (
                    f"The projection is as of {exp['requested']}; its 75% cone is [{lo:+.0f}, {hi:+.0f}] bps.")}),
                "wrong_cone": good.model_copy(update={"answer": self._answer(exp, exp["as_of"], lo - 15, hi)}),
                "no_tool_call": Solution(calls=[], answer=good.answer)}


class ExistingWatchlistAdd(Template):
    name = "existing_watchlist_add"
    tier = 3
    asks = False
    dated = False
    phrasings = (
        "Add {a} and {b} to a watchlist called '{watchlist}' - create it if it doesn't exist yet.",
        "Make sure {a_name} and {b_name} are on a watchlist named '{watchlist}'; set that watchlist up first if we don't have one.",
        "Put {a} and {b} on '{watchlist}' (create the watchlist if needed).",
    )

    class Expected(Expected):
        watchlist: str
        before: list[str]
        added: list[str]

    def words(self, p):
        a, b = p["tickers"]
        names = p.get("names") or [a, b]
        return {**p, "a": a, "b": b, "a_name": names[0], "b_name": names[1]}

    def sample(self, rng, world, period):
        lists = world.watchlists()
        watchlist = rng.choice(sorted(lists))
        pool = [t for t in world.tickers(projectable=False) if t not in lists[watchlist]]
        a, b = sorted(rng.sample(pool, 2))
        return {"watchlist": watchlist, "tickers": [a, b], "names": [world.name(a), world.name(b)]}

    def truth(self, p, truth):
        return {"watchlist": p["watchlist"], "before": truth.watchlists()[p["watchlist"]],
                "added": [truth.store.ticker(t).symbol for t in p["tickers"]]}

    def oracle(self, p, exp):
        a, b = exp["added"]
        return Solution(calls=[_call("list_watchlists"),
                               _call("add_watchlist_item", watchlist=p["watchlist"], ticker=a),
                               _call("add_watchlist_item", watchlist=p["watchlist"], ticker=b)],
                        answer=f"'{p['watchlist']}' already existed; added {a} and {b} to it.")

    def mutants(self, p, exp):
        a, b = exp["added"]
        good = self.oracle(p, exp)
        return {"only_one": Solution(calls=good.calls[:2], answer=good.answer),
                "second_list": Solution(calls=[_call("create_watchlist", name=p["watchlist"] + " (2)", tickers=f"{a},{b}")],
                                        answer="Created a new list."),
                "replaced_list": Solution(calls=[_call("delete_watchlist", name=p["watchlist"]),
                                                 _call("create_watchlist", name=p["watchlist"], tickers=f"{a},{b}")],
                                          answer="Done.")}


class ResearchReview(ProjectionTemplate):
    name = "research_review"
    tier = 3
    asks = False
    phrasings = (
        "Review the '{watchlist}' watchlist as of {as_of}: project every stock on it, remove the one with the lowest probability of rising next session, and save a note titled '{title}' naming the stock you removed.",
        "Go through '{watchlist}' as of {when}: whichever member has the weakest next-day P(up) comes off the list, and log a note '{title}' saying which one it was.",
        "As of {as_of}, drop the least likely riser (lowest next-session P(up)) from the '{watchlist}' watchlist and write a note titled '{title}' that names it.",
    )

    class Expected(Expected):
        watchlist: str
        as_of: str
        before: list[str]
        loser: str
        p_up: dict[str, float]
        title: str

    def sample(self, rng, world, period):
        lists = {n: items for n, items in world.watchlists().items()
                 if len([t for t in items if t in world.tickers()]) >= 2}
        watchlist = rng.choice(sorted(lists))
        as_of = world.session(rng, lists[watchlist][0], period)
        title = f"{watchlist} review {as_of}"
        return {"watchlist": watchlist, "as_of": as_of, "title": title}

    def truth(self, p, truth):
        before = truth.watchlists()[p["watchlist"]]
        members = [t for t in before if t in truth.tickers()]
        p_up = _p_up(truth, members, p["as_of"])
        ranked = sorted(members, key=lambda t: (p_up[t], t))
        if p_up[ranked[1]] - p_up[ranked[0]] < 0.002:
            raise Reject("too close: the two weakest are within 0.002")
        return {"watchlist": p["watchlist"], "as_of": truth.project(members[0], p["as_of"], (1,)).as_of,
                "before": before, "loser": ranked[0], "p_up": p_up, "title": p["title"]}

    def _solution(self, p, exp, removed):
        members = list(exp["p_up"])
        return Solution(calls=[
            _call("list_watchlists"),
            *[_call("get_projection", ticker=t, as_of_date=p["as_of"], horizon="1d") for t in members],
            _call("remove_watchlist_item", watchlist=p["watchlist"], ticker=removed),
            _call("create_note", title=p["title"],
                  body=f"Removed {removed} from {p['watchlist']}: lowest next-session P(up) ({exp['p_up'][removed]:.2f})."),
        ], answer=f"Removed {removed}; note '{p['title']}' saved.")

    def oracle(self, p, exp):
        return self._solution(p, exp, exp["loser"])

    def mutants(self, p, exp):
        best = max(exp["p_up"], key=exp["p_up"].get)
        good = self.oracle(p, exp)
        return {"removed_best": self._solution(p, exp, best),
                "no_note": Solution(calls=good.calls[:-1], answer=good.answer),
                "no_projections": Solution(calls=[good.calls[0], *good.calls[-2:]], answer=good.answer)}


TEMPLATES = (WatchlistFromRank(), HolidayProjection(), ExistingWatchlistAdd(), ResearchReview())
