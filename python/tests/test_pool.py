"""Threads: on a psycopg_pool pool at once, on one shared connection in turns; an error in one undoes nothing of another."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg_pool import ConnectionPool
from support import database_url, fresh_email, schema

from authdb_client import AuthDb, EmailAlreadyRegisteredError

PASSWORD = "correct horse battery staple"


def test_threads_on_a_pool(auth: AuthDb) -> None:
    taken = fresh_email("taken")
    first = auth.register_user(taken)
    auth.verify_email(first.token, registration_secret=first.registration_secret)

    with ConnectionPool(database_url(), min_size=2, max_size=4, open=True) as pool:
        pooled = AuthDb(pool.connection, schema=schema())

        def sign_up(index: int) -> str:
            if index % 3 == 0:
                try:
                    pooled.register_user(taken, password=PASSWORD)
                except EmailAlreadyRegisteredError:
                    return "AU001"
                return "unexpected"
            email = fresh_email(f"pool{index}")
            registered = pooled.register_user(email, password=PASSWORD)
            pooled.verify_email(registered.token, registration_secret=registered.registration_secret)
            return "signed in" if pooled.verify_password(email, PASSWORD) is not None else "not signed in"

        with ThreadPoolExecutor(max_workers=4) as threads:
            outcomes = list(threads.map(sign_up, range(12)))
    assert outcomes.count("AU001") == 4
    assert outcomes.count("signed in") == 8


def test_threads_on_one_connection_take_turns() -> None:
    """Without turns, a second thread's transaction block would nest in the first's, as its savepoint."""
    with psycopg.connect(database_url()) as conn:
        shared = AuthDb(conn, schema=schema())

        def register(index: int) -> str:
            return shared.register_user(fresh_email(f"shared{index}"), password=PASSWORD).outcome

        with ThreadPoolExecutor(max_workers=4) as threads:
            assert list(threads.map(register, range(8))) == ["created"] * 8
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
