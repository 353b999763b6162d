import datetime as dt

import numpy as np
import pytest

from phinance_env.errors import BadDate
from phinance_env.market import parse_date, resolve_session, xnys_sessions


@pytest.fixture(scope="module")
def days():
    s = xnys_sessions()
    return s[(s >= "1999-01-04") & (s <= "2018-12-31")].values.astype("datetime64[D]")


def test_calendar_reaches_back_before_exchange_calendars_default_start():
    sessions = xnys_sessions()
    assert sessions[0] <= np.datetime64("1990-01-02")
    assert np.datetime64("1999-01-04") in sessions.values.astype("datetime64[D]")


@pytest.mark.parametrize("day, expected, why", [
    ("2001-09-11", "2001-09-10", "closure"),   # markets shut after the attacks
    ("2001-09-14", "2001-09-10", "closure"),   # reopened on the 17th
    ("2018-06-30", "2018-06-29", "weekend"),   # Saturday
    ("2018-12-25", "2018-12-24", "holiday"),   # Christmas
    ("2018-12-05", "2018-12-04", "closure"),   # national day of mourning (G. H. W. Bush)
])
def test_non_sessions_resolve_to_previous_session_with_a_note(days, day, expected, why):
    idx, note = resolve_session(days, parse_date(day))
    assert str(days[idx]) == expected
    assert note is not None and expected in note and day in note


def test_a_session_resolves_to_itself_without_note(days):
    idx, note = resolve_session(days, dt.date(2001, 9, 17))
    assert str(days[idx]) == "2001-09-17" and note is None


@pytest.mark.parametrize("day", ["1998-12-31", "2019-01-02"])
def test_dates_outside_the_data_are_errors_naming_the_range(days, day):
    with pytest.raises(BadDate, match="1999-01-04..2018-12-31"):
        resolve_session(days, parse_date(day))


@pytest.mark.parametrize("text", ["2018-02-30", "18-06-29", "2018/06/29", "yesterday", "", "2018-06-29T00:00"])
def test_bad_date_strings_are_rejected_with_the_accepted_format(text):
    with pytest.raises(BadDate, match="YYYY-MM-DD"):
        parse_date(text)
