from fastapi import APIRouter, Response
from pydantic import Field

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import ERROR_RESPONSES, DateText, TickerText, Wire
from toy_desk.tables import CloseLog

router = APIRouter(tags=["toy"], responses=ERROR_RESPONSES)


class RecordClose(Wire):
    ticker: TickerText
    date: DateText


class RecordedClose(Wire):
    id: int
    ticker: str
    session: str = Field(description="the session recorded (a non-session date resolves to the one before)")
    close: float


@router.post("/close_log", operation_id="record_close", response_model=RecordedClose)
def record_close(ctx: ContextDep, body: RecordClose) -> Response:
    """Look up a ticker's close on a date and record it in the close log."""
    import datetime as dt

    with ctx.call("record_close", **body.model_dump()) as call:
        bars = ctx.store.bars(body.ticker, None, dt.date.fromisoformat(body.date))
        row = CloseLog(ticker=ctx.store.ticker(body.ticker).symbol, session=str(bars.index[-1].date()),
                       close=round(float(bars["close"].iloc[-1]), 4))
        call.db.add(row)
        call.db.flush()
        result = RecordedClose(id=row.id, ticker=row.ticker, session=row.session, close=row.close)
    return answer(result)
