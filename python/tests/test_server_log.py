"""No token, registration secret, password hash or password reaches the server log through the client.

As test/security/server-log.test.ts does for the TypeScript client: auto_explain logs every plan
(log_min_duration 0, nested statements, VERBOSE) and every failing statement is logged; the
application role has the settings `authdb grant` gives it. Each call runs more than psycopg's
prepare threshold (5) times on one connection, so its prepared statements are logged too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from support import admin_url, database_url, fresh_email, schema

from authdb_client import AuthDb, EmailAlreadyRegisteredError, hash_password

LOGGING = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_verbose": "on",
    "log_min_error_statement": "error",
}


@pytest.fixture
def server_log() -> Iterator[Path]:
    """The server's log file, with plans and failing statements logged for new sessions while the test runs."""
    log = Path(os.environ.get("AUTHDB_SERVER_LOG", ""))
    if not log.is_file():
        raise RuntimeError("AUTHDB_SERVER_LOG must name the server's log file: run the tests with `npm run test:python`")
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        admin.execute("LOAD 'auto_explain'")  # PostgreSQL 14's ALTER SYSTEM knows only the parameters of loaded modules
        for name, value in LOGGING.items():
            admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        admin.execute("SELECT pg_catalog.pg_reload_conf()")
        try:
            # Wait on the state: a new session of the application role has auto_explain loaded.
            for _ in range(200):
                with psycopg.connect(database_url(), autocommit=True) as probe:
                    row = probe.execute("SELECT pg_catalog.current_setting('auto_explain.log_min_duration', true)").fetchone()
                if row is not None and row[0] == "0":
                    break
            else:
                raise AssertionError("auto_explain never reached new sessions")
            yield log
        finally:
            for name in LOGGING:
                admin.execute(f"ALTER SYSTEM RESET {name}")
            admin.execute("SELECT pg_catalog.pg_reload_conf()")


def test_no_secret_in_the_server_log(server_log: Path) -> None:
    start = server_log.stat().st_size
    secrets: list[str] = []
    with psycopg.connect(database_url()) as conn:  # psycopg's defaults: autocommit off, prepare after 5 runs
        auth = AuthDb(conn, schema=schema())
        for round in range(7):
            email, password = fresh_email(f"log{round}"), f"password number {round} of the log test"
            password_hash = hash_password(password)
            registered = auth.register_user(email, password_hash=password_hash) if round % 2 else auth.register_user(email, password=password)
            auth.preview_email_verification(registered.token, registration_secret=registered.registration_secret)
            auth.verify_email(registered.token, registration_secret=registered.registration_secret)
            assert auth.verify_password(email, password) is not None
            with pytest.raises(EmailAlreadyRegisteredError):
                auth.register_user(email, password=password)
            secrets += [registered.token, registered.registration_secret, password, password_hash.split("$")[-1]]
    with server_log.open(encoding="utf-8", errors="replace") as file:
        file.seek(start)
        logged = file.read()
    assert "Query Text:" in logged and "register_user_with_token" in logged, "plans were logged"
    assert "already registered and confirmed" in logged, "the failing statements were logged"
    leaked = [secret for secret in secrets if secret in logged]
    assert leaked == []
