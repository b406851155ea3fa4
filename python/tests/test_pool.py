"""With psycopg_pool, threads at once: each call its own transaction, an error in one undoes nothing of another."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
