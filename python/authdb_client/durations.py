"""Durations (token lifetime, resend interval, purge age) as :class:`datetime.timedelta`.

The TypeScript client's rules (src/client/duration.ts): positive (``min_resend_interval``
may be zero: no throttle) and at most 100 years of 365.25 days, checked before anything
is sent; sent as hours, seconds and microseconds (a day is exactly 24 hours), which every IntervalStyle reads alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from .errors import InvalidArgumentError

MAX_DURATION: Final = timedelta(days=100 * 365.25)
"""The longest duration accepted: 100 years of 365.25 days."""


def interval_text(value: timedelta | None, argument: str, *, allow_zero: bool = False) -> str | None:
    """``'H hours S seconds U microseconds'`` for PostgreSQL's interval input, ``None`` for ``None`` (the SQL default);
    raises InvalidArgumentError (AU009) naming ``argument`` for anything else."""
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise InvalidArgumentError(f"{argument}: must be a datetime.timedelta, got {type(value).__name__}", argument=argument)
    too_small = value < timedelta(0) if allow_zero else value <= timedelta(0)
    if too_small or value > MAX_DURATION:
        lowest = "zero or more" if allow_zero else "positive"
        raise InvalidArgumentError(f"{argument}: {value} is not a valid duration; it must be {lowest} and at most {MAX_DURATION.days} days", argument=argument)
    # Hours, not days: a day is exactly 24 hours, whatever the session's TimeZone does at a DST
    # change. Each number small (hours ≤ 876,600): PostgreSQL 14 reads every number of an
    # interval's text as a 32-bit integer ("604800000000 microseconds" overflows there).
    hours, seconds = divmod(value.days * 86_400 + value.seconds, 3600)
    return f"{hours} hours {seconds} seconds {value.microseconds} microseconds"
