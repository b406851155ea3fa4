"""Durations (token lifetime, resend interval, purge age) as :class:`datetime.timedelta`.

The TypeScript client's rules (src/client/duration.ts): positive (``min_resend_interval``
may be zero: no throttle) and at most 100 years of 365.25 days, checked before anything
is sent; sent as a whole number of microseconds, so no IntervalStyle changes it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from .errors import InvalidArgumentError

MAX_DURATION: Final = timedelta(days=100 * 365.25)
"""The longest duration accepted: 100 years of 365.25 days."""


def interval_text(value: timedelta | None, argument: str, *, allow_zero: bool = False) -> str | None:
    """``'N microseconds'`` for PostgreSQL's interval input, ``None`` for ``None`` (the SQL default);
    raises InvalidArgumentError (AU009) naming ``argument`` for anything else."""
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise InvalidArgumentError(f"{argument}: must be a datetime.timedelta, got {type(value).__name__}", argument=argument)
    too_small = value < timedelta(0) if allow_zero else value <= timedelta(0)
    if too_small or value > MAX_DURATION:
        lowest = "zero or more" if allow_zero else "positive"
        raise InvalidArgumentError(f"{argument}: {value} is not a valid duration; it must be {lowest} and at most {MAX_DURATION.days} days", argument=argument)
    return f"{value // timedelta(microseconds=1)} microseconds"
