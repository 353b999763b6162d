"""The blotter as a ledger, on hand-worked fills: holdings as of a session, and whether a new
order keeps cash and every position >= 0 from its session on (later trades still payable)."""

from __future__ import annotations

from phinance_env.desks.portfolio_risk_01.ledger import (
    Fill, book_as_of, cash_after, fill_amount, infeasible, positions_after,
)

# Starting cash 10,000. 2018-01-02 buy 50 AAA @ 100 (5,000); 2018-03-01 buy 20 BBB @ 200
# (4,000); 2018-06-01 sell 30 AAA @ 150 (+4,500). Cash: 5,000 -> 1,000 -> 5,500.
FILLS = [
    Fill("2018-01-02", "AAA", 50, 5_000.0),
    Fill("2018-03-01", "BBB", 20, 4_000.0),
    Fill("2018-06-01", "AAA", -30, -4_500.0),
]


def test_fill_amount_rounds_to_the_cent():
    assert fill_amount(3, 33.333) == 100.0  # 99.999
    assert fill_amount(7, 12.3456) == 86.42  # 86.4192
    assert fill_amount(1, 0.005) in (0.0, 0.01)  # binary halves: either cent, never more


def test_book_as_of_takes_fills_on_or_before_the_session():
    before = book_as_of(10_000.0, FILLS, "2017-12-29")
    assert before.positions == {} and before.cash == 10_000.0
    b = book_as_of(10_000.0, FILLS, "2018-03-01")
    assert b.positions == {"AAA": 50, "BBB": 20} and b.cash == 1_000.0 and b.capital == 10_000.0
    b = book_as_of(10_000.0, FILLS, "2018-12-31")
    assert b.positions == {"AAA": 20, "BBB": 20} and b.cash == 5_500.0
    sold_out = [*FILLS, Fill("2018-07-02", "BBB", -20, -4_400.0)]
    assert book_as_of(10_000.0, sold_out, "2018-07-02").positions == {"AAA": 20}


def test_positions_and_cash_after_every_fill():
    assert positions_after(FILLS) == {"AAA": 20, "BBB": 20}
    assert cash_after(10_000.0, FILLS) == 5_500.0
    cents = [Fill("2018-01-02", "AAA", 1, 0.1)] * 3  # 0.1 + 0.1 + 0.1 is not 0.3 in binary
    assert cash_after(1.0, cents) == 0.7


def test_a_payable_order_is_feasible():
    assert infeasible(10_000.0, FILLS, Fill("2018-06-01", "CCC", 10, 5_500.0)) is None  # cash -> exactly 0
    assert infeasible(10_000.0, FILLS, Fill("2018-06-01", "AAA", -20, -3_000.0)) is None  # sells out AAA


def test_not_enough_cash_now():
    reason = infeasible(10_000.0, FILLS, Fill("2018-06-01", "CCC", 10, 5_500.01))
    assert reason is not None and reason.startswith("not enough cash") and "5,500.01" in reason


def test_a_back_dated_buy_cannot_take_the_cash_a_later_buy_needs():
    # On 2018-02-01 the book has 5,000 of cash and would pay 2,000; but the 2018-03-01 buy of
    # 4,000 would then leave -1,000. Today's cash (5,500) would pay it.
    reason = infeasible(10_000.0, FILLS, Fill("2018-02-01", "CCC", 20, 2_000.0))
    assert reason is not None and "not enough cash" in reason and "2018-03-01" in reason and "-1,000.00" in reason
    # 1,000 fits exactly.
    assert infeasible(10_000.0, FILLS, Fill("2018-02-01", "CCC", 10, 1_000.0)) is None


def test_a_back_dated_sell_cannot_short_a_later_sell():
    # 50 AAA held on 2018-04-02; selling 30 leaves 20, then the 2018-06-01 sell of 30 goes short.
    reason = infeasible(10_000.0, FILLS, Fill("2018-04-02", "AAA", -30, -3_600.0))
    assert reason is not None and "not enough shares" in reason and "2018-06-01" in reason
    assert infeasible(10_000.0, FILLS, Fill("2018-04-02", "AAA", -20, -2_400.0)) is None
    # Selling what was never held.
    assert "not enough shares" in infeasible(10_000.0, FILLS, Fill("2018-06-01", "ZZZ", -1, -5.0))


def test_one_sessions_trades_happen_together_in_either_order():
    # Fully invested, then sell BBB and buy CCC on one session: the buy needs the sell's cash.
    base = [Fill("2018-01-02", "BBB", 50, 10_000.0)]
    sell = Fill("2018-06-01", "BBB", -50, -11_000.0)
    buy = Fill("2018-06-01", "CCC", 100, 10_500.0)
    assert infeasible(10_000.0, [*base, sell], buy) is None
    # Placed buy-first, the buy cannot be paid yet: the sell is not on the blotter.
    assert "not enough cash" in infeasible(10_000.0, base, buy)
