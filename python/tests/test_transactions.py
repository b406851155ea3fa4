"""The pitfall of psycopg's defaults, and a client that every call commits or rolls back on its own."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from support import database_url, fresh_email, schema

from authdb_client import AuthDb, ConnectionInTransactionError, EmailAlreadyRegisteredError


def register_sql() -> str:
    return f'SELECT r.token, r.registration_secret FROM "{schema()}".register_user_with_token(p_email => %s, p_password_hash => %s) AS r'


def signs_in(email: str) -> bool:
    """Whether the address is a confirmed account, seen from a connection of its own."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        return other.execute(f'SELECT 1 FROM "{schema()}".sign_in_credentials(p_email => %s)', [email]).fetchone() is not None


def test_psycopg_defaults_lose_the_work_before_an_error() -> None:
    """The issue's pitfall, with raw psycopg: AU001 undoes the registration and verification before it."""
    email, taken = fresh_email("pitfall"), fresh_email("taken")
    with psycopg.connect(database_url(), autocommit=True) as setup:
        token, secret = setup.execute(register_sql(), [taken, "$argon2id$placeholder"]).fetchone() or ("", "")
        setup.execute(f'SELECT "{schema()}".verify_email(p_token => %s, p_registration_secret => %s)', [token, secret])
    with psycopg.connect(database_url()) as conn:  # autocommit off: psycopg's default
        token, secret = conn.execute(register_sql(), [email, "$argon2id$placeholder"]).fetchone() or ("", "")
        conn.execute(f'SELECT "{schema()}".verify_email(p_token => %s, p_registration_secret => %s)', [token, secret])
        with pytest.raises(psycopg.Error) as duplicate:
            conn.execute(register_sql(), [taken, "$argon2id$placeholder"])
        assert duplicate.value.sqlstate == "AU001"
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")  # 25P02 until ROLLBACK
        conn.rollback()
    assert not signs_in(email), "the rollback undid the registration and verification that had succeeded"


@pytest.mark.parametrize("autocommit", [False, True], ids=["psycopg-defaults", "autocommit"])
def test_an_error_never_undoes_earlier_calls(autocommit: bool) -> None:
    email, taken = fresh_email("kept"), fresh_email("taken")
    with psycopg.connect(database_url(), autocommit=autocommit) as conn:
        auth = AuthDb(conn, schema=schema())
        first = auth.register_user(taken)
        auth.verify_email(first.token, registration_secret=first.registration_secret)
        registered = auth.register_user(email, password="correct horse battery staple")
        auth.verify_email(registered.token, registration_secret=registered.registration_secret)
        with pytest.raises(EmailAlreadyRegisteredError):
            auth.register_user(taken)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert auth.verify_password(email, "correct horse battery staple") is not None
        assert signs_in(email), "committed, seen from another connection"
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_connection_inside_a_transaction_is_refused() -> None:
    with psycopg.connect(database_url()) as conn:
        auth = AuthDb(conn, schema=schema())
        conn.execute("SELECT 1")  # psycopg opens a transaction implicitly
        with pytest.raises(ConnectionInTransactionError, match="inside a transaction"):
            auth.register_user(fresh_email())
        with pytest.raises(psycopg.Error):
            conn.execute("SELECT 1/0")
        with pytest.raises(ConnectionInTransactionError, match="failed transaction"):
            auth.register_user(fresh_email())
        conn.rollback()
        assert auth.register_user(fresh_email()).outcome == "created"


class NoClientSideBinding(psycopg.ClientCursor[Any]):
    def execute(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the client must bind its parameters on the server, never through conn.cursor()")


def test_parameters_are_always_bound_on_the_server() -> None:
    """A connection whose cursor_factory writes values into the SQL text is not used for authdb's calls."""
    with psycopg.connect(database_url(), autocommit=True, cursor_factory=NoClientSideBinding) as conn:
        auth = AuthDb(conn, schema=schema())
        registered = auth.register_user(fresh_email(), password="correct horse battery staple")
        assert auth.preview_email_verification(registered.token, registration_secret=registered.registration_secret).sets_password
