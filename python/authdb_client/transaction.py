"""Each call in a transaction of its own, on a connection that is in none.

With psycopg's defaults (``autocommit=False``) the first statement on a connection opens
a transaction that stays open until ``commit()``: an authdb error inside it (``AU001``)
leaves the connection in a failed transaction (every later statement: ``25P02``), and
its rollback undoes the registrations and verifications that had succeeded on it. So
every call runs in ``with conn.transaction():`` on a connection that is idle — committed
when the call succeeds, rolled back when it fails, the connection idle again either way —
and a connection already inside a transaction is refused, not joined.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, ContextManager, Final, Iterator, Union

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row

ConnectionSource = Union["psycopg.Connection[Any]", Callable[[], ContextManager["psycopg.Connection[Any]"]]]
"""A connection (threads' calls on it take turns; a pool serves them at once), or a callable giving one as a
context manager per call: ``psycopg_pool.ConnectionPool(...).connection``, or :func:`connect_per_call`."""


class ConnectionInTransactionError(Exception):
    """The connection is inside a transaction the client did not start; authdb runs each call in its own."""

    code: Final = "AUTHDB_IN_TRANSACTION"


_REFUSED: Final = {
    TransactionStatus.INTRANS: (
        "the connection is inside a transaction (psycopg opens one on the first statement when autocommit is off); "
        "an authdb call in it would be undone by its rollback. Commit or roll back first, or connect with autocommit=True"
    ),
    TransactionStatus.INERROR: (
        "the connection is in a failed transaction (every statement gets 25P02 until ROLLBACK, and the rollback undoes "
        "what succeeded in it). Roll it back (conn.rollback()) and connect with autocommit=True"
    ),
    TransactionStatus.ACTIVE: "the connection is running another statement; give each thread its own connection, or a pool",
}


def connect_per_call(conninfo: str, **kwargs: Any) -> Callable[[], ContextManager["psycopg.Connection[Any]"]]:
    """A connection source that opens a new autocommit connection for each call and closes it after."""

    def connect() -> ContextManager["psycopg.Connection[Any]"]:
        return psycopg.connect(conninfo, autocommit=True, **kwargs)

    return connect


class CallTransactions:
    """Opens each call's transaction on a :data:`ConnectionSource` (see the module). Calls on one
    shared connection take turns: two threads' transaction blocks on it would otherwise nest,
    the second becoming a savepoint of the first."""

    def __init__(self, source: ConnectionSource) -> None:
        self._source = source
        self._turn: ContextManager[Any] = nullcontext()
        if isinstance(source, psycopg.Connection):
            self._turn = threading.Lock()

    @contextmanager
    def call(self) -> Iterator["psycopg.Cursor[DictRow]"]:
        """A server-side-binding cursor inside a transaction of its own."""
        source = self._source
        borrowed: ContextManager[psycopg.Connection[Any]] = nullcontext(source) if isinstance(source, psycopg.Connection) else source()
        with self._turn, borrowed as conn:
            refused = _REFUSED.get(conn.info.transaction_status)
            if refused is not None:
                raise ConnectionInTransactionError(f"authdb: {refused}")
            with conn.transaction():
                # Not conn.cursor(): a connection made with cursor_factory=ClientCursor would
                # write the token, secret or hash into the statement text, and so into logs.
                yield psycopg.Cursor(conn, row_factory=dict_row)
