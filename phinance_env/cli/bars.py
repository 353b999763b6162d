"""``phinance-env bars``: list, show and import daily bars."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phinance_env.cli.common import open_store, run_guarded

app = typer.Typer(help="The bar store: list tickers, show bars, import your own.", no_args_is_help=True)


@app.command("list")
@run_guarded
def list_(json_out: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False) -> None:
    """List every ticker in the bar store with its source and date range."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    tickers = open_store().tickers()
    if json_out:
        for t in tickers:
            typer.echo(json.dumps(asdict(t)))
        return
    table = Table("symbol", "name", "source", "sector", "first", "last", "bars")
    for t in tickers:
        table.add_row(t.symbol, t.name, t.source, t.sector, t.first_session, t.last_session, str(t.n_bars))
    Console().print(table)


@app.command("show")
@run_guarded
def show(
    ticker: Annotated[str, typer.Argument(help="e.g. ^GSPC or NOVA (case-insensitive)")],
    start: Annotated[str | None, typer.Option(help="first date, YYYY-MM-DD (inclusive)")] = None,
    end: Annotated[str | None, typer.Option(help="last date, YYYY-MM-DD (inclusive)")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Show one ticker's daily bars in [start, end]."""
    from phinance_env.errors import BadRange
    from phinance_env.market import parse_date

    store = open_store()
    lo = parse_date(start, "start") if start else None
    hi = parse_date(end, "end") if end else None
    if lo and hi and lo > hi:
        raise BadRange(f"start {lo} is after end {hi}; give start <= end")
    frame = store.bars(ticker, lo, hi)
    if frame.empty:
        info = store.ticker(ticker)
        raise BadRange(f"no bars of {info.symbol} in that range; data {info.first_session}..{info.last_session}")
    typer.echo(frame.to_csv().rstrip("\n") if csv else frame.to_string())


@app.command("import")
@run_guarded
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet with date,open,high,low,close[,volume]")],
    ticker: Annotated[str, typer.Option(help="symbol to store the bars under")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    replace: Annotated[bool, typer.Option(help="overwrite an earlier import of this ticker")] = False,
) -> None:
    """Validate and import your own daily bars; a rejected file writes nothing."""
    from phinance_env.market.importer import import_bars

    result = import_bars(open_store(), file, ticker, name, replace)
    typer.echo(f"imported {result['rows']} bars of {result['ticker']} "
               f"({result['first_session']}..{result['last_session']})")
