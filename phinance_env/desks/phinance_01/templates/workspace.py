"""Templates about the research workspace: watchlists, alerts and tracked tickers."""

from __future__ import annotations

from phinance_env.awm.contract import Expected, Reject, Template
from phinance_env.awm.contract import call as _call
from phinance_env.awm.solution import Solution
from phinance_env.desks.phinance_01.templates.world import listing

LIST_WORDS = ("Basket", "Shortlist", "Picks", "Radar", "Focus", "Candidates", "Review", "Bench")
LIST_THEMES = ("Q3", "Q4", "Core", "Defensive", "Growth", "Value", "Momentum", "Income", "Macro", "Swing")


class CreateWatchlist(Template):
    name = "create_watchlist"
    tier = 1
    asks = False
    dated = False
    phrasings = (
        "Create a watchlist named '{name}' containing {tickers_said}.",
        "Set up a new watchlist called '{name}' with {names_said} on it.",
        "Please start a '{name}' watchlist and put {names_said} in it.",
    )

    class Expected(Expected):
        name: str
        tickers: list[str]

    def words(self, p):
        return {**p, "tickers_said": listing(p["tickers"]), "names_said": listing(p.get("names", p["tickers"]))}

    def sample(self, rng, world, period):
        name = f"{rng.choice(LIST_THEMES)} {rng.choice(LIST_WORDS)}"
        if name in world.watchlists():
            raise Reject("name taken")
        tickers = sorted(rng.sample(world.tickers(projectable=False), rng.randint(2, 4)))
        wrong = rng.choice([t for t in world.tickers() if t not in tickers])
        return {"name": name, "tickers": tickers, "names": [world.name(t) for t in tickers], "wrong_ticker": wrong}

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


METRIC_WORDS = {  # metric -> (how people say it, how the threshold is said from its value)
    "p_up": ("probability of a rise", lambda v: f"{v:.0%}"),
    "p_down": ("probability of a fall", lambda v: f"{v:.0%}"),
    "annualized_sigma": ("annualized volatility", lambda v: f"{v:.0%}"),
    "sigma_bps": ("volatility in basis points", lambda v: f"{v:g} bps"),
    "drift_bps": ("expected drift", lambda v: f"{v:g} bps"),
    "cone75_width_bps": ("75% cone width", lambda v: f"{v:g} bps"),
}
THRESHOLDS = {
    "p_up": (0.55, 0.6, 0.65, 0.7), "p_down": (0.55, 0.6, 0.65, 0.7),
    "annualized_sigma": (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5), "sigma_bps": (100.0, 125.0, 150.0, 200.0, 250.0),
    "drift_bps": (-10.0, -5.0, 5.0, 10.0), "cone75_width_bps": (150.0, 200.0, 250.0, 300.0),
}
HORIZON_WORDS = {"1d": "next-session", "5d": "5-session", "21d": "21-session"}


class CreateAlert(Template):
    name = "create_alert"
    tier = 1
    asks = False
    dated = False
    phrasings = (
        "Alert me when {name}'s {horizon_said} {metric_said} goes {above_below} {threshold_said}.",
        "Set up an alert on {ticker}: notify when its projected {horizon_said} {metric_said} is {above_below} {threshold_said}.",
        "I want to know if the {horizon_said} {metric_said} of {name} ends up {above_below} {threshold_said} - add an alert for that.",
    )

    class Expected(Expected):
        ticker: str
        metric: str
        operator: str
        threshold: float
        horizon: str

    def words(self, p):
        said, fmt = METRIC_WORDS[p["metric"]]
        return {**p, "name": p.get("name", p["ticker"]), "metric_said": said, "threshold_said": fmt(p["threshold"]),
                "horizon_said": HORIZON_WORDS[p["horizon"]], "above_below": "above" if p["operator"] == ">" else "below"}

    def sample(self, rng, world, period):
        metric = rng.choice(sorted(METRIC_WORDS))
        ticker = rng.choice(world.tickers())
        operator = rng.choice((">", "<"))
        threshold = rng.choice(THRESHOLDS[metric])
        horizon = rng.choice(("1d", "1d", "5d", "21d"))
        same = world.query("SELECT id FROM alerts WHERE ticker = ? AND metric = ? AND operator = ? AND threshold = ?"
                           " AND horizon = ?", (ticker, metric, operator, threshold, horizon))
        if same:
            raise Reject("alert exists")
        wrong = rng.choice([t for t in world.tickers() if t != ticker])
        return {"ticker": ticker, "name": world.name(ticker), "metric": metric, "operator": operator,
                "threshold": threshold, "horizon": horizon, "wrong_ticker": wrong}

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
            "wrong_threshold": self._solution(**{**p, "threshold": round(p["threshold"] * 1.1, 4)}),
            "wrong_operator": self._solution(**{**p, "operator": flip}),
            "wrong_ticker": self._solution(**{**p, "ticker": p["wrong_ticker"]}),
        }


class CleanupWatchlist(Template):
    name = "cleanup_watchlist"
    tier = 2
    asks = False
    dated = False
    phrasings = (
        "Remove {ticker} from the '{watchlist}' watchlist and delete the '{delete}' watchlist.",
        "Tidy up: take {ticker} off '{watchlist}', and get rid of the '{delete}' list entirely.",
        "We no longer need the '{delete}' watchlist - delete it - and drop {ticker} from '{watchlist}'.",
    )

    class Expected(Expected):
        ticker: str
        watchlist: str
        delete: str

    def sample(self, rng, world, period):
        lists = world.watchlists()
        watchlist = rng.choice(sorted(n for n, items in lists.items() if items))
        ticker = rng.choice(lists[watchlist])
        delete = rng.choice(sorted(n for n in lists if n != watchlist))
        others = [t for t in lists[watchlist] if t != ticker] or [t for t in world.tickers() if t != ticker]
        return {"ticker": ticker, "watchlist": watchlist, "delete": delete, "wrong_ticker": rng.choice(others)}

    def truth(self, p, truth):
        return {"ticker": truth.store.ticker(p["ticker"]).symbol, "watchlist": p["watchlist"], "delete": p["delete"]}

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


class UntrackAndAlerts(Template):
    name = "untrack_and_alerts"
    tier = 2
    asks = False
    dated = False
    phrasings = (
        "Stop tracking {ticker} and delete all of its alerts.",
        "We're done with {ticker}: untrack it and remove every alert on it.",
        "Drop {ticker} from the tracked tickers, and clear out all alerts set on it.",
    )

    class Expected(Expected):
        ticker: str
        alert_ids: list[int]

    def sample(self, rng, world, period):
        candidates = [t for t in world.alert_tickers() if t in world.tracked()]
        if not candidates:
            raise Reject("no tracked ticker with alerts")
        return {"ticker": rng.choice(candidates)}

    def truth(self, p, truth):
        symbol = truth.store.ticker(p["ticker"]).symbol
        ids = [r[0] for r in truth.query("SELECT id FROM alerts WHERE ticker = ? ORDER BY id", (symbol,))]
        if not ids:
            raise Reject(f"no alerts: {symbol} has no alerts in the initial state")
        return {"ticker": symbol, "alert_ids": ids}

    def oracle(self, p, exp):
        return Solution(calls=[_call("list_alerts", ticker=p["ticker"])]
                        + [_call("delete_alert", alert_id=i) for i in exp["alert_ids"]]
                        + [_call("untrack_ticker", ticker=p["ticker"])], answer="Done.")

    def mutants(self, p, exp):
        good = self.oracle(p, exp)
        return {"kept_one_alert": Solution(calls=good.calls[:1] + good.calls[2:], answer="Done."),
                "still_tracked": Solution(calls=good.calls[:-1], answer="Done.")}


TEMPLATES = (CreateWatchlist(), CreateAlert(), CleanupWatchlist(), UntrackAndAlerts())
