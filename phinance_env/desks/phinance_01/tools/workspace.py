"""Workspace tools: watchlists, alerts, notes and tracked tickers. Writes change only
what they name; a refused write changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import add_examples, ERROR_RESPONSES, text, ticker_list
from phinance_env.desks.phinance_01.schemas import (
    AlertCreate, AlertList, AlertPublic, AlertsDeleted, Deleted, NoteCreate, NoteList, NotePublic, TickerPublic, TrackRequest, Untracked, WatchlistCreate, WatchlistItemCreate, WatchlistItemPublic, WatchlistList, WatchlistPublic,
)
from phinance_env.errors import Conflict, NotFound, PhinanceError
from phinance_env.desks.phinance_01.tables import (
    Alert, BacktestRun, Note, ProjectionRun, TrackedTicker, Watchlist, WatchlistItem,
)

router = APIRouter(tags=["workspace"], responses=ERROR_RESPONSES)
NameQuery = Annotated[str, Query(description="watchlist name"), text(64)]
TickerQuery = Annotated[str, Query(description="ticker symbol"), text(40)]
THRESHOLD_RANGES = {  # metric -> (accepts, accepted range as text)
    "p_up": (lambda x: 0 < x < 1, "(0, 1)"),
    "p_down": (lambda x: 0 < x < 1, "(0, 1)"),
    "drift_bps": (lambda x: -5000 <= x <= 5000, "[-5000, 5000]"),
    "sigma_bps": (lambda x: 0 < x <= 20000, "(0, 20000]"),
    "cone75_width_bps": (lambda x: 0 < x <= 20000, "(0, 20000]"),
    "annualized_sigma": (lambda x: 0 < x <= 5, "(0, 5]"),
}


def _watchlist(db, name: str) -> Watchlist:
    wl = db.scalar(select(Watchlist).where(Watchlist.name == name.strip()))
    if wl is None:
        names = ", ".join(db.scalars(select(Watchlist.name).order_by(Watchlist.name))) or "none"
        raise NotFound(f"no watchlist named {name.strip()[:64]!r}; existing: {names}")
    return wl


def _watchlist_public(wl: Watchlist) -> WatchlistPublic:
    return WatchlistPublic(id=wl.id, name=wl.name, description=wl.description,
                           items=[WatchlistItemPublic(ticker=i.ticker, note=i.note) for i in wl.items])


def _symbols(ctx, tickers: str | list[str]) -> list[str]:
    parsed = ticker_list(tickers)
    items = parsed.split(",") if isinstance(parsed, str) else parsed
    symbols = [ctx.store.ticker(t).symbol for t in items if str(t).strip()]
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise PhinanceError(f"duplicate ticker(s) {', '.join(dupes)}: list each symbol once")
    if len(symbols) > 50:
        raise PhinanceError(f"{len(symbols)} tickers given; a watchlist holds at most 50")
    return symbols


@router.post("/watchlists", operation_id="create_watchlist", response_model=WatchlistPublic)
def create_watchlist(ctx: ContextDep, body: WatchlistCreate) -> Response:
    """Create a watchlist: a unique name (1-64 characters), an optional description (up to
    500) and optional initial tickers (comma-separated, each once, at most 50). Answers with
    the new watchlist. A name in use gives 409; an unknown ticker 404; duplicates 422."""
    with ctx.call("create_watchlist", **body.model_dump()) as call:
        symbols = _symbols(ctx, body.tickers)
        if call.db.scalar(select(Watchlist.id).where(Watchlist.name == body.name)) is not None:
            raise Conflict(f"a watchlist named {body.name!r} already exists; pick another name")
        wl = Watchlist(name=body.name, description=body.description,
                       items=[WatchlistItem(ticker=s, note="") for s in symbols])
        call.db.add(wl)
        call.db.flush()
        result = _watchlist_public(wl)
    return answer(result)


@router.get("/watchlists", operation_id="list_watchlists", response_model=WatchlistList)
def list_watchlists(ctx: ContextDep) -> Response:
    """All watchlists, by name, each with its id, description and tickers (with their notes)."""
    with ctx.call("list_watchlists") as call:
        rows = call.db.scalars(select(Watchlist).options(selectinload(Watchlist.items)).order_by(Watchlist.name)).all()
        data = [_watchlist_public(w) for w in rows]
    return answer(WatchlistList(data=data, count=len(data), total=len(data)))


@router.delete("/watchlists", operation_id="delete_watchlist", response_model=Deleted)
def delete_watchlist(ctx: ContextDep, name: NameQuery) -> Response:
    """Delete a watchlist and its items by name (exact, as list_watchlists shows it). The
    tickers themselves, their tracking and alerts stay. Unknown names give 404 listing the
    watchlists."""
    with ctx.call("delete_watchlist", name=name) as call:
        wl = _watchlist(call.db, name)
        call.db.delete(wl)
    return answer(Deleted(deleted=f"watchlist {wl.name!r}"))


@router.post("/watchlists/items", operation_id="add_watchlist_item", response_model=WatchlistPublic)
def add_watchlist_item(ctx: ContextDep, body: WatchlistItemCreate) -> Response:
    """Add a ticker (with an optional note, up to 500 characters) to an existing watchlist;
    answers with the updated watchlist. A ticker already on it gives 409; an unknown
    watchlist or ticker 404; a full watchlist (50 tickers) 422."""
    with ctx.call("add_watchlist_item", **body.model_dump()) as call:
        wl = _watchlist(call.db, body.watchlist)
        symbol = ctx.store.ticker(body.ticker).symbol
        if any(i.ticker == symbol for i in wl.items):
            raise Conflict(f"{symbol} is already on watchlist {wl.name!r}")
        if len(wl.items) >= 50:
            raise PhinanceError(f"watchlist {wl.name!r} is full (50 tickers)")
        wl.items.append(WatchlistItem(ticker=symbol, note=body.note))
        call.db.flush()
        result = _watchlist_public(wl)
    return answer(result)


@router.delete("/watchlists/items", operation_id="remove_watchlist_item", response_model=WatchlistPublic)
def remove_watchlist_item(ctx: ContextDep, watchlist: NameQuery, ticker: TickerQuery) -> Response:
    """Remove a ticker from a watchlist; answers with the updated watchlist. An unknown
    watchlist, or a ticker not on it, gives 404 (the message lists what is there)."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("remove_watchlist_item", watchlist=watchlist, ticker=ticker) as call:
        wl = _watchlist(call.db, watchlist)
        symbol = normalize_symbol(ticker)
        item = next((i for i in wl.items if i.ticker == symbol), None)
        if item is None:
            on_list = ", ".join(i.ticker for i in wl.items) or "none"
            raise NotFound(f"{symbol} is not on watchlist {wl.name!r}; on it: {on_list}")
        wl.items.remove(item)
        call.db.flush()
        result = _watchlist_public(wl)
    return answer(result)


@router.post("/alerts", operation_id="create_alert", response_model=AlertPublic)
def create_alert(ctx: ContextDep, body: AlertCreate) -> Response:
    """Create an active alert on a ticker: the condition `metric` `operator` `threshold` on
    its projection at `horizon` (e.g. sigma_bps > 150 at 1d). Metrics: p_up, p_down
    (probabilities, 0-1), drift_bps, sigma_bps, cone75_width_bps (bps), annualized_sigma
    (fraction). The alert is stored in the workspace (list_alerts); this tool does not
    evaluate it. A threshold outside the metric's range or a bad horizon gives 422; an
    unknown ticker 404; an identical alert 409."""
    from phinance_env.projection.engine import parse_horizon

    with ctx.call("create_alert", **body.model_dump()) as call:
        symbol = ctx.store.ticker(body.ticker).symbol
        horizon = f"{parse_horizon(body.horizon)}d"
        accepts, accepted = THRESHOLD_RANGES[body.metric]
        if not accepts(body.threshold):
            raise PhinanceError(f"threshold {body.threshold} is out of range for {body.metric}: accepted {accepted}")
        same = select(Alert.id).where(Alert.ticker == symbol, Alert.metric == body.metric,
                                      Alert.operator == body.operator, Alert.threshold == body.threshold,
                                      Alert.horizon == horizon)
        if call.db.scalar(same) is not None:
            raise Conflict(f"an identical alert on {symbol} already exists")
        alert = Alert(ticker=symbol, metric=body.metric, operator=body.operator,
                      threshold=body.threshold, horizon=horizon, active=True)
        call.db.add(alert)
        call.db.flush()
        result = AlertPublic.model_validate(alert, from_attributes=True)
    return answer(result)


@router.get("/alerts", operation_id="list_alerts", response_model=AlertList)
def list_alerts(
    ctx: ContextDep,
    ticker: Annotated[str | None, Query(description="only this ticker"), text(40)] = None,
    active_only: Annotated[bool, Query(description="only active alerts")] = False,
) -> Response:
    """Alerts by id: ticker, metric, operator, threshold, horizon and whether active.
    Filter by ticker and/or active_only."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("list_alerts", ticker=ticker, active_only=active_only) as call:
        query = select(Alert).order_by(Alert.id)
        if ticker:
            query = query.where(Alert.ticker == normalize_symbol(ticker))
        if active_only:
            query = query.where(Alert.active.is_(True))
        data = [AlertPublic.model_validate(a, from_attributes=True) for a in call.db.scalars(query)]
    return answer(AlertList(data=data, count=len(data), total=len(data)))


@router.delete("/alerts", operation_id="delete_alert", response_model=AlertsDeleted)
def delete_alert(
    ctx: ContextDep,
    alert_id: Annotated[int | None, Query(ge=1, le=2**62, description="id of the one alert to delete")] = None,
    ticker: Annotated[str | None, Query(description="delete every alert on this ticker instead"), text(40)] = None,
) -> Response:
    """Delete alerts: one by `alert_id`, or every alert (active or not) on `ticker`. Give
    exactly one of the two (422 otherwise). The answer lists the deleted ids. An unknown id,
    or a ticker with no alerts, gives 404 and deletes nothing."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("delete_alert", alert_id=alert_id, ticker=ticker) as call:
        if (alert_id is None) == (ticker is None):
            raise PhinanceError("give exactly one of alert_id (one alert) or ticker (all of its alerts)"
                                + ("; got both" if ticker is not None else ""))
        if alert_id is not None:
            alerts = [a for a in [call.db.get(Alert, alert_id)] if a is not None]
            if not alerts:
                raise NotFound(f"no alert with id {alert_id}; list_alerts shows the ids")
            what = f"alert {alert_id}"
        else:
            symbol = normalize_symbol(ticker)
            alerts = call.db.scalars(select(Alert).where(Alert.ticker == symbol).order_by(Alert.id)).all()
            if not alerts:
                having = ", ".join(call.db.scalars(select(Alert.ticker).distinct().order_by(Alert.ticker))) or "none"
                raise NotFound(f"no alerts on {symbol}; tickers with alerts: {having}")
            what = f"{len(alerts)} alert(s) on {symbol}"
        ids = [a.id for a in alerts]
        for alert in alerts:
            call.db.delete(alert)
    return answer(AlertsDeleted(deleted=what, alert_ids=ids, count=len(ids)))


@router.post("/notes", operation_id="create_note", response_model=NotePublic)
def create_note(ctx: ContextDep, body: NoteCreate) -> Response:
    """Save a research note: title (1-200 characters) and body (1-10,000), optionally about
    a ticker and linked to a projection run and/or a backtest run (ids from the run logs).
    Answers with the note and its id. An unknown ticker or run id gives 404."""
    with ctx.call("create_note", **body.model_dump()) as call:
        symbol = ctx.store.ticker(body.ticker).symbol if body.ticker else None
        if body.projection_run_id and call.db.get(ProjectionRun, body.projection_run_id) is None:
            raise NotFound(f"no projection run with id {body.projection_run_id}")
        if body.backtest_run_id and call.db.get(BacktestRun, body.backtest_run_id) is None:
            raise NotFound(f"no backtest run with id {body.backtest_run_id}")
        note = Note(title=body.title, body=body.body, ticker=symbol,
                    projection_run_id=body.projection_run_id, backtest_run_id=body.backtest_run_id)
        call.db.add(note)
        call.db.flush()
        result = NotePublic.model_validate(note, from_attributes=True)
    return answer(result)


@router.get("/notes", operation_id="list_notes", response_model=NoteList)
def list_notes(
    ctx: ContextDep,
    ticker: Annotated[str | None, Query(description="only notes about this ticker"), text(40)] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="page size, 1-100")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")] = 0,
) -> Response:
    """Research notes, newest first: title, body, ticker and linked run ids. Filter by
    ticker; page with limit (1-100) and offset; `total` counts every match."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("list_notes", ticker=ticker, limit=limit, offset=offset) as call:
        query = select(Note)
        if ticker:
            query = query.where(Note.ticker == normalize_symbol(ticker))
        total = call.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = call.db.scalars(query.order_by(Note.id.desc()).limit(limit).offset(offset))
        data = [NotePublic.model_validate(n, from_attributes=True) for n in rows]
    return answer(NoteList(data=data, count=len(data), total=total))


@router.post("/tracked", operation_id="track_ticker", response_model=TickerPublic)
def track_ticker(ctx: ContextDep, body: TrackRequest) -> Response:
    """Start tracking a ticker of the bar store (list_tickers(tracked_only=true) lists the
    tracked ones); answers with the ticker. Unknown tickers give 404; already tracked 409."""
    with ctx.call("track_ticker", **body.model_dump()) as call:
        t = ctx.store.ticker(body.ticker)
        if call.db.scalar(select(TrackedTicker.id).where(TrackedTicker.symbol == t.symbol)):
            raise Conflict(f"{t.symbol} is already tracked")
        call.db.add(tracked_row(t))
    return answer(TickerPublic(symbol=t.symbol, name=t.name, source=t.source, sector=t.sector,
                        first_session=t.first_session, last_session=t.last_session,
                        bar_count=t.n_bars, tracked=True))


@router.delete("/tracked", operation_id="untrack_ticker", response_model=Untracked)
def untrack_ticker(ctx: ContextDep, ticker: TickerQuery) -> Response:
    """Stop tracking a ticker. Only the tracking goes: its alerts, runs, notes and watchlist
    entries stay, and `alerts_remaining` in the answer counts the alerts left on it (delete
    them with delete_alert(ticker=...)). A ticker not tracked gives 404."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("untrack_ticker", ticker=ticker) as call:
        symbol = normalize_symbol(ticker)
        row = call.db.scalar(select(TrackedTicker).where(TrackedTicker.symbol == symbol))
        if row is None:
            raise NotFound(f"{symbol} is not tracked; list_tickers(tracked_only=true) shows tracked tickers")
        call.db.delete(row)
        remaining = call.db.scalar(select(func.count(Alert.id)).where(Alert.ticker == symbol))
    return answer(Untracked(deleted=f"tracked ticker {symbol}", ticker=symbol, alerts_remaining=remaining))


def tracked_row(t) -> TrackedTicker:
    return TrackedTicker(symbol=t.symbol, name=t.name, source=t.source, sector=t.sector,
                         first_session=t.first_session, last_session=t.last_session, bar_count=t.n_bars)


add_examples(router, Path(__file__).with_name("examples.json"))
